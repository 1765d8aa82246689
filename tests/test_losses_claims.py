"""Claims of the losses the loop reference does not reach: image negatives with K >= 2, validation, the
simulated-DDP gather, masks of any dtype, the unrated path and the diagnostics (each kills mutmut mutants)."""

import math

import pytest
import torch
import torch.nn.functional as F

from slipform.losses import ContrastiveLoss, LossConfig


def _reference(neg_images, ok, txt, hard, scale, mask=None):
    """Row r: edited image of caption i scores all N captions and all existing N*K negatives; its target
    is caption i's first negative, column N + i*K (the formula in losses.py, read as a loop)."""
    n, k = hard.shape[:2]
    mask = torch.ones(n, k, dtype=torch.bool) if mask is None else mask
    columns = [txt[j] for j in range(n)] + [hard[j, t] if mask[j, t] else None for j in range(n) for t in range(k)]
    total, rows = 0.0, 0
    for i in range(n):
        if not ok[i]:
            continue
        logits = [scale * float(neg_images[i] @ c) if c is not None else None for c in columns]
        target = n + i * k
        total += -logits[target] + math.log(sum(math.exp(z) for z in logits if z is not None))
        rows += 1
    return total / rows


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("kind", ["negclip", "cement"])
def test_image_negative_rows_target_their_own_first_negative_with_k_negatives(k, kind):
    g = torch.Generator().manual_seed(k)
    n, d = 4, 8
    img, txt = F.normalize(torch.randn(n, d, generator=g), dim=-1), F.normalize(torch.randn(n, d, generator=g), dim=-1)
    hard = F.normalize(torch.randn(n, k, d, generator=g), dim=-1)
    mask = torch.ones(n, k, dtype=torch.bool)
    conc = torch.full((n, k), 3.0)
    neg_images = hard[:, 0] + 0.1 * F.normalize(torch.randn(n, d, generator=g), dim=-1)
    ok = torch.tensor([False, True, True, True])  # caption 0 has no edited image
    out = ContrastiveLoss(LossConfig(kind=kind))(img, txt, 10.0, hard, mask, conc, neg_images, ok)
    want = _reference(neg_images, ok, txt, hard, 10.0)
    assert out["loss_image_negatives"].item() == pytest.approx(want, rel=1e-5)
    # the rows must prefer their own negative: the loss is far below a uniform guess over the columns
    assert out["loss_image_negatives"].item() < math.log(n + n * k) - 1.0


def test_an_image_negative_without_its_first_negative_caption_adds_no_row():
    g = torch.Generator().manual_seed(0)
    n, k, d = 3, 2, 8
    txt = F.normalize(torch.randn(n, d, generator=g), dim=-1)
    hard = F.normalize(torch.randn(n, k, d, generator=g), dim=-1)
    mask = torch.tensor([[True, True], [False, True], [True, False]])  # caption 1 lacks its first negative
    ok = torch.tensor([True, True, True])
    loss = ContrastiveLoss(LossConfig(kind="negclip"))
    out = loss(txt, txt, 10.0, hard, mask, torch.full((n, k), 3.0), hard[:, 0], ok)
    want = _reference(hard[:, 0], torch.tensor([True, False, True]), txt, hard, 10.0, mask)
    assert out["loss_image_negatives"].item() == pytest.approx(want, rel=1e-5)


def test_a_missing_negative_enters_no_image_negative_row():
    """A masked negative's slot holds padding; moving it (even onto the edited image) changes nothing."""
    g = torch.Generator().manual_seed(1)
    n, k, d = 3, 2, 8
    txt = F.normalize(torch.randn(n, d, generator=g), dim=-1)
    hard = F.normalize(torch.randn(n, k, d, generator=g), dim=-1)
    mask = torch.tensor([[True, False], [True, True], [True, False]])
    loss = ContrastiveLoss(LossConfig(kind="negclip"))
    args = (torch.full((n, k), 3.0), hard[:, 0], torch.ones(n, dtype=torch.bool))
    before = loss(txt, txt, 10.0, hard, mask, *args)["loss_image_negatives"]
    moved = hard.clone()
    moved[0, 1] = hard[0, 0]  # padding that would tie with row 0's target if it counted
    after = loss(txt, txt, 10.0, moved, mask, *args)["loss_image_negatives"]
    assert after.item() == pytest.approx(before.item(), rel=1e-6)


