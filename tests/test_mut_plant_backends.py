"""The plant's backends pinned for mutation testing (issue 31): NegCLIP's swaps on real parses.

Written from the mutants that survived ``python bench/mutation.py plant_backends``; each swap's
negative is written out by hand.
"""

from __future__ import annotations

import random

import pytest

from slipform.plant.backends.swap import KINDS, ROLE_OF_KIND, Swap, _spans, propose_swaps, swap_edits
from slipform.plant.core.edit import apply_edits


@pytest.fixture(scope="module")
def docs(nlp):
    return {s: nlp(s) for s in ("A man holding a red umbrella and a small dog.",
                                "The boy picks up a ball and looks up at the sky.",
                                "Dogs chase the cats.", "John walks a dog.", "A dog and a dog.")}


def _swap(doc, kind, first, second):
    return apply_edits(doc, list(swap_edits(doc, Swap(kind, first, second))))


def test_spans_of_each_kind(docs):
    doc = docs["A man holding a red umbrella and a small dog."]
    assert _spans(doc, "noun") == [(1, 2), (5, 6), (9, 10)]
    assert _spans(doc, "adjective") == [(4, 5), (8, 9)]
    assert _spans(doc, "noun_phrase") == [(4, 6), (8, 10)]  # "a man" is one word without its article
    assert _spans(doc, "verb_phrase") == [(2, 3)]
    doc = docs["The boy picks up a ball and looks up at the sky."]
    assert _spans(doc, "verb_phrase") == [(2, 4), (7, 9)]  # with their particles
    assert _spans(doc, "noun_phrase") == []
    assert _spans(docs["John walks a dog."], "noun") == [(0, 1), (3, 4)]  # a name is a noun too


def test_swaps_written_out(docs):
    doc = docs["A man holding a red umbrella and a small dog."]
    assert _swap(doc, "noun_phrase", (4, 6), (8, 10)) == "A man holding a small dog and a red umbrella."
    assert _swap(doc, "noun", (1, 2), (5, 6)) == "An umbrella holding a red man and a small dog."
    assert _swap(doc, "adjective", (4, 5), (8, 9)) == "A man holding a small umbrella and a red dog."
    doc = docs["The boy picks up a ball and looks up at the sky."]
    assert _swap(doc, "verb_phrase", (2, 4), (7, 9)) == "The boy looks up a ball and picks up at the sky."
    # the word moved to the front takes the capital; the other loses it, unless it is a name
    assert _swap(docs["Dogs chase the cats."], "noun", (0, 1), (3, 4)) == "Cats chase the dogs."
    assert _swap(docs["John walks a dog."], "noun", (0, 1), (3, 4)) == "Dog walks a John."


def test_propose_swaps_draws_two_pairs_per_kind_of_different_words(docs):
    doc = docs["A man holding a red umbrella and a small dog."]
    swaps = propose_swaps(doc, random.Random(0))
    assert sorted((s.kind, s.first, s.second) for s in swaps) == [
        ("adjective", (4, 5), (8, 9)), ("noun", (1, 2), (5, 6)), ("noun", (5, 6), (9, 10)),
        ("noun_phrase", (4, 6), (8, 10))]  # 3 noun pairs, 2 drawn; the lone verb makes no pair
    for seed in range(6):
        drawn = propose_swaps(doc, random.Random(seed))
        assert sum(s.kind == "noun" for s in drawn) == 2 and len(drawn) == 4
    assert len({tuple(propose_swaps(doc, random.Random(seed))) for seed in range(8)}) > 1  # the order is drawn
    assert propose_swaps(docs["A dog and a dog."], random.Random(0)) == []  # the same word twice is no swap
    assert KINDS == ("noun", "adjective", "noun_phrase", "verb_phrase")
    assert ROLE_OF_KIND == {"noun": "O", "adjective": "A", "noun_phrase": "O", "verb_phrase": "R"}


def test_the_negclip_backend_plants_swaps_through_the_planter(docs, monkeypatch):
    from slipform.plant import Caption, ConcretePlant, PlantConfig

    class Vectors:
        def ensure(self, words):
            pass

        def similarity(self, a, b):
            return 0.25

    planter = ConcretePlant(PlantConfig(backend="negclip", negatives_per_caption=4))
    planter.__dict__["vectors"] = Vectors()
    text = "A man holding a red umbrella and a small dog."
    out = planter.plant([Caption("7", text)], [docs[text]])
    assert sorted(r["negative"] for r in out.records) == sorted(
        apply_edits(docs[text], list(swap_edits(docs[text], s))) for s in propose_swaps(
            docs[text], __import__("slipform.plant.core.anchor", fromlist=["caption_rng"]).caption_rng(0, "7", "swap")))
    by_kind = {r["swap"]: r for r in out.records}
    adj = by_kind["adjective"]
    assert (adj["role"], adj["target"], adj["replacement"], adj["edit"], adj["similarity"]) == \
        ("A", "red", "small", "swap", 0.25)
    assert adj["concreteness"] == planter.lexicon.lookup("red", "red")
    assert by_kind["noun_phrase"]["concreteness"] == max(planter.lexicon.lookup(w, w) for w in ("red", "umbrella"))
    out = planter.plant([Caption("8", "A dog and a dog.")], [docs["A dog and a dog."]])
    assert out.skipped == [{"id": "8", "reason": "nothing to swap"}]


# ---- the LLM backends' checks of an untrusted answer ----------------------------------------------


@pytest.mark.parametrize("negative, target, reason", [
    ("", "dog", "empty output"),
    ("a DOG, on a mat", "dog", "output equals the caption"),
    ("A dog on a rug.", "dog", "target not changed"),
    ("A cat.", "dog", "length out of bounds"),                       # 2 words < 0.5 * 5
    ("A cat sits.", "dog", None),                                    # 3 words; 4 edits
    ("A cat on a mat with a b c d e.", "dog", "length out of bounds"),  # 12 words > 1.6 * 5 + 2
    ("A cat on a mat with a b c.", "dog", "too many words changed"),   # 10 words: in bounds; 5 edits
    ("A cat on a mat with a b c d.", "dog", "too many words changed"),  # 10 words: the longest in bounds
    ("A cat under the big blue mat.", "dog", "too many words changed"),  # 3 changed, 2 added: 5
    ("A cat under the blue mat.", "dog", None),                       # 4 edits
    ("A cat under the blue mat.", "!!", None),                        # a target of no words is not counted
])
def test_validate_bounds(negative, target, reason):
    from slipform.plant.backends.llm import validate

    assert validate("A dog on a mat.", negative, target) == reason


def test_validate_lets_a_long_target_change_more_words():
    from slipform.plant.backends.llm import _count, validate

    caption = "A cat sitting on top of a car."
    # on -> beside, top -> the, of -> big, a -> old, "red" added: 5 edits, allowed for a 3-word target only
    assert validate(caption, "A cat sitting beside the big old red car.", "on top of") is None
    assert validate(caption, "A cat sitting beside the big old red car.", "on") == "too many words changed"
    assert validate(caption, "A cat sitting on top of a car.", "sitting") == "output equals the caption"
    assert validate(caption, "A dog sitting on top of a cat.", "cat") == "target not changed"  # still one "cat"
    assert _count("a a a".split(), ["a", "a"]) == 2 and _count([], ["a"]) == 0
