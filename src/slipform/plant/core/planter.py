"""ConcretePlant on parsed captions: choose targets, route them, rewrite, and make records.

This module holds no I/O; :mod:`slipform.plant.engine.runner` streams files through it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from ...lexicon import Lexicon, load_lexicon
from ...text.io import Caption
from .anchor import (
    ROLES,
    ROUTINGS,
    STRATEGIES,
    Candidate,
    Routed,
    anchor_routes,
    candidates,
    caption_rng,
    select_targets,
)
from .backend import Backend, Job, Proposal, backend_names, get_backend
from .balance import ReplacementCap
from .record import NegativeRecord
from .verify import check_negative, get_verifier


@dataclass(frozen=True)
class LLMConfig:
    """Settings of the ``hf`` and ``openai`` backends."""

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    batch_size: int = 16
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    attempts: int = 2  # rounds of asking before a caption is skipped
    max_new_tokens: int = 64


@dataclass(frozen=True)
class PlantConfig:
    """What to plant: one frozen value passed from the CLI or the Python API down to workers."""

    k: int = 3
    strategy: str = "concrete"
    backend: str = "lexical"
    negatives_per_caption: int = 1
    seed: int = 0
    role_weights: tuple[tuple[str, float], ...] | None = None
    # "anchor": concreteness picks a thing, the route (A/R/O) what changes about it; "target": the
    # picked word itself changes, routed by its part of speech (slipform.plant.core.anchor)
    route: str = "anchor"
    lexicon_path: str | None = None
    lexicon_source: str = "brysbaert"
    spacy_model: str | None = None
    band: tuple[float, float] = (0.30, 0.75)
    caption_similarity: bool = False
    max_words: int = 128
    vocab_sample: int = 5000
    fallback_vocabulary: bool = True  # False: replacements only from the input's own words
    plausibility: bool = True  # rank replacements by how well they fit the target's slot
    min_plausibility: float | None = None  # drop replacements scoring below (mean log-probability)
    same_kind: bool = True  # replacements of the target's kind only (slipform.plant.knowledge.kinds); False: the old band
    verifier: str | None = None  # a registered check of every negative before it is written (slipform.plant.core.verify)
    # the most one replacement word may take of the negatives of a chunk (slipform.plant.core.balance); None (the
    # default): no cap, so that the output never depends on chunk size, workers or shards
    max_replacement_share: float | None = None
    lm_scorer: str | None = None  # a causal LM scoring every negative (slipform.plant.knowledge.lmscore); off by default
    min_lm_score: float | None = None  # with lm_scorer: reject negatives scoring below (log P(neg) - log P(caption))
    llm: LLMConfig = field(default_factory=LLMConfig)

    def __post_init__(self):
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; choose from {STRATEGIES}")
        if self.route not in ROUTINGS:
            raise ValueError(f"unknown route {self.route!r}; choose from {ROUTINGS}")
        if self.negatives_per_caption < 1:
            raise ValueError("negatives_per_caption must be >= 1")
        lo, hi = self.band
        if not -1.0 <= lo < hi <= 1.0:
            raise ValueError(f"similarity band must satisfy -1 <= lo < hi <= 1, got {self.band}")
        get_backend(self.backend).check(self)
        if self.verifier is not None:
            get_verifier(self.verifier)
        if self.max_replacement_share is not None and not 0 < self.max_replacement_share <= 1:
            raise ValueError(f"max_replacement_share must be in (0, 1], got {self.max_replacement_share}")
        if self.min_lm_score is not None and self.lm_scorer is None:
            raise ValueError("min_lm_score needs lm_scorer (a causal LM to score the negatives)")

    @property
    def weights(self) -> dict[str, float] | None:
        return dict(self.role_weights) if self.role_weights else None


@dataclass
class Planted:
    records: list[dict]
    skipped: list[dict]
    rejected: Counter = field(default_factory=Counter)  # proposals the checks refused, by reason


_LETTERS = re.compile(r"[^\W\d_]+")


def screen(caption: str, lexicon: Lexicon, max_words: int) -> str | None:
    """Why a caption cannot be planted before parsing it, or None."""
    if not caption.strip():
        return "empty caption"
    n_words = len(caption.split())
    if n_words > max_words:
        return f"caption longer than {max_words} words"
    tokens = _LETTERS.findall(caption)
    if not tokens:
        return "no words"
    ascii_share = sum(t.isascii() for t in tokens) / len(tokens)
    known = sum(t.lower() in lexicon for t in tokens) / len(tokens)
    if ascii_share < 0.5 or (len(tokens) >= 3 and known < 0.5):
        return "not English"
    return None


class ConcretePlant:
    """Plant hard negatives in parsed captions (spaCy ``Doc`` objects).

    The one per-caption loop lives here; what a negative looks like is the backend's
    (:mod:`slipform.plant.core.backend`). ``vocabulary`` is the input's
    :class:`~slipform.plant.knowledge.vocabulary.Vocabulary` (words by role and the slot model).
    """

    def __init__(self, config: PlantConfig = PlantConfig(), vocabulary=None):
        self.config = config
        self._vocabulary = vocabulary

    @cached_property
    def lexicon(self) -> Lexicon:
        return load_lexicon(self.config.lexicon_path, self.config.lexicon_source)

    @cached_property
    def vectors(self):
        from ..knowledge.embed import WordVectors

        return WordVectors()

    @cached_property
    def vocabulary(self):
        from ..knowledge.vocabulary import Vocabulary

        return self._vocabulary if self._vocabulary is not None else Vocabulary()

    @property
    def slots(self):
        """The input's slot model (:mod:`slipform.plant.knowledge.plausibility`)."""
        return self.vocabulary.slots

    @cached_property
    def backend(self) -> Backend:
        return get_backend(self.config.backend)(self)

    def targets(self, item: Caption, doc) -> list[Candidate | Routed]:
        """What the caption tries, in order: its top-k candidates by the strategy (``route="target"``),
        or its top-k anchors, each with its routes, then its other top-k candidates (``"anchor"``)."""
        cands = candidates(doc, self.lexicon)
        rng = caption_rng(self.config.seed, item.id, "target")
        if self.config.route == "anchor" and self.backend.routes:
            return anchor_routes(cands, self.config.strategy, self.config.k, rng, self.config.weights)
        return select_targets(cands, self.config.strategy, self.config.k, rng, self.config.weights)

    def no_target_reason(self, doc) -> str:
        cands = candidates(doc, self.lexicon)
        if not cands:
            return "no candidate word"
        return "no rated candidate" if self.config.strategy != "random" else "no candidate word"

    def plant(self, items: list[Caption], docs: list) -> Planted:
        """Records (one per negative) and skips (one per caption without a negative).

        Each round sends every caption's next targets from its queue (one per negative it still
        lacks) to the backend in one batch, until every caption has its negatives or an empty queue.
        """
        backend, need = self.backend, self.config.negatives_per_caption
        queues, reasons = [], {}
        for i, (item, doc) in enumerate(zip(items, docs)):
            order = backend.targets(item, doc)
            if not order:
                reasons[i] = backend.no_target_reason(doc)
            queues.append(backend.queue(order, need))
        rngs = [caption_rng(self.config.seed, item.id, "rewrite") for item in items]
        made, done, written = [0] * len(items), [[] for _ in items], [[] for _ in items]
        records, rejected = [], Counter()
        share = self.config.max_replacement_share
        cap, held = ReplacementCap(share) if share is not None else None, {}  # held: the refused negatives per caption
        while True:
            jobs = []
            for i, queue in enumerate(queues):
                want = need - made[i]
                while want > 0 and queue:
                    target = queue.pop(0)
                    if target in done[i]:
                        continue
                    jobs.append(Job(i, items[i], docs[i], target, rngs[i]))
                    want -= 1
            if not jobs:
                break
            passed = []
            for job, answer in zip(jobs, backend.rewrite(jobs)):
                i = job.index
                if isinstance(answer, str):
                    reasons[i] = answer
                    continue
                why = check_negative(job.item.caption, answer.negative, answer.role, *answer.keys,
                                     one_change=backend.one_change, same_kind=self.config.same_kind and backend.one_change,
                                     verifier=self.config.verifier, edit=answer.edit)
                if why is not None:
                    reasons[i] = why
                    rejected[why] += 1
                    continue
                passed.append((job, answer))
            scores = self._lm_scores(passed)
            for (job, answer), score in zip(passed, scores):
                i = job.index
                floor = self.config.min_lm_score
                if score is not None and floor is not None and score < floor:
                    why = "below the language-model floor"
                    reasons[i] = why
                    rejected[why] += 1
                    continue
                if made[i] == need or job.target in done[i]:
                    continue
                if any(neg == answer.negative for neg in written[i]):
                    rejected["same negative as another of the caption"] += 1  # a swap two anchors share
                    continue
                if cap is not None and answer.edit != "swap" and not cap.allows(answer.replacement):
                    rejected["replacement over its share"] += 1  # the caption tries its next target
                    held.setdefault(i, []).append((job, answer, score))
                    continue
                self._write(records, i, job, answer, score, cap)
                made[i] += 1
                done[i].append(job.target)
                written[i].append(answer.negative)
        for i, refused in held.items():  # coverage before balance: the refused word least written so far
            if made[i]:
                continue
            job, answer, score = min(refused, key=lambda r: cap.counts[r[1].replacement.lower()])
            if cap.allows(answer.replacement, last=True):
                self._write(records, i, job, answer, score, cap)
                made[i] += 1
            else:
                reasons[i] = "replacement over its share"
        # in caption order, whichever round each was made in: the output does not depend on chunking
        records = [rec for _, rec in sorted(records, key=lambda pair: pair[0])]
        skipped = [{"id": item.id, "reason": reasons.get(i, "no replacement found")}
                   for i, item in enumerate(items) if not made[i]]
        self._fill_similarity(records)
        return Planted(records, skipped, rejected)

    def _write(self, records: list, i: int, job: Job, answer: Proposal, score: float | None, cap) -> None:
        rec = self._record(job.item, answer)
        if score is not None:
            rec["lm_score"] = score
        records.append((i, rec))
        if cap is not None:
            cap.add(answer.replacement)

    @cached_property
    def scorer(self):
        from ..knowledge.lmscore import load_scorer

        return load_scorer(self.config.lm_scorer, self.config.llm.batch_size)

    def _lm_scores(self, passed: list) -> list[float | None]:
        if self.config.lm_scorer is None or not passed:
            return [None] * len(passed)
        return self.scorer.score([(job.item.caption, answer.negative) for job, answer in passed])

    def _record(self, item: Caption, p: Proposal) -> dict:
        rec = NegativeRecord(id=item.id, image=item.image, caption=item.caption, negative=p.negative,
                             target=p.target, role=p.role, concreteness=p.concreteness, strategy=self.config.strategy,
                             backend=self.config.backend, replacement=p.replacement, plausibility=p.plausibility,
                             edit=p.edit, anchor=p.anchor if p.anchor is not None else p.target,
                             extra=dict(p.extra)).to_dict()
        rec["_keys"] = p.keys  # the lemmas compared by _fill_similarity, popped before writing
        return rec

    def _fill_similarity(self, records: list[dict]) -> None:
        keys = [r.pop("_keys") for r in records]
        words = {w for pair in keys for w in pair if w}
        if not words:
            return
        self.vectors.ensure(words)
        for rec, (a, b) in zip(records, keys):
            rec["similarity"] = round(self.vectors.similarity(a, b), 4) if a and b else None
        if self.config.caption_similarity:
            from ..knowledge.embed import encode

            caps = encode([r["caption"] for r in records])
            negs = encode([r["negative"] for r in records])
            for rec, c, n in zip(records, caps, negs):
                rec["caption_similarity"] = round(float(c @ n), 4)


__all__ = ["ROLES", "backend_names", "ConcretePlant", "LLMConfig", "PlantConfig", "Planted", "screen"]
