"""Evaluation: one module per benchmark behind a registry, each with a uniform ``evaluate``.

    >>> from slipform.evaluate import list_benchmarks, run
    >>> results = run(model, ["sugarcrepe", "winoground"], data_root="data/")

A benchmark is a function ``evaluate(encoder, data_root, limit=None) -> dict`` of flat metric
names to numbers, registered with :func:`register`. It never sees command-line options. The
:class:`~slipform.evaluate.encode.Encoder` it receives encodes each image once per model,
caching features on disk, and batches texts. Adding a benchmark is adding one module here
(and importing it in ``_MODULES``). Each belongs to one family (:data:`FAMILIES`):
``--benchmarks compositional`` selects a family, ``vl_compo`` the 12 suites of vl_compo's
tables (:data:`VL_COMPO_SUITES`), ``all`` everything (:func:`select_benchmarks`).

A benchmark may also return the per-item scores behind its metrics under ``"_items"``
(``{metric: array over test items}``, as the world's benchmarks do); :func:`run` moves them
into the ``items`` dict when the caller passes one (for paired comparisons of two models over
the same items) and drops them otherwise, so results stay flat metrics.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from .encode import BenchmarkDataError, Encoder


class Benchmark(Protocol):
    def __call__(self, encoder: Encoder, data_root: Path, limit: int | None = None) -> dict: ...


FAMILIES = ("compositional", "retrieval", "classification", "world")
# the 12 suites of vl_compo's tables (github.com/ytaek-oh/vl_compo), in its column order
VL_COMPO_SUITES = ("aro", "colorswap", "crepe", "eqben", "imagecode", "mmvp_vlm", "sugarcrepe", "svo_probes", "valse",
                   "vl_checklist", "whatsup", "winoground")

_REGISTRY: dict[str, Callable] = {}
_INFO: dict[str, tuple[str, str, str]] = {}  # name -> (description, layout under --data-root, family)
_MODULES = ("sugarcrepe", "sugarcrepe_pp", "valse", "winoground", "aro", "imagecode", "whatsup", "eqben", "mmvp",
            "svo_probes", "vl_checklist", "crepe", "spec", "colorswap", "retrieval", "zeroshot", "probe", "world")


def register(name: str, description: str = "", layout: str = "", family: str = "compositional"):
    """Decorator: ``@register("sugarcrepe", "one line", "files under DATA_ROOT", "compositional")``
    over a module's ``evaluate``; ``slipform eval --list`` shows them by family."""
    if family not in FAMILIES:
        raise ValueError(f"benchmark {name!r}: family {family!r} is not one of {FAMILIES}")

    def wrap(fn):
        if name in _REGISTRY:
            raise ValueError(f"benchmark {name!r} registered twice")
        _REGISTRY[name] = fn
        _INFO[name] = (description, layout, family)
        return fn
    return wrap


def describe_benchmarks() -> list[tuple[str, str, str]]:
    """``(name, description, layout under --data-root)`` of every registered benchmark."""
    _load_all()
    return [(name, *_INFO[name][:2]) for name in sorted(_REGISTRY)]


def benchmark_families() -> dict[str, list[str]]:
    """``{family: [benchmark, ...]}`` in :data:`FAMILIES` order, names sorted within a family."""
    _load_all()
    return {f: sorted(n for n in _REGISTRY if _INFO[n][2] == f) for f in FAMILIES}


def select_benchmarks(spec: str) -> list[str]:
    """Benchmark names from a comma-separated spec of names, families, ``vl_compo`` and ``all``
    (order kept, duplicates dropped). Raises KeyError naming what is unknown."""
    families, chosen, unknown = benchmark_families(), [], []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        names = (list_benchmarks() if part == "all" else list(VL_COMPO_SUITES) if part == "vl_compo"
                 else families.get(part) or ([part] if part in _REGISTRY else None))
        if names is None:
            unknown.append(part)
            continue
        chosen.extend(n for n in names if n not in chosen)
    if unknown:
        raise KeyError(f"unknown benchmark(s) {unknown}; available: {', '.join(list_benchmarks())}, or a family "
                       f"({', '.join(FAMILIES)}), vl_compo, all")
    return chosen


def _load_all() -> None:
    for module in _MODULES:
        importlib.import_module(f".{module}", __name__)


def list_benchmarks() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def get_benchmark(name: str) -> Benchmark:
    _load_all()
    if name not in _REGISTRY:
        raise KeyError(f"unknown benchmark {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def run(model, benchmarks: list[str], data_root: str | Path, limit: int | None = None,
        cache_dir: str | Path | None = None, device: str = "cpu", workers: int = 2, batch_size: int = 64,
        progress: bool = False, items: dict | None = None) -> dict:
    """Evaluate ``model`` (a :class:`~slipform.models.ClipModel`) on each benchmark.

    Returns ``{benchmark: metrics}``; a benchmark whose files are missing gets
    ``{"error": message}`` and the others still run. With ``items`` (a dict), per-item scores of
    the benchmarks that give them are stored there as ``{benchmark: {metric: array}}``.
    """
    encoder = Encoder(model, cache_dir=cache_dir, device=device, workers=workers, batch_size=batch_size,
                      progress=progress)
    results = {}
    for name in benchmarks:
        fn = get_benchmark(name)
        try:
            results[name] = fn(encoder, Path(data_root), limit=limit)
            if limit:  # a limited run never compares with a published figure (vl_compo.gaps)
                results[name]["limit"] = limit
            per_item = results[name].pop("_items", None)
            if items is not None and per_item is not None:
                items[name] = per_item
        except BenchmarkDataError as exc:
            results[name] = {"error": str(exc)}
    encoder.save()
    return results


__all__ = ["FAMILIES", "VL_COMPO_SUITES", "Benchmark", "BenchmarkDataError", "Encoder", "benchmark_families",
           "describe_benchmarks", "get_benchmark", "list_benchmarks", "register", "run", "select_benchmarks"]
