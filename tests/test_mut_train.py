"""train.py outside the resume functions: what the accumulation and train_rest mutation groups left
unpinned (issue 31). Each test against a number worked out by hand."""

import copy
import math

import pytest
import torch

from slipform.data import DataConfig, ShardDataset
from slipform.losses import LossConfig
from slipform.models import ModelSpec, load_model, tiny_open_clip_config
from slipform.train import TrainConfig, Trainer
from test_train_paths import _shards

from conftest import make_pair_data

TINY = ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())


@pytest.fixture(scope="module")
def start_model():
    torch.manual_seed(7)
    return load_model(TINY)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_pair_data(tmp_path_factory.mktemp("data"), n=16)


def _trainer(tmp_path, model, data_config, **kw):
    cfg = dict(output=str(tmp_path / "run"), epochs=1, batch_size=4, lr=1e-3, warmup=0, workers=0, progress=False,
               model=TINY, loss=LossConfig("cement"), data=data_config)
    cfg.update(kw)
    return Trainer(TrainConfig(**cfg), copy.deepcopy(model))


@pytest.mark.parametrize("start, clamped", [(math.log(250.0), math.log(100.0)), (-0.5, 0.0)])
def test_the_temperature_is_kept_between_1_and_100_after_a_step(tmp_path, data, start_model, start, clamped):
    t = _trainer(tmp_path, start_model, DataConfig(data["train"], data["negatives"], data["image_root"]), lr=0.0)
    with torch.no_grad():
        t.model.model.logit_scale.fill_(start)
    micro = [t.collate([t.dataset[i] for i in range(4)])]
    t._train_step(micro)
    assert t.model.model.logit_scale.item() == pytest.approx(clamped, abs=1e-6)


def test_a_single_tar_file_is_read_as_a_shard(tmp_path, start_model):
    _shards(tmp_path, n_shards=1)
    t = _trainer(tmp_path, start_model, DataConfig(str(tmp_path / "part-0.tar")), max_steps=3)
    assert isinstance(t.dataset, ShardDataset) and t.sampler is None
    assert t.dataset.urls == [str(tmp_path / "part-0.tar")] and t.steps_per_epoch == 3


def test_a_resumed_stream_skips_every_micro_batch_already_trained_on(tmp_path, start_model):
    spec = _shards(tmp_path, n_shards=2, per_shard=10)  # 20 samples, micro-batches of 2
    t = _trainer(tmp_path, start_model, DataConfig(spec), batch_size=4, accum_steps=2, max_steps=5)
    fresh = [b["tokens"] for b in t._loader(0)]
    assert len(fresh) == 10
    # resuming after 3 optimizer steps of 2 micro-batches: the 7th micro-batch comes first
    resumed = [b["tokens"] for b in t._loader(3)]
    assert len(resumed) == 4
    assert all(torch.equal(a, b) for a, b in zip(resumed, fresh[6:], strict=True))
