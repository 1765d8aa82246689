"""The lexical rewriter and the ``lexical`` backend, each step against a reference worked out here.

Written for issue 31's mutation runs (groups ``rewriter`` and ``lexical_backend`` of
bench/mutation.py): tests/test_rewrite.py takes minutes per mutant, this file seconds once the
word vectors are cached. One planter (the real vocabulary of 200 SugarCrepe captions, MiniLM
vectors, the shipped slot, context and relation priors) and three variants of its rewriter
(a closed world, the ablation without plausibility, no guards) are built once for the module.
The references: the similarity band and the kin recomputed by plain loops over the vectors,
the draw among the ``pool`` most plausible recomputed from the slot model's scores and the
caption's own generator, the number and preposition tables read directly."""

import copy
import random
from difflib import SequenceMatcher

import numpy as np
import pytest

from slipform.plant import PlantConfig
from slipform.plant.core.anchor import Candidate, Routed, candidates, caption_rng
from slipform.plant.core.backend import Job, Proposal
from slipform.plant.core.edit import apply_edits, same_stem
from slipform.plant.core.planter import ConcretePlant
from slipform.plant.knowledge.kinds import same_kind
from slipform.plant.knowledge.plausibility import slot_features
from slipform.plant.knowledge.tables import ATTRIBUTE_FAMILIES, NOUN_SYNONYMS, PREPOSITION_CONTRASTS
from slipform.plant.lexical import rewriter as rw_mod
from slipform.plant.lexical.rewriter import LexicalRewriter, Rewrite
from slipform.text.io import Caption


@pytest.fixture(scope="module")
def world(nlp, lexicon, sugarcrepe_captions):
    from slipform.plant.knowledge.embed import WordVectors
    from slipform.plant.knowledge.vocabulary import Vocabulary

    vocab = Vocabulary.from_docs(nlp.pipe(sugarcrepe_captions[:200]), lexicon)
    vectors = WordVectors()
    plant = ConcretePlant(PlantConfig(), vocab)
    plant.__dict__["vectors"] = vectors  # one set of vectors for every rewriter of the module
    variants = {"closed": {"fallback": False}, "ablation": {"plausibility": False}, "loose": {"same_kind": False}}

    class World(dict):
        """The planter's parts; the three variant rewriters are built when a test first asks for one."""

        def __missing__(self, name):
            self[name] = LexicalRewriter(lexicon, vocab, vectors, **variants[name])
            vectors.save()
            return self[name]

    out = World(plant=plant, vocab=vocab, vectors=vectors, rewriter=plant.backend.rewriter)
    vectors.save()  # a no-op unless new words were embedded; the mutation runs keep the cache warm
    return out


def _cand(doc, lexicon, text):
    return next(c for c in candidates(doc, lexicon) if c.text == text)


# -- the spelling helpers

@pytest.mark.parametrize("a,b", [("dessert", "desert"), ("ab", "abc"), ("abcde", "abcdf"), ("abcd", "abcdx"),
                                 ("dog", "cat"), ("abcd", "abce"), ("a", "abcdefgh"), ("bike", "bicycle")])
def test_looks_alike_is_difflibs_ratio_at_least_0_8(a, b):
    assert rw_mod._looks_alike(a, b) is (SequenceMatcher(None, a, b).ratio() >= 0.8)


def test_looks_alike_at_the_bounds():
    assert rw_mod._looks_alike("ab", "abc")  # ratio 4/5 = 0.8 exactly, and the length bound 4 >= 4.0
    assert rw_mod._looks_alike("abcde", "abcdf")  # 8/10
    assert not rw_mod._looks_alike("abcd", "abce")  # 6/8


def test_letter_counts():
    counts = rw_mod._letter_counts("abz-a!")
    assert counts.dtype == np.int16 and counts.shape == (27,)
    want = np.zeros(27, dtype=np.int16)
    want[0], want[1], want[25], want[26] = 2, 1, 1, 2  # "-" and "!" share the last slot
    assert (counts == want).all()


