"""Linear probing on frozen image features: single-label (top-1) and multi-label (mAP).

Single-label: logistic regression (scikit-learn, L-BFGS) on image features; the inverse
regularisation C is chosen on a validation split (20% of train, seeded) by the CLIP paper's
sweep -- 1e-6 ... 1e6, one value per decade, then quarter decades around the best -- then the
probe is refit on all of train; the chosen C is reported, with a warning when it sits at an
edge of the range. Datasets: CIFAR-10/100 (torchvision's local files under
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
from functools import partial
from pathlib import Path

import numpy as np
import torch

from . import register
from .encode import BenchmarkDataError, Encoder, require_files
from .metrics import mean_average_precision
from .zeroshot import cifar_arrays, encode_arrays, image_folder

# the CLIP paper's sweep range for the inverse L2 strength: 1e-6 ... 1e6, coarse (one value per
# decade) then refined around the best (quarter decades)
C_GRID = tuple(10.0 ** e for e in range(-6, 7))
C_REFINE = tuple(10.0 ** (q / 4) for q in (-3, -2, -1, 1, 2, 3))
VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
               "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")


def _split(n: int, seed: int = 0):
    perm = np.random.default_rng(seed).permutation(n)
    cut = max(1, n // 5)
    return perm[cut:], perm[:cut]


def sweep_c(score, name: str = "probe") -> tuple[float, bool]:
    """The C that maximises ``score(C)`` (validation accuracy or mAP): a coarse sweep over
    1e-6 ... 1e6, one value per decade, then quarter decades around the best, as in the CLIP
    paper. Returns C and whether it sits at an edge of the range (warned: a wider range or other
    features may be needed)."""
    import warnings

    scores = {c: score(c) for c in C_GRID}
    coarse = max(scores, key=scores.get)
    for f in C_REFINE:
        c = coarse * f
        if C_GRID[0] <= c <= C_GRID[-1]:
            scores[c] = score(c)
    best = max(scores, key=lambda c: (scores[c], -abs(np.log10(c) - np.log10(coarse))))
    edge = best in (C_GRID[0], C_GRID[-1])
    if edge:
        warnings.warn(f"{name}: the chosen C = {best:g} is at the edge of the sweep "
                      f"({C_GRID[0]:g} ... {C_GRID[-1]:g}); the optimum may lie beyond it", stacklevel=2)
    return best, edge


def fit_single_label(train_x, train_y, test_x, test_y, seed: int = 0) -> dict:
    from sklearn.linear_model import LogisticRegression

    tr, va = _split(len(train_y), seed)
    # one estimator through the sweep, each fit starting from the last C's solution (a warm start:
    # the same optimum, far fewer iterations than 19 fits from zero)
    path = LogisticRegression(max_iter=1000, warm_start=True)
    best, edge = sweep_c(lambda c: path.set_params(C=c).fit(train_x[tr], train_y[tr])
                         .score(train_x[va], train_y[va]), "single-label probe")
    clf = LogisticRegression(C=best, max_iter=1000).fit(train_x, train_y)
    return {"top1": float(clf.score(test_x, test_y) * 100), "C": best, "C_at_edge": edge, "n_train": len(train_y),
            "n_test": len(test_y)}


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
    # one binary estimator per class through the sweep, warm-started as in fit_single_label
    paths = [LogisticRegression(max_iter=1000, warm_start=True) for _ in range(int(part.sum()))]

    def score(c):
        cols = np.flatnonzero(part)
        probs = np.stack([m.set_params(C=c).fit(train_x[tr], train_y[tr][:, j]).predict_proba(train_x[va])[:, 1]
                          for m, j in zip(paths, cols)], axis=1)
        return mean_average_precision(probs, train_y[va][:, part])

    best, edge = sweep_c(score, "multi-label probe")
    clf = model(best).fit(train_x, train_y)
    return {"mAP": mean_average_precision(clf.predict_proba(test_x), test_y), "C": best, "C_at_edge": edge,
            "n_train": len(train_y), "n_test": len(test_y), "classes": int(keep.sum())}


def _np(t: torch.Tensor) -> np.ndarray:
    return t.numpy().astype(np.float64)


def evaluate_cifar(name: str, encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    """The probe on CIFAR (train -> test), registered per dataset with ``partial`` (see zeroshot's)."""
    xa, ya, _ = cifar_arrays(data_root, name, True, limit)
    xb, yb, _ = cifar_arrays(data_root, name, False, limit)
    return fit_single_label(_np(encode_arrays(encoder, xa)), ya.numpy(), _np(encode_arrays(encoder, xb)), yb.numpy())


register("probe_cifar10", "linear probe on CIFAR-10 features (top-1)", "cifar10/cifar-10-batches-py/", family="classification")(partial(evaluate_cifar, "cifar10"))
register("probe_cifar100", "linear probe on CIFAR-100 features (top-1)", "cifar100/cifar-100-python/", family="classification")(partial(evaluate_cifar, "cifar100"))


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


register("probe_imagefolder", "linear probe on any ImageFolder (top-1)", "imagefolder/<name>/{train,test}/<class>/<image>", family="classification")(evaluate_folders)


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


def evaluate_voc(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    pa, ya = voc_split(data_root, "trainval", limit)
    pb, yb = voc_split(data_root, "test", limit)
    require_files(pa + pb, "probe_voc2007", "DATA_ROOT/voc/VOCdevkit/VOC2007/JPEGImages/<id>.jpg")
    return fit_multi_label(_np(encoder.images(pa)), ya, _np(encoder.images(pb)), yb)


register("probe_voc2007", "multi-label linear probe, PASCAL VOC 2007, 20 classes (mAP)", "voc/VOCdevkit/VOC2007/", family="classification")(evaluate_voc)


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


def evaluate_coco(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    pa, ya = coco_split(data_root, "train", limit)
    pb, yb = coco_split(data_root, "val", limit)
    require_files(pa + pb, "probe_coco2014", "DATA_ROOT/coco/{train,val}2014/<file_name>")
    return fit_multi_label(_np(encoder.images(pa)), ya, _np(encoder.images(pb)), yb)


register("probe_coco2014", "multi-label linear probe, COCO 2014, 80 classes (mAP)",
         "coco/annotations/instances_{train,val}2014.json, coco/{train,val}2014/", family="classification")(evaluate_coco)
