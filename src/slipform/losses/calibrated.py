"""Cement's calibrated margin: the margin of a hard negative read from a curve of how hard the
negatives of each concreteness turn out to be for the model being trained, refitted as it trains.

What the paper says (its body is not available to us; these are its abstract, project page and
Fig. 4 caption): Cement "dynamically calibrates the penalization applied to individual training
pairs" by "correlating psycholinguistic scores with sample difficulty", through "an adaptive
margin that controls gradient magnitude"; Fig. 4 shows "Estimated similarity scores w.r.t. c_i.
Curves are fitted with LOESS." Our reading, and the rule below, are ours.

**Estimate** ("estimated similarity scores w.r.t. c_i"). Every training batch adds, for each
image i and each of its own valid hard negatives i' whose changed word is rated (c_i' in 1-5),
one sample (c, s_ii, s_ii', s_easy): the cosine of the image to its caption, to that negative,
and its mean cosine to the other captions of the batch (the easy negatives). The last
``calibration_window`` samples are kept. Every ``refresh_every`` optimizer steps the trainer calls
:meth:`CalibratedMargin.refresh`, which fits the three against c with LOESS (statsmodels'
``lowess``, locally linear, ``loess_frac`` of the samples per local fit, 3 robustifying
iterations) and evaluates them on a grid of c over [1, 5] (flat beyond the smallest and largest
c seen): ŝ_pos(c), ŝ_neg(c), ŝ_easy(c).

**Difficulty** ("sample difficulty"): where between a random caption and the true caption the
hard negative of concreteness c sits, on average, for this model now::

    d(c) = clip( (ŝ_neg(c) - ŝ_easy(c)) / (ŝ_pos(c) - ŝ_easy(c)), 0, 1 )

0: the model already tells such negatives from the caption as well as it tells a random caption;
1: it cannot tell them from the caption at all. d has no unit, so the rule does not depend on the
scale of the cosines (which differ between a CLIP ViT-B/32 and the world's small model).

**Margin** ("adaptive margin that controls gradient magnitude")::

    m(c) = margin_min + (margin_max - margin_min) · d(c)

A margin m on negative i' multiplies its softmax weight, which is its gradient (dl/dz_ii' =
p_ii'), by e^{m/τ} against the in-batch easy negatives that otherwise take most of the gradient
(the imbalance of the paper's Figs. 2-3). The calibrated rule spends that boost where the model
still confuses the negatives of a concreteness level with their captions, and none where it
already separates them as well as random captions: the penalization of each pair follows the
measured difficulty of its concreteness, not a slope fixed in advance. The linear ramp
(``schedule="adaptive"``, alias ``"linear"``) assumes instead that difficulty-to-learn rises with
c; the calibrated margin starts from that ramp (until the first fit) and then follows the data.
``margin_min``/``margin_max`` bound both, so the two schedules are compared at the same scale.
A negative whose changed word is unrated (NaN) adds no sample and gets the margin of
``default_concreteness``; with no rated negatives at all (or fewer than 3 distinct c, or under
:data:`MIN_SAMPLES`) nothing is fitted and the ramp stays.

As training separates a level's negatives, its d and margin fall: the calibrated margin fades
towards NegCLIP where there is nothing left to push, which a fixed ramp never does.

Exactness: the fitted state (the sample window, the margin table, every fit's curves) is this
module's ``get_extra_state`` (``margin._extra_state`` in the loss's ``state_dict``), saved in the trainer's checkpoint as tensors and plain numbers
(``torch.load(weights_only=True)`` reads it), so a resumed run continues bitwise as an unbroken
one. Under DDP each rank's samples are all-gathered in rank order before they enter the window,
so every rank holds the same window, fits the same curve and uses the same margins, and the
window is the one a single process on the global batch would hold.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .base import gather, margin_fn

GRID_POINTS = 33  # c = 1, 1.125, ..., 5
MIN_SAMPLES = 32  # fewer rated samples (or under 3 distinct c): the previous table is kept
FIELDS = ("c", "pos", "neg", "easy")  # the columns of a window sample


def grid() -> torch.Tensor:
    """The concreteness values at which the curves and the margin table are kept (float64)."""
    return torch.linspace(1.0, 5.0, GRID_POINTS, dtype=torch.float64)


def fit_curve(c: np.ndarray, s: np.ndarray, frac: float, at: np.ndarray) -> np.ndarray:
    """LOESS of ``s`` against ``c`` (statsmodels' ``lowess``) evaluated at ``at``, held flat
    beyond the range of ``c`` (no extrapolation of a local line)."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    xs = np.clip(at, c.min(), c.max())
    return np.asarray(lowess(s, c, frac=frac, it=3, xvals=xs), dtype=np.float64)


def difficulty(pos: torch.Tensor, neg: torch.Tensor, easy: torch.Tensor) -> torch.Tensor:
    """d = clip((neg - easy) / (pos - easy), 0, 1); 1 where the caption is no closer than a
    random caption (pos <= easy: nothing is told apart)."""
    span = pos - easy
    d = (neg - easy) / span.clamp(min=1e-12)
    return torch.where(span > 0, d, torch.ones_like(d)).clamp(0.0, 1.0)


def interpolate(table: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear reading of a table on :func:`grid` at concreteness ``c`` (any shape)."""
    pos = (c.clamp(1.0, 5.0) - 1.0) * ((GRID_POINTS - 1) / 4.0)
    lo = pos.floor().long().clamp(0, GRID_POINTS - 2)
    frac = pos - lo.to(pos.dtype)
    t = table.to(device=c.device, dtype=c.dtype)
    return t[lo] * (1 - frac) + t[lo + 1] * frac


class CalibratedMargin(torch.nn.Module):
    """The margin m(c) of ``schedule="calibrated"`` (module docstring): call it on a tensor of
    concreteness (1-5) for the margins; :meth:`observe` adds a batch's samples, :meth:`refresh`
    refits the curves every ``refresh_every`` steps.

        >>> margin = CalibratedMargin(LossConfig("cement", schedule="calibrated"))
        >>> margin.observe(c, s_pos, s_neg, s_easy, mask)   # (n, K) each; gathered over ranks
        >>> margin.refresh(step)                           # the trainer, after each step
        >>> m = margin(c)                                  # the ramp until the first fit
    """

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.prior = margin_fn(config)  # the linear ramp until the first fit
        self.window = torch.full((config.calibration_window, len(FIELDS)), math.nan, dtype=torch.float64)
        self.next, self.seen = 0, 0  # ring position; samples observed in all
        self.table: torch.Tensor | None = None  # margins on grid()
        self.history: list[dict] = []  # every fit: step, samples, c range and the curves on grid()

    # -- the margin
    def forward(self, c: torch.Tensor) -> torch.Tensor:
        return self.prior(c) if self.table is None else interpolate(self.table, c)

    # -- the estimate
    @torch.no_grad()
    def observe(self, c: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, easy: torch.Tensor,
                mask: torch.Tensor) -> None:
        """Add this rank's samples, and every other rank's (a collective: every rank calls it).

        Args: ``c`` (n, K) concreteness, NaN if unrated; ``pos`` (n,) s_ii; ``neg`` (n, K) s_ii';
        ``easy`` (n,) each image's mean cosine to the other captions; ``mask`` (n, K) valid negatives.
        """
        k = neg.shape[1]
        rows = torch.stack([c.double(), pos.double()[:, None].expand(-1, k), neg.double(),
                            easy.double()[:, None].expand(-1, k),
                            mask.to(torch.bool).double()], dim=-1)  # (n, K, 5)
        rows = gather(rows.contiguous()).reshape(-1, 5).cpu()  # rank order: the global batch's row order
        keep = (rows[:, 4] > 0) & torch.isfinite(rows[:, :4]).all(1)
        self._append(rows[keep, :4])

    def _append(self, samples: torch.Tensor) -> None:
        w, observed = self.window.shape[0], len(samples)
        samples = samples[-w:]  # a batch larger than the window: its last w samples are kept
        idx = (self.next + torch.arange(len(samples))) % w
        self.window[idx] = samples
        self.next, self.seen = (self.next + len(samples)) % w, self.seen + observed

    def samples(self) -> torch.Tensor:
        """The window's samples, oldest first, (S, 4): c, s_ii, s_ii', s_easy."""
        order = torch.cat([torch.arange(self.next, self.window.shape[0]), torch.arange(self.next)])
        rows = self.window[order]
        return rows[torch.isfinite(rows[:, 0])]

    def fit(self, step: int) -> bool:
        """Fit the curves on the window and set the margin table; False (nothing changes) with
        under :data:`MIN_SAMPLES` samples or fewer than 3 distinct concreteness values."""
        rows = self.samples().numpy()
        if len(rows) < MIN_SAMPLES or len(np.unique(rows[:, 0])) < 3:
            return False
        at = grid().numpy()
        pos, neg, easy = (torch.from_numpy(fit_curve(rows[:, 0], rows[:, j], self.config.loess_frac, at))
                          for j in (1, 2, 3))
        d = difficulty(pos, neg, easy)
        cfg = self.config
        self.table = cfg.margin_min + (cfg.margin_max - cfg.margin_min) * d
        self.history.append({"step": int(step), "samples": len(rows), "c_min": float(rows[:, 0].min()),
                             "c_max": float(rows[:, 0].max()), "pos": pos, "neg": neg, "easy": easy,
                             "difficulty": d, "margin": self.table.clone()})
        return True

    def refresh(self, step: int) -> bool:
        """The trainer's call after optimizer step ``step`` (1-based): refit every ``refresh_every``."""
        return step % self.config.refresh_every == 0 and self.fit(step)

    # -- checkpoint: tensors and plain numbers only (weights_only=True)
    def get_extra_state(self) -> dict:
        return {"window": self.window.clone(), "next": self.next, "seen": self.seen,
                "table": self.table.clone() if self.table is not None else torch.zeros(0, dtype=torch.float64),
                "history": [dict(h) for h in self.history]}

    def set_extra_state(self, state: dict) -> None:
        if tuple(state["window"].shape) != tuple(self.window.shape):
            raise ValueError(f"the checkpoint's calibration window holds {state['window'].shape[0]} samples, "
                             f"this run's calibration_window is {self.window.shape[0]}: resume with the same setting")
        self.window = state["window"].clone()
        self.next, self.seen = int(state["next"]), int(state["seen"])
        self.table = state["table"].clone() if state["table"].numel() else None
        self.history = [dict(h) for h in state["history"]]

    def summary(self) -> dict:
        """Every fit as JSON-ready lists (the run folder's ``margin_fit.json``, Fig. 4)."""
        return {"grid": grid().tolist(), "margin_min": self.config.margin_min, "margin_max": self.config.margin_max,
                "loess_frac": self.config.loess_frac, "refresh_every": self.config.refresh_every,
                "window": self.window.shape[0], "samples_seen": self.seen,
                "fits": [{k: v.tolist() if isinstance(v, torch.Tensor) else v for k, v in h.items()}
                         for h in self.history],
                "last_samples": self.samples().tolist()}


__all__ = ["FIELDS", "GRID_POINTS", "MIN_SAMPLES", "CalibratedMargin", "difficulty", "fit_curve", "grid",
           "interpolate"]
