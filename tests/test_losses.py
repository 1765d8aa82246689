"""Losses against hand-computed values and a loop-based reference written from the formulas."""

import math

import pytest
import torch
import torch.nn.functional as F

from slipform.losses import ContrastiveLoss, LossConfig, gradient_shares, margin_fn


def _unit(x):
    return F.normalize(x, dim=-1)


def _batch(n=4, k=1, d=8, seed=0, missing=()):
    g = torch.Generator().manual_seed(seed)
    img = _unit(torch.randn(n, d, generator=g))
    txt = _unit(torch.randn(n, d, generator=g))
    hard = _unit(torch.randn(n, k, d, generator=g))
    mask = torch.ones(n, k, dtype=torch.bool)
    for i in missing:
        mask[i] = False
    conc = torch.linspace(1, 5, n * k).reshape(n, k)
    return img, txt, hard, mask, conc


def reference(img, txt, hard, mask, conc, scale, kind, margin=lambda c: 0.0, default_c=3.0):
    """Loop over anchors exactly as the docstring's formula reads."""
    n, k = mask.shape
    total_i2t = 0.0
    for i in range(n):
        terms = [scale * float(img[i] @ txt[j]) for j in range(n)]
        if kind != "clip":
            for j in range(n):
                for t in range(k):
                    if not mask[j, t]:
                        continue
                    s = float(img[i] @ hard[j, t])
                    c = float(conc[j, t]) if not math.isnan(float(conc[j, t])) else default_c
                    m = margin(c) if (kind == "cement" and j == i) else 0.0
                    terms.append(scale * (s + m))
        total_i2t += -terms[i] + math.log(sum(math.exp(z) for z in terms))
    total_t2i = 0.0
    for i in range(n):
        terms = [scale * float(txt[i] @ img[j]) for j in range(n)]
        total_t2i += -terms[i] + math.log(sum(math.exp(z) for z in terms))
    return (total_i2t / n + total_t2i / n) / 2


def test_clip_on_a_hand_computed_2x2():
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    txt = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    # logits at scale 1: image rows [[1, .6], [0, .8]]; text rows [[1, 0], [.6, .8]]
    i2t = (-1 + math.log(math.e + math.exp(0.6)) - 0.8 + math.log(1 + math.exp(0.8))) / 2
    t2i = (-1 + math.log(math.e + 1) - 0.8 + math.log(math.exp(0.6) + math.exp(0.8))) / 2
    out = ContrastiveLoss(LossConfig(kind="clip"))(img, txt, 1.0)
    assert out["loss"].item() == pytest.approx((i2t + t2i) / 2, abs=1e-6)


def test_cement_on_a_hand_computed_case():
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    txt = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    hard = torch.tensor([[[0.8, 0.6]], [[0.6, 0.8]]])
    mask = torch.tensor([[True], [False]])
    conc = torch.tensor([[5.0], [1.0]])
    cfg = LossConfig(kind="cement", schedule="static", margin=0.2)
    out = ContrastiveLoss(cfg)(img, txt, 1.0, hard, mask, conc)
    # row 0: positive 1, easy 0, own hard 0.8 + 0.2; image 1's negative is masked out
    row0 = -1 + math.log(math.e + 1 + math.exp(1.0))
    row1 = -1 + math.log(1 + math.e + math.exp(0.6))  # image 1 vs caption 0, caption 1, image 0's negative
    t2i = -1 + math.log(math.e + 1)
    assert out["loss"].item() == pytest.approx(((row0 + row1) / 2 + t2i) / 2, abs=1e-6)


@pytest.mark.parametrize("kind", ["clip", "negclip", "cement"])
@pytest.mark.parametrize("k,missing", [(1, ()), (2, (1,)), (3, (0, 2))])
def test_against_the_loop_reference(kind, k, missing):
    img, txt, hard, mask, conc = _batch(n=5, k=k, missing=missing)
    conc[0, 0] = float("nan")  # unrated target -> default concreteness
    cfg = LossConfig(kind=kind, margin_min=0.02, margin_max=0.2, default_concreteness=2.5)
    got = ContrastiveLoss(cfg)(img, txt, 10.0, hard, mask, conc)["loss"].item()
    m = margin_fn(cfg)
    want = reference(img, txt, hard, mask, conc, 10.0, kind, lambda c: float(m(torch.tensor(c))), 2.5)
    assert got == pytest.approx(want, rel=1e-5)


