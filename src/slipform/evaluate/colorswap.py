"""ColorSwap (Burapacheep et al., 2024): colour words swapped between two objects.

Files: the dataset's ``test.json`` and images (github.com/Top34051/colorswap README: Google
Drive, or Hugging Face ``stanfordnlp/colorswap``), under ``colorswap/``::

    colorswap/test.json       [{"id", "caption_1", "caption_2", "image_1", "image_2", ...}, ...]
    colorswap/<image_1>       e.g. colorswap/images/img_0_1.png

``image_k`` is the image of ``caption_k``. Metric, as the authors' image-text-matching
evaluation (their Colab; Winoground's definitions): text score (each image prefers its own
caption), image score (each caption prefers its own image), group score (both), in %,
comparisons strict. vl_compo's ``colorswap`` is the group score (its figures are whole counts out
of 300, the test file's rows; a file with another count gets a ``note``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from . import register
from .encode import Encoder, published_file_note, read_json, require_files
from .metrics import winoground_scores

TEST_ROWS = 300  # the published test.json
LAYOUT = "DATA_ROOT/colorswap/test.json and DATA_ROOT/colorswap/<image_1>, <image_2> (e.g. images/img_0_1.png)"


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    path = data_root / "colorswap" / "test.json"
    rows = read_json(path, "colorswap", LAYOUT)
    note = published_file_note(path, len(rows), TEST_ROWS)
    rows = rows[:limit] if limit else rows
    paths = [data_root / "colorswap" / r[f"image_{i}"] for r in rows for i in (1, 2)]
    require_files(paths, "colorswap", LAYOUT)
    img = encoder.images(paths).reshape(len(rows), 2, -1)
    txt = encoder.texts([r[f"caption_{i}"] for r in rows for i in (1, 2)]).reshape(len(rows), 2, -1)
    out = {**winoground_scores(torch.einsum("ncd,nid->nci", txt, img)), "n": len(rows)}
    return {**out, "note": note} if note else out


register("colorswap", "ColorSwap: colour-swapped caption pairs (text, image and group scores)", LAYOUT)(evaluate)
