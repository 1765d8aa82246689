"""The runner's pool: where chunks are parsed and planted (this process or local worker processes).

Each worker loads spaCy, the lexicon and the backend once (:func:`init_worker`); a chunk
travels as plain captions and comes back as records, never as spaCy objects. The Ray engine
(:mod:`slipform.plant.engine.ray_engine`) runs the same worker code in actors.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import sys
from collections import deque

from ..core.planter import ConcretePlant, PlantConfig
from ..knowledge.embed import encoder_loaded

_WORKER: dict = {}


def limit_threads(threads: int) -> None:
    # one BLAS thread per worker: N workers with 2 threads each on N cores only contend
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    os.environ["SLIPFORM_TORCH_THREADS"] = str(threads)
    if "torch" in sys.modules:  # spaCy's thinc imports it; its own pool spins beside the other workers
        sys.modules["torch"].set_num_threads(threads)


def _init_spawned(config: PlantConfig, vocab_dict: dict | None) -> None:
    limit_threads(1)
    init_worker(config, vocab_dict, threads=1)
    limit_threads(1)  # again: loading spaCy imported torch, whose pool starts with one thread per core


def init_worker(config: PlantConfig, vocab_dict: dict | None, threads: int) -> None:
    from ...text.nlp import load_nlp
    from ..knowledge.vocabulary import Vocabulary

    os.environ["SLIPFORM_TORCH_THREADS"] = str(threads)  # read if MiniLM has to be loaded
    vocab = Vocabulary.from_dict(vocab_dict) if vocab_dict else None
    _WORKER["plant"] = ConcretePlant(config, vocab)
    _WORKER["nlp"] = load_nlp(config.spacy_model)
    _WORKER["plant"].backend.prepare()  # e.g. embed the vocabulary before the first chunk


def plant_chunk(chunk):
    """(chunk, records, skipped, rejected) of one chunk, in this worker."""
    if not chunk.items:
        return chunk, [], [], {}
    plant, nlp = _WORKER["plant"], _WORKER["nlp"]
    docs = list(nlp.pipe([x.caption for x in chunk.items], batch_size=len(chunk.items)))
    result = plant.plant(chunk.items, docs)
    save_vectors()
    return chunk, result.records, result.skipped, result.rejected


def save_vectors() -> None:
    plant = _WORKER.get("plant")
    if plant is not None and "vectors" in plant.__dict__:
        plant.vectors.save()  # a no-op unless new words were embedded


def os_threads() -> int:
    """Threads of this process as the OS counts them (torch's and BLAS's too); -1 if unknown."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1


def fork_state() -> tuple[bool, int]:
    """Taken before a run loads anything: was torch imported already, and how many threads ran."""
    return "torch" in sys.modules, os_threads()


def fork_is_safe(before: tuple[bool, int]) -> bool:
    """Whether forking now cannot copy a running torch thread pool (a fork could then deadlock).

    spaCy's thinc imports torch but runs no torch op, so torch being imported by this run's
    own loading is no reason to spawn; a caller that imported torch before (and may have run
    it, as the demo trains first), MiniLM having run here, or a thread started since ``before``
    (unknown ones included) is.
    """
    torch_before, threads_before = before
    if torch_before or encoder_loaded() or threads_before < 0:
        return False
    return os_threads() <= threads_before


class LocalPool:
    """``workers`` processes on this machine (1: this process), results in input order.

    The planter is loaded here first; workers are forked with it already loaded when
    :func:`fork_is_safe`, else spawned and load it themselves (seconds each).
    """

    def __init__(self, workers: int, config: PlantConfig, vocab_dict: dict | None,
                 before: tuple[bool, int] = (True, -1)):
        init_worker(config, vocab_dict, threads=max(1, os.cpu_count() or 1))
        save_vectors()
        self._pool = None
        self.method = None
        self.workers = workers
        if workers > 1:
            self.method = "fork" if fork_is_safe(before) else "spawn"
            ctx = mp.get_context(self.method)
            init = (_init_spawned, (config, vocab_dict)) if self.method == "spawn" else (limit_threads, (1,))
            if self.method == "fork":
                gc.freeze()  # the loaded planter moves out of the collector's reach: no copy-on-write of its pages
            try:
                self._pool = ctx.Pool(workers, initializer=init[0], initargs=init[1])
            finally:
                if self.method == "fork":
                    gc.unfreeze()

    def map(self, chunks):
        """Planted chunks in input order, at most two per worker in flight: ``chunks`` is read only as
        fast as the workers plant, so what the reader holds per chunk (a tar's members) stays bounded."""
        if self._pool is None:
            yield from map(plant_chunk, chunks)
            return
        pending, window = deque(), 2 * self.workers
        for chunk in chunks:
            pending.append(self._pool.apply_async(plant_chunk, (chunk,)))
            if len(pending) >= window:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
