"""Route R's place exchange: the things of two places of one thing exchange ("a pizza on a table next
to a plate" -> "a pizza on a plate next to a table"; "a man sitting on a bench next to a bike" -> "a
man sitting on a bike next to a bench").

The caption's words stay (:func:`slipform.plant.core.edit.is_swap`), each thing with its own
describing words; what changes is which thing stands in which relation. The exchange is made only
where both readings could be a photo and a photo tells them apart:

- both relations are places, at least one of them says where the thing is *relative to* the other
  (on, in, under, behind...: :data:`ASYMMETRIC`); "next to A near B" says the same after the exchange;
- both things are things of the kinds table with a scale (no setting: "on a beach next to a car";
  no person or animal: "on a bed next to a dog"; nothing worn: "in a red shirt");
- each thing is one real captions put in its new place (the shipped slot counts, attested at least
  once and not refused: "a cup on a plate next to a table" -> never "on a table ... a plate" if
  "on a plate" had never been said of tables); a support or a container is no smaller than
  what it holds ("a laptop on a desk next to a cup" -> never "a laptop on a cup");
- the two noun phrases agree in number and carry no count ("on a table next to two plates").
"""

from __future__ import annotations

import random

from ...core.anchor import Candidate
from ...core.edit import Edit
from ...knowledge.kinds import KIND_OF, SCALE_OF, base
from ...knowledge.relations import noun_slots, thing
from ..rewriter import LexicalRewriter, Rewrite
from .common import _NOUN_TAGS_PLURAL, COLLECTIVE, RouteEdit, _covering, _root
from .exchange import _bound, _coordinated, _relation_start
from .relation import _worn

# places a thing is in relative to another; "next to", "beside", "near" and "by" only with one of these
ASYMMETRIC = frozenset({"on", "in", "inside", "under", "beneath", "below", "underneath", "above", "over", "behind",
                        "in front of", "on top of", "atop", "against"})
SIDE_BY_SIDE = frozenset({"next to", "beside", "near", "by", "alongside"})
# what holds or bears a thing: no smaller than the thing it holds (handheld < furniture < vehicle)
HOLDS = frozenset({"on", "in", "inside", "on top of", "atop"})
_RANK = {"handheld": 0, "shape": 0, "furniture": 1, "fixture": 1, "vehicle": 2}
MAX_WORDS = 3  # a noun phrase exchanged whole, its article aside (:func:`is_swap` compares up to three words)


def _relation(cands, prep) -> tuple[object, str]:
    """The first token of the relation ``prep`` ends, and the relation's table form ("in front of")."""
    start = _relation_start(prep, cands)
    c = _covering(cands, start.i, "R")
    return start, (c.lemma if c is not None else start.lower_)


def _places(noun, cands) -> list[tuple[object, str, object]]:
    """(holder, relation, thing) for each place of a thing that ``noun`` or the holder of ``noun``'s
    own place has: the holder is the noun or verb the relation belongs to."""
    def place(obj):
        start, rel = _relation(cands, obj.head)
        return start.head, rel, obj

    def objects(tok):  # the things of tok's places, past "top of" in "on top of"
        out = []
        for p in (c for c in tok.children if c.dep_ in ("prep", "advmod")):  # "next" (advmod) of "next to"
            c = _covering(cands, p.i, "R")
            last = p.doc[c.end - 1] if c is not None and c.start == p.i else p
            if last.dep_ == "prep" or last.i != p.i:
                out += [o for o in last.children if o.dep_ == "pobj"]
        return out

    mine = place(noun) if noun.dep_ == "pobj" and noun.head.dep_ == "prep" else None
    out = [mine] if mine is not None else []
    if mine is not None:
        out += [place(o) for o in objects(mine[0]) if o.i != noun.i]  # "on a table next to a plate" (siblings)
    out += [place(o) for o in objects(noun)]  # "on a table [next to a plate]" (hung from the table)
    if mine is not None and mine[0].dep_ == "pobj" and mine[0].head.dep_ == "prep":
        out.append(place(mine[0]))  # the same from the plate: the table holds its place
    return out


def _span(tok) -> tuple[int, int] | None:
    """The noun phrase of ``tok`` without its article: its left modifiers and itself, if contiguous
    and without a count or a possessive."""
    left = [c for c in tok.subtree if c.i < tok.i]
    if any(c.dep_ in ("nummod", "poss", "prep", "cc", "conj", "punct") for c in left):
        return None
    kept = [c for c in left if c.dep_ != "det"]
    start = min((c.i for c in kept), default=tok.i)
    if any(tok.doc[j].dep_ == "det" for j in range(start, tok.i)) or tok.i + 1 - start > MAX_WORDS:
        return None
    return start, tok.i + 1


