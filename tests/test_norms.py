"""Visual concreteness (slipform.norms) on the world, where what each word shows is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from slipform.lexicon import load_lexicon
from slipform.norms import (
    NormsConfig,
    blend_ratings,
    caption_terms,
    compute_norms,
    nearest_neighbours,
    to_ratings,
    visual_concreteness,
)
from slipform.world.caption import FILLER_ADJECTIVES, FILLER_ADVERBS, FILLER_PHRASES
from slipform.world.dataset import write_split
from slipform.world.scene import COLOURS, SHAPES


class KnownFeatures:
    """A stand-in image encoder whose features are known: the colours (coarse pixels) and the
    silhouette (which pixels differ from the background), so colour, layout and shape show."""

    def images(self, paths):
        out = []
        for p in paths:
            with Image.open(p) as im:
                rgb = np.asarray(im.convert("RGB").resize((24, 24)), dtype=np.float32) / 255
            mask = (np.abs(rgb - rgb[0, 0]).sum(-1) > 0.2).astype(np.float32).ravel()
            pixels = rgb[::2, ::2].ravel()
            v = np.concatenate([(pixels - pixels.mean()) / (pixels.std() + 1e-6),
                                (mask - mask.mean()) / (mask.std() + 1e-6)])
            out.append(torch.from_numpy(v))
        return torch.stack(out)


@pytest.fixture(scope="module")
def world_norms(tmp_path_factory):
    root = tmp_path_factory.mktemp("norms-world")
    captions = write_split(root, "train", 800, captions_per_scene=2)
    out = root / "visual.csv"
    summary = compute_norms(captions, out, KnownFeatures(), NormsConfig(k=20, min_count=50), fmt="csv",
                            image_root=root)
    return summary, out


def test_shape_colour_and_relation_words_score_above_fillers(world_norms):
    summary, out = world_norms
    assert summary.images == 800 and summary.captions == 1600 and not summary.skipped
    rows = {}
    for line in out.read_text().splitlines()[1:]:
        word, rating, score, images = line.split(",")
        rows[word] = (float(rating), float(score), int(images))
    fillers = [rows[w][1] for w in (*FILLER_ADJECTIVES, *FILLER_ADVERBS, *FILLER_PHRASES) if w in rows]
    colours = [rows[w][1] for w in COLOURS if w in rows]
    relations = [rows[w][1] for w in ("left", "right", "above", "below") if w in rows]
    shapes = [rows[w][1] for w in SHAPES if w in rows]
    assert len(fillers) >= 8 and len(colours) >= 5 and len(relations) == 4 and len(shapes) >= 5
    assert 0.7 < np.mean(fillers) < 1.3  # fillers are drawn independently of the image: chance
    assert min(colours) > max(fillers) and min(relations) > max(fillers)
    assert np.mean(shapes) > np.mean(fillers) + 0.1
    # the file is a norms file that planting reads unchanged
    lex = load_lexicon(str(out))
    assert lex.rating("red") is not None and 1 <= lex.rating("honest") < lex.rating("left") <= 5


def test_score_is_one_at_chance_and_high_for_a_cluster():
    rng = np.random.default_rng(0)
    feats = np.concatenate([rng.normal(0, 1, (100, 8)), rng.normal(0, 1, (100, 8)) + 6])
    terms = [({"cluster"} if i >= 100 else set()) | ({"noise"} if rng.random() < 0.5 else set()) for i in range(200)]
    norms = visual_concreteness(terms, nearest_neighbours(feats, 10), min_count=5)
    assert norms["cluster"].score > 1.9 and abs(norms["noise"].score - 1) < 0.2
    ratings = to_ratings({t: n.score for t, n in norms.items()})
    assert ratings == {"noise": 1.0, "cluster": 5.0}
    assert blend_ratings(ratings, {"cluster": 1.0, "noise": 5.0}) == {"cluster": 3.0, "noise": 3.0}


def test_too_few_images_is_a_clear_error(tmp_path):
    captions = write_split(tmp_path, "train", 10)
    with pytest.raises(ValueError, match="10 usable images"):
        compute_norms(captions, tmp_path / "v.csv", KnownFeatures(), NormsConfig(k=50), fmt="csv", image_root=tmp_path)


def test_norms_command_with_a_tiny_model_writes_a_file_plant_reads(tmp_path, capsys):
    from slipform.cli import main

    captions = write_split(tmp_path, "train", 60)
    out = tmp_path / "v.tsv"
    rc = main(["norms", str(captions), "-o", str(out), "--model", "ViT-B-32", "--pretrained", "none",
               "--model-config", "tiny", "--image-root", str(tmp_path), "--k", "5", "--min-count", "5",
               "--workers", "0", "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--blend", "brysbaert"])
    assert rc == 0 and "terms from 60 captions of 60 images" in capsys.readouterr().out
    lex = load_lexicon(str(out))
    assert len(lex) > 10 and all(1 <= v <= 5 for v in lex.ratings.values())
    assert main(["norms", str(captions), "-o", str(out), "--model", "ViT-B-32", "--pretrained", "none",
                 "--model-config", "tiny", "--k", "5", "--workers", "0", "--no-progress",
                 "--cache-dir", str(tmp_path / "cache")]) == 2  # no --image-root: every image is missing


def test_known_expressions_only_by_default(world_norms):
    """As a planting lexicon, a norms file must not make arbitrary adjacent pairs ("orange square")
    one target: by default only pairs the human norms list are scored; ``all`` scores every pair."""
    _, out = world_norms
    words = [line.split(",")[0] for line in out.read_text().splitlines()[1:]]
    assert words and not [w for w in words if " " in w and w not in load_lexicon().ratings]
    assert caption_terms("A hot dog on a red plate", {"hot dog"}) == \
        {"a", "hot", "dog", "on", "red", "plate", "hot dog"}
    assert "red plate" in caption_terms("A hot dog on a red plate", True)
    assert caption_terms("A hot dog", False) == {"a", "hot", "dog"}


def test_bad_expressions_setting_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="expressions must be"):
        compute_norms(tmp_path / "none.csv", tmp_path / "v.csv", KnownFeatures(), NormsConfig(expressions="some"))
