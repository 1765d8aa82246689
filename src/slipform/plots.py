"""Plots of runs: the gradient shares of positive, hard and easy negatives over training."""

from __future__ import annotations

import math
from pathlib import Path

from .run import RunDir

SERIES = (("grad_pos", "positive |p_ii - 1|"), ("grad_hard", "hard negative p_ih"),
          ("grad_easy", "easy negatives sum p_ij"))


def read_log(run: str | Path) -> list[dict]:
    rows = RunDir(run).read_log()
    if not rows:
        raise ValueError(f"{RunDir(run).log}: the log is empty")
    return rows


def plot_gradients(runs: list[str | Path], output: str | Path | None = None) -> Path:
    """One panel per run: the three gradient shares against the step, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 3.6), sharey=True, squeeze=False)
    for ax, run in zip(axes[0], runs):
        rows = read_log(run)
        steps = [r["step"] for r in rows]
        for key, label in SERIES:
            values = [math.nan if r.get(key) is None else r[key] for r in rows]  # null: no such term
            if any(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in values):
                ax.plot(steps, values, label=label)
        title = Path(run).name
        if RunDir(run).config.exists():
            loss = RunDir(run).read_config().get("loss", {})
            title = f"{title}: {loss.get('kind', '?')} loss"
        ax.set_title(title)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("mean |dl/dlogit| per anchor")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    out = Path(output) if output else RunDir(runs[0]).gradients_plot
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_margin_fit(run: str | Path, output: str | Path | None = None) -> Path:
    """The paper's Fig. 4 for a calibrated Cement run ("Estimated similarity scores w.r.t. c_i.
    Curves are fitted with LOESS"): the last window's samples of s_ii, s_ii' and the easy
    negatives' mean s against the changed word's concreteness c with the last LOESS fit (earlier
    fits faded), and beside it the margin m(c) of every fit against the linear ramp."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rd = RunDir(run)
    if not rd.margin_fit.exists():
        raise ValueError(f"{rd.margin_fit}: no calibrated margin in this run (--margin-schedule calibrated)")
    fit = json.loads(rd.margin_fit.read_text())
    grid, fits, samples = fit["grid"], fit["fits"], fit["last_samples"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8))
    colors = {"pos": "tab:blue", "neg": "tab:orange", "easy": "tab:gray"}
    labels = {"pos": "image-caption $s_{i,i}$", "neg": "image-hard negative $s_{i,i'}$",
              "easy": "image-other captions (mean)"}
    if samples:
        c = [s[0] for s in samples]
        for j, key in ((1, "pos"), (2, "neg"), (3, "easy")):
            ax.scatter(c, [s[j] for s in samples], s=3, alpha=0.15, color=colors[key])
    for i, f in enumerate(fits):
        last = i == len(fits) - 1
        for key in ("pos", "neg", "easy"):
            ax.plot(grid, f[key], color=colors[key], alpha=1.0 if last else 0.15, lw=2 if last else 1,
                    label=labels[key] if last else None)
        bx.plot(grid, f["margin"], color=plt.cm.viridis(i / max(1, len(fits) - 1)), lw=2 if last else 1,
                label=f"step {f['step']}" if last or i == 0 else None)
    lo, hi = fit["margin_min"], fit["margin_max"]
    bx.plot([1, 5], [lo, hi], "k--", lw=1, label="linear ramp")
    ax.set_xlabel("concreteness $c_i$ of the changed word")
    ax.set_ylabel("cosine similarity")
    ax.set_title(f"estimated similarities (LOESS, frac {fit['loess_frac']:.2f})" if fits else "no fit yet")
    ax.legend(fontsize=7)
    bx.set_xlabel("concreteness $c_i$")
    bx.set_ylabel("margin m(c)")
    bx.set_title(f"calibrated margin, refit every {fit['refresh_every']} steps")
    bx.legend(fontsize=7)
    for a in (ax, bx):
        a.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(output) if output else rd.margin_fit_plot
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
