"""SugarCrepe++ (Dumpala et al., 2024): two paraphrased positives against one negative.

Files: the benchmark's JSON files (github.com/Sri-Harsha/scpp), COCO val2017 images::

    sugarcrepe_pp/{replace_att,replace_obj,replace_rel,swap_att,swap_obj}.json
    coco/val2017/<filename>

Each item has ``filename``, ``caption``, ``caption2`` (a paraphrase) and ``negative_caption``.
Metrics (%), per subset and their mean:

- ``itt`` (image-to-text): s(I, P1) > s(I, N) and s(I, P2) > s(I, N);
- ``tot`` (text-only): s(P1, P2) > s(P1, N) and s(P1, P2) > s(P2, N).

A file whose item count is not the published one (788, 1,652, 1,406, 666, 245) gets a
``<subset>_note`` saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import register
from .encode import BenchmarkDataError, Encoder, published_file_note, require_files

SUBSETS = ("replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")
PUBLISHED_SIZES = {"replace_att": 788, "replace_obj": 1652, "replace_rel": 1406, "swap_att": 666, "swap_obj": 245}
LAYOUT = "DATA_ROOT/sugarcrepe_pp/<subset>.json and DATA_ROOT/coco/val2017/<filename>"


def _items(path: Path, limit):
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BenchmarkDataError(f"sugarcrepe_pp: {path} not found; expected {LAYOUT}") from None
    items = list(data.values()) if isinstance(data, dict) else list(data)
    note = published_file_note(path, len(items), PUBLISHED_SIZES[path.stem]) if path.stem in PUBLISHED_SIZES else None
    return (items[:limit] if limit else items), note


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    out = {}
    for name in SUBSETS:
        items, note = _items(data_root / "sugarcrepe_pp" / f"{name}.json", limit)
        if note:
            out[f"{name}_note"] = note
        paths = [data_root / "coco" / "val2017" / it["filename"] for it in items]
        require_files(paths, "sugarcrepe_pp", LAYOUT)
        img = encoder.images(paths)
        p1, p2 = encoder.texts([it["caption"] for it in items]), encoder.texts([it["caption2"] for it in items])
        n = encoder.texts([it["negative_caption"] for it in items])
        s = lambda a, b: (a * b).sum(-1)  # noqa: E731
        itt = (s(img, p1) > s(img, n)) & (s(img, p2) > s(img, n))
        tot = (s(p1, p2) > s(p1, n)) & (s(p1, p2) > s(p2, n))
        out[f"{name}_itt"], out[f"{name}_tot"] = float(itt.float().mean() * 100), float(tot.float().mean() * 100)
    out["itt_mean"] = sum(out[f"{s}_itt"] for s in SUBSETS) / len(SUBSETS)
    out["tot_mean"] = sum(out[f"{s}_tot"] for s in SUBSETS) / len(SUBSETS)
    return out


register("sugarcrepe_pp", "SugarCrepe++: two paraphrases vs one negative, image-to-text and text-only",
         LAYOUT)(evaluate)
