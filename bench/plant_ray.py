"""The Ray engine against one process on this machine: start-up, throughput, memory per actor.

    python bench/plant_ray.py --n 5000 --actors 2

Plants the same captions (warm vocabulary and embedding caches) once with the local engine
(1 process) and once with ``engine="ray"`` on a local cluster of ``--actors`` CPUs, and checks
that the outputs are identical. Prints the time to start Ray, the run's loading time (Ray:
until every actor has loaded spaCy), captions/s after loading and end to end, and the
resident memory of one actor (from /proc, while the actors are alive) next to this process's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import write_captions  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--actors", type=int, default=2)
    ap.add_argument("--shards", type=int, default=8)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="slipform-ray-bench-"))
    os.environ["SLIPFORM_CACHE"] = str(tmp / "cache")
    import ray

    from slipform.plant import PlantConfig, plant_file
    from slipform.plant.engine import ray_engine

    src = write_captions(tmp / "captions.txt", args.n)
    plant_file(src, tmp / "warmup.jsonl", PlantConfig(), progress=False)  # vocabulary and word vectors cached
    one = plant_file(src, tmp / "one.jsonl", PlantConfig(), progress=False)

    t = time.perf_counter()
    ray.init(num_cpus=args.actors, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - t
    summary = plant_file(src, tmp / "ray.jsonl", PlantConfig(), engine="ray", workers=args.actors,
                         num_shards=args.shards, progress=False)
    actor_mb = [a["rss_mb"] for a in ray_engine.actors_up]
    ray.shutdown()
    same = (tmp / "ray.jsonl").read_bytes() == (tmp / "one.jsonl").read_bytes()

    def rate(s):
        return args.n / (s.seconds - s.startup_seconds), args.n / s.seconds

    r1, r1e = rate(one)
    rr, rre = rate(summary)
    print(f"captions: {args.n}; {args.actors} actors, {args.shards} shards; outputs identical: {same}")
    print(f"ray.init (local cluster)          {ray_start:6.1f} s")
    print(f"loading: 1 process                {one.startup_seconds:6.1f} s")
    print(f"loading: ray (vocab + actors up)  {summary.startup_seconds:6.1f} s")
    print(f"1 process   after loading {r1:7.1f} captions/s   end to end {r1e:7.1f}")
    print(f"ray         after loading {rr:7.1f} captions/s   end to end {rre:7.1f}   "
          f"({rr / r1:.2f}x / {rre / r1e:.2f}x of 1 process)")
    print(f"resident memory: one actor {max(actor_mb):.0f} MB once loaded; "
          f"this driver (which also ran the 1-process engine) {rss_mb(os.getpid()):.0f} MB")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
