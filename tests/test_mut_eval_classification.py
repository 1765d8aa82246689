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
