"""The Concrete Jungle world: determinism, caption <-> scene round trip, splits, the editor."""

import numpy as np
import pytest

from slipform.world import (
    COLOURS,
    SHAPES,
    ParseError,
    Scene,
    Thing,
    WorldConfig,
    WorldEditor,
    caption,
    parse,
    render,
    sample_scene,
    split_scenes,
)
from slipform.world.caption import FILLER_ADJECTIVES, FILLER_ADVERBS, FILLER_PHRASES, RELATION_WORDS
from slipform.world.render import layout
from slipform.world.scene import RELATIONS, SIZES


def test_world_has_enough_kinds():
    assert len(SHAPES) >= 6 and len(COLOURS) >= 8


def test_rendering_is_deterministic_and_scene_dependent():
    scene = sample_scene(7)
    a, b = np.asarray(render(scene)), np.asarray(render(sample_scene(7)))
    assert a.shape == (64, 64, 3) and np.array_equal(a, b)
    assert not np.array_equal(a, np.asarray(render(sample_scene(8))))


def test_layout_follows_the_relation():
    for rel in ("left of", "right of", "above", "below"):
        scene = Scene((Thing("circle", "red"), Thing("square", "blue")), rel, seed=3)
        (ax, ay, _), (bx, by, _) = layout(scene)
        assert {"left of": ax < bx - 15, "right of": ax > bx + 15, "above": ay < by - 15,
                "below": ay > by + 15}[rel]


def test_pixels_show_the_colours():
    scene = Scene((Thing("square", "red", "large"), Thing("square", "blue", "large")), "left of", seed=1)
    img = np.asarray(render(scene)).astype(int)
    (ax, ay, _), (bx, by, _) = layout(scene)
    assert img[int(ay), int(ax), 0] > 180 and img[int(ay), int(ax), 2] < 90  # red at the first centre
    assert img[int(by), int(bx), 2] > 180 and img[int(by), int(bx), 0] < 90  # blue at the second


@pytest.mark.parametrize("n_things", [1, 2, 3])
def test_caption_scene_round_trip(n_things):
    config = WorldConfig(n_things=n_things, textures=True)
    for scene in split_scenes("train", 60, config):
        for k in range(4):
            text = caption(scene, k)
            assert parse(text).same_as(scene), text


def test_captions_vary_and_carry_abstract_fillers(lexicon):
    texts = [caption(s, k) for s in split_scenes("train", 30) for k in range(3)]
    assert len({t.split()[0] for t in texts}) > 3  # several phrasings
    fillers = FILLER_ADJECTIVES + FILLER_ADVERBS
    assert sum(any(f in t.lower() for f in fillers) for t in texts) > len(texts) / 3
    for w in fillers:
        assert lexicon.rating(w) <= 2.2, w
    for phrase in FILLER_PHRASES:
        content = [r for w, r in zip(phrase.split(), map(lexicon.rating, phrase.split()))
                   if r is not None and w not in ("in", "as", "for", "some")]
        assert content and max(content) <= 2.2, phrase  # theory, principle, essence, fairness, reason


def test_parse_rejects_what_is_not_a_scene():
    with pytest.raises(ParseError):
        parse("A large red dog to the left of a small blue square.")
    with pytest.raises(ParseError):
        parse("A large red circle and a small blue square.")
    with pytest.raises(ParseError):
        parse("Nothing to see here.")


def test_compositional_split_holds_out_combinations():
    config = WorldConfig()
    held = set(config.held_out)
    for split in ("train", "val", "test"):
        for scene in split_scenes(split, 300, config):
            assert not {(t.colour, t.shape) for t in scene.things} & held
    comp = split_scenes("compositional", 100, config)
    assert all((s.things[0].colour, s.things[0].shape) in held for s in comp)
    train_seeds = {s.seed for s in split_scenes("train", 100)}
    assert train_seeds.isdisjoint(s.seed for s in split_scenes("test", 100))


