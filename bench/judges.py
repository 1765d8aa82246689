"""Blind text-only judges: which of two captions would a model that never sees the image pick?

SugarCrepe (Hsieh et al., 2023) showed that negatives a text-only model can reject teach
grammar and common sense instead of grounding. A judge here scores a sentence without an
image; its *blind accuracy* on a set of (true caption, negative) pairs is the share of pairs
in which it scores the true caption higher (ties count half). 50% means the negatives are
as fluent and plausible as the captions; 100% means the text alone gives them away.

None of the judges uses what the planter uses (the input captions' own statistics, the
lexicon): they are trained on *other* caption data (NegCLIP's validation captions and
VALSE's true captions, minus every SugarCrepe caption), or on web text (wordfreq), or are a
different model (MiniLM sentence embeddings against that reference corpus).

- ``bigram``: an interpolated Kneser-Ney bigram model (discount 0.75) of the reference
  captions; score = log-probability of the whole sentence.
- ``unigram-web``: word frequencies from ``wordfreq`` (web, subtitles, Wikipedia, books);
  score = sum of log frequencies. It catches rare words and misspellings, nothing else.
- ``minilm-knn``: mean cosine similarity of the sentence's MiniLM embedding to its 5 nearest
  reference captions: does any real caption say something like this?
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter

import numpy as np

from corpus import FIXTURES, negclip_titles

_TOKEN = re.compile(r"[a-z0-9']+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def reference_captions(exclude: set[str]) -> list[str]:
    """True captions of NegCLIP's validation file and of VALSE, minus any text in ``exclude``."""
    out = negclip_titles()
    for path in sorted((FIXTURES / "valse").glob("*.json")):
        out += [item["caption"] for item in json.loads(path.read_text()).values()]
    banned = {" ".join(tokens(t)) for t in exclude}
    seen, keep = set(), []
    for text in out:
        key = " ".join(tokens(text))
        if key and key not in banned and key not in seen:
            seen.add(key)
            keep.append(text.strip())
    return keep


class BigramJudge:
    """Interpolated Kneser-Ney bigrams; words never seen share a small floor."""

    name = "bigram"

    def __init__(self, corpus: list[str], discount: float = 0.75):
        self.d = discount
        self.pair: Counter = Counter()
        for text in corpus:
            seq = ["<s>", *tokens(text), "</s>"]
            self.pair.update(zip(seq, seq[1:]))
        self.context: Counter = Counter()
        self.follow_types: Counter = Counter()
        self.precede_types: Counter = Counter()
        for (v, w), n in self.pair.items():
            self.precede_types[w] += 1
            self.follow_types[v] += 1
            self.context[v] += n
        self.types = len(self.pair)
        self.vocab = len(self.precede_types) + 1

    def _continuation(self, w: str) -> float:
        return (self.precede_types.get(w, 0) + 0.5) / (self.types + 0.5 * self.vocab)

    def logprob(self, v: str, w: str) -> float:
        cont = self._continuation(w)
        c = self.context.get(v, 0)
        if not c:
            return math.log(cont)
        p = max(self.pair.get((v, w), 0) - self.d, 0) / c + self.d * self.follow_types[v] / c * cont
        return math.log(p)

    def score(self, texts: list[str]) -> np.ndarray:
        out = []
        for text in texts:
            seq = ["<s>", *tokens(text), "</s>"]
            out.append(sum(self.logprob(v, w) for v, w in zip(seq, seq[1:])))
        return np.array(out)


class UnigramWebJudge:
    """Sum of log word frequencies from wordfreq's English list (floor 1e-8 for unknown words)."""

    name = "unigram-web"

    def __init__(self):
        from wordfreq import word_frequency

        self._freq = word_frequency

    def score(self, texts: list[str]) -> np.ndarray:
        return np.array([sum(math.log(max(self._freq(w, "en"), 1e-8)) for w in tokens(t)) for t in texts])


class KnnJudge:
    """Mean cosine of the MiniLM sentence embedding to its ``k`` nearest reference captions."""

    name = "minilm-knn"

    def __init__(self, corpus: list[str], k: int = 5):
        from slipform.plant.knowledge.embed import encode

        self._encode, self.k = encode, k
        self.reference = encode(corpus)

    def score(self, texts: list[str]) -> np.ndarray:
        emb = self._encode(texts)
        sims = emb @ self.reference.T
        top = np.partition(sims, -self.k, axis=1)[:, -self.k:]
        return top.mean(axis=1)


def blind_accuracy(judge, captions: list[str], negatives: list[str]) -> np.ndarray:
    """Per pair: 1 when the judge scores the caption higher, 0.5 on a tie, 0 otherwise."""
    a, b = judge.score(captions), judge.score(negatives)
    return np.where(np.isclose(a, b, rtol=0, atol=1e-9), 0.5, (a > b).astype(float))


def paired_interval(x: np.ndarray, y: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of x - y (in points) with a 95% paired-bootstrap interval over pairs."""
    diff = 100 * (np.asarray(x) - np.asarray(y))
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (n_boot, len(diff)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(lo), float(hi)


def make_judges(exclude: set[str], names: tuple[str, ...] = ("bigram", "unigram-web", "minilm-knn")) -> list:
    corpus = reference_captions(exclude)
    build = {"bigram": lambda: BigramJudge(corpus), "unigram-web": UnigramWebJudge,
             "minilm-knn": lambda: KnnJudge(corpus)}
    return [build[n]() for n in names]
