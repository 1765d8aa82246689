"""The experiment's instruments: control negatives, per-item scores, paired comparisons, layout."""

from __future__ import annotations

import csv
import json
import math
import re

import numpy as np
import pytest

from slipform.experiment.layout import DemoLayout, untag
from slipform.experiment.protocol import scene_of, write_control_negatives
from slipform.experiment.summary import ITEMS, paired_items, paired_over_items
from slipform.world import parse
from slipform.world.caption import listing
from slipform.world.dataset import write_split
from slipform.world.scene import split_scenes


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    write_split(root, "train", 120, captions_per_scene=2)
    write_split(root, "train", 120, captions_per_scene=2, style="list", name="pretrain-list")
    return root


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_list_captions_name_the_things_and_no_relation(split):
    rows = _rows(split / "pretrain-list.csv")
    assert len(rows) == 240 and [r["filepath"] for r in rows] == [r["filepath"] for r in _rows(split / "train.csv")]
    for r in rows:
        scene = scene_of(r["id"])
        low = r["title"].lower()
        assert not any(w in low for w in ("left", "right", "above", "below"))
        for t in scene.things:
            assert f"{t.colour} {t.shape}" in low
    assert listing(split_scenes("train", 1)[0], 0) == listing(split_scenes("train", 1)[0], 0)


@pytest.mark.parametrize("kind", ["relation_swap", "attribute_swap"])
def test_control_negatives_change_only_what_the_test_changes(split, tmp_path, kind):
    out = tmp_path / f"{kind}.jsonl"
    counts = write_control_negatives(split / "train.csv", out, kind)
    recs = [json.loads(line) for line in open(out)]
    assert counts["read"] == 240 and counts["planted"] == len(recs) >= 200
    for r in recs:
        scene = scene_of(r["id"])
        # the same words in another order: no filler or phrasing tells the negative apart
        assert sorted(re.findall(r"[a-z]+", r["negative"].lower())) == sorted(re.findall(r"[a-z]+", r["caption"].lower()))
        assert r["negative"] != r["caption"]
        neg = parse(r["negative"])
        assert not neg.same_as(scene)
        a, b = scene.canonical().things[:2]
        if kind == "relation_swap":  # the two things trade places: the same pair, the other order
            assert neg.same_as(scene.__class__((b, a), scene.canonical().relation))
        else:
            assert {t.colour for t in neg.things} == {a.colour, b.colour}
            assert {t.shape for t in neg.things} == {a.shape, b.shape}


def test_paired_items_detects_a_difference_and_not_a_null():
    rng = np.random.default_rng(0)
    n = 2000
    base = (rng.random(n) < 0.5) * 100.0
    better = base.copy()
    flip = np.flatnonzero(base == 0)[:200]  # 200 of 2000 items turn right: +10 points
    better[flip] = 100.0

    def items(rel):
        return {"world_aro": {"relation_swap": rel, "attribute_swap": rel, "order_precision@1": rel}}

    r = paired_items(items(better), items(base), "ARO relation")
    assert r["diff"] == pytest.approx(10.0) and r["lo"] > 0 and r["n"] == n
    # pairing: the shared item difficulty cancels, so the interval is far tighter than the
    # unpaired sampling interval of two 2,000-item accuracies (about ±3.1 points)
    assert r["hi"] - r["lo"] < 3.5 and 0 < r["mdd"] < 3.5
    null = paired_items(items(rng.permutation(base)), items(base), "ARO relation")
    assert null["lo"] < 0 < null["hi"] or abs(null["diff"]) < null["mdd"]
    assert paired_items(items(base), items(base), "Probe shape") is None


def test_macro_columns_average_subsets_over_their_own_items():
    n = 10
    sub = {s: np.full(n, 50.0) for s in ITEMS["SugarCrepe"][1]}
    sub["swap_obj"] = np.where(np.arange(n) < 5, 100.0, np.nan)  # only half the scenes have one
    other = {s: np.full(n, 50.0) for s in ITEMS["SugarCrepe"][1]}
    other["swap_obj"] = np.where(np.arange(n) < 5, 0.0, np.nan)
    r = paired_items({"world_sugarcrepe": sub}, {"world_sugarcrepe": other}, "SugarCrepe", n_boot=200)
    assert r["diff"] == pytest.approx(100.0 / 7)


def test_paired_over_items_marks_the_positive_control(tmp_path):
    from slipform.experiment.demo import positive_control
    from slipform.experiment.report import write_comparisons

    rng = np.random.default_rng(1)
    base = (rng.random(2000) < 0.5) * 100.0
    good = np.where(rng.random(2000) < 0.3, 100.0, base)

    def items(rel):
        return {"world_aro": {"relation_swap": rel, "attribute_swap": rel, "order_precision@1": rel}}

    comps = paired_over_items({"negclip": items(good), "clip_ft": items(base)})
    assert comps[0]["excludes_zero"]["ARO relation"] and math.isnan(comps[0]["diff"]["Probe shape"][0])
    md = write_comparisons(comps, tmp_path)
    assert "| negclip − clip_ft |" in md and " *" in md and "[" in md
    assert "detects the known effect" in positive_control(comps)
    assert "FAILS" in positive_control(paired_over_items({"negclip": items(base), "clip_ft": items(base)}))
    assert "2000 test scenes" in (tmp_path / "comparisons.md").read_text()
    # a validation run says so: its items come from the val split, not the test scenes
    write_comparisons(comps, tmp_path, split="val")
    assert "2000 validation scenes" in (tmp_path / "comparisons.md").read_text()
    assert "test" not in (tmp_path / "comparisons.md").read_text().split("\n")[2]
    assert "2000 validation scenes" in positive_control(comps, split="val")


def test_layout_is_spelled_once(tmp_path):
    lay = DemoLayout(tmp_path)
    run = lay.run("control_relation", 3)
    (run).mkdir(parents=True)
    (run / "model.pt").write_bytes(b"")
    lay.negatives("relation_swap", 3).parent.mkdir(parents=True)
    lay.negatives("relation_swap", 3).write_text("")
    lay.negatives("relation_swap", 3).with_suffix(".images.jsonl").write_text("")
    assert lay.runs(3) == {"control_relation": run} and lay.runs(13) == {}
    assert lay.negative_files(3) == {"relation_swap": lay.negatives("relation_swap", 3)}
    assert untag("slipform-s12") == ("slipform", 12) and untag("nothing") is None


def test_relation_share_of_a_random_draw_averages_over_captions(tmp_path):
    from slipform.experiment.report import relation_share

    negs = tmp_path / "n.jsonl"
    recs = [{"id": "a", "role": "R"}, {"id": "a", "role": "O"}, {"id": "b", "role": "A"}, {"id": "c", "role": "R"}]
    negs.write_text("".join(json.dumps(r) + "\n" for r in recs))
    (tmp_path / "config.json").write_text(json.dumps({"data": {"negatives": str(negs)}}))
    assert relation_share(tmp_path) == pytest.approx((0.5 + 0 + 1) / 3)
    (tmp_path / "selection.json").write_text(json.dumps({"phases": [{"select_R": 0.2}, {"select_R": 0.4}, {}]}))
    assert relation_share(tmp_path) == pytest.approx(0.3)
