"""The lexical guards on plural, capitalised and upper-case words, on real parses.

spaCy lemmatises "dresses" to "dress" but leaves a capitalised or upper-case plural it reads as
a name as written ("Dresses", "BUNCHES", "HERDS"): each guard must hold for every form a
caption may use, as it does for the lower-case singular."""

import pytest

from slipform.plant.core.anchor import Candidate
from slipform.plant.lexical import guards


def _token(doc, word):
    return next(t for t in doc if t.text == word)


def _target(doc, word):
    t = _token(doc, word)
    return Candidate(t.i, t.i + 1, t.text, t.lemma_.lower(), t.pos_, t.tag_, "", None)


@pytest.mark.parametrize("caption", ["A woman in a dress.", "Women in dresses.", "Women in Dresses.",
                                     "WOMEN IN SKIRTS", "Girls in BIKINIS on a beach.", "A LADY IN A DRESS"])
def test_no_man_for_a_woman_in_a_dress(nlp, caption):
    assert guards.person_options(nlp(caption), ["man", "woman", "boy"]) == ["woman"]


@pytest.mark.parametrize("caption", ["A mother in a park.", "Mothers in a park.", "BRIDES IN WHITE",
                                     "Two Sisters on a bench.", "QUEENS AND KINGS", "Ladies with umbrellas."])
def test_a_dress_stays_an_option_for_women_in_any_form(nlp, caption):
    assert guards.clothing_options(nlp(caption), ["dress", "shirt"]) == ["dress", "shirt"]


def test_no_dress_where_no_woman_is_named(nlp):
    for caption in ("Soccer players in uniforms.", "MEN IN SUITS", "Two Boys in shorts."):
        assert guards.clothing_options(nlp(caption), ["dress", "skirt", "shirt"]) == ["shirt"], caption


@pytest.mark.parametrize("caption,word", [
    ("A bunch of bananas on a table.", "bananas"), ("Bunches of bananas on a table.", "bananas"),
    ("BUNCHES OF BANANAS ON A TABLE", "BANANAS"), ("Two loaves of bread on a counter.", "bread"),
    ("A plate filled with pastries.", "plate"), ("PLATES FILLED WITH PASTRIES", "PLATES"),
])
def test_a_food_in_its_measure_or_a_dish_with_its_contents(nlp, caption, word):
    doc = nlp(caption)
    assert guards.holds_stated_contents(doc, _target(doc, word))


@pytest.mark.parametrize("caption,word", [
    ("A bathroom with a toilet and a sink.", "toilet"), ("Bathrooms with a toilet and a sink.", "toilet"),
    ("A BATHROOM WITH A TOILET AND A SINK", "TOILET"), ("Restrooms with toilets.", "toilets"),
    ("RESTROOMS WITH TOILETS", "TOILETS"),
])
def test_a_fixture_in_a_bathroom(nlp, caption, word):
    doc = nlp(caption)
    assert guards.fixture_in_bathroom(doc, _target(doc, word))


@pytest.mark.parametrize("caption,word", [
    ("A group of kids sitting on the grass.", "group"), ("Groups of kids sitting on the grass.", "Groups"),
    ("GROUPS OF KIDS SITTING ON THE GRASS", "GROUPS"), ("Women sitting on a bench.", "Women"),
    ("WOMEN SITTING ON A BENCH", "WOMEN"), ("CHILDREN SITTING ON A BENCH", "CHILDREN"),
    ("Ladies sitting on a bench.", "Ladies"), ("DOGS SITTING ON A BENCH", "DOGS"),
])
def test_people_and_animals_are_animate_in_any_form(nlp, caption, word):
    assert guards.animate(_token(nlp(caption), word))


@pytest.mark.parametrize("caption,word", [
    ("A herd of zebras standing in a field.", "herd"), ("Herds of zebras stand in a field.", "Herds"),
    ("HERDS OF ZEBRAS STAND IN A FIELD", "HERDS"), ("Dogs sitting on a bench.", "Dogs"),
    ("ZEBRAS STANDING IN A FIELD", "ZEBRAS"),
])
def test_animals_and_groups_of_them(nlp, caption, word):
    tok = _token(nlp(caption), word)
    assert guards.animal(tok) and guards.animate(tok)


