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
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from ...text.inflect import all_verb_forms, pluralize
from ..core.anchor import Candidate, Routed
from ..core.edit import Edit
from ..knowledge.kinds import EXCHANGE_GROUP_OF, KIND_OF, SCALE_OF, base
from ..knowledge.relations import adjective_slots, lemma, noun_slots
from ..knowledge.tables import (
    ATTRIBUTE_FAMILIES,
    HEIGHT_PLACES,
    SHARED_CONTRASTS,
    SIDE_PLACES,
    SYMMETRIC_VERBS,
)
from .guards import (
    FEMALE,
    FEMININE_CLOTHES,
    GROUPS,
    HANDS,
    INVARIANT,
    MALE,
    MASS_NOUNS,
    NATURAL_COLOURS,
    PLURAL_ONLY,
    animal,
    animate,
    animate_only,
    colour_options,
    gendered_pronoun,
    holds_stated_contents,
    in_compound,
    repeated,
)
from .rewriter import LexicalRewriter, Rewrite

_FAMILY_OF = {w: name for name, members in ATTRIBUTE_FAMILIES.items() for w in members}
_SAME = ({"gray", "grey", "silver"}, {"big", "large", "huge", "giant"}, {"small", "little", "tiny"},
         {"tan", "brown", "beige"}, {"golden", "yellow"}, {"several", "many"}, {"old", "ancient", "antique"})
# sizes along one dimension: "a tall man beside a small dog" does not exchange
_DIMENSION = {**dict.fromkeys(("small", "large", "big", "little", "tiny", "huge", "giant"), "size"),
              **dict.fromkeys(("tall", "short"), "height"), "long": "length"}
_NOUN_TAGS_PLURAL = ("NNS", "NNPS")
LAST_RESORT_DRAW = 4.0  # the last resort draws a shared contrast four times as often as a route does
CONCRETE_PLACE = 4.0  # Brysbaert: "water" 4.97, "table" 4.9, "day" 3.6, "side" 3.6
PLACE_KINDS = frozenset({"room", "building", "landscape", "body of water", "ground", "way"})


@dataclass(frozen=True)
class RouteEdit:
    """What a route made: the rewrite, the word changed (its surface text), and the edit's kind."""

    rewrite: Rewrite
    target: str
    edit: str  # "replace" | "swap"
    role: str


def route_edit(rw: LexicalRewriter, doc, routed: Routed, rng: random.Random) -> RouteEdit | None:
    """The edit ``routed.route`` makes about ``routed.anchor``, or None when it has no good one."""
    anchor, cands = routed.anchor, routed.cands
    if routed.edit == "swap":  # the first pass over the anchors: exchanges only
        if routed.route == "A":
            return attribute_swap(rw, doc, anchor, rng)  # no move: see attribute_move
        return argument_swap(rw, doc, anchor, cands, rng) if routed.route == "R" else None
    if routed.edit == "last":  # the last resort: the rewriter's own checks only
        words = [anchor] if anchor.role != "O" or routed.route == "O" else own_attributes(doc, anchor, cands) \
            if routed.route == "A" else relation_words(doc, anchor, cands)
        for word in words:
            rewrite = rw.rewrite(doc, word, rng)
            if rewrite is None or not _keeps_class(doc[word.start], rewrite.replacement) \
                    or (word.role == "R" and not _sane(doc, word, rewrite)):
                continue
            if rng.random() < LAST_RESORT_DRAW * SHARED_CONTRASTS.get(rewrite.replacement, 1.0):
                return RouteEdit(rewrite, word.text, "replace", word.role)
        return None
    if routed.edit == "target":  # a word that is no thing changes itself, as with route="target"
        rewrite = rw.rewrite(doc, anchor, rng)
        if rewrite is None or not _keeps_class(doc[anchor.start], rewrite.replacement):
            return None
        if anchor.role == "R" and not _fair_contrast(rw, doc, anchor, rewrite, rng):
            return None
        return RouteEdit(rewrite, anchor.text, "replace", anchor.role)
    if routed.route == "O":
        rewrite = rw.rewrite(doc, anchor, rng)
        if rewrite is None or rng.random() >= SHARED_CONTRASTS.get(rewrite.replacement_key, 1.0):
            return None  # a person's contrast gives way to another edit, and comes back as the last resort
        return RouteEdit(rewrite, anchor.text, "replace", "O")
    if routed.route == "A":
        swap = attribute_swap(rw, doc, anchor, rng)  # no move: see attribute_move
        if swap is not None:
            return swap
        for word in own_attributes(doc, anchor, cands):
            rewrite = rw.rewrite(doc, word, rng)
            if rewrite is not None and _keeps_class(doc[word.start], rewrite.replacement):
                return RouteEdit(rewrite, word.text, "replace", "A")
        return None
    swap = argument_swap(rw, doc, anchor, cands, rng)
    if swap is not None:
        return swap
    for word in relation_words(doc, anchor, cands):
        rewrite = rw.rewrite(doc, word, rng)
        if rewrite is not None and _fair_contrast(rw, doc, word, rewrite, rng):
            return RouteEdit(rewrite, word.text, "replace", "R")
    return None


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


