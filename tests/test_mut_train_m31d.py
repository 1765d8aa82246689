"""train.py's optimizer step and config checks: what issue 31's third-round samples of the accumulation
and train_rest groups left unpinned (branch m31d). Each step is checked against the loss computed by
hand from the same model's features, on the tiny open_clip model and real (drawn) images."""

import copy
import json

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


@pytest.mark.parametrize("bad,message", [
    ({"batch_size": 0}, r"^batch_size, accum_steps and epochs must be >= 1$"),
    ({"accum_steps": 0}, r"^batch_size, accum_steps and epochs must be >= 1$"),
    ({"epochs": 0}, r"^batch_size, accum_steps and epochs must be >= 1$"),
    ({"batch_size": 6, "accum_steps": 4}, r"^batch_size 6 is not a multiple of accum_steps 4: each step splits its "
                                          r"batch into accum_steps equal micro-batches$"),
    ({"precision": "fp8"}, r"^precision must be fp32, bf16 or fp16, got 'fp8'$"),
])
def test_a_config_out_of_range_is_refused_with_its_reason(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**bad)


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


# --------------------------------------------------------------------------- train_rest's survivors

def test_token_kwargs_split_the_dense_forward_into_captions_and_their_negatives():
    from slipform.train import _token_kwargs

    n, k, length, d = 2, 3, 4, 5
    words = torch.arange((n + n * k) * length * d, dtype=torch.float32).reshape(n + n * k, length, d)
    mask = torch.arange((n + n * k) * length).reshape(n + n * k, length) % 3 > 0
    patches = torch.randn(n + 1, 7, d)  # a negative image follows the captions' images
    dense = {"text_tokens": words, "text_token_mask": mask, "image_tokens": patches}
    out = _token_kwargs(dense, n, True)
    assert set(out) == {"image_tokens", "text_tokens", "text_token_mask", "hard_text_tokens", "hard_text_token_mask"}
    assert torch.equal(out["image_tokens"], patches[:n]) and torch.equal(out["text_tokens"], words[:n])
    assert torch.equal(out["text_token_mask"], mask[:n])
    assert torch.equal(out["hard_text_tokens"], words[n:].reshape(n, k, length, d))
    assert torch.equal(out["hard_text_token_mask"], mask[n:].reshape(n, k, length))
    assert set(_token_kwargs(dense, n, False)) == {"image_tokens", "text_tokens", "text_token_mask"}


def test_torchrun_on_cpus_joins_a_gloo_group_as_its_rank(monkeypatch):
    import torch.distributed as dist

    from slipform.train import DistInfo, init_distributed

    joined = []
    monkeypatch.setattr(dist, "init_process_group", joined.append)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for key, value in (("WORLD_SIZE", "4"), ("RANK", "3"), ("LOCAL_RANK", "1")):
        monkeypatch.setenv(key, value)
    assert init_distributed() == DistInfo(3, 4, 1, "cpu") and joined == ["gloo"]
    monkeypatch.delenv("LOCAL_RANK")
    assert init_distributed() == DistInfo(3, 4, 0, "cpu")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert init_distributed() == DistInfo(0, 1, 0, "cpu") and len(joined) == 2


def test_warnings_go_to_stderr_on_the_main_rank_only(tmp_path, data, start_model, capsys):
    from slipform.train import DistInfo

    t = _trainer(tmp_path, start_model, data)
    capsys.readouterr()
    t._warn("resuming from step 3 of 4")
    assert capsys.readouterr().err == "resuming from step 3 of 4\n"
    t.dist = DistInfo(rank=1, world=2)
    t._warn("resuming from step 3 of 4")
    assert capsys.readouterr().err == ""


