"""ARO's COCO-Order and Flickr30k-Order: a caption against four word-order perturbations of it.

Source: github.com/mertyg/vision-language-models-are-bows. ``dataset_zoo/aro_datasets.py``
(``COCO_Order`` / ``Flickr30k_Order``) builds each test case from a raw Karpathy test caption::

    options = [pre_caption(raw, 30)] + [pre_caption(f(raw), 30) for f in
               (shuffle_nouns_and_adj, shuffle_allbut_nouns_and_adj, shuffle_within_trigrams,
                shuffle_trigrams)]

with the perturbations of ``dataset_zoo/perturbations.py`` (``TextShuffler``) and BLIP's
``pre_caption`` from ``dataset_zoo/retrieval.py``. We do the same:

- the two spaCy shuffles tag the **raw** caption with ``en_core_web_sm`` and use the
  fine-grained ``tag_``: nouns (NN, NNS, NNP, NNPS) are permuted among the noun slots and,
  separately, adjectives (JJ, JJR, JJS) among the adjective slots; the second shuffle permutes
  every other token (punctuation included) among the remaining slots. Tokens are joined by one
  space, so ``"car,"`` becomes ``"car ,"``;
- the two trigram shuffles split the raw caption with nltk's Treebank word tokenizer
  (``NLTKWordTokenizer``, which ``nltk.word_tokenize`` applies per sentence), cut the tokens into
  consecutive trigrams (the last may be shorter) and shuffle within each trigram, or the order
  of the trigrams. ``nltk.word_tokenize`` first splits sentences with punkt, which needs a
  download; we split after ``.``, ``!`` or ``?`` followed by white space instead (punkt's common
  case; its abbreviation list is not reproduced), which matters only for multi-sentence captions;
- every option, the original included, goes through :func:`pre_caption` (lower-case, the marks
  ``.!"()*#:;~`` replaced by spaces, white space collapsed, at most 30 words): commas and
  apostrophes stay in all five, and the original keeps the raw caption's spacing.

Precision@1 (%) = share of captions whose image scores the original highest; ``argmax`` as in
``evaluate_scores``, so a tie goes to the original. ARO reshuffles with the global numpy/python
random state at every run; ours seeds each caption (``random.Random(f"{seed}:{dataset}:{n}")``),
so a run is reproducible, and ``seeds`` with more than one value also reports the mean and
sample sd over those seeds (the published column is always seed 0's figure, the first seed).

``debiased=True`` adds ``<dataset>_order_nopunct_precision@1``: the same permutations with
every punctuation token removed from all five options, so spacing around commas gives nothing
away. It is ours, under its own key, and never feeds vl_compo's column.
"""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import torch

from .encode import Encoder, require_files
from .retrieval import load_test

NOUN_TAGS = frozenset(("NN", "NNS", "NNP", "NNPS"))
ADJ_TAGS = frozenset(("JJ", "JJR", "JJS"))
MAX_WORDS = 30
PERTURBATIONS = ("shuffle_nouns_and_adj", "shuffle_allbut_nouns_and_adj", "shuffle_within_trigrams",
                 "shuffle_trigrams")  # the order of COCO_Order's options 1-4
