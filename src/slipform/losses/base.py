"""What every loss shares: :class:`LossConfig`, the :class:`Loss` interface, the margin schedule
and the distributed helpers.

A loss is a ``torch.nn.Module`` whose ``forward`` takes the batch's features (the signature of
:meth:`Loss.forward`, the same for every method, so the trainer calls each alike) and returns a
dict with ``loss`` and per-term diagnostics. Its class carries what ``slipform train
--list-losses`` and the README's Methods table show: ``name``, ``paper``, ``negatives`` (which
negatives it uses) and ``summary``; method-specific settings are a frozen ``Options`` dataclass
whose field defaults are the authors' (each says where it comes from), set from the command
line with ``--loss-option key=value``.

Distributed training, and the memory each rank holds: with a local batch of n, a global batch
of N = n * world and K text negatives per caption, every registered loss computes each rank's
own rows only, as open_clip's ``local_loss``: the contrastive logits a rank holds are
(n, N + N*K) image->text and (n, N) text->image, O(n * N * (K + 2)) numbers, against
O(N² (K + 2)) for the global form (N = 2048, K = 1, 8 ranks: 1.6M numbers per rank, 6.3 MB in
fp32, instead of 12.6M, 50 MB, plus as much again for their softmax; measured in
docs/BENCHMARKS.md). CE-CLIP's IMC adds (n, N*K), TripletCLIP's synthetic pairs their own
(n, N) rows; the terms that choose between a caption and its own negatives (FSC-CLIP's focal
choices, DeGLA's IGC and TGC, CE-CLIP's CMR) hold (n, 1+K) and gather nothing but a count.
Columns are gathered by :func:`gather_rows`, whose backward sums every
rank's gradient onto the rank that owns the features, and each term is a :func:`global_mean`
(or :func:`global_sum`), whose value is the global batch's on every rank; the trainer
backpropagates ``loss * world`` (:func:`ddp_scale`), which DDP's average turns into exactly the
gradient of one process on the global batch (tests/test_losses_local_rows.py,
tests/test_loss_methods_ddp.py).

``ContrastiveLoss(local_rows=False)`` keeps the global form, for comparison: every rank computes
the loss of all N rows, features gathered by :func:`gather` with the local slice kept in the
autograd graph, so a rank holds the gradient of its own features only, and ``loss * world``
with DDP's average again gives the one-process gradient. A parameter that enters that whole
loss on every rank (``logit_scale``) goes through :func:`replicated`, or its gradient would
come out ``world`` times too large; a local-rows term needs no such division (each rank's
share of it is its own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import ClassVar

import torch
import torch.distributed as dist

SCHEDULES = ("static", "adaptive", "linear", "inverse", "calibrated")  # "linear" is "adaptive"


@dataclass(frozen=True)
class LossConfig:
    """Which loss (``kind``, a name in :func:`slipform.losses.list_losses`) and its settings.

    The concreteness margin (``schedule``, ``margin*``, ``default_concreteness``) is read by the
    methods with Cement's margin (``cement``, ``cement_siglip``); ``schedule="calibrated"``
    (``cement`` only) fits it during training, every ``refresh_every`` optimizer steps on the last
    ``calibration_window`` samples with LOESS span ``loess_frac`` (:mod:`slipform.losses.calibrated`);
    ``image_negative_weight``
    weights the rows of edited negative images (``negclip``/``cement``/``tripletclip``);
    ``options`` are the method's own settings (its ``Options`` dataclass), e.g.
    ``{"focal_gamma": 1.0}`` for ``fsc_clip``.
    """

    kind: str = "cement"
    schedule: str = "adaptive"
    margin: float = 0.05  # static
    margin_min: float = 0.0  # adaptive / inverse: margin at concreteness 1 (adaptive) or 5 (inverse)
    margin_max: float = 0.1
    default_concreteness: float = 3.0  # for unrated targets
    image_negative_weight: float = 1.0
    options: dict = field(default_factory=dict, hash=False)
    refresh_every: int = 10  # calibrated: optimizer steps between LOESS fits
    calibration_window: int = 2048  # calibrated: (c, s_ii, s_ii', s_easy) samples the fit sees
    loess_frac: float = 2 / 3  # calibrated: share of the samples in each local fit (statsmodels' default)

    def __post_init__(self):
        from .registry import get_loss, list_losses  # plug-ins are found by name, never imported here

        if self.kind not in list_losses():
            raise ValueError(f"unknown loss {self.kind!r}; choose from {tuple(list_losses())}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown margin schedule {self.schedule!r}; choose from {SCHEDULES}")
        if self.margin_min > self.margin_max:
            raise ValueError("margin_min must not exceed margin_max")
        if self.refresh_every < 1 or self.calibration_window < 1:
            raise ValueError("refresh_every and calibration_window must be >= 1")
        if not 0.0 < self.loess_frac <= 1.0:
            raise ValueError(f"loess_frac must lie in (0, 1], got {self.loess_frac}")
        if not 1.0 <= self.default_concreteness <= 5.0:
            raise ValueError("default_concreteness must lie in [1, 5]")
        get_loss(self.kind).make_options(self.options)  # unknown or invalid options fail here


def margin_fn(config: LossConfig) -> Callable[[torch.Tensor], torch.Tensor]:
    """The schedule c -> m as a function of a concreteness tensor (values 1-5). ``adaptive`` (or
    ``linear``) is the ramp from ``margin_min`` at c = 1 to ``margin_max`` at c = 5; for
    ``calibrated`` this is the ramp it starts from (the fitted margin is
    :class:`slipform.losses.calibrated.CalibratedMargin`, which the loss builds)."""
    lo, hi = config.margin_min, config.margin_max
    if config.schedule == "static":
        return lambda c: torch.full_like(c, config.margin)
    # linear in c on [1, 5]: m = slope * c + offset, from m(1) to m(5)
    start, end = (hi, lo) if config.schedule == "inverse" else (lo, hi)
    slope = (end - start) / 4
    return lambda c: c.clamp(1, 5).mul(slope).add(start - slope)


def own_margins(config: LossConfig, margin: Callable, concreteness: torch.Tensor | None, mask: torch.Tensor,
                dtype: torch.dtype) -> torch.Tensor:
    """Cement's margin m(c) of every negative, (N, K); unrated (NaN) or missing concreteness
    counts as ``default_concreteness``. A constant of the loss: no graph."""
    with torch.no_grad():
        c = concreteness.to(dtype) if concreteness is not None else \
            torch.full(mask.shape, float("nan"), device=mask.device, dtype=dtype)
        return margin(torch.nan_to_num(c, nan=config.default_concreteness))


def has_negatives(hard_text_features: torch.Tensor | None, hard_mask: torch.Tensor | None) -> bool:
    """Whether a batch carries text negatives. Features without their mask are refused (which of
    them exist would be a guess); a mask without features is no negatives."""
    if hard_text_features is not None and hard_mask is None:
        raise ValueError("hard_text_features need their hard_mask (n, K): which negatives exist")
    return hard_text_features is not None


# --------------------------------------------------------------------------- distributed helpers

def world_info() -> tuple[int, int]:
    """(rank, world size); (0, 1) without an initialised process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def ddp_scale() -> int:
    """Factor for ``backward``: DDP averages gradients that each rank holds only in part."""
    return world_info()[1]