def test_selection_seeds_each_steps_draw_by_seed_step_micro_batch_and_rank(tmp_path, data, start_model, monkeypatch):
    import slipform.train as train_module
    from slipform.data import _seed
    from test_select import _multi_negatives

    negs = _multi_negatives(data)
    t = _trainer(tmp_path, start_model, None, seed=5, select=SelectConfig("mix", 3, temperature=0.5, mix=0.5),
                 data=DataConfig(data["train"], negs, data["image_root"]))
    seeds, real = [], train_module.choose

    def spy(image_features, candidate_features, mask, config, gen):
        seeds.append(gen.initial_seed())
        return real(image_features, candidate_features, mask, config, gen)

    monkeypatch.setattr(train_module, "choose", spy)
    b = _batch(t, range(4))
    t._train_step([b, b])
    t.step = 7
    t._train_step([b])
    assert seeds == [_seed(5, 0, 0, 0, "select") % 2**63, _seed(5, 0, 1, 0, "select") % 2**63,
                     _seed(5, 7, 0, 0, "select") % 2**63]
    assert len(set(seeds)) == 3


def _run(tmp_path, pairs, model, name, **kw):
    return _trainer(tmp_path, model, pairs, name, lr=1e-3, log_every=1, **kw)


def test_a_finite_step_resets_the_count_of_non_finite_losses_in_a_row(tmp_path, data, start_model):
    """16 samples, batches of 2: 8 steps; the loss is NaN at calls 2, 4 and 6. With max_nonfinite 2
    the run goes on (never 2 in a row) and ends after 8 batches, 5 of them steps, 3 counted."""
    t = _run(tmp_path, data, start_model, "nan", batch_size=2, max_nonfinite=2)
    calls, real = [], t.loss.forward

    def sometimes_nan(*a, **kw):
        calls.append(1)
        out = real(*a, **kw)
        return {**out, "loss": out["loss"] * float("nan")} if len(calls) in (2, 4, 6) else out

    t.loss.forward = sometimes_nan
    result = t.fit()
    assert (result["step"], result["nonfinite_steps"], t.batch_in_epoch, t.epoch) == (5, 3, 0, 1)


def test_a_checkpoint_is_written_every_save_every_steps(tmp_path, data, start_model):
    """save_every 2: a run stopped during step 3 leaves the checkpoint of step 2."""
    t = _run(tmp_path, data, start_model, "save", batch_size=2, save_every=2)
    real = t._train_step

    def stop_at_three(micro):
        if t.step == 2:
            raise KeyboardInterrupt
        return real(micro)

    t._train_step = stop_at_three
    with pytest.raises(KeyboardInterrupt):
        t.fit()
    from slipform.train import load_checkpoint

    assert load_checkpoint(tmp_path / "save" / "checkpoints" / "latest.pt")["step"] == 2


def test_the_images_a_run_skips_are_reported_by_reason(tmp_path, start_model):
    pairs = make_pair_data(tmp_path / "data", n=8, missing=2)
    result = _run(tmp_path, pairs, start_model, "skips", batch_size=2).fit()
    assert result["skips"]["counts"] == {"missing image": 2} and result["skipped_images"] == 2


def test_the_runs_seed_orders_its_shards(tmp_path, start_model):
    from test_train_paths import _shards

    spec = _shards(tmp_path, n_shards=4, per_shard=2)
    orders = {}
    for seed in (3, 3, 4):
        t = _trainer(tmp_path, start_model, None, f"s{seed}", seed=seed, batch_size=2, data=DataConfig(spec))
        assert t.dataset.draw.seed == seed
        orders.setdefault(seed, []).append([s["url"] for s in t.dataset._shards()])
    assert orders[3][0] == orders[3][1] and sorted(orders[3][0]) == sorted(orders[4][0])
    assert orders[4][0] != orders[3][0]  # another seed, another order of the 4 shards (as drawn here)


def test_the_progress_bar_shows_the_epoch_and_the_loss(tmp_path, start_model, data, capfd):
    t = _trainer(tmp_path, start_model, data, lr=1e-3, progress=True, log_every=1)
    t.fit()
    err = capfd.readouterr().err
    assert "train" in err and "epoch=1/1" in err and "loss=" in err and " 4/4 " in err  # 16 pairs, batches of 4
    rows = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["samples_per_s"] > 0 for r in rows)
    # the same rows in TensorBoard, each finite number a scalar at its step
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    events = accumulator.EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    losses = events.Scalars("loss")
    assert [e.step for e in losses] == [r["step"] for r in rows]
    assert [e.value for e in losses] == pytest.approx([r["loss"] for r in rows], rel=1e-6)
