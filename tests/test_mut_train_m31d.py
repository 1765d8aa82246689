"""train.py's optimizer step and config checks: what issue 31's third-round samples of the accumulation
and train_rest groups left unpinned (branch m31d). Each step is checked against the loss computed by
hand from the same model's features, on the tiny open_clip model and real (drawn) images."""

import copy

import pytest
import torch

from slipform.data import DataConfig
from slipform.losses import LossConfig, build_loss
from slipform.models import ModelSpec, load_model, tiny_open_clip_config
from slipform.select import SelectConfig
from slipform.train import TrainConfig, Trainer

from conftest import make_pair_data

TINY = ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())


@pytest.fixture(scope="module")
def start_model():
    torch.manual_seed(7)
    return load_model(TINY)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_pair_data(tmp_path_factory.mktemp("data"), n=16)


def _trainer(tmp_path, model, pairs, name="run", **kw):
    cfg = dict(output=str(tmp_path / name), epochs=1, batch_size=4, lr=0.0, warmup=0, workers=0, progress=False,
               grad_clip=0.0, model=TINY, loss=LossConfig("cement"),
               data=DataConfig(pairs["train"], pairs["negatives"], pairs["image_root"]) if pairs else None)
    cfg.update(kw)
    return Trainer(TrainConfig(**cfg), copy.deepcopy(model))


def _batch(t, rows):
    return t.collate([t.dataset[i] for i in rows])


def test_selection_with_negative_images_is_refused_with_its_reason(data):
    with pytest.raises(ValueError) as err:
        TrainConfig(select=SelectConfig("hardest"), data=DataConfig(data["train"], image_negatives=True))
    assert str(err.value) == ("hardest-of-K selection chooses among negative captions; it does not combine with "
                              "negative images (an image per candidate would be loaded for one to be used)")


def test_a_step_logs_the_loss_of_the_models_features_with_each_negatives_mask_and_concreteness(
        tmp_path, data, start_model):
    """Rows 12..15: two with a negative (concreteness 4.0 and 4.3, not the default 3), two without."""
    t = _trainer(tmp_path, start_model, data)
    b = _batch(t, range(12, 16))
    assert b["hard_mask"].tolist() == [[True], [True], [False], [False]]
    with torch.no_grad():
        n = b["tokens"].shape[0]
        img, txt, scale = start_model(b["images"], torch.cat([b["tokens"], b["hard_tokens"].flatten(0, 1)]))[:3]
        ref = build_loss(LossConfig("cement"))(img[:n], txt[:n], scale, txt[n:].reshape(n, -1, txt.shape[-1]),
                                               b["hard_mask"], b["concreteness"])
    logs = t._train_step([b])
    assert logs["loss"] == pytest.approx(float(ref["loss"]), rel=1e-5)
    # the same features with the default concreteness everywhere (or no mask) give another loss
    other = build_loss(LossConfig("cement"))(img[:n], txt[:n], scale, txt[n:].reshape(n, -1, txt.shape[-1]),
                                             b["hard_mask"], None)
    assert float(other["loss"]) != pytest.approx(float(ref["loss"]), rel=1e-5)


def test_a_batch_without_any_negative_encodes_only_its_captions_and_trains_as_clip(tmp_path, data, start_model):
    """Rows 14 and 15 have no planted negative: no placeholder text is encoded, and the cement step's
    loss is CLIP's on the same batch."""
    t = _trainer(tmp_path, start_model, data)
    b = _batch(t, [14, 15])
    assert not b["hard_mask"].any()
    encoded = []
    forward = t.net.forward

    def spy(images, tokens, **kw):
        encoded.append(tokens.shape[0])
        return forward(images, tokens, **kw)

    t.net.forward = spy
    logs = t._train_step([b])
    assert encoded == [2]
    clip = _trainer(tmp_path, start_model, data, "clip", loss=LossConfig("clip"))._train_step([b])
    assert logs["loss"] == pytest.approx(clip["loss"], rel=1e-6)