def _rank(tok) -> int | None:
    return _RANK.get(SCALE_OF.get(KIND_OF.get(base(tok.lemma_.lower()), "")))


def _fits(rw: LexicalRewriter, holder, relation: str, old, new) -> bool:
    """Whether thing ``new`` may stand where ``old`` stands (the object of ``relation`` of ``holder``):
    a support or container no smaller than the one it replaces nor than what it holds, and a thing
    real captions put in that place (some slot of the place attests it, none refuses it)."""
    if relation in HOLDS:
        subject = holder if holder.pos_ in ("NOUN", "PROPN") else next(
            (c for c in holder.children if c.dep_ in ("nsubj", "nsubjpass")), holder.head)
        theirs = _rank(new)
        if theirs is None or any(r is not None and theirs < r for r in (_rank(old), _rank(subject))):
            return False  # "a laptop on a cup", "a pizza on a table" -> "on a plate"
    model = rw._relations
    if model is None:
        return True
    word_old, word_new = thing(old) or base(old.lemma_.lower()), thing(new) or base(new.lemma_.lower())
    slots = [s for s in noun_slots(old) if not s.endswith(">amod")]  # the describing words move with the thing
    if any(model.refuses(s, word_old, word_new) for s in slots):
        return False
    return any(model.slots.get(s, {}).get(word_new) for s in slots)


def _movable(doc, tok, cands) -> bool:
    word = base(tok.lemma_.lower())
    if word in COLLECTIVE or SCALE_OF.get(KIND_OF.get(word, "")) is None:
        return False  # no person, animal or setting has a scale
    c = _covering(cands, tok.i, "O")
    return not _bound(tok, c if c is not None else Candidate(tok.i, tok.i + 1, tok.text, word, tok.pos_, tok.tag_,
                                                                "O", None)) and not _coordinated(tok)


def place_swap(rw: LexicalRewriter, doc, anchor: Candidate, cands, rng: random.Random) -> RouteEdit | None:
    """The anchor's place and another place of one thing exchange their things (module docstring)."""
    noun = _root(doc, anchor)
    if noun.dep_ != "pobj" or not _movable(doc, noun, cands):
        return None
    places = _places(noun, cands)
    if not places or places[0][2].i != noun.i:
        return None
    holder_a, rel_a, _ = places[0]
    others = places[1:]
    rng.shuffle(others)
    for holder_b, rel_b, other in others:
        if rel_a == rel_b or {rel_a, rel_b} - (ASYMMETRIC | SIDE_BY_SIDE) or not {rel_a, rel_b} & ASYMMETRIC:
            continue
        if not _movable(doc, other, cands) or base(other.lemma_.lower()) == base(noun.lemma_.lower()):
            continue
        if (noun.tag_ in _NOUN_TAGS_PLURAL) != (other.tag_ in _NOUN_TAGS_PLURAL):
            continue
        if any(_worn(doc, _covering(cands, t.head.i, "R") or Candidate(t.head.i, t.head.i + 1, t.head.text,
                                                                       t.head.lower_, "ADP", "IN", "R", None))
               for t in (noun, other)):
            continue
        span_a, span_b = _span(noun), _span(other)
        if span_a is None or span_b is None:
            continue
        # right of each noun: nothing but the other's place hanging from it ("a table with a vase")
        if any(c.i > t.i and not (c.dep_ == "prep" and o.i in {d.i for d in c.subtree})
               for t, o in ((noun, other), (other, noun)) for c in t.children):
            continue
        # what holds a place after the exchange: a chained place stays with its position, whose noun
        # changes ("on a table next to a plate" -> "on a plate next to a table": the plate holds "next to")
        hold_a = noun if holder_a.i == other.i else holder_a
        hold_b = other if holder_b.i == noun.i else holder_b
        if not (_fits(rw, hold_a, rel_a, noun, other) and _fits(rw, hold_b, rel_b, other, noun)):
            continue
        text_a, text_b = doc[span_a[0]:span_a[1]].text, doc[span_b[0]:span_b[1]].text
        edits = (Edit(*span_a, text_b), Edit(*span_b, text_a))
        return RouteEdit(Rewrite(edits, other.text, base(noun.lemma_.lower()), base(other.lemma_.lower())),
                         anchor.text, "swap", "R")
    return None
