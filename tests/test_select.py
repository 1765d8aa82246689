"""Hardest-of-K selection: the choice rule, the model's one-call forward, training with it (logs,
selection.json, 2 gloo processes = 1), and clear errors."""

import json
import math
import os
import subprocess
import sys

import pytest
import torch

from slipform.cli import main
from slipform.data import DataConfig
from slipform.losses import LossConfig
from slipform.models import ModelSpec, load_model, tiny_open_clip_config
from slipform.select import SelectConfig, SelectionLog, choose, concreteness_bin
from slipform.train import TrainConfig, train

from conftest import make_pair_data

TINY = ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())


def _unit(x):
    return torch.nn.functional.normalize(x, dim=-1)


def test_hardest_is_the_masked_argmax_and_empty_rows_pick_zero():
    g = torch.Generator().manual_seed(0)
    img, cand = _unit(torch.randn(64, 8, generator=g)), _unit(torch.randn(64, 3, 8, generator=g))
    mask = torch.rand(64, 3, generator=g) > 0.3
    mask[5] = False
    pick, sim = choose(img, cand, mask, SelectConfig("hardest", 3))
    for i in range(64):  # a loop-based reference
        sims = [float(img[i] @ cand[i, k]) if mask[i, k] else -math.inf for k in range(3)]
        assert int(pick[i]) == (max(range(3), key=lambda k: sims[k]) if mask[i].any() else 0)
    assert sim[5].isinf().all() and torch.isfinite(sim[mask]).all()


def test_temperature_and_mix_sample_around_the_hardest():
    g = torch.Generator().manual_seed(1)
    n = 4000
    # candidate 2 is always the closest (0.9 vs 0.5 vs 0.4)
    sim_target = torch.tensor([0.5, 0.4, 0.9])
    img = torch.zeros(n, 3)
    img[:, 0] = 1
    cand = torch.zeros(n, 3, 3)
    cand[:, :, 0] = sim_target
    mask = torch.ones(n, 3, dtype=torch.bool)
    cold, _ = choose(img, cand, mask, SelectConfig("hardest", 3, temperature=0.01), g)
    warm, _ = choose(img, cand, mask, SelectConfig("hardest", 3, temperature=0.2), g)
    assert (cold == 2).float().mean() > 0.99
    expected = torch.softmax(sim_target / 0.2, 0)[2]  # 0.80
    assert abs((warm == 2).float().mean() - expected) < 0.03
    mixed, _ = choose(img, cand, mask, SelectConfig("mix", 3, mix=0.5), g)
    # half take the hardest, the other half a uniform candidate (a third of them also the hardest)
    assert abs((mixed == 2).float().mean() - (0.5 + 0.5 / 3)) < 0.03
    assert abs((mixed == 0).float().mean() - 0.5 / 3) < 0.03


def test_the_models_forward_picks_what_its_features_say():
    """One call encodes the K candidates without gradient, picks, and encodes the chosen ones
    with gradient after the captions: the picks equal the features' argmax computed apart."""
    torch.manual_seed(0)
    model = load_model(TINY)
    images = torch.randn(4, 3, 32, 32)
    tokens = model.tokenize([f"a photo number {i}" for i in range(4)])
    texts = [[f"a {c} {s}" for c in ("red", "green", "blue")] for s in ("cat", "dog", "car", "cup")]
    cands = model.tokenize([t for row in texts for t in row]).view(4, 3, -1)
    mask = torch.ones(4, 3, dtype=torch.bool)
    img, txt, _, pick = model(images, tokens, candidates=cands,
                              choose=lambda i, c: choose(i, c, mask, SelectConfig("hardest", 3))[0])
    with torch.no_grad():
        ref_img = model.encode_image(images)
        ref = [max(range(3), key=lambda k: float(ref_img[i] @ model.encode_text(model.tokenize([texts[i][k]]))[0]))
               for i in range(4)]
    assert pick.tolist() == ref
    assert txt.shape == (8, img.shape[1]) and txt.requires_grad
    chosen = model.encode_text(model.tokenize([texts[i][k] for i, k in enumerate(ref)]))
    torch.testing.assert_close(txt[4:], chosen, atol=1e-5, rtol=0)


def _multi_negatives(data, per_caption=3):
    """Rewrite the fixture's negatives with ``per_caption`` per caption of different routes."""
    out = data["negatives"].replace(".jsonl", f"-k{per_caption}.jsonl")
    with open(data["negatives"]) as f, open(out, "w") as dst:
        for line in f:
            rec = json.loads(line)
            words = rec["caption"].split()
            variants = [(rec["negative"], "A", 4.1), (" ".join(words[:-1] + ["circle"]), "O", 4.6),
                        ("a " + " ".join(words[1:]) + " on the left", "R", 2.2)]
            for neg, role, conc in variants[:per_caption]:
                dst.write(json.dumps({**rec, "negative": neg, "role": role, "concreteness": conc}) + "\n")
    return out