_BLIP_MARKS = re.compile(r"([.!\"()*#:;~])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PUNCT = re.compile(r"^[^\w]+$")

Permute = Callable[[list], list]


def pre_caption(caption: str, max_words: int = MAX_WORDS) -> str:
    """BLIP's ``pre_caption`` as ARO's ``dataset_zoo/retrieval.py`` defines it: lower-case, the
    marks ``.!"()*#:;~`` replaced by spaces, runs of white space made one space, stripped of
    spaces, cut to ``max_words`` words split on single spaces (a tab is not a word break)."""
    text = re.sub(r"\s{2,}", " ", _BLIP_MARKS.sub(" ", caption.lower()))
    text = text.rstrip("\n").strip(" ")
    words = text.split(" ")
    return " ".join(words[:max_words]) if len(words) > max_words else text


@lru_cache(maxsize=1)
def _treebank():
    from nltk.tokenize import NLTKWordTokenizer

    return NLTKWordTokenizer()


def word_tokens(caption: str) -> list[str]:
    """nltk's Treebank word tokens of ``caption``, sentence by sentence (see the module docstring)."""
    return [t for sentence in _SENTENCE_END.split(caption.strip()) for t in _treebank().tokenize(sentence)]


def trigrams(tokens: list[str]) -> list[list[str]]:
    """Consecutive groups of three tokens, the last possibly shorter."""
    return [tokens[i:i + 3] for i in range(0, len(tokens), 3)]


def _permute_slots(tokens: list[str], slots: list[int], permute: Permute) -> None:
    for i, w in zip(slots, permute([tokens[i] for i in slots])):
        tokens[i] = w


def perturbations(tagged: Sequence[tuple[str, str]], words: list[str], permute: Permute) -> list[str]:
    """ARO's four perturbations, before ``pre_caption``.

    ``tagged`` is the raw caption's spaCy ``(token.text, token.tag_)``, ``words`` its nltk tokens
    (:func:`word_tokens`); ``permute(xs)`` returns a permutation of the list ``xs`` and is called in
    ARO's order: nouns, adjectives, the other tokens, each trigram, the list of trigrams.
    """
    tokens = [w for w, _ in tagged]
    nouns = [i for i, (_, t) in enumerate(tagged) if t in NOUN_TAGS]
    adjectives = [i for i, (_, t) in enumerate(tagged) if t in ADJ_TAGS]
    first = list(tokens)
    _permute_slots(first, nouns, permute)
    _permute_slots(first, adjectives, permute)
    second = list(tokens)
    _permute_slots(second, [i for i, (_, t) in enumerate(tagged) if t not in NOUN_TAGS | ADJ_TAGS], permute)
    within = [permute(list(t)) for t in trigrams(words)]
    across = permute(trigrams(words))
    return [" ".join(first), " ".join(second), " ".join(" ".join(t) for t in within),
            " ".join(" ".join(t) for t in across)]


def seeded_permute(rng: random.Random) -> Permute:
    return lambda xs: rng.sample(xs, len(xs))


def order_options(raw: str, tagged, words, permute: Permute, max_words: int = MAX_WORDS) -> list[str]:
    """The five options of one test case: ``pre_caption`` of the raw caption, then of each perturbation."""
    return [pre_caption(raw, max_words)] + [pre_caption(p, max_words) for p in perturbations(tagged, words, permute)]


def without_punctuation(option: str) -> str:
    """An option with every all-punctuation word removed (the de-biased variant)."""
    return " ".join(w for w in option.split() if not _PUNCT.match(w))


def _precision(encoder: Encoder, img: torch.Tensor, options: list[list[str]]) -> float:
    txt = encoder.texts([o for opts in options for o in opts]).reshape(len(options), 5, -1)
    scores = torch.einsum("nd,nkd->nk", img, txt)  # image n against its five options
    return float((scores.argmax(1) == 0).float().mean() * 100)


def order_task(encoder: Encoder, data_root: Path, dataset: str, limit=None, seeds: Sequence[int] = (0,),
               debiased: bool = False) -> dict:
    """Precision@1 of one order task (``dataset`` coco or flickr30k) as described above."""
    from ..text.nlp import load_nlp

    if not seeds:
        raise ValueError("order_task: give at least one seed")
    paths, raws, owner = load_test(data_root, dataset, limit)
    require_files(paths, f"aro_{dataset}_order", f"DATA_ROOT/karpathy/... (see {__name__})")
    tagged = [[(t.text, t.tag_) for t in doc] for doc in load_nlp().pipe(raws)]
    words = [word_tokens(r) for r in raws]
    img = encoder.images([paths[i] for i in owner.tolist()])
    key = f"{dataset}_order_precision@1"
    per_seed, out = [], {}
    for s in seeds:
        options = [order_options(r, tg, w, seeded_permute(random.Random(f"{s}:{dataset}:{n}")))
                   for n, (r, tg, w) in enumerate(zip(raws, tagged, words))]
        per_seed.append(_precision(encoder, img, options))
        if debiased and s == seeds[0]:
            out[f"{dataset}_order_nopunct_precision@1"] = _precision(
                encoder, img, [[without_punctuation(o) for o in opts] for opts in options])
    out[key], out[f"{dataset}_order_n"] = per_seed[0], len(raws)
    if len(seeds) > 1:
        out[f"{key}_mean"], out[f"{key}_sd"] = statistics.mean(per_seed), statistics.stdev(per_seed)
        out[f"{dataset}_order_seeds"] = len(seeds)
    return out
