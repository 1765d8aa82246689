"""The compositional suites vl_compo reports, each on its real files (ImageCoDe, SugarCrepe++) or a
fixture in the exact published format, scored with chosen similarities against hand-computed values."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch

from slipform.evaluate import get_benchmark
from slipform.evaluate.encode import BenchmarkDataError

from conftest import FIXTURES
from eval_helpers import KeyedEncoder, onehot, tiny_image

# ----------------------------------------------------------------------------- ImageCoDe (real file)


def test_imagecode_real_valid_file_counts():
    from slipform.evaluate.imagecode import is_static, load_descriptions

    items = load_descriptions(FIXTURES / "imagecode" / "valid_data.json")
    sets = {s for s, _, _ in items}
    assert len(items) == 2302 and len(sets) == 1039  # the published valid split (NOTES.md)
    assert sum(not is_static(s) for s in sets) == 884
    assert sum(not is_static(s) for s, _, _ in items) == 1872 and sum(is_static(s) for s, _, _ in items) == 430
    assert all(0 <= t <= 9 for _, t, _ in items)


def _imagecode_root(tmp_path, n_desc):
    """The real valid file; images for the sets of its first ``n_desc`` descriptions, named
    img<X>.jpg with X out of lexicographic order (video sets name frames by frame number)."""
    from slipform.evaluate.imagecode import load_descriptions

    (tmp_path / "imagecode").mkdir()
    shutil.copy(FIXTURES / "imagecode" / "valid_data.json", tmp_path / "imagecode" / "valid_data.json")
    items = load_descriptions(tmp_path / "imagecode" / "valid_data.json", n_desc)
    numbers = [3, 10, 25, 100, 7, 48, 2, 210, 61, 9]  # sorted: 2 3 7 9 10 25 48 61 100 210
    order = sorted(numbers)
    features, dim = {}, 10 * len({s for s, _, _ in items})
    sets = sorted({s for s, _, _ in items})
    for k, s in enumerate(sets):
        for x in numbers:
            tiny_image(tmp_path / "imagecode" / "image-sets" / s / f"img{x}.jpg")
            features[(s, x)] = onehot(10 * k + order.index(x), dim)
    return items, sets, features, order, dim


def test_imagecode_sorts_each_set_by_the_number_in_its_file_names(tmp_path):
    items, sets, features, order, dim = _imagecode_root(tmp_path, 6)
    # each description's text feature is that of the image at its target position in numeric
    # order, except descriptions 1 and 4, pointed at the neighbouring position: 4 of 6 right
    texts = {}
    for n, (s, target, text) in enumerate(items):
        pos = (target + 1) % 10 if n in (1, 4) else target
        texts[text] = features[(s, order[pos])]
    enc = _PathEncoder(features, texts)  # file names repeat across sets: keyed by folder
    out = get_benchmark("imagecode")(enc, tmp_path, limit=6)
    assert out["n"] == 6 and out["accuracy"] == pytest.approx(400 / 6)
    video = [n for n, (s, _, _) in enumerate(items) if "open-images" not in s]
    right_video = [n for n in video if n not in (1, 4)]
    assert out["n_video"] == len(video)
    assert out["video_accuracy"] == pytest.approx(100 * len(right_video) / len(video))
    static = [n for n in range(6) if n not in video]
    assert static and out["static_accuracy"] == pytest.approx(100 * len([n for n in static if n not in (1, 4)]) / len(static))
    assert out["skipped_sets"] == 0


class _PathEncoder(KeyedEncoder):
    """Image features by (set folder, number) rather than by file name alone."""

    def __init__(self, features, texts):
        super().__init__({}, texts)
        self._by_set = {k: torch.tensor(v) for k, v in features.items()}

    def images(self, paths, boxes=None):
        return torch.stack([self._by_set[(p.parent.name, int(p.stem[3:]))] for p in paths])


def test_imagecode_skips_incomplete_sets_and_names_missing_folders(tmp_path):
    items, sets, features, order, dim = _imagecode_root(tmp_path, 6)
    victim = tmp_path / "imagecode" / "image-sets" / sets[0]
    next(victim.iterdir()).unlink()  # 9 images left
    texts = {t: [1.0] + [0.0] * (dim - 1) for _, _, t in items}
    out = get_benchmark("imagecode")(_PathEncoder(features, texts), tmp_path, limit=6)
    assert out["skipped_sets"] == 1 and out["n"] == sum(s != sets[0] for s, _, _ in items)
    shutil.rmtree(victim)
    with pytest.raises(BenchmarkDataError, match=r"imagecode: 1 of \d+ files missing .*image-sets"):
        get_benchmark("imagecode")(_PathEncoder(features, texts), tmp_path, limit=6)


# ----------------------------------------------------------------------------- SugarCrepe++ (real files)


def test_sugarcrepe_pp_real_files():
    from slipform.evaluate.sugarcrepe_pp import SUBSETS

    counts = {s: len(json.loads((FIXTURES / "sugarcrepe_pp" / f"{s}.json").read_text())) for s in SUBSETS}
    assert counts == {"replace_att": 788, "replace_obj": 1652, "replace_rel": 1406, "swap_att": 666, "swap_obj": 245}
    first = json.loads((FIXTURES / "sugarcrepe_pp" / "swap_obj.json").read_text())[0]
    assert set(first) == {"id", "filename", "caption", "caption2", "negative_caption"}


def test_sugarcrepe_pp_itt_and_tot_by_hand(tmp_path):
    from slipform.evaluate.sugarcrepe_pp import SUBSETS

    shutil.copytree(FIXTURES / "sugarcrepe_pp", tmp_path / "sugarcrepe_pp")
    images, texts = {}, {}
    for s in SUBSETS:
        for n, it in enumerate(json.loads((tmp_path / "sugarcrepe_pp" / f"{s}.json").read_text())[:2]):
            tiny_image(tmp_path / "coco" / "val2017" / it["filename"])
            images[it["filename"]] = [1.0, 0.0, 0.0]
            # item 0: both positives beat the negative for the image (itt right) and the positives
            # are closer to each other than to it (tot right); item 1: P2 loses to N for the image
            # (itt wrong) while tot still holds
            texts.setdefault(it["caption"], [0.9, 0.4, 0.0])
            texts.setdefault(it["caption2"], [0.8, 0.5, 0.0] if n == 0 else [0.1, 0.5, 0.0])
            texts.setdefault(it["negative_caption"], [0.3, 0.0, 0.9])
    out = get_benchmark("sugarcrepe_pp")(KeyedEncoder(images, texts), tmp_path, limit=2)
    for s in SUBSETS:
        assert out[f"{s}_itt"] == pytest.approx(50.0) and out[f"{s}_tot"] == pytest.approx(100.0)
    assert out["itt_mean"] == pytest.approx(50.0)
    assert not any(k.endswith("_note") for k in out)  # the real files have the published sizes
    cut = tmp_path / "sugarcrepe_pp" / "swap_obj.json"
    cut.write_text(json.dumps(json.loads(cut.read_text())[:10]))
    out = get_benchmark("sugarcrepe_pp")(KeyedEncoder(images, texts), tmp_path, limit=2)
    assert "10 rows where the published file has 245" in out["swap_obj_note"]


# ----------------------------------------------------------------------------- What'sUp


def _whatsup(tmp_path):
    root = tmp_path / "whatsup"
    rows, images, texts = [], {}, {}
    wrong = {("mug", "right")}  # the one wrong image
    for obj in ("beer-bottle", "mug"):
        for prep in ("left_of", "right_of", "on", "under"):
            name = f"{obj}_{prep}_armchair.jpeg"
            options = [f"a {obj} {prep.replace('_', ' ')} an armchair"] + [f"{obj} {prep} option {k}" for k in (1, 2, 3)]
            rows.append({"image_path": f"data/controlled_images/{name}", "caption_options": options})
            tiny_image(root / "controlled_images" / name)
            images[name] = [1.0, 0.0]
            right = (obj, prep.split("_")[0]) not in wrong
            texts[options[0]] = [0.9, 0.0] if right else [0.2, 0.0]
            for o in options[1:]:
                texts[o] = [0.5, 0.0]
    root.mkdir(exist_ok=True)
    (root / "controlled_images_dataset.json").write_text(json.dumps(rows))
    # COCO-QA one-object: [image_id, right caption, wrong caption]; the image file is zero-padded
    qa = [[139, "a cup on the left", "a cup on the right"], [285, "a bear on the top", "a bear on the bottom"]]
    (root / "coco_qa_one_obj.json").write_text(json.dumps(qa))
    for image_id, right, wrong_caption in qa:
        tiny_image(root / "val2017" / f"{image_id:012d}.jpg")
        images[f"{image_id:012d}.jpg"] = [1.0, 0.0]
        texts[right], texts[wrong_caption] = [0.7, 0.0], [0.7 if image_id == 285 else 0.1, 0.0]  # 285: a tie
    return images, texts


def test_whatsup_accuracy_pair_and_set_by_hand(tmp_path):
    images, texts = _whatsup(tmp_path)
    out = get_benchmark("whatsup")(KeyedEncoder(images, texts), tmp_path)
    # 8 controlled images, one wrong (mug right_of): 7/8; pairs: beer-bottle 2, mug 1 (on+under) of 4;
    # sets: beer-bottle only, of 2
    assert out["controlled_a"] == pytest.approx(87.5)
    assert out["controlled_a_pair"] == pytest.approx(75.0) and out["controlled_a_set"] == pytest.approx(50.0)
    assert "has 412" in out["controlled_a_note"] and "77ee94ae" in out["controlled_a_note"]  # not the published file: said so
    # a tie goes to option 0, as numpy's argmax does in the original
    assert out["coco_qa_one"] == pytest.approx(100.0)
    assert "not found" in out["controlled_b_error"] and "vg_qa_two_obj.json" in out["vg_qa_two_error"]
    assert out["macro"] == pytest.approx((87.5 + 100.0) / 2) and out["subsets"] == 2


def test_whatsup_without_any_file_names_what_is_missing(tmp_path):
    with pytest.raises(BenchmarkDataError, match="controlled_images_dataset.json not found"):
        get_benchmark("whatsup")(KeyedEncoder({}, {}), tmp_path)


# ----------------------------------------------------------------------------- EqBen


def test_eqben_flattens_the_published_nestings_and_scores_per_subset(tmp_path):
    from slipform.evaluate.eqben import pairs

    root = tmp_path / "eqben"
    ag = {"video1": {"person1": [{"image0": "eqbenag/a0.png", "image1": "eqbenag/a1.png",
                                  "caption0": ["a man holds a cup", "unused"], "caption1": ["a man drinks", "x"]}]},
          "video2": {"person2": [{"image0": "eqbenag/b0.png", "image1": "eqbenag/b1.png",
                                  "caption0": ["woman sits"], "caption1": ["woman stands"]}]}}
    kubric = [{"image0": "kubric/k0.png", "image1": "kubric/k1.png", "caption0": "two cubes", "caption1": "three cubes"}]
    assert [p["caption0"] for p in pairs(ag)] == ["a man holds a cup", "woman sits"]
    root.mkdir()
    (root / "eqbenag.json").write_text(json.dumps(ag))
    (root / "eqbenkubric_cnt.json").write_text(json.dumps(kubric))
    images = {"a0.png": [1, 0], "a1.png": [0, 1], "b0.png": [1, 0], "b1.png": [0.9, 0.1], "k0.png": [1, 0],
              "k1.png": [0, 1]}
    texts = {"a man holds a cup": [1, 0], "a man drinks": [0, 1],    # pair a: all right
             "woman sits": [1, 0], "woman stands": [0.2, 0.8],      # pair b: image right, text wrong
             "two cubes": [0, 1], "three cubes": [1, 0]}            # kubric: all wrong
    for name in images:
        tiny_image(root / "images" / ("kubric" if name.startswith("k") else "eqbenag") / name)
    out = get_benchmark("eqben")(KeyedEncoder(images, texts), tmp_path)
    # pair b: text needs s(c1,i1)=0.26 > s(c0,i1)=0.9: wrong; image: s(c0,i0)=1 > s(c0,i1)=0.9 and
    # s(c1,i1)=0.26 > s(c1,i0)=0.2: right
    assert out["eqbenag_text"] == pytest.approx(50.0) and out["eqbenag_group"] == pytest.approx(50.0)
    assert out["eqbenag_image"] == pytest.approx(100.0)
    assert out["eqbenkubric_cnt_group"] == 0.0 and out["eqbenag_n"] == 2
    assert "eqbensd_error" in out and "vl_compo_group" not in out  # incomplete: no 5-source mean


def test_npy_frames_are_read_as_bgr():
    import tempfile
    from pathlib import Path

    from slipform.evaluate.encode import _open_rgb

    with tempfile.TemporaryDirectory() as d:
        frame = np.zeros((4, 5, 3), dtype=np.uint8)
        frame[..., 0] = 200  # blue, in YouCook2's BGR order
        np.save(Path(d) / "f.npy", frame)
        rgb = np.asarray(_open_rgb(Path(d) / "f.npy"))
    assert rgb.shape == (4, 5, 3) and rgb[0, 0].tolist() == [0, 0, 200]


# ----------------------------------------------------------------------------- MMVP-VLM


def _mmvp(tmp_path, n_pairs=17):
    from slipform.evaluate.mmvp import CATEGORIES

    root = tmp_path / "mmvp_vlm"
    root.mkdir()
    rows, images, texts = [["Question ID", "Type", "Statement"]], {}, {}
    wrong = {0: "image", 1: "text", 15: "image", 16: "tie"}  # pair -> which direction fails
    for p in range(n_pairs):
        category = CATEGORIES[p // 15]
        q1, q2 = 2 * p + 1, 2 * p + 2
        rows += [[q1, category, f"statement {q1}"], [q2, category, f"statement {q2}"]]
        for q in (q1, q2):
            tiny_image(root / "MLLM_VLM Images" / category / f"{q}.jpg")
        # image q1 is statement q1's (odd id), image q2 statement q2's
        images[f"{q1}.jpg"], images[f"{q2}.jpg"] = [1.0, 0.0], [0.0, 1.0]
        t1, t2 = [0.8, 0.1], [0.1, 0.8]
        if wrong.get(p) == "image":  # statement 2 prefers image 1: the official pair fails (text holds)
            t2 = [0.75, 0.7]
        if wrong.get(p) == "tie":  # equal similarity: the script's "prob > 0.5" picks image 2, wrongly
            t1 = [0.5, 0.5]
        if wrong.get(p) == "text":  # image 2 prefers statement 1 although each statement picks right
            t1, t2 = [0.5, 0.45], [0.1, 0.3]
        texts[f"a photo of statement {q1}"], texts[f"a photo of statement {q2}"] = t1, t2
    with open(root / "Questions.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return images, texts


def test_mmvp_pairs_categories_and_scores_by_hand(tmp_path):
    images, texts = _mmvp(tmp_path)
    out = get_benchmark("mmvp_vlm")(KeyedEncoder(images, texts), tmp_path)
    # category 1 = pairs 0..14: pair 0 fails the official (image) test, pair 1 the text test
    assert out["orientation_and_direction_image"] == pytest.approx(100 * 14 / 15)
    assert out["orientation_and_direction_text"] == pytest.approx(100 * 14 / 15)
    assert out["orientation_and_direction_group"] == pytest.approx(100 * 13 / 15)
    # category 2 = pairs 15, 16 (the 16th pair starts a new block, whatever the type column says);
    # pair 16's tie counts against it in the official direction, not in the text direction
    assert out["presence_of_specific_features_image"] == 0.0
    assert out["presence_of_specific_features_text"] == 100.0
    assert out["categories"] == 2 and out["pairs"] == 17
    assert out["group_mean"] == pytest.approx(100 * 13 / 15 / 2)


def test_mmvp_a_malformed_row_names_file_and_line(tmp_path):
    (tmp_path / "mmvp_vlm").mkdir()
    (tmp_path / "mmvp_vlm" / "Questions.csv").write_text("id,type,statement\n1,Texts,a sign\nx,Texts\n")
    with pytest.raises(BenchmarkDataError, match=r"Questions.csv:3"):
        get_benchmark("mmvp_vlm")(KeyedEncoder({}, {}), tmp_path)


# ----------------------------------------------------------------------------- SVO-Probes


def test_svo_key_accuracy_by_hand():
    from slipform.evaluate.svo_probes import key_accuracy

    rows = [("a dog runs", "p1", "n1", 0.9, 0.1),   # p1 beats n1
            ("a dog runs", "p1", "n2", 0.9, 0.95),  # ...but not n2: key (s, p1) wrong, n2 wrong, n1 right
            ("a cat sits", "p2", "n3", 0.5, 0.2)]   # right
    # pos keys: (dog, p1) wrong, (cat, p2) right -> 50; neg keys: n1 right, n2 wrong, n3 right -> 66.7
    assert key_accuracy(rows) == pytest.approx((50 + 200 / 3) / 2)
    assert key_accuracy([("s", "p", "n", 0.5, 0.5)]) == 0.0  # a tie is wrong both ways


def test_svo_probes_per_negative_type(tmp_path):
    root = tmp_path / "svo_probes"
    rows = [  # sentence, pos id, neg id, flags (subj, verb, obj)
        ("A  Dog runs", "1", "2", (True, False, False)), ("a girl eats", "3", "4", (False, True, False)),
        ("a girl eats", "3", "5", (False, True, False)), ("a man rides", "6", "7", (False, False, True)),
        ("a boy swims", "8", "404", (True, False, False))]  # image 404 is missing: dropped
    root.mkdir()
    with open(root / "svo_probes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sentence", "pos_triplet", "neg_triplet", "subj_neg", "verb_neg", "obj_neg", "pos_url", "neg_url",
                    "pos_image_id", "neg_image_id"])
        for s, p, n, flags in rows:
            w.writerow([s, "", "", *map(str, flags), "", "", p, n])
    images = {f"{i}.jpg": v for i, v in {1: [1, 0], 2: [0, 1], 3: [1, 0], 4: [0, 1], 5: [1, 0], 6: [1, 0],
                                         7: [0, 1], 8: [1, 0]}.items()}
    for name in images:
        tiny_image(root / "images" / name)
    texts = {"A  Dog runs": [1, 0], "a girl eats": [1, 0], "a man rides": [0, 1], "a boy swims": [1, 0]}
    out = get_benchmark("svo_probes")(KeyedEncoder(images, texts), tmp_path)
    assert out["subj_neg"] == 100.0 and out["obj_neg"] == 0.0
    # verb, per row: (girl, 3, 4) right; (girl, 3, 5) a tie (both [1, 0]), wrong -> 50
    assert out["verb_neg"] == 50.0 and (out["subj_neg_n"], out["verb_neg_n"], out["obj_neg_n"]) == (1, 2, 1)
    # the notebook's keys: pos key (girl, 3) wrong (it ties with 5), neg 4 right, neg 5 wrong
    assert out["verb_neg_key"] == pytest.approx((0 + 50) / 2)
    assert out["dropped_rows"] == 1 and out["mean"] == pytest.approx((100 + 50 + 0) / 3)
    assert out["all"] == 50.0  # 2 of the 4 rows


# ----------------------------------------------------------------------------- VL-CheckList


def test_vl_checklist_keeps_present_images_scores_first_texts_and_averages_by_source(tmp_path, monkeypatch):
    import slipform.evaluate.vl_checklist as vlc

    data = tmp_path / "vl_checklist" / "data"
    files = {"Attribute/vg/color.json": [["VG_100K/1.jpg", {"POS": ["red car", "x"], "NEG": ["blue car", "y"]}],
                                         ["VG_100K/404.jpg", {"POS": ["gone"], "NEG": ["gone too"]}]],
             "Attribute/vaw/color.json": [["VG_100K/2.jpg", {"POS": ["green leaf"], "NEG": ["tie"]}],
                                          ["VG_100K/3.jpg", {"POS": ["white cup"], "NEG": ["black cup"]}],
                                          ["VG_100K/1.jpg", {"POS": ["red car"], "NEG": ["blue car"]}]]}
    for rel, records in files.items():
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text(json.dumps(records))
    for i in (1, 2, 3):
        tiny_image(tmp_path / "vl_checklist" / "vg" / "VG_100K" / f"{i}.jpg")
    images = {"1.jpg": [1, 0], "2.jpg": [1, 0], "3.jpg": [0, 1]}
    texts = {"red car": [1, 0], "blue car": [0, 1], "green leaf": [1, 0], "tie": [1, 0], "white cup": [1, 0],
             "black cup": [0, 1]}
    monkeypatch.setattr(vlc, "MAX_PER_FILE", 2)  # the vaw file keeps 2 of its 3 records
    out = get_benchmark("vl_checklist")(KeyedEncoder(images, texts), tmp_path)
    # vg: 1 of 1 kept right -> 100; vaw: 2 kept: the tie is wrong, 3.jpg prefers "black cup" -> 0
    assert out["Attribute_color"] == pytest.approx(50.0)
    assert out["attribute"] == pytest.approx(50.0) and "vl_compo_mean" not in out  # no object/relation files
    assert out["axes"] == 1 and out["missing_files"] > 0 and out["missing_first"].endswith(".json")
    assert out["short_files"] == 1  # vg/color.json: its 2nd record's image is missing, vaw's 3 are there


def test_vl_checklist_axes_follow_the_corpus():
    from slipform.evaluate.vl_checklist import AXES

    assert len(AXES) == 13
    assert AXES["Object_Location_center"]["swig"][0] == \
        "Object/Location/swig_location/swig_agent/swig_agent_center.json"
    assert AXES["Object_Size_large"]["hake"] == ["Object/Size/hake_size/hake_obj_large.json"]
    assert set(AXES["Relation_action"]) == {"vg", "swig", "hake"} and list(AXES["Relation_spatial"]) == ["vg"]


# ----------------------------------------------------------------------------- CREPE


def test_crepe_crops_ranks_and_pools_complexities(tmp_path):
    base = tmp_path / "crepe" / "prod_hard_negatives" / "atom"
    base.mkdir(parents=True)
    splits = {4: [("11", "a red car", ["a blue car", "a red bus"], True)],
              5: [("12", "a dog on grass", ["a cat on grass"], True), ("13", "a man", ["a woman"], False),
                  ("14", "a tie", ["another tie"], None)]}  # None: the negative ties with the caption
    images, texts = {}, {}
    for k, rows in splits.items():
        with open(base / f"prod_vg_hard_negs_atom_complexity_{k}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["image_id", "x", "y", "width", "height", "caption", "hard_negs"])
            for image_id, cap, negs, right in rows:
                w.writerow([image_id, 2, 3, 10, 12, cap, repr(negs)])
                tiny_image(tmp_path / "crepe" / "images" / "VG_100K" / f"{image_id}.jpg")
                images[f"{image_id}.jpg"] = [1.0, 0.0]
                texts[cap] = [0.9 if right else 0.5 if right is None else 0.3, 0.0]
                for n in negs:
                    texts[n] = [0.5, 0.0] if right is not True else [0.2, 0.0]
    enc = KeyedEncoder(images, texts)
    out = get_benchmark("crepe")(enc, tmp_path)
    # the tie: torch.argsort (as CREPE's get_one2many_rank) puts the caption, index 0, first
    assert out["atom_c4"] == 100.0 and out["atom_c5"] == pytest.approx(200 / 3)
    assert out["atom"] == pytest.approx(75.0) and out["atom_n"] == 4  # pooled: 3 of 4
    assert out["atom_complexity_mean"] == pytest.approx((100 + 200 / 3) / 2)
    assert enc.boxes[0] == (2.0, 3.0, 12.0, 15.0)  # x, y, x + width, y + height
    assert out["mean"] == out["atom"]  # swap and negate absent


# ----------------------------------------------------------------------------- SPEC, ColorSwap


def test_spec_both_directions_by_hand(tmp_path):
    root = tmp_path / "spec" / "count"
    root.mkdir(parents=True)
    (root / "image2text.json").write_text(json.dumps([
        {"query": "images/q0.jpg", "keys": ["one cat", "two cats", "three cats"], "label": 1},
        {"query": "images/q1.jpg", "keys": ["one cat", "two cats", "three cats"], "label": 2}]))
    (root / "text2image.json").write_text(json.dumps([
        {"query": "two cats", "keys": ["images/q0.jpg", "images/q1.jpg"], "label": 0}]))
    for q in ("q0", "q1"):
        tiny_image(root / "images" / f"{q}.jpg")
    images = {"q0.jpg": [0, 1, 0], "q1.jpg": [0, 0.9, 0.1]}
    texts = {"one cat": [1, 0, 0], "two cats": [0, 1, 0], "three cats": [0, 0, 1]}
    out = get_benchmark("spec")(KeyedEncoder(images, texts), tmp_path)
    assert out["count_i2t"] == 50.0 and out["count_t2i"] == 100.0
    assert out["subsets"] == 1 and "existence_error" in out and out["i2t_mean"] == 50.0


def test_colorswap_scores(tmp_path):
    root = tmp_path / "colorswap"
    rows = [{"id": 0, "caption_1": "a yellow umbrella and a white dress", "caption_2": "a white umbrella and a yellow dress",
             "image_1": "images/img_0_1.png", "image_2": "images/img_0_2.png"},
            {"id": 1, "caption_1": "a red cup on a blue box", "caption_2": "a blue cup on a red box",
             "image_1": "images/img_1_1.png", "image_2": "images/img_1_2.png"}]
    root.mkdir()
    (root / "test.json").write_text(json.dumps(rows))
    for r in rows:
        tiny_image(root / r["image_1"])
        tiny_image(root / r["image_2"])
    images = {"img_0_1.png": [1, 0], "img_0_2.png": [0, 1], "img_1_1.png": [1, 0], "img_1_2.png": [0.9, 0.1]}
    texts = {rows[0]["caption_1"]: [1, 0], rows[0]["caption_2"]: [0, 1],
             rows[1]["caption_1"]: [1, 0], rows[1]["caption_2"]: [0.8, 0.2]}
    out = get_benchmark("colorswap")(KeyedEncoder(images, texts), tmp_path)
    # pair 1: s(c1,i1)=1 > s(c2,i1)=.8, s(c2,i2)=.74 > s(c1,i2)=.9? no -> text wrong;
    # image: s(c1,i1)=1 > s(c1,i2)=.9, s(c2,i2)=.74 > s(c2,i1)=.8? no -> wrong
    note = out.pop("note")
    assert out == pytest.approx({"text_score": 50.0, "image_score": 50.0, "group_score": 50.0, "n": 2})
    assert "2 rows where the published file has 300" in note


# ----------------------------------------------------------------------------- every new suite, real model


def test_every_suite_names_its_missing_files(tmp_path):
    from slipform.evaluate import VL_COMPO_SUITES

    for name in [*VL_COMPO_SUITES, "spec", "sugarcrepe_pp"]:
        with pytest.raises(BenchmarkDataError) as info:
            get_benchmark(name)(KeyedEncoder({}, {}), tmp_path)
        message = str(info.value)
        assert message.startswith(name.split("_")[0]) and "expected" in message, message


@pytest.fixture(scope="module")
def tiny():
    from slipform.models import ModelSpec, load_model, tiny_open_clip_config

    torch.manual_seed(0)
    return load_model(ModelSpec("open_clip", "tiny", None, tiny_open_clip_config()))


def test_new_suites_run_with_a_real_model_and_encoder(tiny, tmp_path):
    """The real Encoder path (decoding, crop boxes, the cache) over the fixtures above."""
    from slipform.evaluate.encode import Encoder

    _whatsup(tmp_path)
    _mmvp(tmp_path)
    _imagecode_root(tmp_path, 4)
    shutil.copytree(FIXTURES / "sugarcrepe_pp", tmp_path / "sugarcrepe_pp")
    from slipform.evaluate.sugarcrepe_pp import SUBSETS

    for s in SUBSETS:
        for it in json.loads((tmp_path / "sugarcrepe_pp" / f"{s}.json").read_text())[:4]:
            tiny_image(tmp_path / "coco" / "val2017" / it["filename"])
    enc = Encoder(tiny, cache_dir=tmp_path / "cache", workers=0)
    res = {n: get_benchmark(n)(enc, tmp_path, limit=4) for n in ("whatsup", "mmvp_vlm", "imagecode", "sugarcrepe_pp")}
    assert res["imagecode"]["n"] == 4 and 0 <= res["imagecode"]["accuracy"] <= 100
    assert res["mmvp_vlm"]["pairs"] == 4 and 0 <= res["mmvp_vlm"]["group_mean"] <= 100
    assert res["whatsup"]["controlled_a_n"] == 4 and 0 <= res["whatsup"]["macro"] <= 100
    assert 0 <= res["sugarcrepe_pp"]["itt_mean"] <= 100
    assert enc.encoded_images > 0
