"""The plant's knowledge pinned for mutation testing (issue 31): the context prior and the vocabulary.

Written from the mutants that survived ``python bench/mutation.py plant_knowledge``; the counts
and thresholds are worked out by hand in each test.
"""

from __future__ import annotations

from collections import Counter

import pytest

from slipform.plant.knowledge.context import ContextModel, caption_terms, shipped_context
from slipform.plant.knowledge.tables import OBJECT_FALLBACK, VERB_CONTRASTS
from slipform.plant.knowledge.vocabulary import Vocabulary


def test_caption_terms_drop_stopwords_and_join_two_word_things():
    assert caption_terms("Two kites flying in the sky.") == {"kite", "flying", "sky"}
    assert caption_terms("A hot dog on a plate, x") == {"hot", "dog", "plate", "hot dog"}
    assert caption_terms("THE DOGS") == {"dog"}
    assert caption_terms("A tv on a wall.") == {"tv", "wall"}  # two letters are a word


def _model(n_t, n_r, together, n_w, captions=100, seen_r=0):
    return ContextModel(things=Counter({"kite": n_t, "ball": n_r}), words=Counter({"sky": n_w}),
                        pairs={"kite": Counter({"sky": together}), "ball": Counter({"sky": seen_r})},
                        captions=captions)


@pytest.mark.parametrize("n_t, n_r, together, n_w, seen_r, clash", [
    # lift = together * captions / (n_t * n_w); expected = n_r * together / n_t; share = together / n_t
    (10, 10, 3, 10, 0, "sky"),    # lift 3.0, expected 3.0: both at their thresholds
    (10, 10, 3, 11, 0, None),     # lift 2.73
    (10, 10, 2, 5, 0, None),      # seen together twice: under min_pair 3
    (10, 10, 3, 10, 1, None),     # the replacement was seen with the word
    (30, 23, 4, 4, 0, "sky"),     # share 0.133; expected 3.07
    (30, 22, 4, 4, 0, None),      # expected 2.93
    (20, 1, 3, 5, 0, "sky"),      # lift 3.0, expected 0.15, share exactly 0.15
    (21, 1, 3, 4, 0, None),       # share 0.143 (lift 3.57)
    (10, 0, 3, 10, 0, None),      # the replacement is no thing of the prior
    (0, 10, 3, 10, 0, None),      # nor the target
    (10, 10, 3, 0, 0, None),      # the word never counted alone
])
def test_clash_thresholds(n_t, n_r, together, n_w, seen_r, clash):
    model = _model(n_t, n_r, together, n_w, seen_r=seen_r)
    assert model._clash("kite", "ball", {"sky", "kite"}) == clash
    assert model.clash("kites", "balls", "Kites in the sky.") == clash
    assert model.fitting("kite", ["ball", "kite"], "A kite in the sky.") == (["kite"] if clash else ["ball", "kite"])


def test_clash_reads_words_in_order_and_leaves_out_the_targets_own_words():
    model = ContextModel(things=Counter({"hot dog": 10, "cake": 10}),
                         words=Counter({"hot": 10, "mustard": 10, "a": 10}),
                         pairs={"hot dog": Counter({"hot": 9, "mustard": 9, "a": 9}), "cake": Counter()}, captions=100)
    assert model._clash("hot dog", "cake", {"hot", "mustard", "a", "hot dog"}) == "a"  # sorted: "a" first
    assert model._clash("hot dog", "cake", {"hot", "mustard", "hot dog"}) == "mustard"  # "hot": the target's own
    del model.pairs["cake"]  # a thing counted alone but never with any word
    assert model._clash("hot dog", "cake", {"mustard", "hot dog"}) == "mustard"


