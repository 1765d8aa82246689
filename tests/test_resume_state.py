"""What a checkpoint carries and how each part comes back: the schedule's edges, the CUDA and
JSON-shaped RNG states, nested checkpoint folders, the EMA teacher, the selection counts, older
checkpoints without the newer keys, and warnings after a resume (bench/mutation.py resume)."""

import json
import math
import random

import pytest
import torch

from slipform.data import DataConfig
from slipform.losses import LossConfig
from slipform.models import ModelSpec, tiny_open_clip_config
from slipform.select import SelectConfig
from slipform.train import (
    TrainConfig,
    Trainer,
    _rng_state,
    _set_rng_state,
    _truncate_log,
    cosine_schedule,
    load_checkpoint,
    save_checkpoint,
)

from conftest import make_pair_data

TINY = ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())


def test_the_schedule_at_its_edges():
    assert cosine_schedule(1, 10)(0) == 1.0  # one warm-up step reaches the full rate
    assert [cosine_schedule(4, 10)(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    one = cosine_schedule(0, 1)  # a single decay step: full rate, then zero
    assert one(0) == 1.0 and one(1) == pytest.approx(0.0, abs=1e-12)
    past = cosine_schedule(2, 10)
    assert past(10) == pytest.approx(0.0, abs=1e-12) and past(15) == pytest.approx(0.0, abs=1e-12)  # stays at 0
    assert past(6) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))


class _FakeCuda:
    def __init__(self, available):
        self.available, self.set = available, []

    def install(self, monkeypatch):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: self.available)
        monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: ["cuda-state-0", "cuda-state-1"])
        monkeypatch.setattr(torch.cuda, "set_rng_state_all", self.set.append)
        return self


def test_the_cuda_generators_are_saved_and_restored_when_there_is_a_gpu(monkeypatch):
    cuda = _FakeCuda(True).install(monkeypatch)
    state = _rng_state()
    assert state["cuda"] == ["cuda-state-0", "cuda-state-1"]
    _set_rng_state(state)
    assert cuda.set == [["cuda-state-0", "cuda-state-1"]]
    del state["cuda"]  # a checkpoint from a CPU run resumed on a GPU: the CUDA generators stay as they are
    _set_rng_state(state)
    assert len(cuda.set) == 1


def test_a_gpu_checkpoint_resumed_without_a_gpu_leaves_cuda_alone(monkeypatch):
    state = _FakeCuda(True).install(monkeypatch) and _rng_state()
    cuda = _FakeCuda(False).install(monkeypatch)
    assert "cuda" not in _rng_state()
    _set_rng_state(state)
    assert cuda.set == []


def test_a_python_rng_state_that_went_through_json_is_restored():
    random.seed(11)
    state = _rng_state()
    want = random.random()
    state["python"] = json.loads(json.dumps(state["python"]))  # tuples become lists
    random.seed(3)
    _set_rng_state(state)
    assert random.random() == want


def test_a_checkpoint_is_written_into_folders_that_do_not_exist_yet(tmp_path):
    path = tmp_path / "run" / "checkpoints" / "latest.pt"
    save_checkpoint(path, step=3)
    assert load_checkpoint(path) == {"step": 3}


def test_a_damaged_checkpoint_is_named_as_a_training_checkpoint(tmp_path):
    path = tmp_path / "latest.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError) as err:
        load_checkpoint(path)
    assert str(err.value).startswith(f"{path}: cannot read this training checkpoint (not a PyTorch tensor file, 16 bytes")
    assert "delete it to restart the run from step 0" in str(err.value)


def test_a_torn_log_line_before_earlier_steps_keeps_those_steps(tmp_path):
    """Killed twice: the first kill's torn line sits before lines the resumed run wrote."""
    log = tmp_path / "log.jsonl"
    log.write_text('{"step": 1}\n{"ste\n{"step": 2}\n{"step": 3}\n{"step": 4}\n')
    _truncate_log(log, 3)
    assert [json.loads(x)["step"] for x in log.read_text().splitlines()] == [1, 2, 3]


def _trainer(tmp_path, out, loss="cement", select=False):
    data = make_pair_data(tmp_path / "data", n=8)
    return Trainer(TrainConfig(output=str(tmp_path / out), epochs=1, batch_size=4, workers=0, progress=False,
                               model=TINY, loss=LossConfig(loss, options={"teacher_decay": 0.5} if loss == "degla" else {}),
                               data=DataConfig(data["train"], data["negatives"], data["image_root"]),
                               select=SelectConfig("mix", 2) if select else SelectConfig()))


def test_the_ema_teacher_comes_back_from_the_checkpoint(tmp_path):
    first = _trainer(tmp_path, "first", "degla")
    with torch.no_grad():
        for p in first.teacher.parameters():
            p.add_(0.25)
    save_checkpoint(tmp_path / "ckpt.pt", **first.state())
    resumed = _trainer(tmp_path, "resumed", "degla")
    resumed.resume(tmp_path / "ckpt.pt")
    want = first.teacher.state_dict()
    assert all(torch.equal(v, want[k]) for k, v in resumed.teacher.state_dict().items())
    assert not torch.equal(*[next(iter(m.state_dict().values())) for m in (resumed.teacher, resumed.model)])


def test_a_checkpoint_without_the_teacher_its_loss_needs_is_refused(tmp_path):
    save_checkpoint(tmp_path / "ckpt.pt", **_trainer(tmp_path, "plain").state())
    with pytest.raises(ValueError, match=r"ckpt.pt: the checkpoint has no EMA teacher for loss 'degla'$"):
        _trainer(tmp_path, "degla", "degla").resume(tmp_path / "ckpt.pt")


def test_the_selection_counts_come_back_from_the_checkpoint(tmp_path):
    first = _trainer(tmp_path, "first", select=True)
    first.selection.phases[0]["picked/n"] = 7.0
    save_checkpoint(tmp_path / "ckpt.pt", **first.state())
    resumed = _trainer(tmp_path, "resumed", select=True)
    assert resumed.selection.state() != first.selection.state()
    resumed.resume(tmp_path / "ckpt.pt")
    assert resumed.selection.state() == first.selection.state()


def test_a_checkpoint_from_before_the_loss_counters_skips_and_selection_keys_resumes(tmp_path):
    first = _trainer(tmp_path, "first", select=True)
    state = first.state()
    for key in ("loss", "counters", "skips", "selection", "teacher"):
        del state[key]
    save_checkpoint(tmp_path / "old.pt", **state)
    resumed = _trainer(tmp_path, "resumed", select=True)
    fresh = resumed.selection.state()
    resumed.resume(tmp_path / "old.pt")
    assert resumed.step == first.step and resumed.selection.state() == fresh
    assert resumed.counters == {"skipped_images": 0, "nonfinite_steps": 0} and resumed.skips.total() == 0


def test_a_resumed_run_still_warns_of_what_it_skips(tmp_path):
    first = _trainer(tmp_path, "first")
    first.skips.add("unreadable image", "images/001.png")
    save_checkpoint(tmp_path / "ckpt.pt", **first.state())
    resumed = _trainer(tmp_path, "resumed")
    warned = []
    resumed._warn = warned.append
    resumed.resume(tmp_path / "ckpt.pt")
    assert warned == []  # the checkpoint's skips were reported by the run that made them
    resumed.skips.add("unreadable image", "images/005.png")
    resumed.skips.add("no negative", "row 9")
    assert warned == ["warning: skipped (unreadable image): images/005.png", "warning: skipped (no negative): row 9"]
    assert resumed.skips.as_dict()["counts"] == {"unreadable image": 2, "no negative": 1}
