"""The routes around a concrete anchor (``PlantConfig(route="anchor")``): what changes about the thing
concreteness chose.

- **O**: the anchor is replaced by another thing of its kind (:class:`LexicalRewriter`, as a target);
- **A**: the anchor's attribute. First an exchange with another thing's attribute of the same
  family ("a red car next to a white truck" -> "a white car next to a red truck"), else its own
  attribute changes within the family ("a red car" -> "a blue car"; "two dogs" -> "three dogs");
- **R**: the anchor's relation. First an exchange of the anchor with the other argument of its
  relation where the exchange says something else and a photo could show it ("a cat to the left of
  a dog" -> "a dog to the left of a cat"; "a dog chasing a cat" -> "a cat chasing a dog"; never "a
  sofa sitting on a cat"), else its preposition or verb takes a contrasting one ("a cat on a mat"
  -> "a cat under a mat").

An exchange keeps the caption's words and moves them (:func:`slipform.plant.core.edit.is_swap`):
a bag-of-words reader cannot tell it from the caption, which is what these negatives teach.
Each exchange is refused where it would read badly or be implausible; the route then tries its
replacement, and ConcretePlant the anchor's next route.

The modules: :mod:`.object` (O), :mod:`.attribute` (A), :mod:`.relation` (R's contrasts),
:mod:`.exchange` (R's argument exchange), :mod:`.common` (what they share); this one dispatches.
"""

from __future__ import annotations

import random

from ...core.anchor import Routed
from ...knowledge.tables import SHARED_CONTRASTS
from ..rewriter import LexicalRewriter
from .attribute import _same, attribute_swap, own_attributes
from .common import RouteEdit, _keeps_class, draws
from .exchange import argument_swap
from .object import object_replace
from .relation import LAST_RESORT_DRAW, _fair_contrast, _sane, relation_words

__all__ = ["RouteEdit", "argument_swap", "attribute_swap", "object_replace", "own_attributes", "relation_words",
           "route_edit"]


def route_edit(rw: LexicalRewriter, doc, routed: Routed, rng: random.Random) -> RouteEdit | None:
    """The edit ``routed.route`` makes about ``routed.anchor``, or None when it has no good one."""
    anchor, cands = routed.anchor, routed.cands
    if routed.edit == "swap":  # the first pass over the anchors: exchanges only
        if routed.route == "A":
            return attribute_swap(rw, doc, anchor, rng)  # no move: README, route A
        return argument_swap(rw, doc, anchor, cands, rng) if routed.route == "R" else None
    if routed.edit == "last":  # the last resort: the rewriter's own checks only
        words = [anchor] if anchor.role != "O" or routed.route == "O" else own_attributes(doc, anchor, cands) \
            if routed.route == "A" else relation_words(doc, anchor, cands)
        doubtful = None  # a contrast no photo may settle: the very last edit, for coverage
        for word in words:
            for rewrite in draws(rw, doc, word, rng):
                if not _keeps_class(doc[word.start], rewrite.replacement) \
                        or (word.role == "R" and not _sane(doc, word, rewrite, rw.lexicon, decided=False)):
                    continue
                if word.role == "R" and not _sane(doc, word, rewrite, rw.lexicon):
                    doubtful = doubtful or RouteEdit(rewrite, word.text, "replace", word.role)
                    continue  # another of the word's contrasts may be one a photo settles
                if rng.random() < LAST_RESORT_DRAW * SHARED_CONTRASTS.get(rewrite.replacement, 1.0):
                    return RouteEdit(rewrite, word.text, "replace", word.role)
                break
        if doubtful is not None and rng.random() < LAST_RESORT_DRAW * SHARED_CONTRASTS.get(
                doubtful.rewrite.replacement, 1.0):
            return doubtful
        return None
    if routed.edit == "target":  # a word that is no thing changes itself, as with route="target"
        for rewrite in draws(rw, doc, anchor, rng):
            if not _keeps_class(doc[anchor.start], rewrite.replacement):
                return None
            if anchor.role == "R" and not _sane(doc, anchor, rewrite, rw.lexicon):
                continue
            if anchor.role == "R" and not _fair_contrast(rw, doc, anchor, rewrite, rng):
                return None
            return RouteEdit(rewrite, anchor.text, "replace", anchor.role)
        return None
    if routed.route == "O":
        return object_replace(rw, doc, anchor, rng)
    if routed.route == "A":
        swap = attribute_swap(rw, doc, anchor, rng)  # no move: README, route A
        if swap is not None:
            return swap
        for word in own_attributes(doc, anchor, cands):
            rewrite = rw.rewrite(doc, word, rng)
            if rewrite is not None and _keeps_class(doc[word.start], rewrite.replacement) \
                    and not _same(word.text.lower(), rewrite.replacement.lower()):  # "modern" -> "new"
                return RouteEdit(rewrite, word.text, "replace", "A")
        return None
    swap = argument_swap(rw, doc, anchor, cands, rng)
    if swap is not None:
        return swap
    for word in relation_words(doc, anchor, cands):
        for rewrite in draws(rw, doc, word, rng):
            if not _sane(doc, word, rewrite, rw.lexicon):
                continue  # "down the road" -> "up the road": perhaps "along" instead
            if _fair_contrast(rw, doc, word, rewrite, rng):
                return RouteEdit(rewrite, word.text, "replace", "R")
            break
    return None
