"""Slipform: teach CLIP-style models composition with concreteness-guided hard negatives."""

from __future__ import annotations

__version__ = "0.1.0"


def plant(*args, **kwargs):
    """Plant hard negatives in a caption file; see :func:`slipform.plant.plant`."""
    from .plant import plant as _plant

    return _plant(*args, **kwargs)


__all__ = ["__version__", "plant"]
