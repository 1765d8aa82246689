"""Headline metrics of the world benchmarks, aggregated over seeds with 95% confidence intervals,
and paired differences between methods: over seeds, or over test items within one seed.

Every paired difference comes with its *minimum detectable difference* (MDD): the smallest true
difference that a two-sided test at α = 0.05 finds with 80% power at the measured spread,
(z_.975 + z_.8) × SE for items, (t_.975 + t_.8) × SE for seeds. A difference smaller than its MDD
that the interval does not resolve is no evidence of "no effect"; the instrument is too coarse.
"""

from __future__ import annotations

import math
import statistics
import warnings

import numpy as np

_SC = ("add_att", "add_obj", "replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")
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
    ("Probe text relation", "world_probe", lambda m: m["text_left_shape_top1"]),
)
# (benchmark, per-item metrics) behind each column: the column is the mean over these parts of
# each part's mean over test scenes; probes have no per-item score
ITEMS = {
    "Retrieval R@1": ("world_retrieval", ("mean_R@1",)),
    "ARO relation": ("world_aro", ("relation_swap",)),
    "ARO attribute": ("world_aro", ("attribute_swap",)),
    "ARO order": ("world_aro", ("order_precision@1",)),
    "SugarCrepe": ("world_sugarcrepe", _SC),
    "SC swap": ("world_sugarcrepe", ("swap_att", "swap_obj")),
    "SC compositional": ("world_sugarcrepe_comp", _SC),
}
# two-sided 97.5% quantiles of Student's t for 1..10 degrees of freedom; 1.96 beyond
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)
# one-sided 80% quantiles (power 0.8) for 1..10 degrees of freedom; 0.842 beyond
_T80 = (1.376, 1.061, 0.978, 0.941, 0.920, 0.906, 0.896, 0.889, 0.883, 0.879)
Z975, Z80 = 1.960, 0.842


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
    ("negclip", "clip_ft", "NegCLIP vs CLIP-FT: the positive control (known to lift relation swap)"),
    ("slipform", "concrete_negclip", "Cement vs InfoNCE with the same ConcretePlant negatives (claim b)"),
    ("slipform", "abstract_target", "concrete vs abstract targets, both with Cement (claim a)"),
    ("slipform", "random_target", "concrete vs random targets, both with Cement (claim a)"),
    ("slipform", "static_margin", "adaptive vs static margin"),
    ("image_negatives", "slipform", "with vs without negative images"),
    ("visual_negclip", "concrete_negclip", "visual vs Brysbaert norms, NegCLIP loss"),
    ("visual_slipform", "slipform", "visual vs Brysbaert norms, Cement"),
    ("hardest_negclip", "concrete_negclip", "hardest of 3 vs one at random, NegCLIP loss"),
    ("hardest_slipform", "slipform", "hardest of 3 vs one at random, Cement"),
    ("visual_hardest_negclip", "concrete_negclip", "visual norms + hardest of 3 vs the paper's negatives, NegCLIP loss"),
    ("visual_hardest_slipform", "slipform", "visual norms + hardest of 3 vs the paper's recipe, Cement"),
    ("visual_hardest_slipform", "visual_hardest_negclip", "Cement vs NegCLIP loss on the new negatives"),
    ("visual_slipform", "negclip", "visual norms with Cement vs NegCLIP's swaps: the gap left"),
    ("visual_hardest_negclip", "negclip", "visual norms + hardest of 3, NegCLIP loss, vs NegCLIP's swaps"),
    ("slipform", "negclip", "Slipform vs NegCLIP"),
    ("slipform", "clip_ft", "Slipform vs CLIP-FT"),
    ("clip_ft", "pretrained", "fine-tuning without negatives vs none"),
    # the field's methods against NegCLIP (same swap negatives: the loss alone; ConcretePlant's:
    # the loss and the negatives together)
    ("concrete_negclip", "negclip", "ConcretePlant's negatives vs NegCLIP's swaps, NegCLIP loss"),
    ("ce_clip", "negclip", "CE-CLIP vs NegCLIP, the same swap negatives"),
    ("ce_clip_concrete", "negclip", "CE-CLIP with ConcretePlant's negatives vs NegCLIP"),
    ("fsc_clip", "negclip", "FSC-CLIP vs NegCLIP, the same swap negatives"),
    ("fsc_clip_concrete", "negclip", "FSC-CLIP with ConcretePlant's negatives vs NegCLIP"),
    ("siglip", "negclip", "SigLIP's sigmoid loss vs NegCLIP, the same swap negatives"),
    ("cement_siglip", "negclip", "Cement on SigLIP with ConcretePlant's negatives vs NegCLIP"),
    ("tripletclip", "negclip", "TripletCLIP (text and image negatives) vs NegCLIP"),
    ("degla", "negclip", "DeGLA vs NegCLIP, the same swap negatives"),
    ("degla_concrete", "negclip", "DeGLA with ConcretePlant's negatives vs NegCLIP"),
    # the loss apart from the negatives (issue 29): Cement on NegCLIP's own swaps
    ("cement_swaps", "negclip", "Cement vs the NegCLIP loss on NegCLIP's swaps: the loss alone"),
    ("slipform", "cement_swaps", "ConcretePlant's negatives vs NegCLIP's swaps, both with Cement: the negatives alone"),
    # the selected Slipform against every other method of --compare (issue 29: the 5-seed table)
    *(("slipform", m, f"Slipform vs {m}") for m in ("ce_clip", "ce_clip_concrete", "fsc_clip", "fsc_clip_concrete",
                                                    "siglip", "cement_siglip", "tripletclip", "degla",
                                                    "degla_concrete")),
    # Slipform's variants on the validation split (slipform demo --validate), each against CLIP-FT
    *((f"slipform_{r}_{m}_{n}", "clip_ft", f"Slipform variant ({r}, {m} margin, {n} per caption) vs CLIP-FT")
      for r in ("target", "anchor") for m in ("linear", "calibrated") for n in (1, 2)),
)


