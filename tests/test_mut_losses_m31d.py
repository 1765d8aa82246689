"""Tests written from the survivors of issue 31's third-round mutation samples of losses/ (branch m31d):
the shared helpers (base), the contrastive losses under a simulated world of two ranks and with the
calibrated margin, and the registry's loading and messages. Each computes its reference by hand."""

import pytest
import torch
import torch.distributed as dist

from slipform.losses import ContrastiveLoss, LossConfig, get_loss
from slipform.losses.base import margin_fn, own_margins
from slipform.losses.contrastive import gradient_shares

OTHER = 10.0  # every gathered tensor of the simulated other rank is this constant (bool: True)


@pytest.fixture
def rank_one_of_two(monkeypatch):
    """This process is rank 1 of 2: all_gather puts a constant rank 0 before it, all_reduce adds OTHER."""
    def all_gather(parts, tensor):
        parts[0].copy_(torch.full_like(tensor, OTHER) if tensor.dtype != torch.bool else torch.ones_like(tensor))
        parts[1].copy_(tensor)

    for name, value in (("is_available", lambda: True), ("is_initialized", lambda: True), ("get_rank", lambda: 1),
                        ("get_world_size", lambda: 2), ("all_gather", all_gather),
                        ("all_reduce", lambda t: t.add_(OTHER))):
        monkeypatch.setattr(dist, name, value)


def _unit(g, *shape):
    return torch.nn.functional.normalize(torch.randn(*shape, generator=g, dtype=torch.float64), dim=-1)


def test_own_margins_without_concreteness_are_the_default_on_the_masks_device():
    cfg = LossConfig("cement", margin_min=0.1, margin_max=0.5, default_concreteness=2.0)
    mask = torch.ones(3, 2, dtype=torch.bool)
    got = own_margins(cfg, margin_fn(cfg), None, mask, torch.float64)
    torch.testing.assert_close(got, torch.full((3, 2), 0.2, dtype=torch.float64))  # 0.1 + 0.4 * (2 - 1) / 4
    c = torch.tensor([[1.0, float("nan")], [5.0, 3.0], [float("nan"), 4.0]])
    torch.testing.assert_close(own_margins(cfg, margin_fn(cfg), c, mask, torch.float64),
                               torch.tensor([[0.1, 0.2], [0.5, 0.3], [0.2, 0.4]], dtype=torch.float64))
    # a GPU batch's mask: the margins are made where it lives (the meta device stands for a GPU here)
    assert own_margins(cfg, margin_fn(cfg), None, mask.to("meta"), torch.float32).device.type == "meta"


def test_a_rank_of_two_takes_its_own_rows_and_its_shares_over_both_ranks(rank_one_of_two):
    """Rank 1 of 2 with n = 3 rows, K = 2: the logits are (3, 6 + 12), its own negatives the columns
    of global rows 3..5, its labels 3..5, and the gradient shares are sums over both ranks (the other
    rank's sums and counts are OTHER each) divided by the summed counts."""
    g = torch.Generator().manual_seed(3)
    n, k, d = 3, 2, 4
    img, txt, hard = _unit(g, n, d), _unit(g, n, d), _unit(g, n, k, d)
    mask = torch.tensor([[1, 0], [1, 1], [0, 1]], dtype=torch.bool)
    loss = ContrastiveLoss(LossConfig("negclip"))
    logits, per_text, own = loss.get_logits(img, txt, 2.0, hard, mask)
    assert logits.shape == (n, 2 * n + 2 * n * k) and per_text.shape == (n, 2 * n)
    expected_own = torch.zeros(n, 2 * n * k, dtype=torch.bool)
    for r in range(n):
        for j in range(k):
            expected_own[r, (n + r) * k + j] = bool(mask[r, j])
    assert torch.equal(own, expected_own)
    out = loss(img, txt, 2.0, hard, mask)
    labels = torch.arange(n, 2 * n)
    p = logits.softmax(1)
    pos_sum = float((1 - p[torch.arange(n), labels]).sum())
    hard_p = p[:, 2 * n:][expected_own]
    assert float(out["grad_pos"]) == pytest.approx((pos_sum + OTHER) / (n + OTHER))
    assert float(out["grad_hard"]) == pytest.approx((float(hard_p.sum()) + OTHER) / (hard_p.numel() + OTHER))
    local = gradient_shares(logits, own, labels)  # this rank's rows alone: a different number
    assert float(local["grad_pos"]) == pytest.approx(pos_sum / n)
    assert float(out["grad_pos"]) != pytest.approx(float(local["grad_pos"]))


def test_the_calibrated_cement_loss_hands_the_margin_each_valid_negatives_cosines():
    """One forward of cement with ``schedule="calibrated"`` adds one window sample per valid, rated
    negative: (c, s_ii, s_ii', mean of s_ij over the other captions), in row order."""
    g = torch.Generator().manual_seed(5)
    n, k, d = 4, 2, 6
    img, txt, hard = _unit(g, n, d).float(), _unit(g, n, d).float(), _unit(g, n, k, d).float()
    mask = torch.tensor([[1, 1], [1, 0], [0, 0], [1, 1]], dtype=torch.bool)
    conc = torch.tensor([[1.5, 2.0], [4.0, 3.0], [5.0, 5.0], [float("nan"), 2.5]])
    loss = ContrastiveLoss(LossConfig("cement", schedule="calibrated"))
    loss(img, txt, torch.tensor(10.0), hard, mask, conc)
    s = (img.double() @ txt.double().T)
    expected = []
    for i in range(n):
        easy = (float(s[i].sum()) - float(s[i, i])) / (n - 1)
        for j in range(k):
            if mask[i, j] and not torch.isnan(conc[i, j]):
                expected.append([float(conc[i, j]), float(s[i, i]), float(img[i].double() @ hard[i, j].double()),
                                 easy])
    got = loss.margin.samples()
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float64), rtol=1e-5, atol=1e-6)
    assert loss.margin.seen == 4


