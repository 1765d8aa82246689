"""The contamination check (``evaluate/overlap.py``) by hand: what issue 31's mutation sample left
unpinned (docs/BENCHMARKS.md, "Issue 31, evaluate/ module by module")."""

from __future__ import annotations

import json

from slipform.evaluate import sugarcrepe, valse
from slipform.evaluate.overlap import check_overlap, image_key, training_images


def test_image_keys_by_coco_id_else_by_lower_case_name():
    assert image_key("x/COCO_val2014_000000331352.JPG") == "coco:331352" == image_key("000000331352.jpeg")
    assert image_key("COCO_train2014_000000000009.png") == "coco:9"
    assert image_key("a/b/Dog_12345.JPG") == "dog_12345.jpg"  # 5 digits: not a COCO id
    assert image_key("x000000331352.jpg") == "x000000331352.jpg"  # the id must start the name or follow "_"
    assert image_key("000000331352.gif") == "000000331352.gif"


def test_training_images_from_karpathy_train_and_restval_or_a_caption_file(tmp_path):
    kp = {"images": [{"filename": "COCO_val2014_000000000001.jpg", "split": "train", "sentences": []},
                     {"filename": "COCO_val2014_000000000002.jpg", "split": "restval", "sentences": []},
                     {"filename": "COCO_val2014_000000000003.jpg", "split": "val", "sentences": []},
                     {"filename": "COCO_val2014_000000000004.jpg", "split": "test", "sentences": []},
                     {"filename": "Other.jpg", "sentences": []}]}
    (tmp_path / "k.json").write_text(json.dumps(kp))
    assert training_images(tmp_path / "k.json") == {"coco:1", "coco:2"}
    lines = [{"title": "a dog", "filepath": "imgs/COCO_train2014_000000000007.jpg"},
             {"title": "a cat", "filepath": "imgs/Cat.JPG"}, {"title": "no image"}, "not an object"]
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert training_images(tmp_path / "c.jsonl") == {"coco:7", "cat.jpg"}


def test_check_overlap_counts_each_benchmarks_images_and_skips_one_whose_files_are_missing(tmp_path):
    root = tmp_path / "data"
    (root / "sugarcrepe").mkdir(parents=True)
    ids = [1, 2, 3, 4, 5, 6, 7, 8]  # COCO ids of the benchmark's images; 2..8 are in the training file
    for k, subset in enumerate(sugarcrepe.SUBSETS):
        items = {"0": {"filename": f"{ids[k]:012d}.jpg", "caption": "c", "negative_caption": "n"},
                 "1": {"filename": f"{ids[k + 1]:012d}.jpg", "caption": "c", "negative_caption": "n"}}
        (root / "sugarcrepe" / f"{subset}.json").write_text(json.dumps(items))
    (root / "valse").mkdir()
    for name in valse.INSTRUMENTS[:-1]:  # foil-it is missing: VALSE is left out
        (root / "valse" / f"{name}.json").write_text(json.dumps({"0": {"image_file": "v.jpg", "mturk": {"caption": 3}}}))
    kp = {"images": [{"filename": f"COCO_train2014_{i:012d}.jpg", "split": "train", "sentences": [{"raw": "x"}]}
                     for i in range(2, 9)]}
    (tmp_path / "k.json").write_text(json.dumps(kp))
    res = check_overlap(tmp_path / "k.json", root, ["sugarcrepe", "valse", "winoground"])
    assert res == {"sugarcrepe": {"images": 8, "overlap": 7,
                                  "examples": ["coco:2", "coco:3", "coco:4", "coco:5", "coco:6"]}}
    # only the samples VALSE scores (validated: mturk caption >= 2) count
    foil_it = {"0": {"image_file": "COCO_val2014_000000000003.jpg", "mturk": {"caption": 2}},
               "1": {"image_file": "COCO_val2014_000000000004.jpg", "mturk": {"caption": 1}}}
    (root / "valse" / "foil-it.json").write_text(json.dumps(foil_it))
    res = check_overlap(tmp_path / "k.json", str(root), ["valse"])
    assert res == {"valse": {"images": 2, "overlap": 1, "examples": ["coco:3"]}}
