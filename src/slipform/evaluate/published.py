"""vl_compo's published figures, shipped as package data, looked up by checkpoint.

The two tables of github.com/ytaek-oh/vl_compo (commit 43e2eae, unchanged, under
``slipform/evaluate/data/vl_compo/`` with ``SOURCE.md``). That repository has no licence file:
the figures are cited as published results of public checkpoints, to print beside ours, never
redistributed as a dataset. A checkpoint is a row named by ``arch`` and ``pretrained`` (and
``family`` where the two repeat: ``CLIP_ViT-B-16 cc12m`` is both LaCLIP and SynthCLIP), e.g.
``ViT-B-32 openai``, ``NegCLIP coco-ft``, ``CE-CLIP coco-ft``.

:data:`PUBLISHED_COUNTS` holds the item count behind each subset column, read off the tables
(:func:`derive_denominators`: the N that makes every figure a whole count of N items);
:func:`published_count` gives the one behind a row's figure.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from . import VL_COMPO_SUITES

# Each subset column's item count, derived from the tables (:func:`derive_denominators` over all
# 202 rows; tests/test_eval_published_counts.py pins them): the smallest N for which every
# published figure is a whole number of items out of N. Two counts where the rows split: SVO-Probes'
# 9 largest OpenCLIP checkpoints were scored on fewer / more rows than the other 193. Columns
# missing here are not whole counts: ARO's VG-Relation / VG-Attribution (macro means over
# relations, attribute pairs), VL-CheckList's axes (means over files and sources; Relation_spatial,
# one file, is 1,000: the per-file cap MAX_NUM / 2), and the means of means of the other suites.
_MMVP = ("Orientation and Direction", "Presence of Specific Features", "State and Condition", "Quantity and Count",
         "Positional and Relational Context", "Color and Appearance", "Structural Characteristics", "Texts",
         "Viewpoint and Perspective")
_WINO = ("text", "image", "group")
PUBLISHED_COUNTS: dict[str, dict[str, tuple[int, ...]]] = {
    "aro": {"COCO_Order": (25010,), "Flickr30k_Order": (5000,)},
    "colorswap": {k: (300,) for k in _WINO},
    "crepe": {"atom": (17698,), "swap": (7405,), "negate": (17303,)},
    "eqben": {f"{s}::{k}": (n,) for s, n in (("eqbenag", 195872), ("eqbenyoucook2", 45849), ("eqbengebc", 1814),
                                             ("eqbenkubric_loc", 2000), ("eqbenkubric_attr", 2000),
                                             ("eqbenkubric_cnt", 2000), ("eqbensd", 1513)) for k in _WINO},
    "imagecode": {"videos": (1872,), "static": (430,)},
    "mmvp_vlm": {f"{c}::{k}": (15,) for c in _MMVP for k in _WINO},
    "sugarcrepe": {"replace_obj": (1652,), "replace_att": (788,), "replace_rel": (1406,), "swap_obj": (245,),
                   "swap_att": (666,), "add_obj": (2062,), "add_att": (692,)},
    "svo_probes": {"subj_neg": (3728, 3727), "verb_neg": (13523, 13592), "obj_neg": (4911, 4937)},
    "valse": {"existence": (505,), "plurals": (851,), "counting-hard": (868,), "counting-small-quant": (900,),
              "counting-adversarial": (691,), "relations": (535,), "action-replacement": (648,),
              "actant-swap": (949,), "coreference-standard": (708,), "coreference-hard": (104,), "foil-it": (943,)},
    "vl_checklist": {"Relation_spatial": (1000,)},
    "whatsup": {"WhatsUp_A": (412,), "WhatsUp_B": (408,), "COCO_QA_ONE": (2247,), "COCO_QA_TWO": (440,),
                "VG_QA_ONE": (1160,), "VG_QA_TWO": (291,)},
    "winoground": {k: (400,) for k in _WINO},
}


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


def decimals(figure: float) -> int:
    """Decimals a figure was printed with, float noise aside (``49.120000000000005`` has 2)."""
    text = repr(round(figure, 10))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def is_whole_count(figure: float, n: int, rounded: bool = False) -> bool:
    """``figure`` (%) is k/n * 100 for a whole k: exactly (to float precision), or with ``rounded``
    to within the rounding of the decimals it was printed with."""
    count = figure * n / 100
    slack = n / 100 * 0.5 * 10.0 ** -decimals(figure) if rounded else 0.0
    return abs(count - round(count)) <= slack + 1e-6


def derive_denominators(figures, hi: int = 40000, lo: int = 1) -> tuple[int, ...]:
    """The item counts N in ``[lo, hi]`` behind a column's figures.

    The tables print each figure in full (``repr`` of k/N * 100), so N is first sought exactly:
    the smallest N making the most figures whole counts. A figure it leaves out counts as covered
    when it is that count rounded to the decimals printed (a few rows were rounded, e.g. ``37.34``).
    What is still left is derived again, needing an N shared by two figures at least. Empty when
    no N covers half the figures (not a count column: a mean of means, say).
    """
    import numpy as np

    left = [f for f in figures if f is not None]
    found: list[int] = []
    need = max(2, (len(left) + 1) // 2)
    while left:
        values, best_n, best = np.array(left)[None, :], 0, 0
        for start in range(lo, hi + 1, 4096):
            n = np.arange(start, min(start + 4096, hi + 1))[:, None]
            count = values * n / 100
            covered = (np.abs(count - np.round(count)) <= 1e-6).sum(1)
            if covered.max() > best:
                best, best_n = int(covered.max()), int(n[covered.argmax(), 0])
        if best < need:
            break
        found.append(best_n)
        need = 2
        left = [f for f in left if not is_whole_count(f, best_n, rounded=True)]
    return tuple(found)


def published_count(p: Published, suite: str, column: str) -> int | None:
    """The item count behind ``p``'s figure in a subset column: of :data:`PUBLISHED_COUNTS`, the one
    that makes that figure a whole count (None when the column is not a count)."""
    counts, figure = PUBLISHED_COUNTS.get(suite, {}).get(column), p.subsets.get(suite, {}).get(column)
    if not counts or figure is None:
        return None
    return next((n for n in counts if is_whole_count(figure, n)),
                next((n for n in counts if is_whole_count(figure, n, rounded=True)), counts[0]))


def _load_published() -> tuple[Published, ...]:
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


load_published = lru_cache(maxsize=1)(_load_published)  # a call, not a decorator: mutmut mutates it


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
    lines += ["", "Items behind each subset figure (derived from the tables: the figure is a whole count of them)", "",
              "| suite | subset | published | items |", "|---|---|---|---|"]
    for suite, columns in PUBLISHED_COUNTS.items():
        lines += [f"| {suite} | {col} | {p.subsets[suite][col]:.2f} | {published_count(p, suite, col)} |"
                  for col in columns if p.subsets.get(suite, {}).get(col) is not None]
    return "\n".join(lines)
