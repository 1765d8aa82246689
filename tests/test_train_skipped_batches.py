"""A step whose every image is skipped: the trainer moves on instead of drawing the same batches forever.

Found while checking issue 31's fresh bugs: with ``--caption-col`` and ``--image-col`` swapped every
image path is a caption, every image is missing, and ``slipform train`` spun without end, silent after
its first five warnings. The same happens to a real run as soon as all the images of one step's
micro-batches are missing or corrupt (the sampler restarts at the same batch, which is skipped again).
"""

from __future__ import annotations

import json
import signal

import pytest

from slipform.data import DataConfig
from slipform.losses import LossConfig
from slipform.models import ModelSpec, tiny_open_clip_config
from slipform.train import TrainConfig, train

from conftest import make_pair_data


@pytest.fixture
def deadline():
    """Fail (rather than hang the suite) when the run takes over 20 s of CPU time (it needs a few):
    CPU time, not wall time, so a loaded machine does not fail it."""
    def expired(*_):
        raise TimeoutError("the trainer did not finish: it keeps drawing the same skipped batches")

    old = signal.signal(signal.SIGPROF, expired)
    signal.setitimer(signal.ITIMER_PROF, 20)
    yield
    signal.setitimer(signal.ITIMER_PROF, 0)
    signal.signal(signal.SIGPROF, old)


def test_a_run_whose_every_image_is_missing_ends_and_reports_them(tmp_path, deadline):
    data = make_pair_data(tmp_path / "data", n=16, missing=16)  # 16 rows listed, no image written
    cfg = TrainConfig(output=str(tmp_path / "run"), epochs=1, batch_size=8, accum_steps=2, lr=1e-3, warmup=1,
                      workers=0, log_every=1, save_every=1, progress=False,
                      model=ModelSpec("open_clip", "tiny", None, tiny_open_clip_config()), loss=LossConfig("cement"),
                      data=DataConfig(data["train"], data["negatives"], data["image_root"]))
    result = train(cfg)
    # 16 samples, global batch 8: 2 steps of 2 micro-batches of 4; every sample drawn once, none usable
    assert (result["step"], result["steps_run"], result["skipped_images"]) == (0, 0, 16)
    report = json.loads((tmp_path / "run" / "skipped.json").read_text())
    assert report["counts"] == {"missing image": 16}
