"""FSC-CLIP's global hard-negative loss (Oh et al., 2024): CLIP + a focal, label-smoothed
(1+K)-way choice between each caption and its own negatives.

For each image i with at least one valid negative, the logits t·[s_ii, s_i1, .., s_iK] over its
caption and its own negatives (missing ones left out) give probabilities q; with n_i valid
negatives the target is label-smoothed, y_0 = 1 - ε + ε/(1+n_i) and y_h = ε/(1+n_i), and each
class is weighted by the focal factor (Lin et al., 2017)::

    HN_i = Σ_c y_c · (1 - q_c)^γ · (-log q_c)
    L    = CLIP(I, T) + λ · mean_i HN_i

CLIP here is the plain symmetric InfoNCE without the negatives (FSC-CLIP separates the two).
Defaults are the authors' COCO recipe (their README: ``--neg-loss-name focal_loss
--focal-gamma 2.0 --neg-label-smoothing 0.02 --neg-loss-weight 0.5``); the formula is read
from github.com/ytaek-oh/fsc-clip (``src/training/losses/loss.py``, ``Global_HNLoss`` and
``_focal_loss_with_nsr``), where a missing negative is a zero feature (logit 0) rather than
left out. Not implemented: the local token-patch loss (LHN, weight 0.2 in their recipe), which
needs token and patch features from the towers. Memory: the (N, N) CLIP logits plus (N, 1+K).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from .base import Loss, LossConfig, gather, gather_hard, replicated
from .contrastive import ContrastiveLoss


@dataclass(frozen=True)
class FscClipOptions:
    neg_weight: float = 0.5  # λ, --neg-loss-weight in the authors' recipe
    focal_gamma: float = 2.0  # γ, --focal-gamma
    label_smoothing: float = 0.02  # ε, --neg-label-smoothing

    def __post_init__(self):
        if not 0.0 <= self.label_smoothing < 1.0 or self.focal_gamma < 0:
            raise ValueError("fsc_clip: label_smoothing must lie in [0, 1) and focal_gamma be >= 0")


def focal_smoothed_choice(logits: torch.Tensor, valid: torch.Tensor, gamma: float, smoothing: float) -> torch.Tensor:
    """Per row, Σ_c y_c (1 - q_c)^γ (-log q_c) with target class 0 label-smoothed over the
    row's valid classes. logits (M, C), valid (M, C) bool with column 0 always valid; (M,)."""
    # a missing class leaves the softmax (-inf); then a finite stand-in for its log q, weighted 0,
    # keeps inf * 0 out of the backward pass
    logq = logits.masked_fill(~valid, float("-inf")).log_softmax(dim=1).masked_fill(~valid, -1.0)
    share = smoothing / valid.sum(1, keepdim=True)  # ε / (1 + n_i)
    target = share.expand_as(logits).masked_fill(~valid, 0.0).clone()
    target[:, 0] += 1.0 - smoothing
    per_class = (1 - logq.exp()).pow(gamma) * -logq
    return (target * per_class).sum(1)


class FscClipLoss(Loss):
    """CLIP + the focal, label-smoothed global hard-negative loss (module docstring)."""

    name = "fsc_clip"
    paper = ("Oh et al., 2024. Preserving Multi-Modal Capabilities of Pre-trained VLMs for Improving "
             "Vision-Linguistic Compositionality (global HN loss)")
    summary = "CLIP + focal, label-smoothed choice of each caption over its own negatives"
    Options = FscClipOptions

    def __init__(self, config: LossConfig | None = None):
        super().__init__(config)
        self.clip = ContrastiveLoss(replace(self.config, kind="clip", options={}))

    def forward(self, image_features, text_features, logit_scale, hard_text_features=None, hard_mask=None,
                concreteness=None, image_negatives=None, image_negative_mask=None, logit_bias=None) -> dict:
        """See :meth:`Loss.forward`; keys ``loss_clip`` and ``loss_hard_negatives``."""
        out = self.clip(image_features, text_features, logit_scale)
        out["loss_clip"] = out["loss"]
        if hard_text_features is None or hard_mask is None:
            return out
        logit_scale = replicated(logit_scale)
        images, texts = gather(image_features), gather(text_features)
        hard, mask = gather_hard(hard_text_features, hard_mask)
        rows = mask.any(1)
        if not bool(rows.any()):
            term = images.sum() * 0.0
        else:
            cand = torch.cat([texts[:, None], hard], dim=1)[rows]  # (M, 1+K, D): caption, then its negatives
            logits = logit_scale * torch.einsum("md,mcd->mc", images[rows], cand)
            valid = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)[rows]
            term = focal_smoothed_choice(logits, valid, self.options.focal_gamma, self.options.label_smoothing).mean()
        out["loss_hard_negatives"] = term
        out["loss"] = out["loss_clip"] + self.options.neg_weight * term
        return out


LOSSES = (FscClipLoss,)
