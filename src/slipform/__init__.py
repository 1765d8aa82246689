"""Slipform: teach CLIP-style models composition with concreteness-guided hard negatives.

``slipform.plant(input, output, config)`` plants hard negatives in a caption file; the
sub-package of the same name holds the pieces (``slipform.plant.PlantConfig``, ...).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"
_LAZY = ("plant", "lexicon")


def __getattr__(name: str):
    # heavy modules load on first use, never on `import slipform`
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'slipform' has no attribute {name!r}")


__all__ = ["__version__", "plant"]
