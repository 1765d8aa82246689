"""Reference tests: ARO, CREPE, SVO-Probes and VL-CheckList against independent re-implementations
of the official scoring (each cites the official file and line), on fixtures with ties, repeated
keys, missing images and several files, complexities or subsets. What'sUp, the Winoground-style
suites, SugarCrepe(++), ImageCoDe, MMVP and VALSE are in test_eval_reference_pairs.py."""

from __future__ import annotations

import ast
import csv
import json
import random
import re

import numpy as np
import pytest
import torch

from slipform.evaluate import get_benchmark
from slipform.evaluate.aro import EXCLUDED_RELATIONS
from slipform.evaluate.aro_order import order_options, seeded_permute, word_tokens

from conftest import FIXTURES
from eval_helpers import KeyedEncoder, tiny_image

# ----------------------------------------------------------------------------- ARO order


def _ref_pre_caption(caption, max_words=30):
    # BLIP's pre_caption as ARO ships it: dataset_zoo/retrieval.py L15-33
    caption = re.sub(r"([.!\"()*#:;~])", " ", caption.lower())
    caption = re.sub(r"\s{2,}", " ", caption).rstrip("\n").strip(" ")
    words = caption.split(" ")
    return " ".join(words[:max_words]) if len(words) > max_words else caption


class _RefShuffler:
    """ARO's TextShuffler (dataset_zoo/perturbations.py L45-117), with its np.random.permutation and
    random.shuffle calls routed to ``draw`` so that a test can hand both sides the same permutations."""

    def __init__(self, nlp, draw):
        self.nlp, self.draw = nlp, draw

    def _np_permutation(self, arr):  # np.random.permutation(text[idx])
        return arr[self.draw(len(arr))]

    def _shuffle(self, xs):  # random.shuffle(xs), in place
        xs[:] = [xs[i] for i in self.draw(len(xs))]

    def shuffle_nouns_and_adj(self, ex):  # L51-63
        doc = self.nlp(ex)
        text = np.array([t.text for t in doc], dtype=object)
        noun_idx = [i for i, t in enumerate(doc) if t.tag_ in ["NN", "NNS", "NNP", "NNPS"]]
        adjective_idx = [i for i, t in enumerate(doc) if t.tag_ in ["JJ", "JJR", "JJS"]]
        text[noun_idx] = self._np_permutation(text[noun_idx])
        text[adjective_idx] = self._np_permutation(text[adjective_idx])
        return " ".join(text)

    def shuffle_allbut_nouns_and_adj(self, ex):  # L68-80
        doc = self.nlp(ex)
        text = np.array([t.text for t in doc], dtype=object)
        keep = [i for i, t in enumerate(doc) if t.tag_ in ["NN", "NNS", "NNP", "NNPS", "JJ", "JJR", "JJS"]]
        else_idx = np.ones(len(text), dtype=bool)
        else_idx[keep] = False
        text[else_idx] = self._np_permutation(text[else_idx])
        return " ".join(text)

    @staticmethod
    def get_trigrams(sentence):  # L83-94
        trigrams, trigram = [], []
        for i, w in enumerate(sentence):
            trigram.append(w)
            if i % 3 == 2:
                trigrams.append(trigram[:])
                trigram = []
        if trigram:
            trigrams.append(trigram)
        return trigrams

    def shuffle_within_trigrams(self, ex, tokenize):  # L96-109 (nltk.word_tokenize)
        trigrams = self.get_trigrams(tokenize(ex))
        for t in trigrams:
            self._shuffle(t)
        return " ".join(" ".join(t) for t in trigrams)

    def shuffle_trigrams(self, ex, tokenize):  # L112-117
        trigrams = self.get_trigrams(tokenize(ex))
        self._shuffle(trigrams)
        return " ".join(" ".join(t) for t in trigrams)


def _ref_options(raw, shuffler, tokenize):
    # COCO_Order.__init__ (dataset_zoo/aro_datasets.py L224-231): the raw caption, then the four
    # perturbations in this order, each through pre_caption(., 30)
    return [_ref_pre_caption(raw)] + [_ref_pre_caption(p) for p in (
        shuffler.shuffle_nouns_and_adj(raw), shuffler.shuffle_allbut_nouns_and_adj(raw),
        shuffler.shuffle_within_trigrams(raw, tokenize), shuffler.shuffle_trigrams(raw, tokenize))]


