"""Suite scoring that issue 31's third-round mutation samples found unpinned (docs/BENCHMARKS.md,
"Issue 31, third round: `evaluate/`"): each test names the mutants it was seen failing on."""

from __future__ import annotations

import csv
import json

import pytest

from slipform.evaluate import get_benchmark
from slipform.evaluate.encode import BenchmarkDataError

from eval_helpers import KeyedEncoder, tiny_image

# ----------------------------------------------------------------------------- VL-CheckList


def _vl_checklist(tmp_path, files):
    data = tmp_path / "vl_checklist" / "data"
    for rel, records in files.items():
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text(json.dumps(records))
        for path, _ in records:
            tiny_image(tmp_path / "vl_checklist" / "vg" / path)


def test_vl_checklist_families_their_mean_and_the_limit_per_file(tmp_path):
    # one file per family; each file's first record is right, its second wrong
    def two(stem):
        return [[f"{stem}1.jpg", {"POS": [f"{stem} yes"], "NEG": [f"{stem} no"]}],
                [f"{stem}2.jpg", {"POS": [f"{stem} yes"], "NEG": [f"{stem} no"]}]]

    _vl_checklist(tmp_path, {"Object/Location/vg_location/vg_obj_center.json": two("o"),
                             "Attribute/vg/color.json": two("a"), "Relation/vg/spatial.json": two("r")})
    images = {f"{s}{i}.jpg": [1.0, 0.0] if i == 1 else [0.0, 1.0] for s in "oar" for i in (1, 2)}
    texts = {**{f"{s} yes": [1.0, 0.0] for s in "oar"}, **{f"{s} no": [0.0, 1.0] for s in "oar"}}
    out = get_benchmark("vl_checklist")(KeyedEncoder(images, texts), tmp_path)
    assert {k: out[k] for k in ("object", "attribute", "relation", "vl_compo_mean", "axes")} == \
        {"object": 50.0, "attribute": 50.0, "relation": 50.0, "vl_compo_mean": 50.0, "axes": 3}
    # the limit caps each file's records (the first only: all right); a file cut short by it is not "short"
    out = get_benchmark("vl_checklist")(KeyedEncoder(images, texts), tmp_path, limit=1)
    assert (out["Object_Location_center"], out["Attribute_color"], out["Relation_spatial"]) == (100.0, 100.0, 100.0)
    assert out["vl_compo_mean"] == 100.0 and out["short_files"] == 0


def test_vl_checklist_mean_is_over_the_three_families_not_their_axes(tmp_path):
    # object 0 (one axis), attribute 100 (two axes), relation 50: the mean of families is 50, of axes 62.5
    files = {"Object/Size/vg_size/vg_obj_large.json": [["o.jpg", {"POS": ["o yes"], "NEG": ["o no"]}]],
             "Attribute/vg/color.json": [["a.jpg", {"POS": ["a yes"], "NEG": ["a no"]}]],
             "Attribute/vg/size.json": [["a.jpg", {"POS": ["a yes"], "NEG": ["a no"]}]],
             "Relation/vg/spatial.json": [["r1.jpg", {"POS": ["r yes"], "NEG": ["r no"]}],
                                          ["r2.jpg", {"POS": ["r yes"], "NEG": ["r no"]}]]}
    _vl_checklist(tmp_path, files)
    images = {"o.jpg": [0.0, 1.0], "a.jpg": [1.0, 0.0], "r1.jpg": [1.0, 0.0], "r2.jpg": [0.0, 1.0]}
    texts = {**{f"{s} yes": [1.0, 0.0] for s in "oar"}, **{f"{s} no": [0.0, 1.0] for s in "oar"}}
    out = get_benchmark("vl_checklist")(KeyedEncoder(images, texts), tmp_path)
    assert (out["object"], out["attribute"], out["relation"]) == (0.0, 100.0, 50.0)
    assert out["vl_compo_mean"] == pytest.approx(50.0) and out["axes"] == 4


