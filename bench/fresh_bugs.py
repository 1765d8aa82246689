"""Issue 31's last check: a fresh set of realistic bugs, written by hand, each run alone against the
test files that cover its module.

    python bench/fresh_bugs.py                 # every bug, one at a time
    python bench/fresh_bugs.py B07 B12         # some of them
    python bench/fresh_bugs.py --list          # the bugs, as written down before any run

Each bug is one realistic slip a developer could make (an off-by-one, a dropped field in a key, a
wrong default, a swapped argument, a unit mix-up, ...), not a mutation operator; the list was
written and committed before any of them was run, so it is not chosen by the outcome. A bug is
applied to a *copy* of the checkout (every file git lists, under a temporary folder),
never to the checkout itself, and its tests run there with that copy's ``src`` first on the path
(``pytest -q -x``, the default ``-m 'not slow'``). ``CAUGHT``: a test failed (or the tests could not
be collected); ``SURVIVED``: all passed; ``TIMEOUT``: the run exceeded ``--timeout``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bug:
    id: str
    file: str
    old: str
    new: str
    what: str  # the bug in words
    seen: str  # what a user would see
    tests: tuple[str, ...]  # the test files covering the module (import it or call its public API)


_EVAL = ("tests/test_eval_suites.py", "tests/test_eval_reference_pairs.py", "tests/test_eval_edges_more.py",
         "tests/test_eval_published_counts.py", "tests/test_eval_vl_compo.py")
_TRAIN = ("tests/test_mut_train.py", "tests/test_resume_state.py", "tests/test_resume_parts.py", "tests/test_train.py",
          "tests/test_train_paths.py", "tests/test_train_losses.py")
_DATA = ("tests/test_mut_data.py", "tests/test_data.py", "tests/test_data_paths.py", "tests/test_resume_state.py",
         "tests/test_wds_plant.py", "tests/test_select.py", "tests/test_train.py")
_LOSS = ("tests/test_losses.py", "tests/test_mut_losses.py", "tests/test_losses_claims.py", "tests/test_loss_methods.py",
         "tests/test_loss_methods_edges.py", "tests/test_losses_local_rows.py", "tests/test_losses_simulated_ranks.py",
         "tests/test_loss_methods_ddp.py")

BUGS = (
    # ---------------------------------------------------------------- plant/
    Bug("B01", "src/slipform/plant/engine/sink.py",
        "self.done = repair_and_read_ids(output) | repair_and_read_ids(self.skipped)",
        "self.done = repair_and_read_ids(output)",
        "a resumed run's done ids leave out the captions it had skipped",
        "on resume every skipped caption is parsed again and written a second time to OUTPUT.skipped.jsonl; "
        "the skip counts of the summary double",
        ("tests/test_mut_plant_engine.py", "tests/test_plant_reruns.py", "tests/test_runner.py", "tests/test_ray.py")),
    Bug("B02", "src/slipform/plant/core/anchor.py",
        'digest = hashlib.blake2b(f"{seed}\\x1f{caption_id}\\x1f{salt}".encode(), digest_size=8).digest()',
        'digest = hashlib.blake2b(f"{seed}\\x1f{caption_id}".encode(), digest_size=8).digest()',
        "the per-caption generator ignores its salt",
        "every salted stream of a caption (the swap backend's, the routes' draws, the negatives after the "
        "first) is the same stream: draws meant to be independent are identical",
        ("tests/test_anchor.py", "tests/test_mut_plant_core.py", "tests/test_mut_plant_backends.py",
         "tests/test_routes.py", "tests/test_route_contrasts.py", "tests/test_rewrite.py", "tests/test_mut_rewriter.py")),
    Bug("B03", "src/slipform/plant/lexical/guards.py",
        "[w for w in options if SCALE.get(w, side) == side]",
        "[w for w in options if SCALE.get(w) == side]",
        "the scale guard's default: a replacement SCALE does not rate is dropped instead of kept",
        "a 'bus' or a 'yacht' can only become another motor vehicle or ship; every other replacement "
        "('a train', 'a dock') is lost and more captions are skipped as having no option",
        ("tests/test_guards_forms.py", "tests/test_mut_guards.py", "tests/test_rewrite.py", "tests/test_runner.py",
         "tests/test_mut_rewriter.py")),
    Bug("B04", "src/slipform/plant/backends/swap.py",
        'if doc[a0].pos_ != "PROPN":',
        'if doc[b0].pos_ != "PROPN":',
        "the swap's capital rule reads the wrong token (the word arriving, not the word leaving the front)",
        "negclip swaps: 'Mary ... dog' -> 'Dog ... mary' (a name loses its capital), and 'A dog ... Paris' "
        "keeps 'A dog' capitalised mid-caption",
        ("tests/test_mut_plant_backends.py", "tests/test_runner.py", "tests/test_rewrite.py",
         "tests/test_plausibility.py")),
    # ---------------------------------------------------------------- losses/
    Bug("B05", "src/slipform/losses/base.py",
        "slope = (end - start) / 4",
        "slope = (end - start) / 5",
        "the margin ramp divides by the 5 levels instead of the 4 steps between 1 and 5",
        "cement's margin at concreteness 5 is 0.08, not --margin-max 0.1 (every margin 20% short of the ramp)",
        (*_LOSS, "tests/test_margin_calibrated.py", "tests/test_mut_calibrated.py")),
    Bug("B06", "src/slipform/losses/siglip.py",
        "signs[rows, rank * n + rows] = 1.0",
        "signs[rows, rows] = 1.0",
        "siglip's positive pair ignores the rank's offset in the gathered columns",
        "under DDP every rank but 0 trains its images towards rank 0's captions as positives; one process is fine",
        ("tests/test_loss_methods.py", "tests/test_loss_methods_edges.py", "tests/test_losses_local_rows.py",
         "tests/test_losses_simulated_ranks.py", "tests/test_loss_methods_ddp.py", "tests/test_hf_siglip.py",
         "tests/test_train_losses.py")),
    Bug("B07", "src/slipform/losses/ce_clip.py",
        "F.relu(theta + neg - pos[:, None]).masked_fill(~mask, 0.0).sum()",
        "F.relu(theta + neg - pos[:, None]).sum()",
        "CE-CLIP's rank loss forgets the negatives' mask",
        "a caption without a negative (zero features) adds relu(theta - p_i) to loss_cmr, so loss_cmr is "
        "non-zero and pushes the positives of captions that have no negative",
        ("tests/test_loss_methods.py", "tests/test_loss_methods_edges.py", "tests/test_loss_methods_ddp.py",
         "tests/test_resume_parts.py", "tests/test_train_losses.py")),
    # ---------------------------------------------------------------- evaluate/
    Bug("B08", "src/slipform/evaluate/mmvp.py",
        "gt = torch.tensor([[0 if q[0] % 2 == 1 else 1",
        "gt = torch.tensor([[0 if q[0] % 2 == 0 else 1",
        "MMVP-VLM's right image by the id's parity, flipped (1-based 'image 1' read as index 1)",
        "every statement's right image is the other one: mmvp_vlm image scores become 100 minus the true ones",
        (*_EVAL, "tests/test_mut_eval_report.py")),
    Bug("B09", "src/slipform/evaluate/whatsup.py",
        "return pairs * 100 / (n / 2), sets * 100 / (n / 4)",
        "return pairs * 100 / n, sets * 100 / (n / 4)",
        "What'sUp's pair accuracy divides by the items, not the pairs (n / 2)",
        "controlled_a_pair / controlled_b_pair are half the published definition (a perfect model shows 50)",
        _EVAL),
    Bug("B10", "src/slipform/evaluate/imagecode.py",
        "named = [(int(m.group(1)), p)",
        "named = [(p.name, p)",
        "ImageCoDe's images sorted by file name as text, not by the number in imgX.jpg",
        "for video sets with img10..img9 the target positions point at the wrong frames; accuracy drops",
        _EVAL),
    Bug("B11", "src/slipform/evaluate/eqben.py",
        'out["vl_compo_group"] = sum(sources) / 5',
        'out["vl_compo_group"] = sum(sources) / len(SUBSETS)',
        "EqBen's vl_compo mean divided by the 7 subsets instead of the 5 sources it sums",
        "eqben vl_compo_group is 5/7 of the true mean (a perfect model: 71.4)",
        _EVAL),
    # ---------------------------------------------------------------- train.py
    Bug("B12", "src/slipform/train.py",
        "self.model.model.logit_scale.clamp_(0, math.log(100))",
        "self.model.model.logit_scale.clamp_(0, 100)",
        "the temperature's cap in the wrong unit: the log-scale parameter clamped at 100 instead of log(100)",
        "the parameter may grow past log 100 (the model's exp().clamp(100) hides it, with zero gradient from then "
        "on); the exported model.pt carries a logit_scale open_clip reads as a temperature of e^(>4.6)",
        _TRAIN),
    Bug("B13", "src/slipform/train.py",
        'if json.loads(line)["step"] <= step:',
        'if json.loads(line)["step"] < step:',
        "resume's log truncation keeps the rows before the checkpoint, dropping the checkpoint's own step",
        "after a resume, log.jsonl lacks the row of the step the run restarted from (a gap in every curve)",
        _TRAIN),
    # ---------------------------------------------------------------- data.py
    Bug("B14", "src/slipform/data.py",
        "rng = random.Random(_seed(self.seed, self.epoch, index))",
        "rng = random.Random(_seed(self.seed, index))",
        "the negative drawn per sample leaves the epoch out of its seed",
        "with several negatives per caption, every epoch trains on the same one (the others are never seen)",
        _DATA),
    Bug("B15", "src/slipform/data.py",
        'table.setdefault(str(rec["id"]), [])',
        'table.setdefault(rec["id"], [])',
        "negatives keyed by the record's raw id instead of its string",
        "a negatives.jsonl with integer ids (ids from a JSONL or COCO input) joins no caption: training runs "
        "without any hard negative and says nothing",
        _DATA),
    # ---------------------------------------------------------------- run.py, safeload.py
    Bug("B16", "src/slipform/run.py",
        "enumerate(self.log.read_text().splitlines(), 1)",
        "enumerate(self.log.read_text().splitlines())",
        "the log reader numbers lines from 0",
        "'log.jsonl:4: not a JSON line' for a bad line 5: the user looks at the wrong line",
        ("tests/test_run.py", "tests/test_mut_run.py")),
    Bug("B17", "src/slipform/safeload.py",
        'why = "empty" if size == 0 else "truncated or corrupt" if _zip_like(path) else "not a PyTorch tensor file"',
        'why = "empty" if size == 0 else "not a PyTorch tensor file" if _zip_like(path) else "truncated or corrupt"',
        "the damaged-file message's two reasons swapped",
        "a checkpoint cut short by a full disk is called 'not a PyTorch tensor file', a text file "
        "'truncated or corrupt'",
        ("tests/test_safeload.py", "tests/test_safeload_more.py", "tests/test_mut_safeload.py",
         "tests/test_train_paths.py")),
    # ---------------------------------------------------------------- the rest
    Bug("B18", "src/slipform/models.py",
        "return tokens[:, : int(tokens.argmax(dim=1).max()) + 1]",
        "return tokens[:, : int(tokens.argmax(dim=1).max())]",
        "the cut context drops the end token it was meant to keep",
        "open_clip text features pool the token before the end token: every text feature changes, "
        "zero-shot and retrieval scores drop",
        ("tests/test_models.py", "tests/test_evaluate.py", "tests/test_train.py", "tests/test_hf_siglip.py")),
    Bug("B19", "src/slipform/text/io.py",
        'cid = str(ann.get("id", n))',
        'cid = str(ann.get("image_id", n))',
        "a COCO caption's id taken from its image",
        "the 5 captions of an image share one id: a resumed plant run skips 4 of 5, and the negatives "
        "join every caption of the image",
        ("tests/test_io.py", "tests/test_sharding.py", "tests/test_mut_plant_engine.py", "tests/test_routes.py",
         "tests/test_ray.py")),
    Bug("B20", "src/slipform/cli.py",
        "args.caption_col,\n                            args.image_col,",
        "args.image_col,\n                            args.caption_col,",
        "slipform train passes --caption-col and --image-col to DataConfig in swapped order",
        "'no caption column filepath' on a CSV that has one; with both columns set, captions are image paths",
        ("tests/test_train.py", "tests/test_select.py", "tests/test_safeload.py", "tests/test_loss_methods.py",
         "tests/test_margin_calibrated.py", "tests/test_degla.py", "tests/test_fsc_local.py")),
    Bug("B21", "src/slipform/experiment/summary.py",
        "t = _T975[len(values) - 2] if",
        "t = _T975[len(values) - 1] if",
        "the t quantile of the seed interval read at n - 1 + 1 degrees of freedom (off by one)",
        "RESULTS' ± intervals over 3 seeds use t(3) = 3.182 instead of t(2) = 4.303: 26% too narrow",
        ("tests/test_experiment.py", "tests/test_demo.py", "tests/test_world_validation.py")),
)


# A second, stricter set, written while the first set ran (its first 19 all caught) and committed before
# its own run: only slips no mutation operator can produce (another variable, argument, element or call;
# a forgotten statement), since several of the first set (B05, B13, B16, B21) are one operator away.
_CREPE = ("tests/test_eval_suites.py", "tests/test_eval_reference.py", "tests/test_eval_reference_pairs.py",
          "tests/test_eval_by_hand.py", "tests/test_eval_scoring_edges.py", "tests/test_eval_edges_more.py",
          "tests/test_eval_published_counts.py", "tests/test_eval_direction.py")
STRICT = (
    Bug("C01", "src/slipform/data.py",
        "hard_mask = torch.tensor([[j < len(c) for j in range(k)] for c in cands])",
        "hard_mask = torch.tensor([[j < len(c) for j in range(k)] for c in pad])",
        "hardest-of-K collate: the candidates' mask computed over the padded lists (another variable)",
        "captions with fewer than K negatives get the empty padding captions as valid candidates: the "
        "selection may pick '' as the hard negative",
        _DATA),
    Bug("C02", "src/slipform/train.py",
        '        self.loss.load_state_dict(ckpt.get("loss", {}))  # a loss\'s own state (CE-CLIP\'s thresholds)\n',
        "",
        "resume forgets to restore the loss's own state",
        "a resumed ce_clip run restarts its adaptive thresholds at 0 (and a calibrated cement margin its "
        "fits): the resumed run differs from an uninterrupted one",
        _TRAIN),
    Bug("C03", "src/slipform/losses/degla.py",
        "tgc = grounded_choice(text_features, t_texts, hard_text_features, mask, o.tgc_scale)",
        "tgc = grounded_choice(text_features, t_texts, hard_text_features, mask, logit_scale)",
        "DeGLA's TGC uses the model's temperature (copied from the IGC line) instead of its own tgc_scale",
        "loss_tgc is computed at 1/tau ~ 100 instead of the authors' scale: a different, much sharper term",
        ("tests/test_degla.py", "tests/test_loss_methods_edges.py", "tests/test_loss_methods.py",
         "tests/test_loss_methods_ddp.py", "tests/test_resume_state.py", "tests/test_train_losses.py")),
    Bug("C04", "src/slipform/evaluate/svo_probes.py",
        "neg[(sent, n)] = neg.get((sent, n), True) and sn < sp",
        "neg[(sent, p)] = neg.get((sent, p), True) and sn < sp",
        "SVO-Probes' key accuracy groups the negative images by the positive image's id (copy-paste)",
        "the *_key figures (pos_acc + neg_acc) / 2 count negatives per positive image, not per negative image",
        (*_EVAL, "tests/test_eval_reference.py")),
    Bug("C05", "src/slipform/evaluate/crepe.py",
        '"box": (box[0], box[1], box[0] + box[2], box[1] + box[3])})',
        '"box": box})',
        "CREPE's region box passed as (x, y, width, height) where the crop wants (x0, y0, x1, y1)",
        "every CREPE image is cropped to a wrong region (width read as the right edge): scores change",
        _CREPE),
    Bug("C06", "src/slipform/evaluate/vl_checklist.py",
        "per_source.append(sum(accs) / len(accs))",
        "per_source.extend(accs)",
        "VL-CheckList's axis averages the files, not the sources' means",
        "an axis whose source has many files (swig: 4 roles) weighs that source 4x: axis figures differ "
        "from the official macro over sources",
        (*_EVAL, "tests/test_eval_reference.py")),
    Bug("C07", "src/slipform/run.py",
        "return self.model.is_file()",
        "return self.checkpoint.is_file()",
        "a run directory reads as finished once it has a checkpoint, not its final model.pt",
        "the protocol and 'slipform eval --model RUN' take a run killed mid-way as finished and skip "
        "or evaluate it",
        ("tests/test_run.py", "tests/test_mut_run.py", "tests/test_experiment.py", "tests/test_evaluate.py")),
    Bug("C08", "src/slipform/plant/core/planter.py",
        "if any(neg == answer.negative for neg in written[i]):",
        "if any(neg == answer.negative for neg in written):",
        "the planter's duplicate check looks in the list of lists instead of this caption's list",
        "with --negatives-per-caption 2, a caption can get the same negative twice (two anchors' swaps)",
        ("tests/test_mut_plant_core.py", "tests/test_runner.py", "tests/test_rewrite.py",
         "tests/test_mut_plant_backends.py", "tests/test_mut_rewriter.py", "tests/test_routes.py")),
    Bug("C09", "src/slipform/models.py",
        '"visual_projection.weight": sd["visual.proj"].T.contiguous(),',
        '"visual_projection.weight": sd["visual.proj"].contiguous(),',
        "the Hugging Face export forgets to transpose the image projection",
        "--export-hf writes a model whose image features differ from the trained model's (or fails to load "
        "when the projection is not square)",
        ("tests/test_models.py", "tests/test_hf_siglip.py", "tests/test_fsc_local.py")),
    Bug("C10", "src/slipform/text/shards.py",
        "word = next((w for w in words if shard_format(w)), words[-1] if words else url)",
        "word = words[0] if words else url",
        "a pipe: shard's name taken from the command's first word instead of the shard it reads",
        "'pipe:aws s3 cp s3://b/00017.tar -' is named 'aws': every pipe: shard's outputs and side-car "
        "collide under one name",
        ("tests/test_wds_plant.py", "tests/test_sharding.py", "tests/test_data_paths.py",
         "tests/test_mut_plant_engine.py", "tests/test_ray.py")),
)


# A third set (issue 31, 2026-12-08), written by a helper session that saw only src/ and the README (no
# tests, no bench, no docs) after the third mutation round, and committed before its run. Three of the 16
# came out the same as slips of the first two sets (D01 = B01, D12 = B14, D15 = C07): kept, as written.
# The test lists follow one rule: the test files that import the module or call its public API; every
# evaluation bug runs every evaluation test file.
_ENGINE = ("tests/test_mut_plant_engine.py", "tests/test_mut_plant_engine2.py", "tests/test_mut_plant_pool.py",
           "tests/test_plant_reruns.py", "tests/test_runner.py", "tests/test_wds_plant.py", "tests/test_mut_plant_ray.py")
_ROUTES = ("tests/test_mut_routes.py", "tests/test_route_contrasts.py", "tests/test_route_balance.py", "tests/test_routes.py")
_EVAL_ALL = tuple(sorted(str(p.relative_to(ROOT)) for pat in ("test_eval_*.py", "test_evaluate.py", "test_mut_eval_*.py")
                         for p in (ROOT / "tests").glob(pat)))
THIRD = (
    Bug('D01', 'src/slipform/plant/engine/sink.py',
        '        self.done = repair_and_read_ids(output) | repair_and_read_ids(self.skipped)\n',
        '        self.done = repair_and_read_ids(output)\n',
        "AppendSink's resumed ids come from the negatives file only; the ids already in the skip file are forgotten",
        'A resumed plant run re-plants (re-screens) every caption that was skipped before, so the .skipped.jsonl gets duplicate skip records and the summary counts them again instead of as resumed.',
        ("tests/test_mut_plant_engine.py", "tests/test_plant_reruns.py", "tests/test_runner.py", "tests/test_ray.py")),
    Bug('D02', 'src/slipform/plant/engine/stream.py',
        '    summary.planted += len({r["id"] for r in records})',
        '    summary.planted += len(records)',
        "the summary's 'planted' counts negatives (records) instead of distinct captions with a negative",
        'With several negatives per caption, the run summary / progress bar report planted equal to the number of negatives, larger than the number of captions planted.',
        _ENGINE),
    Bug('D03', 'src/slipform/plant/output/gallery.py',
        '    summary_path = Path(str(negatives) + ".summary.json")',
        '    summary_path = negatives.with_suffix(".summary.json")',
        'the gallery looks for OUT.summary.json instead of OUTPUT.jsonl.summary.json beside the negatives',
        "The gallery page never shows the 'skipped by reason' / 'rejected by reason' tables, even when the plant summary file is there.",
        ("tests/test_gallery.py", "tests/test_mut_plant_output.py", "tests/test_mut_plant_output2.py")),
    Bug('D04', 'src/slipform/plant/lexical/routes/object.py',
        '    slot = rw._relations.slots.get(f"amod<{base(rewrite.replacement_key)}", {})',
        '    slot = rw._relations.slots.get(f"amod<{base(anchor.lemma)}", {})',
        'the modifier check reads the adjective slot of the old noun (the anchor) instead of the replacement',
        "Object replacements keep sort-naming adjectives that do not fit the new thing ('sippy cup' -> 'sippy tray'), since the anchor's own adjectives always pass.",
        _ROUTES),
    Bug('D05', 'src/slipform/plant/core/edit.py',
        '                pieces += [text[pos:art.idx], match_case(art.text, article_for(new))]',
        '                pieces += [text[pos:art.idx], match_case(art.text, article_for(first.text))]',
        'a/an before an edit is made to agree with the replaced word instead of the new one',
        "Negatives read 'an dog' / 'a elephant' when a vowel-initial word is replaced by a consonant-initial one or vice versa.",
        ("tests/test_mut_plant_core.py", "tests/test_mut_plant_core_more.py", "tests/test_rewrite.py", "tests/test_mut_rewriter.py", "tests/test_routes.py", "tests/test_route_contrasts.py")),
    Bug('D06', 'src/slipform/evaluate/aro.py',
        '    return {"vg_relation_macro": acc["macro"], "vg_relation_micro": sum(ok) / len(ok) * 100,',
        '    return {"vg_relation_macro": acc["macro"], "vg_relation_micro": acc["micro"],',
        'VG-Relation micro accuracy is taken over the kept (non-excluded) relations only, not over all items',
        'vg_relation_micro differs from the share of all VG-Relation items answered correctly whenever excluded relations are present (it equals the accuracy on the non-symmetric subset).',
        _EVAL_ALL),
    Bug('D07', 'src/slipform/evaluate/winoground.py',
        '    s = torch.einsum("ncd,nid->nci", txt, img)  # s[n, caption, image]',
        '    s = torch.einsum("ncd,nid->nic", txt, img)  # s[n, caption, image]',
        'the similarity tensor is built as s[n, image, caption], so caption and image axes are transposed',
        "Winoground's text_score and image_score come out swapped (group score unchanged).",
        _EVAL_ALL),
    Bug('D08', 'src/slipform/evaluate/zeroshot.py',
        '    texts = [t(c) for c in classnames for t in ts]',
        '    texts = [t(c) for t in ts for c in classnames]',
        "prompt texts are built template-major but reshaped class-major, so each class embedding mixes other classes' prompts",
        'Zero-shot top-1/top-5 accuracy drops to near chance: class weights average prompts of the wrong classes.',
        _EVAL_ALL),
    Bug('D09', 'src/slipform/evaluate/sugarcrepe_pp.py',
        '        tot = (s(p1, p2) > s(p1, n)) & (s(p1, p2) > s(p2, n))',
        '        tot = (s(p1, p2) > s(p1, n)) & (s(p1, p2) > s(p1, n))',
        "the text-only score's second comparison is a copy of the first (s(P1,N)), never checking s(P2,N)",
        'SugarCrepe++ tot scores (and tot_mean) are too high: items where the second paraphrase is closer to the negative still count as correct.',
        _EVAL_ALL),
    Bug('D10', 'src/slipform/losses/fsc_clip.py',
        '            out["loss"] = out["loss"] + self.options.local_weight * local',
        '            out["loss"] = out["loss"] + self.options.neg_weight * local',
        'the local hard-negative term is weighted by neg_weight (lambda) instead of local_weight (mu)',
        "FSC-CLIP's total loss is wrong whenever the two weights differ (defaults 0.5 vs 0.2); local_weight only switches the term on or off.",
        (*_LOSS, "tests/test_mut_losses_m31d.py", "tests/test_fsc_local.py")),
    Bug('D11', 'src/slipform/losses/calibrated.py',
        '        self.next, self.seen = int(state["next"]), int(state["seen"])',
        '        self.seen = int(state["seen"])',
        "restoring the calibrated margin's state forgets the ring position of the sample window",
        'A resumed Cement run with schedule=calibrated overwrites the window from slot 0, so its window, later LOESS fits and margins differ from an uninterrupted run.',
        ("tests/test_mut_calibrated.py", "tests/test_margin_calibrated.py", "tests/test_mut_losses.py", "tests/test_mut_losses_m31d.py", "tests/test_margin_calibrated_ddp.py")),
    Bug('D12', 'src/slipform/data.py',
        '        rng = random.Random(_seed(self.seed, self.epoch, index))',
        '        rng = random.Random(_seed(self.seed, index))',
        'the per-sample negative draw is seeded without the epoch',
        'Every epoch trains each caption with the same hard negative (and the same candidates) instead of a fresh draw per epoch.',
        (*_DATA, "tests/test_mut_data_m31d.py")),
    Bug('D13', 'src/slipform/train.py',
        '                    t.lerp_(p, 1.0 - self.loss.teacher_decay)',
        '                    t.lerp_(p, self.loss.teacher_decay)',
        'the EMA teacher moves towards the model by d instead of 1 - d',
        "With teacher_decay 0.999 the 'teacher' nearly equals the student after each step instead of trailing it slowly; distillation terms vanish.",
        (*_TRAIN, "tests/test_mut_train_m31d.py", "tests/test_degla.py")),
    Bug('D14', 'src/slipform/train.py',
        '        self.scheduler.load_state_dict(ckpt["scheduler"])\n',
        '',
        "resuming from a checkpoint forgets to restore the LR scheduler's state",
        "A resumed run restarts warmup and the cosine schedule from step 0: its learning rates (log.jsonl 'lr') and weights differ from an uninterrupted run.",
        (*_TRAIN, "tests/test_mut_train_m31d.py")),
    Bug('D15', 'src/slipform/run.py',
        '        return self.model.is_file()',
        '        return self.checkpoint.is_file()',
        'RunDir.finished checks for the checkpoint instead of the final model.pt',
        'A run interrupted after its first checkpoint is reported as finished (e.g. skipped or evaluated as done) although model.pt was never written.',
        ("tests/test_run.py", "tests/test_mut_run.py", "tests/test_experiment.py", "tests/test_evaluate.py")),
    Bug('D16', 'src/slipform/safeload.py',
        '                module, attr = pushed[-2:] if len(pushed) >= 2 else (None, None)',
        '                attr, module = pushed[-2:] if len(pushed) >= 2 else (None, None)',
        "STACK_GLOBAL's module and attribute names are taken in the wrong order",
        "A refused file names the object backwards ('system.posix'), and a damaged torch file whose pickle only imports torch globals is reported as untrusted instead of corrupt.",
        ("tests/test_safeload.py", "tests/test_safeload_more.py", "tests/test_mut_safeload.py", "tests/test_train_paths.py")),
)


def _copy_tree(dest: Path) -> None:
    """The checkout as git sees it (tracked files and untracked ones git does not ignore): the tests
    read more than ``src`` and ``tests`` (the README's tables, docs, fixtures)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def run_bug(bug: Bug, timeout: float, tests: tuple[str, ...] | None = None) -> tuple[str, str, float]:
    """(CAUGHT / SURVIVED / TIMEOUT, pytest's last line, seconds) of ``bug`` applied to a copy."""
    with tempfile.TemporaryDirectory(prefix=f"fresh_{bug.id}_") as tmp:
        work = Path(tmp)
        _copy_tree(work)
        path = work / bug.file
        text = path.read_text()
        if text.count(bug.old) != 1:
            raise SystemExit(f"{bug.id}: {bug.old!r} occurs {text.count(bug.old)} times in {bug.file}")
        path.write_text(text.replace(bug.old, bug.new))
        env = {**os.environ, "PYTHONPATH": str(work / "src")}
        t0 = time.perf_counter()
        try:
            run = subprocess.run(["nice", "-n", "10", sys.executable, "-m", "pytest", "-q", "-x", "-p",
                                  "no:cacheprovider", *(tests or bug.tests)], cwd=work, env=env,
                                 capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "TIMEOUT", f"over {timeout:.0f} s", time.perf_counter() - t0
        last = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
        failed = [ln for ln in run.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
        return ("CAUGHT" if run.returncode else "SURVIVED"), (failed[0] if failed else last), time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ids", nargs="*", help="bug ids (default: the first set, B01-B21; the second is C01-C10, the third D01-D16)")
    p.add_argument("--list", action="store_true")
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--tests", nargs="+", help="run these test files instead of the bug's own list")
    args = p.parse_args(argv)
    chosen = [b for b in (*BUGS, *STRICT, *THIRD) if (b.id in args.ids if args.ids else b in BUGS)]
    if args.list:
        for b in chosen:
            print(f"{b.id} {b.file}: {b.what}\n    - {b.old!r}\n    + {b.new!r}\n    seen: {b.seen}\n"
                  f"    tests: {' '.join(b.tests)}")
        return 0
    caught = 0
    for b in chosen:
        outcome, last, secs = run_bug(b, args.timeout, tuple(args.tests) if args.tests else None)
        caught += outcome == "CAUGHT"
        print(f"{b.id} {outcome:8s} {secs:6.0f}s {b.file}: {b.what}  [{last}]", flush=True)
    print(f"caught {caught} of {len(chosen)} ({100 * caught / max(1, len(chosen)):.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
