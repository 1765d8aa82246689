"""The parts resuming rests on: the sampler's batches across ranks and start points, the log's truncation,
the RNG state round trip (each claim pinned so that mutmut's mutants of them fail)."""

import json
import random

import numpy as np
import pytest
import torch

from slipform.data import ResumableSampler


def _batches(sampler, size):
    out = list(sampler)
    return [out[i:i + size] for i in range(0, len(out), size)]


def test_two_ranks_see_the_batches_of_one_process_with_twice_the_batch():
    one = _batches(ResumableSampler(37, 8, seed=3), 8)
    ranks = [_batches(ResumableSampler(37, 4, seed=3, rank=r, world=2), 4) for r in (0, 1)]
    assert len(one) == len(ranks[0]) == len(ranks[1]) == 37 // 8  # the tail (5 samples) is dropped
    for k, batch in enumerate(one):
        assert ranks[0][k] + ranks[1][k] == batch  # rank 0 takes the first half of each global batch
    seen = [i for b in one for i in b]
    assert len(set(seen)) == len(seen) == 32 and all(0 <= i < 37 for i in seen)


def test_starting_at_a_batch_skips_exactly_the_earlier_ones():
    s = ResumableSampler(30, 5, seed=1, rank=1, world=2)
    full = list(s)
    assert len(s) == len(full) == 3 * 5
    for start in range(4):
        s.set_epoch(0, start_batch=start)
        assert list(s) == full[start * 5:] and len(s) == (3 - start) * 5
    s.set_epoch(1)
    assert list(s) != full  # another permutation in epoch 1
    again = ResumableSampler(30, 5, seed=1, rank=1, world=2)
    again.set_epoch(1)
    assert list(again) == list(s)  # a function of seed and epoch only
    other_seed = ResumableSampler(30, 5, seed=2, rank=1, world=2)
    assert list(other_seed) != full


def test_the_sampler_order_of_each_epoch_is_pinned_across_versions():
    """A checkpoint of an earlier version resumes into the batches that run would have seen: the
    order is a fixed function of (seed, epoch), written out here (seeds whose hash is above and
    below 2**63, and the default seed, 0). A new epoch starts at its first batch."""
    assert list(ResumableSampler(10, 2)) == [3, 9, 1, 4, 2, 6, 5, 8, 7, 0]  # seed 0, epoch 0
    for seed, epoch, order in ((0, 1, [4, 7, 9, 0, 6, 5, 1, 3, 2, 8]), (1, 0, [3, 7, 1, 9, 0, 4, 8, 5, 2, 6]),
                               (2, 0, [7, 6, 2, 1, 9, 8, 3, 5, 4, 0])):
        s = ResumableSampler(10, 2, seed=seed)
        s.set_epoch(epoch, start_batch=3)
        assert list(s) == order[6:]
        s.set_epoch(epoch)
        assert list(s) == order and len(s) == 10


def test_a_dataset_smaller_than_one_global_batch_is_refused():
    with pytest.raises(ValueError, match=r"^7 samples are fewer than one global batch \(4 x 2\)$"):
        ResumableSampler(7, 4, world=2)
    assert ResumableSampler(8, 4, world=2).batches_per_epoch == 1


def test_log_truncation_keeps_the_steps_up_to_the_checkpoint(tmp_path):
    from slipform.train import _truncate_log

    log = tmp_path / "log.jsonl"
    _truncate_log(log, 3)  # no log yet: nothing happens
    assert not log.exists()
    rows = [{"step": s, "loss": 1.0 / s} for s in (1, 2, 3, 4, 5)]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows[:3]) + "{half a line\n" + '{"no_step": 1}\n'
                   + "".join(json.dumps(r) + "\n" for r in rows[3:]))
    _truncate_log(log, 3)
    assert [json.loads(x)["step"] for x in log.read_text().splitlines()] == [1, 2, 3]
    assert log.read_text().endswith("\n")
    _truncate_log(log, 0)
    assert log.read_text() == ""


def test_rng_state_round_trip_restores_every_generator(tmp_path):
    from slipform.train import _rng_state, _set_rng_state, load_checkpoint, save_checkpoint

    random.seed(5), np.random.seed(5), torch.manual_seed(5)
    state = _rng_state()
    want = (random.random(), np.random.rand(), torch.rand(1).item())
    save_checkpoint(tmp_path / "c" / "latest.pt", rng=state, step=7)
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    ckpt = load_checkpoint(tmp_path / "c" / "latest.pt")
    assert ckpt["step"] == 7 and not list((tmp_path / "c").glob("*.tmp*"))  # written atomically
    _set_rng_state(ckpt["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == want


def test_a_resumed_trainer_carries_the_counters_skips_and_loss_state_of_the_checkpoint(tmp_path):
    """The final report of a resumed run counts what was skipped before the crash, and CE-CLIP's
    thresholds continue: each is read back from the checkpoint (a missing key would reset it)."""
    from slipform.data import DataConfig
    from slipform.losses import LossConfig
    from slipform.models import ModelSpec, tiny_open_clip_config
    from slipform.train import TrainConfig, Trainer, load_checkpoint, save_checkpoint

    from conftest import make_pair_data

    data = make_pair_data(tmp_path / "data", n=8)

    def trainer(out):
        return Trainer(TrainConfig(output=str(tmp_path / out), epochs=1, batch_size=4, workers=0, progress=False,
                                   model=ModelSpec("open_clip", "tiny", None, tiny_open_clip_config()),
                                   loss=LossConfig("ce_clip"),
                                   data=DataConfig(data["train"], data["negatives"], data["image_root"])))

    first = trainer("first")
    first.counters.update(skipped_images=3, nonfinite_steps=1)
    first.skips.add("unreadable image", "images/003.png", 2)
    first.loss.thresholds = torch.tensor([0.25, -0.5])
    save_checkpoint(tmp_path / "ckpt.pt", **first.state())
    resumed = trainer("resumed")
    assert resumed.counters == {"skipped_images": 0, "nonfinite_steps": 0} and resumed.skips.total() == 0
    resumed.resume(tmp_path / "ckpt.pt")
    assert resumed.counters == {"skipped_images": 3, "nonfinite_steps": 1}
    assert resumed.skips.as_dict() == {"total": 2, "counts": {"unreadable image": 2},
                                       "examples": {"unreadable image": ["images/003.png"]}}
    assert resumed.loss.thresholds.tolist() == [0.25, -0.5]
    assert load_checkpoint(tmp_path / "ckpt.pt")["selection"] == []  # no hardest-of-K selection in this run
