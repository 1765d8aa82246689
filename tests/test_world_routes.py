"""The world's verifier on the edits of the anchor routes (issue 28): attribute-owner swaps, relation
contrasts and argument exchanges of real world captions are verified negatives when they show
another scene, and refused when they do not parse or show the same scene."""

from __future__ import annotations

import pytest

from slipform.world.caption import caption, parse, verify_negative
from slipform.world.scene import INVERSE, Scene, Thing, split_scenes

# real captions of training scenes, with the exact edit each route makes of them
CAPTION = "A large blue circle sits to the left of an honest small black square, for some reason."



def test_the_caption_is_a_real_world_caption():
    assert caption(split_scenes("train", 2)[1], 1) == CAPTION
    assert parse(CAPTION).same_as(Scene((Thing("circle", "blue", "large"), Thing("square", "black", "small")),
                                        "left of"))


@pytest.mark.parametrize("negative", [
    # attribute-owner swap: the two things trade colours, or sizes
    "A large black circle sits to the left of an honest small blue square, for some reason.",
    "A small blue circle sits to the left of an honest large black square, for some reason.",
    # relation contrast: another relation of the world
    "A large blue circle sits to the right of an honest small black square, for some reason.",
    "A large blue circle sits above an honest small black square, for some reason.",
    "A large blue circle sits beneath an honest small black square, for some reason.",
    # argument exchange: the anchor trades places with the other argument of its relation
    "An honest small black square sits to the left of a large blue circle, for some reason.",
    # the attribute changed within its family, the shape replaced (the routes A and O of old)
    "A large red circle sits to the left of an honest small black square, for some reason.",
    "A large blue star sits to the left of an honest small black square, for some reason.",
])
def test_edits_that_show_another_scene_are_verified(negative):
    assert verify_negative(CAPTION, negative) is None
    assert not parse(negative).same_as(parse(CAPTION))


@pytest.mark.parametrize("negative, reason", [
    # an exchange that also inverts the relation says the same thing
    ("An honest small black square sits to the right of a large blue circle, for some reason.", "same scene"),
    # a contrast the world cannot show: posture, or a relation it does not have
    ("A large blue circle stands to the left of an honest small black square, for some reason.", "same scene"),
    ("A large blue circle sits next to an honest small black square, for some reason.", "does not parse"),
    ("A large blue circle sits behind an honest small black square, for some reason.", "does not parse"),
    # an attribute swap into a word the world has no thing for
    ("A large blue sofa sits to the left of an honest small black square, for some reason.", "does not parse"),
    # a filler exchanged: abstract words have no visual correlate
    ("A large blue circle sits to the left of a typical small black square, in theory.", "same scene"),
])
def test_edits_that_show_no_other_scene_are_refused(negative, reason):
    assert reason in verify_negative(CAPTION, negative)


def test_swaps_between_equal_attributes_are_refused_on_real_captions():
    """Over real captions: a colour swap is verified exactly when the two colours differ, an argument
    exchange exactly when the two things differ, and an exchange with the inverse relation never."""
    checked = {"colour": 0, "exchange": 0}
    for scene in split_scenes("train", 60):
        a, b = scene.things
        text = caption(scene, 0, filler_rate=0.0)
        swapped = Scene((Thing(a.shape, b.colour, a.size), Thing(b.shape, a.colour, b.size)), scene.relation)
        verdict = verify_negative(text, caption(swapped, 0, filler_rate=0.0))
        assert (verdict is None) == (a.colour != b.colour), text
        exchanged = Scene((b, a), scene.relation)
        assert (verify_negative(text, caption(exchanged, 0, filler_rate=0.0)) is None) == (a != b), text
        inverse = Scene((b, a), INVERSE[scene.relation])
        assert verify_negative(text, caption(inverse, 0, filler_rate=0.0)) is not None
        checked["colour"] += a.colour != b.colour
        checked["exchange"] += a != b
    assert checked["colour"] > 30 and checked["exchange"] > 50
