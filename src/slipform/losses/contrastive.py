"""Contrastive losses with hard negatives: ``clip``, ``negclip`` and ``cement``.

Notation: a batch of N images with features ``image_features`` (N, D) and their captions
``text_features`` (N, D), all L2-normalised; each caption may carry up to K hard-negative
captions ``hard_text_features`` (N, K, D) with a validity ``hard_mask`` (N, K) and the
concreteness of each negative's changed word ``concreteness`` (N, K), 1-5, NaN if unrated.
s are cosine similarities and τ the temperature (``logit_scale`` = 1/τ).

- ``clip`` -- symmetric InfoNCE (Radford et al., 2021).
- ``negclip`` -- NegCLIP (Yuksekgonul et al., 2023): the image->text rows score the N
  captions plus all N*K hard negatives as extra columns; text->image is as in CLIP.
- ``cement`` -- ``negclip`` in which each image's *own* hard negatives get an additive
  margin m_i before the softmax::

      l_i = -log( e^{s_ii/τ} / ( e^{s_ii/τ} + Σ_{j≠i} e^{s_ij/τ} + Σ_{h∈H(i)} e^{(s_ih + m_i)/τ} ) )

  with m_i = m(c_i). A margin on a negative's logit demands that the positive beat it by
  at least m_i in cosine, and raises that negative's share of the softmax, hence of the
  gradient, against the many easy in-batch negatives that otherwise dominate it (the
  gradient imbalance). The paper describes Cement as a margin-based InfoNCE that
  "correlates psycholinguistic scores with sample difficulty"; its exact equation was not
  available to us, so this formulation and its defaults are ours. By default (``adaptive``)
  the margin grows linearly with concreteness, m_i = m_min + (m_max - m_min)(c_i - 1)/4:
  a change of a concrete word is visible in the image, so the model can and should separate
  it by more; an abstract change may not be visible at all, and a large margin would ask
  for the impossible. ``inverse`` is the opposite slope (for ablations), ``static`` a
  constant m, or pass any callable ``c -> m`` (tensor in, tensor out).

Image hard negatives (TripletCLIP, Patel et al., 2024): an edited image per caption that
matches the caption's hard negative; each adds an image->text row whose target is its own
negative caption.

Under ``torch.distributed`` features are gathered from all ranks with the local slice kept
in the autograd graph, and every rank computes the loss of the whole global batch. Each
rank therefore holds the gradient of its own features only; DDP averages gradients over
ranks, so the trainer backpropagates ``loss * world_size`` (see :func:`ddp_scale`) to get
exactly the gradient of one process on the global batch. Memory per rank: the global
logits, (N, N + N*K) image->text and (N, N) text->image for a global batch of N with K
negatives each (see :mod:`slipform.losses.base` for the bound and open_clip's ``local_loss``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import torch
import torch.nn.functional as F

from .base import Loss, LossConfig, gather, margin_fn, replicated

KINDS = ("clip", "negclip", "cement")


# --------------------------------------------------------------------------- the loss

class ContrastiveLoss(Loss):
    """``clip``, ``negclip`` or ``cement`` (``config.kind``); returns a dict with ``loss`` and diagnostics.

    Shapes: image_features (N, D), text_features (N, D), hard_text_features (N, K, D),
    hard_mask (N, K) bool, concreteness (N, K) float, image_negatives (N, D) with
    image_negative_mask (N,) bool. All features L2-normalised. ``logit_scale`` is 1/τ
    (already exponentiated).
    """

    negatives = "text+image"

    def __init__(self, config: LossConfig | None = None, margin: Callable | None = None):
        config = config or LossConfig(self.name or "cement")
        if config.kind not in KINDS:
            raise ValueError(f"ContrastiveLoss computes {KINDS}, not {config.kind!r}; use slipform.losses.build_loss")
        super().__init__(config)
        self.margin = margin or margin_fn(config)

    def get_logits(self, image_features, text_features, logit_scale, hard_text_features=None, hard_mask=None,
                   concreteness=None):
        """Global logits: ``logits_per_image`` (N, N + N*K), ``logits_per_text`` (N, N)."""
        all_images, all_texts = gather(image_features), gather(text_features)
        n = all_images.shape[0]
        logits_per_text = logit_scale * all_texts @ all_images.T
        logits_per_image = logit_scale * all_images @ all_texts.T
        if self.config.kind == "clip" or hard_text_features is None:
            return logits_per_image, logits_per_text, None
        all_hard = gather(hard_text_features)  # (N, K, D)
        mask = gather(hard_mask.to(torch.bool))
        k = all_hard.shape[1]
        hard_sims = all_images @ all_hard.reshape(n * k, -1).T  # (N, N*K): every image vs every negative
        rows = torch.arange(n, device=hard_sims.device).repeat_interleave(k)
        cols = torch.arange(n * k, device=hard_sims.device)
        own = torch.zeros(n, n * k, dtype=torch.bool, device=hard_sims.device)
        own[rows, cols] = mask.reshape(-1)  # image i's own negatives: columns i*K .. i*K+K-1
        if self.config.kind == "cement":
            with torch.no_grad():  # margins are constants of the loss: no graph for them
                c = gather(concreteness.to(hard_sims.dtype)) if concreteness is not None else \
                    torch.full(mask.shape, math.nan, device=hard_sims.device, dtype=hard_sims.dtype)
                margins = self.margin(torch.nan_to_num(c, nan=self.config.default_concreteness)).reshape(-1)
            # only the N*K own entries get a margin: O(N*K) work, not a full (N, N*K) matrix; in place,
            # which autograd allows because the matrix product does not keep its output for backward
            hard_sims.index_put_((rows, cols), margins, accumulate=True)
        # a missing negative (masked) must not enter any softmax
        valid = mask.reshape(1, n * k).expand(n, n * k)
        hard_logits = (logit_scale * hard_sims).masked_fill(~valid, float("-inf"))
        return torch.cat([logits_per_image, hard_logits], dim=1), logits_per_text, own

    def forward(self, image_features, text_features, logit_scale, hard_text_features=None, hard_mask=None,
                concreteness=None, image_negatives=None, image_negative_mask=None, logit_bias=None) -> dict:
        """See :meth:`slipform.losses.base.Loss.forward`; keys ``loss``, ``loss_i2t``, ``loss_t2i``,
        ``loss_image_negatives`` (with edited images) and the gradient shares ``grad_pos``,
        ``grad_hard``, ``grad_easy`` (:func:`gradient_shares`). Memory: the (N, N + N*K) global logits."""
        logit_scale = replicated(logit_scale)
        logits_per_image, logits_per_text, own = self.get_logits(
            image_features, text_features, logit_scale, hard_text_features, hard_mask, concreteness)
        n = logits_per_text.shape[0]
        labels = torch.arange(n, device=logits_per_text.device)
        loss_i2t = F.cross_entropy(logits_per_image, labels)
        loss_t2i = F.cross_entropy(logits_per_text, labels)
        out = {"loss_i2t": loss_i2t, "loss_t2i": loss_t2i, "loss": (loss_i2t + loss_t2i) / 2}
        if image_negatives is not None and own is not None and image_negative_mask is not None:
            out["loss_image_negatives"] = self._image_negative_loss(
                image_negatives, image_negative_mask, text_features, hard_text_features, hard_mask, logit_scale)
            out["loss"] = out["loss"] + self.config.image_negative_weight * out["loss_image_negatives"]
        out.update(gradient_shares(logits_per_image.detach(), own))
        return out

    def _image_negative_loss(self, image_negatives, image_negative_mask, text_features, hard_text_features,
                             hard_mask, logit_scale):
        """Rows for edited images: each must pick its own (first) negative caption among all captions
        and all existing negatives (a missing negative enters no softmax, as in the image rows)."""
        negs, neg_ok = gather(image_negatives), gather(image_negative_mask.to(torch.bool))
        texts, hard = gather(text_features), gather(hard_text_features)
        mask = gather(hard_mask.to(torch.bool))
        ok = neg_ok & mask[:, 0]
        if not bool(ok.any()):
            return (negs.sum() * 0.0)
        n, k = hard.shape[:2]
        columns = torch.cat([texts, hard.reshape(n * k, -1)], dim=0)
        exists = torch.cat([torch.ones(n, dtype=torch.bool, device=mask.device), mask.reshape(-1)])
        logits = (logit_scale * negs[ok] @ columns.T).masked_fill(~exists, float("-inf"))
        targets = n + torch.nonzero(ok).squeeze(1) * k
        return F.cross_entropy(logits, targets)


def gradient_shares(logits_per_image: torch.Tensor, own: torch.Tensor | None) -> dict:
    """How the image->text gradient splits between positive, hard and easy negatives.

    For softmax cross-entropy, dl_i/dz_ij = p_ij - [j = i]. Per anchor row i we report
    ``grad_pos`` = |p_ii - 1|, ``grad_hard`` = p_ih averaged over i's own hard negatives,
    and ``grad_easy`` = the sum of p_ij over all other columns (the in-batch captions and
    other images' negatives), each averaged over rows. Under InfoNCE grad_easy dwarfs
    grad_hard; Cement's margins shift weight to the hard negatives.
    """
    p = logits_per_image.float().softmax(dim=1)
    n = p.shape[0]
    diag = p[torch.arange(n), torch.arange(n)]
    out = {"grad_pos": (1 - diag).mean()}
    if own is None:
        out["grad_easy"] = (p[:, :n].sum(1) - diag).mean()
        out["grad_hard"] = torch.tensor(float("nan"))
        return out
    own_full = torch.zeros_like(p, dtype=torch.bool)
    own_full[:, n:] = own
    hard = p[own_full]
    out["grad_hard"] = hard.mean() if hard.numel() else torch.tensor(float("nan"))
    out["grad_easy"] = (p.masked_fill(own_full, 0).sum(1) - diag).mean()
    return out


class _Named(ContrastiveLoss):
    def __init__(self, config: LossConfig | None = None, margin: Callable | None = None):
        super().__init__(replace(config, kind=self.name) if config is not None else LossConfig(self.name), margin)


class ClipLoss(_Named):
    """Symmetric InfoNCE over the batch; hard negatives, if any, are ignored."""

    name, negatives = "clip", "none"
    paper = "Radford et al., 2021. Learning Transferable Visual Models From Natural Language Supervision"
    summary = "symmetric InfoNCE (CLIP fine-tuning, the baseline)"


class NegClipLoss(_Named):
    """Image->text rows score the N captions plus all N*K negatives; text->image as CLIP."""

    name = "negclip"
    paper = "Yuksekgonul et al., 2023. When and why vision-language models behave like bags-of-words"
    summary = "InfoNCE with every negative caption as an extra image->text column"
    config_fields = ("image_negative_weight",)


class CementLoss(_Named):
    """NegCLIP with the concreteness margin m(c) on each image's own negatives (module docstring)."""

    name = "cement"
    paper = "Cement: concreteness-margin InfoNCE (this repository's formulation; see slipform.losses.contrastive)"
    summary = "NegCLIP with an additive margin growing with the changed word's concreteness"
    config_fields = ("schedule", "margin", "margin_min", "margin_max", "default_concreteness",
                     "image_negative_weight")


LOSSES = (ClipLoss, NegClipLoss, CementLoss)

