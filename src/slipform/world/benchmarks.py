"""Benchmarks built from the world's scene graphs, registered beside the real ones.

Every negative is false for its image by construction (checked against the scene), so the
scores measure the model, not the benchmark's noise. Images are rendered on first use under
``DATA_ROOT/world/`` from the ``test`` split (``compositional`` for the ``_comp`` variants).

- ``world_aro``: relation swap (the two things trade places), attribute swap (they trade
  colours), and word order (the caption against four shuffles of its words, Precision@1).
- ``world_sugarcrepe``: replace-obj/att/rel, swap-obj/att, add-obj/att; accuracy (%) per
  subset and macro.
- ``world_retrieval``: image<->text R@1/5/10.
- ``world_probe``: linear probes on frozen features -- single-label (shape of the left or upper
  thing, top-1) and multi-label (colours and shapes present, mAP); fit on ``train`` scenes.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ..evaluate import register
from ..evaluate.encode import Encoder
from ..evaluate.metrics import recall_at_k
from ..evaluate.probe import fit_multi_label, fit_single_label
from .caption import caption
from .dataset import ensure_images
from .scene import COLOURS, SHAPES, TEXTURES, Scene, WorldConfig, split_scenes

N_TEST = 300


def _scenes(data_root: Path, split: str, limit: int | None):
    scenes = split_scenes(split, limit or N_TEST, WorldConfig())
    return scenes, ensure_images(data_root / "world", split, scenes)


def _plain(scene: Scene) -> str:
    """A filler-free caption, so that only the tested change differs."""
    return caption(scene, 0, filler_rate=0.0)


def _other(values, current, rng):
    return rng.choice([v for v in values if v != current])


def negatives(scene: Scene, rng: random.Random) -> dict[str, str]:
    a, b = scene.things[0], scene.things[1]
    out = {
        "replace_obj": _plain(replace(scene, things=(replace(a, shape=_other(SHAPES, a.shape, rng)), b))),
        "replace_att": _plain(replace(scene, things=(replace(a, colour=_other(COLOURS, a.colour, rng)), b))),
        "replace_rel": _plain(replace(scene, relation=_other(("above", "below", "left of", "right of"),
                                                             scene.relation, rng))),
        "add_obj": _plain(scene)[:-1] + f" and a {rng.choice(COLOURS)} {rng.choice(SHAPES)}.",
        "add_att": _plain(scene).replace(f" {a.shape}", f" {rng.choice(TEXTURES[1:])} {a.shape}", 1),
    }
    if a.shape != b.shape:
        out["swap_obj"] = _plain(replace(scene, things=(replace(a, shape=b.shape), replace(b, shape=a.shape))))
    if a.colour != b.colour:
        out["swap_att"] = _plain(replace(scene, things=(replace(a, colour=b.colour), replace(b, colour=a.colour))))
    return out


def _accuracy(img, pos, neg) -> float:
    return float(((img * pos).sum(-1) > (img * neg).sum(-1)).float().mean() * 100)


def _sugarcrepe(split):
    def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
        scenes, paths = _scenes(data_root, split, limit)
        img = encoder.images(paths)
        per: dict[str, list[tuple[int, str, str]]] = {}
        for i, scene in enumerate(scenes):
            for kind, neg in negatives(scene, random.Random(f"wsc:{scene.seed}")).items():
                per.setdefault(kind, []).append((i, _plain(scene), neg))
        out = {}
        for kind, rows in sorted(per.items()):
            idx = torch.tensor([r[0] for r in rows])
            out[kind] = _accuracy(img[idx], encoder.texts([r[1] for r in rows]), encoder.texts([r[2] for r in rows]))
        out["macro"] = sum(out.values()) / len(out)
        return out
    return evaluate


register("world_sugarcrepe")(_sugarcrepe("test"))
register("world_sugarcrepe_comp")(_sugarcrepe("compositional"))


@register("world_aro")
def evaluate_aro(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    scenes, paths = _scenes(data_root, "test", limit)
    img = encoder.images(paths)
    pos = encoder.texts([_plain(s) for s in scenes])
    a, b = [s.things[0] for s in scenes], [s.things[1] for s in scenes]
    rel_swap = [_plain(replace(s, things=(y, x))) for s, x, y in zip(scenes, a, b)]
    att_ok = [i for i, (x, y) in enumerate(zip(a, b)) if x.colour != y.colour]
    att_swap = [_plain(replace(scenes[i], things=(replace(a[i], colour=b[i].colour), replace(b[i], colour=a[i].colour))))
                for i in att_ok]
    out = {"relation_swap": _accuracy(img, pos, encoder.texts(rel_swap)),
           "attribute_swap": _accuracy(img[att_ok], pos[att_ok], encoder.texts(att_swap))}
    options = []
    for s in scenes:
        words = _plain(s)[:-1].split()
        rng = random.Random(f"worder:{s.seed}")
        shuffles = []
        for _ in range(4):
            w = list(words)
            while w == words:
                rng.shuffle(w)
            shuffles.append(" ".join(w))
        options.append([" ".join(words), *shuffles])
    txt = encoder.texts([o for opts in options for o in opts]).reshape(len(scenes), 5, -1)
    top1 = torch.einsum("nd,nkd->nk", img, txt).argmax(1) == 0
    out["order_precision@1"] = float(top1.float().mean() * 100)
    return out


@register("world_retrieval")
def evaluate_retrieval(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    scenes, paths = _scenes(data_root, "test", limit)
    texts = [caption(s, k) for s in scenes for k in range(2)]
    sim = encoder.images(paths) @ encoder.texts(texts).T
    return recall_at_k(sim, torch.arange(len(scenes)).repeat_interleave(2))


def _labels(scenes):
    # the left (or upper) thing: canonical scenes put it first, so the label is visible in the image
    single = np.array([SHAPES.index(s.canonical().things[0].shape) for s in scenes])
    multi = np.zeros((len(scenes), len(COLOURS) + len(SHAPES)), dtype=int)
    for n, s in enumerate(scenes):
        for t in s.things:
            multi[n, COLOURS.index(t.colour)] = 1
            multi[n, len(COLOURS) + SHAPES.index(t.shape)] = 1
    return single, multi


@register("world_probe")
def evaluate_probe(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    train, train_paths = _scenes(data_root, "train", (limit or N_TEST) * 2)
    test, test_paths = _scenes(data_root, "test", limit)
    xa, xb = encoder.images(train_paths).numpy().astype(np.float64), encoder.images(test_paths).numpy().astype(np.float64)
    (sa, ma), (sb, mb) = _labels(train), _labels(test)
    single, multi = fit_single_label(xa, sa, xb, sb), fit_multi_label(xa, ma, xb, mb)
    return {"left_shape_top1": single["top1"], "colours_shapes_mAP": multi["mAP"]}


def negatives_are_false(scene: Scene) -> bool:
    """Every benchmark negative of ``scene`` parses to a different scene (used by the tests)."""
    from .caption import ParseError, parse

    for _kind, text in negatives(scene, random.Random(0)).items():
        try:
            if parse(text).same_as(scene):
                return False
        except ParseError:
            return False
    return True

