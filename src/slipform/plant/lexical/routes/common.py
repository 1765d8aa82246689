"""What every route shares: the edit a route makes (:class:`RouteEdit`), the class check of a
replacement, and the candidates of a token."""

from __future__ import annotations

from dataclasses import dataclass

from ....text.inflect import all_verb_forms
from ...core.anchor import Candidate
from ...knowledge.tables import ATTRIBUTE_FAMILIES
from ..guards import GROUPS
from ..rewriter import Rewrite

_FAMILY_OF = {w: name for name, members in ATTRIBUTE_FAMILIES.items() for w in members}
_NOUN_TAGS_PLURAL = ("NNS", "NNPS")


@dataclass(frozen=True)
class RouteEdit:
    """What a route made: the rewrite, the word changed (its surface text), and the edit's kind."""

    rewrite: Rewrite
    target: str
    edit: str  # "replace" | "swap"
    role: str


# family members the tagger reads as nouns or numbers: never the replacement of an adjective
# ("several glasses" -> "three glasses", "a wooden wall" -> "a brick wall"; bench/plant_balance.py
# counts the replacements that change the word's class)
_NOT_ADJECTIVES = frozenset({*ATTRIBUTE_FAMILIES["number"][:9], "brick", "stone", "concrete", "cardboard", "paper",
                             "leather", "steel", "glass", "metal", "orange", "closed", "plaid"})
# verb contrasts whose forms the tagger reads as nouns in the negative ("a man parks", "pointing")
NOUN_LIKE_VERBS = frozenset({"park", "point", "land", "cook", "frown", "smile", "dive", "chase", "prepare", "run"})


def _keeps_class(tok, new: str) -> bool:
    if tok.pos_ == "VERB":
        return new.split()[0] not in _NOUN_LIKE_FORMS
    return not (tok.pos_ == "ADJ" and (new in _NOT_ADJECTIVES or new.isdigit()))


_NOUN_LIKE_FORMS = frozenset(f for v in NOUN_LIKE_VERBS for f in all_verb_forms(v))  # the forms, not their tags


def _root(doc, c: Candidate):
    return doc[c.start:c.end].root


def _covering(cands, i: int, role: str | None = None) -> Candidate | None:
    for c in cands:
        if c.start <= i < c.end and (role is None or c.role == role):
            return c
    return None


def _single(tok, role: str) -> Candidate:
    return Candidate(tok.i, tok.i + 1, tok.text, tok.lemma_.lower(), tok.pos_, tok.tag_, role, None)



# collective and general nouns: their number and reference do not move with them
COLLECTIVE = GROUPS | {"people", "person", "persons", "crowd", "family", "team", "someone", "somebody", "everyone",
                       "group", "lot", "variety", "kind", "type", "set", "pile", "assortment"}


DRAWS = 3  # a route asks the rewriter this many times for an edit its own checks accept


def draws(rw, doc, word: Candidate, rng, n: int = DRAWS):
    """Up to ``n`` of the rewriter's edits of ``word`` (each drawn afresh), until it has none."""
    for _ in range(n):
        rewrite = rw.rewrite(doc, word, rng)
        if rewrite is None:
            return
        yield rewrite
