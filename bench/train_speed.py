"""Cost of hard negatives and of the Cement loss, measured within one run.

    python bench/train_speed.py

1. Cement vs NegCLIP loss, forward + backward, at batch 256 with 256 hard negatives
   (512-d features): ratio (target <= 1.05).
2. A full training step of ViT-B-32 (random init, batch 64, CPU, fp32) with one hard negative
   per caption and the Cement loss, vs a CLIP step on the same batch (target <= 1.6), and the
   Cement loss's share of that step (target <= 3%).
3. Data loading: the share of step time spent waiting for batches with 2 loader workers,
   from a short Trainer run of ViT-B-32 on generated 256x256 JPEGs (target <= 5%).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from slipform.data import DataConfig
from slipform.losses import ContrastiveLoss, LossConfig
from slipform.models import ModelSpec, load_model
from slipform.train import TrainConfig, train


def _median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def loss_ratio(n: int = 256, d: int = 512, repeats: int = 50, rounds: int = 7) -> tuple[float, float, float]:
    g = torch.Generator().manual_seed(0)
    img = F.normalize(torch.randn(n, d, generator=g), dim=-1).requires_grad_(True)
    txt = F.normalize(torch.randn(n, d, generator=g), dim=-1).requires_grad_(True)
    hard = F.normalize(torch.randn(n, 1, d, generator=g), dim=-1).requires_grad_(True)
    mask, conc = torch.ones(n, 1, dtype=torch.bool), torch.rand(n, 1, generator=g) * 4 + 1

    def run(kind):
        loss = ContrastiveLoss(LossConfig(kind=kind))
        return lambda: loss(img, txt, 100.0, hard, mask, conc)["loss"].backward()

    # interleave the two so that machine noise hits both alike; keep each one's best round
    neg, cem = [], []
    for _ in range(rounds):
        neg.append(_median_time(run("negclip"), repeats))
        cem.append(_median_time(run("cement"), repeats))
    return min(cem) / min(neg), min(neg), min(cem)


def step_ratio(batch: int = 64, repeats: int = 3) -> dict:
    torch.manual_seed(0)
    model = load_model(ModelSpec("open_clip", "ViT-B-32", None, quick_gelu=False))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
    images = torch.randn(batch, 3, 224, 224)
    tokens = model.tokenize([f"a photo of thing number {i}" for i in range(batch)])
    hard_tokens = model.tokenize([f"a photo of item number {i}" for i in range(batch)])
    mask, conc = torch.ones(batch, 1, dtype=torch.bool), torch.full((batch, 1), 4.5)
    clip_loss, cement = ContrastiveLoss(LossConfig("clip")), ContrastiveLoss(LossConfig("cement"))
    loss_time = []

    def clip_step():
        opt.zero_grad()
        img, txt, scale = model(images, tokens)
        clip_loss(img, txt, scale)["loss"].backward()
        opt.step()

    def cement_step():
        opt.zero_grad()
        img, txt, scale = model(images, torch.cat([tokens, hard_tokens]))
        # the loss alone, forward and backward, on copies of this step's features (timed apart)
        parts = [x.detach().requires_grad_(True) for x in (img, txt[:batch], txt[batch:].unsqueeze(1))]
        t = time.perf_counter()
        cement(parts[0], parts[1], scale.detach(), parts[2], mask, conc)["loss"].backward()
        loss_time.append(time.perf_counter() - t)
        out = cement(img, txt[:batch], scale, txt[batch:].unsqueeze(1), mask, conc)
        out["loss"].backward()
        opt.step()

    clip_t = _median_time(clip_step, repeats)
    cement_t = _median_time(cement_step, repeats)
    cement_t -= statistics.median(loss_time)  # the separately timed copy is not part of the step
    return {"clip_step_s": clip_t, "cement_step_s": cement_t, "ratio": cement_t / clip_t,
            "loss_forward_s": statistics.median(loss_time)}


def data_wait(steps: int = 8, batch: int = 32) -> float:
    from PIL import Image

    tmp = Path(tempfile.mkdtemp(prefix="slipform-load-"))
    (tmp / "img").mkdir()
    rows, negs = [], []
    g = torch.Generator().manual_seed(0)
    for i in range(batch * 4):
        arr = (torch.rand(256, 256, 3, generator=g) * 255).to(torch.uint8).numpy()
        Image.fromarray(arr).save(tmp / "img" / f"{i}.jpg", quality=90)
        rows.append(f"{i},img/{i}.jpg,a photo number {i}")
        negs.append(json.dumps({"id": str(i), "negative": f"a picture number {i}", "concreteness": 4.0}))
    (tmp / "train.csv").write_text("id,filepath,title\n" + "\n".join(rows) + "\n")
    (tmp / "neg.jsonl").write_text("\n".join(negs) + "\n")
    cfg = TrainConfig(output=str(tmp / "run"), epochs=100, batch_size=batch, workers=2, log_every=1,
                      save_every=10_000, max_steps=steps, progress=False,
                      model=ModelSpec("open_clip", "ViT-B-32", None, quick_gelu=False),
                      data=DataConfig(str(tmp / "train.csv"), str(tmp / "neg.jsonl"), str(tmp)))
    train(cfg)
    rows = [json.loads(x) for x in (tmp / "run" / "log.jsonl").read_text().splitlines()]
    # the first step waits for the workers to start; count the steady state
    return statistics.mean(r["data_wait"] for r in rows[1:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-data", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    ratio, neg, cem = loss_ratio()
    print(f"loss fwd+bwd, batch 256, 256 hard negatives: negclip {neg * 1e3:.2f} ms, cement {cem * 1e3:.2f} ms, "
          f"ratio {ratio:.3f} (target <= 1.05)")
    s = step_ratio()
    print(f"ViT-B-32 step, batch 64, CPU: clip {s['clip_step_s']:.2f} s, with hard negatives + cement "
          f"{s['cement_step_s']:.2f} s, ratio {s['ratio']:.2f} (target <= 1.6)")
    print(f"cement loss forward+backward in that step: {s['loss_forward_s'] * 1e3:.2f} ms = "
          f"{100 * s['loss_forward_s'] / s['cement_step_s']:.2f}% of the step (target <= 3%)")
    if not args.skip_data:
        w = data_wait()
        print(f"data loading wait with 2 workers (ViT-B-32, batch 32, 256px JPEGs): {100 * w:.1f}% of step time "
              "(target <= 5%)")


if __name__ == "__main__":
    main()
