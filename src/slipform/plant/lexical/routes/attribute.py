"""Route A: the anchor's attribute, exchanged with another thing's or changed within its family."""

from __future__ import annotations

import random

from ...core.anchor import Candidate
from ...core.edit import Edit
from ...knowledge.kinds import KIND_OF, base
from ...knowledge.relations import adjective_slots
from ...knowledge.tables import ATTRIBUTE_FAMILIES
from ..guards import animal, animate, animate_only, colour_options, in_compound
from ..rewriter import LexicalRewriter, Rewrite
from .common import _FAMILY_OF, COLLECTIVE, RouteEdit, _covering, _root, _single

_SAME = ({"gray", "grey", "silver"}, {"big", "large", "huge", "giant"}, {"small", "little", "tiny"},
         {"tan", "brown", "beige"}, {"golden", "yellow"}, {"several", "many"}, {"old", "ancient", "antique"},
         {"new", "modern"})
# sizes along one dimension: "a tall man beside a small dog" does not exchange
_DIMENSION = {**dict.fromkeys(("small", "large", "big", "little", "tiny", "huge", "giant"), "size"),
              **dict.fromkeys(("tall", "short"), "height"), "long": "length"}


# -- A: attributes
def _alone(tok) -> bool:
    """An attribute that is not one of a list ("brown and white", "brown white and black"). A
    conjunction before it that joins two things is no list of attributes ("a yellow shirt and
    black shorts": "black" is alone)."""
    doc = tok.doc
    for j in (tok.i - 1, tok.i + 1):
        if (j == tok.i - 1 and j >= 0 and _joins_things(doc[j], tok)) or j == tok.head.i:
            continue  # "a yellow shirt and black shorts": "and" joins the things; the noun itself
        if 0 <= j < len(doc) and (doc[j].dep_ in ("cc", "conj") or doc[j].lower_ in (",", "and", "or", "-")
                                  or _FAMILY_OF.get(doc[j].lower_) == _FAMILY_OF.get(tok.lower_)):
            return False
    return True


def _joins_things(link, tok) -> bool:
    """Whether ``link`` ("and", ",") before attribute ``tok`` joins two nouns, tok's noun the second."""
    noun = tok.head
    return (link.dep_ in ("cc", "punct") and link.lower_ in ("and", ",") and link.head.pos_ in ("NOUN", "PROPN")
            and link.head.i != noun.i and noun.dep_ == "conj" and noun.head.i == link.head.i and tok.dep_ == "amod")


def _attribute_tokens(noun) -> list:
    """The attribute words of a noun token: its adjectives and colour compounds before it, its
    number, and an adjective the caption predicates of it ("the car is red")."""
    out = [c for c in noun.children if c.i < noun.i and not list(c.children) and _alone(c)
           and f"{c.lower_} {noun.lemma_.lower()}" not in KIND_OF and (
        (c.dep_ == "amod" and c.pos_ == "ADJ") or c.dep_ == "nummod"
        or (c.dep_ == "compound" and _FAMILY_OF.get(c.lower_) == "colour"))]
    if noun.dep_ == "nsubj" and noun.head.lemma_ == "be":
        out += [c for c in noun.head.children if c.dep_ == "acomp" and c.pos_ == "ADJ"]
    return out


def own_attributes(doc, anchor: Candidate, cands) -> list[Candidate]:
    """The anchor's attribute words as targets of route A."""
    out = []
    for tok in _attribute_tokens(_root(doc, anchor)):
        c = _covering(cands, tok.i)
        if c is None or c.role != "A":
            c = _single(tok, "A")
        out.append(c)
    return out


def _same(a: str, b: str) -> bool:
    return a == b or any(a in g and b in g for g in _SAME)


def _attribute_fits(rw: LexicalRewriter, doc, tok, new: str) -> bool:
    """Whether attribute ``new`` may stand where ``tok`` stands: a colour the thing comes in, no
    "young" for a thing, a pairing real captions use (the shipped adjective slots)."""
    c = _single(tok, "A")
    if in_compound(doc, c) or animate_only(new, doc, c):
        return False
    if _FAMILY_OF.get(new) == "colour" and not colour_options(doc, c, [new]):
        return False
    if tok.head.dep_ == "compound" or tok.head.lemma_.lower() in COLLECTIVE:
        return False  # "a flat screen tv" -> "a wooden screen tv"
    if _FAMILY_OF.get(new) == "colour" and _FAMILY_OF.get(tok.lower_) == "colour":
        # "a white woman": a person's colour is no attribute to swap; "a yellow terrier": a thing
        # outside the kinds table has no known colours
        if animate(tok.head) and not animal(tok.head):
            return False
        return KIND_OF.get(base(tok.head.lemma_.lower())) is not None or _colour_attested(rw, tok.head, new)
    if _FAMILY_OF.get(new) != _FAMILY_OF.get(tok.lower_):  # "a brown horse ... an open field" -> "an open horse"
        slot = _adjectives_seen(rw, tok.head)
        if not slot.get(new) and rw._relations is not None:
            return False
    family = ATTRIBUTE_FAMILIES.get(_FAMILY_OF.get(new, ""), ())
    if rw._relations is not None and tok.dep_ == "amod" and family:
        return bool(rw._relations.attested(adjective_slots(tok), tok.lower_, [new], family))
    return True