def test_add_counts_captions_things_and_pairs_and_round_trips():
    model = ContextModel()
    for caption in ("A kite in the sky.", "Two kites and a dog in the sky.", "A dog on the grass."):
        model.add(caption)
    assert model.captions == 3
    assert model.things == {"kite": 2, "dog": 2, "grass": 1}  # "sky" is no thing of the kinds table
    assert model.words == {"kite": 2, "sky": 2, "dog": 2, "grass": 1}
    assert model.pairs == {"kite": {"sky": 2, "dog": 1}, "dog": {"kite": 1, "sky": 1, "grass": 1}, "grass": {"dog": 1}}
    d = model.to_dict()
    assert d == {"captions": 3, "things": {"kite": 2, "dog": 2, "grass": 1},
                 "words": {"kite": 2, "sky": 2, "dog": 2, "grass": 1},
                 "pairs": {"dog": {"kite": 1, "sky": 1, "grass": 1}, "grass": {"dog": 1}, "kite": {"sky": 2, "dog": 1}}}
    assert list(d["pairs"]) == ["dog", "grass", "kite"]
    back = ContextModel.from_dict(d)
    assert (back.things, back.words, back.pairs, back.captions) == (model.things, model.words, model.pairs, 3)
    assert isinstance(back.things, Counter) and isinstance(back.pairs["dog"], Counter)


def test_the_shipped_prior_catches_the_modules_own_examples():
    prior = shipped_context()
    assert prior is shipped_context() and prior.captions > 5000
    # the module's own examples: the word of the caption that ties it to the target
    assert prior.clash("racket", "bat", "A tennis player with a racket on a tennis court.") == "court"
    assert prior.clash("snow", "dirt", "A man on skis standing in the snow.") == "skis"
    assert prior.clash("kitchen", "bathroom", "A kitchen with a stove.") == "stove"
    assert prior.clash("dog", "cat", "A dog lying on a couch.") is None


# ---- the vocabulary -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs(nlp):
    return list(nlp.pipe(["Two dogs run on the green grass.", "A dog runs on the green grass.",
                          "A man riding a horse.", "A man walks a horse."]))


def test_vocabulary_keeps_lemmas_seen_min_count_times(docs, lexicon):
    v = Vocabulary.from_docs(docs, lexicon)
    assert (v.nouns, v.adjectives, v.verbs) == (["dog", "grass", "horse", "man"], ["green"], ["run"])
    v = Vocabulary.from_docs(docs, lexicon, min_count=1)
    assert (v.nouns, v.adjectives, v.verbs) == (["dog", "grass", "horse", "man"], ["green"], ["run", "walk"])
    v = Vocabulary.from_docs(docs, lexicon, min_count=3)
    assert (v.nouns, v.adjectives, v.verbs) == ([], [], [])
    assert v.slots.to_dict() == Vocabulary.from_docs(docs, lexicon).slots.to_dict() != Vocabulary().slots.to_dict()


def test_vocabulary_merges_the_fallback_lists_and_round_trips(docs, lexicon):
    v = Vocabulary(["zebra", "dog", "dog"], ["green"], ["run"])
    own = v.merged(fallback=False)
    assert (own.nouns, own.adjectives, own.verbs) == (["dog", "zebra"], ["green"], ["run"])
    full = v.merged()
    assert set(full.nouns) == {"dog", "zebra", *OBJECT_FALLBACK} and full.nouns == sorted(full.nouns)
    assert set(VERB_CONTRASTS) | {"run"} == set(full.verbs) and "green" in full.adjectives
    assert len(full.adjectives) > 20 and full.adjectives == sorted(set(full.adjectives))
    assert full.slots is v.slots and own.relations is v.relations
    real = Vocabulary.from_docs(docs, lexicon)
    back = Vocabulary.from_dict(real.to_dict())
    assert back.to_dict() == real.to_dict() and (back.nouns, back.verbs) == (real.nouns, real.verbs)
    old = Vocabulary.from_dict({"nouns": ["dog"], "adjectives": [], "verbs": []})  # a cache from before the models
    assert old.nouns == ["dog"] and old.slots.to_dict() == Vocabulary().slots.to_dict()
