"""NegCLIP-style negatives: two parts of the caption exchange places.

Yuksekgonul et al. (2023) built NegCLIP's negatives by swapping two nouns, two adjectives,
two noun phrases or two verb phrases ("A child holding a flowered umbrella and petting a
yak" -> "A child petting a flowered umbrella and holding a yak"). Shipping the baseline in
the same tool lets both kinds of negatives go through one trainer and one record format.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..core.anchor import caption_rng
from ..core.backend import Backend, Job, Proposal, register
from ..core.edit import Edit, apply_edits

KINDS = ("noun", "adjective", "noun_phrase", "verb_phrase")
ROLE_OF_KIND = {"noun": "O", "adjective": "A", "noun_phrase": "O", "verb_phrase": "R"}


@dataclass(frozen=True)
class Swap:
    kind: str
    first: tuple[int, int]
    second: tuple[int, int]


def _spans(doc, kind: str) -> list[tuple[int, int]]:
    if kind == "noun":
        return [(t.i, t.i + 1) for t in doc if t.pos_ in ("NOUN", "PROPN")]
    if kind == "adjective":
        return [(t.i, t.i + 1) for t in doc if t.pos_ == "ADJ"]
    if kind == "noun_phrase":
        # without leading determiners, so "a" and "the" stay where the grammar wants them
        out = []
        for chunk in doc.noun_chunks:
            start = chunk.start
            while start < chunk.end - 1 and doc[start].pos_ in ("DET", "PRON"):
                start += 1
            if chunk.end - start >= 2:
                out.append((start, chunk.end))
        return out
    # a verb with its particles ("looking up")
    out = []
    for t in doc:
        if t.pos_ == "VERB":
            end = t.i + 1
            while end < len(doc) and doc[end].dep_ == "prt":
                end += 1
            out.append((t.i, end))
    return out


def propose_swaps(doc, rng: random.Random) -> list[Swap]:
    """Possible swaps in random order: kinds shuffled, then pairs whose words differ."""
    kinds = list(KINDS)
    rng.shuffle(kinds)
    found = []
    for kind in kinds:
        spans = _spans(doc, kind)
        pairs = [(a, b) for i, a in enumerate(spans) for b in spans[i + 1:]
                 if doc[a[0]:a[1]].text.lower() != doc[b[0]:b[1]].text.lower()]
        rng.shuffle(pairs)
        found.extend(Swap(kind, a, b) for a, b in pairs[:2])
    return found


def swap_edits(doc, swap: Swap) -> tuple[Edit, Edit]:
    (a0, a1), (b0, b1) = swap.first, swap.second
    a_text, b_text = doc[a0:a1].text, doc[b0:b1].text
    # the word that moves to the front of the caption takes the capital, the other loses it (a name keeps it)
    if a0 == 0 and a_text[:1].isupper():
        b_text = b_text[:1].upper() + b_text[1:]
        if doc[a0].pos_ != "PROPN":
            a_text = a_text[:1].lower() + a_text[1:]
    return Edit(a0, a1, b_text), Edit(b0, b1, a_text)


@register("negclip")
class SwapBackend(Backend):
    """NegCLIP's baseline: each caption's targets are its possible swaps, in random order."""

    one_change = False  # a swap changes two places

    needs_vocabulary = False

    def targets(self, item, doc) -> list[Swap]:
        return propose_swaps(doc, caption_rng(self.plant.config.seed, item.id, "swap"))

    def no_target_reason(self, doc) -> str:
        return "nothing to swap"

    def rewrite(self, jobs: list[Job]) -> list[Proposal | str]:
        out: list[Proposal | str] = []
        lexicon = self.plant.lexicon
        for job in jobs:
            doc, swap = job.doc, job.target
            negative = apply_edits(doc, list(swap_edits(doc, swap)))
            first, second = doc[slice(*swap.first)], doc[slice(*swap.second)]
            rated = [r for r in (lexicon.lookup(t.text, t.lemma_) for t in first) if r is not None]
            out.append(Proposal(negative, first.text, ROLE_OF_KIND[swap.kind], max(rated) if rated else None,
                                second.text, (first.text.lower(), second.text.lower()), extra={"swap": swap.kind},
                                edit="swap"))
        return out
