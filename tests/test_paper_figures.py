"""The paper's Figs. 2-4: the gradient magnitudes w.r.t. the similarities are autograd's, the
batch-size imbalance is a loop's from its definition, and the demo's report draws the figures."""

import json

import pytest
import torch
import torch.nn.functional as F

from slipform.experiment.figures import batch_imbalance, imbalance_table, paper_figures
from slipform.experiment.protocol import ProtocolConfig
from slipform.losses import ContrastiveLoss, LossConfig
from slipform.losses.calibrated import CalibratedMargin

N, K, D = 6, 2, 8


def _features(seed=0):
    g = torch.Generator().manual_seed(seed)
    img = F.normalize(torch.randn(N, D, generator=g), dim=-1)
    txt = F.normalize(img + 0.7 * torch.randn(N, D, generator=g), dim=-1)
    hard = F.normalize(txt[:, None] + 0.5 * torch.randn(N, K, D, generator=g), dim=-1)
    mask = torch.ones(N, K, dtype=torch.bool)
    mask[1, 1] = False
    conc = torch.rand(N, K, generator=g) * 4 + 1
    return img, txt, hard, mask, conc


@pytest.mark.parametrize("kind", ["clip", "negclip", "cement"])
def test_gradient_magnitudes_are_the_derivatives_wrt_the_similarities(kind):
    img, txt, hard, mask, conc = _features()
    scale = torch.tensor(14.0)
    cfg = LossConfig(kind, margin_min=0.05, margin_max=0.3)
    out = ContrastiveLoss(cfg)(img, txt, scale, hard, mask, conc)
    # reference: every image->text row's loss from the similarities as leaves, margin on its own negatives
    cols = txt if kind == "clip" else torch.cat([txt, hard.reshape(N * K, D)])
    sims = (img @ cols.T).requires_grad_(True)
    shift = torch.zeros_like(sims)
    own = torch.zeros_like(sims, dtype=torch.bool)
    if kind != "clip":
        for i in range(N):
            for k in range(K):
                own[i, N + i * K + k] = bool(mask[i, k])
                if kind == "cement":
                    shift[i, N + i * K + k] = 0.05 + 0.25 * (conc[i, k] - 1) / 4
    logits = (scale * (sims + shift)).masked_fill(torch.cat([torch.zeros(N, N, dtype=torch.bool),
                                                             ~mask.reshape(1, -1).expand(N, -1)], 1)
                                                  if kind != "clip" else torch.zeros_like(own), float("-inf"))
    F.cross_entropy(logits, torch.arange(N), reduction="sum").backward()
    grad = sims.grad
    rows = torch.arange(N)
    assert out["grad_s_pos"].item() == pytest.approx(grad[rows, rows].abs().mean().item(), rel=1e-5)
    easy = grad.masked_fill(own, 0).sum(1) - grad[rows, rows]
    assert out["grad_s_easy"].item() == pytest.approx(easy.mean().item(), rel=1e-5)
    if kind == "clip":
        assert torch.isnan(out["grad_s_hard"])
    else:
        assert out["grad_s_hard"].item() == pytest.approx(grad[own].mean().item(), rel=1e-5)


def _reference_imbalance(images, captions, negs, scale, b, idx_list):
    """The definition, row by row: the own negative (or the most similar other caption) against
    the sum over every other negative column."""
    hard_sum, easy_sum, rows = 0.0, 0.0, 0
    for idx in idx_list:
        for r, i in enumerate(idx):
            cols = [captions[j] for j in idx] + ([negs[j] for j in idx] if negs is not None else [])
            p = torch.softmax(scale * torch.stack([images[i] @ c for c in cols]), 0)
            others = [float(p[c]) for c in range(len(cols)) if c != r]
            hard = float(p[b + r]) if negs is not None else max(others)
            hard_sum, easy_sum, rows = hard_sum + hard, easy_sum + sum(others) - hard, rows + 1
    return hard_sum / rows, easy_sum / rows


