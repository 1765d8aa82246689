"""EqBen (Wang et al., ICCV 2023): visual-minimal changes, Winoground-style pairs.

Files: the annotations the authors publish per subset (github.com/Wangt-CN/EqBen, README
"Data Download"; the loaders in ``src/eqben/eqben_utils.py`` read them) and the images
(png, or the light jpg release), under ``eqben/``::

    eqben/<subset>.json     subset in eqbenag, eqbenyoucook2, eqbengebc, eqbenkubric_loc,
                            eqbenkubric_attr, eqbenkubric_cnt, eqbensd
    eqben/images/<image0>   paths as the annotation gives them (YouCook2 frames are .npy)

Each file nests (by video, by subject, or as a plain list) records with ``image0``, ``image1``,
``caption0``, ``caption1``; a caption given as a list counts by its first entry (as the AG
loader does). Records are read in document order, whatever the nesting. YouCook2's ``.npy``
frames are BGR arrays, turned to RGB as the authors' example does.

Metric (``evaluate_eqben_locally.py``): per subset, Winoground's text, image and group scores
(%), comparisons strict. vl_compo's ``eqben`` is the mean group score over the five source
datasets -- AG, YouCook2, GEBC, Kubric (the mean of its loc, attr and cnt subsets) and SD --
derived from its tables (weights 1/5, and 1/15 for each Kubric subset): ``vl_compo_group``.
A subset whose file is absent is reported as ``<subset>_error``; the others still run.
"""

from __future__ import annotations

from pathlib import Path

import torch

from . import register
from .encode import BenchmarkDataError, Encoder, read_json, require_files
from .metrics import winoground_scores

SUBSETS = ("eqbenag", "eqbenyoucook2", "eqbengebc", "eqbenkubric_loc", "eqbenkubric_attr", "eqbenkubric_cnt",
           "eqbensd")
KUBRIC = ("eqbenkubric_loc", "eqbenkubric_attr", "eqbenkubric_cnt")
LAYOUT = "DATA_ROOT/eqben/<subset>.json and DATA_ROOT/eqben/images/<image0>"


def pairs(node) -> list[dict]:
    """Every ``{image0, image1, caption0, caption1}`` record under ``node``, in document order."""
    if isinstance(node, dict):
        if {"image0", "image1", "caption0", "caption1"} <= set(node):
            first = lambda c: c[0] if isinstance(c, list) else c  # noqa: E731
            return [{"image0": node["image0"], "image1": node["image1"], "caption0": first(node["caption0"]),
                     "caption1": first(node["caption1"])}]
        return [p for v in node.values() for p in pairs(v)]
    if isinstance(node, list):
        return [p for v in node for p in pairs(v)]
    return []


def _subset(encoder: Encoder, data_root: Path, subset: str, limit) -> dict:
    path = data_root / "eqben" / f"{subset}.json"
    rows = pairs(read_json(path, "eqben", LAYOUT))
    if not rows:
        raise BenchmarkDataError(f"eqben: {path} holds no image0/image1/caption0/caption1 records")
    rows = rows[:limit] if limit else rows
    paths = [data_root / "eqben" / "images" / r[f"image{i}"] for r in rows for i in (0, 1)]
    require_files(paths, f"eqben {subset}", LAYOUT)
    img = encoder.images(paths).reshape(len(rows), 2, -1)
    txt = encoder.texts([r[f"caption{i}"] for r in rows for i in (0, 1)]).reshape(len(rows), 2, -1)
    scores = winoground_scores(torch.einsum("ncd,nid->nci", txt, img))
    return {f"{subset}_{k.removesuffix('_score')}": v for k, v in scores.items()} | {f"{subset}_n": len(rows)}


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    out, errors = {}, []
    for subset in SUBSETS:
        try:
            out.update(_subset(encoder, data_root, subset, limit))
        except BenchmarkDataError as exc:
            out[f"{subset}_error"] = str(exc)
            errors.append(str(exc))
    if len(errors) == len(SUBSETS):
        raise BenchmarkDataError(errors[0])
    if not errors:
        kubric = sum(out[f"{s}_group"] for s in KUBRIC) / 3
        sources = [out[f"{s}_group"] for s in ("eqbenag", "eqbenyoucook2", "eqbengebc", "eqbensd")] + [kubric]
        out["vl_compo_group"] = sum(sources) / 5
    return out


register("eqben", "EqBen: visual-minimal change pairs, text/image/group per subset", LAYOUT)(evaluate)