def test_maybe_alike_is_the_bound_on_difflibs_ratio():
    words = ["desert", "cat", "abc", "dessert", "zzzzzzz"]
    letters = np.stack([rw_mod._letter_counts(w) for w in words])
    lengths = np.array([len(w) for w in words])
    for probe in ("dessert", "ab", "cart"):
        want = []
        for w in words:
            shared = sum(min(w.count(ch), probe.count(ch)) for ch in set(w))
            want.append(2 * shared >= 0.8 * (len(w) + len(probe)))
        assert list(rw_mod._maybe_alike(letters, lengths, probe)) == want, probe
    # "ab" against "abc": 2 * 2 = 4 >= 0.8 * 5: the bound holds with equality
    assert rw_mod._maybe_alike(letters, lengths, "ab")[2]


def test_synonyms():
    assert rw_mod._synonyms("grey") == {"gray", "grey", "silver"}
    assert rw_mod._synonyms("tiny") == {"small", "little", "tiny"}
    assert rw_mod._synonyms("dog") == {"dog"}


# -- the draw among the most plausible

class _Scores:
    """A slot model whose score of a word is given (the draw's rule is what is tested here)."""

    def __init__(self, scores):
        self.scores = scores

    def score_many(self, features, words):
        return [self.scores[w] for w in words]

    def score(self, features, word):
        return self.scores[word]


def _with_scores(rewriter, scores, **attrs):
    r = copy.copy(rewriter)
    r.slots = _Scores(scores)
    for k, v in attrs.items():
        setattr(r, k, v)
    return r


SCORES = {"a": -3.0, "b": -1.0, "c": -1.0, "d": -2.00049, "e": -4.0}


@pytest.mark.parametrize("seed", range(6))
def test_choose_draws_among_the_pool_most_plausible(world, seed):
    r = _with_scores(world["rewriter"], SCORES)
    options = ["a", "b", "c", "d", "e"]
    best_first = [1, 2, 3]  # b and c tie (kept in the options' order), then d
    i = random.Random(seed).choice(best_first)
    assert r._choose(options, [], random.Random(seed)) == (options[i], round(SCORES[options[i]], 3))
    assert r._choose(options, [], random.Random(seed)) [1] in (-1.0, -2.0)  # rounded to 3 places


@pytest.mark.parametrize("seed", range(4))
def test_choose_with_a_minimum_and_without_plausibility(world, seed):
    r = _with_scores(world["rewriter"], SCORES, min_plausibility=-1.5)
    assert r._choose(["a", "b", "c", "d"], [], random.Random(seed))[0] == \
        ["b", "c"][random.Random(seed).choice([0, 1])]
    r = _with_scores(world["rewriter"], SCORES, min_plausibility=-1.0)  # at the minimum counts
    assert r._choose(["a", "c"], [], random.Random(seed)) == ("c", -1.0)
    assert r._choose(["a", "e"], [], random.Random(seed)) is None  # none plausible enough
    r = _with_scores(world["rewriter"], SCORES, use_plausibility=False)
    options = ["a", "b", "c", "d", "e"]
    assert r._choose(options, [], random.Random(seed), 2)[0] == options[random.Random(seed).choice([0, 1])]
    assert r._choose(options, [], random.Random(seed))[0] == options[random.Random(seed).choice(range(5))]
    assert r._choose([], [], random.Random(seed)) is None


# -- kin and the similarity band, against loops over the vectors

def test_kin_is_the_same_kind_most_similar_first(world):
    r, vectors = world["rewriter"], world["vectors"]
    avoid = frozenset({"goat", "dog"})
    want = [w for w in same_kind("horse") if w not in avoid]
    assert len(want) == 4
    sims = [float(vectors.vector(w) @ vectors.vector("horse")) for w in want]
    want = [w for _, w in sorted(zip(sims, want), key=lambda p: -p[0])]
    got = r._kin("horse", avoid)
    assert got == want and want != sorted(want, key=same_kind("horse").index)  # not the table's order
    # a two-word kin one of whose words the caption has is left out ("polar bear" beside a "bear")
    assert "polar bear" in r._kin("zebra", frozenset()) and "polar bear" not in r._kin("zebra", frozenset({"polar"}))
    assert r._kin("dog", frozenset({"rabbit", "hamster"})) == ["cat"]  # one left: no ranking needed


