"""Which things fill which grammatical slots: attested (slot, word) counts from real captions.

A same-kind replacement can still be one the rest of the sentence cannot take: "flying a
volleyball" (kite), "a goat pulling a carriage" (horse), "a zebra eating gravel" (grass), "a man
combing his teeth" (brushing), "sitting on a forest" (field). The context prior
(:mod:`slipform.plant.knowledge.context`) sees which words a caption holds, not how they are related; the
slot model (:mod:`slipform.plant.knowledge.plausibility`) sees neighbouring words only. This model counts
grammatical slots from dependency parses:

- a noun's slot is its head and relation: ``fly>dobj`` (the object of "fly"), ``pull>nsubj`` (the
  subject of "pull", also "a horse *pulling* a cart"), ``on>pobj`` (the object of "on"), ``bunch
  of>pobj`` (what "a bunch of" counts: "of" selects by its noun);
- a verb's slot is a dependent it governs: ``dobj<teeth`` (verbs whose object is "teeth"),
  ``nsubj<elephant`` (verbs whose subject is "elephant");
- a preposition's object after a verb also fills the verb's own slot: ``graze in>pobj``;
- a noun's adjective names a slot of the noun (``frosted>amod``: what "frosted" describes), and
  the noun one of the adjective (``amod<fence``: the adjectives of a fence, "wooden" and not
  "glass").

A replacement never seen in a slot is refused when it is common enough that it would have been
seen there, or when the slot prefers the target (:class:`RelationModel`). Only words of the kinds table
(:data:`slipform.plant.knowledge.kinds.KIND_OF`) are counted as nouns, so two-word things ("hot dog") count
whole.

The counts ship with the package (``data/relation_prior.json``, counted by
``bench/build_context_prior.py`` from the same held-out captions as the context prior) and are
*blended* with the input's own (:class:`slipform.plant.knowledge.vocabulary.Vocabulary` counts them in its
pass over the input): the shipped prior lets 500 captions plant as well as 50,000, and a large
input's own usage widens what is attested.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources

from ...text.inflect import all_verb_forms
from .kinds import KIND_OF, base
from .tables import VERB_CONTRASTS

NOUN_SLOTS = ("nsubj", "dobj", "pobj")  # the relations a noun fills and the slot is named by
VERB_SLOTS = ("nsubj", "dobj")  # the dependents a verb's slot is named by


# the table's verbs by every form, so that the tagger's lemma slips ("riding" -> "rid") count right
_VERB_BASE = {form: verb for verb in VERB_CONTRASTS for form in all_verb_forms(verb)}


def lemma(token) -> str:
    """A token's lemma, a verb of the contrast table by its own form."""
    low = token.lower_
    return _VERB_BASE.get(low, token.lemma_.lower()) if token.pos_ in ("VERB", "AUX") else token.lemma_.lower()


def thing(token) -> str | None:
    """The kinds-table word a noun token names, a compound before it included ("hot dog")."""
    for child in token.children:
        if child.dep_ == "compound" and child.i == token.i - 1:
            two = f"{child.lemma_.lower()} {base(token.lemma_.lower())}"
            if two in KIND_OF:
                return two
    word = base(token.lemma_.lower())
    return word if word in KIND_OF else None


def noun_slots(token) -> list[str]:
    """The slots a noun token fills: as subject, object or a preposition's object; a conjunct
    ("a couch, chair and television") fills its first conjunct's slot; a noun a participle
    modifies is that verb's subject ("a horse pulling a cart")."""
    first = token
    while first.dep_ == "conj" and first.head.i != first.i:
        first = first.head
    out = []
    head = first.head
    if first.dep_ == "pobj" and head.lower_ == "of" and head.head.pos_ == "NOUN":
        out.append(f"{head.head.lemma_.lower()} of>pobj")  # "of" selects by its noun: "a bunch of bananas"
    elif first.dep_ in NOUN_SLOTS and head.i != first.i:
        out.append(f"{lemma(head)}>{first.dep_}")
    if first.dep_ == "pobj" and head.dep_ == "prep" and head.head.pos_ == "VERB":
        out.append(f"{lemma(head.head)} {head.lower_}>pobj")  # "grazing in the grass", "kicking ... around a field"
    for child in token.children:
        if child.dep_ in ("acl", "relcl") and child.pos_ == "VERB" and child.tag_ in ("VBG", "VBZ", "VBP", "VBD"):
            if not any(c.dep_ in ("nsubj", "nsubjpass") for c in child.children):
                out.append(f"{lemma(child)}>nsubj")
        elif child.dep_ == "amod" and child.i < token.i and child.is_alpha:
            out.append(f"{child.lower_}>amod")  # what "frosted" or "electrical" describes
    return out


def adjective_slots(adjective) -> list[str]:
    """The slot an adjective before its noun fills: ``amod<fence`` (what describes a fence)."""
    if adjective.dep_ != "amod" or (word := _noun(adjective.head)) is None:
        return []
    return [f"amod<{word}"]


def _noun(token) -> str | None:
    """A noun token's word for a verb's slot: its kinds-table thing, else its lemma."""
    if token.pos_ != "NOUN":
        return None
    return thing(token) or base(token.lemma_.lower())


def verb_slots(verb) -> list[str]:
    """The slots a verb token is named by: its subject's and its object's nouns ("teeth" too)."""
    out = []
    for child in verb.children:
        if child.dep_ in VERB_SLOTS and (word := _noun(child)) is not None:
            out.append(f"{child.dep_}<{word}")
    if verb.dep_ in ("acl", "relcl") and not any(c.dep_ in ("nsubj", "nsubjpass") for c in verb.children):
        if (word := _noun(verb.head)) is not None:
            out.append(f"nsubj<{word}")
    return out