def test_vl_checklist_object_axes_use_their_own_folders():
    # the paths of corpus/v1/Object/*.yaml: Location for center/margin/mid, Size for large/medium/small
    from slipform.evaluate.vl_checklist import AXES

    for kind, folder in [("center", "Location"), ("margin", "Location"), ("mid", "Location"),
                         ("large", "Size"), ("medium", "Size"), ("small", "Size")]:
        axis = AXES[f"Object_{folder}_{kind}"]
        assert sorted(axis) == ["hake", "swig", "vg"]
        low = folder.lower()
        assert axis["vg"] == [f"Object/{folder}/vg_{low}/vg_{w}_{kind}.json" for w in ("obj", "subj")]
        assert axis["swig"] == [f"Object/{folder}/swig_{low}/swig_{r}/swig_{r}_{kind}.json"
                                for r in ("agent", "destination", "item", "tool")]
        assert axis["hake"] == [f"Object/{folder}/hake_{low}/hake_obj_{kind}.json"]


# ----------------------------------------------------------------------------- What'sUp


def test_whatsup_pair_and_set_accuracy_with_a_relation_absent_for_an_object_pair():
    from slipform.evaluate.whatsup import pair_and_set_accuracy

    # mug_*_plate lacks "left_of" (cut by a limit): its left/right pair counts as wrong, not an error
    names = ["mug_right_of_plate.jpeg", "mug_on_plate.jpeg", "mug_under_plate.jpeg",
             "cup_left_of_box.jpeg", "cup_right_of_box.jpeg", "cup_on_box.jpeg", "cup_under_box.jpeg", "x_on_y.jpeg"]
    correct = [True, True, True, True, True, True, False, True]
    pairs, sets = pair_and_set_accuracy(names, correct, "controlled_a")
    # pairs: mug on+under 1, cup left+right 1 -> 2 of 8 / 2; sets: none of 8 / 4
    assert (pairs, sets) == (50.0, 0.0)


# ----------------------------------------------------------------------------- SVO-Probes


def _svo_csv(root, header, rows):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "svo_probes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def test_svo_probes_finds_jpeg_and_png_images(tmp_path):
    root = tmp_path / "svo_probes"
    _svo_csv(root, ["sentence", "subj_neg", "verb_neg", "obj_neg", "pos_image_id", "neg_image_id"],
             [["a dog runs", "True", "False", "False", "1", "2"], ["a cat sits", "False", "False", "1", "3", "4"]])
    for name in ("1.jpeg", "2.png", "3.jpg", "4.jpeg"):
        tiny_image(root / "images" / name)
    enc = KeyedEncoder({"1.jpeg": [1, 0], "2.png": [0, 1], "3.jpg": [0, 1], "4.jpeg": [1, 0]},
                       {"a dog runs": [1, 0], "a cat sits": [1, 0]})
    out = get_benchmark("svo_probes")(enc, tmp_path)
    assert (out["subj_neg"], out["obj_neg"], out["dropped_rows"]) == (100.0, 0.0, 0)


def test_svo_probes_names_the_missing_columns(tmp_path):
    _svo_csv(tmp_path / "svo_probes", ["sentence", "subj_neg", "verb_neg", "pos_image_id", "neg_image_id"],
             [["a dog runs", "True", "False", "1", "2"]])
    with pytest.raises(BenchmarkDataError, match=r"svo_probes\.csv:1: missing columns \['obj_neg'\]$"):
        get_benchmark("svo_probes")(KeyedEncoder({}, {}), tmp_path)


# ----------------------------------------------------------------------------- ColorSwap


def test_colorswap_limit_scores_only_the_first_rows(tmp_path):
    # row 0 all right, row 1 all wrong (each caption prefers the other image): 100 with limit 1, 50 without
    rows = [{"caption_1": f"c{r}1", "caption_2": f"c{r}2", "image_1": f"images/i{r}1.png", "image_2": f"images/i{r}2.png"}
            for r in (0, 1)]
    (tmp_path / "colorswap").mkdir()
    (tmp_path / "colorswap" / "test.json").write_text(json.dumps(rows))
    for r in (0, 1):
        for i in (1, 2):
            tiny_image(tmp_path / "colorswap" / "images" / f"i{r}{i}.png")
    images = {"i01.png": [1, 0], "i02.png": [0, 1], "i11.png": [1, 0], "i12.png": [0, 1]}
    texts = {"c01": [1, 0], "c02": [0, 1], "c11": [0, 1], "c12": [1, 0]}
    out = get_benchmark("colorswap")(KeyedEncoder(images, texts), tmp_path, limit=1)
    assert (out["text_score"], out["image_score"], out["group_score"], out["n"]) == (100.0, 100.0, 100.0, 1)
    out = get_benchmark("colorswap")(KeyedEncoder(images, texts), tmp_path)
    assert (out["text_score"], out["group_score"], out["n"]) == (50.0, 50.0, 2)


