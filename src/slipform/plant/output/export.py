"""Export planted negatives as NegCLIP's training TSV, so existing trainers can use them.

NegCLIP's file has an unnamed index column and ``title``, ``filepath``, ``neg_caption`` (a
Python list literal of negative captions) and ``neg_image`` (a list literal of row indices
of hard-negative images). NegCLIP chose those images as nearest neighbours in CLIP image
space; without image features we draw ``neg_images`` other rows at random (seeded) and say
so here, since NegCLIP's loader needs the column to be a non-empty list.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from ..core.record import read_records


def export_negclip(negatives: str | Path, output: str | Path, neg_images: int = 3, seed: int = 0) -> int:
    """Write one row per captioned image record; returns the number of rows."""
    rows: dict[str, dict] = {}
    for rec in read_records(negatives):
        row = rows.setdefault(rec.id, {"title": rec.caption, "filepath": rec.image or "", "neg": []})
        row["neg"].append(rec.negative)
    ordered = list(rows.values())
    rng = random.Random(seed)
    with open(output, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["", "title", "filepath", "neg_caption", "neg_image"])
        for i, row in enumerate(ordered):
            others = [j for j in rng.sample(range(len(ordered)), min(len(ordered), neg_images + 1)) if j != i][:neg_images]
            writer.writerow([i, row["title"], row["filepath"], repr(row["neg"]), repr(others)])
    return len(ordered)
