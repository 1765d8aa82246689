"""Route O: the anchor is replaced by another thing of its kind (the rewriter's own target)."""

from __future__ import annotations

import random

from ...core.anchor import Candidate
from ...knowledge.tables import SHARED_CONTRASTS
from ..rewriter import LexicalRewriter
from .common import RouteEdit


def object_replace(rw: LexicalRewriter, doc, anchor: Candidate, rng: random.Random) -> RouteEdit | None:
    """The anchor replaced by another thing (:class:`LexicalRewriter`), or None. A contrast that many
    words share (a person's, :data:`SHARED_CONTRASTS`) stands only by its draw: else it gives way to
    another edit, and comes back as the last resort."""
    rewrite = rw.rewrite(doc, anchor, rng)
    if rewrite is None or rng.random() >= SHARED_CONTRASTS.get(rewrite.replacement_key, 1.0):
        return None
    return RouteEdit(rewrite, anchor.text, "replace", "O")
