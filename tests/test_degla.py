"""DeGLA: the loss against a loop-based reference, 2 gloo processes against 1 (the shared helper
of test_loss_methods_ddp), and the trainer's EMA teacher: it moves with the decay, the loss
gets its features, and an interrupted run resumes to the weights and teacher of an
uninterrupted one."""

import json
import math
from dataclasses import replace

import pytest
import torch

from slipform.losses import LossConfig, build_loss
from slipform.select import SelectConfig
from slipform.train import Trainer
from test_loss_methods import _batch, _dot, _lse, _negclip_ref, _unit
from test_loss_methods_ddp import Towers, _data, _run, _worker
from test_select import _multi_negatives
from test_train_losses import _config, _interrupt_after, _Stop
from test_train_losses import _data as _pair_data

from ddp_harness import on_two_gloo_ranks


def _choice_ref(anchor, positive, hard, mask, scale):
    n, k = mask.shape
    total = 0.0
    for i in range(n):
        terms = [scale * _dot(anchor[i], positive[i])]
        terms += [scale * _dot(anchor[i], hard[i, h]) for h in range(k) if mask[i, h]]
        total += -terms[0] + _lse(terms)
    return total / n


def _kl_ref(t_img, t_txt, img, txt, t):
    n = len(img)

    def rows(ta, tb, a, b):
        total = 0.0
        for i in range(n):
            tl, sl = [t * _dot(ta[i], tb[j]) for j in range(n)], [t * _dot(a[i], b[j]) for j in range(n)]
            lt, ls = _lse(tl), _lse(sl)
            total += sum(math.exp(x - lt) * ((x - lt) - (y - ls)) for x, y in zip(tl, sl))
        return total / n
    return (rows(t_img, t_txt, img, txt) + rows(t_txt, t_img, txt, img)) / 2


def _degla_ref(img, txt, hard, mask, t_img, t_txt, t_hard, t, distill="mse", w=(0.1, 0.1, 0.005), u=10.0):
    n, k = mask.shape
    itc, igc = _negclip_ref(img, txt, hard, mask, t), _choice_ref(img, txt, hard, mask, t)
    tgc = _choice_ref(txt, t_txt, hard, mask, u)
    if distill == "mse":
        d = sum(float(((img[i] - t_img[i]) ** 2).sum() + ((txt[i] - t_txt[i]) ** 2).sum()) for i in range(n))
        d += sum(float(((hard[i, h] - t_hard[i, h]) ** 2).sum()) for i in range(n) for h in range(k) if mask[i, h])
    else:
        d = _kl_ref(t_img, t_txt, img, txt, t)
    return itc + w[0] * igc + w[1] * tgc + w[2] * d, igc, tgc, d


def _teacher_of(img, txt, hard, seed=1):
    g = torch.Generator().manual_seed(seed)
    return tuple(_unit(x + 0.3 * torch.randn(x.shape, generator=g)) for x in (img, txt, hard))


@pytest.mark.parametrize("distill", ["mse", "kl"])
def test_degla_against_the_loop_reference(distill):
    img, txt, hard, mask, conc = _batch(n=5, k=3, missing=((1, 1), (3, 0), (3, 2)))
    t_img, t_txt, t_hard = _teacher_of(img, txt, hard)
    loss = build_loss(LossConfig("degla", options={"distill": distill}))
    out = loss(img, txt, 7.0, hard, mask, conc, teacher_image_features=t_img, teacher_text_features=t_txt,
               teacher_hard_text_features=t_hard)
    want, igc, tgc, d = _degla_ref(img, txt, hard, mask, t_img, t_txt, t_hard, 7.0, distill)
    for key, value in (("loss", want), ("loss_igc", igc), ("loss_tgc", tgc), ("loss_distill", d)):
        assert float(out[key]) == pytest.approx(value, rel=1e-5, abs=1e-6), key
    assert d > 0 and tgc > 0


def test_degla_takes_its_options_and_without_a_teacher_is_itc_plus_igc():
    img, txt, hard, mask, conc = _batch()
    loss = build_loss(LossConfig("degla", options={"igc_weight": 0.5, "teacher_decay": 0.9}))
    assert loss.teacher_decay == 0.9 and build_loss(LossConfig("negclip")).teacher_decay is None
    out = loss(img, txt, 7.0, hard, mask, conc)
    assert "loss_tgc" not in out and "loss_distill" not in out
    want = _negclip_ref(img, txt, hard, mask, 7.0) + 0.5 * _choice_ref(img, txt, hard, mask, 7.0)
    assert float(out["loss"]) == pytest.approx(want, rel=1e-5)
    with pytest.raises(ValueError, match="distill"):
        LossConfig("degla", options={"distill": "l1"})


@pytest.mark.slow  # ~30 s on a shared CPU; test_loss_methods_ddp runs degla (mse) with a teacher by default
def test_degla_with_its_teacher_on_two_gloo_processes_equals_one_process(tmp_path):
    runs = [("mse", "degla", None), ("kl", "degla", {"distill": "kl"})]
    ranks = on_two_gloo_ranks(_worker, tmp_path, runs)
    for key, name, options in runs:
        model = Towers(name)
        single = _run(model, name, *_data(), options=options)
        for res in ranks:
            torch.testing.assert_close(res[key]["loss"], single, rtol=1e-5, atol=1e-6, msg=key)
            for pname, p in model.named_parameters():
                torch.testing.assert_close(res[key]["grads"][pname], p.grad, rtol=1e-5, atol=1e-6, msg=pname)


