"""TripletCLIP (Patel et al., 2024): NegCLIP on the real pairs plus NegCLIP on the synthetic ones.

Each caption T_i may come with a negative caption T'_i (its first hard negative) and an edited
image I'_i that matches T'_i. The loss is two NegCLIP terms::

    L = NegCLIP(I, T; T') + w * NegCLIP(I', T'; T)

The first is ``negclip`` (image->text rows over the N captions and all negatives; text->image
as CLIP). The second treats the M synthetic pairs (I'_m, T'_m) that exist as a batch of their
own with the real captions T_m as their hard negatives: image->text rows of I'_m over
[T'_1..T'_M, T_1..T_M] with target T'_m, text->image rows of T'_m over I'_1..I'_M, averaged.
``w`` is ``LossConfig.image_negative_weight`` (1, the paper's equal weighting). Without
edited images the loss is ``negclip``. Memory per rank: the (N, N + N*K) logits of NegCLIP and
(M, 2M) for the synthetic pairs (see :mod:`slipform.losses.base`).
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F

from .base import Loss, LossConfig, gather, replicated
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
        if image_negatives is None or image_negative_mask is None or hard_text_features is None:
            return out
        logit_scale = replicated(logit_scale)
        negs, texts = gather(image_negatives), gather(text_features)
        neg_texts = gather(hard_text_features[:, 0])
        ok = gather(image_negative_mask.to(torch.bool)) & gather(hard_mask.to(torch.bool))[:, 0]
        if not bool(ok.any()):
            term = negs.sum() * 0.0
        else:
            img, pos, hard = negs[ok], neg_texts[ok], texts[ok]  # (M, D) each: I', T', and T as its negatives
            labels = torch.arange(img.shape[0], device=img.device)
            i2t = F.cross_entropy(logit_scale * img @ torch.cat([pos, hard]).T, labels)
            t2i = F.cross_entropy(logit_scale * pos @ img.T, labels)
            term = (i2t + t2i) / 2
        out["loss_triplet"] = term
        out["loss"] = out["loss"] + self.config.image_negative_weight * term
        return out


LOSSES = (TripletClipLoss,)
