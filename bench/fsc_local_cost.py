"""Step cost of FSC-CLIP's local token-patch loss, measured within one run.

    python bench/fsc_local_cost.py [--batch 32] [--rounds 5] [--repeats 5]

The real :class:`slipform.train.Trainer` step (forward, loss, backward, optimizer) with
``--loss fsc_clip`` at ``local_weight=0`` (the global loss alone, no token features) and at the
authors' 0.2 (the dense forward and the local loss), on the tiny open_clip ViT and on the world
protocol's ModifiedResNet (48 px: a 1x1 last grid), one batch of generated images with one
negative caption each. Rounds interleave the settings; each keeps its best round's median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from slipform.data import DataConfig
from slipform.experiment.config import ProtocolConfig
from slipform.losses import LossConfig
from slipform.models import ModelSpec, tiny_open_clip_config
from slipform.train import TrainConfig, Trainer

COLOURS = {"red": (220, 30, 30), "blue": (30, 60, 220), "green": (30, 170, 60), "yellow": (230, 200, 30)}


def _data(root: Path, n: int) -> DataConfig:
    from PIL import Image

    (root / "images").mkdir(parents=True, exist_ok=True)
    names = list(COLOURS)
    rows, negs = [], []
    for i in range(n):
        colour = names[i % 4]
        Image.new("RGB", (48, 48), COLOURS[colour]).save(root / "images" / f"{i}.png")
        rows.append(f"{i},images/{i}.png,a {colour} square\n")
        negs.append(json.dumps({"id": str(i), "caption": f"a {colour} square", "negative": f"a {names[(i + 1) % 4]} "
                                "square", "target": colour, "role": "A", "concreteness": 4.0}) + "\n")
    (root / "train.csv").write_text("id,filepath,title\n" + "".join(rows))
    (root / "negatives.jsonl").write_text("".join(negs))
    return DataConfig(str(root / "train.csv"), str(root / "negatives.jsonl"), str(root))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    models = {"tiny ViT": tiny_open_clip_config(), "world ResNet": ProtocolConfig().model_config()}
    with tempfile.TemporaryDirectory() as tmp:
        data = _data(Path(tmp) / "data", 2 * args.batch)
        for label, config in models.items():
            trainers, batches = {}, {}
            for weight in (0.0, 0.2):
                cfg = TrainConfig(output=str(Path(tmp) / f"{label}-{weight}"), epochs=1, batch_size=args.batch,
                                  lr=1e-4, warmup=1, workers=0, progress=False, data=data,
                                  model=ModelSpec("open_clip", label, None, config),
                                  loss=LossConfig("fsc_clip", options={"local_weight": weight}))
                trainers[weight] = Trainer(cfg)
                batches[weight] = next(trainers[weight]._loader(0))
                trainers[weight]._train_step([batches[weight]])  # warm-up
            best = {w: float("inf") for w in trainers}
            for r in range(args.rounds):
                for w in (list(trainers) if r % 2 == 0 else list(trainers)[::-1]):
                    times = []
                    for _ in range(args.repeats):
                        start = time.perf_counter()
                        trainers[w]._train_step([batches[w]])
                        times.append(time.perf_counter() - start)
                    best[w] = min(best[w], statistics.median(times))
            print(f"{label}: step {best[0.0]:.3f} s global only, {best[0.2]:.3f} s with the local loss "
                  f"({best[0.2] / best[0.0]:.2f}x), batch {args.batch}, torch threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
