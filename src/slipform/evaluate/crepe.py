"""CREPE (Ma et al., CVPR 2023): productivity, a caption against its hard negatives.

Files: the productivity test set of github.com/RAIVNLab/CREPE (``data/prod_hard_negatives.zip``,
unzipped) and Visual Genome images::

    crepe/prod_hard_negatives/<type>/prod_vg_hard_negs_<type>_complexity_<k>.csv
        type in atom, swap, negate; k in 4..12
    crepe/images/<image_id>.jpg     (or crepe/images/VG_100K/, crepe/images/VG_100K_2/)

CSV columns used: ``image_id``, ``caption``, ``x``, ``y``, ``width``, ``height`` and
``hard_negs`` (a Python list literal, read with ``ast.literal_eval``).

Metric, as ``crepe_compo_eval_open_clip.py`` with ``crepe_eval_utils.py``: the image is
**cropped** to (x, y, width, height); it ranks ``[caption] + hard_negs`` and Recall@1 (%) is
the share ranking the caption first. The rank is taken as ``get_one2many_rank`` takes it
(``crepe_eval_utils.py`` L60-76, with ``get_one2many_metrics``): the position of index 0 in ``torch.argsort(scores,
descending=True)``, so a hard negative that ties with the caption (one that tokenises the same)
is ordered as that sort orders it (on CPU the caption, index 0, comes first).

Per type: ``<type>_c<k>`` per complexity, and ``<type>`` the Recall@1 over **all complexities
pooled** -- vl_compo's ``crepe::atom``, ``::swap``, ``::negate``. That rule is read off its tables:
in all 202 rows each of those figures is a whole count out of 17,698 / 7,405 / 17,303 items (the
productivity rows of complexities 4-12 together), which a mean over complexities is not.
``<type>_complexity_mean`` (the plain mean over complexities) is ours. vl_compo's ``crepe`` is
the mean of the three types. The systematicity split is not run.
"""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import torch

from . import register
from .encode import BenchmarkDataError, Encoder, require_files

TYPES = ("atom", "swap", "negate")
COMPLEXITIES = tuple(range(4, 13))
LAYOUT = ("DATA_ROOT/crepe/prod_hard_negatives/<type>/prod_vg_hard_negs_<type>_complexity_<k>.csv and "
          "DATA_ROOT/crepe/images/<image_id>.jpg")


def load_split(path: Path, limit: int | None = None) -> list[dict]:
    rows = []
    with open(path, newline="") as f:
        for n, r in enumerate(csv.DictReader(f), 2):
            try:
                negs = ast.literal_eval(r["hard_negs"])
                box = tuple(float(r[k]) for k in ("x", "y", "width", "height"))
            except (KeyError, ValueError, SyntaxError) as exc:
                raise BenchmarkDataError(f"crepe: {path}:{n}: malformed row ({exc})") from None
            rows.append({"image_id": r["image_id"], "caption": str(r["caption"]), "negs": [str(x) for x in negs],
                         "box": (box[0], box[1], box[0] + box[2], box[1] + box[3])})
            if limit and len(rows) >= limit:
                break
    return rows


def _image(data_root: Path, image_id: str) -> Path:
    base = data_root / "crepe" / "images"
    for folder in (base, base / "VG_100K", base / "VG_100K_2"):
        if (p := folder / f"{image_id}.jpg").exists():
            return p
    return base / f"{image_id}.jpg"


def one2many_rank(scores: torch.Tensor) -> int:
    """0-based rank of index 0 (the caption) in ``scores``, as ``get_one2many_rank`` ranks it."""
    return int(torch.nonzero(torch.argsort(scores.float().cpu(), descending=True) == 0)[0, 0])


def caption_ranks(encoder: Encoder, data_root: Path, rows: list[dict]) -> list[int]:
    """0-based rank of each row's caption among its caption and hard negatives (:func:`one2many_rank`)."""
    paths = [_image(data_root, r["image_id"]) for r in rows]
    require_files(paths, "crepe", LAYOUT)
    img = encoder.images(paths, [r["box"] for r in rows])
    txt = encoder.texts([t for r in rows for t in (r["caption"], *r["negs"])])  # one batch for all rows
    ranks, start = [], 0
    for r, feature in zip(rows, img):
        scores = txt[start:start + 1 + len(r["negs"])] @ feature
        start += 1 + len(r["negs"])
        ranks.append(one2many_rank(scores))
    return ranks


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    out = {}
    base = data_root / "crepe" / "prod_hard_negatives"
    for t in TYPES:
        per, pooled = [], []
        for k in COMPLEXITIES:
            path = base / t / f"prod_vg_hard_negs_{t}_complexity_{k}.csv"
            if not path.exists():
                continue
            ranks = caption_ranks(encoder, data_root, load_split(path, limit))
            if ranks:
                out[f"{t}_c{k}"] = sum(r == 0 for r in ranks) / len(ranks) * 100
                per.append(out[f"{t}_c{k}"])
                pooled.extend(ranks)
        if per:
            out[t], out[f"{t}_complexity_mean"] = sum(r == 0 for r in pooled) / len(pooled) * 100, sum(per) / len(per)
            out[f"{t}_n"], out[f"{t}_complexities"] = len(pooled), len(per)
    if not any(t in out for t in TYPES):
        raise BenchmarkDataError(f"crepe: no productivity CSV under {base}; expected {LAYOUT}")
    present = [t for t in TYPES if t in out]
    out["mean"] = sum(out[t] for t in present) / len(present)
    return out


register("crepe", "CREPE productivity: Recall@1 of the caption among hard negatives (atom/swap/negate)", LAYOUT)(evaluate)
