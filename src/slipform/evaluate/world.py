"""Benchmarks built from the world's scene graphs, registered beside the real ones.

Every negative is false for its image by construction (checked against the scene), so the
scores measure the model, not the benchmark's noise. Images are rendered on first use under
``DATA_ROOT/world/`` from the ``test`` split (``compositional`` for the ``_comp`` variants);
``limit`` is the number of test scenes (default 2,000: a two-way accuracy near 50% then has a
95% sampling interval of about ±2.2 points).

- ``world_aro``: relation swap (the two things trade places), attribute swap (they trade
  colours), and word order (the caption against four shuffles of its words, Precision@1; a
  tie counts against the model).
- ``world_sugarcrepe``: replace-obj/att/rel, swap-obj/att, add-obj/att; accuracy (%) per
  subset and macro.
- ``world_retrieval``: image<->text R@1/5/10.
- ``world_probe``: linear probes on frozen features -- single-label (shape of the left or upper
  thing, top-1) and multi-label (colours and shapes present, mAP) on image features, and the
  same left-or-upper shape from the text features of the plain caption (scenes whose two shapes
  differ; does the text tower read the relation, or only the bag of words?); fit on ``train``
  scenes.

Besides its metrics, each returns the per-scene scores behind them under ``"_items"``
(``{metric: array over test scenes}``, NaN where a scene has no such item), which
:func:`slipform.evaluate.run` hands to callers that ask for them: paired comparisons of two
models over the same test items need them.
"""

from __future__ import annotations

import random
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

from ..world.caption import caption
from ..world.dataset import ensure_images
from ..world.scene import COLOURS, SHAPES, TEXTURES, Scene, WorldConfig, split_scenes
from . import register
from .encode import Encoder
from .metrics import pairwise_accuracy, recall_at_k, retrieval_ranks
from .probe import fit_multi_label, fit_single_label

N_TEST = 2000
N_PROBE_TRAIN = 1000


def test_scenes(data_root: Path, split: str = "test", limit: int | None = None) -> tuple[list[Scene], list[Path]]:
    """The first ``limit`` scenes of a split and their rendered images under ``data_root/world``."""
    scenes = split_scenes(split, limit or N_TEST, WorldConfig())
    return scenes, ensure_images(Path(data_root) / "world", split, scenes)


def plain_caption(scene: Scene) -> str:
    """A filler-free caption, so that only the tested change differs."""
    return caption(scene, 0, filler_rate=0.0)


def _other(values, current, rng):
    return rng.choice([v for v in values if v != current])


def negatives(scene: Scene, rng: random.Random) -> dict[str, str]:
    a, b = scene.things[0], scene.things[1]
    out = {
        "replace_obj": plain_caption(replace(scene, things=(replace(a, shape=_other(SHAPES, a.shape, rng)), b))),
        "replace_att": plain_caption(replace(scene, things=(replace(a, colour=_other(COLOURS, a.colour, rng)), b))),
        "replace_rel": plain_caption(replace(scene, relation=_other(("above", "below", "left of", "right of"),
                                                             scene.relation, rng))),
        "add_obj": plain_caption(scene)[:-1] + f" and a {rng.choice(COLOURS)} {rng.choice(SHAPES)}.",
        "add_att": plain_caption(scene).replace(f" {a.shape}", f" {rng.choice(TEXTURES[1:])} {a.shape}", 1),
    }
    if a.shape != b.shape:
        out["swap_obj"] = plain_caption(replace(scene, things=(replace(a, shape=b.shape), replace(b, shape=a.shape))))
    if a.colour != b.colour:
        out["swap_att"] = plain_caption(replace(scene, things=(replace(a, colour=b.colour), replace(b, colour=a.colour))))
    return out


def _correct(img, pos, neg) -> np.ndarray:
    """Per item: 100 when the image is closer to its positive than to its negative, else 0."""
    return pairwise_accuracy(img, pos, neg).numpy().astype(np.float64) * 100


