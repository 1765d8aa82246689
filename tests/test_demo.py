"""The protocol end to end on a miniature world: plant, train, evaluate, report, analyse."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from slipform.cli import main
from slipform.experiment.demo import DemoConfig, run_demo
from slipform.experiment.protocol import ProtocolConfig, add_negative_images, pretrain_dir, scene_of
from slipform.experiment.summary import aggregate, mean_ci

MINI = ProtocolConfig(n_train=48, captions_per_scene=1, pretrain_epochs=2, pretrain_lr=1e-3, finetune_epochs=1,
                      batch_size=16, eval_limit=16, workers=0, width=8)
METHODS = ("pretrained", "clip_ft", "negclip", "slipform", "image_negatives")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    config = DemoConfig(output=str(root / "report"), methods=METHODS, protocol=MINI, cache=str(root / "cache"),
                        progress=False)
    lines = []
    report = run_demo(config, log=lines.append)
    return config, report, lines, root


def test_demo_writes_the_report(demo):
    config, report, lines, root = demo
    out = root / "report"
    for name in ("results.md", "results.csv", "results.json", "benchmarks.png", "gradients.png", "samples.png",
                 "negatives.html", "negatives-mix.md", "negatives-mix.json"):
        assert (out / name).stat().st_size > 0, name
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [r["method"] for r in rows] == list(METHODS)
    # the mix of the planted negatives, read by the world: every one verified, so none fails to
    # parse or shows its caption's scene
    from slipform.experiment.protocol import METHODS as ROWS

    kind = ROWS["slipform"].negatives
    mix = json.loads((out / "negatives-mix.json").read_text())[kind]
    assert mix["n"] == len((out / "negatives" / f"{kind}-s0.jsonl").read_text().splitlines()) > 0
    assert not {"unparsable", "same scene"} & set(mix["change"]) and sum(mix["change"].values()) == mix["n"]
    for r in rows:
        for col in ("Retrieval R@1", "ARO relation", "SugarCrepe", "Probe mAP"):
            assert 0 <= float(r[col]) <= 100
    md = (out / "results.md").read_text()
    assert "Slipform (ConcretePlant + Cement)" in md and "NegCLIP" in md
    # one seed: methods are compared over the same test items, and the table says whether the
    # positive control (NegCLIP over CLIP-FT on relation swap) was detected
    assert "Positive control: NegCLIP − CLIP-FT on ARO relation" in md
    comp = (out / "comparisons.md").read_text()
    assert f"over the {MINI.eval_limit} test scenes of seed 0" in comp and "| negclip − clip_ft |" in comp
    for m in METHODS:
        assert (out / "eval" / f"{m}-s0.items.npz").exists()
    assert 0 <= float(rows[0]["Probe text relation"]) <= 100
    # progress names every stage with its position and an ETA after the first
    assert lines[0].startswith("[1/") and any("ETA" in line for line in lines)
    # the runs really trained through the real trainer, with hard negatives where the method has them
    logs = {m: [json.loads(x) for x in (out / "runs" / f"{m}-s0" / "log.jsonl").read_text().splitlines()]
            for m in ("clip_ft", "negclip", "slipform")}
    assert all(r["grad_hard"] is None for r in logs["clip_ft"])  # no hard negative: null in strict JSON
    assert all(r["grad_hard"] > 0 for r in logs["negclip"] + logs["slipform"])
    assert json.loads((out / "runs" / "slipform-s0" / "config.json").read_text())["loss"]["kind"] == "cement"
    # the pretrained model is cached by its config, and the fine-tuned models differ from it
    assert (pretrain_dir(root / "cache", MINI, 0) / "model.pt").exists()
    res = report["results"]
    assert res["clip_ft"][0] != res["pretrained"][0]
    assert report["gradients"]["slipform"][0]["hard_to_easy"] > 0
    # the paper's Fig. 3 (CLIP-FT, NegCLIP, Slipform) and Fig. 2 (batch 32 only: 48 scenes) in the report
    assert (out / "gradient_magnitudes.png").exists() and "Fig. 3" in md
    imbalance = json.loads((out / "imbalance.json").read_text())["rows"]
    assert {(r["batch_size"], r["negatives"]) for r in imbalance} == {(32, "none"), (32, "ConcretePlant"),
                                                                      (32, "NegCLIP swaps")}


def test_demo_resumes_without_redoing_work(demo):
    config, report, _, root = demo
    model = root / "report" / "runs" / "slipform-s0" / "model.pt"
    before = model.stat().st_mtime_ns
    lines = []
    again = run_demo(config, log=lines.append)
    assert model.stat().st_mtime_ns == before
    assert again["results"] == report["results"]


def test_controls_on_the_miniature_world_report_three_checks(tmp_path, demo):
    """bench/world_controls.py's checks on a copy of the demo's runs (its pretrained, CLIP-FT and
    NegCLIP rows reused; the two control rows train): computed from the run, and failing here."""
    import shutil

    from world_controls import run

    shutil.copytree(demo[3] / "report", tmp_path / "out" / "s0")
    checks = run(str(tmp_path / "out"), [0], demo[0].cache, protocol=MINI)
    assert len(checks) == 3
    # 16 test scenes and a model that has learnt nothing: no interval excludes 0 and no control reaches 80%
    assert not any(ok for _, ok, _ in checks)
    assert "relation swap" in checks[0][0] and "NegCLIP - CLIP-FT" in checks[2][0]


def test_image_negatives_render_the_planted_change(demo):
    from slipform.experiment.protocol import METHODS as ROWS
    from slipform.experiment.protocol import PLANTS

    _, _, _, root = demo
    kind = ROWS["image_negatives"].negatives  # the selected variant's negatives
    neg = root / "report" / "negatives" / f"{kind}-s0.jsonl"
    out, counts = add_negative_images(neg)
    assert MINI.n_train * 0.8 <= counts["records"] <= MINI.n_train * PLANTS[kind].per_caption
    # the world's parser verified every negative the demo planted: each one shows another scene
    assert counts["with_image"] == counts["records"] and counts["unparsable"] == counts["same_scene"] == 0
    import numpy as np
    from PIL import Image

    from slipform.world.caption import parse
    from slipform.world.editor import WorldEditor

    for line in open(out):
        rec = json.loads(line)
        if "negative_image" in rec:
            scene = scene_of(rec["id"])
            assert not parse(rec["negative"]).same_as(scene)
            # the file shows this negative (not an image left by another run)
            shown = np.asarray(Image.open(rec["negative_image"]).convert("RGB"))
            assert np.array_equal(shown, np.asarray(WorldEditor().edit_scene(scene, rec["negative"])))


def test_analyze_relates_properties_to_contribution(demo):
    _, _, _, root = demo
    from slipform.experiment.analyze import analyze
    from slipform.experiment.layout import DemoLayout
    from slipform.experiment.protocol import write_control_negatives

    # a control's negatives (as `demo --controls` writes them) name the caption, not the image
    layout = DemoLayout(root / "report")
    run_cfg = json.loads((layout.run("slipform", 0) / "config.json").read_text())
    data = Path(run_cfg["data"]["image_root"])
    control = layout.negatives("relation_swap", 0)
    write_control_negatives(data / "train.csv", control, "relation_swap")
    try:
        result = analyze(root / "report", sample=40, log=lambda m: None)
    finally:
        control.unlink()
    folder = root / "report" / "analysis"
    rows = list(csv.DictReader(open(folder / "negatives.csv")))
    from slipform.experiment.protocol import METHODS as ROWS

    kind = ROWS["slipform"].negatives  # the selected variant's negatives
    assert {r["strategy"] for r in rows} == {kind, "swap", "relation_swap"}
    assert all(0 < float(r["grad_share_start"]) < 1 for r in rows)
    corr = list(csv.DictReader(open(folder / "correlations.csv")))
    assert {c["property"] for c in corr} >= {"concreteness", "pixel_distance", "embedding_distance"}
    gains = list(csv.DictReader(open(folder / "gains.csv")))
    assert {g["group"] for g in gains} == {"role", "concreteness"} and (folder / "analysis.png").exists()
    # a negative that changes nothing in the scene has zero pixel distance; one that does, more
    changed = [float(r["pixel_distance"]) for r in rows if r["changes_scene"] == "1.0"]
    same = [float(r["pixel_distance"]) for r in rows if r["changes_scene"] == "0.0"]
    assert changed and min(changed) > 0 and all(d == 0 for d in same)
    assert result["by_strategy"][kind]["concreteness"] > 3.5


def test_mean_ci_uses_student_t():
    m, ci = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and ci == pytest.approx(4.303 / math.sqrt(3), rel=1e-4)
    assert math.isnan(mean_ci([5.0])[1])
    table = aggregate({"a": {0: {"world_aro": {"relation_swap": 50, "attribute_swap": 60, "order_precision@1": 20}},
                             1: {"world_aro": {"relation_swap": 60, "attribute_swap": 60, "order_precision@1": 20}}}})
    assert table["a"]["ARO relation"][0] == 55 and math.isnan(table["a"]["SugarCrepe"][0])


def test_pretrain_cache_is_keyed_by_config(tmp_path):
    a = pretrain_dir(tmp_path, MINI, 0)
    assert a == pretrain_dir(tmp_path, ProtocolConfig(**vars(MINI)), 0)
    assert a != pretrain_dir(tmp_path, MINI, 1)
    assert a != pretrain_dir(tmp_path, ProtocolConfig(**{**vars(MINI), "pretrain_lr": 5e-4}), 0)


def test_cli_demo_rejects_unknown_methods(capsys):
    assert main(["demo", "--methods", "slipform,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["analyze", "/nonexistent/demo"]) == 2


def test_demo_refuses_a_folder_made_with_other_settings(demo):
    config, _, _, root = demo
    from dataclasses import replace

    with pytest.raises(ValueError, match="other settings"):
        run_demo(replace(config, protocol=replace(MINI, finetune_lr=1e-5)), log=lambda m: None)


def test_spearman_matches_scipy_with_ties():
    from scipy.stats import spearmanr

    from slipform.experiment.analyze import spearman

    x = [1, 2, 2, 3, 5, 5, 5, 8, 9, 1]
    y = [2, 1, 4, 3, 7, 6, 6, 9, 8, 0]
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_paired_differences_remove_shared_seed_variance(tmp_path):
    from slipform.experiment.report import write_comparisons
    from slipform.experiment.summary import paired

    def ev(x):
        return {"world_aro": {"relation_swap": x, "attribute_swap": 50, "order_precision@1": 20}}

    # the seeds differ by 30 points, the methods by exactly 2 in every seed
    res = {"slipform": {0: ev(52), 1: ev(82), 2: ev(62)}, "concrete_negclip": {0: ev(50), 1: ev(80), 2: ev(60)}}
    [c] = paired(res)
    assert (c["a"], c["b"]) == ("slipform", "concrete_negclip")
    assert c["diff"]["ARO relation"] == (pytest.approx(2.0), pytest.approx(0.0))
    md = write_comparisons([c], tmp_path)
    assert "+2.0 ± 0.0 *" in md and (tmp_path / "comparisons.csv").exists()


def test_cli_help_names_every_method(capsys):
    from slipform.experiment.protocol import METHODS

    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(m in text for m in METHODS)


def test_visual_norms_and_hardest_of_k_rows(tmp_path, demo):
    """The beyond-the-paper rows run through the same protocol: visual norms measured with the
    seed's CLIP-FT tower and read by the planter, 3 negatives per caption, the model's choice.
    (A copy of the demo's report and its cache: its pretrained and CLIP-FT rows are reused.)"""
    import shutil

    from slipform.lexicon import load_lexicon

    shutil.copytree(demo[3] / "report", tmp_path / "report")
    methods = ("pretrained", "clip_ft", "hardest_negclip", "visual_hardest_slipform")
    config = DemoConfig(output=str(tmp_path / "report"), methods=methods, protocol=MINI, cache=demo[0].cache,
                        progress=False)
    report = run_demo(config, log=lambda msg: None)
    out = tmp_path / "report"
    norms = out / "negatives" / "visual-norms-s0.csv"
    lexicon = load_lexicon(str(norms))
    recs = [json.loads(x) for x in (out / "negatives" / "visual3-s0.jsonl").read_text().splitlines()]
    assert recs and all(r["concreteness"] == lexicon.rating(r.get("anchor") or r["target"]) for r in recs
                    if " " not in (r.get("anchor") or r["target"]))
    per_caption = {}
    for r in recs:
        per_caption[r["id"]] = per_caption.get(r["id"], 0) + 1
    assert max(per_caption.values()) == 3 and len({r["id"] for r in recs}) > 0.8 * MINI.n_train
    for m in ("hardest_negclip", "visual_hardest_slipform"):
        run = out / "runs" / f"{m}-s0"
        assert json.loads((run / "config.json").read_text())["select"]["mode"] == "hardest"
        phases = json.loads((run / "selection.json").read_text())["phases"]
        assert sum(phases[0][f"select_{r}"] for r in "ARO") == pytest.approx(1.0)
    assert set(report["results"]) == set(methods)
    # the table says how many of the trained negatives change a relation: picked by the selection
    phases = json.loads((out / "runs" / "hardest_negclip-s0" / "selection.json").read_text())["phases"]
    share = report["gradients"]["hardest_negclip"][0]["relation_share"]
    assert share == pytest.approx(sum(p["select_R"] for p in phases) / 3)
    assert "relation-word negatives" in (out / "results.md").read_text()


def test_compare_rows_cover_every_registered_loss():
    """``--compare`` is the side-by-side of the loss registry: a new method without a world row fails here."""
    from slipform.experiment.protocol import COMPARE_METHODS
    from slipform.experiment.protocol import METHODS as ROWS
    from slipform.experiment.summary import COMPARISONS
    from slipform.losses import list_losses

    kinds = {ROWS[m].loss.kind for m in COMPARE_METHODS}
    assert set(list_losses()) <= kinds
    paired_with_negclip = {a for a, b, _ in COMPARISONS if b == "negclip"}
    assert {m for m in COMPARE_METHODS if ROWS[m].negatives} - {"negclip"} <= paired_with_negclip
    # and the selected Slipform is paired with every other method of the table (issue 29)
    paired_with_slipform = {b for a, b, _ in COMPARISONS if a == "slipform"}
    assert set(COMPARE_METHODS) - {"slipform", "pretrained"} <= paired_with_slipform


@pytest.mark.slow  # six small trainings: ~2 min on an idle 2-core machine
def test_compare_rows_train_with_their_own_loss(tmp_path):
    """The field's methods run through the same protocol, each with its registered loss and its negatives."""
    methods = ("negclip", "fsc_clip_concrete", "tripletclip")
    config = DemoConfig(output=str(tmp_path / "report"), methods=methods, protocol=MINI, cache=str(tmp_path / "cache"),
                        progress=False)
    report = run_demo(config, log=lambda msg: None)
    out = tmp_path / "report"
    for m in methods:
        cfg = json.loads((out / "runs" / f"{m}-s0" / "config.json").read_text())
        from slipform.experiment.protocol import METHODS as ROWS

        assert cfg["loss"]["kind"] == ROWS[m].loss.kind
        want = {"swap": "swap-s0.jsonl", "concrete": "concrete-s0.jsonl"}[ROWS[m].negatives]
        if ROWS[m].image_negatives:
            want = "concrete-s0.images.jsonl"
        assert Path(cfg["data"]["negatives"]).name == want
    assert set(report["results"]) == set(methods)
    pairs = {(c["a"], c["b"]) for c in report["comparisons"]}
    assert {("fsc_clip_concrete", "negclip"), ("tripletclip", "negclip")} <= pairs


def test_slipform_variants_are_world_methods_with_their_negatives_and_margin():
    """The variants registered in docs/RESULTS.md section 5 run through the same protocol: each names
    its plant (reading, negatives per caption) and its Cement margin; the Slipform row is the selected one."""
    from slipform.experiment.protocol import (
        COMPARE_METHODS,
        MARGINS,
        METHODS,
        PLANTS,
        SELECTED,
        VALIDATE_METHODS,
        VARIANTS,
    )

    assert VALIDATE_METHODS == ("clip_ft", *VARIANTS) and len(VARIANTS) == 2 * len(MARGINS) * 2
    for name in VARIANTS:
        _, reading, margin, n = name.split("_")
        method, plant = METHODS[name], PLANTS[METHODS[name].negatives]
        assert (plant.route, plant.per_caption, plant.strategy) == (reading, int(n), "concrete")
        assert method.loss.kind == "cement" and method.loss.schedule == MARGINS[margin]
    slipform, selected = METHODS["slipform"], METHODS[SELECTED]
    assert (slipform.negatives, slipform.loss) == (selected.negatives, selected.loss)
    # claims (a) and (b) compare against the selected variant's negatives and loss
    assert METHODS["concrete_negclip"].negatives == selected.negatives
    for kind in ("abstract", "random"):
        assert (PLANTS[kind].route, PLANTS[kind].per_caption) == (PLANTS[selected.negatives].route,
                                                                  PLANTS[selected.negatives].per_caption)
    # the loss apart from the negatives: Slipform's loss on NegCLIP's swaps, a row of --compare
    assert "cement_swaps" in COMPARE_METHODS
    assert (METHODS["cement_swaps"].negatives, METHODS["cement_swaps"].loss) == ("swap", selected.loss)


def test_cli_validate_runs_the_variants_on_the_validation_split(monkeypatch):
    from slipform.experiment import demo as demo_module
    from slipform.experiment.protocol import VALIDATE_METHODS

    seen = {}
    monkeypatch.setattr(demo_module, "run_demo", lambda config: seen.setdefault("config", config))
    assert main(["demo", "--validate", "--finetune-steps", "25", "--eval-limit", "1000", "-o", "x"]) == 0
    config = seen["config"]
    assert config.split == "val" and config.methods == VALIDATE_METHODS
    assert config.protocol.finetune_steps == 25 and config.protocol.finetune_warmup == 5
    assert main(["demo", "--finetune-steps", "0"]) != 0


@pytest.mark.slow  # two small trainings and their validation: ~25 s idle, minutes on the shared machine
def test_validation_run_scores_the_validation_scenes_and_applies_the_rule(tmp_path):
    """``--validate`` on a miniature world: the models are scored on the validation scenes only, and
    the rule selects nothing from an incomplete set of variants (and says why)."""
    config = DemoConfig(output=str(tmp_path / "v"), methods=("clip_ft", "slipform_target_linear_1"), protocol=MINI,
                        cache=str(tmp_path / "cache"), progress=False, split="val")
    report = run_demo(config, log=lambda m: None)
    out = tmp_path / "v"
    assert sorted(p.name for p in (out / "eval").glob("*.json")) == ["clip_ft-s0.val.json",
                                                                     "slipform_target_linear_1-s0.val.json"]
    assert (tmp_path / "cache" / "world" / "images" / "val").is_dir()
    assert not (tmp_path / "cache" / "world" / "images" / "test").exists()
    selection = json.loads((out / "selection.json").read_text())
    assert selection["selected"] is None and "slipform_anchor_linear_1" in selection["reason"]
    assert [r["variant"] for r in selection["rows"]] == ["slipform_target_linear_1"]
    assert "Nothing selected" in (out / "selection.md").read_text()
    assert report["results"]["clip_ft"][0]["world_aro"]["relation_swap"] >= 0
