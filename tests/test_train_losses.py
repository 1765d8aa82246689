"""Every new loss through the trainer: an interrupted run resumes to the weights (and loss state)
of an uninterrupted one; a tiny SigLIP-style model, and a CLIP given a bias, fine-tune with negatives."""

import json
import math

import pytest
import torch

from slipform.data import DataConfig
from slipform.losses import LossConfig
from slipform.models import ModelSpec, load_model, tiny_open_clip_config
from slipform.train import TrainConfig, Trainer, train

from conftest import make_pair_data

TINY = ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())
# SigLIP's initialisation (Zhai et al. 2023): t = 10, b = -10; open_clip builds the bias from the config
TINY_SIGLIP = ModelSpec("open_clip", "tiny-siglip", None,
                        {**tiny_open_clip_config(), "init_logit_scale": math.log(10), "init_logit_bias": -10.0})


def _data(tmp_path, n=24):
    data = make_pair_data(tmp_path / "data", n=n)
    lines = [json.loads(x) for x in open(data["negatives"])]
    for rec in lines:  # an edited image for TripletCLIP: another picture stands in for it
        rec["negative_image"] = f"images/{(int(rec['id']) + 1) % n:03d}.png"
    with open(data["negatives"], "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in lines))
    return data


def _config(tmp_path, data, name, out="run", model=TINY, **kw):
    base = dict(output=str(tmp_path / out), epochs=1, batch_size=4, lr=1e-3, warmup=1, workers=0, log_every=1,
                save_every=1, progress=False, model=model, loss=LossConfig(name),
                data=DataConfig(data["train"], data["negatives"], data["image_root"],
                                image_negatives=name == "tripletclip"))
    return TrainConfig(**{**base, **kw})


class _Stop(Exception):
    pass


def _interrupt_after(trainer: Trainer, steps: int) -> None:
    step = trainer._train_step

    def limited(micro):
        if trainer.step >= steps:
            raise _Stop
        return step(micro)
    trainer._train_step = limited


@pytest.mark.parametrize("name", [pytest.param("tripletclip", marks=pytest.mark.slow), "cement_siglip", "ce_clip",
                                  pytest.param("siglip", marks=pytest.mark.slow),
                                  pytest.param("fsc_clip", marks=pytest.mark.slow)])
def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path, name):
    data = _data(tmp_path, n=16)
    clean = Trainer(_config(tmp_path, data, name, "clean"))
    clean.fit()
    first = Trainer(_config(tmp_path, data, name, "resumed"))
    _interrupt_after(first, 2)
    with pytest.raises(_Stop):
        first.fit()
    resumed = Trainer(_config(tmp_path, data, name, "resumed"))
    resumed.fit()
    assert resumed.step == clean.step == 4
    a, b = clean.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    if name == "ce_clip":  # its thresholds are state that the checkpoint carries
        assert torch.equal(clean.loss.thresholds, resumed.loss.thresholds) and clean.loss.thresholds.abs().sum() > 0
    rows = [json.loads(x) for x in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 5))


def test_a_tiny_siglip_model_fine_tunes_with_negatives(tmp_path):
    data = _data(tmp_path, n=16)
    trainer = Trainer(_config(tmp_path, data, "cement_siglip", model=TINY_SIGLIP, epochs=4, batch_size=8))
    bias_before = trainer.model.logit_bias.item()
    trainer.fit()
    rows = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert all(r["loss_negatives"] > 0 for r in rows)
    assert sum(r["loss"] for r in rows[-3:]) < sum(r["loss"] for r in rows[:3])
    assert trainer.model.logit_bias.item() != bias_before
    reloaded = load_model(ModelSpec("open_clip", "tiny-siglip", str(tmp_path / "run" / "model.pt"), TINY_SIGLIP.config))
    assert reloaded.logit_bias.item() == pytest.approx(trainer.model.logit_bias.item())


def test_a_clip_model_gets_a_learnable_bias_for_the_sigmoid_loss_and_keeps_it(tmp_path):
    data = _data(tmp_path)
    result = train(_config(tmp_path, data, "siglip", batch_size=8))
    assert result["step"] == 3
    ckpt = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    assert "logit_bias" in ckpt["state_dict"] and ckpt["slipform"]["logit_bias"] is True
    reloaded = load_model(ModelSpec("open_clip", "tiny", str(tmp_path / "run" / "model.pt"), TINY.config))
    assert reloaded.logit_bias.item() == pytest.approx(float(ckpt["state_dict"]["logit_bias"]))
    assert reloaded.logit_bias.item() != -10.0  # it was learned


def test_a_softmax_loss_leaves_a_siglip_bias_frozen(tmp_path):
    data = _data(tmp_path)
    trainer = Trainer(_config(tmp_path, data, "negclip", model=TINY_SIGLIP, batch_size=8))
    trainer.fit()
    assert trainer.model.logit_bias.item() == -10.0 and not trainer.model.logit_bias.requires_grad


def test_a_siglip_style_text_tower_sees_every_token():
    """A bidirectional, last-token pooled tower (SigLIP's) is not cut after the largest token id
    (CLIP's end token, not SigLIP's): its features are those of the model on the full tokens."""
    cfg = tiny_open_clip_config(context_length=16)
    cfg["text_cfg"].update(pool_type="last", no_causal_mask=True)
    model = load_model(ModelSpec("open_clip", "tiny-siglip-text", None, cfg))
    tokens = torch.tensor([[5, 900, 7, 8, 9, 1] + [1] * 10, [3, 4, 1200, 6, 1, 1] + [1] * 10])
    with torch.no_grad():
        want = torch.nn.functional.normalize(model.model.encode_text(tokens), dim=-1)
        torch.testing.assert_close(model.encode_text(tokens), want)