def _mdd_seeds(diffs: list[float]) -> float:
    diffs = [d for d in diffs if not math.isnan(d)]
    if len(diffs) < 2:
        return math.nan
    df = len(diffs) - 1
    t = (_T975[df - 1] + _T80[df - 1]) if df <= len(_T975) else Z975 + Z80
    return t * statistics.stdev(diffs) / math.sqrt(len(diffs))


def paired(per_seed: dict[str, dict[int, dict]]) -> list[dict]:
    """Per-seed differences a - b of the headline metrics, with 95% t-intervals and MDDs. Pairing
    by seed removes the variance the two methods share (the pretrained model, the plant's choices)."""
    out = []
    for a, b, what in COMPARISONS:
        if a not in per_seed or b not in per_seed:
            continue
        seeds = sorted(set(per_seed[a]) & set(per_seed[b]))
        if not seeds:
            continue
        ha, hb = [headline(per_seed[a][s]) for s in seeds], [headline(per_seed[b][s]) for s in seeds]
        diffs = {name: [x[name] - y[name] for x, y in zip(ha, hb)] for name, _, _ in COLUMNS}
        out.append({"a": a, "b": b, "what": what, "seeds": len(seeds), "over": "seeds",
                    "diff": {name: mean_ci(d) for name, d in diffs.items()},
                    "mdd": {name: _mdd_seeds(d) for name, d in diffs.items()}})
    return out


def _column_stat(d: np.ndarray) -> np.ndarray:
    """Mean over parts of each part's mean over items; ``d`` is (..., items, parts) with NaN gaps."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(d, axis=-2).mean(-1)


def paired_items(items_a: dict, items_b: dict, column: str, n_boot: int = 2000, seed: int = 0) -> dict:
    """Difference a - b of one column over the same test items, with a paired bootstrap.

    ``items_*`` are ``{benchmark: {metric: array over scenes}}`` (what :func:`slipform.evaluate.run`
    collects). Scenes are resampled with replacement, the same scenes for both models, so the
    interval reflects only how the two models differ item by item. Returns ``diff``, the 95%
    percentile interval ``lo``/``hi``, the bootstrap ``se``, ``mdd`` = (z_.975 + z_.8) · se and
    ``n`` (test scenes); None when the column has no per-item scores.
    """
    if column not in ITEMS:
        return None
    bench, parts = ITEMS[column]
    try:
        a = np.stack([np.asarray(items_a[bench][p], float) for p in parts], -1)
        b = np.stack([np.asarray(items_b[bench][p], float) for p in parts], -1)
    except KeyError:
        return None
    if a.shape != b.shape:
        raise ValueError(f"{column}: the two models were scored on different test sets ({a.shape} vs {b.shape})")
    d = a - b
    diff = float(_column_stat(d))
    rng = np.random.default_rng(seed)
    boot = np.concatenate([_column_stat(d[rng.integers(0, len(d), (min(250, n_boot - k), len(d)))])
                           for k in range(0, n_boot, 250)])
    se = float(boot.std(ddof=1))
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return {"diff": diff, "lo": float(lo), "hi": float(hi), "se": se, "mdd": (Z975 + Z80) * se, "n": len(d)}


def paired_over_items(items: dict[str, dict], seed: int = 0) -> list[dict]:
    """Paired differences of :data:`COMPARISONS` within one seed, over test items:
    ``items`` is ``{method: {benchmark: {metric: array}}}``."""
    out = []
    for a, b, what in COMPARISONS:
        if a not in items or b not in items:
            continue
        cols = {name: paired_items(items[a], items[b], name) for name, _, _ in COLUMNS}
        diff, mdd = {}, {}
        for name, r in cols.items():
            if r is None:
                diff[name], mdd[name] = (math.nan, math.nan), math.nan
            else:  # reported as mean ± half-width; the percentile interval is near symmetric here
                diff[name], mdd[name] = (r["diff"], max(r["hi"] - r["diff"], r["diff"] - r["lo"])), r["mdd"]
        sig = {name: r is not None and (r["lo"] > 0 or r["hi"] < 0) for name, r in cols.items()}
        n = max((r["n"] for r in cols.values() if r), default=0)
        out.append({"a": a, "b": b, "what": what, "seeds": 1, "seed": seed, "over": "items", "n": n,
                    "diff": diff, "mdd": mdd, "excludes_zero": sig})
    return out
