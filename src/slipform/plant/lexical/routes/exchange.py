"""Route R's argument exchange: the anchor and another thing exchange places, where both readings
could be a photo."""

from __future__ import annotations

import random
from dataclasses import replace

from ....text.inflect import pluralize
from ...core.anchor import Candidate
from ...core.edit import Edit
from ...knowledge.kinds import EXCHANGE_GROUP_OF, KIND_OF, SCALE_OF, base
from ...knowledge.relations import lemma, noun_slots
from ...knowledge.tables import HEIGHT_PLACES, SIDE_PLACES, SYMMETRIC_VERBS
from ..guards import (
    FEMALE,
    FEMININE_CLOTHES,
    HANDS,
    INVARIANT,
    MALE,
    MASS_NOUNS,
    NATURAL_COLOURS,
    PLURAL_ONLY,
    animal,
    animate,
    gendered_pronoun,
    holds_stated_contents,
    repeated,
)
from ..rewriter import LexicalRewriter, Rewrite
from .common import _FAMILY_OF, _NOUN_TAGS_PLURAL, COLLECTIVE, RouteEdit, _covering, _root, _single
from .relation import PLACE_KINDS


def _subject(verb):
    """The noun a verb (or "is" of "there is") says something of."""
    for child in verb.children:
        if child.dep_ in ("nsubj", "nsubjpass", "attr") and child.pos_ in ("NOUN", "PROPN"):
            return child
    if verb.dep_ in ("acl", "relcl") and verb.head.pos_ in ("NOUN", "PROPN"):
        return verb.head
    return None


def _pobj(prep):
    return next((c for c in prep.children if c.dep_ == "pobj" and c.pos_ in ("NOUN", "PROPN")), None)


def _relation_start(prep, cands):
    """The first token of the relation ``prep`` ends ("of" in "to the left of": "to")."""
    c = _covering(cands, prep.i, "R")
    return prep.doc[c.start] if c is not None and c.end - c.start > 1 else prep


def _arguments(noun, cands) -> list[tuple]:
    """(relation token, the other argument, verb or None) for each relation the noun is an
    argument of: a preposition between two things (directly or under a verb), or a verb between
    its subject and object."""
    out = []
    if noun.dep_ == "pobj" and noun.head.dep_ == "prep":
        prep = _relation_start(noun.head, cands)
        head = prep.head
        if head.pos_ in ("NOUN", "PROPN"):
            out.append((prep, head, None))
        elif head.pos_ in ("VERB", "AUX") and (subj := _subject(head)) is not None:
            out.append((prep, subj, head if head.lemma_ != "be" else None))
    for child in noun.children:
        if child.dep_ == "prep" and (other := _pobj(child)) is not None:
            out.append((child, other, None))
    verbs = [noun.head] if noun.dep_ in ("nsubj", "nsubjpass", "attr") and noun.head.pos_ in ("VERB", "AUX") else []
    verbs += [c for c in noun.children if c.dep_ in ("acl", "relcl") and c.pos_ == "VERB"]
    for verb in verbs:
        for child in verb.children:
            if child.dep_ == "dobj" and child.pos_ in ("NOUN", "PROPN"):
                out.append((verb, child, verb))
            elif child.dep_ == "prep" and (other := _pobj(child)) is not None:
                out.append((child, other, verb if verb.lemma_ != "be" else None))
    if noun.dep_ == "dobj" and (subj := _subject(noun.head)) is not None:
        out.append((noun.head, subj, noun.head))
    return out


def _thing(doc, tok, cands) -> tuple[Candidate, str] | None:
    """The candidate naming the thing ``tok`` heads and its table word, if it is a thing that can
    move: of a kind with a scale, an animal or a person; not a mass noun or an invariant plural."""
    c = _covering(cands, tok.i, "O") or _single(tok, "O")
    word = base(c.lemma)
    if word in COLLECTIVE or tok.lower_ in COLLECTIVE:
        return None  # "a group of people" -> "a people of groups"
    if word in INVARIANT or word in PLURAL_ONLY or word in MASS_NOUNS or tok.lower_ in PLURAL_ONLY:
        return None
    if SCALE_OF.get(KIND_OF.get(word, "")) is None and not animate(tok):
        return None
    return c, word


