"""Every negative checked before it is written; a failed check sends the caption to its next target.

Checks run on what a backend proposes, whichever backend wrote it:

- the negative differs from the caption in one place (a word, a two-word expression or a
  multi-word relation; inflection and a/an aside), or -- a proposal whose edit is a ``swap`` --
  in exactly two places that exchanged their words (:func:`slipform.plant.core.edit.is_swap`);
  a backend whose negatives are free swaps (``negclip``) skips this check;
- an object replacement is of the target's kind and not a word a photo of the original may still
  show (:func:`slipform.plant.knowledge.kinds.is_object_change`);
- a *domain verifier* named by ``PlantConfig(verifier=...)``, for inputs with an exact reader:
  ``world`` parses both captions with the Concrete Jungle's parser and rejects a negative that does
  not parse or that describes the same scene ("sits" -> "stands": the world has no posture).

Each check returns the reason it failed, or None; ConcretePlant counts the reasons in the
summary (``rejected``). A domain verifier is a function ``(caption, negative) -> str | None``
named in :data:`VERIFIERS` by its module path, imported on first use, so this module imports none
of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import lru_cache

from ..knowledge.kinds import is_object_change
from .edit import is_single_change, is_swap

VERIFIERS: dict[str, str] = {
    "world": "slipform.world.caption:verify_negative",
}


def verifier_names() -> tuple[str, ...]:
    return tuple(VERIFIERS)


@lru_cache(maxsize=None)
def get_verifier(name: str) -> Callable[[str, str], str | None]:
    """The domain verifier registered as ``name``; a ValueError lists the known ones."""
    if name not in VERIFIERS:
        raise ValueError(f"unknown verifier {name!r}; choose from {', '.join(VERIFIERS)}")
    module, _, attr = VERIFIERS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def check_negative(caption: str, negative: str, role: str, target: str, replacement: str, *,
                   one_change: bool = True, same_kind: bool = True, verifier: str | None = None,
                   edit: str = "replace") -> str | None:
    """Why ``negative`` must not be written for ``caption``, or None when it passes every check.

    ``target`` and ``replacement`` are lemmas (or lower-cased words) of what changed; ``edit`` is
    ``"replace"`` or ``"swap"`` (the two exchanged places)."""
    if negative.strip().lower() == caption.strip().lower():
        return "output equals the caption"
    if one_change and edit == "swap" and not is_swap(caption, negative):
        return "swap that does not exchange two places"
    if one_change and edit != "swap" and not is_single_change(caption, negative):
        return "more than one change"
    if same_kind and role == "O" and edit != "swap":
        reason = is_object_change(target, replacement)
        if reason is not None:
            return reason
    if verifier is not None:
        return get_verifier(verifier)(caption, negative)
    return None
