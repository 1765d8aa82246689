"""The world's list captions, the planting verifier and the editor's text entry point (mutmut found
no test reaching them)."""

import random

import numpy as np
import pytest

from slipform.world import ParseError, Scene, Thing, WorldEditor, parse, render
from slipform.world.caption import describe, listing, verify_negative

SCENE = Scene((Thing("circle", "red", "large"), Thing("square", "blue", "small")), "left of", seed=3)


def test_listing_names_every_thing_without_a_relation():
    for seed in range(12):
        text = listing(SCENE, seed, filler_rate=0.0)
        assert text[0].isupper() and text.endswith(".") and text.count(" and ") == 1
        assert {"large red circle", "small blue square"} == {p.strip(". ").lower().removeprefix("a ")
                                                            for p in text.split(" and ")}
        with pytest.raises(ParseError, match="no relation"):
            parse(text)
    orders = {listing(SCENE, seed, filler_rate=0.0).lower().index("circle") < 20 for seed in range(12)}
    assert orders == {True, False}  # the things come in random order
    assert listing(SCENE, 4) == listing(SCENE, 4) and len({listing(SCENE, s) for s in range(12)}) > 2
    single = Scene((Thing("star", "green", "small"),), None, seed=1)
    assert parse(listing(single, 0)).things == single.things


def test_verify_negative_says_why_a_negative_is_none():
    cap = "A large red circle to the left of a small blue square."
    assert verify_negative(cap, "A large green circle to the left of a small blue square.") is None
    assert verify_negative("a dog on a sofa", cap) == "caption does not parse as a world caption"
    assert verify_negative(cap, "a dog on a sofa") == "negative does not parse as a world caption"
    same = "A small blue square to the right of a large red circle."  # the same scene, written the other way
    assert verify_negative(cap, same) == "negative describes the same scene"


def test_the_editor_reads_the_caption_text_and_refuses_what_does_not_parse():
    editor = WorldEditor()
    cap = "A large red circle to the left of a small blue square."
    neg = "A large green circle to the left of a small blue square."
    got = editor.edit(render(SCENE), cap, neg, seed=3)
    want = render(Scene((Thing("circle", "green", "large"), Thing("square", "blue", "small")), "left of", seed=3))
    assert np.array_equal(np.asarray(got), np.asarray(want))
    assert editor.edit(render(SCENE), "a dog on a sofa", neg) is None
    assert editor.negative_scene(SCENE, "A large green circle.") is None  # one thing for two: no edit
    assert describe(Thing("circle", "red", "large", "striped"), random.Random(0)).endswith(
        "striped circle")


def test_editor_orients_the_negative_the_way_the_original_is_written():
    """The editor renders a negative in the original's order when that order agrees better with the
    original's things (shape, colour, size, texture; the same relation counts half a field), so
    each thing keeps its place: worked out by hand for an original "red circle left of blue square"."""
    from slipform.world.editor import _orient

    red_circle, blue_square = Thing("circle", "red"), Thing("square", "blue")
    original = Scene((red_circle, blue_square), "left of", 1)

    def neg(a, b, relation):
        return Scene((a, b), relation, 7)

    # the same scene written the other way round: flipped (8 + 0.5) beats as written (4)
    assert _orient(neg(blue_square, red_circle, "right of"), original) == neg(red_circle, blue_square, "left of")
    # a relation swap stays as written (8 against 4.5)
    assert _orient(neg(red_circle, blue_square, "right of"), original) == neg(red_circle, blue_square, "right of")
    # an attribute swap: as written 6 + 0.5 (the relation agrees), flipped 6: kept
    swap = neg(Thing("circle", "blue"), Thing("square", "red"), "left of")
    assert _orient(swap, original) == swap
    # flipped agrees in one field more (7 against 6 + 0.5): flipped, though its relation differs
    one_more = neg(Thing("square", "green"), Thing("square", "red"), "left of")
    assert _orient(one_more, original) == neg(Thing("square", "red"), Thing("square", "green"), "right of")
    # a tie (6 and 6, neither relation the original's) keeps the negative as written
    tie = neg(Thing("circle", "blue"), Thing("square", "red"), "above")
    assert _orient(tie, original) == tie
    single = Scene((red_circle,), None, 3)
    assert _orient(single, original) is single