def test_training_with_hardest_of_k_logs_routes_and_bins(tmp_path):
    data = make_pair_data(tmp_path / "data", n=24)
    negs = _multi_negatives(data)
    cfg = TrainConfig(output=str(tmp_path / "run"), epochs=3, batch_size=8, lr=1e-3, warmup=1, workers=0,
                      log_every=1, save_every=100, progress=False, model=TINY, loss=LossConfig("negclip"),
                      data=DataConfig(data["train"], negs, data["image_root"]), select=SelectConfig("hardest", 3))
    result = train(cfg)
    run = tmp_path / "run"
    rows = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert result["step"] == len(rows) == 9
    for r in rows:
        # every caption with negatives is offered its 3 (22 of 24 have them), one of each route
        assert r["offer_A"] == pytest.approx(1 / 3) and r["offer_R"] == pytest.approx(1 / 3)
        assert r["select_A"] + r["select_R"] + r["select_O"] == pytest.approx(1.0)
        assert r["select_sim"] >= r["offer_sim"]  # the hardest is at least as close as the average
        assert r["grad_hard"] > 0
    summary = json.loads((run / "selection.json").read_text())
    assert summary["config"]["mode"] == "hardest" and len(summary["phases"]) == 3
    assert summary["phases"][0]["offer_bin_4-5"] == pytest.approx(2 / 3)


def test_selection_log_counts_and_bins():
    assert concreteness_bin(3.2) == "3-4" and concreteness_bin(5.0) == "4-5" and concreteness_bin(0.5) is None
    log = SelectionLog(total_steps=9)
    mask = torch.tensor([[True, True], [True, False]])
    log.add(0, torch.tensor([1, 0]), torch.tensor([[0.1, 0.5], [0.3, -math.inf]]), mask,
            [["A", "R"], ["O", ""]], torch.tensor([[4.5, 2.5], [3.5, math.nan]]))
    row = log.flush()
    assert row["select_R"] == pytest.approx(0.5) and row["select_O"] == pytest.approx(0.5)
    assert row["offer_A"] == pytest.approx(1 / 3) and row["select_sim"] == pytest.approx(0.4)
    assert row["offer_bin_4-5"] == pytest.approx(1 / 3) and log.flush() == {}
    assert log.summary()[0]["select_bin_2-3"] == pytest.approx(0.5) and log.summary()[2] == {}


def test_bad_selection_settings_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="k >= 2"):
        SelectConfig("hardest", 1)
    with pytest.raises(ValueError, match="selection mode"):
        SelectConfig("easiest")
    data = make_pair_data(tmp_path / "data", n=8)
    with pytest.raises(ValueError, match="negative images"):
        TrainConfig(data=DataConfig(data["train"], data["negatives"], image_negatives=True),
                    select=SelectConfig("hardest"))
    assert main(["train", "--train", data["train"], "--negatives", data["negatives"], "--select", "hardest",
                 "--candidates", "1", "--model-config", "tiny", "--pretrained", "none", "-o",
                 str(tmp_path / "run")]) == 2


def test_torchrun_two_processes_select_like_one(tmp_path):
    """Under DDP the selection runs inside the wrapped forward: 2 gloo processes of batch 8 train
    as one process of batch 16 (the same picks, the same losses)."""
    data = make_pair_data(tmp_path / "data", n=32)
    negs = _multi_negatives(data)
    common = ["train", "--train", data["train"], "--negatives", negs, "--image-root", data["image_root"],
              "--model-config", "tiny", "--pretrained", "none", "--epochs", "2", "--lr", "1e-5", "--warmup", "1",
              "--workers", "0", "--log-every", "1", "--grad-clip", "0", "--no-progress", "--loss", "negclip",
              "--select", "hardest", "--candidates", "3"]
    assert main([*common, "--batch-size", "16", "-o", str(tmp_path / "one")]) == 0
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "slipform.cli", *common, "--batch-size", "8", "-o", str(tmp_path / "two")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    logs = [[json.loads(x)["loss"] for x in (tmp_path / run / "log.jsonl").read_text().splitlines()]
            for run in ("one", "two")]
    assert len(logs[0]) == 4 and logs[0] == pytest.approx(logs[1], rel=1e-5)


def test_a_run_stopped_midway_resumes_to_the_same_picks_and_weights(tmp_path, monkeypatch):
    """Selection's sampling is seeded by (seed, step, micro-batch, rank) and its counts live in the
    checkpoint: a run stopped after step 4 and resumed ends where an uninterrupted one does."""
    from slipform.train import Trainer

    data = make_pair_data(tmp_path / "data", n=24)
    negs = _multi_negatives(data)

    def config(out):
        return TrainConfig(output=str(tmp_path / out), epochs=3, batch_size=8, lr=1e-3, warmup=1, workers=0,
                           log_every=1, save_every=1, progress=False, model=TINY, loss=LossConfig("cement"),
                           data=DataConfig(data["train"], negs, data["image_root"]),
                           select=SelectConfig("mix", 3, temperature=0.05, mix=0.7))

    train(config("clean"))
    real_step = Trainer._train_step

    def stop_after_four(self, micro):
        if self.step == 4:
            raise KeyboardInterrupt
        return real_step(self, micro)

    monkeypatch.setattr(Trainer, "_train_step", stop_after_four)
    with pytest.raises(KeyboardInterrupt):
        train(config("stopped"))
    monkeypatch.setattr(Trainer, "_train_step", real_step)
    train(config("stopped"))
    a = torch.load(tmp_path / "clean" / "checkpoints" / "latest.pt", weights_only=True)
    b = torch.load(tmp_path / "stopped" / "checkpoints" / "latest.pt", weights_only=True)
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert a["selection"] == b["selection"] and sum(p.get("picked/n", 0) for p in a["selection"]) == 9 * 8 - 6
    assert json.loads((tmp_path / "clean" / "selection.json").read_text()) == \
        json.loads((tmp_path / "stopped" / "selection.json").read_text())
