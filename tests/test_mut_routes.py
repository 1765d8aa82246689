"""The routes around the anchor (plant/lexical/routes/) branch by branch, on real parses (issue 31:
the mutation samples of the route modules left these claims unpinned). Each expected negative was
read off the caption by hand; the planter is built once per process (mutation runs call pytest
many times in one process)."""

import functools
import random

import pytest

from slipform.plant import PlantConfig
from slipform.plant.core.anchor import Routed, candidates
from slipform.plant.core.edit import apply_edits
from slipform.plant.core.planter import ConcretePlant
from slipform.plant.lexical.routes import attribute_move, route_edit


@functools.lru_cache(maxsize=None)
def _plant():
    return ConcretePlant(PlantConfig())


@pytest.fixture
def plant():
    return _plant()


def _anchor(plant, doc, word, role="O"):
    cands = candidates(doc, plant.lexicon)
    return next(c for c in cands if c.role == role and c.text.split()[-1] == word), cands


def _move(plant, nlp, text, word, seed=0):
    doc = nlp(text)
    anchor, _ = _anchor(plant, doc, word)
    made = attribute_move(plant.backend.rewriter, doc, anchor, random.Random(seed))
    return None if made is None else (apply_edits(doc, list(made.rewrite.edits)), made)


@pytest.mark.parametrize("text,word,negative", [
    ("A red car behind a truck.", "car", "A car behind a red truck."),
    ("A man in a red shirt holding a cup.", "shirt", "A man in a shirt holding a red cup."),
    ("A wooden bench near a fence.", "bench", "A bench near a wooden fence."),  # a material real captions put there
    ("A red car behind metal stools.", "car", "A car behind red metal stools."),  # before the material, not after
    ("Trucks parked behind a red car.", "car", "Red trucks parked behind a car."),  # the first word keeps the capital
    ("A red car behind a big truck.", "car", "A car behind a big red truck."),  # a size says no colour
    ("A small red car behind a truck.", "car", "A small car behind a red truck."),
])
def test_attribute_move_gives_the_colour_to_a_thing_that_has_none(plant, nlp, text, word, negative):
    moved, made = _move(plant, nlp, text, word)
    assert moved == negative
    colour = text.lower().split(f" {word}")[0].split()[-1]
    assert (made.edit, made.role, made.target) == ("swap", "A", colour)
    assert (made.rewrite.target_key, made.rewrite.replacement_key) == (colour, colour)


@pytest.mark.parametrize("text,word", [
    ("A red wooden car behind a truck.", "car"),  # two attributes that could move: which one is unclear
    ("A blue sky above a car.", "sky"),  # the sky's colour is no thing's
    ("A red car behind a white truck.", "car"),  # the truck has a colour already: an exchange, not a move
    ("A red car behind a dog.", "car"),  # no red dog
    ("A red car behind a man.", "car"),  # a person's colour is no attribute
    ("A red car near a pizza.", "car"),  # food of no listed colours
    ("A red car in front of a group.", "car"),  # a group has no colour
    ("A wooden bench near a car.", "bench"),  # real captions put no "wooden" on a car
    ("A wooden bench near a dog.", "bench"),  # never "a wooden dog"
    ("A red car behind a truck's trailer.", "car"),  # a possessive is part of a name
])
def test_attribute_move_refuses(plant, nlp, text, word):
    assert _move(plant, nlp, text, word) is None


def _tokens(nlp, text):
    return {t.text: t for t in nlp(text)}


def test_an_attribute_in_a_list_is_not_alone(nlp):
    from slipform.plant.lexical.routes.attribute import _alone

    for text in ("A red, white bus near a blue car.", "A red white bus near a blue car.",
                 "A blue green bus near a red car."):
        tok = list(nlp(text))
        first, second = tok[1], tok[3 if "," in text else 2]
        assert not _alone(first) and not _alone(second), text  # a colour next to a colour, either side
    t = _tokens(nlp, "A red, white bus near a blue car.")
    assert _alone(t["blue"])
    t = _tokens(nlp, "A man in yellow shirt and black shorts playing tennis.")
    assert _alone(t["black"]) and _alone(t["yellow"])  # "and" joins the things, not two colours


def test_counts_and_families():
    from slipform.plant.lexical.routes.attribute import _count

    assert [_count(w) for w in ("two", "ten", "2", "99", "1", "0", "100", "several", "one", "x")] == \
        [2, 10, 2, 99, None, None, None, None, None, None]


def test_the_family_of_a_number_is_the_count(nlp):
    from slipform.plant.lexical.routes.attribute import _family

    t = _tokens(nlp, "Two red dogs and one cat near several cars.")
    assert (_family(t["Two"]), _family(t["red"]), _family(t["one"]), _family(t["several"])) == \
        ("count", "colour", None, None)  # one is no count to exchange; "several" is of no family that moves


def test_a_young_car_never_fits_even_without_the_slot_model(nlp):
    from types import SimpleNamespace

    from slipform.plant.lexical.routes.attribute import _attribute_fits

    bare = SimpleNamespace(_relations=None)  # a rewriter without the slot model (plausibility off)
    t = _tokens(nlp, "A red car near an old dog.")
    assert not _attribute_fits(bare, t["red"].doc, t["red"], "young")  # "young" is for living things
    assert _attribute_fits(bare, t["old"].doc, t["old"], "young")
    assert _attribute_fits(bare, t["red"].doc, t["red"], "blue")


def test_a_colour_outside_the_kinds_table_counts_from_two_sightings_or_three_colours(nlp):
    from types import SimpleNamespace

    from slipform.plant.lexical.routes.attribute import _colour_attested

    def rw(seen):
        return SimpleNamespace(_relations=SimpleNamespace(slots={"amod<wall": seen}))

    wall = _tokens(nlp, "A wall near a dog.")["wall"]
    assert _colour_attested(rw({"red": 2}), wall, "red")
    assert not _colour_attested(rw({"red": 1, "tall": 5}), wall, "red")
    assert not _colour_attested(rw({"red": 1, "blue": 1}), wall, "green")  # two colours: not yet many
    assert _colour_attested(rw({"red": 1, "blue": 1, "white": 1}), wall, "green")  # three: any colour
    assert not _colour_attested(SimpleNamespace(_relations=None), wall, "red")
    dog = _tokens(nlp, "A wall near a dog.")["dog"]
    many = SimpleNamespace(_relations=SimpleNamespace(slots={"amod<dog": {"red": 9, "blue": 9, "white": 9}}))
    assert not _colour_attested(many, dog, "red")  # never an animal
