"""How well a word fits a slot of a caption: selectional preferences counted from the input.

A related word is not yet a plausible one: "a plate with a fried pillow" changes one
concrete word for a related one, and a text-only model rejects it because nothing is
fried pillows. The slot model counts, over the captions the vocabulary pass reads, which
lemma fills which *slot feature*:

- ``L`` / ``R``: the word just before / after it ("fried _", "_ on");
- ``H``: its dependency and head lemma ("_ is the dobj of fry", "_ is the nsubj of ride");
- ``C``: each dependent it governs, with the dependency ("_ has an amod fried").

The plausibility of a word ``w`` in a target's slot is the mean, over the slot's features
``f``, of ``log P(w | f)``, each smoothed towards the word's overall frequency (Dirichlet
prior of weight ``prior``): a word seen in a feature scores high, an unseen feature backs off
to how common the word is. Scores are natural-log probabilities (0 is certain; about -3 is a
word this slot often takes; below -10 one it never saw). The counts are plain corpus
statistics, like the vocabulary's: a 5,000-caption pass is about 50,000 slots.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from ...text.inflect import all_verb_forms, pluralize, verb_form

_SKIP_DEPS = frozenset(("det", "punct", "cc", "case", "aux", "auxpass"))
CONTENT_POS = frozenset(("NOUN", "PROPN", "ADJ", "VERB", "ADP", "NUM"))


def slot_features(doc, start: int, end: int) -> list[tuple[str, ...]]:
    """The features of tokens ``start:end`` as a slot (the span's root carries H and C)."""
    feats = [("L", doc[start - 1].lower_ if start > 0 else "<s>"),
             ("R", doc[end].lower_ if end < len(doc) else "</s>")]
    span = doc[start:end]
    root = span.root if end - start > 1 else doc[start]
    if root.head.i != root.i and not start <= root.head.i < end:
        feats.append(("H", root.dep_, root.head.lemma_.lower()))
    for child in root.children:
        if not start <= child.i < end and child.dep_ not in _SKIP_DEPS and child.is_alpha:
            feats.append(("C", child.dep_, child.lemma_.lower()))
    return feats


def _lemma(tok) -> str:
    """spaCy's lemma, repaired where its small model drops a verb's final e ("riding" -> "rid"),
    so that counts meet the rewriter's lemmas."""
    if tok.pos_ == "ADP":
        return tok.lower_
    lemma = tok.lemma_.lower()
    if tok.pos_ in ("VERB", "AUX") and tok.tag_.startswith("VB") and verb_form(lemma, tok.tag_) != tok.lower_ \
            and verb_form(lemma + "e", tok.tag_) == tok.lower_:
        return lemma + "e"
    return lemma


def _key(feature: tuple[str, ...]) -> str:
    return "\t".join(feature)


@dataclass
class SlotModel:
    """Counts of (slot feature, lemma) and of lemmas; built by :meth:`add` over parsed captions."""

    pairs: Counter = field(default_factory=Counter)  # "feature\tlemma" -> count
    features: Counter = field(default_factory=Counter)  # "feature" -> count
    words: Counter = field(default_factory=Counter)  # lemma -> count
    prior: float = 2.0

    def add(self, doc) -> None:
        """Count every content word of one parsed caption in its slot."""
        for tok in doc:
            if tok.pos_ not in CONTENT_POS or not tok.is_alpha:
                continue
            lemma = _lemma(tok)
            self.words[lemma] += 1
            self.__dict__.pop("_unigram_norm", None)  # derived from the counts: recomputed on use
            self.__dict__.pop("_forms", None)
            for feat in slot_features(doc, tok.i, tok.i + 1):
                k = _key(feat)
                self.features[k] += 1
                self.pairs[k + "\t" + lemma] += 1

    @cached_property
    def _unigram_norm(self) -> float:
        return sum(self.words.values()) + 0.1 * (len(self.words) + 1)

    def _unigram(self, word: str) -> float:
        return (self.words.get(word, 0) + 0.1) / self._unigram_norm

    def score(self, features: list[tuple[str, ...]], word: str) -> float:
        """Mean smoothed log P(word | feature) over the slot's features."""
        return self.score_many(features, [word])[0]

    def score_many(self, features: list[tuple[str, ...]], words: list[str]) -> list[float]:
        """:meth:`score` of each of ``words`` in one slot."""
        keys = [_key(f) + "\t" for f in features]
        if not keys:
            return [math.log(self._unigram(w)) for w in words]
        norm = sum(math.log(self.features.get(k[:-1], 0) + self.prior) for k in keys)
        pairs, prior, log, n, out = self.pairs, self.prior, math.log, len(keys), []
        for word in words:
            floor = prior * self._unigram(word)
            total, unseen = 0.0, 0
            for k in keys:
                c = pairs.get(k + word)
                if c is None:
                    unseen += 1
                else:
                    total += log(c + floor)
            out.append((total + unseen * log(floor) - norm) / n)
        return out

    def lemma(self, surface: str) -> str:
        """The counted lemma an inflected word belongs to ("riding" -> "ride"), else the word itself.

        For text that was never parsed, such as an LLM's replacement."""
        low = surface.lower()
        return low if low in self.words else self._forms.get(low, low)

    @cached_property
    def _forms(self) -> dict[str, str]:
        """Plural and verb forms of every counted lemma -> the lemma."""
        forms: dict[str, str] = {}
        for w in self.words:
            forms.setdefault(pluralize(w), w)
            for form in all_verb_forms(w):
                forms.setdefault(form, w)
        return forms

    def to_dict(self) -> dict:
        return {"pairs": dict(self.pairs), "features": dict(self.features), "words": dict(self.words),
                "prior": self.prior}

    @classmethod
    def from_dict(cls, d: dict | None) -> SlotModel:
        if not d:
            return cls()
        return cls(Counter(d["pairs"]), Counter(d["features"]), Counter(d["words"]), float(d.get("prior", 2.0)))