def test_cement_with_zero_margin_equals_negclip():
    img, txt, hard, mask, conc = _batch(n=6, k=2, missing=(3,))
    neg = ContrastiveLoss(LossConfig(kind="negclip"))(img, txt, 20.0, hard, mask, conc)["loss"]
    cem = ContrastiveLoss(LossConfig(kind="cement", schedule="static", margin=0.0))(img, txt, 20.0, hard, mask, conc)
    assert cem["loss"].item() == pytest.approx(neg.item(), abs=1e-6)
    assert ContrastiveLoss(LossConfig(kind="cement"))(img, txt, 20.0, hard, mask, conc)["loss"] > neg


def test_margin_schedules():
    c = torch.tensor([1.0, 3.0, 5.0, 7.0])
    assert margin_fn(LossConfig(schedule="adaptive", margin_min=0.0, margin_max=0.2))(c).tolist() == \
        pytest.approx([0.0, 0.1, 0.2, 0.2])
    assert margin_fn(LossConfig(schedule="inverse", margin_min=0.0, margin_max=0.2))(c).tolist() == \
        pytest.approx([0.2, 0.1, 0.0, 0.0])
    assert margin_fn(LossConfig(schedule="static", margin=0.07))(c).tolist() == pytest.approx([0.07] * 4)
    img, txt, hard, mask, conc = _batch()
    custom = ContrastiveLoss(LossConfig(kind="cement"), margin=lambda c: 0.05 * c)
    want = reference(img, txt, hard, mask, conc, 5.0, "cement", lambda c: 0.05 * c)
    assert custom(img, txt, 5.0, hard, mask, conc)["loss"].item() == pytest.approx(want, rel=1e-5)
    with pytest.raises(ValueError):
        LossConfig(kind="triplet")
    with pytest.raises(ValueError):
        LossConfig(margin_min=0.3, margin_max=0.1)


def test_gradient_shares_match_autograd():
    img, txt, hard, mask, conc = _batch(n=4, k=1)
    loss = ContrastiveLoss(LossConfig(kind="negclip"))
    logits, _, own = loss.get_logits(img, txt, 10.0, hard, mask, conc)
    logits = logits.clone().requires_grad_(True)
    F.cross_entropy(logits, torch.arange(4), reduction="sum").backward()
    g = logits.grad
    shares = gradient_shares(logits.detach(), own)
    assert shares["grad_pos"].item() == pytest.approx(-g.diagonal().mean().item(), rel=1e-5)
    assert shares["grad_hard"].item() == pytest.approx(g[:, 4:][own].mean().item(), rel=1e-5)
    easy = g.clone()
    easy[:, 4:][own] = 0
    easy.fill_diagonal_(0)
    assert shares["grad_easy"].item() == pytest.approx(easy.sum(1).mean().item(), rel=1e-5)


def test_cement_shifts_gradient_to_hard_negatives():
    img, txt, hard, mask, conc = _batch(n=32, k=1, d=16)
    neg = ContrastiveLoss(LossConfig(kind="negclip"))(img, txt, 30.0, hard, mask, conc)
    cem = ContrastiveLoss(LossConfig(kind="cement", margin_min=0.1, margin_max=0.3))(img, txt, 30.0, hard, mask, conc)
    assert cem["grad_hard"] > neg["grad_hard"]
    assert cem["grad_easy"] < neg["grad_easy"]


def test_image_negatives_add_rows_that_prefer_their_own_negative_caption():
    img, txt, hard, mask, conc = _batch(n=3, k=1)
    neg_images = hard[:, 0].clone()  # an edited image that matches its negative caption exactly
    ok = torch.tensor([True, True, False])
    loss = ContrastiveLoss(LossConfig(kind="negclip"))
    out = loss(img, txt, 10.0, hard, mask, conc, neg_images, ok)
    cols = torch.cat([txt, hard[:, 0]])
    logits = 10.0 * neg_images[:2] @ cols.T
    want = F.cross_entropy(logits, torch.tensor([3, 4]))
    assert out["loss_image_negatives"].item() == pytest.approx(want.item(), rel=1e-6)
    base = loss(img, txt, 10.0, hard, mask, conc)["loss"]
    assert out["loss"].item() == pytest.approx(base.item() + want.item(), rel=1e-6)
