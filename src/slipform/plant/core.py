"""ConcretePlant on parsed captions: choose targets, route them, rewrite, and make records.

This module holds no I/O; :mod:`slipform.plant.runner` streams files through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from ..lexicon import Lexicon, load_lexicon
from .anchor import ROLES, STRATEGIES, Candidate, candidates, caption_rng, route, select_targets
from .edit import apply_edits, changed_spans
from .io import Caption
from .swap import ROLE_OF_KIND, propose_swaps, swap_edits

BACKENDS = ("lexical", "negclip", "hf", "openai")


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
    llm: LLMConfig = field(default_factory=LLMConfig)

    def __post_init__(self):
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; choose from {STRATEGIES}")
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; choose from {BACKENDS}")
        if self.negatives_per_caption < 1:
            raise ValueError("negatives_per_caption must be >= 1")
        lo, hi = self.band
        if not -1.0 <= lo < hi <= 1.0:
            raise ValueError(f"similarity band must satisfy -1 <= lo < hi <= 1, got {self.band}")
        if self.backend == "openai" and not (self.llm.base_url and self.llm.model):
            raise ValueError("the openai backend needs --base-url and --model")
        if self.backend == "hf" and not self.llm.model:
            raise ValueError("the hf backend needs --model (a local directory or hub id)")

    @property
    def weights(self) -> dict[str, float] | None:
        return dict(self.role_weights) if self.role_weights else None


@dataclass
class Planted:
    records: list[dict]
    skipped: list[dict]


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
    """Plant hard negatives in parsed captions (spaCy ``Doc`` objects)."""

    def __init__(self, config: PlantConfig = PlantConfig(), vocabulary=None):
        self.config = config
        self._vocabulary = vocabulary

    @cached_property
    def lexicon(self) -> Lexicon:
        return load_lexicon(self.config.lexicon_path, self.config.lexicon_source)

    @cached_property
    def vectors(self):
        from .embed import WordVectors

        return WordVectors()

    @cached_property
    def rewriter(self):
        backend, llm = self.config.backend, self.config.llm
        if backend == "lexical":
            from .lexical import LexicalRewriter, Vocabulary

            return LexicalRewriter(self.lexicon, self._vocabulary or Vocabulary(), self.vectors, self.config.band,
                                   fallback=self.config.fallback_vocabulary, plausibility=self.config.plausibility,
                                   min_plausibility=self.config.min_plausibility)
        if backend == "openai":
            from .llm import OpenAIRewriter

            return OpenAIRewriter(llm.base_url, llm.model, llm.api_key, llm.timeout, llm.retries,
                                  backoff=llm.backoff, concurrency=llm.batch_size)
        if backend == "hf":
            from .llm import HFRewriter

            return HFRewriter(llm.model, max_new_tokens=llm.max_new_tokens)
        return None

    def _record(self, item: Caption, negative: str, target: str, role: str, concreteness, replacement: str,
                keys: tuple[str, str], plausibility: float | None = None) -> dict:
        rec = {"id": item.id}
        if item.image is not None:
            rec["image"] = item.image
        rec.update(caption=item.caption, negative=negative, target=target, role=role, route=route(role),
                   concreteness=concreteness, strategy=self.config.strategy, backend=self.config.backend,
                   replacement=replacement, similarity=None, plausibility=plausibility, _keys=keys)
        return rec

    def plant(self, items: list[Caption], docs: list) -> Planted:
        """Records (one per negative) and skips (one per caption without a negative)."""
        if self.config.backend == "negclip":
            records, skipped = self._plant_swaps(items, docs)
        elif self.config.backend == "lexical":
            records, skipped = self._plant_lexical(items, docs)
        else:
            records, skipped = self._plant_llm(items, docs)
        self._fill_similarity(records)
        return Planted(records, skipped)

    def _targets(self, item: Caption, doc) -> list[Candidate]:
        cands = candidates(doc, self.lexicon)
        rng = caption_rng(self.config.seed, item.id, "target")
        return select_targets(cands, self.config.strategy, self.config.k, rng, self.config.weights)

    def _no_target_reason(self, doc) -> str:
        cands = candidates(doc, self.lexicon)
        if not cands:
            return "no candidate word"
        return "no rated candidate" if self.config.strategy != "random" else "no candidate word"

    def _plant_lexical(self, items, docs):
        records, skipped = [], []
        orders = [self._targets(item, doc) for item, doc in zip(items, docs)]
        # embed every possible target in one batch instead of one word at a time
        self.vectors.ensure({key for order in orders for c in order for key in (c.lemma, c.text.lower())})
        rewriter = self.rewriter
        for item, doc, order in zip(items, docs, orders):
            if not order:
                skipped.append({"id": item.id, "reason": self._no_target_reason(doc)})
                continue
            rng = caption_rng(self.config.seed, item.id, "rewrite")
            made = 0
            for target in order:
                rw = rewriter.rewrite(doc, target, rng)
                if rw is None:
                    continue
                negative = apply_edits(doc, list(rw.edits))
                if negative.strip().lower() == item.caption.strip().lower():
                    continue
                records.append(self._record(item, negative, target.text, target.role, target.concreteness,
                                            rw.replacement, (rw.target_key, rw.replacement_key), rw.plausibility))
                made += 1
                if made == self.config.negatives_per_caption:
                    break
            if not made:
                skipped.append({"id": item.id, "reason": "no replacement found"})
        return records, skipped

    def _plant_swaps(self, items, docs):
        records, skipped = [], []
        for item, doc in zip(items, docs):
            rng = caption_rng(self.config.seed, item.id, "swap")
            made = 0
            for swap in propose_swaps(doc, rng):
                edits = swap_edits(doc, swap)
                negative = apply_edits(doc, list(edits))
                if negative.lower() == item.caption.lower():
                    continue
                first, second = doc[slice(*swap.first)], doc[slice(*swap.second)]
                rated = [r for r in (self.lexicon.lookup(t.text, t.lemma_) for t in first) if r is not None]
                conc = max(rated) if rated else None
                records.append(self._record(item, negative, first.text, ROLE_OF_KIND[swap.kind], conc,
                                            second.text, (first.text.lower(), second.text.lower())))
                records[-1]["swap"] = swap.kind
                made += 1
                if made == self.config.negatives_per_caption:
                    break
            if not made:
                skipped.append({"id": item.id, "reason": "nothing to swap"})
        return records, skipped

    def _plant_llm(self, items, docs):
        from .llm import Request, clean_output, validate

        records, skipped = [], []
        need = self.config.negatives_per_caption
        queues = {i: self._targets(item, doc) for i, (item, doc) in enumerate(zip(items, docs))}
        made = {i: 0 for i in queues}
        reasons: dict[int, str] = {}
        for i, order in queues.items():
            if not order:
                reasons[i] = self._no_target_reason(docs[i])
        for _ in range(self.config.llm.attempts):
            jobs = [(i, t) for i, order in queues.items() if made[i] < need for t in order[:need - made[i]]]
            if not jobs:
                break
            size = max(1, self.config.llm.batch_size)
            answers = []
            for s in range(0, len(jobs), size):
                chunk = jobs[s:s + size]
                answers += self.rewriter.generate([Request(items[i].caption, t.text, t.role) for i, t in chunk])
            for (i, target), answer in zip(jobs, answers):
                if isinstance(answer, Exception):
                    reasons[i] = f"backend error: {answer}"
                    continue
                negative = clean_output(answer)
                reason = validate(items[i].caption, negative, target.text)
                if reason:
                    reasons[i] = f"invalid output: {reason}"
                    continue
                spans = changed_spans(items[i].caption, negative)
                replacement = " ".join(spans[0][1]) if spans else ""
                records.append(self._record(items[i], negative, target.text, target.role, target.concreteness,
                                            replacement, (target.text.lower(), replacement.lower())))
                made[i] += 1
                queues[i].remove(target)
        for i, item in enumerate(items):
            if not made[i]:
                skipped.append({"id": item.id, "reason": reasons.get(i, "no valid output")})
        return records, skipped

    def _fill_similarity(self, records: list[dict]) -> None:
        keys = [r.pop("_keys") for r in records]
        words = {w for pair in keys for w in pair if w}
        if not words:
            return
        self.vectors.ensure(words)
        for rec, (a, b) in zip(records, keys):
            rec["similarity"] = round(self.vectors.similarity(a, b), 4) if a and b else None
        if self.config.caption_similarity:
            from .embed import encode

            caps = encode([r["caption"] for r in records])
            negs = encode([r["negative"] for r in records])
            for rec, c, n in zip(records, caps, negs):
                rec["caption_similarity"] = round(float(c @ n), 4)


__all__ = ["BACKENDS", "ROLES", "ConcretePlant", "LLMConfig", "PlantConfig", "Planted", "screen"]
