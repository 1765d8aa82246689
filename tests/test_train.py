"""Training a tiny random open_clip model on generated images: logs, resume after kill -9, export."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from slipform.cli import main
from slipform.data import DataConfig
from slipform.losses import LossConfig
from slipform.models import ModelSpec, tiny_open_clip_config
from slipform.train import TrainConfig, cosine_schedule, param_groups, train

from conftest import make_pair_data

TINY = ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())


def _config(tmp_path, data, **kw):
    base = dict(output=str(tmp_path / "run"), epochs=2, batch_size=8, lr=1e-3, warmup=2, workers=0, log_every=1,
                save_every=2, progress=False, model=TINY, loss=LossConfig("cement"),
                data=kw.pop("data_config", None) or DataConfig(data["train"], data["negatives"], data["image_root"]))
    base.update(kw)
    return TrainConfig(**base)


def test_cosine_schedule_and_param_groups():
    f = cosine_schedule(2, 10)
    assert [round(f(s), 3) for s in (0, 1, 2, 6, 10)] == [0.5, 1.0, 1.0, 0.5, 0.0]
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.LayerNorm(3))
    decay, flat = param_groups(model, 0.1)
    assert [p.shape for p in decay["params"]] == [torch.Size([3, 3])] and len(flat["params"]) == 3
    assert flat["weight_decay"] == 0.0


def test_a_short_run_logs_what_the_issue_asks(tmp_path):
    data = make_pair_data(tmp_path / "data", n=26, corrupt=1, missing=1)
    result = train(_config(tmp_path, data))
    run = tmp_path / "run"
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert result["step"] == len(rows) == 6  # 26 samples // 8 = 3 steps per epoch, 2 epochs
    for key in ("step", "loss", "lr", "samples_per_s", "grad_pos", "grad_hard", "grad_easy", "data_wait"):
        assert all(key in r for r in rows)
    assert rows[-1]["grad_easy"] > 0 and rows[-1]["grad_hard"] > 0
    assert result["skipped_images"] >= 2  # the corrupt and the missing image, once per epoch each time drawn
    config = json.loads((run / "config.json").read_text())
    assert config["loss"]["kind"] == "cement" and config["batch_size"] == 8
    assert (run / "model.pt").exists() and (run / "checkpoints" / "latest.pt").exists()
    assert list((run / "tensorboard").iterdir())
    ckpt = torch.load(run / "model.pt", weights_only=True)
    assert ckpt["slipform"]["quick_gelu"] is False
    # model.pt loads with open_clip itself, as the README says (the tiny architecture registered by its config)
    import open_clip

    (tmp_path / "slipform-tiny-test.json").write_text(json.dumps(tiny_open_clip_config()))
    open_clip.add_model_config(tmp_path / "slipform-tiny-test.json")
    oc = open_clip.create_model("slipform-tiny-test", pretrained=str(run / "model.pt"), weights_only=True)
    trained = _weights(run / "checkpoints" / "latest.pt")
    assert oc.state_dict().keys() == {k.removeprefix("model.") for k in trained}
    assert all(torch.equal(v, trained[f"model.{k}"]) for k, v in oc.state_dict().items())
    assert main(["plot", "gradients", str(run)]) == 0 and (run / "gradients.png").stat().st_size > 1000


def test_training_lowers_the_loss(tmp_path):
    data = make_pair_data(tmp_path / "data", n=32)
    train(_config(tmp_path, data, epochs=8, batch_size=16, log_every=1))
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    first, last = sum(r["loss"] for r in rows[:3]) / 3, sum(r["loss"] for r in rows[-3:]) / 3
    assert last < first


def test_nonfinite_losses_stop_the_run(tmp_path):
    from slipform.models import load_model

    data = make_pair_data(tmp_path / "data", n=16)
    model = load_model(TINY)
    with torch.no_grad():
        model.model.logit_scale.fill_(float("nan"))
    with pytest.raises(RuntimeError, match="2 non-finite losses in a row at step 0"):
        train(_config(tmp_path, data, max_nonfinite=2, epochs=5), model)


def _weights(path):
    return torch.load(path, weights_only=True)["model"]


def test_kill_minus_nine_then_resume_is_bitwise_identical(tmp_path):
    data = make_pair_data(tmp_path / "data", n=40)
    args = ["train", "--train", data["train"], "--negatives", data["negatives"], "--image-root", data["image_root"],
            "--model-config", "tiny", "--pretrained", "none", "--epochs", "3", "--batch-size", "8", "--lr", "1e-3",
            "--warmup", "2", "--workers", "0", "--log-every", "1", "--save-every", "1", "--no-progress"]
    # both runs in fresh processes: bitwise equality needs the same thread settings on both sides
    clean = tmp_path / "clean"
    assert subprocess.run([sys.executable, "-m", "slipform.cli", *args, "-o", str(clean)]).returncode == 0
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "slipform.cli", *args, "-o", str(killed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    log = killed / "log.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 6):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    steps_done = len(log.read_text().splitlines())
    assert 6 <= steps_done < 15, "the run was not killed mid-way"
    resumed = subprocess.run(cmd, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    at = int(re.search(r"resuming from step (\d+) of 15 ", resumed.stderr).group(1))
    assert steps_done - 1 <= at <= steps_done  # the checkpoint of the last (or the one before) logged step
    # and this process trained only what was left
    assert f"trained {15 - at} steps (resumed from step {at}; 15 in all)" in resumed.stderr
    a, b = _weights(clean / "checkpoints" / "latest.pt"), _weights(killed / "checkpoints" / "latest.pt")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(1, 16))  # no duplicate log lines after resuming


def test_a_crashed_run_resumes_and_trains_only_the_remaining_steps(tmp_path, monkeypatch, capsys):
    from slipform.train import Trainer

    data = make_pair_data(tmp_path / "data", n=24)
    clean = train(_config(tmp_path, data, output=str(tmp_path / "clean")))
    assert (clean["resumed_from"], clean["steps_run"], clean["step"]) == (0, 6, 6)
    real, calls = Trainer._train_step, []

    def crash_at_step_5(self, micro):
        if self.step == 4:
            raise KeyboardInterrupt  # killed after the step-4 checkpoint (save_every=2)
        return real(self, micro)

    monkeypatch.setattr(Trainer, "_train_step", crash_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        train(_config(tmp_path, data))

    def counting(self, micro):
        calls.append(self.step)
        return real(self, micro)

    monkeypatch.setattr(Trainer, "_train_step", counting)
    capsys.readouterr()
    result = train(_config(tmp_path, data))
    assert f"resuming from step 4 of 6 ({tmp_path / 'run' / 'checkpoints' / 'latest.pt'})" in capsys.readouterr().err
    assert calls == [4, 5] and (result["resumed_from"], result["steps_run"], result["step"]) == (4, 2, 6)
    a, b = _weights(tmp_path / "clean" / "checkpoints" / "latest.pt"), _weights(tmp_path / "run" / "checkpoints" / "latest.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)  # the same weights as the uninterrupted run


def test_torchrun_two_cpu_processes_match_one(tmp_path):
    """The same command under torchrun (gloo, 2 processes) trains to the weights of 1 process.

    Adam is blind to a constant gradient scale, so weights alone would not catch DDP halving the
    gradients (``ddp_scale``): the log's gradient norm of every step must match too, and the
    weights must agree to far less than the size of the update training made.
    """
    from slipform.models import load_model
    from slipform.train import seed_everything

    data = make_pair_data(tmp_path / "data", n=32)
    common = ["train", "--train", data["train"], "--negatives", data["negatives"], "--image-root",
              data["image_root"], "--model-config", "tiny", "--pretrained", "none", "--epochs", "2", "--lr", "1e-3",
              "--warmup", "1", "--workers", "0", "--log-every", "1", "--grad-clip", "0", "--no-progress"]
    assert main([*common, "--batch-size", "16", "-o", str(tmp_path / "one")]) == 0
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "slipform.cli", *common, "--batch-size", "8", "-o", str(tmp_path / "two")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    logs = [[json.loads(x) for x in (tmp_path / run / "log.jsonl").read_text().splitlines()] for run in ("one", "two")]
    assert len(logs[0]) == len(logs[1]) == 4
    assert [r["loss"] for r in logs[0]] == pytest.approx([r["loss"] for r in logs[1]], rel=1e-5)
    assert [r["grad_norm"] for r in logs[0]] == pytest.approx([r["grad_norm"] for r in logs[1]], rel=1e-4)
    seed_everything(0)  # the trainer's initialisation (rank 0's, which DDP broadcasts)
    start = load_model(TINY).state_dict()
    a = _weights(tmp_path / "one" / "checkpoints" / "latest.pt")
    b = _weights(tmp_path / "two" / "checkpoints" / "latest.pt")
    update = torch.cat([(a[k] - start[k]).flatten() for k in a if a[k].is_floating_point()]).norm()
    apart = torch.cat([(a[k] - b[k]).flatten() for k in a if a[k].is_floating_point()]).norm()
    assert update > 1e-2  # four Adam steps at lr 1e-3 moved the weights
    # float sums in another order: Adam can turn a ~0 gradient's rounding into up to lr in a few entries
    assert apart < 1e-3 * update, (float(apart), float(update))


def test_image_negatives_train(tmp_path):
    data = make_pair_data(tmp_path / "data", n=16)
    lines = [json.loads(x) for x in open(data["negatives"])]
    for rec in lines:
        rec["negative_image"] = f"images/{(int(rec['id']) + 1) % 16:03d}.png"
    with open(data["negatives"], "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in lines))
    cfg = _config(tmp_path, data, epochs=1, data_config=DataConfig(data["train"], data["negatives"], data["image_root"],
                                                                   image_negatives=True))
    train(cfg)
    rows = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert all(r["loss_image_negatives"] > 0 for r in rows)


def test_eval_reads_a_run_directory(tmp_path):
    """`slipform eval --model RUN_DIR` loads the fine-tuned weights the run exported."""
    data = make_pair_data(tmp_path / "data", n=16)
    train(_config(tmp_path, data, epochs=1))
    out = tmp_path / "res.json"
    assert main(["eval", "--model", str(tmp_path / "run"), "--benchmarks", "world_aro", "--data-root",
                 str(tmp_path / "bench"), "--limit", "12", "--workers", "0", "--cache-dir", str(tmp_path / "c"),
                 "-o", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["model"] == str(tmp_path / "run") and "relation_swap" in res["results"]["world_aro"]


def test_log_is_strict_json_with_null_for_missing_terms(tmp_path):
    data = make_pair_data(tmp_path / "data", n=16)
    train(_config(tmp_path, data, epochs=1, loss=LossConfig(kind="clip")))

    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c} in log.jsonl"))

    rows = [strict(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert rows and all(r["grad_hard"] is None for r in rows) and all(r["grad_easy"] > 0 for r in rows)
    assert main(["plot", "gradients", str(tmp_path / "run")]) == 0


def test_training_reports_what_it_skipped_by_reason_with_file_and_line(tmp_path, capsys):
    data = make_pair_data(tmp_path / "data", n=20, corrupt=1, missing=1)
    root = tmp_path / "data"
    (root / "images" / "notes.txt").write_text("not an image at all")
    with open(data["train"], "a") as f:
        f.write("20,images/notes.txt,a text file\n")  # line 22: a non-image file
        f.write("21,images/005.png,\n")  # line 23: a row without a caption
    result = train(_config(tmp_path, data, epochs=1, batch_size=3))  # 21 usable rows: all drawn
    report = json.loads((tmp_path / "run" / "skipped.json").read_text())
    assert set(report["counts"]) == {"corrupt image", "missing image", "not an image file", "row without a caption"}
    assert report["counts"]["row without a caption"] == 1
    assert report["examples"]["row without a caption"] == [f"{data['train']}:23"]
    assert report["examples"]["missing image"] == [str(root / "images" / "019.png")]
    assert report["examples"]["corrupt image"] == [str(root / "images" / "000.png")]
    assert report["examples"]["not an image file"] == [str(root / "images" / "notes.txt")]
    assert result["skips"] == report
    err = capsys.readouterr().err
    assert "warning: skipped (missing image)" in err and "skipped 1 corrupt image" in err