_NOUN_LIKE_FORMS = frozenset(f for v in NOUN_LIKE_VERBS for f in all_verb_forms(v).values())


def _root(doc, c: Candidate):
    return doc[c.start:c.end].root


def _covering(cands, i: int, role: str | None = None) -> Candidate | None:
    for c in cands:
        if c.start <= i < c.end and (role is None or c.role == role):
            return c
    return None


def _single(tok, role: str) -> Candidate:
    return Candidate(tok.i, tok.i + 1, tok.text, tok.lemma_.lower(), tok.pos_, tok.tag_, role, None)


# -- A: attributes
def _alone(tok) -> bool:
    """An attribute that is not one of a list ("brown and white", "brown white and black")."""
    doc = tok.doc
    for j in (tok.i - 1, tok.i + 1):
        if 0 <= j < len(doc) and (doc[j].dep_ in ("cc", "conj") or doc[j].lower_ in (",", "and", "or", "-")
                                  or _FAMILY_OF.get(doc[j].lower_) == _FAMILY_OF.get(tok.lower_)):
            return False
    return True


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
        return KIND_OF.get(base(tok.head.lemma_.lower())) is not None and (not animate(tok.head) or animal(tok.head))
    if _FAMILY_OF.get(new) != _FAMILY_OF.get(tok.lower_):  # "a brown horse ... an open field" -> "an open horse"
        slot = rw._relations.slots.get(f"amod<{base(tok.head.lemma_.lower())}", {}) if rw._relations else {}
        if not slot.get(new) and rw._relations is not None:
            return False
    family = ATTRIBUTE_FAMILIES.get(_FAMILY_OF.get(new, ""), ())
    if rw._relations is not None and tok.dep_ == "amod" and family:
        return bool(rw._relations.attested(adjective_slots(tok), tok.lower_, [new], family))
    return True


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


