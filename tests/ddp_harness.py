"""The tests' real 2-process gloo group: run a function on each rank and get back what each returned.

    results = on_two_gloo_ranks(step, tmp_path, "cement")   # step(rank, "cement") on ranks 0 and 1

``fn`` runs after ``init_process_group("gloo")`` on a free local port (the group is destroyed
afterwards, also when ``fn`` raises); it must be a module-level function (spawned processes
import it) and return tensors, or dicts and lists of them (saved with ``torch.save`` and read
back with ``weights_only=True``). :func:`rank_part` is the rank's share of a global batch.
"""

from __future__ import annotations

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

WORLD = 2


def rank_part(rank: int, n: int) -> slice:
    """The rows of an ``n``-row global batch that ``rank`` holds (contiguous halves)."""
    return slice(rank * n // WORLD, (rank + 1) * n // WORLD)


class TwoTowers(torch.nn.Module):
    """Two linear towers from the same seed on every rank: (image, text, hard-negative text) features,
    normalised; the hard negatives go through the text tower."""

    def __init__(self, din: int = 6, d: int = 5):
        super().__init__()
        torch.manual_seed(1)
        self.img, self.txt = torch.nn.Linear(din, d), torch.nn.Linear(din, d)

    def forward(self, x_img, x_txt, x_hard):
        return (F.normalize(self.img(x_img), dim=-1), F.normalize(self.txt(x_txt), dim=-1),
                F.normalize(self.txt(x_hard), dim=-1))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(rank, port, fn, args, path):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        torch.save(fn(rank, *args), f"{path}.{rank}.tmp")
        os.replace(f"{path}.{rank}.tmp", f"{path}.{rank}")  # whole, or not there
    finally:
        dist.destroy_process_group()


def on_two_gloo_ranks(fn, tmp_path, *args) -> list:
    """``[fn(0, *args), fn(1, *args)]``, each computed in its own process of one gloo group.

    A rank killed by a signal after both ranks saved their results does not fail the call: gloo's
    threads can abort a process while it tears the group down ("terminate called without an active
    exception", seen once in CI on 2026-12-08), after the work is done. A rank that dies before its
    result is saved, or raises, still fails it."""
    path = str(tmp_path / "rank")
    try:
        mp.spawn(_entry, args=(_free_port(), fn, args, path), nprocs=WORLD, join=True)
    except mp.ProcessExitedException as exc:
        if exc.signal_name is None or not all(os.path.exists(f"{path}.{rank}") for rank in range(WORLD)):
            raise
    return [torch.load(f"{path}.{rank}", weights_only=True) for rank in range(WORLD)]
