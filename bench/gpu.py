"""The first GPU check: training and evaluation speed at scale, in one command.

    python bench/gpu.py                     # on a GPU machine: ViT-B-32, batch 256, bf16 (about 5 min on one H200)
    python bench/gpu.py --model tiny --device cpu --batch-size 8 --steps 4 --images 64   # the CPU path (tests)

Generates 256-px JPEGs of coloured shapes with a caption and one planted-style negative each,
then, through the real trainer (``slipform.train``), from random weights:

1. 50 steps of every registered loss (``--losses``, default all of ``slipform train --list-losses``;
   one negative per caption, no edited images): step time, samples/s, peak GPU memory at the
   batch size, the share of step time spent waiting for data, and each loss's step time over ``clip``'s;
2. ``clip`` and ``cement`` again with ``--compile`` (``torch.compile``);
3. the evaluation encoder's images/s (``slipform.evaluate.Encoder``, no feature cache);
4. a 2-process ``torchrun`` run of the cement loss on the one device when its memory allows
   (on the CPU: gloo).

Prints a table and a JSON line; exits 1 when any part fails (an exception, a non-finite loss,
a run that stopped early) and says which.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np


def make_data(root: Path, n: int, size: int = 256) -> dict:
    """``n`` JPEGs with captions (open_clip CSV) and one negative each (planted JSONL)."""
    from PIL import Image, ImageDraw

    colours = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (235, 215, 40)}
    names = list(colours)
    (root / "img").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rows, negs = [], []
    for i in range(n):
        colour, other = names[i % 4], names[(i + 1) % 4]
        im = Image.fromarray(rng.integers(90, 160, (size, size, 3), dtype=np.uint8))
        x, y = rng.integers(20, size - 120, 2)
        ImageDraw.Draw(im).ellipse((x, y, x + 100, y + 100), fill=colours[colour])
        im.save(root / "img" / f"{i}.jpg", quality=90)
        rows.append(f"{i},img/{i}.jpg,a {colour} circle on a grey background number {i}")
        negs.append(json.dumps({"id": str(i), "negative": f"a {other} circle on a grey background number {i}",
                                "concreteness": 4.2, "role": "A"}))
    (root / "train.csv").write_text("id,filepath,title\n" + "\n".join(rows) + "\n")
    (root / "negatives.jsonl").write_text("\n".join(negs) + "\n")
    return {"train": str(root / "train.csv"), "negatives": str(root / "negatives.jsonl"), "image_root": str(root)}


def model_spec(name: str):
    from slipform.models import ModelSpec, tiny_open_clip_config

    if name == "tiny":
        return ModelSpec(name="tiny", pretrained=None, config=tiny_open_clip_config(image_size=64))
    return ModelSpec(name=name, pretrained=None)


def train_run(data: dict, out: Path, args, loss: str, compile: bool) -> dict:
    """One short training run; its speed and memory from the run's own log."""
    import torch

    from slipform.data import DataConfig
    from slipform.losses import LossConfig
    from slipform.train import TrainConfig, train

    cuda = args.device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    result = train(TrainConfig(output=str(out), epochs=100, max_steps=args.steps, batch_size=args.batch_size,
                               lr=1e-4, warmup=5, workers=args.workers, log_every=5, save_every=10**9,
                               precision=args.precision, compile=compile, progress=False,
                               model=model_spec(args.model), loss=LossConfig(kind=loss),
                               data=DataConfig(data["train"], data["negatives"], data["image_root"])))
    seconds = time.perf_counter() - start
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    steady = rows[1:] or rows  # the first logged window holds start-up (and compilation)
    if result["step"] != args.steps:
        raise RuntimeError(f"{loss}: stopped at step {result['step']} of {args.steps}")
    if not all(np.isfinite(r["loss"]) for r in rows) or result["nonfinite_steps"]:
        raise RuntimeError(f"{loss}: non-finite loss")
    sps = statistics.median(r["samples_per_s"] for r in steady)
    return {"loss": loss, "compile": compile, "samples_per_s": round(sps, 1),
            "step_ms": round(1000 * args.batch_size / sps, 1),
            "data_wait": round(statistics.mean(r["data_wait"] for r in steady), 3),
            "peak_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
            "wall_s": round(seconds, 1)}


def encoder_speed(data: dict, args) -> dict:
    import torch

    from slipform.evaluate.encode import Encoder
    from slipform.models import load_model

    model = load_model(model_spec(args.model)).to(args.device)
    paths = sorted(Path(data["image_root"], "img").glob("*.jpg"))
    enc = Encoder(model, cache_dir=None, device=args.device, workers=args.workers, batch_size=args.batch_size)
    enc.images(paths[: args.batch_size])  # warm-up
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    enc = Encoder(model, cache_dir=None, device=args.device, workers=args.workers, batch_size=args.batch_size)
    start = time.perf_counter()
    enc.images(paths)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    return {"images": len(paths), "images_per_s": round(len(paths) / (time.perf_counter() - start), 1)}


