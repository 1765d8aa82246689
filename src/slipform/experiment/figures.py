"""The paper's analysis figures in the world (its Figs. 2-4), for the demo's report and bench/.

- Fig. 2, :func:`batch_imbalance`: "simply reducing the batch size is not a sufficient solution"
  to the imbalance. For a model's features of training images, captions and planted negatives,
  batches of 32 to 512 are drawn and, for each image->text row of InfoNCE (gradient w.r.t. the
  logit z_ij: p_ij - [j = i]), the gradient on the hard negative is set against the sum over the
  easy ones. With hard negatives (NegCLIP's columns: every caption and every negative of the
  batch), "hard" is the row's own planted negative; without them (CLIP's columns), it is the
  batch's most similar other caption, the hardest negative a batch offers by itself.
- Fig. 3, :func:`slipform.plots.plot_gradient_magnitudes`: the gradient w.r.t. s_ii, s_ii' and
  Σ_j s_ij over training, 1/τ included, read from the runs' logs (``grad_s_*``).
- Fig. 4, :func:`slipform.plots.plot_margin_fit`: a calibrated Cement run's LOESS fits.

:func:`paper_figures` draws the three from a demo folder: Fig. 3 for CLIP-FT, NegCLIP, Slipform
and every run whose loss is Cement with the calibrated margin; Fig. 4 from the first such run;
Fig. 2 with the pretrained model every fine-tune started from.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import torch

from ..run import RunDir
from .layout import DemoLayout

BATCH_SIZES = (32, 64, 128, 256, 512)
FIG3_METHODS = ("clip_ft", "negclip", "slipform")


def _row_shares(p: torch.Tensor, hard: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row of softmax ``p`` (B, C): the hard negative's p (given as (B,)) and the sum of the
    other negatives' p (every column but the positive, the diagonal, and the hard one)."""
    rows = torch.arange(p.shape[0])
    easy = p.sum(1) - p[rows, rows] - hard
    return hard, easy


def batch_imbalance(images: torch.Tensor, captions: torch.Tensor, negatives: dict[str, torch.Tensor],
                    scale: float, batch_sizes=BATCH_SIZES, draws: int = 20, seed: int = 0) -> list[dict]:
    """The hard/easy gradient imbalance against batch size (Fig. 2).

    Args:
        images, captions: (P, D) L2-normalised features of P training pairs.
        negatives: ``{name: (P, D)}``, one planted negative caption per pair, per kind of negative.
        scale: the logit scale 1/τ.
        batch_sizes: B values; each must not exceed P.

    Returns:
        One row per (B, setting), the settings ``"none"`` (CLIP's columns) and each key of
        ``negatives``: ``hard`` and ``easy`` (mean |dl/dz| per row on the hard negative and summed
        over the easy ones), ``ratio`` = easy / hard (means over ``draws`` batches of every row)
        and ``hard_share`` = hard / (hard + easy).
    """
    gen = torch.Generator().manual_seed(seed)
    out = []
    for b in batch_sizes:
        if b > len(images):
            raise ValueError(f"batch size {b} exceeds the {len(images)} pairs given")
        sums: dict[str, list[float]] = {}
        for _ in range(draws):
            idx = torch.randperm(len(images), generator=gen)[:b]
            img, txt = images[idx], captions[idx]
            p = (scale * img @ txt.T).softmax(1)
            others = p.clone()
            others.fill_diagonal_(0)
            hard, easy = _row_shares(p, others.max(1).values)
            _add(sums, "none", hard, easy)
            for name, neg in negatives.items():
                cols = torch.cat([txt, neg[idx]])  # NegCLIP: every caption and every negative of the batch
                p = (scale * img @ cols.T).softmax(1)
                hard, easy = _row_shares(p, p[torch.arange(b), b + torch.arange(b)])
                _add(sums, name, hard, easy)
        for name, (hard, easy, rows) in sums.items():
            h, e = hard / rows, easy / rows
            out.append({"batch_size": b, "negatives": name, "hard": h, "easy": e, "ratio": e / h,
                        "hard_share": h / (h + e)})
    return out


def _add(sums: dict, name: str, hard: torch.Tensor, easy: torch.Tensor) -> None:
    h, e, n = sums.get(name, (0.0, 0.0, 0))
    sums[name] = (h + float(hard.sum()), e + float(easy.sum()), n + len(hard))