def _real_captions(n=150):
    with open(FIXTURES / "negclip" / "valid_neg_clip.tsv", newline="") as f:
        titles = [r["title"] for r in csv.DictReader(f, delimiter="\t")][:n]
    return titles + ['A man\'s "big" dog, on a mat; the cat (sleeping).  Two birds fly!', "  a red car parked "]


def test_aro_order_options_equal_aros_for_the_same_permutations(nlp):
    """For the same permutations our five options are ARO's, on real COCO captions (NegCLIP's
    validation titles) and on one with every kind of mark."""
    from nltk.tokenize import NLTKWordTokenizer

    def tokenize(ex):  # nltk.word_tokenize: Treebank tokens per sentence (split here after . ! ? and a space)
        return [t for s in re.split(r"(?<=[.!?])\s+", ex.strip()) for t in NLTKWordTokenizer().tokenize(s)]

    for n, raw in enumerate(_real_captions()):
        ref_rng, our_rng = np.random.default_rng(n), np.random.default_rng(n)
        want = _ref_options(raw, _RefShuffler(nlp, ref_rng.permutation), tokenize)
        ours = order_options(raw, [(t.text, t.tag_) for t in nlp(raw)], word_tokens(raw),
                             lambda xs, g=our_rng: [xs[i] for i in g.permutation(len(xs))])
        assert ours == want, raw


def test_aro_order_never_puts_an_adjective_in_a_noun_slot(nlp):
    both = 0
    for raw in _real_captions():
        tagged = [(t.text, t.tag_) for t in nlp(raw)]
        if not any(t.startswith("JJ") for _, t in tagged) or not any(t.startswith("NN") for _, t in tagged):
            continue
        both += 1
        for seed in range(3):
            first = order_options(raw, tagged, word_tokens(raw), seeded_permute(random.Random(seed)),
                                  max_words=99)[1].split(" ")
            nouns = {w.lower() for w, t in tagged if t.startswith("NN")}
            slots = [i for i, (_, t) in enumerate(tagged) if t.startswith("NN")]
            if len(first) == len(tagged):  # pre_caption left the token count as it was
                assert all(first[i] in nouns for i in slots), raw
    assert both > 50


# ----------------------------------------------------------------------------- ARO VG-Relation / VG-Attribution


def _ref_vg_macro(items, s_true, s_false, kind):
    # VG_Relation / VG_Attribution.evaluate_scores (dataset_zoo/aro_datasets.py L70-96, L150-172): the
    # options are [false, true] and argmax == 1 is right (a tie picks index 0, the false caption);
    # relations: accuracy per relation, the macro mean over those not in the symmetric list
    # (main_aro.py); attributes: per "a_b" pair with at least 25 items
    correct = np.argmax(np.stack([s_false, s_true], 1), axis=-1) == 1
    key = (lambda it: it["relation_name"]) if kind == "relation" else \
        (lambda it: f"{it['attributes'][0]}_{it['attributes'][1]}")
    groups = np.array([key(it) for it in items])
    accs = []
    for g in np.unique(groups):
        mask = groups == g
        if kind == "relation" and g in EXCLUDED_RELATIONS or kind == "attribution" and mask.sum() < 25:
            continue
        accs.append(correct[mask].mean())
    return float(np.mean(accs) * 100)


