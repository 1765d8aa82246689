"""Plots of runs: the gradient shares of positive, hard and easy negatives over training
(:func:`plot_gradients`), the gradient magnitudes w.r.t. the similarities, the paper's Fig. 3
(:func:`plot_gradient_magnitudes`), and a calibrated margin's LOESS fits, its Fig. 4
(:func:`plot_margin_fit`)."""

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
    ax.set_title(f"estimated similarities (LOESS, frac {fit['loess_frac']:.2f})" if fits else
                 "no fit yet (too few samples)")
    if fits:
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


MAGNITUDES = (("grad_s_pos", r"$|\partial \ell / \partial s_{i,i}|$"),
              ("grad_s_hard", r"$\partial \ell / \partial s_{i,i'}$ (each own hard negative)"),
              ("grad_s_easy", r"$\sum_j \partial \ell / \partial s_{i,j}$ (in-batch negatives)"))


def run_label(run: str | Path) -> str:
    """``negclip``, ``cement (linear)``, ``cement (calibrated)``: a run's loss, from its config."""
    rd = RunDir(run)
    if not rd.config.exists():
        return Path(run).name
    loss = rd.read_config().get("loss", {})
    kind = loss.get("kind", "?")
    if kind == "cement":
        schedule = {"adaptive": "linear"}.get(loss.get("schedule"), loss.get("schedule"))
        return f"cement ({schedule})"
    return kind


def plot_gradient_magnitudes(runs: list[str | Path], output: str | Path, labels: list[str] | None = None) -> Path:
    """The paper's Fig. 3: the image->text gradient magnitude w.r.t. s_ii, s_ii' and Σ_j s_ij over
    the training steps, temperature included (the log's ``grad_s_*``), one line per run; the
    dotted lines are each run's average over the steps. A run whose log predates ``grad_s_*``
    (or a term it does not have, CLIP-FT's hard negatives) is left out of that panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = labels or [run_label(r) for r in runs]
    fig, axes = plt.subplots(1, len(MAGNITUDES), figsize=(5 * len(MAGNITUDES), 3.8), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (key, title) in zip(axes[0], MAGNITUDES):
        for i, (run, label) in enumerate(zip(runs, labels)):
            rows = [r for r in read_log(run) if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
            if not rows:
                continue
            values = [r[key] for r in rows]
            color = colors[i % len(colors)]
            ax.plot([r["step"] for r in rows], values, color=color, lw=1.2, label=label)
            ax.axhline(sum(values) / len(values), color=color, ls=":", lw=1.2)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("gradient magnitude per anchor (1/τ included)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    out = Path(output)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_imbalance(rows: list[dict], output: str | Path) -> Path:
    """The paper's Fig. 2 (:func:`slipform.experiment.figures.batch_imbalance`'s rows): the easy
    negatives' summed gradient over the hard negative's, and the hard negative's share of the
    negatives' gradient, against batch size, with each kind of hard negative and without any."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name in dict.fromkeys(r["negatives"] for r in rows):
        mine = sorted((r for r in rows if r["negatives"] == name), key=lambda r: r["batch_size"])
        label = "without hard negatives (hardest in-batch caption)" if name == "none" else f"with {name} negatives"
        sizes = [r["batch_size"] for r in mine]
        ax.plot(sizes, [r["ratio"] for r in mine], "o-", label=label)
        bx.plot(sizes, [r["hard_share"] for r in mine], "o-", label=label)
    for a in (ax, bx):
        a.set_xscale("log", base=2)
        a.set_xlabel("batch size")
        a.grid(alpha=0.3)
    ax.set_yscale("log")
    ax.set_ylabel(r"$\sum_{easy} p_{ij}$ / $p_{i,hard}$")
    ax.set_title("easy over hard gradient (image->text)")
    bx.set_ylabel("hard negative's share of the negatives' gradient")
    bx.set_title("hard share")
    bx.legend(fontsize=7)
    fig.tight_layout()
    out = Path(output)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
