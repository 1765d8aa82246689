"""The plant's backends pinned further for mutation testing (issue 31, third round): each test here was
written from a mutant of ``bench/mutation.py backends_swap`` / ``backends_llm`` (``--sample 20 --seed 0``)
that the suite let live, and was seen failing on it; references worked out by hand from the parse.
"""

from __future__ import annotations

import pytest

from slipform.plant.backends.swap import Swap, _spans

# ---- backends/swap.py -----------------------------------------------------------------------------


def test_a_noun_phrase_leaves_its_possessive_where_it_is(nlp):
    doc = nlp("A man holding his black umbrella near a red car.")
    assert [t.pos_ for t in doc[3:6]] == ["PRON", "ADJ", "NOUN"]  # "his" is a pronoun to the tagger
    # "his black umbrella" and "a red car" without "his" and "a": their swap keeps each determiner in place
    assert _spans(doc, "noun_phrase") == [(4, 6), (8, 10)]


def test_a_swap_of_an_unrated_word_has_no_concreteness(nlp):
    from slipform.plant import Caption, ConcretePlant, PlantConfig
    from slipform.plant.core.backend import Job, get_backend

    planter = ConcretePlant(PlantConfig(backend="negclip"))
    doc = nlp("Zorblax chases a dog.")
    assert planter.lexicon.lookup("Zorblax", doc[0].lemma_) is None  # a made-up name: no rating
    backend = get_backend("negclip")(planter)
    item = Caption("1", doc.text)
    unrated, rated = backend.rewrite([Job(0, item, doc, Swap("noun", (0, 1), (3, 4)), None),
                                      Job(0, item, doc, Swap("noun", (3, 4), (0, 1)), None)])
    assert (unrated.negative, unrated.target, unrated.replacement) == ("Dog chases a Zorblax.", "Zorblax", "dog")
    assert unrated.concreteness is None and unrated.keys == ("zorblax", "dog") and unrated.edit == "swap"
    assert rated.concreteness == planter.lexicon.lookup("dog", "dog") == pytest.approx(4.85)
    assert rated.extra == {"swap": "noun"} and rated.role == "O"
