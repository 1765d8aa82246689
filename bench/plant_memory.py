"""Peak memory of `slipform plant` on a large caption file (streamed, never held whole).

    python bench/plant_memory.py --n 100000

Writes N captions (the real COCO captions of fixtures/, repeated), plants them with the
lexical backend in a child process, and prints the child's peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import write_captions  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="slipform-mem-"))
    src = write_captions(tmp / "captions.txt", args.n)
    out = tmp / "neg.jsonl"
    t = time.perf_counter()
    subprocess.run(["slipform", "plant", str(src), "-o", str(out), "--workers", str(args.workers), "--no-progress"],
                   check=True, capture_output=True)
    wall = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = json.loads(Path(str(out) + ".summary.json").read_text())
    print(f"captions: {args.n}, workers: {args.workers}, wall {wall:.0f}s, planted {summary['planted']}")
    print(f"peak RSS of the largest process: {peak_mb:.0f} MB (target <= 2048 MB)")


if __name__ == "__main__":
    main()