def attribute_move(rw: LexicalRewriter, doc, anchor: Candidate, rng: random.Random) -> RouteEdit | None:
    """The anchor's colour (or material, where real captions put it on the other thing) moves to
    another thing that the caption gives none (:func:`_colourable`:
    "a red car behind a truck" -> "a car behind a red truck"; "a man in a red shirt holding a cup"
    -> "a man in a shirt holding a red cup"): the caption's words, bound otherwise.

    Not routed to (kept for the record): blind readers rated 0 of 77 such moves good in audit
    round 7 (docs/audit/round7), nearly all as not contradicting the original photo, whose other
    thing may well have that colour too; exchanges between two things that both name one were 79%
    good (26 of 33)."""
    noun = _root(doc, anchor)
    movable = [t for t in _attribute_tokens(noun) if _family(t) in ("colour", "material") and t.dep_ == "amod"]
    if len(movable) != 1 or not _colourable(noun):
        return None  # "a blue sky", "a white man": no thing's colour to move
    a = movable[0]
    family = _family(a)
    if in_compound(doc, _single(a, "A")) or a.i + 1 >= len(doc):
        return None
    others = [t for t in doc if t.pos_ in ("NOUN", "PROPN") and t.i != noun.i and _colourable(t)
              and base(t.lemma_.lower()) != base(noun.lemma_.lower())]
    rng.shuffle(others)
    for other in others:
        c = _thing(doc, other, ())
        if c is None or other.dep_ in ("compound", "poss") or any(_family(t) == family for t in _attribute_tokens(other)) \
                or any(k.dep_ == "amod" and _FAMILY_OF.get(k.lower_) not in ("size", "material") for k in other.children):
            continue
        if other.i == a.i + 1:
            continue
        if family == "colour":
            fits = NATURAL_COLOURS.get(KIND_OF.get(base(other.lemma_.lower()), ""))
            if fits is not None and a.lower_ not in fits:
                continue
        elif animal(other) or not _attested(rw, other, a.lower_):
            continue  # "a wooden bench near a fence" -> "a bench near a wooden fence", never "a wooden dog"
        start = c[0].start
        while start > 0 and doc[start - 1].head.i == other.i and (doc[start - 1].dep_ in ("compound", "nmod") or _FAMILY_OF.get(
                doc[start - 1].lower_) == "material"):
            start -= 1  # "blue metal stools", not "metal blue stools"
        if start == a.i + 1 or (start > 0 and doc[start - 1].pos_ in ("NOUN", "PROPN")):
            continue  # "a bathroom black sink": the parse lost the compound
        first = doc[start].text if start or doc[start].pos_ == "PROPN" else doc[start].lower_
        edits = (Edit(a.i, a.i + 2, doc[a.i + 1].text), Edit(start, start + 1, f"{a.lower_} {first}"))
        return RouteEdit(Rewrite(edits, other.text, a.lower_, a.lower_), a.text, "swap", "A")
    return None


# collective and general nouns: their number and reference do not move with them
COLLECTIVE = GROUPS | {"people", "person", "persons", "crowd", "family", "team", "someone", "somebody", "everyone",
                       "group", "lot", "variety", "kind", "type", "set", "pile", "assortment"}
_FOODS = frozenset({"fast food", "baked good", "breakfast", "meat", "dish", "drink"})


def _attested(rw: LexicalRewriter, noun, adjective: str) -> bool:
    """Whether real captions put ``adjective`` on the noun (the shipped adjective slots)."""
    if rw._relations is None:
        return True
    return bool(rw._relations.slots.get(f"amod<{base(noun.lemma_.lower())}", {}).get(adjective))


def _colourable(tok) -> bool:
    """A thing a colour may move to: an animal, or a thing with a scale that is not food of no
    listed colours ("a blue sandwich"); not a person, not a place, not a group ("a white group")."""
    if tok.lemma_.lower() in COLLECTIVE or tok.dep_ == "compound":
        return False
    if animal(tok):
        return True
    kind = KIND_OF.get(base(tok.lemma_.lower()))
    return kind not in _FOODS and SCALE_OF.get(kind or "") is not None and not animate(tok)


def _group(tok) -> str | None:
    """A thing's exchange group (:data:`EXCHANGE_GROUPS`), "animal" for an animal."""
    if animal(tok):
        return "animal"
    return EXCHANGE_GROUP_OF.get(KIND_OF.get(base(tok.lemma_.lower()), ""))


def _family(tok) -> str | None:
    if tok.dep_ == "nummod":
        return "count" if _count(tok.lower_) is not None else None
    fam = _FAMILY_OF.get(tok.lower_)
    return None if fam in (None, "number", "posture") else fam


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
PERSON_ANIMAL_VERBS = frozenset({"chase", "follow", "watch", "lead", "approach", "photograph", "face"})
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
    listed = _listed(a, b)
    counts = {k for k in _modifiers(a) ^ _modifiers(b) if k.startswith("nummod:")}
    if listed and not counts and not (_modifiers(a) and _modifiers(b) and _modifiers(a) != _modifiers(b)):
        return False  # "a girl and a boy", "a little boy and girl": a list says the same of each; not "a black dog and a white cat"
    return _context(a, b) != _context(b, a)


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
