"""The loss registry: every method by name, as :mod:`slipform.evaluate` registers benchmarks.

    >>> from slipform.losses import build_loss, list_losses
    >>> loss = build_loss(LossConfig("fsc_clip", options={"focal_gamma": 1.0}))

A method is one module of this package holding :class:`~slipform.losses.base.Loss` subclasses
and a ``LOSSES`` tuple naming them; adding one is adding the module to :data:`MODULES`. The
modules never import this registry: it finds them by name, so there is no cycle. A loss from
outside the package is added with :func:`register`.
"""

from __future__ import annotations

import importlib

MODULES = ("contrastive", "tripletclip", "siglip", "ce_clip", "fsc_clip", "degla")
_REGISTRY: dict[str, type] = {}
_loaded = False


def register(cls: type) -> type:
    """Make a loss class (a :class:`~slipform.losses.base.Loss` subclass with a ``name``)
    available as ``LossConfig(kind=cls.name)``; usable as a class decorator."""
    name = getattr(cls, "name", "")
    if not name:
        raise ValueError(f"{cls.__name__} has no name")
    if _REGISTRY.get(name, cls) is not cls:
        raise ValueError(f"loss {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in MODULES:
        for cls in importlib.import_module(f"{__package__}.{module}").LOSSES:
            register(cls)


def list_losses() -> list[str]:
    """Registered names, in :data:`MODULES` order (the order of ``--list-losses``)."""
    _load_all()
    return list(_REGISTRY)


def get_loss(name: str) -> type:
    _load_all()
    if name not in _REGISTRY:
        raise ValueError(f"unknown loss {name!r}; choose from {tuple(_REGISTRY)}")
    return _REGISTRY[name]


def build_loss(config):
    """The loss module of a :class:`~slipform.losses.base.LossConfig`."""
    return get_loss(config.kind)(config)


def describe_losses() -> list[dict]:
    """One row per method: ``name``, ``paper``, ``negatives``, ``summary`` and ``defaults`` (a dict)."""
    return [{"name": n, "paper": c.paper, "negatives": c.negatives, "summary": c.summary, "defaults": c.defaults()}
            for n, c in ((n, get_loss(n)) for n in list_losses())]


def format_defaults(defaults: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in defaults.items()) or "-"


def methods_table() -> str:
    """The README's Methods table (Markdown), generated from the registry."""
    rows = ["| name | paper | negatives | defaults |", "|---|---|---|---|"]
    rows += [f"| `{d['name']}` | {d['paper']} | {d['negatives']} | {format_defaults(d['defaults'])} |"
             for d in describe_losses()]
    return "\n".join(rows)


__all__ = ["MODULES", "build_loss", "describe_losses", "format_defaults", "get_loss", "list_losses",
           "methods_table", "register"]
