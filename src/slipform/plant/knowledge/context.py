"""Which things appear together in photos: a shipped prior that keeps object changes in context.

A same-kind replacement can still clash with the rest of the caption: "a man on skis standing in
the dirt" (snow -> dirt), "a tennis player with a bat" (racket -> bat), "a kitchen with a stove"
-> "a bathroom with a stove". The slot model sees a word's neighbours only; this model sees the
whole caption. It counts, over real captions, in how many a thing of the kinds table
(:data:`slipform.plant.knowledge.kinds.KIND_OF`) appears with each other word.

A replacement is *out of context* when a word of the caption goes with the target (seen with it
in at least ``min_pair`` captions, and at least ``min_lift`` times as often as chance) and never
with the replacement, although the replacement is common enough that, were it as tied to the word
as the target is, it would have been seen with it ``min_expected`` times or more — or the word is
so tied to the target (in ``min_share`` of its captions: "flies" for kite, "bed" for bedroom) that a
replacement never seen with it is no fit, however rare ("flies a volleyball", "a classroom with
books on the bed").

The counts ship with the package (``data/context_prior.json``), counted by
``bench/build_context_prior.py`` from the captions of VALSE and of NegCLIP's COCO validation
file that the repository carries with their licences (MIT), leaving out every caption of
SugarCrepe, of the bundled sample and of bench/audit.py's NegCLIP sample, so that the audit
never reads captions the prior was counted on.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from .kinds import KIND_OF, base

STOPWORDS = frozenset("""a an the of in on at to with and or is are was were be been being it its this that
these those there their his her he she they them some two three one of for from by as near next top front
while who which what very small large big little other another up down over under into onto out off""".split())
_WORD = re.compile(r"[a-z]+")


def caption_terms(caption: str) -> set[str]:
    """The caption's words in the kinds table's form, two-word things ("hot dog") joined."""
    tokens = [base(w) for w in _WORD.findall(caption.lower())]
    terms = {t for t in tokens if t not in STOPWORDS and len(t) > 1}
    terms |= {f"{a} {b}" for a, b in zip(tokens, tokens[1:]) if f"{a} {b}" in KIND_OF}
    return terms


@dataclass
class ContextModel:
    """Caption counts of things (``things``) and of (thing, word) pairs (``pairs``)."""

    things: Counter = field(default_factory=Counter)
    words: Counter = field(default_factory=Counter)
    pairs: dict[str, Counter] = field(default_factory=dict)
    captions: int = 0
    min_pair: int = 3
    min_lift: float = 3.0
    min_expected: float = 3.0
    min_share: float = 0.15

    def add(self, caption: str) -> None:
        terms = caption_terms(caption)
        self.captions += 1
        self.words.update(terms)
        for t in terms:
            if t in KIND_OF:
                self.things[t] += 1
                self.pairs.setdefault(t, Counter()).update(terms - {t})

    def clash(self, target: str, replacement: str, caption: str) -> str | None:
        """A word of ``caption`` that goes with ``target`` and never with ``replacement``, or None."""
        return self._clash(base(target), base(replacement), caption_terms(caption))

    def fitting(self, target: str, options: list[str], caption: str) -> list[str]:
        """The ``options`` that clash with no word of ``caption`` (its words read once)."""
        terms, target = caption_terms(caption), base(target)
        return [w for w in options if self._clash(target, base(w), terms) is None]

    def _clash(self, target: str, replacement: str, terms: set[str]) -> str | None:
        n_t, n_r = self.things.get(target, 0), self.things.get(replacement, 0)
        if not n_t or not n_r:
            return None
        seen_t, seen_r = self.pairs.get(target, Counter()), self.pairs.get(replacement, Counter())
        for word in sorted(terms - {target, *target.split()}):
            together, n_w = seen_t.get(word, 0), self.words.get(word, 0)
            if together < self.min_pair or not n_w or seen_r.get(word, 0):
                continue
            lift = together * self.captions / (n_t * n_w)
            expected = n_r * together / n_t
            if lift >= self.min_lift and (expected >= self.min_expected or together / n_t >= self.min_share):
                return word
        return None

    def to_dict(self) -> dict:
        return {"captions": self.captions, "things": dict(self.things), "words": dict(self.words),
                "pairs": {t: dict(c) for t, c in sorted(self.pairs.items())}}

    @classmethod
    def from_dict(cls, d: dict) -> ContextModel:
        return cls(things=Counter(d["things"]), words=Counter(d["words"]), pairs={t: Counter(c) for t, c in d["pairs"].items()},
                   captions=d["captions"])


@lru_cache(maxsize=1)
def shipped_context() -> ContextModel:
    """The prior shipped with the package (loaded once)."""
    text = resources.files("slipform").joinpath("data/context_prior.json").read_text(encoding="utf-8")
    return ContextModel.from_dict(json.loads(text))