@dataclass
class RelationModel:
    """Counts of words by slot (``slots[slot][word]``) and the rule that reads them.

    A replacement ``r`` of ``target`` is refused in a slot when either
    - ``r`` is common enough among its peers (the target's kind; every verb for a verb) that it
      would have been seen there ``min_expected`` times had the slot no preference, and was seen
      less than ``min_ratio`` of that ("on a park": park is common, and never "on"; "on a cup":
      once, where 17 were expected — a parse slip), or
    - ``r`` was never seen there, the slot is known (its peers seen ``min_slot`` times) and it
      prefers the target: the target fills ``min_share`` of its peers' uses ("flying a kite": 50
      of 50; "brushing teeth": 10 of 12) -- not for an adjective's slot (``wooden>amod``), which
      spreads over too many things for a few uses to show a preference.
    A rare replacement in a slot that spreads over many peers passes this rule: absence means
    little there. Rare things are refused as object replacements altogether (:meth:`known`): with
    no evidence of where they appear, they are the implausible ones ("a hamster walking in front
    of a woman", "a sled on a wave").
    """

    slots: dict[str, Counter] = field(default_factory=dict)
    min_slot: int = 5
    min_expected: float = 1.0
    min_share: float = 0.4
    min_ratio: float = 0.1
    min_known: int = 8

    def add(self, doc) -> None:
        """Count one parsed caption's noun and verb slots."""
        for tok in doc:
            if tok.pos_ in ("NOUN", "PROPN") and (word := thing(tok)) is not None:
                for slot in noun_slots(tok):
                    self.slots.setdefault(slot, Counter())[word] += 1
            elif tok.pos_ == "VERB":
                for slot in verb_slots(tok):
                    self.slots.setdefault(slot, Counter())[lemma(tok)] += 1
            if tok.dep_ == "amod" and tok.is_alpha:
                for slot in adjective_slots(tok):
                    self.slots.setdefault(slot, Counter())[tok.lower_] += 1

    def blended(self, other: RelationModel | None) -> RelationModel:
        """This model's counts plus ``other``'s (the shipped prior plus the input's own)."""
        if other is None or not other.slots:
            return self
        merged = {s: Counter(c) for s, c in self.slots.items()}
        for s, c in other.slots.items():
            merged.setdefault(s, Counter()).update(c)
        return RelationModel(merged, self.min_slot, self.min_expected, self.min_share, self.min_ratio, self.min_known)

    @cached_property
    def _totals(self) -> Counter:
        """Every word's count over all slots of its side (noun slots ``>``, verb slots ``<``)."""
        totals: Counter = Counter()
        for slot, counts in self.slots.items():
            side = "<" if "<" in slot else ">"
            for w, n in counts.items():
                totals[side, w] += n
        return totals

    def refuses(self, slot: str, target: str, word: str, peers: tuple[str, ...] | None = None) -> bool:
        """Whether ``word`` may not replace ``target`` in ``slot`` (the rule above). ``peers``: the
        words the slot's preference is measured among (None: every word seen in the slot)."""
        counts = self.slots.get(slot)
        if counts is None:
            return False
        seen = counts.get(word, 0)
        side = "<" if "<" in slot else ">"
        peers = tuple(counts) if peers is None else peers
        in_slot = sum(counts.get(w, 0) for w in peers)
        overall = sum(self._totals.get((side, w), 0) for w in {*peers, target, word})
        if not in_slot or not overall:
            return False
        expected = in_slot * self._totals.get((side, word), 0) / overall
        if expected >= self.min_expected and seen < self.min_ratio * expected:
            return True
        if slot.endswith(">amod"):  # "wooden" describes fences and gates alike: a few fences prove no preference
            return False
        return not seen and in_slot >= self.min_slot and counts.get(target, 0) / in_slot >= self.min_share

    def known(self, word: str) -> bool:
        """Whether real captions name the thing ``word`` often enough (``min_known`` uses in any
        noun slot) for a photo of it in a caption's slot to be judged at all."""
        return self._totals.get((">", word), 0) >= self.min_known

    def familiar(self, options: list[str], peers: tuple[str, ...] | None) -> list[str]:
        """The ``options`` real captions name often enough (:meth:`known`) -- when the counts know
        the kind at all: where no peer is known (shapes, in photo captions), nothing is judged."""
        if peers is not None and not any(self.known(w) for w in peers):
            return options
        return [w for w in options if self.known(w)]

    def attested(self, slots: list[str], target: str, options: list[str],
                 peers: tuple[str, ...] | None = None) -> list[str]:
        """The ``options`` no slot refuses."""
        return [w for w in options if not any(self.refuses(s, target, w, peers) for s in slots)]

    def to_dict(self) -> dict:
        return {s: dict(sorted(c.items())) for s, c in sorted(self.slots.items())}

    @classmethod
    def from_dict(cls, d: dict | None) -> RelationModel:
        return cls({s: Counter(c) for s, c in (d or {}).items()})


@lru_cache(maxsize=1)
def shipped_relations() -> RelationModel:
    """The prior shipped with the package (loaded once)."""
    text = resources.files("slipform").joinpath("data/relation_prior.json").read_text(encoding="utf-8")
    return RelationModel.from_dict(json.loads(text)["slots"])