def world_features(checkpoint: Path, data: Path, negative_files: dict[str, Path], pairs: int, config,
                   seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor], float]:
    """Features under ``checkpoint`` of up to ``pairs`` training captions of ``data/train.csv`` that
    have a negative in every file of ``negative_files`` (its first), their images and those
    negatives, and the model's logit scale. The captions are drawn at random (``seed``)."""
    from ..evaluate.encode import Encoder
    from ..models import load_model
    from .protocol import model_spec

    first: dict[str, dict[str, str]] = {}
    for name, path in negative_files.items():
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                first.setdefault(name, {}).setdefault(str(rec["id"]), rec["negative"])
    with open(Path(data) / "train.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if all(r["id"] in first[n] for n in negative_files)]
    pick = torch.randperm(len(rows), generator=torch.Generator().manual_seed(seed))[:pairs].tolist()
    rows = [rows[i] for i in sorted(pick)]
    model = load_model(model_spec(config, checkpoint)).eval()
    enc = Encoder(model, cache_dir=None, workers=0)
    images = enc.images([str(Path(data) / r["filepath"]) for r in rows])
    captions = enc.texts([r["title"] for r in rows])
    negatives = {n: enc.texts([first[n][r["id"]] for r in rows]) for n in negative_files}
    return images, captions, negatives, float(model.logit_scale.detach())


def calibrated_runs(layout: DemoLayout, seed: int) -> dict[str, Path]:
    """Finished runs of ``seed`` whose loss is Cement with the calibrated margin."""
    out = {}
    for name, run in layout.runs(seed).items():
        loss = RunDir(run).read_config().get("loss", {})
        if loss.get("kind") == "cement" and loss.get("schedule") == "calibrated":
            out[name] = run
    return out


def paper_figures(out: Path, seed: int, config, labels: dict[str, str] | None = None,
                  batch_sizes=BATCH_SIZES) -> str:
    """Figs. 2-4 of a demo folder's runs of ``seed`` into ``out`` (``imbalance.png``/``.json``,
    ``gradient_magnitudes.png``, ``margin_fit.png``), each drawn where its runs exist; returns the
    Markdown that links them (empty if none could be drawn)."""
    from ..plots import plot_gradient_magnitudes, plot_imbalance, plot_margin_fit, run_label

    layout, labels, md = DemoLayout(out), labels or {}, []
    runs = layout.runs(seed)
    calibrated = calibrated_runs(layout, seed)
    fig3 = {m: runs[m] for m in FIG3_METHODS if m in runs} | calibrated
    if len(fig3) >= 2:
        names = list(fig3)
        plot_gradient_magnitudes([fig3[m] for m in names], out / "gradient_magnitudes.png",
                                 [f"{labels.get(m, m)}: {run_label(fig3[m])}" for m in names])
        md.append("Fig. 3, the gradient w.r.t. s_ii, s_ii' and Σ_j s_ij over training (1/τ included; dotted: "
                  "the mean over the steps): [gradient_magnitudes.png](gradient_magnitudes.png)")
    if calibrated:
        plot_margin_fit(next(iter(calibrated.values())), out / "margin_fit.png")
        md.append("Fig. 4, the calibrated margin's LOESS fits of the similarities against concreteness: "
                  "[margin_fit.png](margin_fit.png)")
    from .protocol import METHODS

    planted = METHODS["slipform"].negatives  # the Slipform row's negatives (the selected variant's)
    negatives = {label: layout.negatives(kind, seed) for kind, label in ((planted, "ConcretePlant"),
                                                                         ("swap", "NegCLIP swaps"))
                 if layout.negatives(kind, seed).exists()}
    pretrained, rows = _pretrained_checkpoint(runs), []
    if negatives and pretrained is not None:
        data = Path(RunDir(next(iter(runs.values()))).read_config()["data"]["image_root"])
        feats = world_features(pretrained, data, negatives, max(batch_sizes), config, seed)
        sizes = [b for b in batch_sizes if b <= len(feats[0])]  # a small world has fewer pairs
        rows = batch_imbalance(*feats, batch_sizes=sizes, seed=seed) if sizes else []
    if rows:
        (out / "imbalance.json").write_text(json.dumps({"checkpoint": str(pretrained), "rows": rows}, indent=1))
        plot_imbalance(rows, out / "imbalance.png")
        md.append("Fig. 2, the hard/easy gradient imbalance against batch size, with and without hard negatives "
                  "(the pretrained model): [imbalance.png](imbalance.png)\n\n" + imbalance_table(rows))
    return "".join(f"\n{line}\n" for line in md)


def _pretrained_checkpoint(runs: dict[str, Path]) -> Path | None:
    """The checkpoint the fine-tunes started from (every run of the demo starts from the same)."""
    for run in runs.values():
        pretrained = RunDir(run).read_config().get("model", {}).get("pretrained")
        if pretrained and Path(pretrained).exists():
            return Path(pretrained)
    return None


def imbalance_table(rows: list[dict]) -> str:
    """Markdown: easy/hard gradient ratio by batch size (rows) and negatives (columns)."""
    settings = list(dict.fromkeys(r["negatives"] for r in rows))
    sizes = sorted({r["batch_size"] for r in rows})
    cell = {(r["batch_size"], r["negatives"]): r for r in rows}
    head = "| batch | " + " | ".join(f"easy/hard, {s}" for s in settings) + " |"
    lines = [head, "|---" * (len(settings) + 1) + "|"]
    for b in sizes:
        vals = [cell[(b, s)]["ratio"] for s in settings]
        lines.append(f"| {b} | " + " | ".join("-" if math.isnan(v) else f"{v:.1f}" for v in vals) + " |")
    return "\n".join(lines) + "\n"


__all__ = ["BATCH_SIZES", "batch_imbalance", "calibrated_runs", "imbalance_table", "paper_figures",
           "world_features"]
