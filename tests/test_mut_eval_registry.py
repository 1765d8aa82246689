"""The benchmark registry and ``run`` (``slipform/evaluate/__init__.py``): what issue 31's mutation
sample left unpinned (docs/BENCHMARKS.md, "Issue 31, evaluate/ module by module")."""

from __future__ import annotations

import numpy as np
import pytest

import slipform.evaluate as ev
from slipform.evaluate import (
    BenchmarkDataError,
    benchmark_families,
    describe_benchmarks,
    register,
    run,
    select_benchmarks,
)
from test_eval_edges_more import _colour, _PixelModel


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry, so the benchmarks a test registers vanish after it."""
    ev._load_all()
    monkeypatch.setattr(ev, "_REGISTRY", dict(ev._REGISTRY))
    monkeypatch.setattr(ev, "_INFO", dict(ev._INFO))
    return ev._REGISTRY


def test_register_records_the_description_layout_and_family_and_refuses_twice(registry):
    def bench(encoder, data_root, limit=None):
        return {}

    assert register("zz_new", "one line", "zz/<file>", family="retrieval")(bench) is bench
    assert registry["zz_new"] is bench and ev._INFO["zz_new"] == ("one line", "zz/<file>", "retrieval")
    assert ("zz_new", "one line", "zz/<file>") in describe_benchmarks()
    assert benchmark_families()["retrieval"] == ["retrieval_coco", "retrieval_flickr30k", "zz_new"]
    register("zz_plain")(bench)
    assert ev._INFO["zz_plain"] == ("", "", "compositional") and "zz_plain" in benchmark_families()["compositional"]
    with pytest.raises(ValueError) as err:
        register("zz_new")(bench)
    assert str(err.value) == "benchmark 'zz_new' registered twice"
    with pytest.raises(ValueError) as err:
        register("zz_other", family="speed")
    assert str(err.value) == ("benchmark 'zz_other': family 'speed' is not one of "
                              "('compositional', 'retrieval', 'classification', 'world')")


def test_select_benchmarks_skips_empty_parts_and_names_every_unknown_one():
    assert select_benchmarks(" winoground , ,colorswap,") == ["winoground", "colorswap"]
    assert select_benchmarks("all") == ev.list_benchmarks()
    assert select_benchmarks("classification")[:2] == ["probe_cifar10", "probe_cifar100"]
    with pytest.raises(KeyError) as err:
        select_benchmarks("nope,winoground,gone")
    msg = err.value.args[0]
    assert msg.startswith("unknown benchmark(s) ['nope', 'gone']; available: aro, ")
    assert msg.endswith(", or a family (compositional, retrieval, classification, world), vl_compo, all")
    with pytest.raises(KeyError) as err:
        ev.get_benchmark("nope")
    assert err.value.args[0].startswith("unknown benchmark 'nope'; available: aro, colorswap, ")


def test_run_keeps_going_past_missing_files_notes_the_limit_and_moves_per_item_scores(registry, tmp_path):
    a = _colour(tmp_path / "a.png", (10, 0, 0))
    seen = []

    def scored(encoder, data_root, limit=None):
        seen.append((data_root, limit))
        return {"acc": float(encoder.images([a])[0, 0]), "_items": {"acc": np.array([1.0, 0.0])}}

    def missing(encoder, data_root, limit=None):
        raise BenchmarkDataError("zz_missing: 1 of 1 files missing")

    registry.update({"zz_scored": scored, "zz_missing": missing})
    items: dict = {}
    out = run(_PixelModel(), ["zz_missing", "zz_scored"], str(tmp_path), cache_dir=tmp_path / "c", workers=0,
              items=items)
    assert out == {"zz_missing": {"error": "zz_missing: 1 of 1 files missing"}, "zz_scored": {"acc": 10.0}}
    assert items["zz_scored"]["acc"].tolist() == [1.0, 0.0] and "zz_missing" not in items
    assert seen == [(tmp_path, None)]
    assert (tmp_path / "c" / "features-pixel-model.pt").exists()  # the encoder's cache is saved at the end
    limited = run(_PixelModel(), ["zz_scored"], tmp_path, limit=3, workers=0)  # no items dict: dropped
    assert limited == {"zz_scored": {"acc": 10.0, "limit": 3}} and seen[-1] == (tmp_path, 3)