def test_kin_in_a_closed_world_is_the_inputs_own_nouns(world):
    closed, vocab = world["closed"], world["vocab"]
    got = closed._kin("dog", frozenset())
    assert got and set(got) <= set(vocab.nouns) and set(got) < set(world["rewriter"]._kin("dog", frozenset()))
    assert closed._kin("zebra", frozenset({"giraffe"})) == [w for w in world["rewriter"]._kin("zebra",
                                                                                              frozenset({"giraffe"}))
                                                            if w in set(vocab.nouns)]


def _band_reference(r, key, kind, concreteness):
    """:meth:`LexicalRewriter._band` by a plain loop: every word of the role, the band, the gap, the exclusions."""
    words, vectors = r._by_role[kind], r.vectors
    synonyms = next((g for g in NOUN_SYNONYMS if key in g), frozenset())
    lo, hi = r.band
    parts = set(key.split())
    rows = []
    for i, w in enumerate(words):
        sim = float(vectors.vector(w) @ vectors.vector(key))
        if not lo <= sim <= hi:
            continue
        rating = r.lexicon.rating(w)
        if concreteness is not None and r.use_plausibility and rating is not None \
                and abs(rating - concreteness) > rw_mod.MAX_CONCRETENESS_GAP:
            continue
        if w in synonyms or parts & set(w.split()) or any(same_stem(w, p) for p in parts) \
                or SequenceMatcher(None, w, key).ratio() >= 0.8:
            continue
        rows.append((sim, i))
    rows.sort(key=lambda p: -p[0])
    limit = (r.shortlist if r.use_plausibility else rw_mod._OLD_SHORTLIST) + 25
    return [i for _, i in rows][:limit]


@pytest.mark.parametrize("key,kind,concreteness", [("dog", "n", 4.85), ("horse", "n", None), ("red", "a", 4.0),
                                                   ("hot dog", "n", 4.8), ("sit", "v", 4.0)])
def test_band_against_a_loop(world, key, kind, concreteness):
    for name in ("rewriter", "ablation"):
        r = copy.copy(world[name])
        r._band_cache = {}
        world["vectors"].ensure([key])
        got = r._band(key, kind, concreteness)
        assert got == _band_reference(r, key, kind, concreteness), (name, key)
        assert r._band(key, kind, concreteness) is got  # cached


def test_neighbours_drop_the_captions_words_and_near_spellings(world, lexicon):
    r = world["rewriter"]
    band = [r._by_role["n"][i] for i in r._band("dog", "n", 4.85)]
    avoid = frozenset(band[:2])
    near = (band[3], "zzzz")
    got = r._neighbours("dog", "n", 4.85, avoid, near)
    want = [w for w in band if w not in avoid and not rw_mod._looks_alike(w, band[3])
            and not rw_mod._looks_alike(w, "zzzz")][: r.shortlist]
    assert got == want and band[3] not in got and band[0] not in got


def test_neighbours_in_the_ablation_closest_in_concreteness_first(world, lexicon):
    r = world["ablation"]
    band = [r._by_role["n"][i] for i in r._band("horse", "n", 4.9)][: rw_mod._OLD_SHORTLIST]
    got = r._neighbours("horse", "n", 4.9)

    def gap(w):
        rating = lexicon.rating(w)
        return 9.0 if rating is None else abs(rating - 4.9)

    want = sorted([w for w in band if lexicon.rating(w) is None or abs(lexicon.rating(w) - 4.9) <= 1.5], key=gap)
    assert got == want and len(got) > 3
    assert r._neighbours("horse", "n", None) == band  # no rating: the band's order


# -- rewrite: the guards it asks, and each role

