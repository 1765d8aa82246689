"""Contrastive losses with hard negatives, one module per method behind a registry.

    >>> from slipform.losses import LossConfig, build_loss, list_losses
    >>> loss = build_loss(LossConfig("negclip"))
    >>> out = loss(image_features, text_features, logit_scale, hard_text_features, hard_mask)

:mod:`.base` holds the shared interface (:class:`Loss`, :class:`LossConfig`, the distributed
helpers and the per-rank memory bound), :mod:`.registry` the names; each method is a module:
:mod:`.contrastive` (``clip``, ``negclip``, ``cement``; Cement's calibrated margin in
:mod:`.calibrated`), :mod:`.tripletclip`, :mod:`.siglip`
(``siglip``, ``cement_siglip``), :mod:`.ce_clip`, :mod:`.fsc_clip`, :mod:`.degla`.
"""

from __future__ import annotations

from .base import SCHEDULES, Loss, LossConfig, ddp_scale, gather, margin_fn, world_info
from .contrastive import KINDS, ContrastiveLoss, gradient_shares
from .registry import build_loss, describe_losses, get_loss, list_losses, methods_table, register

__all__ = ["KINDS", "SCHEDULES", "ContrastiveLoss", "Loss", "LossConfig", "build_loss", "ddp_scale",
           "describe_losses", "gather", "get_loss", "gradient_shares", "list_losses", "margin_fn", "methods_table",
           "register", "world_info"]
