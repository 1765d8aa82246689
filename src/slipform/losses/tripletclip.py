"""TripletCLIP (Patel et al., 2024): NegCLIP on the real pairs plus NegCLIP on the synthetic ones.

Each caption T_i may come with a negative caption T'_i (its first hard negative) and an edited
image I'_i that matches T'_i. The loss is two NegCLIP terms::

    L = NegCLIP(I, T; T') + w * NegCLIP(I', T'; T)

The first is ``negclip`` (image->text rows over the N captions and all negatives; text->image
as CLIP). The second treats the M synthetic pairs (I'_m, T'_m) that exist as a batch of their
own with the real captions T_m as their hard negatives: image->text rows of I'_m over
[T'_1..T'_M, T_1..T_M] with target T'_m, text->image rows of T'_m over I'_1..I'_M, averaged.
``w`` is ``LossConfig.image_negative_weight`` (1, the paper's equal weighting). Without
edited images the loss is ``negclip``. Under DDP each rank computes its own rows of both
terms: (n, N + N*K) logits for NegCLIP and (m, 2M) for its m of the M synthetic pairs (see
:mod:`slipform.losses.base`).
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F

from .base import Loss, LossConfig, gather, gather_rows, global_mean, has_negatives, world_info
from .contrastive import ContrastiveLoss


class TripletClipLoss(Loss):
    """NegCLIP on real pairs + NegCLIP on (edited image, negative caption) pairs."""

    name, negatives = "tripletclip", "text+image"
    paper = "Patel et al., 2024. TripletCLIP: Improving Compositional Reasoning of CLIP via Synthetic Vision-Language Negatives"
    summary = "NegCLIP twice: on the real pairs, and on edited images with their negative captions"
    config_fields = ("image_negative_weight",)

    def __init__(self, config: LossConfig | None = None):
        super().__init__(config)
        self.negclip = ContrastiveLoss(replace(self.config, kind="negclip", options={}))

    def forward(self, image_features, text_features, logit_scale, hard_text_features=None, hard_mask=None,
                concreteness=None, image_negatives=None, image_negative_mask=None, logit_bias=None) -> dict:
        """See :meth:`Loss.forward`; adds ``loss_triplet``, the synthetic pairs' NegCLIP term."""
        out = self.negclip(image_features, text_features, logit_scale, hard_text_features, hard_mask, concreteness)
        if image_negatives is None or image_negative_mask is None or not has_negatives(hard_text_features, hard_mask):
            return out
        own_ok = image_negative_mask.to(torch.bool) & hard_mask.to(torch.bool)[:, 0]  # (n,) this rank's pairs
        ok = gather(own_ok)  # (N,): every rank takes the same branch (gather_rows' backward is a collective)
        if not bool(ok.any()):
            term = image_negatives.sum() * 0.0
        else:
            # columns: all M pairs, (M, D) each: I', T', and T as T''s negatives
            img, pos, hard = (gather_rows(x)[ok] for x in (image_negatives, hard_text_features[:, 0], text_features))
            # rows: this rank's m pairs; label = the pair's index among all M
            start = len(own_ok) * world_info()[0]
            labels = (torch.cumsum(ok.long(), 0) - 1)[start: start + len(own_ok)][own_ok]
            own_img, own_pos = image_negatives[own_ok], hard_text_features[:, 0][own_ok]
            m = len(labels)
            i2t = global_mean(F.cross_entropy(logit_scale * own_img @ torch.cat([pos, hard]).T, labels,
                                              reduction="sum"), m)
            t2i = global_mean(F.cross_entropy(logit_scale * own_pos @ img.T, labels, reduction="sum"), m)
            term = (i2t + t2i) / 2
        out["loss_triplet"] = term
        out["loss"] = out["loss"] + self.config.image_negative_weight * term
        return out


LOSSES = (TripletClipLoss,)