# ----------------------------------------------------------------------------- SPEC


def test_spec_means_over_the_subsets_present_in_each_direction(tmp_path):
    # count: i2t 100, t2i 0; existence: i2t 0, t2i 100 -> both means 50, but each subset's own figures kept
    images = {"a.jpg": [1.0, 0.0], "b.jpg": [0.0, 1.0]}
    texts = {"ta": [1.0, 0.0], "tb": [0.0, 1.0]}
    for subset, i2t_label, t2i_label in (("count", 0, 1), ("existence", 1, 0)):
        root = tmp_path / "spec" / subset
        root.mkdir(parents=True)
        (root / "image2text.json").write_text(json.dumps([{"query": "a.jpg", "keys": ["ta", "tb"], "label": i2t_label}]))
        (root / "text2image.json").write_text(json.dumps([{"query": "ta", "keys": ["a.jpg", "b.jpg"],
                                                           "label": t2i_label}]))
        for name in images:
            tiny_image(root / name)
    out = get_benchmark("spec")(KeyedEncoder(images, texts), tmp_path)
    assert (out["count_i2t"], out["count_t2i"], out["existence_i2t"], out["existence_t2i"]) == (100.0, 0.0, 0.0, 100.0)
    assert (out["i2t_mean"], out["t2i_mean"], out["subsets"]) == (50.0, 50.0, 2)


# ----------------------------------------------------------------------------- EqBen


def test_eqben_limit_scores_only_the_first_pairs_of_each_subset(tmp_path):
    # eqbensd: pair 0 right, pair 1 wrong (each caption prefers the other image): group 100 with limit 1, 50 without
    rows = [{"image0": f"p{r}a.png", "image1": f"p{r}b.png", "caption0": f"c{r}a", "caption1": f"c{r}b"} for r in (0, 1)]
    (tmp_path / "eqben").mkdir()
    (tmp_path / "eqben" / "eqbensd.json").write_text(json.dumps(rows))
    for name in ("p0a", "p0b", "p1a", "p1b"):
        tiny_image(tmp_path / "eqben" / "images" / f"{name}.png")
    images = {"p0a.png": [1, 0], "p0b.png": [0, 1], "p1a.png": [1, 0], "p1b.png": [0, 1]}
    texts = {"c0a": [1, 0], "c0b": [0, 1], "c1a": [0, 1], "c1b": [1, 0]}
    out = get_benchmark("eqben")(KeyedEncoder(images, texts), tmp_path, limit=1)
    assert (out["eqbensd_group"], out["eqbensd_n"]) == (100.0, 1) and "eqbenag_error" in out
    out = get_benchmark("eqben")(KeyedEncoder(images, texts), tmp_path)
    assert (out["eqbensd_group"], out["eqbensd_n"]) == (50.0, 2)


# ----------------------------------------------------------------------------- zero-shot


def test_zeroshot_imagefolder_limit_counts_images_per_class(tmp_path):
    from slipform.evaluate.zeroshot import templates

    # per class the first image (sorted) is right and the second wrong: 100 of 2 with limit 1, 50 of 4 without
    images = {"cat_a.png": [1, 0], "cat_b.png": [0, 1], "dog_a.png": [0, 1], "dog_b.png": [1, 0]}
    for name in images:
        tiny_image(tmp_path / "imagefolder" / "pets" / "test" / name.split("_")[0] / name)
    texts = {t(c): v for c, v in (("cat", [1, 0]), ("dog", [0, 1])) for t in templates()}
    out = get_benchmark("zeroshot_imagefolder")(KeyedEncoder(images, texts), tmp_path, limit=1)
    assert (out["pets_top1"], out["pets_n"]) == (100.0, 2)
    out = get_benchmark("zeroshot_imagefolder")(KeyedEncoder(images, texts), tmp_path)
    assert (out["pets_top1"], out["pets_n"]) == (50.0, 4)