@pytest.mark.parametrize("caption,text,role", [
    ("A stainless steel stove in a kitchen.", "steel", "O"),  # a compound
    ("A stainless steel stove in a kitchen.", "steel", "A"),
    ("A dog chasing the dog.", "dog", "O"),  # repeated
    ("A bathroom stall with a toilet.", "bathroom", "O"),  # before its head
    ("A tennis racket and a tennis ball.", "tennis racket", "O"),  # a part said again
    ("A room with a couch, chair and television.", "chair", "O"),  # a room's inventory
    ("A plate filled with pastries.", "plate", "O"),  # stated contents
    ("A toilet next to a sink.", "toilet", "O"),  # a fixture in a bathroom
    ("A man walking with his dog.", "man", "O"),  # a gendered pronoun
    ("A man in theory.", "in", "R"),  # an abstract object
])
def test_rewrite_asks_each_guard(world, nlp, caption, text, role):
    doc = nlp(caption)
    i = next(k for k in range(len(doc)) if doc[k:k + len(text.split())].text == text)
    span = doc[i:i + len(text.split())]
    t = Candidate(i, i + len(text.split()), text, " ".join(x.lemma_.lower() for x in span), span.root.pos_,
                  span.root.tag_, role, 4.5)
    assert world["rewriter"].rewrite(doc, t, random.Random(0)) is None
    assert world["loose"].rewrite(doc, t, random.Random(0)) is not None  # without the guards: a rewrite


def test_an_object_is_drawn_among_its_most_plausible_options(world, nlp, lexicon):
    r = world["rewriter"]
    doc = nlp("A horse and a goat standing in a field.")
    t = _cand(doc, lexicon, "horse")
    features = slot_features(doc, t.start, t.end)
    seen = set()
    for seed in range(6):
        got = r.rewrite(doc, t, caption_rng(seed, doc.text))
        assert got.target_key == "horse" and got.edits[0].start == t.start and got.edits[0].end == t.end
        assert got.replacement == got.replacement_key == got.edits[0].text
        assert got.plausibility == round(r.slots.score(features, got.replacement), 3)
        assert got.replacement in same_kind("horse") and got.replacement not in ("goat", "field")
        seen.add(got.replacement)
    assert len(seen) > 1


def test_a_plural_object_is_pluralised(world, nlp, lexicon):
    from slipform.text.inflect import pluralize

    doc = nlp("Two giraffes eat grass near a fence.")
    got = world["rewriter"].rewrite(doc, _cand(doc, lexicon, "giraffes"), caption_rng(0, doc.text))
    assert got.replacement == pluralize(got.replacement_key) != got.replacement_key
    assert apply_edits(doc, list(got.edits)) == f"Two {got.replacement} eat grass near a fence."


def test_an_attributes_opposite_and_family(world, nlp, lexicon):
    r = world["rewriter"]
    doc = nlp("An empty glass on a table.")
    t = _cand(doc, lexicon, "empty")
    got = r.rewrite(doc, t, random.Random(0))
    features = slot_features(doc, t.start, t.end)
    assert got == Rewrite((got.edits[0],), "full", "empty", "full", round(r.slots.score(features, "full"), 3))
    assert apply_edits(doc, list(got.edits)) == "A full glass on a table."
    strict = _with_scores(r, {"full": -9.0}, min_plausibility=-5.0)
    assert strict.rewrite(doc, t, random.Random(0)) is None  # the opposite below the minimum
    lenient = _with_scores(r, {"full": -5.0}, min_plausibility=-5.0)
    assert lenient.rewrite(doc, t, random.Random(0)).replacement == "full"
    doc = nlp("A brown cat sleeping on a bed.")
    for seed in range(6):
        got = r.rewrite(doc, _cand(doc, lexicon, "brown"), random.Random(seed))
        assert got.replacement in {"black", "white", "gray", "grey", "golden"} - {"brown", "tan", "beige"}, \
            got.replacement  # a cat's colours, no synonym of brown
    doc = nlp("A giant rock on a beach.")
    for seed in range(4):
        assert r.rewrite(doc, _cand(doc, lexicon, "giant"), random.Random(seed)).replacement in \
            {"small", "little", "tiny"}  # a magnitude, no synonym of giant