def _coordinated(tok) -> bool:
    return tok.dep_ == "conj" or any(c.dep_ == "conj" for c in tok.children)


def _bound(tok, c: Candidate) -> bool:
    """A noun that is part of a longer name or a possessive ("cop car", "a man's hair", "cheese
    pizza"): exchanging it breaks the name."""
    if tok.dep_ in ("compound", "poss", "npadvmod") or tok.head.dep_ == "poss":
        return True
    return any(k.dep_ in ("compound", "poss") and not c.start <= k.i < c.end for k in tok.children)


# verbs whose subject and object may exchange between a person and an animal ("a dog chasing a
# man" -> "a man chasing a dog"); between two people or two animals any verb of action may, except
# the hand verbs for animals and, for a child and an adult, the verbs where size decides
# ("lead" is not one: readers of the swap ceiling study rated "a horse leading a man" implausible)
PERSON_ANIMAL_VERBS = frozenset({"chase", "follow", "watch", "approach", "photograph", "face"})
_INFANTS = frozenset({"baby", "infant", "toddler", "newborn"})
_YOUNG = frozenset({"child", "children", "kid", "kids", "baby", "babies", "toddler", "boy", "girl", "boys", "girls"})


def _plausible(a, b, relation: str, verb, is_verb: bool) -> bool:
    """Whether things ``a`` and ``b`` (tokens) may exchange places around ``relation`` (the
    relation's table form); ``verb`` is a verb governing the relation, ``is_verb`` whether the
    relation is that verb itself (its subject and object exchange)."""
    if is_verb:
        if relation in SYMMETRIC_VERBS or not (animate(a) and animate(b)):
            return False  # "a plate holding a cup", "a man hugging a woman"
        if animal(a) != animal(b):
            return relation in PERSON_ANIMAL_VERBS  # "a man feeding a giraffe" never exchanges
        if animal(a):
            return relation not in HANDS  # "a dog holding a cat"
        return (a.lower_ in _YOUNG) == (b.lower_ in _YOUNG)  # "a woman holding a child" -> "a child holding a woman"
    if relation in HEIGHT_PLACES:
        kind_a, kind_b = KIND_OF.get(base(a.lemma_.lower())), KIND_OF.get(base(b.lemma_.lower()))
        return kind_a == kind_b == "shape"  # "a plate on a cup" is rarely a photo; drawn shapes are any way up
    if relation not in SIDE_PLACES:
        return False  # "next to", "with", "in": the same after the exchange, or no photo
    if verb is not None and verb.pos_ == "VERB" and animate(a) != animate(b):
        return False  # "a man sitting behind a car" -> "a car sitting behind a man"
    if animate(a) or animate(b):
        return animate(a) and animate(b)
    scale = SCALE_OF.get(KIND_OF.get(base(a.lemma_.lower()), ""))
    return scale is not None and scale == SCALE_OF.get(KIND_OF.get(base(b.lemma_.lower()), ""))


def _governed_by(tok, other) -> bool:
    """Whether ``tok`` is the object of a preposition of ``other`` ("a dog next to a cat": the cat)."""
    head = tok.head
    while head.i != head.head.i and head.dep_ in ("prep", "pobj", "advmod", "pcomp", "amod") \
            and head.pos_ not in ("NOUN", "PROPN", "VERB"):
        head = head.head
    return tok.dep_ == "pobj" and head.i == other.i


def _context(tok, other=None) -> frozenset:
    """What the caption says of a thing besides its name: its slots, modifiers and relations, but
    not the relation that links it to ``other`` ("a dog next to a cat" says nothing else of either)."""
    out = set() if other is not None and _governed_by(tok, other) else set(noun_slots(tok))
    for c in tok.children:
        if c.dep_ == "prep" and other is not None and other.i in {t.i for t in c.subtree}:
            continue
        if c.dep_ == "prep":
            out |= {f"{c.lower_}>{o.lemma_.lower()}" for o in c.children if o.dep_ == "pobj"}
        elif c.dep_ in ("amod", "compound", "nummod", "acl", "relcl", "poss"):
            out.add(f"{c.dep_}:{c.lemma_.lower()}")
    return frozenset(out)