def test_a_non_finite_loss_skips_the_step_and_says_so(tmp_path, data, start_model):
    t = _trainer(tmp_path, start_model, data, lr=1e-2)
    before = [p.detach().clone() for p in t.model.parameters()]
    real = t.loss.forward
    t.loss.forward = lambda *a, **kw: {**real(*a, **kw), "loss": torch.tensor(float("nan"))}
    logs = t._train_step([_batch(t, range(4))])
    assert logs == {"nonfinite": True}
    assert all(torch.equal(p, q) for p, q in zip(t.model.parameters(), before, strict=True))
    assert all(p.grad is None for p in t.model.parameters())


def test_bf16_on_the_cpu_trains_in_fp32(tmp_path, data, start_model):
    """Autocast is for CUDA only: a bf16 run on the CPU computes the step of an fp32 run, bit for bit."""
    b = _trainer(tmp_path, start_model, data, "b")
    batch = _batch(b, range(4))
    fp32 = b._train_step([batch])
    bf16 = _trainer(tmp_path, start_model, data, "bf16", precision="bf16")._train_step([batch])
    assert bf16["loss"] == fp32["loss"] and bf16["grad_norm"] == fp32["grad_norm"]


def test_the_ema_teacher_sees_the_batchs_captions_and_negatives_apart(tmp_path, data, start_model):
    t = _trainer(tmp_path, start_model, data, loss=LossConfig("degla"))
    seen = {}
    real = t.loss.forward

    def spy(*a, **kw):
        seen.update({k: v for k, v in kw.items() if k.startswith("teacher")})
        return real(*a, **kw)

    t.loss.forward = spy
    b = _batch(t, range(4))
    t._train_step([b])
    n, k = b["hard_tokens"].shape[:2]
    d = seen["teacher_image_features"].shape[-1]
    assert seen["teacher_image_features"].shape == (n, d) and seen["teacher_text_features"].shape == (n, d)
    assert seen["teacher_hard_text_features"].shape == (n, k, d)
    with torch.no_grad():
        _, txt, _ = t.teacher(b["images"], torch.cat([b["tokens"], b["hard_tokens"].flatten(0, 1)]))[:3]
    torch.testing.assert_close(seen["teacher_text_features"], txt[:n])
    torch.testing.assert_close(seen["teacher_hard_text_features"], txt[n:].reshape(n, k, d))


def test_a_stream_shorter_than_its_nominal_epoch_ends_each_epoch_where_it_runs_dry(tmp_path, start_model):
    """8 samples in 2 unresampled shards, batches of 2, no max_steps: the nominal epoch is 1000 steps,
    the stream's is 4. Each epoch ends after its 4 steps (the run looped for ever: its loader rebuilt at
    batch 4, skipping all 4 batches again), and a resumed run goes on with the next epoch."""
    from test_train_paths import _shards

    spec = _shards(tmp_path, n_shards=2, per_shard=4)

    def counted(t):
        built, loader = [], t._loader

        def rebuild(start_batch):
            built.append((t.epoch, start_batch))
            if len(built) > 4:
                raise RuntimeError(f"the loader was rebuilt {len(built)} times: {built}")
            return loader(start_batch)

        t._loader = rebuild
        return built

    t = _trainer(tmp_path, start_model, None, epochs=2, batch_size=2, lr=1e-3, data=DataConfig(spec))
    assert t.steps_per_epoch == 1000
    built = counted(t)
    result = t.fit()
    assert built == [(0, 0), (1, 0)]
    assert (result["step"], result["steps_run"], t.epoch) == (8, 8, 2)
    once = _trainer(tmp_path, start_model, None, "once", epochs=1, batch_size=2, lr=1e-3, data=DataConfig(spec))
    assert once.fit()["step"] == 4
    again = _trainer(tmp_path, start_model, None, "once", epochs=2, batch_size=2, lr=1e-3, data=DataConfig(spec))
    built = counted(again)
    result = again.fit()
    assert built == [(1, 0)] and (result["resumed_from"], result["step"], result["steps_run"]) == (4, 8, 4)