def test_editor_renders_the_negative_exactly():
    scene = Scene((Thing("circle", "red", "large"), Thing("square", "blue", "small")), "left of", seed=5)
    editor = WorldEditor()
    neg = editor.edit_scene(scene, "A large green circle to the left of a small blue square.")
    want = render(Scene((Thing("circle", "green", "large"), Thing("square", "blue", "small")), "left of", seed=5))
    assert np.array_equal(np.asarray(neg), np.asarray(want))
    swapped = editor.negative_scene(scene, "A large red circle to the right of a small blue square.")
    assert swapped.relation == "right of" and swapped.things[0].shape == "circle"  # in the original's order
    assert not swapped.same_as(scene)
    # a scene written "right of": the negative keeps each thing's place, only the colour changes
    from slipform.world.render import layout

    scene = Scene((Thing("square", "black", "small"), Thing("circle", "blue", "large")), "right of", seed=7)
    neg = editor.negative_scene(scene, "A large blue circle to the left of a small white square.")
    assert neg.things[0] == Thing("square", "white", "small") and layout(neg) == layout(scene)
    assert editor.edit_scene(scene, "A large red dog to the left of a small blue square.") is None


def test_concrete_targets_make_true_negatives_in_the_world(tmp_path):
    """ConcretePlant on world captions, replacements kept in the world's own words. Concrete targets
    change a thing's shape or colour, abstract ones its size or the relation; filler words ("notable",
    "ideal") are never changed, since no photo could refute the change; and with the world's parser
    as the verifier every written negative shows another scene."""
    import json

    from slipform.plant import PlantConfig, plant_file

    scenes = split_scenes("train", 150)
    src = tmp_path / "captions.txt"
    src.write_text("\n".join(caption(s, 0) for s in scenes) + "\n")
    fillers = {*FILLER_ADJECTIVES, *FILLER_ADVERBS, *(w for p in FILLER_PHRASES for w in p.split())}
    changed, kinds = {}, {}
    for strategy, verifier in (("concrete", None), ("abstract", None), ("concrete", "world")):
        out = tmp_path / f"{strategy}-{verifier}.jsonl"
        plant_file(src, out, PlantConfig(strategy=strategy, vocab_sample=150, fallback_vocabulary=False,
                                         verifier=verifier), progress=False)
        recs = [json.loads(line) for line in out.read_text().splitlines()]
        n = 0
        for rec in recs:
            assert rec["target"].lower() not in fillers, rec
            try:
                n += not parse(rec["negative"]).same_as(scenes[int(rec["id"]) - 1])
            except ParseError:
                pass
        changed[strategy, verifier] = (n / len(scenes), n / len(recs))
        kinds[strategy, verifier] = {rec["target"].lower() for rec in recs}
    assert changed["concrete", None][0] > 0.75 and changed["abstract", None][0] > 0.75, changed
    assert changed["abstract", None][1] > 0.97, changed  # sizes and relations: "in fairness" stays
    assert changed["concrete", "world"][1] == 1.0 and changed["concrete", "world"][0] > 0.75, changed
    shape_or_colour = set(SHAPES) | set(COLOURS)
    size_or_relation = set(SIZES) | set(RELATION_WORDS.values()) | {w.split()[-1] for w in RELATIONS}
    assert kinds["abstract", None] <= size_or_relation, kinds
    assert len(kinds["concrete", None] & shape_or_colour) >= 10, kinds


def test_world_benchmark_negatives_are_false_by_construction():
    from slipform.evaluate.world import negatives_are_false

    assert all(negatives_are_false(s) for s in split_scenes("test", 300))


def test_world_benchmarks_are_registered_and_run(tmp_path):
    import torch

    from slipform.evaluate import list_benchmarks, run
    from slipform.models import ModelSpec, load_model, tiny_open_clip_config

    names = ["world_sugarcrepe", "world_sugarcrepe_comp", "world_aro", "world_retrieval", "world_probe"]
    assert set(names) <= set(list_benchmarks())
    torch.manual_seed(0)
    model = load_model(ModelSpec("open_clip", "tiny", None, tiny_open_clip_config(image_size=64)))
    res = run(model, names, tmp_path, limit=40, workers=0)
    assert set(res["world_sugarcrepe"]) >= {"replace_obj", "replace_att", "replace_rel", "swap_obj", "swap_att",
                                            "add_obj", "add_att", "macro"}
    assert 0 <= res["world_aro"]["relation_swap"] <= 100 and "order_precision@1" in res["world_aro"]
    assert "image_to_text_R@1" in res["world_retrieval"] and "colours_shapes_mAP" in res["world_probe"]
    assert len(list((tmp_path / "world" / "images" / "test").glob("*.png"))) == 40