def _listed(a, b) -> bool:
    """Two things in one list ("a dog and a cat", "two donuts, a muffin and a cake")."""
    return (a.dep_ == "conj" and a.head.i == b.i) or (b.dep_ == "conj" and b.head.i == a.i) \
        or (a.dep_ == b.dep_ == "conj" and a.head.i == b.head.i)


def _modifiers(tok) -> frozenset:
    return frozenset(f"{c.dep_}:{c.lower_}" for c in tok.children if c.dep_ in ("amod", "nummod", "compound"))


def _verbs_of(tok) -> list:
    """The verbs a thing is the subject or object of (a participle that modifies it included)."""
    out = [tok.head] if tok.dep_ in ("nsubj", "nsubjpass", "dobj") and tok.head.pos_ == "VERB" else []
    return out + [c for c in tok.children if c.dep_ in ("acl", "relcl") and c.pos_ == "VERB"]


def _rebinds(a, b) -> bool:
    """Whether things ``a`` and ``b`` anywhere in the caption may exchange places: two people or two
    animals, or two things of one exchange group (:data:`EXCHANGE_GROUPS`: food for food, a cup for
    a plate), that the caption says different things of, and each can do what the other did ("a man in a green shirt stands by a girl holding a cake" -> "a girl in a
    green shirt stands by a man holding a cake")."""
    if not animate(a) and not animate(b):
        group = EXCHANGE_GROUP_OF.get(KIND_OF.get(base(a.lemma_.lower()), ""))
        if group is None or group != EXCHANGE_GROUP_OF.get(KIND_OF.get(base(b.lemma_.lower()), "")):
            return False  # "a white onion topped with fries", "a small plate on a small pizza"
        doc = a.doc
        if holds_stated_contents(doc, _single(a, "O")) or holds_stated_contents(doc, _single(b, "O")):
            return False  # "a plate of food next to a cup of coffee": each holds its own
        if group == "clothes" and {a.lemma_.lower(), b.lemma_.lower()} & FEMININE_CLOTHES:
            return False  # "a girl in a dress and a man in a tie" -> "a man in a dress"
        if group == "food" and not _listed(a, b):
            return False  # "a sandwich has carrots" -> "a carrot has sandwiches"
    elif not (animate(a) and animate(b)) or animal(a) != animal(b):
        return False
    if _share_a_setting(a, b) or _share_a_setting(b, a):
        return False  # "a truck on a street next to a van" -> "a van on a street next to a truck": both are there
    listed = _listed(a, b)
    counts = {k for k in _modifiers(a) ^ _modifiers(b) if k.startswith("nummod:")}
    if listed and not counts and not (_modifiers(a) and _modifiers(b) and _modifiers(a) != _modifiers(b)):
        return False  # "a girl and a boy", "a little boy and girl": a list says the same of each; not "a black dog and a white cat"
    return _context(a, b) != _context(b, a)


def _share_a_setting(a, b) -> bool:
    """Whether ``b`` hangs from ``a``'s place, and that place is a setting ("a truck on a street next to
    a van": the parse puts the van next to the street; a photo puts both on it, so an exchange says
    the same). A thing's place is no setting ("a dog on a bed next to a cat": only the dog is on it)."""
    head = b.head
    while head.i != head.head.i and head.i != a.i:
        if head.pos_ in ("NOUN", "PROPN") and head.dep_ == "pobj" and head.head.dep_ == "prep" \
                and KIND_OF.get(base(head.lemma_.lower())) in PLACE_KINDS:  # not "the left" of "to the left of"
            return any(t.i == a.i for t in head.ancestors)
        head = head.head
    return False


def _same_gender(a, b) -> bool:
    """Two people of one gender ("a man ... a boy ... his"): a gendered pronoun still fits."""
    return any(a.lower_ in g and b.lower_ in g for g in (MALE, FEMALE))


