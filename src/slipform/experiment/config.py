"""The protocol's settings (light to import: the CLI reads its defaults for ``--help``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProtocolConfig:
    """The protocol's settings, chosen once for every method by the positive controls and the
    power they need, never toward a method (docs/RESULTS.md records the search).

    Pretraining is from scratch on *alt-text-like* captions that list the things without their
    relation (``pretrain_captions="list"``), as web captions rarely say where things are; the
    pretrained model therefore shows the bag-of-words failure on relations. Fine-tuning uses
    COCO-like captions that state the relation, the same data and budget for every method.

    The image tower is open_clip's ModifiedResNet (``tower="resnet"``): a convolutional tower
    keeps where things are, which the tiny ViT of the first version did not (relation swap stayed
    at chance even when every training negative was a relation swap). ``tower="vit"`` keeps that
    tiny ViT for fast tests.
    """

    n_train: int = 8000  # scenes; each has ``captions_per_scene`` captions
    captions_per_scene: int = 2
    pretrain_captions: str = "list"  # "list" (no relations) or "relation"
    pretrain_epochs: int = 2  # 250 steps of batch 128
    pretrain_lr: float = 1e-3
    finetune_epochs: int = 1  # 125 steps, the same for every method
    finetune_lr: float = 1e-3
    finetune_steps: int | None = None  # cap on fine-tuning steps (a reduced budget, the same for every method)
    batch_size: int = 128
    eval_limit: int = 2000  # test scenes per benchmark
    workers: int = 0  # on 2 cores, loader processes only compete with the model for them
    plant_workers: int = 2  # planting is CPU-bound and runs alone: two processes halve it
    tower: str = "resnet"
    width: int = 32
    image_size: int = 48
    embed_dim: int = 64

    def __post_init__(self):
        if self.finetune_steps is not None and self.finetune_steps < 1:
            raise ValueError(f"finetune_steps must be >= 1, got {self.finetune_steps}")
        if self.tower not in ("resnet", "vit"):
            raise ValueError(f"tower must be 'resnet' or 'vit', got {self.tower!r}")
        if self.pretrain_captions not in ("list", "relation"):
            raise ValueError(f"pretrain_captions must be 'list' or 'relation', got {self.pretrain_captions!r}")

    @property
    def finetune_warmup(self) -> int:
        """20 warm-up steps; a fifth of a capped budget under 100 steps."""
        return 20 if self.finetune_steps is None else max(1, min(20, self.finetune_steps // 5))

    def model_config(self) -> dict:
        if self.tower == "vit":
            from ..models import tiny_open_clip_config

            return tiny_open_clip_config(image_size=self.image_size)
        # ModifiedResNet: 4 stages of one bottleneck each, attention pooling over the last map
        return {"embed_dim": self.embed_dim,
                "vision_cfg": {"image_size": self.image_size, "layers": [1, 1, 1, 1], "width": self.width,
                               "head_width": 32},
                "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}}
