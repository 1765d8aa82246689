"""The calibrated Cement margin: LOESS recovers a known relation, the margin follows the fitted
difficulty inside the loss, its state survives a checkpoint, and a resumed run is exact."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from slipform.data import DataConfig
from slipform.losses import ContrastiveLoss, LossConfig, build_loss
from slipform.losses.calibrated import CalibratedMargin, difficulty, fit_curve, grid, interpolate
from slipform.models import ModelSpec, tiny_open_clip_config
from slipform.train import TrainConfig, Trainer, train

from conftest import make_pair_data

CAL = LossConfig("cement", schedule="calibrated", margin_min=0.02, margin_max=0.2, refresh_every=1,
                 calibration_window=4000)


def _linear_samples(n=3000, seed=0):
    """s_ii' rises with c by 0.05 per unit, s_ii and the easy mean are flat, with noise."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(1.0, 5.0, n)
    pos = 0.6 + rng.normal(0, 0.02, n)
    neg = 0.15 + 0.05 * c + rng.normal(0, 0.02, n)
    easy = 0.1 + rng.normal(0, 0.02, n)
    return c, pos, neg, easy


def test_loess_of_a_linear_relation_recovers_its_slope():
    c, _, neg, _ = _linear_samples()
    at = grid().numpy()
    curve = fit_curve(c, neg, 2 / 3, at)
    slope = np.polyfit(at, curve, 1)[0]
    assert slope == pytest.approx(0.05, abs=0.003)
    assert np.abs(curve - (0.15 + 0.05 * at)).max() < 0.01
    # held flat beyond the data, not extrapolated
    inside = fit_curve(c[c > 3], neg[c > 3], 2 / 3, at)
    assert np.allclose(inside[at <= 3], inside[at <= 3][-1])


def test_the_margin_follows_the_fitted_difficulty():
    c, pos, neg, easy = _linear_samples()
    margin = CalibratedMargin(CAL)
    t = [torch.from_numpy(x)[:, None] for x in (c, pos, neg, easy)]
    margin.observe(t[0], t[1][:, 0], t[2], t[3][:, 0], torch.ones(len(c), 1, dtype=torch.bool))
    assert margin.seen == len(c)
    assert margin(torch.tensor([1.0, 5.0])).tolist() == pytest.approx([0.02, 0.2])  # the ramp before a fit
    assert margin.refresh(1)
    # d(c) = (0.15 + 0.05c - 0.1) / (0.6 - 0.1) = 0.1 + 0.1c; m = 0.02 + 0.18 d
    cs = torch.tensor([1.5, 2.0, 3.0, 4.5], dtype=torch.float64)
    expected = 0.02 + 0.18 * (0.1 + 0.1 * cs)
    assert margin(cs).tolist() == pytest.approx(expected.tolist(), abs=0.005)
    fit = margin.history[-1]
    assert fit["step"] == 1 and fit["samples"] == len(c)
    assert fit["pos"].mean().item() == pytest.approx(0.6, abs=0.005)


def test_difficulty_is_clipped_and_a_collapsed_model_counts_as_hardest():
    d = difficulty(torch.tensor([0.5, 0.5, 0.5, 0.1]), torch.tensor([0.0, 0.3, 0.9, 0.0]),
                   torch.tensor([0.1, 0.1, 0.1, 0.2]))
    assert d.tolist() == pytest.approx([0.0, 0.5, 1.0, 1.0])
    table = torch.linspace(0, 1, grid().numel(), dtype=torch.float64)
    assert interpolate(table, torch.tensor([1.0, 3.0, 5.0, 7.0])).tolist() == pytest.approx([0, 0.5, 1, 1])


def test_too_few_or_too_uniform_samples_keep_the_previous_margin():
    margin = CalibratedMargin(CAL)
    c = torch.full((40, 1), 4.0)
    margin.observe(c, torch.full((40,), 0.5), torch.full((40, 1), 0.3), torch.full((40,), 0.1),
                   torch.ones(40, 1, dtype=torch.bool))
    assert not margin.refresh(1) and margin.table is None  # one distinct c: nothing to fit


