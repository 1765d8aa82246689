"""Image-text retrieval: COCO 5k and Flickr30k 1k test splits (Karpathy).

Files: Karpathy's split JSON files and the images::

    karpathy/dataset_coco.json        coco/<filepath>/<filename>   (val2014/COCO_val2014_...jpg)
    karpathy/dataset_flickr30k.json   flickr30k/images/<filename>

Metric: recall@1/5/10 (%) in both directions in the CLIP-paper convention: an image is
retrieved at K when any of its (five) captions is among its top K texts; a caption when its
image is among its top K images.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from . import register
from .encode import BenchmarkDataError, Encoder, require_files
from .metrics import recall_at_k

SPLITS = {"coco": ("dataset_coco.json", lambda root, im: root / "coco" / im["filepath"] / im["filename"]),
          "flickr30k": ("dataset_flickr30k.json", lambda root, im: root / "flickr30k" / "images" / im["filename"])}


def load_test(data_root: Path, dataset: str, limit: int | None = None):
    name, image_path = SPLITS[dataset]
    path = data_root / "karpathy" / name
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BenchmarkDataError(f"retrieval: {path} not found; expected DATA_ROOT/karpathy/{name}") from None
    images = [im for im in data["images"] if im.get("split") == "test"]
    images = images[:limit] if limit else images
    paths, texts, owner = [], [], []
    for i, im in enumerate(images):
        paths.append(image_path(data_root, im))
        for s in im["sentences"]:
            texts.append(s["raw"])
            owner.append(i)
    return paths, texts, torch.tensor(owner)


def _evaluate(dataset: str, encoder: Encoder, data_root: Path, limit: int | None) -> dict:
    paths, texts, owner = load_test(data_root, dataset, limit)
    require_files(paths, f"retrieval_{dataset}", f"see {__name__} docstring")
    sim = encoder.images(paths) @ encoder.texts(texts).T
    return {**recall_at_k(sim, owner), "n_images": len(paths), "n_texts": len(texts)}


def evaluate_coco(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    return _evaluate("coco", encoder, data_root, limit)


register("retrieval_coco", "image<->text retrieval, COCO 5k test (Karpathy), R@1/5/10",
         "karpathy/dataset_coco.json, coco/<filepath>/<filename>", family="retrieval")(evaluate_coco)


def evaluate_flickr(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    return _evaluate("flickr30k", encoder, data_root, limit)


register("retrieval_flickr30k", "image<->text retrieval, Flickr30k 1k test (Karpathy), R@1/5/10",
         "karpathy/dataset_flickr30k.json, flickr30k/images/<filename>", family="retrieval")(evaluate_flickr)
