"""The input's own words and slot model: what the vocabulary pass of ``slipform plant`` counts.

Shared by ConcretePlant (which builds and caches it per input) and the backends that draw
replacements or score them (:mod:`slipform.plant.lexical.rewriter`, the LLM backends' plausibility).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ...lexicon import Lexicon
from ...text.inflect import pluralize, verb_form
from .plausibility import SlotModel
from .relations import RelationModel
from .tables import ATTRIBUTE_FAMILIES, OBJECT_FALLBACK, VERB_CONTRASTS

_ADJECTIVES = {w for members in ATTRIBUTE_FAMILIES.values() for w in members}


@dataclass
class Vocabulary:
    """Lemmas by role seen in the input captions, plus the built-in fallback lists, the slot
    model (:mod:`slipform.plant.knowledge.plausibility`) and the input's grammatical slots
    (:mod:`slipform.plant.knowledge.relations`, blended with the shipped prior) counted over the same captions."""

    nouns: list[str] = field(default_factory=list)
    adjectives: list[str] = field(default_factory=list)
    verbs: list[str] = field(default_factory=list)
    slots: SlotModel = field(default_factory=SlotModel)
    relations: RelationModel = field(default_factory=RelationModel)

    @classmethod
    def from_docs(cls, docs, lexicon: Lexicon, min_count: int = 2) -> Vocabulary:
        """Words seen at least ``min_count`` times: a tagger's one-off slips ("eat" as a noun) stay out.

        Only lemmas the lexicon rates are kept, so a misspelling in the input ("potatos") never
        becomes a replacement."""
        counts: dict[str, Counter] = {"n": Counter(), "a": Counter(), "v": Counter()}
        slots, relations = SlotModel(), RelationModel()
        for doc in docs:
            if doc.has_annotation("DEP"):
                slots.add(doc)
                relations.add(doc)
            for tok in doc:
                low, lemma = tok.lower_, tok.lemma_.lower()
                if not lemma.isalpha() or lemma not in lexicon:
                    continue
                # keep a lemma only when our own inflector reproduces what the caption wrote,
                # which filters the tagger's lemma slips ("riding" -> "rid")
                singular = tok.tag_ == "NN" and low == lemma
                if tok.pos_ == "NOUN" and (singular or (tok.tag_ == "NNS" and pluralize(lemma) == low != lemma)):
                    counts["n"][lemma] += 1
                elif tok.pos_ == "ADJ" and low == lemma:
                    counts["a"][lemma] += 1
                elif tok.pos_ == "VERB" and verb_form(lemma, tok.tag_) == low:
                    counts["v"][lemma] += 1
        keep = {k: sorted(w for w, n in c.items() if n >= min_count) for k, c in counts.items()}
        return cls(keep["n"], keep["a"], keep["v"], slots, relations)

    def merged(self, fallback: bool = True) -> Vocabulary:
        """In-domain words, with the built-in lists unless ``fallback`` is off, without duplicates."""
        if not fallback:
            return Vocabulary(sorted(set(self.nouns)), sorted(set(self.adjectives)), sorted(set(self.verbs)),
                              self.slots, self.relations)
        return Vocabulary(sorted(set(self.nouns) | set(OBJECT_FALLBACK)),
                          sorted(set(self.adjectives) | _ADJECTIVES),
                          sorted(set(self.verbs) | set(VERB_CONTRASTS)), self.slots, self.relations)

    def to_dict(self) -> dict:
        return {"nouns": self.nouns, "adjectives": self.adjectives, "verbs": self.verbs,
                "slots": self.slots.to_dict(), "relations": self.relations.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> Vocabulary:
        return cls(list(d["nouns"]), list(d["adjectives"]), list(d["verbs"]), SlotModel.from_dict(d.get("slots")),
                   RelationModel.from_dict(d.get("relations")))
