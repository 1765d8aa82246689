"""Helpers for the benchmark tests: an encoder whose similarities the test chooses, tiny images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch


class KeyedEncoder:
    """Stands in for :class:`slipform.evaluate.encode.Encoder` with features the test sets.

    An image's feature is looked up by its file name, a text's by the text itself; anything
    not given raises, so a benchmark that builds a different prompt or opens a different file
    fails the test. ``boxes`` records the crop boxes the benchmark asked for, ``paths`` the full
    paths (a benchmark that reads from the wrong folder asks for a file that is not there).
    """

    def __init__(self, images: dict[str, list[float]], texts: dict[str, list[float]]):
        self._images = {k: torch.tensor(v, dtype=torch.float32) for k, v in images.items()}
        self._texts = {k: torch.tensor(v, dtype=torch.float32) for k, v in texts.items()}
        self.boxes: list = []
        self.image_calls: list[list[str]] = []
        self.paths: list[Path] = []

    def images(self, paths, boxes=None):
        names = [Path(p).name for p in paths]
        self.image_calls.append(names)
        self.paths.extend(Path(p) for p in paths)
        self.boxes.extend(boxes or [None] * len(paths))
        missing = [n for n in names if n not in self._images]
        if missing:
            raise AssertionError(f"benchmark asked for images the test did not define: {missing[:3]}")
        return torch.stack([self._images[n] for n in names])

    def texts(self, texts):
        missing = [t for t in texts if t not in self._texts]
        if missing:
            raise AssertionError(f"benchmark asked for texts the test did not define: {missing[:3]}")
        return torch.stack([self._texts[t] for t in texts])


def tiny_image(path: Path, seed: int = 0) -> Path:
    """A small random RGB image at ``path`` (its format from the suffix)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(abs(hash(str(path))) % 2**32 + seed)
    Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(path)
    return path


def onehot(i: int, dim: int) -> list[float]:
    v = [0.0] * dim
    v[i] = 1.0
    return v
