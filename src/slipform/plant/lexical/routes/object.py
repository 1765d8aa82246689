"""Route O: the anchor is replaced by another thing of its kind (the rewriter's own target)."""

from __future__ import annotations

import random

from ...core.anchor import Candidate
from ...knowledge.kinds import base
from ...knowledge.tables import SHARED_CONTRASTS
from ..rewriter import LexicalRewriter, Rewrite
from .common import _FAMILY_OF, RouteEdit, _root, draws


def object_replace(rw: LexicalRewriter, doc, anchor: Candidate, rng: random.Random) -> RouteEdit | None:
    """The anchor replaced by another thing (:class:`LexicalRewriter`), or None. A contrast that many
    words share (a person's, :data:`SHARED_CONTRASTS`) stands only by its draw: else it gives way to
    another edit, and comes back as the last resort. The anchor's own describing words must fit the
    new thing (:func:`keeps_its_modifiers`)."""
    for rewrite in draws(rw, doc, anchor, rng):
        if rng.random() >= SHARED_CONTRASTS.get(rewrite.replacement_key, 1.0):
            return None
        if keeps_its_modifiers(rw, doc, anchor, rewrite):
            return RouteEdit(rewrite, anchor.text, "replace", "O")
    return None


def keeps_its_modifiers(rw: LexicalRewriter, doc, anchor: Candidate, rewrite: Rewrite) -> bool:
    """Whether each adjective before the anchor that names a sort of it (no colour, size or other
    attribute family: "sippy cup", "glazed donuts", "busy street") is one that real captions put
    on the new thing (the shipped adjective slots): "sippy cup" never becomes "sippy tray"."""
    if rw._relations is None:
        return True
    slot = rw._relations.slots.get(f"amod<{base(rewrite.replacement_key)}", {})
    noun = _root(doc, anchor)
    for c in noun.children:
        if c.dep_ == "amod" and c.i < noun.i and c.is_alpha and c.lower_ not in _FAMILY_OF \
                and c.i < anchor.start and not slot.get(c.lower_):
            return False
    return True
