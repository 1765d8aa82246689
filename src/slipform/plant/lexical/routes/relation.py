"""Route R's contrasts: the anchor's preposition or verb takes a contrasting one, where a photo
could settle it."""

from __future__ import annotations

import random

from ...core.anchor import Candidate
from ...knowledge.kinds import KIND_OF, base
from ...knowledge.tables import HEIGHT_PLACES, SHARED_CONTRASTS
from ..guards import animate
from ..rewriter import LexicalRewriter, Rewrite
from .common import _NOUN_TAGS_PLURAL, NOUN_LIKE_VERBS, _covering, _root

LAST_RESORT_DRAW = 4.0  # the last resort draws a shared contrast four times as often as a route does
CONCRETE_PLACE = 4.0  # Brysbaert: "water" 4.97, "table" 4.9, "day" 3.6, "side" 3.6
PLACE_KINDS = frozenset({"room", "building", "landscape", "body of water", "ground", "way"})



def _sane(doc, word: Candidate, rewrite: Rewrite) -> bool:
    """What even the last resort checks of a relation's contrast: not for what is worn, and
    "without" only for a thing's "with" ("cluttered with items" -> "cluttered without items")."""
    if _worn(doc, word):
        return False
    return rewrite.replacement != "without" or doc[word.start].head.pos_ in ("NOUN", "PROPN")


def _fair_contrast(rw: LexicalRewriter, doc, word: Candidate, rewrite: Rewrite, rng: random.Random) -> bool:
    """Whether a relation's contrast may stand: not for what is worn ("a man in a red shirt" ->
    "behind a red shirt"), not for a place word whose object is no thing ("on a sunny day" ->
    "under a sunny day"), nothing above or under a place ("a horse under a beach"), no verb form the
    tagger reads as a noun ("parks"), and a contrast many relations share only by its draw
    (:data:`SHARED_CONTRASTS`)."""
    if _worn(doc, word) or (word.pos == "ADP" and not _placed(doc, word, rw.lexicon)):
        return False
    if rewrite.replacement_key in NOUN_LIKE_VERBS or not _sane(doc, word, rewrite):
        return False
    root = doc[word.start:word.end].root
    if word.pos == "VERB" and any(c.dep_ == "dobj" and KIND_OF.get(base(c.lemma_.lower())) is None and not animate(c)
                                  for c in root.children):
        return False  # "playing some tennis" -> "holding some tennis"
    objects = [c for c in doc[word.end - 1].children if c.dep_ == "pobj"]
    if rewrite.replacement in HEIGHT_PLACES and any(KIND_OF.get(base(o.lemma_.lower())) in PLACE_KINDS
                                                    for o in objects):
        return False
    return rng.random() < SHARED_CONTRASTS.get(rewrite.replacement, 1.0)


def _placed(doc, word: Candidate, lexicon) -> bool:
    """A preposition of place between things: no particle ("fenced in field"), and its object a
    concrete thing (rated 4 or more, of the kinds table, or animate) that the caption counts or
    determines ("on the water", not "on a sunny day", "in hand", "on display")."""
    tok = doc[word.end - 1]
    if doc[word.start].dep_ not in ("prep", "ROOT") and tok.dep_ != "prep":
        return False
    for c in tok.children:
        if c.dep_ != "pobj":
            continue
        known = KIND_OF.get(base(c.lemma_.lower())) is not None or animate(c)
        rating = lexicon.rating(c.lemma_.lower()) or lexicon.rating(c.lower_)
        if not (known or (rating is not None and rating >= CONCRETE_PLACE)):
            return False
        return c.tag_ in _NOUN_TAGS_PLURAL or any(d.dep_ in ("det", "poss", "nummod", "amod") for d in c.children)
    return False


_CLOTHES = frozenset({"top", "headwear", "neckwear", "legwear", "footwear"})


def _worn(doc, word: Candidate) -> bool:
    """A preposition whose object is clothing ("in a red shirt", "with a hat on"): it says what is
    worn, which no place word contrasts."""
    tok = doc[word.end - 1]
    return tok.pos_ == "ADP" and any(c.dep_ == "pobj" and KIND_OF.get(base(c.lemma_.lower())) in _CLOTHES
                                     for c in tok.children)



# -- R: relations
def relation_words(doc, anchor: Candidate, cands) -> list[Candidate]:
    """The anchor's relation words as targets of route R: the preposition it is the object of,
    the verb it is the subject or object of, a preposition or participle that it governs."""
    noun, out = _root(doc, anchor), []

    def add(tok):
        c = _covering(cands, tok.i, "R")
        if c is not None and c not in out:
            out.append(c)

    if noun.dep_ == "pobj":
        add(noun.head)
    if noun.dep_ in ("nsubj", "nsubjpass", "dobj") and noun.head.pos_ == "VERB":
        add(noun.head)
    for child in noun.children:
        if (child.dep_ == "prep" and child.lower_ != "of") or (child.dep_ in ("acl", "relcl") and child.pos_ == "VERB"):
            add(child)
    return out
