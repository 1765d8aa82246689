"""Real COCO captions from the repository's fixtures/: SugarCrepe's `caption` fields and NegCLIP's `title` column."""

from __future__ import annotations

import csv
import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def negclip_titles() -> list[str]:
    """The true captions (``title`` column) of NegCLIP's validation TSV."""
    with open(FIXTURES / "negclip" / "valid_neg_clip.tsv", encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        next(rows)
        return [r[1] for r in rows]


def real_captions(limit: int | None = None) -> list[str]:
    seen, out = set(), []
    for path in sorted((FIXTURES / "sugarcrepe").glob("*.json")):
        for item in json.loads(path.read_text()).values():
            out.append(item["caption"].strip())
    out += [t.strip() for t in negclip_titles()]
    unique = []
    for c in out:
        if c and c not in seen:
            seen.add(c)
            unique.append(c)
    return unique[:limit] if limit else unique


def write_captions(path: Path, n: int) -> Path:
    """``n`` captions (repeating the real ones when n exceeds them) as a text file."""
    caps = real_captions()
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(caps[i % len(caps)] + "\n")
    return path
