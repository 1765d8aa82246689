"""Linear probing on frozen image features: single-label (top-1) and multi-label (mAP).

Single-label: logistic regression (scikit-learn, L-BFGS) on image features; the inverse
regularisation C is chosen from a log grid on a validation split (20% of train, seeded), then
refit on all of train. Datasets: CIFAR-10/100 (torchvision's local files under
``cifar10/``, ``cifar100/``) and any ImageFolder with ``train/`` and ``test/`` under
``imagefolder/<name>/``. Metric: top-1 accuracy (%).

Multi-label: one-vs-rest logistic regression, C chosen the same way by mAP. Datasets:

    voc/VOCdevkit/VOC2007/...                       PASCAL VOC 2007 (trainval -> test), 20 classes
    coco/annotations/instances_{train,val}2014.json + coco/{train,val}2014/   COCO 2014, 80 classes

Metric: mAP (%) = mean over classes of scikit-learn's ``average_precision_score``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import torch

from . import register
from .encode import BenchmarkDataError, Encoder, require_files
from .metrics import mean_average_precision
from .zeroshot import cifar_arrays, encode_arrays, image_folder

C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
               "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")


def _split(n: int, seed: int = 0):
    perm = np.random.default_rng(seed).permutation(n)
    cut = max(1, n // 5)
    return perm[cut:], perm[:cut]


def fit_single_label(train_x, train_y, test_x, test_y, seed: int = 0) -> dict:
    from sklearn.linear_model import LogisticRegression

    tr, va = _split(len(train_y), seed)
    best = max(C_GRID, key=lambda c: LogisticRegression(C=c, max_iter=1000).fit(train_x[tr], train_y[tr])
               .score(train_x[va], train_y[va]))
    clf = LogisticRegression(C=best, max_iter=1000).fit(train_x, train_y)
    return {"top1": float(clf.score(test_x, test_y) * 100), "C": best, "n_train": len(train_y), "n_test": len(test_y)}


def fit_multi_label(train_x, train_y, test_x, test_y, seed: int = 0) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    def model(c):
        return OneVsRestClassifier(LogisticRegression(C=c, max_iter=1000))

    # a class that is always (or never) present in train cannot be fit; it is left out, and said so
    keep = train_y.any(0) & ~train_y.all(0)
    train_y, test_y = train_y[:, keep], test_y[:, keep]
    tr, va = _split(len(train_y), seed)
    part = train_y[tr].any(0) & ~train_y[tr].all(0)  # and the same within the fitting part
    best = max(C_GRID, key=lambda c: mean_average_precision(
        model(c).fit(train_x[tr], train_y[tr][:, part]).predict_proba(train_x[va]), train_y[va][:, part]))
    clf = model(best).fit(train_x, train_y)
    return {"mAP": mean_average_precision(clf.predict_proba(test_x), test_y), "C": best,
            "n_train": len(train_y), "n_test": len(test_y), "classes": int(keep.sum())}


def _np(t: torch.Tensor) -> np.ndarray:
    return t.numpy().astype(np.float64)


def _cifar(name):
    def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
        xa, ya, _ = cifar_arrays(data_root, name, True, limit)
        xb, yb, _ = cifar_arrays(data_root, name, False, limit)
        return fit_single_label(_np(encode_arrays(encoder, xa)), ya.numpy(), _np(encode_arrays(encoder, xb)), yb.numpy())
    return evaluate


register("probe_cifar10")(_cifar("cifar10"))
register("probe_cifar100")(_cifar("cifar100"))


@register("probe_imagefolder")
def evaluate_folders(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    root = data_root / "imagefolder"
    if not root.is_dir():
        raise BenchmarkDataError(f"probe: {root} not found; expected DATA_ROOT/imagefolder/<name>/{{train,test}}/<class>/")
    out = {}
    for ds in sorted(p for p in root.iterdir() if p.is_dir()):
        pa, ya, _ = image_folder(ds, "train", limit)
        pb, yb, _ = image_folder(ds, "test", limit)
        res = fit_single_label(_np(encoder.images(pa)), ya.numpy(), _np(encoder.images(pb)), yb.numpy())
        out.update({f"{ds.name}_{k}": v for k, v in res.items()})
    return out


def voc_split(data_root: Path, image_set: str, limit: int | None = None):
    base = data_root / "voc" / "VOCdevkit" / "VOC2007"
    ids_file = base / "ImageSets" / "Main" / f"{image_set}.txt"
    if not ids_file.exists():
        raise BenchmarkDataError(f"probe_voc2007: {ids_file} not found; expected DATA_ROOT/voc/VOCdevkit/VOC2007/")
    ids = ids_file.read_text().split()
    ids = ids[:limit] if limit else ids
    labels = np.zeros((len(ids), len(VOC_CLASSES)), dtype=int)
    for n, i in enumerate(ids):
        for obj in ET.parse(base / "Annotations" / f"{i}.xml").getroot().iter("object"):
            labels[n, VOC_CLASSES.index(obj.findtext("name").strip())] = 1
    return [base / "JPEGImages" / f"{i}.jpg" for i in ids], labels


@register("probe_voc2007")
def evaluate_voc(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    pa, ya = voc_split(data_root, "trainval", limit)
    pb, yb = voc_split(data_root, "test", limit)
    require_files(pa + pb, "probe_voc2007", "DATA_ROOT/voc/VOCdevkit/VOC2007/JPEGImages/<id>.jpg")
    return fit_multi_label(_np(encoder.images(pa)), ya, _np(encoder.images(pb)), yb)


def coco_split(data_root: Path, split: str, limit: int | None = None):
    ann = data_root / "coco" / "annotations" / f"instances_{split}2014.json"
    if not ann.exists():
        raise BenchmarkDataError(f"probe_coco2014: {ann} not found; expected DATA_ROOT/coco/annotations/")
    data = json.loads(ann.read_text())
    cats = sorted(c["id"] for c in data["categories"])
    col = {c: i for i, c in enumerate(cats)}
    images = sorted(data["images"], key=lambda im: im["id"])
    images = images[:limit] if limit else images
    row = {im["id"]: n for n, im in enumerate(images)}
    labels = np.zeros((len(images), len(cats)), dtype=int)
    for a in data["annotations"]:
        if a["image_id"] in row:
            labels[row[a["image_id"]], col[a["category_id"]]] = 1
    return [data_root / "coco" / f"{split}2014" / im["file_name"] for im in images], labels


@register("probe_coco2014")
def evaluate_coco(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    pa, ya = coco_split(data_root, "train", limit)
    pb, yb = coco_split(data_root, "val", limit)
    require_files(pa + pb, "probe_coco2014", "DATA_ROOT/coco/{train,val}2014/<file_name>")
    return fit_multi_label(_np(encoder.images(pa)), ya, _np(encoder.images(pb)), yb)
