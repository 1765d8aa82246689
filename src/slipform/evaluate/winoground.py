"""Winoground (Thrush et al., 2022): two images, two captions with the same words.

Files: the released dataset (Hugging Face ``facebook/winoground``, gated): ``examples.jsonl``
and the images, unzipped, under either of::

    winoground/examples.jsonl + winoground/images/<image_0>.png
    winoground/data/examples.jsonl + winoground/data/images/<image_0>.png

Each line has ``id``, ``image_0``, ``image_1``, ``caption_0``, ``caption_1``. Metrics (%):
text score (each image prefers its caption), image score (each caption prefers its image),
group score (both).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from . import register
from .encode import BenchmarkDataError, Encoder, require_files
from .metrics import winoground_scores

LAYOUT = "DATA_ROOT/winoground/examples.jsonl and DATA_ROOT/winoground/images/<image>.png (or under data/)"


def _root(data_root: Path) -> Path:
    for cand in (data_root / "winoground", data_root / "winoground" / "data"):
        if (cand / "examples.jsonl").exists():
            return cand
    raise BenchmarkDataError(f"winoground: examples.jsonl not found; expected {LAYOUT}")


def _image(root: Path, name: str) -> Path:
    for ext in (".png", ".jpg", ""):
        p = root / "images" / f"{name}{ext}"
        if p.exists():
            return p
    return root / "images" / f"{name}.png"


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    root = _root(data_root)
    rows = []
    for n, line in enumerate((root / "examples.jsonl").read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise BenchmarkDataError(f"winoground: {root / 'examples.jsonl'}:{n}: malformed JSON") from None
    rows = rows[:limit] if limit else rows
    paths = [_image(root, r[f"image_{i}"]) for r in rows for i in (0, 1)]
    require_files(paths, "winoground", LAYOUT)
    img = encoder.images(paths).reshape(len(rows), 2, -1)
    txt = encoder.texts([r[f"caption_{i}"] for r in rows for i in (0, 1)]).reshape(len(rows), 2, -1)
    s = torch.einsum("ncd,nid->nci", txt, img)  # s[n, caption, image]
    return {**winoground_scores(s), "n": len(rows)}


# registered by a call, not a decorator: mutmut (bench/mutation.py) does not mutate decorated functions
register("winoground", "Winoground: text, image and group scores", LAYOUT)(evaluate)
