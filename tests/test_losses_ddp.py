"""A real 2-process gloo run gives the loss and gradients of one process on the global batch."""

import pytest
import torch

from slipform.losses import ContrastiveLoss, LossConfig, ddp_scale

from ddp_harness import TwoTowers, on_two_gloo_ranks, rank_part

N, K, DIN, D = 8, 2, 6, 5


def _data():
    g = torch.Generator().manual_seed(0)
    x_img, x_txt = torch.randn(N, DIN, generator=g), torch.randn(N, DIN, generator=g)
    x_hard = torch.randn(N, K, DIN, generator=g)
    mask = torch.rand(N, K, generator=g) > 0.3
    conc = torch.rand(N, K, generator=g) * 4 + 1
    return x_img, x_txt, x_hard, mask, conc


def _step(model, x_img, x_txt, x_hard, mask, conc, kind):
    f_img, f_txt, f_hard = model(x_img, x_txt, x_hard)
    loss = ContrastiveLoss(LossConfig(kind=kind, margin_min=0.05, margin_max=0.3))
    out = loss(f_img, f_txt, 10.0, f_hard, mask, conc, f_hard[:, 0], mask[:, 0])
    (out["loss"] * ddp_scale()).backward()
    return out


def _worker(rank, kind):
    model = torch.nn.parallel.DistributedDataParallel(TwoTowers(DIN, D))
    out = _step(model, *[t[rank_part(rank, N)] for t in _data()], kind)
    grads = {n: p.grad for n, p in model.module.named_parameters()}
    return {"loss": out["loss"].detach(), "grad_hard": out["grad_hard"], "grads": grads}


@pytest.mark.parametrize("kind", [pytest.param("clip", marks=pytest.mark.slow),
                                  pytest.param("negclip", marks=pytest.mark.slow), "cement"])
def test_two_process_gloo_equals_one_process(kind, tmp_path):
    model = TwoTowers(DIN, D)
    single = _step(model, *_data(), kind)
    for res in on_two_gloo_ranks(_worker, tmp_path, kind):
        assert res["loss"].item() == pytest.approx(single["loss"].item(), rel=1e-5)
        for name, p in model.named_parameters():
            torch.testing.assert_close(res["grads"][name], p.grad, rtol=1e-5, atol=1e-6)
        if kind != "clip":
            assert res["grad_hard"].item() == pytest.approx(single["grad_hard"].item(), rel=1e-5)