def test_aro_vg_macro_equals_aros(tmp_path):
    rng = np.random.default_rng(0)
    relations = ["on", "under", "next to", "holding", "wearing"]  # "next to" is left out of the macro
    attributes = [["white", "red"], ["big", "small"], ["wooden", "metal"]]
    images, texts, items = {}, {}, {"relation": [], "attribution": []}
    for kind, n in (("relation", 40), ("attribution", 90)):
        for i in range(n):
            name = f"{kind}{i % 7}.jpg"  # repeated images, several boxes each
            images[name] = rng.normal(size=4).tolist()
            t, f = f"{kind} true {i}", f"{kind} false {i}"
            texts[t] = rng.normal(size=4).tolist()
            texts[f] = texts[t] if i % 9 == 0 else rng.normal(size=4).tolist()  # a tie: wrong
            it = {"image_path": name, "bbox_x": i, "bbox_y": 1, "bbox_w": 5, "bbox_h": 6, "true_caption": t,
                  "false_caption": f}
            it.update({"relation_name": relations[i % 5]} if kind == "relation" else
                      {"attributes": attributes[i % 3] if i < 80 else ["odd", "pair"]})  # 10 items: < 25
            items[kind].append(it)
    for kind, rows in items.items():
        (tmp_path / "aro").mkdir(exist_ok=True)
        (tmp_path / "aro" / f"visual_genome_{kind}.json").write_text(json.dumps(rows))
    for name in images:
        tiny_image(tmp_path / "aro" / "images" / name)
    enc = KeyedEncoder(images, texts)
    out = get_benchmark("aro")(enc, tmp_path)
    for kind, key in (("relation", "vg_relation_macro"), ("attribution", "vg_attribution_macro")):
        img = np.array([images[it["image_path"]] for it in items[kind]])
        s_t = (img * np.array([texts[it["true_caption"]] for it in items[kind]])).sum(1)
        s_f = (img * np.array([texts[it["false_caption"]] for it in items[kind]])).sum(1)
        assert out[key] == pytest.approx(_ref_vg_macro(items[kind], s_t, s_f, kind), abs=1e-4), kind
        # micro: every item, the left-out relations and the small attribute pairs too (a tie is wrong)
        micro = f"vg_{kind}_micro"
        assert out[micro] == pytest.approx(float(np.mean(s_t > s_f) * 100), abs=1e-4), kind
    assert enc.boxes[1] == (1, 1, 6, 7)  # cropped to the item's box


# ----------------------------------------------------------------------------- CREPE


def _ref_crepe_r1(rows, images, texts):
    # get_one2many_rank (crepe_eval_utils.py L60-65): logits = logit_scale * image @ texts.T for the
    # caption and its hard negatives, ranking = argsort(descending), the rank of index 0; then
    # get_one2many_metrics (L67-76) R@1 = mean(rank < 1), over the rows given -- here every
    # complexity's rows together, as vl_compo's whole counts show
    ranks = []
    for r in rows:
        img = torch.tensor([images[f"{r['image_id']}.jpg"]])
        txt = torch.tensor([texts[t] for t in [r["caption"], *ast.literal_eval(r["hard_negs"])]])
        ranking = torch.argsort(100.0 * img @ txt.t(), descending=True)
        ranks.append(int(torch.where(ranking == 0)[1][0]))
    return float(np.mean(np.array(ranks) < 1) * 100)


