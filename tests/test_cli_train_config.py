"""``slipform train``'s options reach the fields they name.

cli.py builds ``DataConfig``, ``LossConfig`` and ``TrainConfig`` partly by position; a swapped pair
(``--caption-col`` and ``--image-col``, ``--margin-min`` and ``--margin-max``) trains on the wrong column
or margin without any error on a file that has both columns. Each option here gets a value no default
has, and the expected config is the options as written, not what the code computes.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def captured(monkeypatch):
    import slipform.train

    seen = {}

    def fake_train(config, model=None):
        seen["config"] = config
        return {"step": 0, "resumed_from": 0, "steps_run": 0, "skipped_images": 0, "nonfinite_steps": 0}

    monkeypatch.setattr(slipform.train, "train", fake_train)  # cli imports it at call time
    return seen


def test_train_passes_each_data_option_to_its_own_field(captured, tmp_path):
    from slipform.cli import main

    args = ["train", "--train", "pairs.csv", "--negatives", "negs.jsonl", "--image-root", "imgs",
            "--data-format", "csv", "--caption-col", "text", "--image-col", "path", "--image-negatives",
            "--resampled", "-o", str(tmp_path / "run"), "--no-progress"]
    assert main(args) == 0
    d = captured["config"].data
    assert (d.train, d.negatives, d.image_root, d.format) == ("pairs.csv", "negs.jsonl", "imgs", "csv")
    assert (d.caption_col, d.image_col) == ("text", "path")
    assert (d.image_negatives, d.resampled) == (True, True)


def test_train_passes_each_loss_and_run_option_to_its_own_field(captured, tmp_path):
    from slipform.cli import main

    args = ["train", "--train", "pairs.csv", "--margin-schedule", "inverse", "--margin", "0.07",
            "--margin-min", "0.01", "--margin-max", "0.2", "--default-concreteness", "2.5",
            "--margin-refresh", "7", "--margin-window", "64", "--epochs", "3", "--batch-size", "12",
            "--accum-steps", "3", "--lr", "2e-5", "--wd", "0.3", "--warmup", "9", "--grad-clip", "0.5",
            "--seed", "11", "--workers", "0", "--log-every", "4", "--save-every", "8", "--max-steps", "20",
            "-o", str(tmp_path / "run"), "--no-progress"]
    assert main(args) == 0
    c = captured["config"]
    loss = c.loss
    assert (loss.kind, loss.schedule, loss.margin, loss.margin_min, loss.margin_max) == \
        ("cement", "inverse", 0.07, 0.01, 0.2)
    assert (loss.default_concreteness, loss.refresh_every, loss.calibration_window) == (2.5, 7, 64)
    assert (c.epochs, c.batch_size, c.accum_steps, c.lr, c.weight_decay, c.warmup, c.grad_clip) == \
        (3, 12, 3, 2e-5, 0.3, 9, 0.5)
    assert (c.seed, c.workers, c.log_every, c.save_every, c.max_steps, c.output) == \
        (11, 0, 4, 8, 20, str(tmp_path / "run"))