COLOURS_SEEN = 3  # colours real captions give a noun outside the kinds table for it to count as one of many colours


def _adjectives_seen(rw: LexicalRewriter, noun) -> dict:
    """The adjectives real captions put on ``noun`` (the shipped ``amod`` slot), with their counts."""
    return rw._relations.slots.get(f"amod<{base(noun.lemma_.lower())}", {}) if rw._relations else {}


def _colour_attested(rw: LexicalRewriter, noun, colour: str) -> bool:
    """Whether real captions give the noun outside the kinds table ``colour`` twice, or
    :data:`COLOURS_SEEN` colours or more (the shipped adjective slots: walls, tiles, umbrellas and
    signs come in any colour); never to an animal ("a yellow terrier")."""
    if rw._relations is None or animal(noun) or noun.lemma_.lower() in COLLECTIVE:
        return False
    seen = _adjectives_seen(rw, noun)
    return seen.get(colour, 0) >= 2 or sum(_FAMILY_OF.get(w) == "colour" for w in seen) >= COLOURS_SEEN


def _count(word: str) -> int | None:
    """A counting word's number above one ("two", "3"), else None."""
    numbers = ATTRIBUTE_FAMILIES["number"][:9]
    if word in numbers:
        return numbers.index(word) + 2
    return int(word) if word.isdigit() and 1 < int(word) < 100 else None


def attribute_swap(rw: LexicalRewriter, doc, anchor: Candidate, rng: random.Random) -> RouteEdit | None:
    """The anchor and another thing exchange attributes: of one family ("a red car next to a white
    truck" -> "a white car next to a red truck"; a count for a count), or of two where each fits the
    other thing ("a wooden table with a white plate" -> "a white table with a wooden plate")."""
    noun = _root(doc, anchor)
    mine = [t for t in _attribute_tokens(noun) if _family(t) is not None]
    if not mine:
        return None
    pairs = []
    for other in doc:
        if other.i == noun.i or other.pos_ not in ("NOUN", "PROPN") or other.lemma_.lower() in ("photo", "picture"):
            continue
        if base(other.lemma_.lower()) == base(noun.lemma_.lower()):
            continue  # "a gray chair and a black chair": two of one kind say the same after the exchange
        theirs = [t for t in _attribute_tokens(other) if _family(t) is not None]
        for a in mine:
            for b in theirs:
                fa, fb = _family(a), _family(b)
                if sum(_family(t) == fa for t in mine) != 1 or sum(_family(t) == fb for t in theirs) != 1:
                    continue  # "a red and white bus": which colour goes is unclear
                if ("count" in (fa, fb) and fa != fb) or _same(a.lower_, b.lower_) \
                        or _DIMENSION.get(a.lower_) != _DIMENSION.get(b.lower_):
                    continue
                if fa != fb and (fa in {t2 for t2 in map(_family, theirs)} or fb in set(map(_family, mine))):
                    continue  # "a white wooden table with a red plate": white would then be doubled
                pairs.append((a, b))
    rng.shuffle(pairs)
    for a, b in pairs:
        if _attribute_fits(rw, doc, a, b.lower_) and _attribute_fits(rw, doc, b, a.lower_):
            edits = (Edit(a.i, a.i + 1, b.lower_), Edit(b.i, b.i + 1, a.lower_))  # the case stays with the place
            rewrite = Rewrite(edits, b.lower_, a.lower_, b.lower_)
            return RouteEdit(rewrite, a.text, "swap", "A")
    return None


def _family(tok) -> str | None:
    if tok.dep_ == "nummod":
        return "count" if _count(tok.lower_) is not None else None
    fam = _FAMILY_OF.get(tok.lower_)
    return None if fam in (None, "number", "posture") else fam
