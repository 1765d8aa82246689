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


@pytest.mark.parametrize("negative, change", [
    ("A large black circle sits to the left of an honest small blue square.", "colour swap"),
    ("A small blue circle sits to the left of an honest large black square.", "size swap"),
    ("A large blue square sits to the left of an honest small black circle.", "shape swap"),
    ("A large blue circle sits to the right of a small black square.", "places swapped"),
    ("A small black square sits to the left of a large blue circle.", "places swapped"),
    ("A large blue circle sits above a small black square.", "relation changed"),
    ("A large red circle sits to the left of a small black square.", "colour change"),
    ("A large blue circle sits to the left of a small black star.", "shape change"),
    ("A large blue circle sits to the left of a large black square.", "size change"),
    ("A large red star sits to the left of a small black square.", "several"),
    ("A small black square sits above a large blue circle.", "several"),
    ("Seemingly, a large blue circle is to the left of a small black square.", "same scene"),
])
def test_the_world_reads_what_an_edit_changes_in_the_scene(negative, change):
    from slipform.world.change import scene_change

    assert scene_change(parse(CAPTION), parse(negative)) == change


def test_the_mix_counts_routes_edits_and_scene_changes(tmp_path):
    import json

    from slipform.experiment.mix import mix_markdown, negative_mix

    recs = [("A large black circle sits to the left of a small blue square.", "A", "attribute_swap"),
            ("A small black square sits to the left of a large blue circle.", "R", "argument_exchange"),
            ("A large blue star sits to the left of a small black square.", "O", None),
            ("A large blue sofa sits to the left of a small black square.", "O", None)]
    path = tmp_path / "n.jsonl"
    path.write_text("".join(json.dumps({"id": "x", "caption": CAPTION, "negative": n, "role": r, "edit": e}) + "\n"
                            for n, r, e in recs))
    mix = negative_mix(path, lambda _id: parse(CAPTION))
    assert mix["n"] == 4 and mix["role"] == {"A": 1, "R": 1, "O": 2}
    assert mix["edit"] == {"attribute_swap": 1, "argument_exchange": 1, "replace": 2}
    assert mix["change"] == {"colour swap": 1, "places swapped": 1, "shape change": 1, "unparsable": 1}
    assert mix["role_change"]["R: places swapped"] == 1
    assert "| O | 2 | 50.0% |" in mix_markdown(mix, "test")


@pytest.mark.slow  # the real planter twice on 60 captions: ~30 s idle, 3 min on the shared machine
def test_the_world_plants_every_route_family_around_the_anchor_all_verified(tmp_path):
    """The real planter with the demo's settings (``PLANTS["anchor"]``) on real training captions:
    attribute swaps, relation contrasts and argument exchanges all appear, and the world's parser
    reads each as another scene; the target reading keeps replacements only."""
    import csv

    from slipform.experiment.mix import negative_mix
    from slipform.experiment.protocol import PLANTS, scene_of
    from slipform.plant import PlantConfig, plant_file

    rows = [{"id": f"{s.seed}-0", "filepath": "", "title": caption(s, 0)} for s in split_scenes("train", 60)]
    src = tmp_path / "train.csv"
    with open(src, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["id", "filepath", "title"])
        w.writeheader()
        w.writerows(rows)
    mixes = {}
    for kind in ("anchor", "concrete"):
        how = PLANTS[kind]
        out = tmp_path / f"{kind}.jsonl"
        plant_file(src, out, PlantConfig(backend="lexical", strategy=how.strategy, route=how.route, seed=0,
                                         fallback_vocabulary=False, plausibility=False, verifier="world"),
                   fmt="csv", workers=1, progress=False, log=lambda m: None)
        mixes[kind] = negative_mix(out, scene_of)
    anchor, target = mixes["anchor"], mixes["concrete"]
    assert not {"unparsable", "same scene"} & (set(anchor["change"]) | set(target["change"]))
    assert anchor["n"] >= 57  # nearly every caption gets one
    assert {"A", "R", "O"} <= set(anchor["role"]) and anchor["edit"].get("swap", 0) >= anchor["n"] // 10
    assert {"colour swap", "places swapped", "shape swap"} <= set(anchor["change"])
    assert set(target["edit"]) == {"replace"} and set(target["change"]) <= {"shape change", "colour change",
                                                                           "size change"}
