"""Peak memory of one loss step per rank under DDP: the global form against local rows.

    python bench/ddp_loss_memory.py --n 1024 --k 1 --dim 512 --kind cement

Two gloo processes on the CPU, each with n local rows (a global batch of N = 2n): random
L2-normalised features (leaves, no model, so the loss is all that allocates), one forward and
backward of the loss with ``local_rows=False`` (every rank the global (N, N + N*K) logits) and
with ``local_rows=True`` (its own (n, N + N*K) rows), each mode in fresh processes. Prints per
rank the resident memory the step added (peak ru_maxrss minus the resident set just before
it), the step's time, the loss (the same in both modes) and the ratio local / global.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _worker(rank, port, args, local_rows, path):
    from slipform.losses import ContrastiveLoss, LossConfig, ddp_scale

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        g = torch.Generator().manual_seed(rank)
        n, k, d = args.n, args.k, args.dim

        def feats(*shape):
            return F.normalize(torch.randn(*shape, d, generator=g), dim=-1).requires_grad_(True)

        img, txt, hard = feats(n), feats(n), feats(n, k)
        mask, conc = torch.ones(n, k, dtype=torch.bool), torch.rand(n, k, generator=g) * 4 + 1
        loss = ContrastiveLoss(LossConfig(kind=args.kind), local_rows=local_rows)
        dist.barrier()
        before = _rss_mb()
        t = time.perf_counter()
        out = loss(img, txt, 1 / 0.07, hard, mask, conc)
        (out["loss"] * ddp_scale()).backward()
        step = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        Path(f"{path}.{rank}").write_text(json.dumps({"before_mb": before, "peak_mb": peak, "step_s": step,
                                                      "loss": out["loss"].item()}))
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1024, help="rows per rank")
    ap.add_argument("--k", type=int, default=1, help="negative captions per caption")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--kind", default="cement", choices=["clip", "negclip", "cement"])
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="slipform-ddpmem-"))
    added = {}
    print(f"{args.kind}, 2 gloo ranks, n = {args.n} rows per rank (N = {2 * args.n}), K = {args.k}, D = {args.dim}")
    for name, local_rows in (("global", False), ("local", True)):
        mp.spawn(_worker, args=(_free_port(), args, local_rows, str(tmp / name)), nprocs=2, join=True)
        ranks = [json.loads((tmp / f"{name}.{r}").read_text()) for r in range(2)]
        added[name] = max(r["peak_mb"] - r["before_mb"] for r in ranks)
        per_rank = ", ".join(f"{r['peak_mb'] - r['before_mb']:.0f}" for r in ranks)
        print(f"  {name:>6}: step adds {per_rank} MB "
              f"(ranks 0, 1; peak RSS {max(r['peak_mb'] for r in ranks):.0f} MB), "
              f"{max(r['step_s'] for r in ranks):.2f} s, loss {ranks[0]['loss']:.6f}")
    print(f"  local / global memory the step adds: {added['local'] / added['global']:.2f}")


if __name__ == "__main__":
    main()