def gather(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` from all ranks along dim 0; the local slice keeps its gradient."""
    rank, world = world_info()
    if world == 1:
        return tensor
    parts = [torch.zeros_like(tensor) for _ in range(world)]
    dist.all_gather(parts, tensor.detach().contiguous())
    parts[rank] = tensor  # all_gather returns copies without autograd history
    return torch.cat(parts, dim=0)


class _GatherRows(torch.autograd.Function):
    """all_gather whose backward sums every rank's gradient of the gathered rows (an all_reduce,
    which gloo and NCCL both have) and keeps this rank's slice."""

    @staticmethod
    def forward(ctx, tensor):
        rank, world = world_info()
        ctx.rank, ctx.rows = rank, tensor.shape[0]
        parts = [torch.empty_like(tensor) for _ in range(world)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad[ctx.rank * ctx.rows: (ctx.rank + 1) * ctx.rows]


def gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` from all ranks along dim 0, the gradient of *every* rank's rows
    summed back onto its own slice: for losses of local rows (:func:`global_mean`), where the
    other ranks' rows also use this rank's features as columns. Every rank must use the result
    alike (its backward is a collective); equal shapes on every rank."""
    if world_info()[1] == 1:
        return tensor
    return _GatherRows.apply(tensor)


def all_sum(tensor: torch.Tensor) -> torch.Tensor:
    """The sum over ranks of a detached tensor (itself on one process)."""
    if world_info()[1] == 1:
        return tensor.detach()
    out = tensor.detach().clone()
    dist.all_reduce(out)
    return out


def global_mean(local_sum: torch.Tensor, count: torch.Tensor | int) -> torch.Tensor:
    """The mean over the global batch of a term summed over this rank's rows.

    Its value is Σ_ranks local_sum / Σ_ranks count, the same on every rank (so logs and the
    non-finite check agree); its gradient is that of ``local_sum / Σ count``. With features
    gathered by :func:`gather_rows` and the trainer's ``loss * world`` (:func:`ddp_scale`),
    DDP's average then gives the gradient of one process on the global batch, the logit scale's
    included (no :func:`replicated` here: each rank's term holds a share of it, not all)."""
    count = torch.as_tensor(count, dtype=local_sum.dtype, device=local_sum.device)
    total, total_count = all_sum(torch.stack([local_sum.detach(), count])).unbind()
    total_count = total_count.clamp(min=1)
    share = local_sum / total_count
    return share + (total / total_count - share).detach()


def global_sum(local_sum: torch.Tensor) -> torch.Tensor:
    """The sum over the global batch of a term summed over this rank's rows: its value is
    Σ_ranks local_sum on every rank, its gradient that of ``local_sum`` (see :func:`global_mean`)."""
    return local_sum + (all_sum(local_sum) - local_sum).detach()


class _ScaleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


def replicated(value):
    """A parameter every rank uses in the *whole* global loss (``logit_scale``, ``logit_bias``).

    Features are another matter: a rank holds the gradient of its own slice only, hence the
    trainer's ``loss * world``. A scale or bias enters every rank's global loss in full, so
    that factor would leave its gradient ``world`` times too large after DDP's average; this
    identity divides its gradient by ``world`` (and is the identity on one process)."""
    world = world_info()[1]
    if world == 1 or not isinstance(value, torch.Tensor) or not value.requires_grad:
        return value
    return _ScaleGrad.apply(value, 1.0 / world)


# --------------------------------------------------------------------------- the interface

@dataclass(frozen=True)
class NoOptions:
    """A method without settings of its own."""


class Loss(torch.nn.Module):
    """The interface of every registered loss (subclass it, set the class attributes, list the
    class in the module's ``LOSSES`` and the module in :data:`slipform.losses.registry.MODULES`).

    Class attributes: ``name`` (``--loss``), ``paper`` (authors, year, title), ``negatives``
    (``"none"``, ``"text"`` or ``"text+image"``), ``summary`` (one line), ``config_fields``
    (the :class:`LossConfig` fields the method reads, shown with its defaults), ``Options``
    (a frozen dataclass of the method's own settings) and ``uses_logit_bias`` (SigLIP-style:
    the trainer passes the model's learnable bias, adding one to a model that has none) and
    ``needs_tokens`` (the trainer also passes the towers' token and patch features, as keyword
    arguments ``image_tokens`` (n, P, D), ``text_tokens`` (n, L, D), ``text_token_mask`` (n, L),
    ``hard_text_tokens`` (n, K, L, D) and ``hard_text_token_mask`` (n, K, L), unnormalised, in the
    joint space: :meth:`slipform.models.ClipModel.encode_text_tokens`; an instance may set it).

    ``teacher_decay`` (None: no teacher; a method may set it from its options in ``__init__``):
    the trainer keeps an exponential moving average of the model, ``teacher = d·teacher +
    (1-d)·model`` after every optimizer step (no gradient, saved in the checkpoint), and passes
    its features of the same batch to ``forward`` as ``teacher_image_features`` (n, D),
    ``teacher_text_features`` (n, D) and ``teacher_hard_text_features`` (n, K, D) or None.
    """

    name: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    negatives: ClassVar[str] = "text"
    summary: ClassVar[str] = ""
    config_fields: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type] = NoOptions
    uses_logit_bias: ClassVar[bool] = False
    teacher_decay: float | None = None
    needs_tokens: ClassVar[bool] = False

    def __init__(self, config: LossConfig | None = None):
        super().__init__()
        self.config = config or LossConfig(self.name)
        self.options = self.make_options(self.config.options)

    @classmethod
    def make_options(cls, options: dict):
        known = {f.name for f in fields(cls.Options)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"loss {cls.name!r} has no option {', '.join(unknown)}; "
                             f"its options: {', '.join(sorted(known)) or 'none'}")
        return cls.Options(**options)

    @classmethod
    def defaults(cls) -> dict:
        """The method's defaults: its options and the :class:`LossConfig` fields it reads."""
        base = LossConfig.__dataclass_fields__
        return {**{k: base[k].default for k in cls.config_fields}, **asdict(cls.Options())}

    def on_step(self, step: int) -> None:
        """Called by the trainer after optimizer step ``step`` (1-based), on every rank alike; a
        loss with state that moves with training (the calibrated margin's refit) updates it here."""

    def forward(self, image_features: torch.Tensor, text_features: torch.Tensor, logit_scale: torch.Tensor | float,
                hard_text_features: torch.Tensor | None = None, hard_mask: torch.Tensor | None = None,
                concreteness: torch.Tensor | None = None, image_negatives: torch.Tensor | None = None,
                image_negative_mask: torch.Tensor | None = None,
                logit_bias: torch.Tensor | float | None = None) -> dict[str, torch.Tensor]:
        """The loss of one (local) batch.

        Args:
            image_features: (n, D) L2-normalised image features.
            text_features: (n, D) their captions' features, L2-normalised.
            logit_scale: 1/τ, already exponentiated (a scalar).
            hard_text_features: (n, K, D) each caption's K negative captions, or None.
            hard_mask: (n, K) bool, which of them exist; required with ``hard_text_features``.
            concreteness: (n, K) float, concreteness (1-5, NaN if unrated) of each negative's changed word.
            image_negatives: (n, D) an edited image per caption that matches its first negative, or None.
            image_negative_mask: (n,) bool, which edited images exist.
            logit_bias: SigLIP's learnable bias b (a scalar), for methods with ``uses_logit_bias``.

        Returns:
            ``{"loss": scalar, ...}`` with the terms and diagnostics of the method.
        """
        raise NotImplementedError


__all__ = ["SCHEDULES", "Loss", "LossConfig", "NoOptions", "all_sum", "ddp_scale", "gather", "gather_rows",
           "global_mean", "global_sum", "has_negatives", "margin_fn", "own_margins", "replicated", "world_info"]