def torchrun_run(data: dict, out: Path, args, peak_gb: float | None) -> dict:
    """The same cement run in 2 processes on the one device (skipped when memory is short)."""
    import torch

    if args.device.startswith("cuda"):
        free = torch.cuda.mem_get_info()[0] / 2**30
        if peak_gb is not None and free < 2.2 * peak_gb:
            return {"skipped": f"{free:.0f} GB free < 2 x {peak_gb:.1f} GB"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
           "slipform.cli", "train", "--train", data["train"], "--negatives", data["negatives"], "--image-root",
           data["image_root"], "--pretrained", "none", "--loss", "cement", "--batch-size", str(args.batch_size // 2),
           "--epochs", "100", "--max-steps", str(min(args.steps, 20)), "--lr", "1e-4", "--warmup", "5",
           "--workers", str(args.workers), "--log-every", "5", "--no-progress", "--precision", args.precision,
           "-o", str(out)]
    cmd += ["--model", "tiny", "--model-config", "tiny"] if args.model == "tiny" else ["--model", args.model]
    env = dict(os.environ)
    if not args.device.startswith("cuda"):
        env["CUDA_VISIBLE_DEVICES"] = ""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    if proc.returncode:
        raise RuntimeError(f"torchrun exited {proc.returncode}: {proc.stderr[-2000:]}")
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return {"steps": rows[-1]["step"], "samples_per_s": round(statistics.median(r["samples_per_s"] for r in rows), 1),
            "wall_s": round(time.perf_counter() - start, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="ViT-B-32", help="open_clip architecture (random weights), or 'tiny'")
    ap.add_argument("--device", default=None, help="default: cuda when available")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--images", type=int, default=2048, help="generated JPEGs (default 2048)")
    ap.add_argument("--precision", default=None, help="default: bf16 on a GPU, fp32 on the CPU")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--timeout", type=int, default=300, help="seconds for the torchrun part")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--losses", default="all", help="comma-separated registered losses (default: all)")
    args = ap.parse_args(argv)
    import torch

    from slipform.losses import list_losses

    losses = list_losses() if args.losses == "all" else [x.strip() for x in args.losses.split(",") if x.strip()]
    unknown = sorted(set(losses) - set(list_losses()))
    if unknown:
        ap.error(f"unknown loss(es) {', '.join(unknown)}; choose from {', '.join(list_losses())}")
    losses = ["clip"] + [x for x in losses if x != "clip"]  # the reference of every ratio runs first

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    args.precision = args.precision or ("bf16" if args.device.startswith("cuda") else "fp32")
    results, failures = {"device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
                         "model": args.model, "batch_size": args.batch_size, "precision": args.precision}, []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = make_data(tmp / "data", args.images)
        runs = []
        for compile in (False,) if args.no_compile else (False, True):
            for loss in losses if not compile else [x for x in ("clip", "cement") if x in losses]:
                name = f"{loss}{' compiled' if compile else ''}"
                try:
                    runs.append(train_run(data, tmp / name.replace(" ", "-"), args, loss, compile))
                except Exception as exc:  # noqa: BLE001 - report every part, then fail
                    failures.append(f"{name}: {exc}")
                    traceback.print_exc()
        results["runs"] = runs
        for compile in (False, True):
            same = {r["loss"]: r for r in runs if r["compile"] == compile}
            if "clip" in same and "cement" in same:
                results[f"cement_over_clip{'_compiled' if compile else ''}"] = round(
                    same["cement"]["step_ms"] / same["clip"]["step_ms"], 3)
            if not compile and "clip" in same:
                results["step_over_clip"] = {k: round(r["step_ms"] / same["clip"]["step_ms"], 3)
                                             for k, r in same.items()}
        for key, fn in (("encoder", lambda: encoder_speed(data, args)),
                        ("torchrun_2proc", lambda: torchrun_run(data, tmp / "ddp", args,
                                                                max((r["peak_mem_gb"] or 0 for r in runs), default=None)))):
            try:
                results[key] = fn()
            except Exception as exc:  # noqa: BLE001
                failures.append(f"{key}: {exc}")
                traceback.print_exc()
    print(f"{'run':<18}{'step ms':>9}{'samples/s':>11}{'data wait':>11}{'peak GB':>9}")
    for r in results["runs"]:
        name = r["loss"] + (" compiled" if r["compile"] else "")
        print(f"{name:<18}{r['step_ms']:>9}{r['samples_per_s']:>11}{r['data_wait']:>11}{str(r['peak_mem_gb']):>9}")
    for key in ("step_over_clip", "cement_over_clip", "cement_over_clip_compiled", "encoder", "torchrun_2proc"):
        if key in results:
            print(f"{key}: {results[key]}")
    results["failures"] = failures
    print(json.dumps(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    for f in failures:
        print(f"FAILED {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