def _batch(n=4, k=2, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    img, txt = F.normalize(torch.randn(n, d, generator=g), dim=-1), F.normalize(torch.randn(n, d, generator=g), dim=-1)
    hard = F.normalize(torch.randn(n, k, d, generator=g), dim=-1)
    mask = torch.ones(n, k, dtype=torch.bool)
    mask[1, 1] = False
    return img, txt, hard, mask, torch.linspace(1, 5, n * k).reshape(n, k)


def test_config_errors_say_what_is_wrong_and_allow_the_edges():
    with pytest.raises(ValueError, match=r"unknown loss 'triplet'; choose from \('clip'"):
        LossConfig(kind="triplet")
    with pytest.raises(ValueError, match=r"unknown margin schedule 'cosine'; choose from \('static'"):
        LossConfig(schedule="cosine")
    with pytest.raises(ValueError, match="^margin_min must not exceed margin_max$"):
        LossConfig(margin_min=0.2, margin_max=0.1)
    for bad in (0.99, 5.01):
        with pytest.raises(ValueError, match=r"^default_concreteness must lie in \[1, 5\]$"):
            LossConfig(default_concreteness=bad)
    LossConfig(margin_min=0.1, margin_max=0.1)  # equal margins: a flat schedule, allowed
    LossConfig(default_concreteness=1.0), LossConfig(default_concreteness=5.0)


def test_margins_are_clamped_to_the_rating_scale_at_both_ends():
    from slipform.losses import margin_fn

    c = torch.tensor([0.0, 1.0, 5.0, 9.0])
    assert margin_fn(LossConfig(schedule="adaptive", margin_min=0.0, margin_max=0.2))(c).tolist() == \
        pytest.approx([0.0, 0.0, 0.2, 0.2])
    assert margin_fn(LossConfig(schedule="inverse", margin_min=0.0, margin_max=0.2))(c).tolist() == \
        pytest.approx([0.2, 0.2, 0.0, 0.0])


def test_without_a_process_group_rank_0_of_1_and_no_scaling():
    from slipform.losses import ddp_scale, gather, world_info

    x = torch.randn(3, 2)
    assert world_info() == (0, 1) and ddp_scale() == 1 and gather(x) is x


def test_gather_under_a_simulated_world_of_two_keeps_the_local_slice_in_the_graph(monkeypatch):
    """Rank 1 of 2: the other rank's rows come first, the local rows keep their gradient."""
    import torch.distributed as dist

    from slipform.losses import ddp_scale, gather

    other = torch.full((2, 3), 7.0)

    def all_gather(parts, tensor):
        assert len(parts) == 2 and all(p.shape == tensor.shape for p in parts) and not tensor.requires_grad
        parts[0].copy_(other)
        parts[1].copy_(tensor)

    for name, value in (("is_available", lambda: True), ("is_initialized", lambda: True), ("get_rank", lambda: 1),
                        ("get_world_size", lambda: 2), ("all_gather", all_gather)):
        monkeypatch.setattr(dist, name, value)
    local = torch.arange(6.0).reshape(2, 3).requires_grad_(True)
    out = gather(local)
    assert out.shape == (4, 3) and torch.equal(out.detach(), torch.cat([other, local.detach()]))
    (out * torch.arange(4.0)[:, None]).sum().backward()
    assert torch.equal(local.grad, torch.tensor([[2.0] * 3, [3.0] * 3]))  # rows 2 and 3 of the global batch
    assert ddp_scale() == 2


def test_masks_of_any_dtype_mean_the_same():
    img, txt, hard, mask, conc = _batch()
    loss = ContrastiveLoss(LossConfig(kind="cement"))
    neg_ok = torch.tensor([True, False, True, True])
    want = loss(img, txt, 10.0, hard, mask, conc, hard[:, 0], neg_ok)
    got = loss(img, txt, 10.0, hard, mask.to(torch.uint8), conc, hard[:, 0], neg_ok.to(torch.int64))
    for key in ("loss", "loss_image_negatives", "grad_hard"):
        assert got[key].item() == pytest.approx(want[key].item(), rel=1e-6), key


def test_unrated_negatives_get_the_default_concreteness():
    img, txt, hard, mask, _ = _batch()
    cfg = LossConfig(kind="cement", default_concreteness=2.0)
    without = ContrastiveLoss(cfg)(img, txt, 10.0, hard, mask, None)["loss"]
    rated = ContrastiveLoss(cfg)(img, txt, 10.0, hard, mask, torch.full(mask.shape, 2.0))["loss"]
    nan = ContrastiveLoss(cfg)(img, txt, 10.0, hard, mask, torch.full(mask.shape, float("nan")))["loss"]
    assert without.item() == pytest.approx(rated.item(), rel=1e-6) == pytest.approx(nan.item(), rel=1e-6)


def test_both_directions_are_reported_and_averaged():
    img, txt, hard, mask, conc = _batch()
    out = ContrastiveLoss(LossConfig(kind="clip"))(img, txt, 10.0)
    labels = torch.arange(4)
    assert out["loss_i2t"].item() == pytest.approx(F.cross_entropy(10.0 * img @ txt.T, labels).item(), rel=1e-6)
    assert out["loss_t2i"].item() == pytest.approx(F.cross_entropy(10.0 * txt @ img.T, labels).item(), rel=1e-6)
    assert out["loss"].item() == pytest.approx((out["loss_i2t"].item() + out["loss_t2i"].item()) / 2, rel=1e-6)


def test_image_negatives_need_the_negatives_and_their_mask():
    img, txt, hard, mask, conc = _batch()
    ok = torch.ones(4, dtype=torch.bool)
    loss = ContrastiveLoss(LossConfig(kind="negclip"))
    assert "loss_image_negatives" not in loss(img, txt, 10.0, hard, mask, conc, hard[:, 0], None)
    assert "loss_image_negatives" not in loss(img, txt, 10.0, hard, mask, conc, None, ok)
    clip = ContrastiveLoss(LossConfig(kind="clip"))  # no hard negatives in the loss: no image-negative rows
    assert "loss_image_negatives" not in clip(img, txt, 10.0, hard, mask, conc, hard[:, 0], ok)
    none_ok = loss(img, txt, 10.0, hard, mask, conc, hard[:, 0].clone().requires_grad_(True), ~ok)
    assert none_ok["loss_image_negatives"].item() == 0.0
    assert none_ok["loss"].item() == pytest.approx(loss(img, txt, 10.0, hard, mask, conc)["loss"].item(), rel=1e-7)


def test_gradient_shares_without_hard_negatives_by_hand():
    from slipform.losses import gradient_shares

    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    p = logits.softmax(1)
    out = gradient_shares(logits, None)
    assert out["grad_pos"].item() == pytest.approx((1 - p.diagonal()).mean().item(), rel=1e-6)
    assert out["grad_easy"].item() == pytest.approx((p.sum(1) - p.diagonal()).mean().item(), rel=1e-6)
    assert math.isnan(out["grad_hard"].item())
    none_valid = gradient_shares(torch.cat([logits, torch.zeros(3, 3)], 1), torch.zeros(3, 3, dtype=torch.bool))
    assert math.isnan(none_valid["grad_hard"].item()) and none_valid["grad_easy"].item() > out["grad_easy"].item()


def test_any_float_dtype_of_features_and_concreteness_gives_the_same_loss():
    img, txt, hard, mask, conc = _batch()
    loss = ContrastiveLoss(LossConfig(kind="cement"))
    want = loss(img, txt, 10.0, hard, mask, conc)["loss"].item()
    as64 = loss(img.double(), txt.double(), 10.0, hard.double(), mask, conc)["loss"]
    assert as64.dtype == torch.float64 and as64.item() == pytest.approx(want, rel=1e-6)
    assert loss(img, txt, 10.0, hard, mask, conc.double())["loss"].item() == pytest.approx(want, rel=1e-6)
    unrated = loss(img.double(), txt.double(), 10.0, hard.double(), mask, None)["loss"]
    assert unrated.dtype == torch.float64


def test_integer_masks_select_rows_not_indices():
    img, txt, hard, mask, conc = _batch()
    ok = torch.tensor([True, True, False, True])
    loss = ContrastiveLoss(LossConfig(kind="negclip"))
    want = loss(img, txt, 10.0, hard, mask, conc, hard[:, 0], ok)["loss_image_negatives"].item()
    got = loss(img, txt, 10.0, hard, mask.long(), conc, hard[:, 0], ok.long())["loss_image_negatives"].item()
    assert got == pytest.approx(want, rel=1e-6)
