"""Training paths no other test ran: gradient accumulation against the gradient of the mean of its
micro-batches' losses (the logged ``grad_norm`` and where clipping fires included), and a
checkpoint written on a GPU read back on a machine without one."""

import copy
import math

import pytest
import torch

from slipform.data import DataConfig
from slipform.losses import LossConfig
from slipform.models import ModelSpec, export_open_clip, load_model, tiny_open_clip_config
from slipform.safeload import CorruptFileError
from slipform.train import TrainConfig, Trainer, load_checkpoint, save_checkpoint

from conftest import make_pair_data

TINY = ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_pair_data(tmp_path_factory.mktemp("data"), n=16)


@pytest.fixture(scope="module")
def start_model():
    torch.manual_seed(7)
    return load_model(TINY)


def _trainer(tmp_path, data, model, name, **kw):
    cfg = dict(output=str(tmp_path / name), epochs=1, batch_size=4, lr=1e-3, warmup=0, workers=0, progress=False,
               grad_clip=0.0, model=TINY, loss=LossConfig("cement"),
               data=DataConfig(data["train"], data["negatives"], data["image_root"]) if data else None)
    if "data_config" in kw:
        cfg["data"] = kw.pop("data_config")
    cfg.update(kw)
    return Trainer(TrainConfig(**cfg), copy.deepcopy(model))


def _batch(trainer, rows):
    return trainer.collate([trainer.dataset[i] for i in rows])


def _grads(trainer):
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in trainer.model.parameters()]


def _norm(grads):
    return math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))


def _close(a, b, tol=1e-5):
    """Each gradient equal up to float error, relative to the whole gradient's size."""
    scale = max(_norm(a), 1e-12)
    return all(float((x - y).abs().max()) <= tol * scale for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, data, start_model):
    """Each micro-batch's loss and gradient alone, from the same weights (lr 0: the weights stay)."""
    t = _trainer(tmp_path_factory.mktemp("ref"), data, start_model, "ref", lr=0.0)
    b1, b2 = _batch(t, range(0, 4)), _batch(t, range(4, 8))
    assert b1["hard_mask"].any() and b2["hard_mask"].any()
    logs1 = t._train_step([b1])
    g1 = _grads(t)
    logs2 = t._train_step([b2])
    g2 = _grads(t)
    assert all(torch.equal(p, q) for p, q in zip(t.model.parameters(), start_model.parameters()))
    return {"b1": b1, "b2": b2, "g1": g1, "g2": g2, "logs1": logs1, "logs2": logs2}


def test_two_micro_batches_give_the_gradient_of_their_mean_loss(tmp_path, data, start_model, reference):
    r = reference
    t = _trainer(tmp_path, data, start_model, "accum", batch_size=8, accum_steps=2)
    assert t.micro_batch == 4
    logs = t._train_step([r["b1"], r["b2"]])
    mean = [(a + b) / 2 for a, b in zip(r["g1"], r["g2"])]
    assert _close(_grads(t), mean)
    assert logs["grad_norm"] == pytest.approx(_norm(mean), rel=1e-5)
    assert logs["loss"] == pytest.approx((r["logs1"]["loss"] + r["logs2"]["loss"]) / 2, rel=1e-6)
    assert math.isfinite(logs["grad_hard"]) and logs["grad_hard"] > 0  # the hard negatives were encoded
    # k micro-batches are not k times the gradient: the norm is that of the mean, not of the sum
    assert logs["grad_norm"] < _norm([a + b for a, b in zip(r["g1"], r["g2"])]) * 0.75


def test_k_copies_of_a_batch_update_the_model_as_that_batch_does(tmp_path, data, start_model, reference):
    """One batch of k times the size, when its k micro-batches are the same: the same step, k = 1, 2, 3."""
    b1 = reference["b1"]
    after = []
    for k in (1, 2, 3):
        t = _trainer(tmp_path, data, start_model, f"k{k}", batch_size=4 * k, accum_steps=k)
        logs = t._train_step([b1] * k)
        assert logs["grad_norm"] == pytest.approx(_norm(reference["g1"]), rel=1e-5), k
        assert _close(_grads(t), reference["g1"]), k
        after.append([p.detach().clone() for p in t.model.parameters()])
    for k, params in zip((2, 3), after[1:]):  # AdamW's first step is ~lr * sign(g): float error in a
        # gradient near its eps (1e-6) moves a weight by a fraction of lr (1e-3); a real step moves most by lr
        assert max(float((p - q).abs().max()) for p, q in zip(params, after[0])) < 0.05 * 1e-3, k
    assert any(not torch.equal(p, q) for p, q in zip(after[0], start_model.parameters()))  # it did step