def test_an_adjective_of_no_family(world, nlp, lexicon):
    doc = nlp("A happy dog on a beach.")
    t = _cand(doc, lexicon, "happy")
    assert world["rewriter"].rewrite(doc, t, random.Random(0)) is None
    got = world["loose"].rewrite(doc, t, random.Random(0))
    assert got is not None and got.target_key == "happy" and got.replacement in world["loose"]._by_role["a"]


@pytest.mark.parametrize("seed", range(3))
def test_numbers(world, nlp, lexicon, seed):
    r = world["rewriter"]
    doc = nlp("Three dogs play in the park.")
    got = r.rewrite(doc, _cand(doc, lexicon, "Three"), random.Random(seed))
    words = list(ATTRIBUTE_FAMILIES["number"][:9])
    want = random.Random(seed).choice([w for w in words if w != "three"])
    assert (got.replacement, got.target_key, got.plausibility, len(got.edits)) == (want, "three", None, 1)
    doc = nlp("A pizza cut into 8 slices.")
    got = r.rewrite(doc, _cand(doc, lexicon, "8"), random.Random(seed))
    assert got.replacement == str(random.Random(seed).choice([6, 7, 9, 10, 11]))
    doc = nlp("A cake with 1 candle.")
    got = r.rewrite(doc, _cand(doc, lexicon, "1"), random.Random(seed))
    assert got.replacement == str(random.Random(seed).choice([2, 3]))
    assert apply_edits(doc, list(got.edits)) == f"A cake with {got.replacement} candles."
    doc = nlp("There is one cat on the bed.")
    got = r.rewrite(doc, _cand(doc, lexicon, "one"), random.Random(seed))
    assert got.replacement == random.Random(seed).choice(["two", "three", "four"])
    assert apply_edits(doc, list(got.edits)) == f"There is {got.replacement} cats on the bed."
    doc = nlp("A bus with 2 doors.")
    got = r.rewrite(doc, _cand(doc, lexicon, "2"), random.Random(seed))
    assert got.replacement == str(random.Random(seed).choice([3, 4, 5]))


def test_a_number_not_in_the_tables(world, nlp, lexicon):
    doc = nlp("A bus with 25 seats.")
    assert world["rewriter"].rewrite(doc, _cand(doc, lexicon, "25"), random.Random(0)) is None


@pytest.mark.parametrize("seed", range(4))
def test_prepositions(world, nlp, lexicon, seed):
    r = world["rewriter"]
    doc = nlp("A cat on a table.")
    t = _cand(doc, lexicon, "on")
    scores = r.slots.score_many(slot_features(doc, t.start, t.end), list(PREPOSITION_CONTRASTS["on"]))
    order = sorted(range(3), key=lambda i: -scores[i])
    i = random.Random(seed).choice(order[:3])
    got = r.rewrite(doc, t, random.Random(seed))
    assert got == Rewrite((got.edits[0],), PREPOSITION_CONTRASTS["on"][i], "on", PREPOSITION_CONTRASTS["on"][i],
                          round(scores[i], 3))
    doc = nlp("A man holding up a sign.")
    assert r.rewrite(doc, _cand(doc, lexicon, "up"), random.Random(seed)) is None  # a particle
    assert world["loose"].rewrite(doc, _cand(doc, lexicon, "up"), random.Random(seed)).replacement == "down"


def test_verbs(world, nlp, lexicon):
    r = world["rewriter"]
    doc = nlp("A dog catches a frisbee in a park.")
    t = _cand(doc, lexicon, "catches")
    for seed in range(5):
        got = r.rewrite(doc, t, random.Random(seed))
        assert got.target_key == "catch" and got.edits[0].text == got.replacement
        assert got.replacement.endswith("s") and got.replacement_key != "catch"
    doc = nlp("A plate sits on a table.")
    assert r.rewrite(doc, _cand(doc, lexicon, "sits"), random.Random(0)) is None  # a thing does not change posture
    assert world["loose"].rewrite(doc, _cand(doc, lexicon, "sits"), random.Random(0)) is not None


# -- the backend

