"""ConcretePlant: concreteness-guided hard-negative captions.

    >>> from slipform.plant import plant, PlantConfig
    >>> summary = plant("captions.txt", "negatives.jsonl", PlantConfig(k=3, strategy="concrete"))
"""

from __future__ import annotations

import sys
import types

from ..text.io import Caption, Columns, read_captions
from .core.anchor import ROLES, STRATEGIES, Candidate, candidates, route, select_targets
from .core.backend import Backend, Job, Proposal, backend_names, get_backend, register
from .core.planter import ConcretePlant, LLMConfig, PlantConfig, screen
from .engine.runner import Summary, plant_file
from .output.export import export_negclip


def plant(input, output, config: PlantConfig = PlantConfig(), **options) -> Summary:
    """Plant negatives for the captions in ``input`` and write them to ``output`` (JSONL).

    ``options`` are those of :func:`slipform.plant.engine.runner.plant_file`: ``fmt``, ``columns``,
    ``workers``, ``num_shards``, ``shard_id``, ``chunk_size``, ``progress``, ``engine``
    (``"local"`` or ``"ray"``) and ``ray_address``.
    """
    return plant_file(input, output, config, **options)


__all__ = ["ROLES", "STRATEGIES", "Backend", "Candidate", "Caption", "Columns", "ConcretePlant", "Job", "LLMConfig",
           "Proposal", "backend_names", "get_backend", "register",
           "PlantConfig", "Summary", "candidates", "export_negclip", "plant", "plant_file", "read_captions",
           "route", "screen", "select_targets"]


class _CallablePackage(types.ModuleType):
    """Lets ``slipform.plant(...)`` be the API call while ``slipform.plant.X`` stays the package."""

    def __call__(self, input, output, config: PlantConfig = PlantConfig(), **options) -> Summary:
        return plant(input, output, config, **options)


sys.modules[__name__].__class__ = _CallablePackage
