"""Wall time and peak memory of ``slipform demo`` against its targets (10 minutes, 4 GB, 2 cores).

    python bench/demo.py            # a fresh cache: pretraining included, as on a new machine
    python bench/demo.py --warm     # the cache of an earlier run: pretraining reused

Runs the command in a child process and samples, every second, the summed proportional set
size (PSS, from /proc/<pid>/smaps_rollup) of the child and all its descendants (data-loader
workers, planting workers), so shared pages are not counted twice. Prints the ratios measured
to the targets (<= 1 meets them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS, TARGET_BYTES = 600, 4 * 1024**3


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return out


def pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warm", action="store_true", help="reuse $SLIPFORM_CACHE (default: a fresh temporary cache)")
    ap.add_argument("--output", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.output or str(Path(tmp) / "report")
        cmd = [sys.executable, "-m", "slipform.cli", "demo", "-o", out, "--no-progress"]
        if not args.warm:
            cmd += ["--cache", str(Path(tmp) / "cache")]
        env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
        start = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        peak = 0
        while child.poll() is None:
            peak = max(peak, sum(pss(p) for p in descendants(child.pid)))
            time.sleep(1.0)
        seconds = time.perf_counter() - start
        table = child.stdout.read()
        if child.returncode:
            sys.exit(f"slipform demo failed with exit code {child.returncode}")
    print(table)
    result = {"cores": os.cpu_count(), "cache": "warm" if args.warm else "fresh", "wall_seconds": round(seconds, 1),
              "peak_pss_mb": round(peak / 2**20), "time_ratio": round(seconds / TARGET_SECONDS, 3),
              "memory_ratio": round(peak / TARGET_BYTES, 3)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