def _summarise(items: dict[str, np.ndarray], **extra) -> dict:
    out = {k: float(np.nanmean(v)) for k, v in items.items()}
    return {**out, **extra, "_items": items}


def sugarcrepe_items(encoder: Encoder, data_root: Path, split: str = "test", limit: int | None = None) -> dict:
    """``{subset: per-scene accuracy (0/100, NaN where the scene has no such negative)}``."""
    scenes, paths = test_scenes(data_root, split, limit)
    img = encoder.images(paths)
    per: dict[str, list[tuple[int, str, str]]] = {}
    for i, scene in enumerate(scenes):
        for kind, neg in negatives(scene, random.Random(f"wsc:{scene.seed}")).items():
            per.setdefault(kind, []).append((i, plain_caption(scene), neg))
    out = {}
    for kind, rows in sorted(per.items()):
        idx = torch.tensor([r[0] for r in rows])
        scores = np.full(len(scenes), np.nan)
        scores[idx.numpy()] = _correct(img[idx], encoder.texts([r[1] for r in rows]), encoder.texts([r[2] for r in rows]))
        out[kind] = scores
    return out


def evaluate_sugarcrepe(split: str, encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    """``world_sugarcrepe`` on ``split`` (registered with ``partial``: see zeroshot's ``evaluate_cifar``)."""
    items = sugarcrepe_items(encoder, data_root, split, limit)
    macro = float(np.mean([np.nanmean(v) for v in items.values()]))
    return _summarise(items, macro=macro)


_GENERATED = "none: rendered on first use under world/ (the built-in world)"
register("world_sugarcrepe", "world: SugarCrepe-like replace/swap/add negatives, test scenes", _GENERATED, family="world")(
    partial(evaluate_sugarcrepe, "test"))
register("world_sugarcrepe_comp", "world: the same on held-out colour-shape combinations", _GENERATED, family="world")(
    partial(evaluate_sugarcrepe, "compositional"))


def swap_things(scene: Scene) -> Scene:
    """The relation swap: the two things trade places ("A left of B" -> "B left of A")."""
    a, b, *rest = scene.things
    return replace(scene, things=(b, a, *rest))


def aro_items(encoder: Encoder, data_root: Path, split: str, limit: int | None = None) -> dict[str, np.ndarray]:
    """``world_aro``'s per-scene scores on ``split`` (``test`` for the benchmark; the experiment's
    validation reads ``val``): relation swap, attribute swap (NaN where the two colours are equal)
    and word order (Precision@1 against four shuffles; a tie loses)."""
    scenes, paths = test_scenes(data_root, split, limit)
    img = encoder.images(paths)
    pos = encoder.texts([plain_caption(s) for s in scenes])
    a, b = [s.things[0] for s in scenes], [s.things[1] for s in scenes]
    rel_swap = [plain_caption(swap_things(s)) for s in scenes]
    att_ok = [i for i, (x, y) in enumerate(zip(a, b)) if x.colour != y.colour]
    att_swap = [plain_caption(replace(scenes[i], things=(replace(a[i], colour=b[i].colour),
                                                           replace(b[i], colour=a[i].colour))))
                for i in att_ok]
    attribute = np.full(len(scenes), np.nan)
    attribute[att_ok] = _correct(img[att_ok], pos[att_ok], encoder.texts(att_swap))
    options = []
    for s in scenes:
        words = plain_caption(s)[:-1].split()
        rng = random.Random(f"worder:{s.seed}")
        shuffles = []
        for _ in range(4):
            w = list(words)
            while w == words:
                rng.shuffle(w)
            shuffles.append(" ".join(w))
        options.append([" ".join(words), *shuffles])
    txt = encoder.texts([o for opts in options for o in opts]).reshape(len(scenes), 5, -1)
    scores = torch.einsum("nd,nkd->nk", img, txt)
    # strictly first: a tie with a shuffle counts against the model (argmax would give it to the
    # original, so a bag-of-words text tower, blind to order, would score 100%)
    top1 = scores[:, 0] > scores[:, 1:].max(1).values
    return {"relation_swap": _correct(img, pos, encoder.texts(rel_swap)), "attribute_swap": attribute,
            "order_precision@1": top1.numpy().astype(np.float64) * 100}


def evaluate_aro(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    return _summarise(aro_items(encoder, data_root, "test", limit))


register("world_aro", "world: relation swap, attribute swap, word order (Precision@1)", _GENERATED, family="world")(evaluate_aro)


def evaluate_retrieval(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    scenes, paths = test_scenes(data_root, "test", limit)
    texts = [caption(s, k) for s in scenes for k in range(2)]
    sim = encoder.images(paths) @ encoder.texts(texts).T
    image_of_text = torch.arange(len(scenes)).repeat_interleave(2)
    ranks = retrieval_ranks(sim, image_of_text)
    out = recall_at_k(sim, image_of_text, ranks=ranks)
    # per scene: its image's hit and the mean hit of its two captions, so that the mean over
    # scenes of the two together is exactly (i2t R@1 + t2i R@1) / 2
    i2t = (ranks[0] < 1).numpy().astype(np.float64) * 100
    t2i = (ranks[1] < 1).reshape(len(scenes), 2).float().mean(1).numpy().astype(np.float64) * 100
    return {**out, "_items": {"image_to_text_R@1": i2t, "text_to_image_R@1": t2i, "mean_R@1": (i2t + t2i) / 2}}


register("world_retrieval", "world: image<->text retrieval R@1/5/10", _GENERATED, family="world")(evaluate_retrieval)


def _labels(scenes):
    # the left (or upper) thing: canonical scenes put it first, so the label is visible in the image
    single = np.array([SHAPES.index(s.canonical().things[0].shape) for s in scenes])
    multi = np.zeros((len(scenes), len(COLOURS) + len(SHAPES)), dtype=int)
    for n, s in enumerate(scenes):
        for t in s.things:
            multi[n, COLOURS.index(t.colour)] = 1
            multi[n, len(COLOURS) + SHAPES.index(t.shape)] = 1
    return single, multi


def evaluate_probe(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    # the probes fit on at most 1,000 training scenes (64-d features: enough to fit, and the C sweep
    # stays a few seconds); they are scored on all ``limit`` test scenes
    train, train_paths = test_scenes(data_root, "train", min(limit or N_TEST, N_PROBE_TRAIN))
    test, test_paths = test_scenes(data_root, "test", limit)
    xa, xb = encoder.images(train_paths).numpy().astype(np.float64), encoder.images(test_paths).numpy().astype(np.float64)
    (sa, ma), (sb, mb) = _labels(train), _labels(test)
    single, multi = fit_single_label(xa, sa, xb, sb), fit_multi_label(xa, ma, xb, mb)
    # the text side: does a caption's feature say which thing is left (or upper)? The label is the
    # image probe's, read from the text of the plain caption (written either way round: "A left of
    # B" or "B right of A"). Bag-of-words features hold both shapes but not which is where: about
    # 50% on scenes whose two shapes differ; features that read the relation, up to 100%.
    ta = encoder.texts([plain_caption(s) for s in train]).numpy().astype(np.float64)
    tb = encoder.texts([plain_caption(s) for s in test]).numpy().astype(np.float64)
    differ = np.array([s.things[0].shape != s.things[1].shape for s in test])
    text = fit_single_label(ta, sa, tb[differ], sb[differ])
    return {"left_shape_top1": single["top1"], "colours_shapes_mAP": multi["mAP"],
            "text_left_shape_top1": text["top1"]}


register("world_probe", "world: linear probes, image (left shape, mAP) and text (word order)", _GENERATED, family="world")(evaluate_probe)


def negatives_are_false(scene: Scene) -> bool:
    """Every benchmark negative of ``scene`` parses to a different scene (used by the tests)."""
    from ..world.caption import ParseError, parse

    for _kind, text in negatives(scene, random.Random(0)).items():
        try:
            if parse(text).same_as(scene):
                return False
        except ParseError:
            return False
    return True

