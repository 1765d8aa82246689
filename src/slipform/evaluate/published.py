"""vl_compo's published figures, shipped as package data, looked up by checkpoint.

The two tables of github.com/ytaek-oh/vl_compo (commit 43e2eae, unchanged, under
``slipform/evaluate/data/vl_compo/`` with ``SOURCE.md``). That repository has no licence file:
the figures are cited as published results of public checkpoints, to print beside ours, never
redistributed as a dataset. A checkpoint is a row named by ``arch`` and ``pretrained`` (and
``family`` where the two repeat: ``CLIP_ViT-B-16 cc12m`` is both LaCLIP and SynthCLIP), e.g.
``ViT-B-32 openai``, ``NegCLIP coco-ft``, ``CE-CLIP coco-ft``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from . import VL_COMPO_SUITES


@dataclass(frozen=True)
class Published:
    """One checkpoint's published row: suite values and averages, and per-subset figures."""

    arch: str
    pretrained: str
    family: str
    suites: dict            # {"aro": 57.55, ..., "comp_avg": ..., "coco_i2t": ..., "imagenet": ...}
    subsets: dict           # {"aro": {"VG_Relation": ..., ...}, "coco_karpathy": {...}, "elevator": {...}}

    @property
    def name(self) -> str:
        return f"{self.arch} {self.pretrained} ({self.family})"


def _read(name: str) -> list[dict]:
    text = resources.files(__package__).joinpath("data", "vl_compo", name).read_text()
    return list(csv.DictReader(io.StringIO(text)))


def _number(value: str):
    try:
        return float(value)
    except ValueError:
        return None


@lru_cache(maxsize=1)
def load_published() -> tuple[Published, ...]:
    """Every checkpoint of the tables (the two files list them in the same order)."""
    rows, per_subset = _read("results.csv"), _read("individual_results.csv")
    out = []
    for row, sub in zip(rows, per_subset):
        if (row["arch"], row["pretrained"]) != (sub["arch"], sub["pretrained"]):
            raise ValueError(f"vl_compo tables out of step at {row['arch']} {row['pretrained']}")
        suites = {k: _number(v) for k, v in row.items() if k not in ("", "arch", "pretrained", "family")}
        subsets: dict[str, dict] = {}
        for key, value in sub.items():
            if "::" in key:
                suite, _, subset = key.partition("::")
                subsets.setdefault(suite, {})[subset] = _number(value)
        out.append(Published(row["arch"], row["pretrained"], row["family"], suites, subsets))
    return tuple(out)


def find_published(query: str, pretrained: str | None = None) -> list[Published]:
    """Checkpoints matching ``query`` ("ViT-B-32 openai", "ViT-B-32:openai", "NegCLIP", or an arch
    with ``pretrained`` given apart), case-insensitive; an optional third word picks the family."""
    words = [w for w in re.split(r"[\s:,]+", query.strip()) if w]
    if pretrained and len(words) == 1:
        words.append(pretrained)
    if not words:
        return []
    low = [w.lower() for w in words]
    hits = [p for p in load_published() if p.arch.lower() == low[0]]
    if len(low) > 1:
        hits = [p for p in hits if p.pretrained.lower() == low[1]]
    if len(low) > 2:
        hits = [p for p in hits if p.family.lower() == low[2]]
    return hits


def format_published(p: Published) -> str:
    """A Markdown table of one checkpoint's suites and averages."""
    keys = [*VL_COMPO_SUITES, "comp_avg", "coco_i2t", "coco_t2i", "flickr_i2t", "flickr_t2i", "i2t_avg", "t2i_avg",
            "imagenet", "21_tasks_avg"]
    lines = [f"vl_compo published figures for {p.name} (github.com/ytaek-oh/vl_compo @ 43e2eae; cited, no licence)",
             "", "| suite | published |", "|---|---|"]
    lines += [f"| {k} | {p.suites[k]:.2f} |" for k in keys if p.suites.get(k) is not None]
    return "\n".join(lines)
