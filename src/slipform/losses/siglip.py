"""SigLIP's sigmoid loss (Zhai et al., 2023) with hard negatives as extra negative pairs, and
Cement's concreteness margin on it.

Every image-caption pair of the batch is a binary problem with logit z_ij = t·s_ij + b
(t = ``logit_scale``, b the learnable ``logit_bias``) and label y_ij = +1 if i = j, else -1::

    L = -(1/N) [ Σ_i Σ_j log σ(y_ij z_ij) + Σ_i Σ_{h valid} log σ(-(t·(s_ih + m_ih) + b)) ]

where the second sum runs over every image and every negative caption h of the batch (all
N*K of them, as NegCLIP's extra columns): each is one more negative pair. ``siglip`` has
m = 0; ``cement_siglip`` adds Cement's margin m(c) to each image's *own* negatives (the same
schedule as ``cement``), which asks the positive to beat them by m in cosine before the
sigmoid saturates. The 1/N normalisation is SigLIP's (the sum over a row, averaged over
images). A model without a bias gets one from the trainer, initialised at ``init_bias``
(SigLIP's b = -10; SigLIP also starts t at 10, which a CLIP checkpoint's t = 100 replaces).
Under DDP each rank computes its own rows only (as ``clip``, ``local_rows``): its n images
against all N captions and N*K negatives, (n, N + N*K) logits per rank, the same loss and
gradients (see :mod:`slipform.losses.base`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .base import (
    Loss,
    LossConfig,
    gather,
    gather_rows,
    global_mean,
    has_negatives,
    margin_fn,
    own_margins,
    world_info,
)


@dataclass(frozen=True)
class SigLipOptions:
    init_bias: float = -10.0  # Zhai et al. 2023, sec. 3.3: b' = -10 at initialisation


class SigLipLoss(Loss):
    """Pairwise sigmoid loss; negative captions are extra negative pairs."""

    name = "siglip"
    paper = "Zhai et al., 2023. Sigmoid Loss for Language Image Pre-Training"
    summary = "sigmoid loss over all pairs; every negative caption is one more negative pair per image"
    Options = SigLipOptions
    uses_logit_bias = True
    with_margin = False

    def __init__(self, config: LossConfig | None = None):
        super().__init__(config)
        if self.with_margin and self.config.schedule == "calibrated":
            raise ValueError(f"loss {self.name!r}: the calibrated margin is built for 'cement' only; "
                             "use --margin-schedule linear, inverse or static")
        self.margin = margin_fn(self.config)

    def get_logits(self, image_features, text_features, logit_scale, logit_bias, hard_text_features=None,
                   hard_mask=None, concreteness=None):
        """This rank's rows: the pairs' logits (n, N), their signs (n, N) and the negatives'
        logits (n, N*K) with their validity (1, N*K), or None; n = N on one process."""
        rank, _ = world_info()
        images, all_texts = image_features, gather_rows(text_features)
        n, big_n = images.shape[0], all_texts.shape[0]
        logits = logit_scale * images @ all_texts.T + logit_bias  # (n, N)
        rows = torch.arange(n, device=logits.device)
        signs = -torch.ones_like(logits)
        signs[rows, rank * n + rows] = 1.0  # +1 on each row's own caption, -1 elsewhere
        if not has_negatives(hard_text_features, hard_mask):
            return logits, signs, None, None
        all_hard, all_mask = gather_rows(hard_text_features), gather(hard_mask.to(torch.bool))
        k = all_hard.shape[1]
        sims = images @ all_hard.reshape(big_n * k, -1).T  # (n, N*K): each row's image vs every negative caption
        if self.with_margin:  # each row's own negatives are this rank's: local concreteness and mask
            margins = own_margins(self.config, self.margin, concreteness, hard_mask.to(torch.bool),
                                  sims.dtype).reshape(-1)
            cols = torch.arange(n * k, device=sims.device) + rank * n * k
            sims = sims.index_put((rows.repeat_interleave(k), cols), margins, accumulate=True)
        return logits, signs, logit_scale * sims + logit_bias, all_mask.reshape(1, big_n * k)

    def forward(self, image_features, text_features, logit_scale, hard_text_features=None, hard_mask=None,
                concreteness=None, image_negatives=None, image_negative_mask=None, logit_bias=None) -> dict:
        """See :meth:`Loss.forward`; ``logit_bias`` is required. Keys ``loss``, ``loss_pairs``
        (the N x N batch) and ``loss_negatives`` (the negative captions' pairs)."""
        if logit_bias is None:
            raise ValueError(f"loss {self.name!r} needs the model's logit_bias")
        # local rows: sums over this rank's images, divided by the global N (global_mean); no
        # replicated() for t and b, each rank's share of them is its own
        logits, signs, neg_logits, valid = self.get_logits(image_features, text_features, logit_scale, logit_bias,
                                                           hard_text_features, hard_mask, concreteness)
        n = logits.shape[0]
        out = {"loss_pairs": global_mean(-F.logsigmoid(signs * logits).sum(), n)}
        if neg_logits is None:
            out["loss"] = out["loss_pairs"]
            return out
        terms = -F.logsigmoid(-neg_logits)
        out["loss_negatives"] = global_mean(terms.masked_fill(~valid, 0.0).sum(), n)
        out["loss"] = out["loss_pairs"] + out["loss_negatives"]
        return out


class CementSigLipLoss(SigLipLoss):
    """SigLIP with Cement's concreteness margin on each image's own negatives."""

    name = "cement_siglip"
    paper = "Zhai et al., 2023 (sigmoid loss) with Cement's concreteness margin (slipform.losses.contrastive)"
    summary = "siglip with the concreteness margin m(c) added to each image's own negatives"
    config_fields = ("schedule", "margin", "margin_min", "margin_max", "default_concreteness")
    with_margin = True


LOSSES = (SigLipLoss, CementSigLipLoss)
