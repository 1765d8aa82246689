"""Zero-shot classification with CLIP's prompt templates.

Datasets::

    cifar10/ or cifar100/     torchvision's CIFAR files (cifar-10-batches-py/ ...), read locally
    imagefolder/<name>/test/<class>/<image>    any ImageFolder; class names from folder names
                                               (underscores become spaces)

Class embeddings average the normalised text features of OpenAI's ImageNet prompt templates
("a photo of a {}.", "a bad photo of the {}.", ... 80 of them, from open_clip). Metrics: top-1
and top-5 accuracy (%).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F

from . import register
from .encode import BenchmarkDataError, Encoder


def templates():
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES

    return OPENAI_IMAGENET_TEMPLATES


def class_weights(encoder: Encoder, classnames: list[str]) -> torch.Tensor:
    ts = templates()
    texts = [t(c) for c in classnames for t in ts]
    feats = encoder.texts(texts).reshape(len(classnames), len(ts), -1)
    return F.normalize(feats.mean(1), dim=-1)


def accuracy(img: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> dict:
    logits = img @ weights.T
    top5 = logits.topk(min(5, weights.shape[0]), dim=1).indices
    return {"top1": float((top5[:, 0] == labels).float().mean() * 100),
            "top5": float((top5 == labels.unsqueeze(1)).any(1).float().mean() * 100), "n": len(labels)}


def image_folder(root: Path, split: str, limit: int | None = None):
    """(paths, labels, classnames) of ``root/split/<class>/*``; ``limit`` counts images per class."""
    base = root / split
    if not base.is_dir():
        raise BenchmarkDataError(f"zero-shot: {base} not found; expected DATA_ROOT/imagefolder/<name>/{split}/<class>/")
    classes = sorted(p.name for p in base.iterdir() if p.is_dir())
    paths, labels = [], []
    for i, c in enumerate(classes):
        files = sorted(p for p in (base / c).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp", ".webp"))
        files = files[:limit] if limit else files
        paths += files
        labels += [i] * len(files)
    return paths, torch.tensor(labels), [c.replace("_", " ") for c in classes]


def cifar_arrays(data_root: Path, name: str, train: bool, limit: int | None = None):
    import torchvision

    cls = torchvision.datasets.CIFAR10 if name == "cifar10" else torchvision.datasets.CIFAR100
    try:
        ds = cls(str(data_root / name), train=train, download=False)
    except RuntimeError:
        raise BenchmarkDataError(f"zero-shot: {name} files not found under {data_root / name} "
                                 "(torchvision's CIFAR layout, e.g. cifar-10-batches-py/)") from None
    n = min(limit or len(ds), len(ds))
    return ds.data[:n], torch.tensor(ds.targets[:n]), list(ds.classes)


def encode_arrays(encoder: Encoder, arrays) -> torch.Tensor:
    """Features of in-memory images (CIFAR), not cached on disk."""
    from PIL import Image

    batch, out = [], []
    with torch.no_grad():
        for a in arrays:
            batch.append(encoder.model.preprocess(Image.fromarray(a)))
            if len(batch) == encoder.batch_size:
                out.append(encoder.model.encode_image(torch.stack(batch).to(encoder.device)).float().cpu())
                batch = []
        if batch:
            out.append(encoder.model.encode_image(torch.stack(batch).to(encoder.device)).float().cpu())
    return torch.cat(out)


def evaluate_cifar(name: str, encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    """Zero-shot on CIFAR's test split (registered per dataset with ``partial``, not a closure made at
    import: mutmut's mutants take effect only in code that runs when a test calls it)."""
    arrays, labels, classes = cifar_arrays(data_root, name, False, limit)
    return accuracy(encode_arrays(encoder, arrays), labels, class_weights(encoder, classes))


register("zeroshot_cifar10", "zero-shot CIFAR-10 with the 80 OpenAI prompts (top-1/5)", "cifar10/cifar-10-batches-py/", family="classification")(
    partial(evaluate_cifar, "cifar10"))
register("zeroshot_cifar100", "zero-shot CIFAR-100 with the 80 OpenAI prompts (top-1/5)", "cifar100/cifar-100-python/", family="classification")(
    partial(evaluate_cifar, "cifar100"))


def evaluate_folders(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    """Every dataset under DATA_ROOT/imagefolder/ (its ``test`` split)."""
    root = data_root / "imagefolder"
    if not root.is_dir():
        raise BenchmarkDataError(f"zero-shot: {root} not found; expected DATA_ROOT/imagefolder/<name>/test/<class>/")
    out = {}
    for ds in sorted(p for p in root.iterdir() if p.is_dir()):
        paths, labels, classes = image_folder(ds, "test", limit)
        for k, v in accuracy(encoder.images(paths), labels, class_weights(encoder, classes)).items():
            out[f"{ds.name}_{k}"] = v
    return out


register("zeroshot_imagefolder", "zero-shot on any ImageFolder, class names from folders (top-1/5)",
         "imagefolder/<name>/test/<class>/<image>", family="classification")(evaluate_folders)
