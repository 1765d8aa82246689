"""The calibrated margin under a real 2-process gloo group: every rank fits the same curve, the
curve of one process on the global batch, and the training steps agree with that process's."""

import pytest
import torch

from slipform.losses import LossConfig, build_loss, ddp_scale

from ddp_harness import TwoTowers, on_two_gloo_ranks, rank_part

N, K, DIN, D, STEPS = 16, 2, 6, 5, 4
CONFIG = LossConfig("cement", schedule="calibrated", margin_min=0.05, margin_max=0.5, refresh_every=1,
                    calibration_window=48)  # ~26 samples a step: the window wraps


def _data(step):
    g = torch.Generator().manual_seed(step)
    x_img = torch.randn(N, DIN, generator=g)
    x_txt = x_img + 0.5 * torch.randn(N, DIN, generator=g)
    x_hard = x_txt[:, None] + 0.5 * torch.randn(N, K, DIN, generator=g)
    mask = torch.rand(N, K, generator=g) > 0.2
    conc = torch.rand(N, K, generator=g) * 4 + 1
    return x_img, x_txt, x_hard, mask, conc


def _train(model, part):
    """STEPS SGD steps on the rows ``part`` of each step's global batch; the losses and the fits."""
    loss_fn = build_loss(CONFIG)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for step in range(1, STEPS + 1):
        x_img, x_txt, x_hard, mask, conc = (t[part] for t in _data(step))
        f_img, f_txt, f_hard = model(x_img, x_txt, x_hard)
        out = loss_fn(f_img, f_txt, 10.0, f_hard, mask, conc)
        opt.zero_grad()
        (out["loss"] * ddp_scale()).backward()
        opt.step()
        loss_fn.on_step(step)  # as the trainer does after each optimizer step
        losses.append(out["loss"].detach())
    fits = loss_fn.margin.history
    return {"loss": torch.stack(losses), "window": loss_fn.margin.samples(), "table": loss_fn.margin.table,
            "fit_steps": torch.tensor([f["step"] for f in fits])}


def _worker(rank):
    model = torch.nn.parallel.DistributedDataParallel(TwoTowers(DIN, D))
    return _train(model, rank_part(rank, N))


def test_two_gloo_ranks_fit_the_curve_of_one_process(tmp_path):
    single = _train(TwoTowers(DIN, D), slice(0, N))
    assert len(single["fit_steps"]) >= 2  # the margin was refitted, and the later steps used the fits
    ranks = on_two_gloo_ranks(_worker, tmp_path)
    assert torch.equal(ranks[0]["table"], ranks[1]["table"])  # every rank the same curve, bitwise
    assert torch.equal(ranks[0]["window"], ranks[1]["window"])
    for res in ranks:
        assert torch.equal(res["fit_steps"], single["fit_steps"])
        torch.testing.assert_close(res["window"], single["window"], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(res["table"], single["table"], rtol=1e-4, atol=1e-5)
        assert res["loss"].tolist() == pytest.approx(single["loss"].tolist(), rel=1e-5)


@pytest.mark.slow  # two trainings, one under torchrun: ~1 min on an idle 2-core machine
def test_torchrun_two_processes_train_the_calibrated_margin_of_one(tmp_path):
    """The trainer's refresh under torchrun (gloo, 2 processes): the same fits, losses and weights."""
    import json
    import os
    import subprocess
    import sys

    from slipform.cli import main

    from conftest import make_pair_data

    data = make_pair_data(tmp_path / "data", n=32)
    common = ["train", "--train", data["train"], "--negatives", data["negatives"], "--image-root",
              data["image_root"], "--model-config", "tiny", "--pretrained", "none", "--epochs", "2", "--lr", "1e-3",
              "--warmup", "1", "--workers", "0", "--log-every", "1", "--grad-clip", "0", "--no-progress",
              "--margin-schedule", "calibrated", "--margin-refresh", "1", "--margin-max", "0.5"]
    assert main([*common, "--batch-size", "16", "-o", str(tmp_path / "one")]) == 0
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "slipform.cli", *common, "--batch-size", "8", "-o", str(tmp_path / "two")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    fits = [json.loads((tmp_path / run / "margin_fit.json").read_text())["fits"] for run in ("one", "two")]
    assert [f["step"] for f in fits[0]] == [f["step"] for f in fits[1]] == [3, 4]
    for a, b in zip(*fits):
        # features agree to float rounding; the ratio and LOESS's robust weights amplify it a little
        assert a["margin"] == pytest.approx(b["margin"], abs=5e-4)
    logs = [[json.loads(x) for x in (tmp_path / run / "log.jsonl").read_text().splitlines()] for run in ("one", "two")]
    assert [r["loss"] for r in logs[0]] == pytest.approx([r["loss"] for r in logs[1]], rel=1e-5)
