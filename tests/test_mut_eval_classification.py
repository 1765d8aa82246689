"""Zero-shot, linear probes and retrieval: what the mutation samples of issue 31 found unpinned
(docs/BENCHMARKS.md, "Issue 31, evaluate/ module by module"), each against a figure or a message
worked out here."""

from __future__ import annotations

import pytest

from slipform.evaluate import get_benchmark
from slipform.evaluate.encode import BenchmarkDataError

from eval_helpers import KeyedEncoder


@pytest.mark.parametrize("bench, name, layout", [("zeroshot_cifar10", "cifar10", "cifar-10-batches-py/"),
                                                 ("zeroshot_cifar100", "cifar100", "cifar-10-batches-py/"),
                                                 ("probe_cifar10", "cifar10", "cifar-10-batches-py/")])
def test_missing_cifar_files_are_named_with_the_layout_expected(tmp_path, bench, name, layout):
    with pytest.raises(BenchmarkDataError) as err:
        get_benchmark(bench)(KeyedEncoder({}, {}), tmp_path)
    assert str(err.value) == (f"zero-shot: {name} files not found under {tmp_path / name} "
                              f"(torchvision's CIFAR layout, e.g. {layout})")


# ----------------------------------------------------------------------------- the probe's sweep of C


def test_sweep_c_refines_by_quarter_decades_around_the_coarse_best():
    import math

    from slipform.evaluate.probe import C_GRID, sweep_c

    asked = []

    def score(c):
        asked.append(c)
        return -abs(math.log10(c) - 0.3)  # the optimum at 10 ** 0.3: coarse 1, refined 10 ** 0.25

    best, edge = sweep_c(score)
    assert best == pytest.approx(10 ** 0.25) and edge is False
    assert asked[:13] == list(C_GRID) and len(C_GRID) == 13 and C_GRID[0] == 1e-6 and C_GRID[-1] == 1e6
    assert asked[13:] == pytest.approx([10 ** (q / 4) for q in (-3, -2, -1, 1, 2, 3)])
    # a tie goes to the C nearest the coarse best (in decades), whichever comes first
    assert sweep_c(lambda c: 1.0 if c in (1.0, 10 ** 0.25) or abs(c - 10 ** -0.25) < 1e-12 else 0.0) == (1.0, False)
    # a plateau from 10 ** 0.5 up: the coarse best is its first decade (10), and its refinements that
    # tie (10 ** 0.5 ... 10 ** 1.75) lose to it
    assert sweep_c(lambda c: float(c >= 10 ** 0.5)) == (10.0, False)


def test_sweep_c_warns_at_either_edge_and_refines_only_inside_the_range():
    from slipform.evaluate.probe import sweep_c

    asked = []
    with pytest.warns(UserWarning) as rec:
        best, edge = sweep_c(lambda c: asked.append(c) or -c, "my probe")  # smaller is better: 1e-6
    assert (best, edge) == (1e-6, True) and len(asked) == 13 + 3  # only the three refinements above 1e-6
    assert min(asked) == 1e-6
    assert str(rec[0].message) == ("my probe: the chosen C = 1e-06 is at the edge of the sweep (1e-06 ... 1e+06); "
                                   "the optimum may lie beyond it")
    with pytest.warns(UserWarning, match=r"^probe: the chosen C = 1e\+06 is at the edge"):
        assert sweep_c(lambda c: c) == (1e6, True)


def test_the_validation_split_is_a_fifth_at_least_one_and_seeded():
    import numpy as np

    from slipform.evaluate.probe import _split

    tr, va = _split(10)
    assert len(va) == 2 and len(tr) == 8 and sorted([*tr, *va]) == list(range(10))
    assert [len(v) for _, v in (_split(3), _split(4), _split(5), _split(99))] == [1, 1, 1, 19]
    assert np.array_equal(_split(10)[1], va) and not np.array_equal(_split(10, seed=1)[0], tr)
    assert va.tolist() == np.random.default_rng(0).permutation(10)[:2].tolist()


def test_the_probes_name_what_is_missing(tmp_path):
    cases = [("probe_imagefolder", f"probe: {tmp_path / 'imagefolder'} not found; expected "
                                   "DATA_ROOT/imagefolder/<name>/{train,test}/<class>/"),
             ("probe_voc2007", f"probe_voc2007: {tmp_path / 'voc/VOCdevkit/VOC2007/ImageSets/Main/trainval.txt'} "
                               "not found; expected DATA_ROOT/voc/VOCdevkit/VOC2007/"),
             ("probe_coco2014", f"probe_coco2014: {tmp_path / 'coco/annotations/instances_train2014.json'} not found; "
                                "expected DATA_ROOT/coco/annotations/"),
             ("zeroshot_imagefolder", f"zero-shot: {tmp_path / 'imagefolder'} not found; expected "
                                      "DATA_ROOT/imagefolder/<name>/test/<class>/")]
    for bench, message in cases:
        with pytest.raises(BenchmarkDataError) as err:
            get_benchmark(bench)(KeyedEncoder({}, {}), tmp_path)
        assert str(err.value) == message, bench
    (tmp_path / "imagefolder" / "pets" / "train").mkdir(parents=True)  # no test split
    with pytest.raises(BenchmarkDataError) as err:
        get_benchmark("zeroshot_imagefolder")(KeyedEncoder({}, {}), tmp_path)
    assert str(err.value) == (f"zero-shot: {tmp_path / 'imagefolder/pets/test'} not found; expected "
                              "DATA_ROOT/imagefolder/<name>/test/<class>/")