def test_crepe_pooled_recall_equals_the_official_rank(tmp_path):
    rng = np.random.default_rng(1)
    images, texts, by_type = {}, {}, {}
    for t in ("atom", "swap", "negate"):
        base = tmp_path / "crepe" / "prod_hard_negatives" / t
        base.mkdir(parents=True)
        for k, n_rows in ((4, 3), (5, 9), (9, 2), (12, 6)):  # several complexities, unequal sizes
            rows = []
            for i in range(n_rows):
                image_id = f"{t}{k}{i}"
                images[f"{image_id}.jpg"] = rng.normal(size=3).tolist()
                cap = f"{t} c{k} caption {i}"
                texts[cap] = rng.normal(size=3).tolist()
                negs = [f"{t} c{k} neg {i} {j}" for j in range(3 if i % 4 else 20)]
                for neg in negs:  # every 3rd row: negatives tokenising like the caption
                    texts[neg] = texts[cap] if i % 3 == 0 else rng.normal(size=3).tolist()
                rows.append({"image_id": image_id, "x": 1, "y": 2, "width": 3, "height": 4, "caption": cap,
                             "hard_negs": repr(negs)})
                tiny_image(tmp_path / "crepe" / "images" / "VG_100K_2" / f"{image_id}.jpg")
            with open(base / f"prod_vg_hard_negs_{t}_complexity_{k}.csv", "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
            by_type.setdefault(t, []).extend(rows)
    out = get_benchmark("crepe")(KeyedEncoder(images, texts), tmp_path)
    for t, rows in by_type.items():
        assert out[t] == pytest.approx(_ref_crepe_r1(rows, images, texts)), t
        assert out[f"{t}_n"] == 20 and out[f"{t}_complexities"] == 4
    assert out["mean"] == pytest.approx(np.mean([out[t] for t in by_type]))


def test_crepe_pooling_is_not_the_mean_over_complexities(tmp_path):
    """The issue's case: 1 of 1 right at complexity 4, 1 of 4 at 5 -> pooled 40, not 62.5."""
    base = tmp_path / "crepe" / "prod_hard_negatives" / "atom"
    base.mkdir(parents=True)
    images, texts = {}, {}
    for k, rights in ((4, [True]), (5, [True, False, False, False])):
        with open(base / f"prod_vg_hard_negs_atom_complexity_{k}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["image_id", "x", "y", "width", "height", "caption", "hard_negs"])
            for i, right in enumerate(rights):
                w.writerow([f"{k}{i}", 0, 0, 4, 4, f"cap {k}{i}", repr([f"neg {k}{i}"])])
                tiny_image(tmp_path / "crepe" / "images" / f"{k}{i}.jpg")
                images[f"{k}{i}.jpg"] = [1.0, 0.0]
                texts[f"cap {k}{i}"], texts[f"neg {k}{i}"] = ([0.9, 0], [0.1, 0]) if right else ([0.1, 0], [0.9, 0])
    out = get_benchmark("crepe")(KeyedEncoder(images, texts), tmp_path)
    assert out["atom"] == pytest.approx(40.0) and out["atom_complexity_mean"] == pytest.approx(62.5)


# ----------------------------------------------------------------------------- SVO-Probes


def _ref_svo(rows, s):
    """Per negative type: per-row pairwise accuracy (the rule vl_compo's whole counts show) and the
    notebook's key accuracy (probing_image_text_models.ipynb, "accuracy": pos_acc over unique
    (sentence, pos image) keys, neg_acc over unique (sentence, neg image) keys, averaged), a key
    judged right when every row it is in has s_pos > s_neg."""
    out = {}
    for t in ("subj_neg", "verb_neg", "obj_neg"):
        part = [(r, s[i]) for i, r in enumerate(rows) if r["type"] == t]
        out[t] = np.mean([sp > sn for _, (sp, sn) in part]) * 100
        pos, neg = {}, {}
        for r, (sp, sn) in part:
            key = re.sub(" +", " ", r["sentence"].lower()).strip()
            pos.setdefault((key, r["pos"]), []).append(sp - sn)
            neg.setdefault((key, r["neg"]), []).append(sp - sn)
        out[f"{t}_key"] = (np.mean([min(v) > 0 for v in pos.values()]) +
                           np.mean([min(v) > 0 for v in neg.values()])) / 2 * 100
    return out


def test_svo_per_row_and_key_accuracy_equal_the_references(tmp_path):
    rng = np.random.default_rng(2)
    root = tmp_path / "svo_probes"
    sentences = ["a dog runs", "A  Dog runs", "a girl eats", "a man rides", "a boy swims"]
    ids = [str(i) for i in range(12)]
    images = {f"{i}.jpg": rng.normal(size=3).tolist() for i in ids}
    images["11.jpg"] = images["10.jpg"]  # image 11 ties with 10 for every sentence
    rows, kept = [], []
    for n in range(60):
        flags = [n % 3 == 0, n % 3 == 1, n % 3 == 2]
        if n == 7:
            flags = [True, True, False]  # two types: dropped
        pos, neg = ids[rng.integers(0, 11)], ids[rng.integers(0, 12)]
        if n % 10 == 5:
            pos, neg = "10", "11"  # a tie
        if n % 17 == 3:
            neg = "404"  # no image: dropped
        row = {"sentence": sentences[n % 5], "pos": pos, "neg": neg, "flags": flags}
        rows.append(row)
        if neg != "404" and sum(flags) == 1:
            kept.append({**row, "type": ("subj_neg", "verb_neg", "obj_neg")[flags.index(True)]})
    root.mkdir()
    with open(root / "svo_probes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sentence", "subj_neg", "verb_neg", "obj_neg", "pos_image_id", "neg_image_id"])
        for r in rows:
            w.writerow([r["sentence"], *map(str, r["flags"]), r["pos"], r["neg"]])
    for name in images:
        tiny_image(root / "images" / name)
    texts = {s: rng.normal(size=3).tolist() for s in sentences}
    out = get_benchmark("svo_probes")(KeyedEncoder(images, texts), tmp_path)
    s = [(float(np.dot(texts[r["sentence"]], images[f"{r['pos']}.jpg"])),
          float(np.dot(texts[r["sentence"]], images[f"{r['neg']}.jpg"]))) for r in kept]
    ref = _ref_svo(kept, s)
    for key, value in ref.items():
        assert out[key] == pytest.approx(value), key
    assert out["dropped_rows"] == len(rows) - len(kept) and sum(out[f"{t}_n"] for t in ref if "key" not in t) == \
        len(kept)
    assert out["mean"] == pytest.approx(np.mean([ref["subj_neg"], ref["verb_neg"], ref["obj_neg"]]))


# ----------------------------------------------------------------------------- VL-CheckList


# corpus.json's Object/Location center axis (three sources; VG's two files, SWiG's four, HAKE's one)
_CENTER = {"vg": ["Object/Location/vg_location/vg_obj_center.json", "Object/Location/vg_location/vg_subj_center.json"],
           "swig": [f"Object/Location/swig_location/swig_{r}/swig_{r}_center.json"
                    for r in ("agent", "destination", "item", "tool")],
           "hake": ["Object/Location/hake_location/hake_obj_center.json"]}


def _ref_vl_checklist_axis(files, images, texts, root, cap):
    # evaluate.py ITC (L93-125) with data_loader.py (L41-58): records whose image exists, the first
    # MAX_NUM / 2 of a file, right when s(image, POS[0]) > s(image, NEG[0]); radar.py (L115-137): an
    # axis is the mean over its sources of the mean over each source's files
    per_source = []
    for source, rels in _CENTER.items():
        accs = []
        for rel in rels:
            if rel not in files:
                continue
            folder = {"vg": "vg", "swig": "swig", "hake": "hake"}[source]
            kept = [(p, t) for p, t in files[rel] if (root / folder / p).exists()][:cap]
            if kept:
                accs.append(np.mean([np.dot(images[p.split("/")[-1]], texts[t["POS"][0]]) >
                                     np.dot(images[p.split("/")[-1]], texts[t["NEG"][0]]) for p, t in kept]) * 100)
        if accs:
            per_source.append(np.mean(accs))
    return float(np.mean(per_source))


def test_vl_checklist_axis_averages_files_then_sources_as_radar(tmp_path, monkeypatch):
    import slipform.evaluate.vl_checklist as vlc

    monkeypatch.setattr(vlc, "MAX_PER_FILE", 4)
    rng = np.random.default_rng(3)
    images, texts, files = {}, {}, {}
    present = [*_CENTER["vg"], *_CENTER["swig"][:3], *_CENTER["hake"]]  # swig_tool is absent
    for f_i, rel in enumerate(present):
        records = []
        for i in range(6 + f_i):
            name = f"f{f_i}_{i}.jpg"
            images[name] = rng.normal(size=3).tolist()
            pos, neg = f"pos {f_i} {i}", f"neg {f_i} {i}"
            texts[pos] = rng.normal(size=3).tolist()
            texts[neg] = texts[pos] if i == 2 else rng.normal(size=3).tolist()  # a tie: wrong
            records.append([f"sub/{name}", {"POS": [pos, "ignored"], "NEG": [neg, "ignored"]}])
            source = "vg" if "vg_" in rel else "swig" if "swig" in rel else "hake"
            if i != 1:  # record 1 of each file has no image: skipped before the cap
                tiny_image(tmp_path / "vl_checklist" / source / "sub" / name)
        files[rel] = records
        (tmp_path / "vl_checklist" / "data" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "vl_checklist" / "data" / rel).write_text(json.dumps(records))
    out = get_benchmark("vl_checklist")(KeyedEncoder(images, texts), tmp_path)
    want = _ref_vl_checklist_axis(files, images, texts, tmp_path / "vl_checklist", 4)
    assert out["Object_Location_center"] == pytest.approx(want)
    assert out["object"] == pytest.approx(want) and out["axes"] == 1
    assert out["missing_files"] == sum(len(f) for a in vlc.AXES.values() for f in a.values()) - len(present)
    assert out["short_files"] == 0  # image 1 is missing, but 4 records with images remain in each file