def _degla(tmp_path, data, out="run", decay=0.5, **kw):
    return _config(tmp_path, data, "degla", out, loss=LossConfig("degla", options={"teacher_decay": decay}), **kw)


def test_the_trainer_moves_the_ema_teacher_with_the_decay_and_passes_its_features(tmp_path):
    data = _pair_data(tmp_path, n=16)
    trainer = Trainer(_degla(tmp_path, data, decay=0.5))
    want = [p.detach().clone() for p in trainer.model.parameters()]
    step = trainer._train_step

    def recorded(micro):
        logs = step(micro)
        for w, p in zip(want, trainer.model.parameters()):  # teacher = 0.5 teacher + 0.5 model, after each step
            w.mul_(0.5).add_(0.5 * p.detach())
        return logs
    trainer._train_step = recorded
    trainer.fit()
    assert trainer.step == 4
    for (name, t), w in zip(trainer.teacher.named_parameters(), want):
        torch.testing.assert_close(t, w, rtol=1e-6, atol=1e-7, msg=name)
        assert not t.requires_grad
    assert any(not torch.equal(t, p) for t, p in zip(trainer.teacher.parameters(), trainer.model.parameters()))
    rows = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert all(r["loss_tgc"] > 0 and r["loss_igc"] > 0 for r in rows)
    assert rows[0]["loss_distill"] < 1e-9 < min(r["loss_distill"] for r in rows[1:])  # the teacher starts as the model


def test_an_interrupted_degla_run_resumes_to_the_same_weights_and_teacher(tmp_path):
    data = _pair_data(tmp_path, n=16)
    clean = Trainer(_degla(tmp_path, data, "clean", decay=0.9))
    clean.fit()
    first = Trainer(_degla(tmp_path, data, "resumed", decay=0.9))
    _interrupt_after(first, 2)
    with pytest.raises(_Stop):
        first.fit()
    resumed = Trainer(_degla(tmp_path, data, "resumed", decay=0.9))
    resumed.fit()
    assert resumed.step == clean.step == 4
    for mine, theirs in ((clean.model, resumed.model), (clean.teacher, resumed.teacher)):
        a, b = mine.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), k


def test_with_hardest_of_k_the_teacher_encodes_the_picked_negatives(tmp_path):
    """With decay 0 the teacher is the model after every step: its features of what the model
    encoded (captions, then the picked candidates) are the model's, so the distillation is ~0."""
    data = _pair_data(tmp_path, n=16)
    config = _degla(tmp_path, data, decay=0.0, select=SelectConfig("hardest", k=3))
    trainer = Trainer(replace(config, data=replace(config.data, negatives=_multi_negatives(data))))
    trainer.fit()
    rows = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["loss_tgc"] > 0 for r in rows)
    assert min(r["select_A"] for r in rows) < 1  # not always the first candidate
    assert max(r["loss_distill"] for r in rows) < 1e-8


def test_degla_is_listed(capsys):
    from slipform.cli import main

    assert main(["train", "--list-losses"]) == 0
    assert "\ndegla " in "\n" + capsys.readouterr().out


@pytest.mark.slow  # torchrun: ~1 min on a shared CPU
def test_torchrun_two_processes_train_degla_and_its_teacher_like_one(tmp_path):
    import os
    import subprocess
    import sys

    from slipform.cli import main
    from slipform.models import load_model
    from slipform.train import seed_everything
    from test_train import TINY

    from conftest import make_pair_data

    data = make_pair_data(tmp_path / "data", n=32)
    common = ["train", "--train", data["train"], "--negatives", data["negatives"], "--image-root",
              data["image_root"], "--model-config", "tiny", "--pretrained", "none", "--epochs", "2", "--lr", "1e-3",
              "--warmup", "1", "--workers", "0", "--log-every", "1", "--grad-clip", "0", "--no-progress",
              "--loss", "degla", "--loss-option", "teacher_decay=0.5"]
    assert main([*common, "--batch-size", "16", "-o", str(tmp_path / "one")]) == 0
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "slipform.cli", *common, "--batch-size", "8", "-o", str(tmp_path / "two")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    logs = [[json.loads(x) for x in (tmp_path / run / "log.jsonl").read_text().splitlines()] for run in ("one", "two")]
    assert len(logs[0]) == len(logs[1]) == 4
    for key in ("loss", "loss_distill", "loss_tgc", "grad_norm"):
        assert [r[key] for r in logs[0]] == pytest.approx([r[key] for r in logs[1]], rel=1e-4, abs=1e-9), key
    # the teachers agree to far less than they moved (float sums in another order, as test_train's torchrun test)
    seed_everything(0)  # the trainer's initialisation (rank 0's, which DDP broadcasts and the teacher copies)
    start = {f"model.{k}": v for k, v in load_model(TINY).model.state_dict().items()}
    a, b = (torch.load(tmp_path / run / "checkpoints" / "latest.pt", weights_only=True)["teacher"] for run in ("one", "two"))
    assert a.keys() == b.keys() and set(start) <= set(a)
    moved = torch.cat([(a[k] - start[k]).flatten() for k in start if start[k].is_floating_point()]).norm()
    apart = torch.cat([(a[k] - b[k]).flatten() for k in a if a[k].is_floating_point()]).norm()
    assert moved > 1e-2 and apart < 1e-3 * moved, (float(apart), float(moved))