def test_loading_the_registry_registers_every_modules_losses_in_order(monkeypatch):
    from slipform.losses import registry

    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_loaded", False)
    assert registry.list_losses() == ["clip", "negclip", "cement", "tripletclip", "siglip", "cement_siglip",
                                      "ce_clip", "fsc_clip", "degla"]
    assert registry._loaded is True


def test_an_unknown_loss_is_refused_with_the_choices_and_a_class_without_name_is_refused():
    from slipform.losses import registry

    with pytest.raises(ValueError) as err:
        registry.get_loss("nope")
    assert str(err.value) == f"unknown loss 'nope'; choose from {tuple(registry.list_losses())}"

    class Plain:  # no name attribute at all
        pass

    with pytest.raises(ValueError, match="^Plain has no name$"):
        registry.register(Plain)
    assert "XXXX" not in registry.list_losses()


@pytest.fixture
def rank_one_of_three(monkeypatch):
    """This process is rank 1 of 3 (rank 1 of 2 cannot tell a column index from its negative)."""
    def all_gather(parts, tensor):
        for i, part in enumerate(parts):
            part.copy_(tensor if i == 1 else torch.full_like(tensor, OTHER) if tensor.dtype != torch.bool
                       else torch.ones_like(tensor))

    for name, value in (("is_available", lambda: True), ("is_initialized", lambda: True), ("get_rank", lambda: 1),
                        ("get_world_size", lambda: 3), ("all_gather", all_gather),
                        ("all_reduce", lambda t: t.add_(OTHER))):
        monkeypatch.setattr(dist, name, value)


def test_cement_siglip_adds_the_margin_to_this_ranks_own_negatives_only(rank_one_of_three):
    """Rank 1 of 3, n = 2 rows, K = 2: the negatives' logits (2, 3 * 2 * 2) differ from SigLIP's by
    logit_scale * m(c) at columns 4..7 (global rows 2 and 3, their K negatives each), nowhere else."""
    g = torch.Generator().manual_seed(9)
    n, k, d = 2, 2, 4
    img, txt, hard = _unit(g, n, d), _unit(g, n, d), _unit(g, n, k, d)
    mask = torch.tensor([[1, 1], [1, 0]], dtype=torch.bool)
    conc = torch.tensor([[1.0, 5.0], [3.0, 2.0]], dtype=torch.float64)
    cfg = dict(margin_min=0.1, margin_max=0.5)
    plain = get_loss("siglip")(LossConfig("siglip", **cfg)).get_logits(img, txt, 4.0, -2.0, hard, mask, conc)[2]
    with_m = get_loss("cement_siglip")(LossConfig("cement_siglip", **cfg)).get_logits(img, txt, 4.0, -2.0, hard,
                                                                                      mask, conc)[2]
    expected = torch.zeros(n, 3 * n * k, dtype=torch.float64)
    margins = 0.1 + 0.4 * (conc - 1) / 4  # [[0.1, 0.5], [0.3, 0.2]]
    for r in range(n):
        for j in range(k):
            expected[r, (n + r) * k + j] = 4.0 * margins[r, j]
    torch.testing.assert_close(with_m - plain, expected)


def test_fsc_clips_local_score_normalises_with_min_max_by_default():
    from slipform.losses.fsc_clip import local_scores

    g = torch.Generator().manual_seed(2)
    patches, words = torch.randn(2, 3, 4, generator=g), torch.randn(2, 2, 4, generator=g)
    mask = torch.tensor([[True, True], [True, False]])
    default = local_scores(patches, words, mask, 5.0)
    torch.testing.assert_close(default, local_scores(patches, words, mask, 5.0, normalizer="minmax"))
    assert not torch.allclose(default, local_scores(patches, words, mask, 5.0, normalizer="softmax"))


def test_tripletclip_with_edited_images_but_no_mask_is_negclip():
    g = torch.Generator().manual_seed(4)
    n, k, d = 3, 2, 4
    img, txt, hard, neg = _unit(g, n, d), _unit(g, n, d), _unit(g, n, k, d), _unit(g, n, d)
    mask = torch.ones(n, k, dtype=torch.bool)
    cfg = LossConfig("tripletclip", image_negative_weight=1.0)
    out = get_loss("tripletclip")(cfg)(img, txt, 5.0, hard, mask, None, neg, None)
    ref = get_loss("negclip")(LossConfig("negclip"))(img, txt, 5.0, hard, mask)
    assert "loss_triplet" not in out
    torch.testing.assert_close(out["loss"], ref["loss"], rtol=0, atol=0)
    with_mask = get_loss("tripletclip")(cfg)(img, txt, 5.0, hard, mask, None, neg, torch.ones(n, dtype=torch.bool))
    assert float(with_mask["loss_triplet"]) > 0  # the same batch with its mask does add the synthetic term