def _features(n=24, k=2, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = F.normalize(torch.randn(n, d, generator=g), dim=-1)
    txt = F.normalize(img + 0.5 * torch.randn(n, d, generator=g), dim=-1)
    hard = F.normalize(txt[:, None] + 0.4 * torch.randn(n, k, d, generator=g), dim=-1)
    mask = torch.rand(n, k, generator=g) > 0.2
    conc = torch.rand(n, k, generator=g) * 4 + 1
    conc[0, 0] = float("nan")  # unrated: no sample, the default concreteness's margin
    return img, txt, hard, mask, conc


def test_the_loss_observes_its_own_rows_and_uses_the_fitted_margin():
    img, txt, hard, mask, conc = _features()
    loss = build_loss(CAL)
    loss(img, txt, 20.0, hard, mask, conc)
    rows = loss.margin.samples()
    valid = mask & torch.isfinite(conc)
    assert len(rows) == int(valid.sum())
    torch.testing.assert_close(rows[:, 0], conc[valid].double())
    torch.testing.assert_close(rows[:, 1].float(), (img * txt).sum(-1)[:, None].expand_as(conc)[valid])
    torch.testing.assert_close(rows[:, 2].float(), torch.einsum("nd,nkd->nk", img, hard)[valid])
    sims = img @ txt.T
    easy = (sims.sum(1) - sims.diag()) / (len(img) - 1)
    torch.testing.assert_close(rows[:, 3].float(), easy[:, None].expand_as(conc)[valid])
    for _ in range(2):
        loss(img, txt, 20.0, hard, mask, conc)
    assert loss.margin.refresh(1) and loss.margin.table is not None
    # the loss with the fitted margin is the loss with that margin as a fixed function
    table = loss.margin.table.clone()
    fixed = ContrastiveLoss(CAL, margin=lambda c: interpolate(table, c))
    expected = fixed(img, txt, 20.0, hard, mask, conc)["loss"]
    assert loss(img, txt, 20.0, hard, mask, conc)["loss"].item() == pytest.approx(expected.item(), rel=1e-6)
    ramp = build_loss(LossConfig("cement", schedule="linear", margin_min=0.02, margin_max=0.2))
    assert ramp(img, txt, 20.0, hard, mask, conc)["loss"].item() != pytest.approx(expected.item(), rel=1e-6)


def test_the_state_round_trips_through_weights_only_load(tmp_path):
    img, txt, hard, mask, conc = _features()
    loss = build_loss(replace_cfg(calibration_window=50))
    for _ in range(4):
        loss(img, txt, 20.0, hard, mask, conc)  # 4 batches of ~37 samples wrap the 50-sample window
    loss.on_step(1)
    torch.save(loss.state_dict(), tmp_path / "s.pt")
    other = build_loss(replace_cfg(calibration_window=50))
    other.load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True))
    assert torch.equal(other.margin.samples(), loss.margin.samples())
    assert torch.equal(other.margin.table, loss.margin.table) and other.margin.seen == loss.margin.seen
    c = torch.linspace(1, 5, 9)
    assert torch.equal(other.margin(c), loss.margin(c))
    with pytest.raises(ValueError, match="calibration_window"):
        build_loss(replace_cfg(calibration_window=60)).load_state_dict(torch.load(tmp_path / "s.pt",
                                                                                 weights_only=True))


def replace_cfg(**kw):
    from dataclasses import replace

    return replace(CAL, **kw)


def test_calibrated_is_refused_where_it_is_not_built():
    with pytest.raises(ValueError, match="cement"):
        build_loss(LossConfig("cement_siglip", schedule="calibrated"))
    with pytest.raises(ValueError, match="loess_frac"):
        LossConfig("cement", schedule="calibrated", loess_frac=0.0)


# --------------------------------------------------------------------------- training and resume

TINY = ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())


def _config(tmp_path, data, output):
    return TrainConfig(output=str(tmp_path / output), epochs=3, batch_size=8, lr=1e-3, warmup=2, workers=0,
                       log_every=1, save_every=2, progress=False, model=TINY,
                       loss=LossConfig("cement", schedule="calibrated", refresh_every=2, calibration_window=64),
                       data=DataConfig(data["train"], data["negatives"], data["image_root"]))


def _checkpoint(run):
    return torch.load(run / "checkpoints" / "latest.pt", weights_only=True)


def test_a_resumed_calibrated_run_equals_an_unbroken_one(tmp_path, monkeypatch):
    data = make_pair_data(tmp_path / "data", n=24)  # 3 steps an epoch, 9 in all
    clean = train(_config(tmp_path, data, "clean"))
    assert clean["step"] == 9
    real = Trainer._train_step

    def crash_at_step_7(self, micro):
        if self.step == 6:
            raise KeyboardInterrupt  # after the step-6 checkpoint, which holds the first fit (step 6)
        return real(self, micro)

    monkeypatch.setattr(Trainer, "_train_step", crash_at_step_7)
    with pytest.raises(KeyboardInterrupt):
        train(_config(tmp_path, data, "run"))
    monkeypatch.setattr(Trainer, "_train_step", real)
    assert train(_config(tmp_path, data, "run"))["resumed_from"] == 6
    a, b = _checkpoint(tmp_path / "clean"), _checkpoint(tmp_path / "run")
    fits = a["loss"]["margin._extra_state"]["history"]
    steps = [f["step"] for f in fits]
    assert steps == [6, 8]  # a fit before the break, and one after it
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    sa, sb = a["loss"]["margin._extra_state"], b["loss"]["margin._extra_state"]
    assert torch.equal(sa["window"], sb["window"]) and torch.equal(sa["table"], sb["table"])
    assert len(sa["history"]) == len(sb["history"])
    # the run folder's Fig. 4
    fit = json.loads((tmp_path / "run" / "margin_fit.json").read_text())
    assert [f["step"] for f in fit["fits"]] == [f["step"] for f in fits]
    assert (tmp_path / "run" / "margin_fit.png").stat().st_size > 10_000
