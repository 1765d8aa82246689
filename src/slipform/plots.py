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
