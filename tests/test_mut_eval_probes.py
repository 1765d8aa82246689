"""The multi-label probes' limits, seed and missing-image message: what issue 31's third-round sample of
``evaluate/probe.py`` left unpinned (docs/BENCHMARKS.md, "Issue 31, third round: `evaluate/`")."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import slipform.evaluate.probe as probe
from slipform.evaluate import get_benchmark
from slipform.evaluate.encode import BenchmarkDataError

from eval_helpers import KeyedEncoder, tiny_image


def _voc(tmp_path, n_trainval, n_test):
    base = tmp_path / "voc" / "VOCdevkit" / "VOC2007"
    (base / "Annotations").mkdir(parents=True)
    (base / "ImageSets" / "Main").mkdir(parents=True)
    images, n = {}, 0
    for split, count in (("trainval", n_trainval), ("test", n_test)):
        ids = [f"{n + k:06d}" for k in range(count)]
        n += count
        (base / "ImageSets" / "Main" / f"{split}.txt").write_text("\n".join(ids) + "\n")
        for i in ids:
            (base / "Annotations" / f"{i}.xml").write_text("<annotation><object><name>dog</name></object></annotation>")
            tiny_image(base / "JPEGImages" / f"{i}.jpg")
            images[f"{i}.jpg"] = [float(int(i))]
    return images


def _coco(tmp_path, n_train, n_val, with_images=True):
    images, first = {}, 1
    for split, count in (("train", n_train), ("val", n_val)):
        entries = [{"id": first + k, "file_name": f"COCO_{split}2014_{first + k:012d}.jpg"} for k in range(count)]
        first += count
        data = {"images": entries, "annotations": [{"image_id": e["id"], "category_id": 18} for e in entries],
                "categories": [{"id": 18, "name": "dog"}]}
        (tmp_path / "coco" / "annotations").mkdir(parents=True, exist_ok=True)
        (tmp_path / "coco" / "annotations" / f"instances_{split}2014.json").write_text(json.dumps(data))
        for e in entries:
            if with_images:
                tiny_image(tmp_path / "coco" / f"{split}2014" / e["file_name"])
            images[e["file_name"]] = [float(e["id"])]
    return images


@pytest.mark.parametrize("bench", ["probe_voc2007", "probe_coco2014"])
def test_the_limit_cuts_both_splits_of_the_multi_label_probes(tmp_path, monkeypatch, bench):
    images = _voc(tmp_path, 5, 4) if bench == "probe_voc2007" else _coco(tmp_path, 5, 4)
    seen = []
    monkeypatch.setattr(probe, "fit_multi_label", lambda *arrays: seen.append([len(a) for a in arrays]) or {})
    get_benchmark(bench)(KeyedEncoder(images, {}), tmp_path, limit=3)
    get_benchmark(bench)(KeyedEncoder(images, {}), tmp_path)
    assert seen == [[3, 3, 3, 3], [5, 5, 4, 4]]


def test_coco_images_missing_are_counted_and_the_layout_named(tmp_path):
    _coco(tmp_path, 2, 1, with_images=False)
    with pytest.raises(BenchmarkDataError) as err:
        get_benchmark("probe_coco2014")(KeyedEncoder({}, {}), tmp_path)
    first = tmp_path / "coco" / "train2014" / "COCO_train2014_000000000001.jpg"
    assert str(err.value) == (f"probe_coco2014: 3 of 3 files missing (first: {first}); "
                              "expected layout: DATA_ROOT/coco/{train,val}2014/<file_name>")


def test_the_multi_label_probe_draws_its_validation_split_with_its_seed(monkeypatch):
    seeds = []
    real = probe._split
    monkeypatch.setattr(probe, "_split", lambda n, seed=0: seeds.append(seed) or real(n, seed))
    y = np.array([[int(b) for b in f"{k % 4:02b}"] for k in range(16)])
    x = 2.0 * y - 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = probe.fit_multi_label(x, y, x[:4], y[:4], seed=3)
    assert seeds == [3] and out["mAP"] == pytest.approx(100.0)


def test_a_class_constant_within_the_fitting_part_is_left_out_of_the_sweep():
    # class 1 occurs only in the validation part, class 2 is missing only there: over all of train both
    # vary (kept), but neither can be fit on the fitting part during the sweep
    n = 20
    _, va = probe._split(n, 0)
    y = np.zeros((n, 3), dtype=int)
    y[::2, 0] = 1
    y[va[0], 1] = 1
    y[:, 2] = 1
    y[va[0], 2] = 0
    x = np.stack([2.0 * y[:, 0] - 1.0, y[:, 1], y[:, 2]], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = probe.fit_multi_label(x, y, x, y, seed=0)
    assert out["classes"] == 3 and out["n_train"] == n