def _can_take(x, y) -> bool:
    """Whether thing ``y`` can stand in ``x``'s place: do what ``x`` does (no hands for an animal,
    no child holding or bathing an adult) and wear ``x``'s adjectives (no "brown woman", no
    "young table")."""
    if y.lemma_.lower() in _INFANTS and any(v.pos_ == "VERB" for v in _verbs_of(x)):
        return False  # "a baby holds a girl", "a baby is cooking"
    for verb in _verbs_of(x):
        if animal(y) and lemma(verb) in HANDS:
            return False  # "a dog holding two ski poles"
        held = [c for c in verb.children if c.dep_ == "dobj" and animate(c)]
        if held and (y.lower_ in _YOUNG) != (x.lower_ in _YOUNG):
            return False  # "a woman bathing a baby" -> "a baby bathing a woman"
    if (y.lower_ in _YOUNG) != (x.lower_ in _YOUNG) and any(c.dep_ == "amod" for c in x.children):
        return False  # "a little girl" -> "a little adult"
    for adj in x.children:
        if adj.dep_ != "amod":
            continue
        if _FAMILY_OF.get(adj.lower_) == "colour":
            fits = NATURAL_COLOURS.get(KIND_OF.get(base(y.lemma_.lower()), ""))
            if (animate(y) and not animal(y)) or (fits is not None and adj.lower_ not in fits):
                return False
        if adj.lower_ in ("young", "elderly", "old") and not animate(y):
            return False
    return True


def argument_swap(rw: LexicalRewriter, doc, anchor: Candidate, cands, rng: random.Random) -> RouteEdit | None:
    """The anchor and another thing exchange places, each keeping its slot's number ("two dogs
    chasing a cat" -> "two cats chasing a dog"): first the other argument of one of the anchor's
    relations, then another thing the caption says something else of (:func:`_rebinds`)."""
    noun = _root(doc, anchor)
    if rw.same_kind and repeated(doc, anchor):
        return None
    mine = _thing(doc, noun, cands)
    if mine is None or _bound(noun, mine[0]):
        return None
    direct = _arguments(noun, cands)
    rng.shuffle(direct)
    rest = [t for t in doc if t.pos_ in ("NOUN", "PROPN") and t.i != noun.i]  # a partner again: "next to"
    rng.shuffle(rest)
    tries = [(other, rel, verb) for rel, other, verb in direct] + [(t, None, None) for t in rest]
    for other, rel, verb in tries:
        theirs = _thing(doc, other, cands)
        if theirs is None or _bound(other, theirs[0]):
            continue
        (ca, wa), (cb, wb) = mine, theirs
        if wa == wb or ca.start < cb.end and cb.start < ca.end or (rw.same_kind and repeated(doc, cb)):
            continue
        if rel is not None:
            if _coordinated(noun) or _coordinated(other):
                continue
            is_verb = verb is not None and rel.i == verb.i
            relation = _covering(cands, rel.i, "R")
            relation = lemma(rel) if is_verb else relation.lemma if relation is not None else rel.lower_
            if not _plausible(noun, other, relation, verb, is_verb):
                continue
        elif not _rebinds(noun, other):
            continue
        if not (_can_take(noun, other) and _can_take(other, noun)):
            continue
        if any(animate(t) and not animal(t) for t in (noun, other)) and gendered_pronoun(doc) \
                and not _same_gender(noun, other):
            continue  # "a man ... his" with the man moved: whose is it now
        # "a sofa sitting on a cat": real captions never put a sofa there; two animate things are
        # judged by the animacy rules alone (a cat chases a dog, if more rarely than the other way)
        if rw._relations is not None and not (animate(noun) and animate(other)) \
                and (_refused(rw, noun, wa, wb) or _refused(rw, other, wb, wa)):
            continue
        new_a = pluralize(wb) if noun.tag_ in _NOUN_TAGS_PLURAL else wb
        new_b = pluralize(wa) if other.tag_ in _NOUN_TAGS_PLURAL else wa
        edits = (Edit(ca.start, ca.end, new_a), Edit(cb.start, cb.end, new_b))
        return RouteEdit(Rewrite(edits, cb.text, wa, wb), ca.text, "swap", "R")
    return None


def _refused(rw: LexicalRewriter, tok, old: str, new: str) -> bool:
    """Whether the slot counts refuse ``new`` in the slots ``tok`` (now ``old``) fills: a thing
    common enough to have been seen there and (nearly) never seen ("a sofa sitting"). Not the
    rule that a slot prefers the old word: "a cat chasing" is unseen because a dog chases more."""
    model = rw.__dict__.get("_exchange_relations")
    if model is None:
        model = rw.__dict__["_exchange_relations"] = replace(rw._relations, min_share=2.0)
    slots = [s for s in noun_slots(tok) if not s.endswith(">amod")]
    return any(model.refuses(s, old, new) for s in slots)
