"""FSC-CLIP's hard-negative losses (Oh et al., 2024): CLIP + a focal, label-smoothed (1+K)-way
choice between each caption and its own negatives, on global features and on token-patch
(local) scores.

Global (HN): for each image i with at least one valid negative, the logits t·[s_ii, s_i1, .., s_iK]
over its caption and its own negatives (missing ones left out) give probabilities q; with n_i
valid negatives the target is label-smoothed, y_0 = 1 - ε + ε/(1+n_i) and y_h = ε/(1+n_i), and
each class is weighted by the focal factor (Lin et al., 2017)::

    HN_i = Σ_c y_c · (1 - q_c)^γ · (-log q_c)

Local (LHN): a caption c (its word tokens w_1..w_L in the joint space, L valid: the words and
the end token) and the image's patches p_1..p_P (joint space) score, per token, the patches
by a_lj = minmax_j(w_l · p_j) (rescaled to [0, 1] over the patches, then to sum 1; softmax
with ``sim_normalizer="softmax"``; a constant of the loss, no gradient), pool them into
v_l = normalise(Σ_j a_lj p_j), and aggregate ``S(i, c) = logsumexp_l t·cos(w_l, v_l)``. The
same focal choice over [S(i, caption), S(i, negative_1..K)] gives LHN_i::

    L = CLIP(I, T) + λ · mean_i HN_i + μ · mean_i LHN_i

CLIP here is the plain symmetric InfoNCE without the negatives (FSC-CLIP separates the two).
Defaults are the authors' COCO recipe (their README: ``--neg-loss-name focal_loss
--focal-gamma 2.0 --neg-label-smoothing 0.02 --neg-loss-weight 0.5 --local-neg-weight 0.2``,
``--sim-normalizer minmax`` without ``--sim-sparsify``); the formulas are read from
github.com/ytaek-oh/fsc-clip (``src/training/losses/loss.py``: ``Global_HNLoss``,
``Local_HNLoss``, ``_focal_loss_with_nsr``; ``src/open_clip/model.py`` for the token features).

Where ours differs, and why: (1) a missing negative is left out of the choice, where theirs is
a zero feature or score (logit 0) still in the softmax: "missing" should not be a class. (2) Both
terms are averaged over the global batch's rows with a negative, each rank scoring its own
rows (:func:`~.base.global_mean`); theirs averages each rank's own rows, so 2 processes equal 1
here and not there. (3) A token whose similarities are equal over all patches (always, for a 1x1
grid such as the world's 48 px ResNet) gets uniform weights where min-max would divide 0 by 0;
masked tokens are filled rather than added to -inf (no NaN can leak). (4) Patches of a
ModifiedResNet (which their code does not support) are the attention pool's value-output
projection of the last grid (:func:`slipform.models._resnet_tokens`). ``local_weight=0`` is the
global loss alone, and the trainer then computes no token features. Memory per rank (local batch n
of a global N): CLIP's (n, N) logits each way, (n, 1+K) for HN, and the (n(1+K), L, P)
token-patch similarities with a copy of the patches per text, (n(1+K), P, D) (ViT-B/32,
n = 256, K = 1: 51 MB in fp32); nothing of the hard-negative terms is gathered.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from .base import Loss, LossConfig, global_mean, has_negatives
from .contrastive import ContrastiveLoss


@dataclass(frozen=True)
class FscClipOptions:
    neg_weight: float = 0.5  # λ, --neg-loss-weight in the authors' recipe
    focal_gamma: float = 2.0  # γ, --focal-gamma
    label_smoothing: float = 0.02  # ε, --neg-label-smoothing
    local_weight: float = 0.2  # μ, --local-neg-weight (0: the global loss alone)
    sim_normalizer: str = "minmax"  # --sim-normalizer: "minmax" or "softmax"
    sim_sparsify: bool = False  # --sim-sparsify: min-max weights below 1/P set to 0

    def __post_init__(self):
        if not 0.0 <= self.label_smoothing < 1.0 or self.focal_gamma < 0:
            raise ValueError("fsc_clip: label_smoothing must lie in [0, 1) and focal_gamma be >= 0")
        if self.sim_normalizer not in ("minmax", "softmax") or self.local_weight < 0:
            raise ValueError("fsc_clip: sim_normalizer must be 'minmax' or 'softmax' and local_weight be >= 0")


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


def local_scores(patches: torch.Tensor, words: torch.Tensor, mask: torch.Tensor, logit_scale,
                 normalizer: str = "minmax", sparsify: bool = False) -> torch.Tensor:
    """FSC-CLIP's aggregated token-patch score S of each (image, text) row: patches (m, P, D),
    words (m, L, D) (both unnormalised, joint space), mask (m, L) bool with a valid token in
    every row; (m,)."""
    with torch.no_grad():  # which patches each token looks at: a constant, as the authors' detach
        sim = torch.einsum("mld,mpd->mlp", words, patches).float()
        if normalizer == "softmax":
            weights = sim.softmax(-1)
        else:
            lo, hi = sim.amin(-1, keepdim=True), sim.amax(-1, keepdim=True)
            span = hi - lo
            weights = torch.where(span > 0, (sim - lo) / span.clamp_min(torch.finfo(sim.dtype).tiny), 1.0)
            if sparsify:
                weights = weights.masked_fill(weights < 1.0 / patches.shape[1], 0.0)
            weights = weights / weights.sum(-1, keepdim=True)
    pooled = F.normalize(torch.einsum("mlp,mpd->mld", weights.to(patches.dtype), patches), dim=-1)
    cos = (pooled * F.normalize(words, dim=-1)).sum(-1)  # (m, L)
    return (logit_scale * cos).masked_fill(~mask, float("-inf")).logsumexp(1)


class FscClipLoss(Loss):
    """CLIP + the focal, label-smoothed global and local hard-negative losses (module docstring)."""

    name = "fsc_clip"
    paper = ("Oh et al., 2024. Preserving Multi-Modal Capabilities of Pre-trained VLMs for Improving "
             "Vision-Linguistic Compositionality (global and local HN losses)")
    summary = "CLIP + focal, label-smoothed choice of each caption over its own negatives, globally and token-patch"
    Options = FscClipOptions
    needs_tokens = True

    def __init__(self, config: LossConfig | None = None):
        super().__init__(config)
        self.clip = ContrastiveLoss(replace(self.config, kind="clip", options={}))
        self.needs_tokens = self.options.local_weight > 0  # per instance: no token features at weight 0

    def forward(self, image_features, text_features, logit_scale, hard_text_features=None, hard_mask=None,
                concreteness=None, image_negatives=None, image_negative_mask=None, logit_bias=None,
                image_tokens=None, text_tokens=None, text_token_mask=None, hard_text_tokens=None,
                hard_text_token_mask=None) -> dict:
        """See :meth:`Loss.forward`; keys ``loss_clip``, ``loss_hard_negatives`` and, given the
        token features and ``local_weight > 0``, ``loss_local_hard_negatives``."""
        out = self.clip(image_features, text_features, logit_scale)
        out["loss_clip"] = out["loss"]
        if not has_negatives(hard_text_features, hard_mask):
            return out
        # each row's choice is between its own caption and negatives: every rank scores its own
        # rows, and global_mean makes each term the global batch's mean (module docstring)
        mask = hard_mask.to(torch.bool)
        rows = mask.any(1)
        valid = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)[rows]
        cand = torch.cat([text_features[:, None], hard_text_features], dim=1)[rows]  # (m, 1+K, D)
        logits = logit_scale * torch.einsum("md,mcd->mc", image_features[rows], cand)
        per_row = focal_smoothed_choice(logits, valid, self.options.focal_gamma, self.options.label_smoothing)
        out["loss_hard_negatives"] = global_mean(per_row.sum(), rows.sum())
        out["loss"] = out["loss_clip"] + self.options.neg_weight * out["loss_hard_negatives"]
        if self.options.local_weight > 0 and image_tokens is not None and hard_text_tokens is not None:
            local = self._local(image_tokens, text_tokens, text_token_mask, hard_text_tokens, hard_text_token_mask,
                                logit_scale, rows, valid)
            out["loss_local_hard_negatives"] = local
            out["loss"] = out["loss"] + self.options.local_weight * local
        return out

    def _local(self, patches, words, word_mask, hard_words, hard_word_mask, logit_scale, rows, valid):
        """LHN: the global batch's mean, over its rows with a negative, of the focal choice on local
        scores; each rank scores its own rows."""
        n, k = hard_words.shape[:2]
        opt = self.options
        scores = local_scores(patches.repeat_interleave(1 + k, dim=0),
                              torch.cat([words[:, None], hard_words], 1).flatten(0, 1),
                              torch.cat([word_mask[:, None], hard_word_mask], 1).flatten(0, 1).to(torch.bool),
                              logit_scale, opt.sim_normalizer, opt.sim_sparsify).view(n, 1 + k)
        per_row = focal_smoothed_choice(scores[rows], valid, opt.focal_gamma, opt.label_smoothing)
        return global_mean(per_row.sum(), rows.sum())


LOSSES = (FscClipLoss,)
