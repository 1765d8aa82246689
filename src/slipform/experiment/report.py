"""The demo's report folder: results table (Markdown, CSV), bar chart, gradient plot, sample sheet."""

from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path

from ..run import RunDir
from .summary import COLUMNS, fmt


def gradient_stats(run: Path) -> dict[str, float]:
    """Mean gradient shares over a run's log, the hard-to-easy ratio (claim c), and
    ``relation_share``: the share of the negatives it trained on that change a relation."""
    rows = RunDir(run).read_log()
    out = {}
    for key in ("grad_pos", "grad_hard", "grad_easy"):
        vals = [r[key] for r in rows if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
        out[key] = statistics.fmean(vals) if vals else math.nan
    out["hard_to_easy"] = out["grad_hard"] / out["grad_easy"] if out["grad_easy"] else math.nan
    out["relation_share"] = relation_share(Path(run))
    return out


def relation_share(run: Path) -> float:
    """Share of a run's training negatives that change a relation (route R): what the selection
    picked (``selection.json``, averaged over its thirds of training), else what one negative
    drawn at random per caption from its planted file is on average."""
    sel = RunDir(run).selection
    if sel.exists():
        phases = [p["select_R"] for p in json.loads(sel.read_text())["phases"] if "select_R" in p]
        return statistics.fmean(phases) if phases else math.nan
    negatives = RunDir(run).read_config().get("data", {}).get("negatives")
    if not negatives or not Path(negatives).exists():
        return math.nan
    per_caption: dict[str, list[bool]] = {}
    with open(negatives) as f:
        for line in f:
            rec = json.loads(line)
            per_caption.setdefault(str(rec.get("id")), []).append(rec.get("role") == "R")
    return statistics.fmean(sum(v) / len(v) for v in per_caption.values()) if per_caption else math.nan


def write_table(table: dict, labels: dict[str, str], folder: Path, extra: dict[str, dict[str, str]] | None = None,
                seeds: int = 1) -> str:
    """``results.md`` and ``results.csv``; returns the Markdown table."""
    names = [c[0] for c in COLUMNS]
    extra = extra or {}
    extra_cols = sorted({k for v in extra.values() for k in v})
    head = ["Method", *names, *extra_cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    with open(folder / "results.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", "label", "seeds"] + [x for n in names for x in (n, f"{n} ci95")] + extra_cols)
        for method, cols in table.items():
            lines.append("| " + " | ".join([labels.get(method, method), *(fmt(*cols[n]) for n in names),
                                              *(extra.get(method, {}).get(c, "-") for c in extra_cols)]) + " |")
            w.writerow([method, labels.get(method, method), seeds]
                       + [("" if math.isnan(x) else round(x, 3)) for n in names for x in cols[n]]
                       + [extra.get(method, {}).get(c, "") for c in extra_cols])
    note = "" if seeds == 1 else f"\n\nMean ± half-width of the 95% t-interval over {seeds} seeds."
    md = "\n".join(lines) + note + "\n"
    (folder / "results.md").write_text("# World results\n\nAccuracy and recall in %.\n\n" + md)
    return md


def write_comparisons(comparisons: list[dict], folder: Path, split: str = "test") -> str:
    """``comparisons.md`` and ``.csv``: paired differences a − b (points) with 95% intervals and,
    in brackets, the minimum detectable difference (80% power, α = 0.05). ``split`` names the
    scenes the items come from (``test``, or ``val`` for a validation run)."""
    names = [c[0] for c in COLUMNS]
    lines = ["| a − b | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
    with open(folder / "comparisons.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "what", "over", "seeds", "items"]
                   + [x for n in names for x in (n, f"{n} ci95", f"{n} mdd")] + ["excludes 0"])
        for c in comparisons:
            cells, sig_cols = [], []
            for n in names:
                m, ci = c["diff"][n]
                sig = c["excludes_zero"][n] if "excludes_zero" in c else not math.isnan(ci) and abs(m) > ci
                if sig:
                    sig_cols.append(n)
                mdd = c.get("mdd", {}).get(n, math.nan)
                cell = "-" if math.isnan(m) else (f"{m:+.1f}" if math.isnan(ci) else f"{m:+.1f} ± {ci:.1f}")
                cell += " *" if sig else ""
                cell += "" if math.isnan(mdd) or math.isnan(m) else f" [{mdd:.1f}]"
                cells.append(cell)
            lines.append(f"| {c['a']} − {c['b']} | " + " | ".join(cells) + " |")
            w.writerow([c["a"], c["b"], c["what"], c.get("over", "seeds"), c["seeds"], c.get("n", "")]
                       + [("" if math.isnan(x) else round(x, 3))
                          for n in names for x in (*c["diff"][n], c.get("mdd", {}).get(n, math.nan))]
                       + [";".join(sig_cols)])
    over_items = comparisons and comparisons[0].get("over") == "items"
    scenes = "validation" if split == "val" else split
    how = (f"over the {comparisons[0]['n']} {scenes} scenes of seed {comparisons[0]['seed']} (paired bootstrap, "
           "2,000 resamples; the two models see the same scenes)") if over_items else \
        "over seeds (mean ± 95% t-interval of the per-seed differences)"
    md = "\n".join(lines) + ("\n\n* the 95% interval of the paired difference excludes 0. [x]: the smallest "
                             "difference this comparison detects with 80% power at α = 0.05.\n")
    (folder / "comparisons.md").write_text(f"# Paired differences between methods\n\nPoints, {how}.\n\n" + md)
    return md


def bar_chart(table: dict, labels: dict[str, str], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [c[0] for c in COLUMNS]
    methods = list(table)
    width = 0.8 / max(1, len(methods))
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(names)), 4))
    for i, method in enumerate(methods):
        means = [table[method][n][0] for n in names]
        errs = [0 if math.isnan(table[method][n][1]) else table[method][n][1] for n in names]
        colour = plt.cm.tab20(i % 20) if len(methods) > 10 else None  # the default cycle repeats after 10
        ax.bar([j + i * width for j in range(len(names))], means, width, yerr=errs, capsize=2,
               label=labels.get(method, method), color=colour)
    ax.set_xticks([j + width * (len(methods) - 1) / 2 for j in range(len(names))])
    ax.set_xticklabels(names, rotation=25, ha="right")
    ax.axhline(50, color="grey", lw=0.8, ls="--")
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    if len(methods) > 6:  # beside the axes: inside, a long legend covers the bars
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        ax.legend(fontsize=7, ncol=2)
    ax.set_title("World benchmarks per method (dashed: chance for two-way choices)")
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def sample_sheet(negatives: Path, data: Path, path: Path, n: int = 6) -> Path:
    """Images with their caption, the planted negative and the negative image the editor renders."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from ..world.editor import WorldEditor
    from ..world.render import render
    from .protocol import planted_change

    records = []
    with open(negatives) as f:
        for line in f:
            records.append(json.loads(line))
            if len(records) >= n:
                break
    editor = WorldEditor()
    fig, axes = plt.subplots(len(records), 2, figsize=(8, 2.1 * len(records)), squeeze=False)
    for row, rec in zip(axes, records):
        row[0].imshow(Image.open(Path(data) / rec["image"]))
        kind, neg = planted_change(editor, rec)
        if neg is not None:
            row[1].imshow(render(neg))
            note = ""
        else:
            row[1].imshow(Image.new("RGB", (64, 64), (235, 235, 235)))
            note = "\n(no image: the negative does not change the scene)" if kind == "same_scene" else \
                "\n(no image: the negative does not parse)"
        row[0].set_title(_wrap(rec["caption"]), fontsize=7)
        row[1].set_title(_wrap(f"{rec['negative']}  [{rec.get('role')}: {rec.get('target')} -> "
                               f"{rec.get('replacement')}, c={rec.get('concreteness')}]") + note, fontsize=7)
        for ax in row:
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _wrap(text: str, width: int = 60) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
