"""Evaluation throughput against raw image encoding, and the speed-up of a repeated run.

    python bench/eval.py --n 256

Builds a SugarCrepe-format benchmark over N generated 320x240 JPEGs (one item per image),
then measures in one run: (1) raw encoding of the N images with the same loader and model
(no cache); (2) a full `sugarcrepe` evaluation with an empty cache (images + captions +
metrics); (3) the same evaluation again, features read from the disk cache. Prints the
ratios the issue sets targets for (>= 0.8 and >= 5).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from slipform.evaluate import get_benchmark
from slipform.evaluate.encode import Encoder
from slipform.evaluate.sugarcrepe import SUBSETS
from slipform.models import ModelSpec, load_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--model", default="ViT-B-32")
    args = ap.parse_args()
    from PIL import Image

    root = Path(tempfile.mkdtemp(prefix="slipform-evalbench-"))
    (root / "coco" / "val2017").mkdir(parents=True)
    (root / "sugarcrepe").mkdir()
    rng = np.random.default_rng(0)
    names = []
    for i in range(args.n):
        name = f"{i:012d}.jpg"
        Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(root / "coco" / "val2017" / name)
        names.append(name)
    per = -(-args.n // len(SUBSETS))
    for s, sub in enumerate(SUBSETS):
        items = {str(j): {"filename": n, "caption": f"a photo of thing {j}", "negative_caption": f"a photo of {j} things"}
                 for j, n in enumerate(names[s * per:(s + 1) * per])}
        (root / "sugarcrepe" / f"{sub}.json").write_text(json.dumps(items))
    torch.manual_seed(0)
    model = load_model(ModelSpec("open_clip", args.model, None, quick_gelu=False))
    paths = [root / "coco" / "val2017" / n for n in names]

    t = time.perf_counter()
    Encoder(model, cache_dir=None, workers=2).images(paths)
    raw = time.perf_counter() - t

    cache = root / "cache"
    t = time.perf_counter()
    enc = Encoder(model, cache_dir=cache, workers=2)
    get_benchmark("sugarcrepe")(enc, root)
    enc.save()
    first = time.perf_counter() - t

    t = time.perf_counter()
    enc2 = Encoder(model, cache_dir=cache, workers=2)
    get_benchmark("sugarcrepe")(enc2, root)
    again = time.perf_counter() - t
    assert enc2.encoded_images == 0
    print(f"{args.n} images, {args.model}, CPU: raw encoding {args.n / raw:.1f} img/s; evaluation {args.n / first:.1f} "
          f"img/s (ratio {raw / first:.2f}, target >= 0.8); repeated run {again:.2f} s vs {first:.2f} s "
          f"({first / again:.1f}x faster, target >= 5)")


if __name__ == "__main__":
    main()
