"""Headline metrics of the world benchmarks, aggregated over seeds with 95% confidence intervals."""

from __future__ import annotations

import math
import statistics

# (column, benchmark, how to read it from that benchmark's metrics)
COLUMNS = (
    ("Retrieval R@1", "world_retrieval", lambda m: (m["image_to_text_R@1"] + m["text_to_image_R@1"]) / 2),
    ("ARO relation", "world_aro", lambda m: m["relation_swap"]),
    ("ARO attribute", "world_aro", lambda m: m["attribute_swap"]),
    ("ARO order", "world_aro", lambda m: m["order_precision@1"]),
    ("SugarCrepe", "world_sugarcrepe", lambda m: m["macro"]),
    ("SC swap", "world_sugarcrepe", lambda m: (m["swap_att"] + m["swap_obj"]) / 2),
    ("SC compositional", "world_sugarcrepe_comp", lambda m: m["macro"]),
    ("Probe shape", "world_probe", lambda m: m["left_shape_top1"]),
    ("Probe mAP", "world_probe", lambda m: m["colours_shapes_mAP"]),
)
# two-sided 97.5% quantiles of Student's t for 1..10 degrees of freedom; 1.96 beyond
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)


def headline(metrics: dict) -> dict[str, float]:
    """The table's columns from one evaluation (``{benchmark: metrics}``); NaN where missing."""
    out = {}
    for name, bench, read in COLUMNS:
        try:
            out[name] = float(read(metrics[bench]))
        except (KeyError, TypeError):
            out[name] = math.nan
    return out


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval (NaN for a single value)."""
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return math.nan, math.nan
    if len(values) == 1:
        return values[0], math.nan
    t = _T975[len(values) - 2] if len(values) - 1 <= len(_T975) else 1.96
    return statistics.fmean(values), t * statistics.stdev(values) / math.sqrt(len(values))


def aggregate(per_seed: dict[str, dict[int, dict]]) -> dict[str, dict[str, tuple[float, float]]]:
    """``{method: {seed: metrics}}`` -> ``{method: {column: (mean, ci)}}``."""
    table = {}
    for method, seeds in per_seed.items():
        rows = [headline(m) for m in seeds.values()]
        table[method] = {name: mean_ci([r[name] for r in rows]) for name, _, _ in COLUMNS}
    return table


def fmt(mean: float, ci: float) -> str:
    if math.isnan(mean):
        return "-"
    return f"{mean:.1f}" if math.isnan(ci) else f"{mean:.1f} ± {ci:.1f}"


# (a, b, what the difference a - b tests)
COMPARISONS = (
    ("slipform", "concrete_negclip", "Cement vs InfoNCE with the same ConcretePlant negatives (claim b)"),
    ("slipform", "abstract_target", "concrete vs abstract targets, both with Cement (claim a)"),
    ("slipform", "random_target", "concrete vs random targets, both with Cement (claim a)"),
    ("slipform", "static_margin", "adaptive vs static margin"),
    ("image_negatives", "slipform", "with vs without negative images"),
    ("slipform", "negclip", "Slipform vs NegCLIP"),
    ("slipform", "clip_ft", "Slipform vs CLIP-FT"),
    ("clip_ft", "pretrained", "fine-tuning without negatives vs none"),
)


def paired(per_seed: dict[str, dict[int, dict]]) -> list[dict]:
    """Per-seed differences a - b of the headline metrics, with 95% t-intervals. Pairing by seed
    removes the variance the two methods share (the pretrained model, the plant's choices)."""
    out = []
    for a, b, what in COMPARISONS:
        if a not in per_seed or b not in per_seed:
            continue
        seeds = sorted(set(per_seed[a]) & set(per_seed[b]))
        if not seeds:
            continue
        ha, hb = [headline(per_seed[a][s]) for s in seeds], [headline(per_seed[b][s]) for s in seeds]
        out.append({"a": a, "b": b, "what": what, "seeds": len(seeds),
                    "diff": {name: mean_ci([x[name] - y[name] for x, y in zip(ha, hb)]) for name, _, _ in COLUMNS}})
    return out
