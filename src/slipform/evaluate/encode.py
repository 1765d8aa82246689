"""Encoding images and texts once per model, with an on-disk feature cache.

Image features are keyed by the model's fingerprint and, per image, by its path, size,
modification time and crop box, so an image shared by several benchmarks (COCO val2017 in
SugarCrepe and SugarCrepe++) is encoded once, and a repeated run reads features from disk.
Images load in DataLoader worker processes.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from ..safeload import load_tensors


class BenchmarkDataError(FileNotFoundError):
    """A benchmark's files are missing or malformed; the message says what and where."""


def require_files(paths: list[Path], benchmark: str, expected: str) -> None:
    """Raise a clear error naming how many files are missing and where they were expected."""
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise BenchmarkDataError(f"{benchmark}: {len(missing)} of {len(paths)} files missing (first: {missing[0]}); "
                                 f"expected layout: {expected}")


def read_json(path: Path, benchmark: str, expected: str):
    """A benchmark's JSON file, or a :class:`BenchmarkDataError` naming it (missing or malformed)."""
    import json

    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BenchmarkDataError(f"{benchmark}: {path} not found; expected layout: {expected}") from None
    except ValueError as exc:
        raise BenchmarkDataError(f"{benchmark}: {path}: malformed JSON ({exc})") from None


def published_file_note(path: Path, rows: int, expected_rows: int, sha256_prefix: str = "") -> str | None:
    """A note when a user's annotation file differs from the published one (row count, and the
    start of its sha256 where the format notes record it); ``None`` when it matches."""
    import hashlib

    notes = []
    if rows != expected_rows:
        notes.append(f"{rows} rows where the published file has {expected_rows}")
    if sha256_prefix:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if not digest.startswith(sha256_prefix):
            notes.append(f"sha256 {digest[:8]}... is not the published {sha256_prefix}...")
    return f"{path}: " + "; ".join(notes) + " (numbers may not compare with published ones)" if notes else None


def _open_rgb(path):
    """An image file as RGB; a ``.npy`` frame (EqBen's YouCook2 subset stores BGR arrays) too."""
    from PIL import Image

    if str(path).endswith(".npy"):
        import numpy as np

        return Image.fromarray(np.ascontiguousarray(np.load(path)[:, :, ::-1]), "RGB")
    with Image.open(path) as im:
        return im.convert("RGB")


def _cache_key(path, box) -> str:
    """An image's key in the feature cache: its path, size, modification time and crop box."""
    st = os.stat(path)
    return f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}|{box}"


class _Images(Dataset):
    def __init__(self, items, transform):
        self.items, self.transform = items, transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, box = self.items[i]
        im = _open_rgb(path)
        if box is not None:
            im = im.crop(box)
        return self.transform(im)


class Encoder:
    """Normalised image and text features of one model, cached."""

    def __init__(self, model, cache_dir: str | Path | None = None, device: str = "cpu", workers: int = 2,
                 batch_size: int = 64, progress: bool = False):
        self.model = model.to(device).eval()
        self.device, self.workers, self.batch_size, self.progress = device, workers, batch_size, progress
        self.fingerprint = model.fingerprint()
        root = Path(cache_dir) if cache_dir else None
        self.path = root / f"features-{self.fingerprint}.pt" if root else None
        self._images: dict[str, torch.Tensor] = {}
        if self.path is not None and self.path.exists():
            self._images = load_tensors(self.path, "feature cache")
        self._texts: dict[str, torch.Tensor] = {}
        self._dirty = False
        self.encoded_images = 0  # how many were computed rather than read from the cache

    def images(self, paths: list, boxes: list | None = None) -> torch.Tensor:
        """Features (N, D) of image files, optionally cropped to (left, top, right, bottom)."""
        boxes = boxes or [None] * len(paths)
        keys = [_cache_key(p, tuple(b) if b is not None else None) for p, b in zip(paths, boxes)]
        todo = sorted({k: (p, tuple(b) if b is not None else None) for k, p, b in zip(keys, paths, boxes)
                       if k not in self._images}.items())
        if todo:
            ds = _Images([item for _, item in todo], self.model.preprocess)
            loader = DataLoader(ds, batch_size=self.batch_size, num_workers=self.workers)
            feats = []
            if self.progress:
                from tqdm import tqdm

                loader = tqdm(loader, desc="images", unit="batch")
            with torch.no_grad():
                for batch in loader:
                    feats.append(self.model.encode_image(batch.to(self.device)).float().cpu())
            for (key, _), f in zip(todo, torch.cat(feats)):
                self._images[key] = f.clone()
            self.encoded_images += len(todo)
            self._dirty = True
        return torch.stack([self._images[k] for k in keys])

    def texts(self, texts: list[str]) -> torch.Tensor:
        todo = sorted({t for t in texts if t not in self._texts})
        for s in range(0, len(todo), 256):
            chunk = todo[s:s + 256]
            with torch.no_grad():
                feats = self.model.encode_text(self.model.tokenize(chunk).to(self.device)).float().cpu()
            self._texts.update(zip(chunk, feats))
        return torch.stack([self._texts[t] for t in texts]) if texts else torch.zeros(0)

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        torch.save(self._images, tmp)
        os.replace(tmp, self.path)
        self._dirty = False