def test_clipping_fires_at_the_norm_of_the_accumulated_gradient(tmp_path, data, start_model, reference):
    r = reference
    mean = [(a + b) / 2 for a, b in zip(r["g1"], r["g2"])]
    norm = _norm(mean)
    for clip, fires in ((norm * 0.5, True), (norm * 1.05, False)):
        t = _trainer(tmp_path, data, start_model, f"clip{fires}", batch_size=8, accum_steps=2, grad_clip=clip)
        logs = t._train_step([r["b1"], r["b2"]])
        assert logs["grad_norm"] == pytest.approx(norm, rel=1e-5)  # logged before clipping
        want = [g * (clip / norm) for g in mean] if fires else mean
        assert _close(_grads(t), want, 1e-4), clip
        assert _norm(_grads(t)) == pytest.approx(min(clip, norm), rel=1e-4)


def test_a_run_with_accumulation_trains_on_the_batches_of_a_run_without(tmp_path, data, start_model, monkeypatch):
    """The loader hands each step its batch as k micro-batches: the same samples, in the same order."""
    seen = {}

    def recording(self, micro):
        seen.setdefault(self.config.accum_steps, []).append([b["tokens"] for b in micro])
        return {"loss": 0.0, "grad_norm": 0.0}

    monkeypatch.setattr(Trainer, "_train_step", recording)
    for k in (1, 2, 4):
        result = _trainer(tmp_path, data, start_model, f"fit{k}", batch_size=8, accum_steps=k, epochs=2,
                          log_every=100, save_every=100).fit()
        assert result["step"] == 4, k  # 16 samples // 8 per step, 2 epochs
    assert [len(m) for m in seen[2]] == [2] * 4 and [len(m) for m in seen[4]] == [4] * 4
    for k in (2, 4):
        for whole, parts in zip(seen[1], seen[k], strict=True):
            assert all(p.shape[0] == 8 // k for p in parts)
            assert torch.equal(torch.cat(parts), whole[0])


def test_a_batch_that_accumulation_cannot_split_is_refused():
    with pytest.raises(ValueError, match="batch_size 10 .* accum_steps 3"):
        TrainConfig(batch_size=10, accum_steps=3)
    assert TrainConfig(batch_size=12, accum_steps=3).accum_steps == 3


# --------------------------------------------------------------------------- GPU checkpoints, CPU machine

def _save_as_if_on_cuda(monkeypatch, path, obj):
    """torch.save with every storage tagged ``cuda:0``, as a GPU run writes it (no GPU needed)."""
    import torch.serialization as ser

    with monkeypatch.context() as m:
        m.setattr(ser, "location_tag", lambda storage: "cuda:0")
        torch.save(obj, path)
    with pytest.raises(RuntimeError, match="CUDA"):  # the tag is really there: read as is, it needs a GPU
        torch.load(path, weights_only=True)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


def test_a_training_checkpoint_written_on_a_gpu_resumes_on_the_cpu(tmp_path, data, start_model, monkeypatch,
                                                                   no_gpu):
    first = _trainer(tmp_path, data, start_model, "gpu-run", batch_size=8, accum_steps=2)
    first._train_step([_batch(first, range(4)), _batch(first, range(4, 8))])
    first.step = 1
    path = tmp_path / "latest.pt"
    _save_as_if_on_cuda(monkeypatch, path, first.state())
    ckpt = load_checkpoint(path)
    assert all(v.device.type == "cpu" for v in ckpt["model"].values())
    resumed = _trainer(tmp_path, data, start_model, "cpu-run", batch_size=8, accum_steps=2)
    resumed.resume(path)
    assert resumed.step == 1
    assert all(torch.equal(p, q) for p, q in zip(resumed.model.parameters(), first.model.parameters()))
    moments = [s["exp_avg"] for s in resumed.optimizer.state_dict()["state"].values()]
    assert moments and all(m.device.type == "cpu" for m in moments)


def test_a_model_exported_on_a_gpu_loads_on_the_cpu(tmp_path, start_model, monkeypatch, no_gpu):
    export_open_clip(start_model, tmp_path / "model.pt")
    on_gpu = tmp_path / "gpu-model.pt"
    _save_as_if_on_cuda(monkeypatch, on_gpu, torch.load(tmp_path / "model.pt", weights_only=True))
    model = load_model(ModelSpec("open_clip", "tiny", str(on_gpu), tiny_open_clip_config()))
    for (name, p), q in zip(model.named_parameters(), start_model.parameters(), strict=True):
        assert torch.equal(p, q), name


def test_a_damaged_gpu_checkpoint_is_still_called_damaged(tmp_path, monkeypatch, no_gpu):
    path = tmp_path / "latest.pt"
    _save_as_if_on_cuda(monkeypatch, path, {"w": torch.arange(4000.0)})
    path.write_bytes(path.read_bytes()[:400])
    with pytest.raises(CorruptFileError, match="truncated or corrupt"):
        load_checkpoint(path)
    save_checkpoint(tmp_path / "ok.pt", w=torch.ones(2))  # and a CPU one still reads
    assert torch.equal(load_checkpoint(tmp_path / "ok.pt")["w"], torch.ones(2))


# --------------------------------------------------------------------------- a torn training log

def test_a_resumed_run_repairs_a_torn_log_and_logs_each_step_once(tmp_path, data, start_model):
    import json

    kw = dict(batch_size=4, epochs=2, log_every=1, save_every=2, max_steps=2)
    _trainer(tmp_path, data, start_model, "run", **kw).fit()
    log = tmp_path / "run" / "log.jsonl"
    with open(log, "a") as f:  # killed after logging step 3, before its checkpoint, mid-way through step 4's line
        f.write(json.dumps({"step": 3, "loss": 9.0}) + '\n{"step": 4, "lo')
    result = _trainer(tmp_path, data, start_model, "run", **{**kw, "max_steps": 5}).fit()
    assert result["resumed_from"] == 2 and result["steps_run"] == 3
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[2]["loss"] != 9.0  # the stale step 3 was dropped and logged again


def test_under_ddp_only_the_last_micro_batch_synchronises_gradients(tmp_path, data, start_model, reference):
    """DDP all-reduces in the backward pass unless under ``no_sync``: the first k - 1 micro-batches
    accumulate locally, the last one reduces the sum (a wrong index: ranks drift apart, or k reductions)."""
    import contextlib

    t = _trainer(tmp_path, data, start_model, "ddp", batch_size=12, accum_steps=3)
    entered = []

    class Recording(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *a, **k):
            entered.append(("forward", self.quiet))
            return self.inner(*a, **k)

        @contextlib.contextmanager
        def no_sync(self):
            self.quiet = True
            yield
            self.quiet = False

    t.net = Recording(t.model)
    t.net.quiet = False
    t._train_step([reference["b1"], reference["b2"], reference["b1"]])
    assert entered == [("forward", True), ("forward", True), ("forward", False)]


# --------------------------------------------------------------------------- webdataset shards

def _shards(root, n_shards=2, per_shard=4):
    import io
    import json
    import tarfile

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(buf, format="JPEG")
    for s in range(n_shards):
        with tarfile.open(root / f"part-{s}.tar", "w") as tar:
            for i in range(per_shard):
                meta = {"caption": f"a red square {s} {i}",
                        "negatives": [{"negative": f"a blue square {s} {i}", "concreteness": 4.5}]}
                for name, payload in ((f"{s}_{i}.jpg", buf.getvalue()), (f"{s}_{i}.json", json.dumps(meta).encode())):
                    info = tarfile.TarInfo(name)
                    info.size = len(payload)
                    tar.addfile(info, io.BytesIO(payload))
    return str(root / f"part-{{0..{n_shards - 1}}}.tar")


@pytest.mark.parametrize("resampled", [False, True])
def test_a_run_trains_on_webdataset_shards(tmp_path, start_model, resampled):
    spec = _shards(tmp_path)
    seen = []
    t = _trainer(tmp_path, None, start_model, "wds", batch_size=4, accum_steps=2, max_steps=2, log_every=1,
                 data_config=DataConfig(spec, resampled=resampled))
    assert (t.dataset.rank, t.dataset.world, t.dataset.resampled, t.dataset.image_negatives) == (0, 1, resampled, False)
    real = t._train_step

    def recording(micro):
        seen.append([b["size"] for b in micro])
        return real(micro)

    t._train_step = recording
    result = t.fit()
    assert result["step"] == 2 and seen == [[2, 2], [2, 2]]
    rows = (tmp_path / "wds" / "log.jsonl").read_text().splitlines()
    assert len(rows) == 2 and all('"grad_hard"' in r for r in rows)