def test_batch_imbalance_matches_its_definition_and_grows_with_the_batch():
    g = torch.Generator().manual_seed(3)
    images = F.normalize(torch.randn(80, D, generator=g), dim=-1)
    captions = F.normalize(images + 0.8 * torch.randn(80, D, generator=g), dim=-1)
    negs = F.normalize(captions + 0.4 * torch.randn(80, D, generator=g), dim=-1)
    rows = batch_imbalance(images, captions, {"planted": negs}, 10.0, batch_sizes=(8, 64), draws=3, seed=5)
    gen = torch.Generator().manual_seed(5)
    for b in (8, 64):
        idx_list = [torch.randperm(80, generator=gen)[:b].tolist() for _ in range(3)]
        for name, negatives in (("none", None), ("planted", negs)):
            row = next(r for r in rows if r["batch_size"] == b and r["negatives"] == name)
            hard, easy = _reference_imbalance(images, captions, negatives, 10.0, b, idx_list)
            assert (row["hard"], row["easy"]) == pytest.approx((hard, easy), rel=1e-4)
            assert row["ratio"] == pytest.approx(easy / hard, rel=1e-4)
    by = {(r["batch_size"], r["negatives"]): r["ratio"] for r in rows}
    assert by[(64, "none")] > by[(8, "none")] and by[(64, "planted")] > by[(8, "planted")]
    assert "| 8 |" in imbalance_table(rows) and "easy/hard, planted" in imbalance_table(rows)
    with pytest.raises(ValueError, match="exceeds"):
        batch_imbalance(images, captions, {}, 10.0, batch_sizes=(81,))


def _fake_run(root, name, kind, schedule="adaptive", steps=6):
    run = root / "runs" / f"{name}-s0"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"loss": {"kind": kind, "schedule": schedule},
                                                 "model": {"pretrained": None}, "data": {"image_root": "x"}}))
    g = torch.Generator().manual_seed(len(name))
    rows = [{"step": s, "loss": 1.0, "grad_s_pos": float(torch.rand(1, generator=g)) + 1,
             "grad_s_easy": 1.0, "grad_s_hard": None if kind == "clip" else 0.1 * s} for s in range(1, steps + 1)]
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "model.pt").write_bytes(b"finished")
    return run


def test_the_report_draws_figs_3_and_4_from_the_runs_it_finds(tmp_path):
    _fake_run(tmp_path, "clip_ft", "clip")
    _fake_run(tmp_path, "negclip", "negclip")
    run = _fake_run(tmp_path, "slipform_calibrated", "cement", "calibrated")
    margin = CalibratedMargin(LossConfig("cement", schedule="calibrated"))
    c = torch.rand(64, 1) * 4 + 1
    margin.observe(c, torch.full((64,), 0.5), 0.1 + 0.05 * c, torch.full((64,), 0.1), torch.ones(64, 1, dtype=bool))
    assert margin.fit(10)
    (run / "margin_fit.json").write_text(json.dumps(margin.summary()))
    md = paper_figures(tmp_path, 0, ProtocolConfig())
    assert "gradient_magnitudes.png" in md and "margin_fit.png" in md and "imbalance" not in md  # no negatives
    for name in ("gradient_magnitudes.png", "margin_fit.png"):
        assert (tmp_path / name).stat().st_size > 10_000, name
    assert paper_figures(tmp_path / "empty", 0, ProtocolConfig()) == ""


def test_slipform_plot_draws_magnitudes_and_the_margin(tmp_path):
    from slipform.cli import main

    a, b = _fake_run(tmp_path, "negclip", "negclip"), _fake_run(tmp_path, "cal", "cement", "calibrated")
    assert main(["plot", "magnitudes", str(a), str(b), "-o", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").stat().st_size > 10_000
    assert main(["plot", "margin", str(a)]) != 0  # no calibrated margin in a NegCLIP run: a clear error
