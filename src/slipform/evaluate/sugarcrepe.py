"""SugarCrepe (Hsieh et al., 2023): hard negatives for COCO captions, in 7 subsets.

Files: the benchmark's ``data/*.json`` from github.com/RAIVNLab/sugar-crepe, and COCO
val2017 images. Layout under ``--data-root``::

    sugarcrepe/{add_att,add_obj,replace_att,replace_obj,replace_rel,swap_att,swap_obj}.json
    coco/val2017/000000331352.jpg ...

Each item is ``{"filename", "caption", "negative_caption"}``. Metric: accuracy (%) = share of
items whose image is closer to the caption than to the negative; per subset, ``micro`` over all
items and ``macro`` over the 7 subsets; ``<subset>_n`` the items scored (vl_compo's summary pools
subsets by them, see :mod:`slipform.evaluate.vl_compo`).
"""

from __future__ import annotations

import json
from pathlib import Path

from . import register
from .encode import BenchmarkDataError, Encoder, require_files
from .metrics import pairwise_accuracy

SUBSETS = ("add_att", "add_obj", "replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")
LAYOUT = "DATA_ROOT/sugarcrepe/<subset>.json and DATA_ROOT/coco/val2017/<filename>"


def load_subset(path: Path, limit: int | None = None) -> list[dict]:
    try:
        items = list(json.loads(path.read_text()).values())
    except FileNotFoundError:
        raise BenchmarkDataError(f"sugarcrepe: {path} not found; expected {LAYOUT}") from None
    except ValueError as exc:
        raise BenchmarkDataError(f"sugarcrepe: {path}: malformed JSON ({exc})") from None
    return items[:limit] if limit else items


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    out, total, correct_all = {}, 0, 0
    subsets = {s: load_subset(data_root / "sugarcrepe" / f"{s}.json", limit) for s in SUBSETS}
    paths = [data_root / "coco" / "val2017" / it["filename"] for items in subsets.values() for it in items]
    require_files(paths, "sugarcrepe", LAYOUT)
    for name, items in subsets.items():
        img = encoder.images([data_root / "coco" / "val2017" / it["filename"] for it in items])
        ok = pairwise_accuracy(img, encoder.texts([it["caption"] for it in items]),
                               encoder.texts([it["negative_caption"] for it in items]))
        out[name], out[f"{name}_n"] = float(ok.float().mean() * 100), len(items)
        total, correct_all = total + len(items), correct_all + int(ok.sum())
    out["micro"] = correct_all / total * 100
    out["macro"] = sum(out[s] for s in SUBSETS) / len(SUBSETS)
    out["n"] = total
    return out


# registered by a call, not a decorator: mutmut (bench/mutation.py) does not mutate decorated functions
register("sugarcrepe", "SugarCrepe: 7 subsets of COCO hard negatives (accuracy, micro and macro)", LAYOUT)(evaluate)
