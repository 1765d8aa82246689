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
  for the impossible. ``linear`` is the same ramp, ``inverse`` the opposite slope (for
  ablations), ``static`` a constant m, or pass any callable ``c -> m`` (tensor in, tensor out).
  ``calibrated`` reads the paper's "adaptive margin that controls gradient magnitude" as a
  margin fitted during training: LOESS curves of s_ii, s_ii' and the easy negatives' s
  against c give each concreteness level's difficulty, and the margin follows it
  (:mod:`slipform.losses.calibrated`, with the paper's words beside the rule).

Image hard negatives (TripletCLIP, Patel et al., 2024): an edited image per caption that
matches the caption's hard negative; each adds an image->text row whose target is its own
negative caption.

Under ``torch.distributed`` (``local_rows=True``, the default) each rank computes only its
own rows, as open_clip's ``local_loss``: its n images against all N gathered captions and
N*K negatives, (n, N + N*K), and its n captions against all N images, (n, N); the gather's
backward sums every rank's gradient of the gathered columns (:func:`gather_rows`) and the
terms are global means (:func:`global_mean`), so loss, diagnostics and gradients are those of
one process on the global batch. ``local_rows=False`` keeps the global form (every rank the
whole (N, N + N*K)), for comparison; see :mod:`slipform.losses.base` for the memory bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import torch
import torch.nn.functional as F

from .base import (
    Loss,
    LossConfig,
    all_sum,
    gather,
    gather_rows,
    global_mean,
    has_negatives,
    margin_fn,
    replicated,
    world_info,
)
from .calibrated import CalibratedMargin

KINDS = ("clip", "negclip", "cement")


# --------------------------------------------------------------------------- the loss

class ContrastiveLoss(Loss):
    """``clip``, ``negclip`` or ``cement`` (``config.kind``); returns a dict with ``loss`` and diagnostics.

    Shapes: image_features (N, D), text_features (N, D), hard_text_features (N, K, D),
    hard_mask (N, K) bool, concreteness (N, K) float, image_negatives (N, D) with
    image_negative_mask (N,) bool. All features L2-normalised. ``logit_scale`` is 1/τ
    (already exponentiated). ``local_rows``: under DDP, each rank computes its own rows only
    (module docstring); the result is the same, the memory O(n * N (1 + K)) instead of O(N² (1 + K)).
    """

    negatives = "text+image"

    def __init__(self, config: LossConfig | None = None, margin: Callable | None = None, local_rows: bool = True):
        config = config or LossConfig(self.name or "cement")
        if config.kind not in KINDS:
            raise ValueError(f"ContrastiveLoss computes {KINDS}, not {config.kind!r}; use slipform.losses.build_loss")
        super().__init__(config)
        if margin is None and config.kind == "cement" and config.schedule == "calibrated":
            margin = CalibratedMargin(config)  # a submodule: its fitted state is in state_dict()
        self.margin = margin or margin_fn(config)
        self.local_rows = local_rows

    def on_step(self, step: int) -> None:
        """The calibrated margin refits its curves every ``refresh_every`` steps (every rank alike)."""
        if isinstance(self.margin, CalibratedMargin):
            self.margin.refresh(step)

    def _offset(self, n: int) -> int:
        """Global index of this rank's first row (equal batches on every rank); 0 in the global form."""
        return world_info()[0] * n if self.local_rows else 0

    def get_logits(self, image_features, text_features, logit_scale, hard_text_features=None, hard_mask=None,
                   concreteness=None):
        """This rank's rows: ``logits_per_image`` (n, N + N*K), ``logits_per_text`` (n, N) and
        ``own`` (n, N*K), which negatives are each row's own; n = N on one process or with
        ``local_rows=False``. Row r's positive is column ``self._offset(n) + r``."""
        collect = gather_rows if self.local_rows else gather
        all_images, all_texts = collect(image_features), collect(text_features)
        images, texts = (image_features, text_features) if self.local_rows else (all_images, all_texts)
        n, big_n = images.shape[0], all_images.shape[0]
        logits_per_text = logit_scale * texts @ all_images.T
        logits_per_image = logit_scale * images @ all_texts.T
        if not has_negatives(hard_text_features, hard_mask) or self.config.kind == "clip":
            return logits_per_image, logits_per_text, None
        all_hard = collect(hard_text_features)  # (N, K, D)
        all_mask = gather(hard_mask.to(torch.bool))  # (N, K)
        mask = hard_mask.to(torch.bool) if self.local_rows else all_mask  # the rows' own: (n, K)
        k = all_hard.shape[1]
        hard_sims = images @ all_hard.reshape(big_n * k, -1).T  # (n, N*K): each row's image vs every negative
        rows = torch.arange(n, device=hard_sims.device).repeat_interleave(k)
        cols = torch.arange(n * k, device=hard_sims.device) + self._offset(n) * k
        own = torch.zeros(n, big_n * k, dtype=torch.bool, device=hard_sims.device)
        own[rows, cols] = mask.reshape(-1)  # row r's own negatives: columns g*K .. g*K+K-1, g its global index
        if self.config.kind == "cement":
            with torch.no_grad():  # margins are constants of the loss: no graph for them
                c = concreteness.to(hard_sims.dtype) if concreteness is not None else \
                    torch.full(hard_mask.shape, math.nan, device=hard_sims.device, dtype=hard_sims.dtype)
                c = c if self.local_rows else gather(c)
                margins = self.margin(torch.nan_to_num(c, nan=self.config.default_concreteness)).reshape(-1)
            # only the n*K own entries get a margin: O(n*K) work, not a full (n, N*K) matrix; in place,
            # which autograd allows because the matrix product does not keep its output for backward
            hard_sims.index_put_((rows, cols), margins, accumulate=True)
        # a missing negative (masked) must not enter any softmax
        valid = all_mask.reshape(1, big_n * k).expand(n, big_n * k)
        hard_logits = (logit_scale * hard_sims).masked_fill(~valid, float("-inf"))
        return torch.cat([logits_per_image, hard_logits], dim=1), logits_per_text, own

    def forward(self, image_features, text_features, logit_scale, hard_text_features=None, hard_mask=None,
                concreteness=None, image_negatives=None, image_negative_mask=None, logit_bias=None) -> dict:
        """See :meth:`slipform.losses.base.Loss.forward`; keys ``loss``, ``loss_i2t``, ``loss_t2i``,
        ``loss_image_negatives`` (with edited images) and the gradient shares ``grad_pos``,
        ``grad_hard``, ``grad_easy`` (:func:`gradient_shares`). Memory: the logits of this rank's rows,
        (n, N + N*K) and (n, N) (:meth:`get_logits`)."""
        if not self.local_rows:
            logit_scale = replicated(logit_scale)  # in the local form each rank's share of it is its own
        logits_per_image, logits_per_text, own = self.get_logits(
            image_features, text_features, logit_scale, hard_text_features, hard_mask, concreteness)
        n = logits_per_text.shape[0]
        labels = self._offset(n) + torch.arange(n, device=logits_per_text.device)
        if isinstance(self.margin, CalibratedMargin) and own is not None and concreteness is not None:
            self._observe(image_features, text_features, hard_text_features, hard_mask, concreteness,
                          logits_per_image, logit_scale)
        if self.local_rows:  # sums over this rank's rows, divided by the global count
            loss_i2t = global_mean(F.cross_entropy(logits_per_image, labels, reduction="sum"), n)
            loss_t2i = global_mean(F.cross_entropy(logits_per_text, labels, reduction="sum"), n)
        else:
            loss_i2t, loss_t2i = F.cross_entropy(logits_per_image, labels), F.cross_entropy(logits_per_text, labels)
        out = {"loss_i2t": loss_i2t, "loss_t2i": loss_t2i, "loss": (loss_i2t + loss_t2i) / 2}
        if image_negatives is not None and own is not None and image_negative_mask is not None:
            out["loss_image_negatives"] = self._image_negative_loss(
                image_negatives, image_negative_mask, text_features, hard_text_features, hard_mask, logit_scale)
            out["loss"] = out["loss"] + self.config.image_negative_weight * out["loss_image_negatives"]
        out.update(gradient_shares(logits_per_image.detach(), own, labels, reduce=self.local_rows))
        return out

    @torch.no_grad()
    def _observe(self, image_features, text_features, hard_text_features, hard_mask, concreteness,
                 logits_per_image, logit_scale) -> None:
        """The calibrated margin's samples of this rank's rows: s_ii (n,), s_ii' (n, K) and each
        image's mean cosine to the other captions of the global batch (from the logits' caption
        columns, which carry no margin); a collective, as every rank's forward takes this path."""
        rank, world = world_info()
        n = image_features.shape[0]
        big_n = n * world
        rows = torch.arange(n, device=image_features.device)
        first = 0 if self.local_rows else rank * n  # the global form holds every rank's rows
        captions = logits_per_image.detach()[first:first + n, :big_n].float() / float(logit_scale)
        positive = captions[rows, rank * n + rows]
        easy = (captions.sum(1) - positive) / max(big_n - 1, 1) if big_n > 1 else torch.full_like(positive, math.nan)
        pos = (image_features * text_features).sum(-1)
        neg = torch.einsum("nd,nkd->nk", image_features, hard_text_features)
        self.margin.observe(concreteness, pos, neg, easy, hard_mask)

    def _image_negative_loss(self, image_negatives, image_negative_mask, text_features, hard_text_features,
                             hard_mask, logit_scale):
        """Rows for edited images: each must pick its own (first) negative caption among all captions
        and all existing negatives (a missing negative enters no softmax, as in the image rows)."""
        collect = gather_rows if self.local_rows else gather
        texts, hard = collect(text_features), collect(hard_text_features)  # the columns: all ranks'
        ok = image_negative_mask.to(torch.bool) & hard_mask.to(torch.bool)[:, 0]
        negs = image_negatives
        if not self.local_rows:
            negs, ok = gather(image_negatives), gather(ok)
        big_n, k = hard.shape[:2]
        columns = torch.cat([texts, hard.reshape(big_n * k, -1)], dim=0)
        exists = torch.cat([torch.ones(big_n, dtype=torch.bool, device=hard.device),
                            gather(hard_mask.to(torch.bool)).reshape(-1)])
        logits = (logit_scale * negs[ok] @ columns.T).masked_fill(~exists, float("-inf"))
        targets = big_n + (self._offset(len(ok)) + torch.nonzero(ok).squeeze(1)) * k
        if self.local_rows:  # every rank takes this path alike: gather_rows' backward is a collective
            return global_mean(F.cross_entropy(logits, targets, reduction="sum"), int(ok.sum()))
        if not bool(ok.any()):
            return (negs.sum() * 0.0)
        return F.cross_entropy(logits, targets)


def gradient_shares(logits_per_image: torch.Tensor, own: torch.Tensor | None, labels: torch.Tensor | None = None,
                    reduce: bool = False) -> dict:
    """How the image->text gradient splits between positive, hard and easy negatives.

    For softmax cross-entropy, dl_i/dz_ij = p_ij - [j = i]. Per anchor row i we report
    ``grad_pos`` = |p_ii - 1|, ``grad_hard`` = p_ih averaged over i's own hard negatives,
    and ``grad_easy`` = the sum of p_ij over all other columns (the in-batch captions and
    other images' negatives), each averaged over rows. Under InfoNCE grad_easy dwarfs
    grad_hard; Cement's margins shift weight to the hard negatives.

    ``labels`` (n,): each row's positive column (default: the diagonal); ``own`` (n, M) marks the
    rows' own negatives among the last M columns. ``reduce``: the rows are this rank's share of
    the global batch, and the averages are taken over all ranks' rows (sums and counts summed).
    """
    p = logits_per_image.float().softmax(dim=1)
    n = p.shape[0]
    rows = torch.arange(n, device=p.device)
    diag = p[rows, rows if labels is None else labels]
    own_full = torch.zeros_like(p, dtype=torch.bool)
    if own is not None:
        own_full[:, p.shape[1] - own.shape[1]:] = own
    hard = p[own_full]
    sums = torch.stack([(1 - diag).sum(), (p.masked_fill(own_full, 0).sum(1) - diag).sum(), hard.sum(),
                        torch.tensor(float(n), device=p.device), torch.tensor(float(hard.numel()), device=p.device)])
    pos, easy, hard_sum, count, hard_count = (all_sum(sums) if reduce else sums).unbind()
    nan = torch.tensor(float("nan"))
    return {"grad_pos": pos / count, "grad_easy": easy / count,
            "grad_hard": hard_sum / hard_count if own is not None and hard_count > 0 else nan}


class _Named(ContrastiveLoss):
    def __init__(self, config: LossConfig | None = None, margin: Callable | None = None, local_rows: bool = True):
        super().__init__(replace(config, kind=self.name) if config is not None else LossConfig(self.name), margin,
                         local_rows)


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
                     "image_negative_weight", "refresh_every", "calibration_window", "loess_frac")


LOSSES = (ClipLoss, NegClipLoss, CementLoss)

