"""SPEC (Peng et al., CVPR 2024): size, position, existence and count, both directions.

Files: the SPEC release (Hugging Face ``wjpoom/SPEC``, ``data.zip``), unzipped as the authors'
loader (github.com/wjpoom/SPEC, ``spec/dataset.py``) reads it::

    spec/<subset>/image2text.json    [{"query": image, "keys": [captions], "label": i}, ...]
    spec/<subset>/text2image.json    [{"query": caption, "keys": [images], "label": i}, ...]
    spec/<subset>/<image paths as given>
    subset in count, relative_size, absolute_size, relative_spatial, absolute_spatial, existence

Metric, as ``spec/eval.py`` and ``spec/models/clip_wrapper.py``: per subset, image-to-text
accuracy (%) = share whose image scores the ``label`` caption highest among its ``keys``
(``argmax``, a tie to the earlier key), and text-to-image likewise over candidate images;
``i2t_mean`` and ``t2i_mean`` are the plain means over the subsets present (eval.py averages
the subsets it was given). Not one of vl_compo's 12 suites.
"""

from __future__ import annotations

from pathlib import Path

import torch

from . import register
from .encode import BenchmarkDataError, Encoder, read_json, require_files

SUBSETS = ("count", "relative_size", "absolute_size", "relative_spatial", "absolute_spatial", "existence")
LAYOUT = "DATA_ROOT/spec/<subset>/{image2text,text2image}.json and the images they name under DATA_ROOT/spec/<subset>/"


def _accuracy(scores: list[torch.Tensor], labels: list[int]) -> float:
    right = [int(s.argmax()) == int(label) for s, label in zip(scores, labels)]
    return sum(right) / len(right) * 100


def _subset(encoder: Encoder, root: Path, limit) -> dict:
    i2t = read_json(root / "image2text.json", "spec", LAYOUT)
    t2i = read_json(root / "text2image.json", "spec", LAYOUT)
    i2t, t2i = (i2t[:limit], t2i[:limit]) if limit else (i2t, t2i)
    paths = [root / r["query"] for r in i2t] + [root / k for r in t2i for k in r["keys"]]
    require_files(paths, "spec", LAYOUT)
    img = encoder.images([root / r["query"] for r in i2t])
    txt = encoder.texts([k for r in i2t for k in r["keys"]])
    scores, start = [], 0
    for r, feature in zip(i2t, img):
        scores.append(txt[start:start + len(r["keys"])] @ feature)
        start += len(r["keys"])
    out = {"i2t": _accuracy(scores, [r["label"] for r in i2t])}
    cand = encoder.images([root / k for r in t2i for k in r["keys"]])
    queries = encoder.texts([r["query"] for r in t2i])
    scores, start = [], 0
    for r, feature in zip(t2i, queries):
        scores.append(cand[start:start + len(r["keys"])] @ feature)
        start += len(r["keys"])
    out["t2i"] = _accuracy(scores, [r["label"] for r in t2i])
    return out


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    out = {}
    for subset in SUBSETS:
        try:
            res = _subset(encoder, data_root / "spec" / subset, limit)
        except BenchmarkDataError as exc:
            out[f"{subset}_error"] = str(exc)
            continue
        out[f"{subset}_i2t"], out[f"{subset}_t2i"] = res["i2t"], res["t2i"]
    present = [s for s in SUBSETS if f"{s}_i2t" in out]
    if not present:
        raise BenchmarkDataError(out[f"{SUBSETS[0]}_error"])
    out["i2t_mean"] = sum(out[f"{s}_i2t"] for s in present) / len(present)
    out["t2i_mean"] = sum(out[f"{s}_t2i"] for s in present) / len(present)
    out["subsets"] = len(present)
    return out


register("spec", "SPEC: size, position, existence, count (image-to-text and text-to-image accuracy)", LAYOUT)(evaluate)