def test_editor_renders_with_its_own_world_config():
    from dataclasses import replace

    from slipform.world.scene import WorldConfig

    config = replace(WorldConfig(), canvas=48)
    scene = Scene((Thing("circle", "red"), Thing("square", "blue")), "left of", 1)
    edited = WorldEditor(config).edit_scene(scene, "a blue circle left of a blue square.")
    assert edited.size == render(scene, config).size == (48, 48)


def test_listing_fillers_follow_the_rate_and_the_article_fits_the_first_word():
    from slipform.world.caption import FILLER_ADJECTIVES, FILLER_ADVERBS

    assert describe(Thing("circle", "orange"), random.Random(0)) == "a large orange circle"  # "a" for "large"
    scene = Scene((Thing("circle", "orange"), Thing("square", "blue")), "left of", 3)
    fillers = set(FILLER_ADJECTIVES) | set(FILLER_ADVERBS)
    for seed in range(5):
        plain = listing(scene, seed, filler_rate=0.0)[:-1].lower().replace(",", "").split()
        assert not fillers & set(plain)
        full = listing(scene, seed, filler_rate=1.0)[:-1].lower().replace(",", "").split()
        assert full[0] in FILLER_ADVERBS and sum(w in FILLER_ADJECTIVES for w in full) == 2  # one per thing


def test_parse_names_what_it_could_not_read():
    with pytest.raises(ParseError, match=r"^no thing described in 'a picture\.'$"):
        parse("a picture.")
    with pytest.raises(ParseError, match=r"^'blob' is not a shape of this world \(in 'a red blob left of a blue square\.'\)$"):
        parse("a red blob left of a blue square.")
    assert parse("a red circle.").relation is None and len(parse("a red circle.").things) == 1


def test_the_worlds_captions_are_pinned_across_versions():
    """The world's data are cached by their config, not by the code, and docs/RESULTS.md was measured
    on these exact captions: a change to the phrasing, fillers or templates must be a deliberate one
    (then bump the data cache key in experiment/protocol.world_data and update this pin)."""
    import hashlib

    from slipform.world.caption import caption
    from slipform.world.scene import WorldConfig, sample_scene

    first = sample_scene(0, WorldConfig(), "train")
    assert caption(first, 0) == "A notable small orange square is above an ideal small yellow square."
    assert listing(first, 0) == "A small orange square and a small yellow square."
    assert caption(sample_scene(1, WorldConfig(), "train"), 1) == \
        "A large blue circle sits to the left of an honest small black square, for some reason."
    digest = hashlib.blake2b(digest_size=8)
    for i in range(300):
        scene = sample_scene(i, WorldConfig(), "train")
        for k in (0, 1):
            digest.update(f"{caption(scene, k)}|{listing(scene, k)}\n".encode())
    assert digest.hexdigest() == "0b14af00e33e56d3"
    assert caption(first) == caption(first, 0) and listing(first) == listing(first, 0)  # the default seed
    # scenes the training split does not draw: one thing, and a third thing after the relation
    one = Scene((Thing("circle", "red"),), None, seed=7)
    three = Scene((Thing("circle", "red"), Thing("square", "blue", "small"), Thing("triangle", "green")), "above", seed=7)
    assert [caption(one, k) for k in (0, 2)] == ["There is a large red circle, in fairness.",
                                                 "A picture of a notable large red circle, for some reason."]
    assert caption(three, 3) == "Evidently, a small blue square below a virtual large red circle and a large green triangle."
