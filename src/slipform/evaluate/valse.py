"""VALSE (Parcalabescu et al., 2022): 11 instruments probing linguistic phenomena.

Files: the benchmark's ``data/*.json`` (github.com/Heidelberg-NLP/VALSE); images gathered
from its sources (VisualGenome, SWiG, VisDial, COCO 2014/2017, FOIL) into one folder::

    valse/<instrument>.json          e.g. existence.json, relations.json, counting-hard.json
    valse/images/<image_file>

Only samples that annotators validated are kept (``mturk.caption >= 2``, i.e. at least two of
three annotators judged the caption, not the foil, true), as the VALSE authors do. Metric:
pairwise accuracy acc_r (%) = share of samples whose image is closer to the caption than to
the foil; per instrument, per phenomenon (all samples of its instruments pooled), and the mean
over instruments.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from . import register
from .encode import BenchmarkDataError, Encoder, require_files
from .metrics import pairwise_accuracy

INSTRUMENTS = ("existence", "plurals", "counting-hard", "counting-small-quant", "counting-adversarial",
               "relations", "action-replacement", "actant-swap", "coreference-standard", "coreference-hard",
               "foil-it")
LAYOUT = "DATA_ROOT/valse/<instrument>.json and DATA_ROOT/valse/images/<image_file>"


def load_instrument(path: Path, limit: int | None = None) -> list[dict]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BenchmarkDataError(f"valse: {path} not found; expected {LAYOUT}") from None
    kept = [it for it in data.values() if (it.get("mturk") or {}).get("caption", 0) >= 2]
    return kept[:limit] if limit else kept


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    out, pooled = {}, {}
    for name in INSTRUMENTS:
        items = load_instrument(data_root / "valse" / f"{name}.json", limit)
        paths = [data_root / "valse" / "images" / it["image_file"] for it in items]
        require_files(paths, "valse", LAYOUT)
        out[f"{name}_n"] = len(items)
        if not items:  # no validated sample: no score (NaN), and no part of the phenomenon or the mean
            out[name] = math.nan
            continue
        ok = pairwise_accuracy(encoder.images(paths), encoder.texts([it["caption"] for it in items]),
                               encoder.texts([it["foil"] for it in items]))
        out[name] = float(ok.float().mean() * 100)
        phenomenon = items[0]["linguistic_phenomena"] if items else name
        pooled.setdefault(phenomenon, []).extend(ok.tolist())
    for phenomenon, oks in pooled.items():
        out[f"phenomenon/{phenomenon}"] = sum(oks) / len(oks) * 100
    scored = [out[n] for n in INSTRUMENTS if out[f"{n}_n"]]
    out["mean"] = sum(scored) / len(scored) if scored else math.nan
    return out


# registered by a call, not a decorator: mutmut (bench/mutation.py) does not mutate decorated functions
register("valse", "VALSE: 11 instruments, validated samples only (pairwise accuracy)",
         "valse/<instrument>.json, valse/images/<image_file>")(evaluate)
