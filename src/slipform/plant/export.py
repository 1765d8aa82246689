"""Export planted negatives as NegCLIP's training TSV, so existing trainers can use them.

NegCLIP's file has an unnamed index column and ``title``, ``filepath``, ``neg_caption`` (a
Python list literal of negative captions) and ``neg_image`` (a list literal of row indices
of hard-negative images). NegCLIP chose those images as nearest neighbours in CLIP image
space; without image features we draw ``neg_images`` other rows at random (seeded) and say
so here, since NegCLIP's loader needs the column to be a non-empty list.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path


def export_negclip(negatives: str | Path, output: str | Path, neg_images: int = 3, seed: int = 0) -> int:
    """Write one row per captioned image record; returns the number of rows."""
    rows: dict[str, dict] = {}
    with open(negatives, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                key = str(rec["id"])
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{negatives}:{n}: not a Slipform negative record") from None
            row = rows.setdefault(key, {"title": rec["caption"], "filepath": rec.get("image") or "", "neg": []})
            row["neg"].append(rec["negative"])
    ordered = list(rows.values())
    rng = random.Random(seed)
    with open(output, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["", "title", "filepath", "neg_caption", "neg_image"])
        for i, row in enumerate(ordered):
            others = [j for j in rng.sample(range(len(ordered)), min(len(ordered), neg_images + 1)) if j != i][:neg_images]
            writer.writerow([i, row["title"], row["filepath"], repr(row["neg"]), repr(others)])
    return len(ordered)
