"""The paper's Figs. 2-4 in the world, in minutes on a CPU: pretrain, plant, fine-tune four ways, draw.

    python bench/paper_figures.py -o paper-figures                 # n_train 2000: ~15 min on 2 idle cores
    python bench/paper_figures.py -o paper-figures --n-train 8000  # the demo's world (slower)

Runs the demo's protocol (:mod:`slipform.experiment.protocol`: the same world, pretraining,
ConcretePlant and NegCLIP negatives, fine-tuning recipe) for CLIP-FT, NegCLIP, Slipform with the
linear margin and Slipform with the calibrated margin (``--margin-schedule calibrated``), skips
the evaluation (the figures need the training logs only), and writes into the output folder what
``slipform demo --full`` writes into its report (:func:`slipform.experiment.figures.paper_figures`):
``imbalance.png``/``imbalance.json`` (Fig. 2), ``gradient_magnitudes.png`` (Fig. 3),
``margin_fit.png`` (Fig. 4) and ``figures.md`` with the table of Fig. 2 and each run's mean
gradient magnitudes. Re-running reuses every finished stage.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import replace
from pathlib import Path

from slipform.experiment.demo import cache_root
from slipform.experiment.figures import paper_figures
from slipform.experiment.protocol import (
    METHODS,
    Method,
    ProtocolConfig,
    finetune,
    plant_negatives,
    pretrain,
    world_data,
)
from slipform.losses import LossConfig
from slipform.run import RunDir

CALIBRATED = Method("slipform_calibrated", "Slipform, calibrated margin", "concrete",
                    LossConfig(kind="cement", schedule="calibrated"))
RUNS = (METHODS["clip_ft"], METHODS["negclip"], METHODS["slipform"], CALIBRATED)


def mean_magnitudes(run: Path) -> dict:
    """Each ``grad_s_*`` averaged over the run's logged steps (the dotted lines of Fig. 3)."""
    rows = RunDir(run).read_log()
    out = {}
    for key in ("grad_s_pos", "grad_s_hard", "grad_s_easy"):
        vals = [r[key] for r in rows if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
        out[key] = statistics.fmean(vals) if vals else math.nan
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="paper-figures")
    ap.add_argument("--n-train", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, help="default: the protocol's (128)")
    ap.add_argument("--width", type=int, help="image tower width; default: the protocol's (32)")
    ap.add_argument("--pretrain-epochs", type=int, help="default: the protocol's (2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", help="world data and pretrained models (default: the demo's)")
    args = ap.parse_args()
    sizes = {k: v for k, v in (("batch_size", args.batch_size), ("width", args.width),
                                ("pretrain_epochs", args.pretrain_epochs)) if v is not None}
    config = replace(ProtocolConfig(), n_train=args.n_train, **sizes)
    out, cache, seed = Path(args.output), cache_root(args.cache), args.seed
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - t0:6.0f}s] {msg}", flush=True)

    data = world_data(cache, config)
    log(f"world data: {data}")
    base = pretrain(cache, data, config, seed, progress=False)
    log(f"pretrained: {base}")
    negatives = {kind: plant_negatives(out, data, kind, seed, config, progress=False) for kind in ("concrete", "swap")}
    log("planted: " + ", ".join(str(p) for p in negatives.values()))
    for method in RUNS:
        finetune(out, data, method, base, negatives.get(method.negatives), seed, config, progress=False)
        log(f"fine-tuned {method.name}")
    md = paper_figures(out, seed, config, {m.name: m.label for m in RUNS})
    log("figures drawn")
    lines = ["| run | mean ∂l/∂s_ii | mean ∂l/∂s_ii' | mean Σ_j ∂l/∂s_ij |", "|---|---|---|---|"]
    summary = {}
    for method in RUNS:
        g = summary[method.name] = mean_magnitudes(out / "runs" / f"{method.name}-s{seed}")
        lines.append(f"| {method.label} | " + " | ".join("-" if math.isnan(g[k]) else f"{g[k]:.3f}" for k in g) + " |")
    text = (f"n_train {config.n_train}, batch {config.batch_size}, width {config.width}, pretrain epochs "
            f"{config.pretrain_epochs}, seed {seed}, {time.perf_counter() - t0:.0f} s\n{md}\n"
            "Mean gradient magnitudes over the fine-tuning steps (1/τ included):\n\n" + "\n".join(lines) + "\n")
    (out / "figures.md").write_text(text)
    (out / "magnitudes.json").write_text(json.dumps(summary, indent=1))
    print(text)


if __name__ == "__main__":
    main()