def test_the_backend_rewrites_targets_and_routes(world, nlp, lexicon):
    plant = world["plant"]
    backend = plant.backend
    assert backend.rewriter is world["rewriter"]  # built once
    doc = nlp("A red car next to a white truck.")
    cands = candidates(doc, lexicon)
    red = next(c for c in cands if c.text == "red")
    car = next(c for c in cands if c.text == "car")
    item = Caption("0", doc.text)
    # the routed job first: every job after it is still done
    jobs = [Job(0, item, doc, Routed(car, "A", tuple(cands), "swap"), random.Random(0)),
            Job(0, item, doc, red, random.Random(0))]
    direct = world["rewriter"].rewrite(doc, red, random.Random(0))
    got = backend.rewrite(jobs)[::-1]
    assert got[0] == Proposal(apply_edits(doc, list(direct.edits)), "red", "A", red.concreteness,
                              direct.replacement, ("red", direct.replacement), direct.plausibility)
    assert got[1].negative == "A white car next to a red truck." and got[1].edit == "swap"
    assert got[1].anchor == "car" and got[1].concreteness == car.concreteness
    from slipform.plant.lexical.routes import route_edit

    made = route_edit(world["rewriter"], doc, Routed(car, "A", tuple(cands), "swap"), random.Random(0))
    m = made.rewrite
    assert got[1] == Proposal(apply_edits(doc, list(m.edits)), made.target, made.role, car.concreteness,
                              m.replacement, (m.target_key, m.replacement_key), m.plausibility, edit=made.edit,
                              anchor="car")
    happy_doc = nlp("A happy dog.")
    happy = next(c for c in candidates(happy_doc, lexicon) if c.text == "happy")
    assert backend.rewrite([Job(0, item, happy_doc, happy, random.Random(0)), Job(0, item, doc, red, random.Random(0))]) \
        == ["no replacement found", got[0]]  # and the job after it is done
    assert backend.rewrite([Job(0, item, happy_doc, Routed(happy, "R", (happy,), "swap"), random.Random(0))]) == \
        ["no edit on any route"]


# -- the rewriter without guards (same_kind=False), against the draw recomputed from the slot model

def _draw(r, options, features, rng):
    """:meth:`LexicalRewriter._choose` by hand: the ``pool`` best-scored (ties in order), one drawn."""
    if not options:
        return None
    scores = r.slots.score_many(features, options)
    order = sorted(range(len(options)), key=lambda i: -scores[i])[: r.pool]
    i = rng.choice(order)
    return options[i], round(scores[i], 3)


@pytest.mark.parametrize("seed", range(3))
def test_loose_object_is_drawn_from_its_neighbours(world, nlp, lexicon, seed):
    from slipform.text.inflect import pluralize

    r = world["loose"]
    for caption, text in (("A horse and a goat standing in a field.", "horse"),
                          ("Two giraffes eat grass near a fence.", "giraffes"),
                          ("A man eating a hot dog at a stand.", "hot dog")):
        doc = nlp(caption)
        t = _cand(doc, lexicon, text)
        avoid = frozenset(w for tok in doc for w in (tok.lower_, tok.lemma_.lower()))
        near = tuple(doc[i].lower_ for i in (t.start - 1, t.end) if 0 <= i < len(doc))
        options = r._neighbours(t.lemma, "n", t.concreteness, avoid, near)
        new, score = _draw(r, options, slot_features(doc, t.start, t.end), random.Random(seed))
        surface = pluralize(new) if t.tag in ("NNS", "NNPS") else new
        got = r.rewrite(doc, t, random.Random(seed))
        assert (got.replacement, got.target_key, got.replacement_key, got.plausibility) == \
            (surface, t.lemma, new, score), caption
        assert [(e.start, e.end, e.text) for e in got.edits] == [(t.start, t.end, surface)]


