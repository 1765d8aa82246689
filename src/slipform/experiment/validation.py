"""The world benchmarks' columns on the validation splits, where Slipform's defaults are chosen.

No reported test benchmark reads the ``val`` scenes or the ``val_compositional`` ones (held-out
colour-shape pairs, like ``compositional``), so choosing a variant on them leaves the test table
untouched (docs/RESULTS.md section 5 registers the variants and the rule).
:func:`evaluate_validation` returns the same ``{benchmark: metrics}`` shape as
:func:`slipform.evaluate.run`, keyed by the test benchmarks' names, so that the demo's table,
paired comparisons and :func:`select_variant` read it unchanged.

SugarCrepe reads its split from :func:`slipform.evaluate.world.sugarcrepe_items`; the relation,
attribute and order swaps and retrieval repeat :mod:`slipform.evaluate.world`'s ``world_aro`` and
``world_retrieval`` on another split (that module reads ``test`` only, and is outside the
experiment's files), and a test holds them equal to the registered benchmarks on ``test``.
Probes are not computed (they are neither compositional nor retrieval columns).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..evaluate.metrics import recall_at_k, retrieval_ranks
from ..evaluate.world import aro_items, sugarcrepe_items, test_scenes
from ..world.caption import caption

VALIDATION_SPLITS = {"world": "val", "world_compositional": "val_compositional"}


def retrieval(encoder, data_root: Path, split: str, limit: int) -> dict:
    """``world_retrieval`` on ``split``: R@1/5/10 both ways, and per scene its ``mean_R@1``."""
    scenes, paths = test_scenes(data_root, split, limit)
    sim = encoder.images(paths) @ encoder.texts([caption(s, k) for s in scenes for k in range(2)]).T
    image_of_text = torch.arange(len(scenes)).repeat_interleave(2)
    ranks = retrieval_ranks(sim, image_of_text)
    i2t = (ranks[0] < 1).numpy().astype(np.float64) * 100
    t2i = (ranks[1] < 1).reshape(len(scenes), 2).float().mean(1).numpy().astype(np.float64) * 100
    return {**recall_at_k(sim, image_of_text, ranks=ranks),
            "_items": {"image_to_text_R@1": i2t, "text_to_image_R@1": t2i, "mean_R@1": (i2t + t2i) / 2}}


def _sugarcrepe(encoder, data_root: Path, split: str, limit: int) -> dict:
    items = sugarcrepe_items(encoder, data_root, split, limit)
    return {**{k: float(np.nanmean(v)) for k, v in items.items()},
            "macro": float(np.mean([np.nanmean(v) for v in items.values()])), "_items": items}


def evaluate_validation(encoder, data_root: Path, limit: int, splits: dict[str, str] = VALIDATION_SPLITS) -> dict:
    """``{benchmark: metrics with "_items"}`` for world_retrieval, world_aro, world_sugarcrepe (on
    ``splits["world"]``) and world_sugarcrepe_comp (on ``splits["world_compositional"]``)."""
    split, comp = splits["world"], splits["world_compositional"]
    aro = aro_items(encoder, data_root, split, limit)
    return {"world_retrieval": retrieval(encoder, data_root, split, limit),
            "world_aro": {**{k: float(np.nanmean(v)) for k, v in aro.items()}, "_items": aro},
            "world_sugarcrepe": _sugarcrepe(encoder, data_root, split, limit),
            "world_sugarcrepe_comp": _sugarcrepe(encoder, data_root, comp, limit)}


# the selection rule registered in docs/RESULTS.md section 5
COMPOSITIONAL = ("ARO relation", "ARO attribute", "ARO order", "SugarCrepe", "SC swap", "SC compositional")
RETRIEVAL = "Retrieval R@1"


def select_variant(table: dict[str, dict[str, tuple[float, float]]], variants: tuple[str, ...],
                   baseline: str = "clip_ft", retrieval_slack: float = 1.0, tie: float = 0.05) -> dict:
    """The registered rule on a validation table (``{method: {column: (mean, ci)}}``, means over
    seeds): among ``variants`` whose retrieval is at most ``retrieval_slack`` points below
    ``baseline``'s, the best mean of the :data:`COMPOSITIONAL` columns; ties within ``tie`` go to
    the earlier variant in ``variants``. Selects nothing unless every variant and the baseline
    were measured. Returns ``{"selected", "reason", "rows": [{variant, score, retrieval, eligible}]}``."""
    import math

    missing = [m for m in (baseline, *variants) if m not in table or math.isnan(table[m][RETRIEVAL][0])]
    rows = []
    floor = table[baseline][RETRIEVAL][0] - retrieval_slack if baseline not in missing else math.nan
    for v in variants:
        if v in missing:
            continue
        score = float(np.mean([table[v][c][0] for c in COMPOSITIONAL]))
        rows.append({"variant": v, "score": score, "retrieval": table[v][RETRIEVAL][0],
                     "eligible": bool(table[v][RETRIEVAL][0] >= floor)})
    if missing:
        return {"selected": None, "reason": f"not measured: {', '.join(missing)} (a selection needs them all)",
                "rows": rows, "retrieval_floor": floor}
    eligible = [r for r in rows if r["eligible"]]
    if not eligible:
        return {"selected": None, "reason": f"no variant within {retrieval_slack} point of {baseline}'s retrieval",
                "rows": rows, "retrieval_floor": floor}
    best = max(r["score"] for r in eligible)
    chosen = next(r for r in eligible if r["score"] >= best - tie)  # rows keep the registered order
    return {"selected": chosen["variant"], "rows": rows, "retrieval_floor": floor,
            "reason": f"best mean of the compositional columns ({chosen['score']:.2f}) among the "
                      f"{len(eligible)} of {len(rows)} variants within {retrieval_slack} point of {baseline}'s retrieval"}


def selection_markdown(selection: dict) -> str:
    """The selection as a table and one sentence (``selection.md`` of a validation run)."""
    lines = ["| variant | mean of compositional columns | retrieval R@1 | eligible |", "|---|---|---|---|"]
    for r in selection["rows"]:
        mark = " **selected**" if r["variant"] == selection["selected"] else ""
        lines.append(f"| {r['variant']}{mark} | {r['score']:.2f} | {r['retrieval']:.2f} | "
                     f"{'yes' if r['eligible'] else 'no'} |")
    floor = selection["retrieval_floor"]
    head = f"Retrieval floor (CLIP-FT − 1): {floor:.2f}.\n\n" if not np.isnan(floor) else ""
    verdict = f"Selected: `{selection['selected']}`" if selection["selected"] else "Nothing selected"
    return head + "\n".join(lines) + f"\n\n{verdict}: {selection['reason']}.\n"