def test_things_are_not_animate_in_any_form(nlp):
    for caption, word in (("PLATES ON A TABLE", "PLATES"), ("Buses on a street.", "Buses"),
                          ("Groups of chairs on a patio.", "Groups")):
        tok = _token(nlp(caption), word)
        assert not guards.animate(tok) and not guards.animal(tok), caption


@pytest.mark.parametrize("caption,word", [
    ("A dog chasing the dog.", "dog"), ("Dogs chase the dogs.", "Dogs"), ("A DOG CHASING THE DOG", "DOG"),
    ("A dog next to the Dog.", "dog"),
])
def test_a_noun_mentioned_again_in_any_form(nlp, caption, word):
    doc = nlp(caption)
    assert guards.repeated(doc, _target(doc, word))


@pytest.mark.parametrize("caption", ["A man with his dog.", "A man with HIS dog.", "A MAN WITH HIS DOG",
                                     "She Holds A Cat."])
def test_a_gendered_pronoun_in_any_case(nlp, caption):
    assert guards.gendered_pronoun(nlp(caption))


@pytest.mark.parametrize("caption,word", [
    ("A plate sits on a table.", "sits"), ("PLATES SIT ON A TABLE", "SIT"),
])
def test_a_thing_does_not_change_posture_in_any_form(nlp, caption, word):
    doc = nlp(caption)
    assert guards.verb_unchangeable(doc, _target(doc, word), "sit")


@pytest.mark.parametrize("caption,word", [
    ("A woman sits on a bench.", "sits"), ("WOMEN SIT ON A BENCH", "SIT"), ("Dogs Sit On A Bench.", "Sit"),
])
def test_people_and_animals_change_posture_in_any_form(nlp, caption, word):
    doc = nlp(caption)
    assert not guards.verb_unchangeable(doc, _target(doc, word), "sit")


# the guards' other branches, each on a parse that takes it (the guards group's mutation survivors)

@pytest.mark.parametrize("caption,word,subject", [
    ("A dog that sits on a bench.", "sits", "dog"),  # a relative pronoun's noun
    ("Rex sitting on a bench.", "sitting", "Rex"),  # a participle of a name
    ("A dog is ready to sit.", "sit", "dog"),  # through the adjective's complement
    ("A dog is running and catching a frisbee.", "catching", "dog"),  # the first verb's subject
])
def test_the_subject_of_a_verb(nlp, caption, word, subject):
    doc = nlp(caption)
    assert guards.subject(doc, _target(doc, word)).text == subject


@pytest.mark.parametrize("caption,word,verb_base,unchangeable", [
    ("A dog looks happy.", "looks", "look", True),  # a complement that fits the verb only
    ("A parking meter next to a parked car.", "parked", "park", True),  # a participle as an adjective
    ("A dog jumps while a man is watching.", "jumps", "jump", False),  # a clause, no purpose
    ("A dog jumps while a man watches.", "jumps", "jump", False),
])
def test_a_verb_with_a_complement_or_a_clause(nlp, caption, word, verb_base, unchangeable):
    doc = nlp(caption)
    assert guards.verb_unchangeable(doc, _target(doc, word), verb_base) is unchangeable


@pytest.mark.parametrize("caption,word,want", [
    ("A dog on a couch.", "dog", False), ("A red square above a blue square.", "square", False),
    ("Horse reins connected to two horses.", "horses", True), ("A dog sits beside my dog.", "dog", True),
])
def test_repeated_mentions(nlp, caption, word, want):
    doc = nlp(caption)
    assert guards.repeated(doc, _target(doc, word)) is want


def test_a_fixture_beside_another_and_a_dish_with_its_topping(nlp):
    doc = nlp("A toilet next to a sink.")
    assert guards.fixture_in_bathroom(doc, _target(doc, "toilet"))
    doc = nlp("A pizza with bacon on a table.")
    assert guards.holds_stated_contents(doc, _target(doc, "pizza"))
    doc = nlp("A toilet on a street.")
    assert not guards.fixture_in_bathroom(doc, _target(doc, "toilet"))
