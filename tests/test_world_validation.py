"""The validation split where Slipform's defaults are chosen, and the registered selection rule."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
import torch

from slipform.evaluate import get_benchmark
from slipform.experiment.summary import COLUMNS, headline
from slipform.experiment.validation import (
    COMPOSITIONAL,
    RETRIEVAL,
    aro_items,
    evaluate_validation,
    retrieval,
    select_variant,
    selection_markdown,
)
from slipform.world.scene import SPLIT_OFFSETS, WorldConfig, split_scenes


class HashEncoder:
    """Deterministic unit features from a hash of each path or text: scores far from 0 and 100, so
    that a swapped positive, a wrong split or another negative changes them."""

    def _feature(self, key: str) -> torch.Tensor:
        seed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "little")
        v = torch.randn(16, generator=torch.Generator().manual_seed(seed))
        return v / v.norm()

    def images(self, paths):
        return torch.stack([self._feature(str(p)) for p in paths])

    def texts(self, texts):
        return torch.stack([self._feature(t) for t in texts])


def test_validation_splits_are_new_scenes_and_keep_the_held_out_pairs():
    held = set(WorldConfig().held_out)
    offsets = sorted(SPLIT_OFFSETS.values())
    assert len(set(offsets)) == len(offsets)
    val = split_scenes("val", 50)
    test = split_scenes("test", 50)
    assert not {s.seed for s in val} & {s.seed for s in test}
    assert {s.things for s in val} != {s.things for s in test}
    assert all((t.colour, t.shape) not in held for s in val for t in s.things)
    comp = split_scenes("val_compositional", 50)
    assert all((s.things[0].colour, s.things[0].shape) in held for s in comp)
    assert {s.seed for s in comp}.isdisjoint(s.seed for s in split_scenes("compositional", 50))


def test_validation_columns_equal_the_registered_benchmarks_on_the_test_split(tmp_path):
    enc, n = HashEncoder(), 24
    aro = get_benchmark("world_aro")(enc, tmp_path, limit=n)
    mine = aro_items(enc, tmp_path, "test", n)
    for metric, values in mine.items():
        np.testing.assert_array_equal(values, aro["_items"][metric])
    ret = get_benchmark("world_retrieval")(enc, tmp_path, limit=n)
    assert {k: v for k, v in retrieval(enc, tmp_path, "test", n).items() if k != "_items"} == \
        {k: v for k, v in ret.items() if k != "_items"}
    got = evaluate_validation(enc, tmp_path, n, splits={"world": "test", "world_compositional": "compositional"})
    want = {b: get_benchmark(b)(enc, tmp_path, limit=n)
            for b in ("world_retrieval", "world_aro", "world_sugarcrepe", "world_sugarcrepe_comp")}
    for column, value in headline(got).items():
        if column.startswith("Probe"):
            assert math.isnan(value)
        else:
            assert value == pytest.approx(headline(want)[column]), column
    assert 10 < headline(got)["ARO relation"] < 90  # the hash features give a score the test can see move


def test_validation_reads_other_scenes_than_the_test(tmp_path):
    enc, n = HashEncoder(), 24
    val = headline(evaluate_validation(enc, tmp_path, n))
    test = headline({b: get_benchmark(b)(enc, tmp_path, limit=n)
                     for b in ("world_retrieval", "world_aro", "world_sugarcrepe", "world_sugarcrepe_comp")})
    assert (tmp_path / "world" / "images" / "val").is_dir()
    assert (tmp_path / "world" / "images" / "val_compositional").is_dir()
    assert val["ARO relation"] != test["ARO relation"] or val["SugarCrepe"] != test["SugarCrepe"]


def _row(comp: float, retrieval: float) -> dict:
    row = {name: (math.nan, math.nan) for name, _, _ in COLUMNS}
    row.update({c: (comp, math.nan) for c in COMPOSITIONAL})
    row[RETRIEVAL] = (retrieval, math.nan)
    return row


def test_the_rule_takes_the_best_compositional_mean_within_a_point_of_clip_ft():
    variants = ("a", "b", "c")
    table = {"clip_ft": _row(50, 70.0), "a": _row(55, 69.5), "b": _row(60, 68.9), "c": _row(58, 69.0)}
    sel = select_variant(table, variants)
    assert sel["selected"] == "c"  # b scores best but is 1.1 points below CLIP-FT's retrieval
    assert [r["eligible"] for r in sel["rows"]] == [True, False, True]
    assert sel["retrieval_floor"] == pytest.approx(69.0)
    # the mean is over the compositional columns: one column alone can decide it
    table["a"] = {**table["a"], "ARO order": (100.0, math.nan)}
    assert select_variant(table, variants)["selected"] == "a"
    assert "**selected**" in selection_markdown(select_variant(table, variants))


def test_the_rule_breaks_ties_by_the_registered_order_and_refuses_incomplete_runs():
    table = {"clip_ft": _row(50, 70.0), "a": _row(58.0, 70), "b": _row(58.04, 70)}
    assert select_variant(table, ("a", "b"))["selected"] == "a"
    assert select_variant(table, ("b", "a"))["selected"] == "b"
    table["b"] = _row(58.2, 70)
    assert select_variant(table, ("a", "b"))["selected"] == "b"
    missing = select_variant(table, ("a", "b", "z"))
    assert missing["selected"] is None and "z" in missing["reason"]
    low = select_variant({"clip_ft": _row(50, 80.0), "a": _row(60, 70.0)}, ("a",))
    assert low["selected"] is None and "retrieval" in low["reason"]
    assert "Nothing selected" in selection_markdown(low)