@pytest.mark.parametrize("seed", range(3))
def test_loose_attribute_of_a_family_and_of_none(world, nlp, lexicon, seed):
    r = world["loose"]
    doc = nlp("A brown cat sleeping on a red bed.")
    t = _cand(doc, lexicon, "brown")
    avoid = frozenset(w for tok in doc for w in (tok.lower_, tok.lemma_.lower()))
    options = [w for w in ATTRIBUTE_FAMILIES["colour"] if w not in {"tan", "brown", "beige"} and w not in avoid]
    features = slot_features(doc, t.start, t.end)
    new, score = _draw(r, options, features, random.Random(seed))
    assert r.rewrite(doc, t, random.Random(seed)) == Rewrite((r.rewrite(doc, t, random.Random(seed)).edits[0],),
                                                             new, "brown", new, score)
    assert "red" not in options and "blue" in options  # no colour filter without the guards; the caption's red
    doc = nlp("A happy dog on a beach.")
    t = _cand(doc, lexicon, "happy")
    avoid = frozenset(w for tok in doc for w in (tok.lower_, tok.lemma_.lower()))
    new, score = _draw(r, r._neighbours("happy", "a", t.concreteness, avoid), slot_features(doc, t.start, t.end),
                       random.Random(seed))
    got = r.rewrite(doc, t, random.Random(seed))
    assert (got.replacement, got.target_key, got.replacement_key, got.plausibility) == (new, "happy", new, score)


@pytest.mark.parametrize("seed", range(3))
def test_loose_verb_joins_the_table_and_related_verbs(world, nlp, lexicon, seed):
    from slipform.plant.knowledge.tables import VERB_CONTRASTS
    from slipform.text.inflect import verb_form

    r = world["loose"]
    doc = nlp("A man holding a phone in a park.")
    t = _cand(doc, lexicon, "holding")
    avoid = frozenset(w for tok in doc for w in (tok.lower_, tok.lemma_.lower()))
    table = [w for w in VERB_CONTRASTS["hold"] if w not in avoid]
    related = [w for w in r._neighbours("hold", "v", t.concreteness, avoid) if w not in table]
    assert related  # the input's verbs join the table's
    new, score = _draw(r, table + related, slot_features(doc, t.start, t.end), random.Random(seed))
    got = r.rewrite(doc, t, random.Random(seed))
    assert (got.replacement, got.target_key, got.replacement_key, got.plausibility) == \
        (verb_form(new, "VBG"), "hold", new, score)
    assert [(e.start, e.end, e.text) for e in got.edits] == [(t.start, t.end, got.replacement)]


def test_a_verb_outside_the_table(world, nlp, lexicon):
    from slipform.plant.knowledge.tables import VERB_CONTRASTS
    from slipform.text.inflect import verb_form

    doc = nlp("A woman knits a scarf on a sofa.")
    t = _cand(doc, lexicon, "knits")
    assert "knit" not in VERB_CONTRASTS and t.tag == "VBZ"
    assert world["rewriter"].rewrite(doc, t, random.Random(0)) is None  # no contrast known to be of its kind
    r = world["loose"]
    avoid = frozenset(w for tok in doc for w in (tok.lower_, tok.lemma_.lower()))
    options = r._neighbours("knit", "v", t.concreteness, avoid)
    new, score = _draw(r, options, slot_features(doc, t.start, t.end), random.Random(0))
    got = r.rewrite(doc, t, random.Random(0))
    assert (got.replacement, got.target_key, got.replacement_key) == (verb_form(new, "VBZ"), "knit", new)


@pytest.mark.parametrize("seed", range(4))
def test_ablation_verb_is_any_of_the_tables_contrasts(world, nlp, lexicon, seed):
    from slipform.plant.knowledge.tables import VERB_CONTRASTS
    from slipform.text.inflect import verb_form

    r = world["ablation"]
    doc = nlp("A dog catches a frisbee in a park.")
    t = _cand(doc, lexicon, "catches")
    contrasts = list(VERB_CONTRASTS["catch"])
    i = random.Random(seed).choice(range(len(contrasts)))
    got = r.rewrite(doc, t, random.Random(seed))
    assert (got.replacement, got.replacement_key) == (verb_form(contrasts[i], "VBZ"), contrasts[i])


