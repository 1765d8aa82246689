"""Visual concreteness measured from image-caption data (Hessel, Mimno & Lee, NAACL 2018).

Brysbaert's norms say how concrete a word is to people reading it; they do not know what a
dataset's images show ("to the left of" is rated 2.09, yet in a scene it is exactly what the
image decides). Hessel et al. score a word by how tightly the images whose captions use it
cluster in an image-feature space, against chance: for each such image, the share of its ``k``
nearest neighbours that also carry the word, averaged over the word's images and divided by
the share a random image would have. 1 is chance (a filler word); well above 1, the word names
something the images show.

:func:`compute_norms` streams a captions file with images through any image encoder the
project loads and writes a norms file in Brysbaert's layout (``Word``, ``Conc.M`` on 1-5 by
rank, plus the raw score and image count), which ``slipform plant --lexicon`` reads unchanged;
``blend="brysbaert"`` averages the two ranks where both rate a word.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class NormsConfig:
    k: int = 50  # neighbours per image
    min_count: int = 10  # images a word must occur with
    # two-word expressions: "known" scores adjacent pairs the human norms list ("hot dog", "fire
    # hydrant"); "all" every adjacent pair ("orange square": an analysis view, since as a planting
    # lexicon it makes arbitrary pairs one target, replaced by one word); "none" single words only
    expressions: str = "known"
    blend: str | None = None  # None, or "brysbaert": average the ranks where both rate a word


@dataclass
class Norm:
    score: float  # neighbour share over chance (1 = chance)
    images: int


def caption_terms(caption: str, expressions=True) -> set[str]:
    """Lower-cased words of a caption and its adjacent two-word expressions: every pair
    (``expressions=True``), none (``False``), or those in a given set of known expressions."""
    words = _WORD.findall(caption.lower())
    terms = set(words)
    if expressions:
        pairs = (f"{a} {b}" for a, b in zip(words, words[1:]))
        terms.update(pairs if expressions is True else (p for p in pairs if p in expressions))
    return terms


def nearest_neighbours(features, k: int, block: int = 2048) -> np.ndarray:
    """Indices (N, k) of each row's k most cosine-similar other rows, computed in blocks."""
    import torch

    x = torch.nn.functional.normalize(torch.as_tensor(features, dtype=torch.float32), dim=-1)
    n = x.shape[0]
    k = min(k, n - 1)
    out = np.empty((n, k), dtype=np.int64)
    for s in range(0, n, block):
        sims = x[s:s + block] @ x.T
        rows = torch.arange(s, min(s + block, n))
        sims[rows - s, rows] = -float("inf")  # never one's own neighbour
        out[s:s + block] = sims.topk(k, dim=1).indices.numpy()
    return out


def visual_concreteness(image_terms: list[set[str]], neighbours: np.ndarray, min_count: int = 10) -> dict[str, Norm]:
    """Hessel et al.'s score of every term used with at least ``min_count`` images."""
    n, k = neighbours.shape
    where: dict[str, list[int]] = defaultdict(list)
    for i, terms in enumerate(image_terms):
        for t in terms:
            where[t].append(i)
    out = {}
    member = np.zeros(n, dtype=bool)
    for term, idx in where.items():
        if len(idx) < min_count or len(idx) == n:
            continue
        member[idx] = True
        share = member[neighbours[idx]].mean()  # neighbours that carry the term
        chance = (len(idx) - 1) / (n - 1)
        out[term] = Norm(float(share / chance), len(idx))
        member[idx] = False
    return out


def to_ratings(scores: dict[str, float]) -> dict[str, float]:
    """Scores mapped by rank onto Brysbaert's 1-5 scale (the highest score 5, the lowest 1)."""
    if not scores:
        return {}
    order = sorted(scores, key=lambda w: (scores[w], w))
    top = max(1, len(order) - 1)
    return {w: round(1 + 4 * r / top, 3) for r, w in enumerate(order)}


def blend_ratings(visual: dict[str, float], human: dict[str, float]) -> dict[str, float]:
    """Average of the two rank-based 1-5 ratings where both rate a word, else the visual one."""
    shared = to_ratings({w: human[w] for w in visual if w in human})
    return {w: round((r + shared[w]) / 2, 3) if w in shared else r for w, r in visual.items()}


def write_norms(path: str | Path, norms: dict[str, Norm], ratings: dict[str, float]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t" if path.suffix == ".tsv" else ",")
        w.writerow(["Word", "Conc.M", "Visual.Score", "Images"])
        for term in sorted(ratings, key=lambda t: -ratings[t]):
            w.writerow([term, ratings[term], round(norms[term].score, 4), norms[term].images])
    return path


@dataclass
class NormsSummary:
    captions: int
    images: int
    terms: int
    skipped: Counter
    output: str


def compute_norms(input, output, encoder, config: NormsConfig = NormsConfig(), *, fmt: str | None = None,
                  columns=None, image_root: str | Path | None = None, log=print) -> NormsSummary:
    """Norms of every term of ``input`` (a captions file naming images), written to ``output``.

    ``encoder`` is a :class:`slipform.evaluate.encode.Encoder` (its feature cache makes a second
    run, or a run with another ``k``, cheap). Captions without an image or whose image file is
    missing are counted and skipped."""
    from .text.io import BadLine, Columns, read_captions

    if config.expressions not in ("known", "all", "none"):
        raise ValueError(f"expressions must be known, all or none, got {config.expressions!r}")
    expressions = {"all": True, "none": False}.get(config.expressions)
    if expressions is None:
        from .lexicon import load_lexicon

        expressions = {w for w in load_lexicon().ratings if " " in w}
    terms: dict[str, set[str]] = defaultdict(set)
    skipped: Counter = Counter()
    captions = 0
    for item in read_captions(Path(input), fmt, columns or Columns()):
        if isinstance(item, BadLine):
            skipped[item.kind] += 1
            continue
        if not item.image:
            skipped["no image"] += 1
            continue
        path = Path(image_root) / item.image if image_root else Path(item.image)
        if not path.exists():
            skipped["image file missing"] += 1
            if skipped["image file missing"] <= 5:
                log(f"warning: {input}:{item.line}: image not found: {path}")
            continue
        captions += 1
        terms[str(path)] |= caption_terms(item.caption, expressions)
    if len(terms) <= config.k:
        raise ValueError(f"{input}: {len(terms)} usable images; visual concreteness needs more than k={config.k}")
    paths = sorted(terms)
    features = encoder.images(paths)
    norms = visual_concreteness([terms[p] for p in paths], nearest_neighbours(features, config.k), config.min_count)
    ratings = to_ratings({t: n.score for t, n in norms.items()})
    if config.blend == "brysbaert":
        from .lexicon import load_lexicon

        ratings = blend_ratings(ratings, load_lexicon().ratings)
    elif config.blend is not None:
        raise ValueError(f"unknown blend {config.blend!r}; choose brysbaert or none")
    write_norms(output, norms, ratings)
    return NormsSummary(captions, len(paths), len(ratings), skipped, str(output))
