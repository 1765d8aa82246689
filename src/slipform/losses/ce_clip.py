"""CE-CLIP (Zhang et al., 2023): hard-negative ITC + intra-modal contrast (IMC) + cross-modal
rank (CMR) with an adaptive threshold.

With p_i = t·s(I_i, T_i) the positive logit and n_ik = t·s(I_i, T'_ik) the logit of caption
i's k-th negative (t = ``logit_scale``)::

    ITC = NegCLIP: image->text rows over the N captions and all N*K negatives, text->image as CLIP
    IMC = -(1/N) Σ_i log( e^{p_i} / (e^{p_i} + Σ_{j,h valid} e^{t·T_i·T'_jh}) )
    CMR = (1/(N*K)) Σ_i Σ_{k valid} max(0, θ_k + n_ik - p_i)
    L   = ITC + λ_imc·IMC + λ_cmr·CMR

IMC contrasts a caption with the negatives in the text space, scored against its image's
positive logit; CMR asks each positive to beat its own negatives by a threshold θ_k per
negative slot k. θ is adaptive: after each call θ_k becomes the batch's mean positive logit
minus the mean logit of the k-th negatives (detached; the next call uses it), capped to
[0, ``threshold_max``] when that is set, and starts at 0. θ is state: it is saved with the
trainer's checkpoint (``get_extra_state``) so that a resumed run continues with it.

This is the authors' ``Clip_DALoss`` with ``threshold_type='mean'``, read from
github.com/lezhang7/Enhance-FineGrained (``src/open_clip/loss.py``); differences: a missing
negative is masked out of every term (theirs has a zero feature, logit 0), CMR's mean counts
all N*K slots as theirs does. Under DDP each rank computes its own rows of every term (as
``negclip``): (n, N + N*K) logits for ITC and (n, N*K) for IMC per rank of n (base module); θ's
update takes its means over the global batch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from .base import Loss, LossConfig, all_sum, gather, gather_rows, global_mean, has_negatives
from .contrastive import ContrastiveLoss


@dataclass(frozen=True)
class CeClipOptions:
    imc_weight: float = 0.2  # Clip_DALoss(tec_loss_weight=0.2), the authors' default
    cmr_weight: float = 0.2  # Clip_DALoss(atr_loss_weight=0.2)
    threshold_max: float | None = None  # their --upper-bound: cap θ to [0, this]; None: no cap


class CeClipLoss(Loss):
    """NegCLIP ITC + IMC + CMR with the adaptive threshold (module docstring)."""

    name = "ce_clip"
    paper = ("Zhang et al., 2023. Contrasting Intra-Modal and Ranking Cross-Modal Hard Negatives to Enhance "
             "Visio-Linguistic Compositional Understanding")
    summary = "NegCLIP + caption-vs-negatives contrast (IMC) + rank loss with an adaptive threshold (CMR)"
    Options = CeClipOptions

    def __init__(self, config: LossConfig | None = None):
        super().__init__(config)
        self.itc = ContrastiveLoss(replace(self.config, kind="negclip", options={}))
        self.thresholds = torch.zeros(0)  # θ_k per negative slot; sized at the first batch

    def get_extra_state(self) -> dict:
        return {"thresholds": self.thresholds.detach().cpu()}

    def set_extra_state(self, state: dict) -> None:
        self.thresholds = state["thresholds"]

    def forward(self, image_features, text_features, logit_scale, hard_text_features=None, hard_mask=None,
                concreteness=None, image_negatives=None, image_negative_mask=None, logit_bias=None) -> dict:
        """See :meth:`Loss.forward`; keys ``loss_itc``, ``loss_imc``, ``loss_cmr``, ``threshold``
        (the mean θ this call used) and NegCLIP's diagnostics. Updates θ."""
        out = self.itc(image_features, text_features, logit_scale, hard_text_features, hard_mask, concreteness)
        out["loss_itc"] = out["loss"]
        if not has_negatives(hard_text_features, hard_mask):
            return out
        # this rank's rows only: sums over its n captions, divided by the global count (global_mean)
        mask = hard_mask.to(torch.bool)
        n, k = mask.shape
        pos = logit_scale * (image_features * text_features).sum(-1)  # (n,) p_i
        neg = logit_scale * torch.einsum("nd,nkd->nk", image_features, hard_text_features)  # (n, K) n_ik: own negatives
        if self.thresholds.shape != (k,):
            self.thresholds = torch.zeros(k)
        theta = self.thresholds.to(device=neg.device, dtype=neg.dtype)
        out["loss_cmr"] = global_mean(F.relu(theta + neg - pos[:, None]).masked_fill(~mask, 0.0).sum(), n * k)
        # IMC: caption i against every negative caption of the global batch, its image's positive logit on top
        all_hard, all_mask = gather_rows(hard_text_features), gather(mask)  # (N, K, D), (N, K)
        text_logits = (logit_scale * text_features @ all_hard.reshape(-1, all_hard.shape[-1]).T).masked_fill(
            ~all_mask.reshape(1, -1), float("-inf"))  # (n, N*K)
        out["loss_imc"] = global_mean(F.cross_entropy(torch.cat([pos[:, None], text_logits], dim=1),
                                                      torch.zeros(n, dtype=torch.long, device=pos.device),
                                                      reduction="sum"), n)
        out["threshold"] = theta.mean().detach()
        self._update_thresholds(pos.detach(), neg.detach(), mask)
        o = self.options
        out["loss"] = out["loss_itc"] + o.imc_weight * out["loss_imc"] + o.cmr_weight * out["loss_cmr"]
        return out

    @torch.no_grad()
    def _update_thresholds(self, pos: torch.Tensor, neg: torch.Tensor, mask: torch.Tensor) -> None:
        """θ_k from the global batch's means (sums and counts over all ranks' rows)."""
        pos, neg = pos.float(), neg.float()
        sums = all_sum(torch.cat([neg.masked_fill(~mask, 0.0).sum(0), mask.sum(0).float(),
                                  torch.stack([pos.sum(), pos.new_tensor(float(len(pos)))])]))
        k = mask.shape[1]
        neg_sum, counts, (pos_sum, rows) = sums[:k], sums[k: 2 * k], sums[2 * k:]
        mean_neg = neg_sum / counts.clamp(min=1)
        new = (pos_sum / rows - mean_neg).cpu()
        if self.options.threshold_max is not None:
            new = new.clamp(0, self.options.threshold_max)
        keep = (counts == 0).cpu()  # a slot no caption filled keeps its threshold
        self.thresholds = torch.where(keep, self.thresholds, new.to(self.thresholds.dtype))


LOSSES = (CeClipLoss,)
