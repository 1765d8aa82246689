"""MMVP-VLM (Tong et al., CVPR 2024): CLIP-blind pairs, 9 visual patterns of 15 pairs each.

Files: the benchmark's ``Questions.csv`` and images (Hugging Face ``MMVP/MMVP_VLM``), as the
authors' ``scripts/evaluate_vlm.py`` (github.com/tsb0601/MMVP) reads them::

    mmvp_vlm/Questions.csv                          rows: question id, type, statement
    mmvp_vlm/MLLM_VLM Images/<type>/<id>.jpg

Metric, as that script: rows are taken two by two (a pair: two statements, two images, the
images of a pair both in the first row's type folder); each statement gets ``"a photo of "``
prepended and picks image 1 when its softmax probability over the two images exceeds 0.5,
i.e. when s(text, image 1) > s(text, image 2) strictly; the right image of a statement is
image 1 when its id is odd. A pair counts when both statements pick right. The categories
are the consecutive blocks of 15 pairs in the order of ``CATEGORIES`` (not the type column).
``<category>_image`` is that official pair accuracy (% per category; ``image_mean`` its mean,
the number the paper reports); ``_text`` (each image picks its statement) and ``_group``
(both) are the Winoground-style scores vl_compo adds: its ``mmvp_vlm`` is the mean group score
over the 9 categories (``group_mean``), derived from its tables.

With ``--limit`` a category's figure is over the pairs it has (the script divides by 15).
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch

from . import register
from .encode import BenchmarkDataError, Encoder, require_files

CATEGORIES = ("Orientation and Direction", "Presence of Specific Features", "State and Condition",
              "Quantity and Count", "Positional and Relational Context", "Color and Appearance",
              "Structural Characteristics", "Texts", "Viewpoint and Perspective")
PAIRS_PER_CATEGORY = 15
LAYOUT = "DATA_ROOT/mmvp_vlm/Questions.csv and DATA_ROOT/mmvp_vlm/MLLM_VLM Images/<type>/<id>.jpg"


def slug(category: str) -> str:
    return category.lower().replace(" ", "_")


def load_pairs(path: Path, limit: int | None = None) -> list[tuple[tuple[int, str, str], tuple[int, str, str]]]:
    """Consecutive rows two by two (an odd row left at the end is dropped, as the script does)."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))[1:]
    except FileNotFoundError:
        raise BenchmarkDataError(f"mmvp_vlm: {path} not found; expected {LAYOUT}") from None
    parsed = []
    for n, row in enumerate(rows, 2):
        if len(row) < 3 or not row[0].strip().isdigit():
            raise BenchmarkDataError(f"mmvp_vlm: {path}:{n}: expected 'id,type,statement', got {row!r}")
        parsed.append((int(row[0]), row[1], row[2]))
    pairs = [(parsed[i], parsed[i + 1]) for i in range(0, len(parsed) - 1, 2)]
    return pairs[:limit] if limit else pairs


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    pairs = load_pairs(data_root / "mmvp_vlm" / "Questions.csv", limit)
    folder = data_root / "mmvp_vlm" / "MLLM_VLM Images"
    paths = [folder / a[1] / f"{q[0]}.jpg" for a, b in pairs for q in (a, b)]
    require_files(paths, "mmvp_vlm", LAYOUT)
    img = encoder.images(paths).reshape(len(pairs), 2, -1)
    txt = encoder.texts([f"a photo of {q[2]}" for a, b in pairs for q in (a, b)]).reshape(len(pairs), 2, -1)
    s = torch.einsum("ncd,nid->nci", txt, img)  # s[pair, statement, image]
    # the official ground truth: statement k's image is image 1 (index 0) when its id is odd
    gt = torch.tensor([[0 if q[0] % 2 == 1 else 1 for q in (a, b)] for a, b in pairs])
    picks = (s[:, :, 1] >= s[:, :, 0]).long()  # image 1 only when strictly more similar
    image_ok = (picks == gt).all(1)
    # text score: each image prefers the statement it is right for (Winoground's rule, strict);
    # so[n, c, j] = similarity of statement c and the right image of statement j
    so = s.gather(2, gt.unsqueeze(1).expand(-1, 2, -1))
    text_ok = (so[:, 0, 0] > so[:, 1, 0]) & (so[:, 1, 1] > so[:, 0, 1]) & (gt[:, 0] != gt[:, 1])
    out = {}
    for c, name in enumerate(CATEGORIES):
        block = slice(c * PAIRS_PER_CATEGORY, (c + 1) * PAIRS_PER_CATEGORY)
        if image_ok[block].numel() == 0:
            continue
        for key, ok in (("text", text_ok), ("image", image_ok), ("group", text_ok & image_ok)):
            out[f"{slug(name)}_{key}"] = float(ok[block].float().mean() * 100)
        out[f"{slug(name)}_n"] = image_ok[block].numel()
    present = [slug(n) for n in CATEGORIES if f"{slug(n)}_image" in out]
    for key in ("text", "image", "group"):
        out[f"{key}_mean"] = sum(out[f"{c}_{key}"] for c in present) / len(present)
    out["pairs"], out["categories"] = len(pairs), len(present)
    return out


register("mmvp_vlm", "MMVP-VLM: 9 visual patterns x 15 CLIP-blind pairs (official pair accuracy; text/group)",
         LAYOUT)(evaluate)
