"""The benchmark loaders' limits and messages, ARO's attribute-pair rule, its order tasks and
perturbations by hand (the parts mutmut showed no test pinned; see docs/BENCHMARKS.md)."""

import json
import random

import pytest
import torch

from slipform.evaluate import BenchmarkDataError, get_benchmark
from slipform.evaluate.aro_order import (
    order_options,
    order_task,
    perturbations,
    pre_caption,
    seeded_permute,
    without_punctuation,
    word_tokens,
)
from slipform.evaluate.sugarcrepe import load_subset
from slipform.evaluate.valse import load_instrument

from eval_helpers import KeyedEncoder, tiny_image


def test_loaders_limit_and_name_what_is_wrong(tmp_path):
    sub = tmp_path / "add_att.json"
    sub.write_text(json.dumps({str(i): {"filename": f"{i}.jpg"} for i in range(5)}))
    assert len(load_subset(sub)) == 5 and [it["filename"] for it in load_subset(sub, 2)] == ["0.jpg", "1.jpg"]
    with pytest.raises(BenchmarkDataError, match=r"^sugarcrepe: .*absent.json not found; expected DATA_ROOT/sugar"):
        load_subset(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(BenchmarkDataError, match=r"^sugarcrepe: .*bad.json: malformed JSON \("):
        load_subset(tmp_path / "bad.json")
    ins = tmp_path / "existence.json"
    ins.write_text(json.dumps({"a": {"mturk": {"caption": 2}}, "b": {"mturk": {}}, "c": {}, "d": {"mturk": None},
                               "e": {"mturk": {"caption": 3}}, "f": {"mturk": {"caption": 2}}}))
    assert [len(load_instrument(ins)), len(load_instrument(ins, 2))] == [3, 2]
    with pytest.raises(BenchmarkDataError, match=r"^valse: .*absent.json not found; expected DATA_ROOT/valse/"):
        load_instrument(tmp_path / "absent.json")


def _vg_files(root, rel, att):
    (root / "aro").mkdir(parents=True, exist_ok=True)
    (root / "aro" / "visual_genome_relation.json").write_text(json.dumps(rel))
    (root / "aro" / "visual_genome_attribution.json").write_text(json.dumps(att))


def test_aro_attribute_pairs_need_25_items_and_limit_counts(tmp_path):
    box = {"bbox_x": 0, "bbox_y": 0, "bbox_w": 8, "bbox_h": 8}
    rel = [{"image_path": f"r{i}.jpg", **box, "true_caption": f"t{i}", "false_caption": f"f{i}",
            "relation_name": "on"} for i in range(4)]
    # 26 items of red-blue (20 right), 3 of big-small (all wrong: too few to enter the macro)
    att = [{"image_path": f"a{i}.jpg", **box, "true_caption": f"at{i}", "false_caption": f"af{i}",
            "attributes": ["red", "blue"] if i < 26 else ["big", "small"]} for i in range(29)]
    _vg_files(tmp_path, rel, att)
    images, texts = {}, {}
    for it in rel + att:
        tiny_image(tmp_path / "aro" / "images" / it["image_path"])
        images[it["image_path"]] = [1.0, 0.0]
        right = it in rel or int(it["image_path"][1:-4]) < 20
        texts[it["true_caption"]], texts[it["false_caption"]] = ([0.9, 0], [0.1, 0]) if right else ([0.1, 0], [0.9, 0])
    out = get_benchmark("aro")(KeyedEncoder(images, texts), tmp_path)
    assert out["vg_attribution_pairs"] == 1 and out["vg_attribution_macro"] == pytest.approx(100 * 20 / 26)
    assert out["vg_attribution_micro"] == pytest.approx(100 * 20 / 29) and out["vg_attribution_n"] == 29
    limited = get_benchmark("aro")(KeyedEncoder(images, texts), tmp_path, limit=3)
    assert limited["vg_relation_n"] == 3 and limited["vg_attribution_n"] == 3
    assert "coco_order_error" in out and "karpathy" in out["coco_order_error"]


def test_aro_names_its_missing_files(tmp_path):
    with pytest.raises(BenchmarkDataError, match=r"^aro: .*visual_genome_relation.json not found; expected DATA_ROOT"):
        get_benchmark("aro")(KeyedEncoder({}, {}), tmp_path)
    box = {"bbox_x": 0, "bbox_y": 0, "bbox_w": 8, "bbox_h": 8}
    _vg_files(tmp_path, [{"image_path": "gone.jpg", **box, "true_caption": "t", "false_caption": "f",
                          "relation_name": "on"}], [])
    with pytest.raises(BenchmarkDataError, match=r"^aro: 1 of 1 files missing .*gone.jpg.*expected layout: DATA_ROOT/aro"):
        get_benchmark("aro")(KeyedEncoder({}, {}), tmp_path)


def test_perturbations_move_only_the_words_they_name():
    """Nouns move among noun slots only, adjectives among adjective slots only, the rest among the rest."""
    tags = [("John", "NNP"), ("saw", "VBD"), ("a", "DT"), ("big", "JJ"), ("dog", "NN"), ("on", "IN"),
            ("the", "DT"), ("old", "JJ"), ("mat", "NN"), ("in", "IN"), ("Paris", "NNP"), ("today", "NN"), (".", ".")]
    words = [w for w, _ in tags]
    nouns = {i for i, (_, t) in enumerate(tags) if t.startswith("NN")}
    adjectives = {i for i, (_, t) in enumerate(tags) if t.startswith("JJ")}
    moved = {"nouns": set(), "adjectives": set(), "other": set()}
    for seed in range(20):
        first, rest, *_ = [o.split(" ") for o in perturbations(tags, words, seeded_permute(random.Random(seed)))]
        assert {first[i] for i in nouns} == {words[i] for i in nouns}
        assert {first[i] for i in adjectives} == {words[i] for i in adjectives}
        assert all(first[i] == words[i] for i in range(len(words)) if i not in nouns | adjectives)
        assert all(rest[i] == words[i] for i in nouns | adjectives)
        moved["nouns"] |= {i for i in nouns if first[i] != words[i]}
        moved["adjectives"] |= {i for i in adjectives if first[i] != words[i]}
        moved["other"] |= {i for i in range(len(words)) if i not in nouns | adjectives and rest[i] != words[i]}
    assert moved["nouns"] == nouns and moved["adjectives"] == adjectives and 12 in moved["other"]  # "." too


def test_pre_caption_splits_on_spaces_as_blips():
    assert pre_caption("A\tDog on a mat.") == "a\tdog on a mat"  # one tab is not a word break there
    assert pre_caption(" ".join(["w"] * 29 + ["a\tb", "c"])).split(" ")[-1] == "a\tb"
    assert pre_caption("A man's dog , on a mat .") == "a man's dog , on a mat"  # commas, apostrophes stay


def test_aro_order_by_hand(tmp_path, nlp):
    """COCO-Order: each raw test caption's five options (pre_caption of it and of its four seeded
    perturbations) against its own image; the image of caption 3 prefers a perturbation."""
    raw = ["A Dog, on a MAT.", "two cats (sleeping) on a red sofa", "a man rides a horse on the beach",
           "the green bus passes an old church"]
    kp = {"images": [{"filepath": "val2014", "filename": f"im{i}.jpg", "split": "test",
                      "sentences": [{"raw": raw[2 * i]}, {"raw": raw[2 * i + 1]}]} for i in range(2)]
          + [{"filepath": "train2014", "filename": "train.jpg", "split": "train", "sentences": [{"raw": "no"}]}]}
    (tmp_path / "karpathy").mkdir()
    (tmp_path / "karpathy" / "dataset_coco.json").write_text(json.dumps(kp))
    for i in range(2):
        tiny_image(tmp_path / "coco" / "val2014" / f"im{i}.jpg")
    originals = [pre_caption(r) for r in raw]
    assert originals[0] == "a dog, on a mat" and originals[1] == "two cats sleeping on a red sofa"

    def expected(seed):
        return [o for n, r in enumerate(raw) for o in order_options(
            r, [(t.text, t.tag_) for t in nlp(r)], word_tokens(r),
            seeded_permute(random.Random(f"{seed}:coco:{n}")))]

    seen = []

    class Scored(KeyedEncoder):
        def texts(self, texts):
            seen.extend(texts)
            return torch.tensor([[0.9 if t in originals[:3] else 0.05 if t == originals[3] else 0.5, 0.0]
                                 for t in texts])

    enc = Scored({"im0.jpg": [1.0, 0.0], "im1.jpg": [1.0, 0.0]}, {})
    res = order_task(enc, tmp_path, "coco", None)
    assert res == {"coco_order_precision@1": 75.0, "coco_order_n": 4}
    assert seen == expected(0)
    assert enc.image_calls == [["im0.jpg", "im0.jpg", "im1.jpg", "im1.jpg"]]  # each caption's own image
    seen.clear()
    res = order_task(enc, tmp_path, "coco", None, seeds=(0, 1, 2), debiased=True)
    assert seen[:20] == expected(0) and seen[40:60] == expected(1) and seen[60:] == expected(2)
    assert seen[20:40] == [without_punctuation(o) for o in expected(0)]  # seed 0 without punctuation
    assert " , " in expected(0)[1] and "," not in seen[21]  # ARO's tokens are joined with spaces; de-biased: none
    assert res["coco_order_precision@1"] == 75.0 and res["coco_order_precision@1_sd"] == 0.0
    assert res["coco_order_seeds"] == 3 and res["coco_order_nopunct_precision@1"] == 75.0
    # through the benchmark, with its limit: the first test image's two captions (both right)
    vg = {"image_path": "vg.jpg", "bbox_x": 0, "bbox_y": 0, "bbox_w": 4, "bbox_h": 4, "true_caption": "t",
          "false_caption": "f", "relation_name": "on", "attributes": ["red", "blue"]}
    for name in ("relation", "attribution"):
        (tmp_path / "aro" / f"visual_genome_{name}.json").parent.mkdir(exist_ok=True)
        (tmp_path / "aro" / f"visual_genome_{name}.json").write_text(json.dumps([vg, vg]))
    tiny_image(tmp_path / "aro" / "images" / "vg.jpg")
    out = get_benchmark("aro")(Scored({"im0.jpg": [1.0, 0.0], "vg.jpg": [1.0, 0.0]}, {}), tmp_path, limit=1)
    assert (out["coco_order_precision@1"], out["coco_order_n"], out["vg_relation_n"]) == (100.0, 2, 1)
    assert "flickr30k_order_error" in out and "dataset_flickr30k.json" in out["flickr30k_order_error"]
    (tmp_path / "coco" / "val2014" / "im1.jpg").unlink()
    with pytest.raises(BenchmarkDataError, match=r"^aro_coco_order: 1 of 2 files missing .*im1\.jpg.*expected layout: "
                                                 r"DATA_ROOT/karpathy/\.\.\. \(see slipform\.evaluate\.aro_order\)$"):
        order_task(enc, tmp_path, "coco", None)


def test_winoground_finds_its_files_in_either_layout_and_names_what_is_missing(tmp_path):
    root = tmp_path / "winoground"
    rows = [{"id": 0, "image_0": "a.png", "image_1": "b", "caption_0": "c0", "caption_1": "c1"}]  # with or without
    (root / "images").mkdir(parents=True)
    (root / "examples.jsonl").write_text(json.dumps(rows[0]) + "\n")
    tiny_image(root / "images" / "a.png")
    enc = KeyedEncoder({"a.png": [1.0, 0.0], "b.png": [0.0, 1.0]}, {"c0": [0.9, 0.1], "c1": [0.1, 0.9]})
    with pytest.raises(BenchmarkDataError, match=r"^winoground: 1 of 2 files missing \(first: .*images/b\.png\)"):
        get_benchmark("winoground")(enc, tmp_path)
    with pytest.raises(BenchmarkDataError, match=r"expected layout: DATA_ROOT/winoground/examples.jsonl and"):
        get_benchmark("winoground")(enc, tmp_path)
    tiny_image(root / "images" / "b.png")
    assert get_benchmark("winoground")(enc, tmp_path)["group_score"] == 100.0
    (root / "examples.jsonl").write_text(json.dumps(rows[0]) + "\n" + json.dumps({**rows[0], "id": 1}) + "\n")
    assert get_benchmark("winoground")(enc, tmp_path, limit=1)["n"] == 1
    (root / "examples.jsonl").write_text(json.dumps(rows[0]) + "\n{oops\n")
    with pytest.raises(BenchmarkDataError, match=r"^winoground: .*winoground/examples\.jsonl:2: malformed JSON$"):
        get_benchmark("winoground")(enc, tmp_path)
    (root / "examples.jsonl").rename(root / "moved.jsonl")
    with pytest.raises(BenchmarkDataError, match=r"^winoground: examples.jsonl not found; expected DATA_ROOT/wino"):
        get_benchmark("winoground")(enc, tmp_path)
