"""DeGLA (Hu et al., 2025): hard-negative ITC + image-grounded (IGC) and text-grounded (TGC)
contrast over each caption's own negatives + self-distillation against an EMA teacher.

Notation as in :mod:`.contrastive`: N images I_i and captions T_i (the global batch), caption
i's K negatives T'_ik (``hard_mask`` says which exist), t = ``logit_scale``; a tilde marks the
teacher's features of the same inputs (Ĩ_i, T̃_i, T̃'_ik), which the trainer computes with an
exponential moving average of the model (``teacher_decay``; no gradient)::

    ITC     = NegCLIP: image->text over the N captions and all N*K negatives, text->image as CLIP
    IGC     = (1/N) Σ_i -log( e^{t·I_i·T_i} / (e^{t·I_i·T_i} + Σ_{k valid} e^{t·I_i·T'_ik}) )
    TGC     = (1/N) Σ_i -log( e^{u·T_i·T̃_i} / (e^{u·T_i·T̃_i} + Σ_{k valid} e^{u·T_i·T'_ik}) )
    DISTILL = Σ_i |I_i - Ĩ_i|² + Σ_i |T_i - T̃_i|² + Σ_{i,k valid} |T'_ik - T̃'_ik|²     (``mse``)
    L       = ITC + λ_igc·IGC + λ_tgc·TGC + λ_d·DISTILL

IGC asks each image to prefer its caption over that caption's own negatives (a (1+K)-way
choice); TGC asks each caption to stay closer to the teacher's embedding of itself than to its
negatives, with a fixed scale u = 10; the distillation keeps the student's features near the
EMA teacher's (its general ability). ``distill="kl"`` replaces the feature MSE by the KL
divergence of the student's N x N image-text softmax (both directions, scale t) from the
teacher's (scale t, detached), averaged over rows: the teacher's similarity distribution
distilled into the student's; λ_d = 0.005 is calibrated for the MSE sum, raise it for KL.

Defaults are the authors' training script (github.com/xiaoxing2001/DeGLA,
``scripts/train_DeGLA.sh``: ``--ema_alpha 0.9996 --text_local_weight 0.1 --image_local_weight
0.1 --distill_weight 0.005 --distill_mse``, K = 4 negatives); the terms were read from their
``src/open_clip/loss.py`` (``CLIPloss_DeGLA``) and the EMA from ``src/training/train.py``
(``update_teacher_ema``: after each optimizer step, teacher = α·teacher + (1-α)·student; the
teacher starts as the pretrained model, as ours starts as the model the run starts from).
Where ours differs, and why:

- TGC's mask: theirs builds the negatives' columns with ``repeat`` (K-major) while their batch
  lays the negatives out caption-major (``view(-1, L)`` of (n, K, L)), so caption i is
  contrasted with other captions' negatives; we use caption i's own, as the paper describes.
- A missing negative (``hard_mask`` False) is left out of every term; theirs always has K.
- Their distillation sum runs over every text row; ours over the captions and valid negatives
  (the same when none is missing). ``distill="kl"`` is ours, not in their script.
- The teacher's features come from the trainer (:class:`slipform.train.Trainer` keeps the EMA
  copy when a loss sets ``teacher_decay``); a call without them (a plain loss call) computes
  ITC + IGC only and reports no TGC or distillation.

Memory per rank (local batch n of a global N): NegCLIP's local rows, (n, N + N*K) and (n, N),
plus (n, 1+K) for IGC and TGC, which gather nothing (``kl``: two (n, N) more and the gathered
(N, D) features); the trainer's teacher is one more copy of the model's weights, without
gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from .base import Loss, LossConfig, gather, gather_rows, global_mean, global_sum, has_negatives
from .contrastive import ContrastiveLoss

DISTILL = ("mse", "kl")


@dataclass(frozen=True)
class DeglaOptions:
    teacher_decay: float = 0.9996  # α, --ema_alpha in the authors' script
    igc_weight: float = 0.1  # λ_igc, --image_local_weight
    tgc_weight: float = 0.1  # λ_tgc, --text_local_weight
    tgc_scale: float = 10.0  # u, fixed in their get_text_local_loss
    distill_weight: float = 0.005  # λ_d, --distill_weight
    distill: str = "mse"  # --distill_mse (their script); "kl": the similarity distribution (ours)

    def __post_init__(self):
        if not 0.0 <= self.teacher_decay <= 1.0:
            raise ValueError("degla: teacher_decay must lie in [0, 1]")
        if self.distill not in DISTILL:
            raise ValueError(f"degla: distill must be one of {DISTILL}")


def grounded_choice(anchor: torch.Tensor, positive: torch.Tensor, hard: torch.Tensor, mask: torch.Tensor,
                    scale) -> torch.Tensor:
    """Per row, -log softmax(scale·[a·p, a·h_1, .., a·h_K])[0], missing h left out.
    anchor, positive (n, D), hard (n, K, D), mask (n, K) bool; (n,)."""
    logits = scale * torch.cat([(anchor * positive).sum(-1, keepdim=True),
                                torch.einsum("nd,nkd->nk", anchor, hard)], dim=1)
    valid = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
    return -logits.masked_fill(~valid, float("-inf")).log_softmax(dim=1)[:, 0]


class DeglaLoss(Loss):
    """NegCLIP ITC + IGC + TGC + distillation from the EMA teacher (module docstring)."""

    name = "degla"
    paper = "Hu et al., 2025. Decoupled Global-Local Alignment for Improving Compositional Understanding"
    summary = ("NegCLIP + caption-vs-own-negatives contrast grounded on the image (IGC) and on the EMA "
               "teacher's caption (TGC) + self-distillation to the EMA teacher")
    Options = DeglaOptions

    def __init__(self, config: LossConfig | None = None):
        super().__init__(config)
        self.teacher_decay = self.options.teacher_decay
        self.itc = ContrastiveLoss(replace(self.config, kind="negclip", options={}))

    def forward(self, image_features, text_features, logit_scale, hard_text_features=None, hard_mask=None,
                concreteness=None, image_negatives=None, image_negative_mask=None, logit_bias=None,
                teacher_image_features=None, teacher_text_features=None,
                teacher_hard_text_features=None) -> dict:
        """See :meth:`Loss.forward`, plus the teacher's features of the same batch: images (n, D),
        captions (n, D) and negatives (n, K, D), L2-normalised, no gradient. Keys ``loss_itc``,
        ``loss_igc``, ``loss_tgc``, ``loss_distill`` (the last two with a teacher) and NegCLIP's."""
        out = self.itc(image_features, text_features, logit_scale, hard_text_features, hard_mask)
        out["loss_itc"] = out["loss"]
        o = self.options
        total = out["loss_itc"]
        has_hard = has_negatives(hard_text_features, hard_mask)
        teacher = teacher_image_features is not None and teacher_text_features is not None
        # every term but ITC's text columns is row-wise: each rank computes its own rows, and
        # global_mean / global_sum give the global batch's value (module docstring)
        n = image_features.shape[0]
        if has_hard:
            mask = hard_mask.to(torch.bool)
            igc = grounded_choice(image_features, text_features, hard_text_features, mask, logit_scale)
            out["loss_igc"] = global_mean(igc.sum(), n)
            total = total + o.igc_weight * out["loss_igc"]
        if teacher:
            t_images, t_texts = teacher_image_features.detach(), teacher_text_features.detach()
            if has_hard:
                tgc = grounded_choice(text_features, t_texts, hard_text_features, mask, o.tgc_scale)
                out["loss_tgc"] = global_mean(tgc.sum(), n)
                total = total + o.tgc_weight * out["loss_tgc"]
            if o.distill == "mse":
                term = (image_features - t_images).pow(2).sum() + (text_features - t_texts).pow(2).sum()
                if has_hard and teacher_hard_text_features is not None:
                    sq = (hard_text_features - teacher_hard_text_features.detach()).pow(2).sum(-1)
                    term = term + sq.masked_fill(~mask, 0.0).sum()
                term = global_sum(term)
            else:
                term = _kl_distill(image_features, text_features, t_images, t_texts, logit_scale)
            out["loss_distill"] = term
            total = total + o.distill_weight * term
        out["loss"] = total
        return out


def _kl_distill(images, texts, t_images, t_texts, logit_scale) -> torch.Tensor:
    """The mean over the global batch's rows, both directions, of KL(teacher's softmax ||
    student's) over the N columns; each rank computes its own rows against gathered columns."""
    t_scale = logit_scale.detach() if torch.is_tensor(logit_scale) else logit_scale
    all_texts, all_images = gather_rows(texts), gather_rows(images)  # columns: the global batch
    t_all_texts, t_all_images = gather(t_texts), gather(t_images)
    kl = _kl_rows(t_scale * t_images @ t_all_texts.T, logit_scale * images @ all_texts.T) \
        + _kl_rows(t_scale * t_texts @ t_all_images.T, logit_scale * texts @ all_images.T)
    return global_mean(kl.sum() / 2, images.shape[0])


def _kl_rows(target_logits: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Per row, KL(softmax(target) || softmax(logits)); (rows,)."""
    return F.kl_div(logits.log_softmax(1), target_logits.log_softmax(1), log_target=True, reduction="none").sum(1)


LOSSES = (DeglaLoss,)