def test_a_relation_outside_the_table_or_a_particle(world, nlp):
    doc = nlp("A cup of tea on a table.")
    of = Candidate(2, 3, "of", "of", "ADP", "IN", "R", 2.0)
    assert world["rewriter"].rewrite(doc, of, random.Random(0)) is None
    assert world["loose"].rewrite(doc, of, random.Random(0)) is None


# -- what the constructor builds

def test_the_rewriters_vocabulary_and_priors(world, lexicon):
    from slipform.plant.knowledge.context import shipped_context
    from slipform.plant.knowledge.tables import GENERIC_NOUNS

    vocab, r, closed, loose = world["vocab"], world["rewriter"], world["closed"], world["loose"]
    merged = vocab.merged(True)
    assert r._by_role["n"] == [w for w in merged.nouns if w not in GENERIC_NOUNS] and r._by_role["n"]
    assert r._by_role["a"] == merged.adjectives and r._by_role["v"] == merged.verbs
    assert closed._by_role["n"] == [w for w in sorted(set(vocab.nouns)) if w not in GENERIC_NOUNS]
    assert closed._nouns_in_domain == set(vocab.nouns) and closed._in_domain == set(vocab.adjectives)
    assert r._nouns_in_domain is None and r._in_domain is None
    assert r._context is shipped_context() and r._relations is not None
    assert closed._context is None and closed._relations is None and loose._context is None
    assert loose._relations is None
    for kind in ("n", "a", "v"):
        words = r._by_role[kind]
        assert np.allclose(r._matrix[kind], world["vectors"].matrix(words))
        want = [lexicon.rating(w) for w in words]
        assert [None if np.isnan(x) else x for x in r._conc[kind]] == want
        assert (r._letters[kind] == np.stack([rw_mod._letter_counts(w) for w in words])).all()
        assert list(r._lengths[kind]) == [len(w) for w in words]
    assert (r.band, r.pool, r.shortlist, r.min_plausibility, r.use_plausibility, r.same_kind) == \
        ((0.30, 0.75), 3, 40, None, True, True)
    assert (world["ablation"].use_plausibility, loose.same_kind) == (False, False)


def test_a_role_with_no_words(world, lexicon):
    from slipform.plant.knowledge.vocabulary import Vocabulary

    empty = LexicalRewriter(lexicon, Vocabulary(), world["vectors"], fallback=False)
    assert empty._letters["a"].shape == (0, 27) and empty._band("red", "a", 4.0) == []
    assert empty._neighbours("red", "a", 4.0) == []


def test_the_band_cache_is_bounded(world):
    r = copy.copy(world["rewriter"])
    r._band_cache = {("k", "n", float(i)): [] for i in range(50_001)}
    r._band("dog", "n", 4.85)
    assert list(r._band_cache) == [("dog", "n", 4.85)]  # cleared past 50,000 entries, then filled
    r._band_cache = {("k", "n", float(i)): [] for i in range(50_000)}
    r._band("dog", "n", 4.85)
    assert len(r._band_cache) == 50_001


# -- the backend's rewriter follows the planter's settings

def test_the_backends_rewriter_follows_the_config(world, lexicon):
    from slipform.plant.lexical.backend import LexicalBackend

    assert LexicalBackend.routes is True and LexicalBackend.name == "lexical"
    config = PlantConfig(band=(0.2, 0.8), fallback_vocabulary=False, plausibility=False, min_plausibility=-7.5,
                         same_kind=False)
    plant = ConcretePlant(config, world["vocab"])
    plant.__dict__["vectors"] = world["vectors"]
    backend = plant.backend
    assert "rewriter" not in backend.__dict__
    backend.prepare()
    r = backend.__dict__["rewriter"]
    assert (r.band, r.use_plausibility, r.min_plausibility, r.same_kind) == ((0.2, 0.8), False, -7.5, False)
    assert r._nouns_in_domain == set(world["vocab"].nouns) and r.lexicon is plant.lexicon
    assert r.vectors is world["vectors"] and r.slots is world["vocab"].slots
    default = world["plant"].backend.rewriter
    assert (default.band, default.use_plausibility, default.same_kind, default._nouns_in_domain) == \
        ((0.30, 0.75), True, True, None)
