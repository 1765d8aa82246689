"""The distributed helpers of slipform.losses.base under a simulated world (rank 1 of 2, the other
rank's tensors made up), in one process: the real 2-process runs are tests/test_losses_local_rows.py
and tests/test_loss_methods_ddp.py, which mutmut cannot attribute to the code they run."""

import pytest
import torch
import torch.distributed as dist

from slipform.losses.base import all_sum, gather_rows, global_mean, global_sum, replicated

OTHER = 10.0  # every tensor of the other rank is this constant


@pytest.fixture
def rank_one_of_two(monkeypatch):
    calls = []

    def all_gather(parts, tensor):
        assert len(parts) == 2 and all(p.shape == tensor.shape and p.dtype == tensor.dtype for p in parts)
        parts[0].copy_(torch.full_like(tensor, OTHER) if tensor.dtype != torch.bool else torch.ones_like(tensor))
        parts[1].copy_(tensor)
        calls.append("all_gather")

    def all_reduce(tensor):  # the other rank contributes OTHER everywhere
        tensor.add_(OTHER)
        calls.append("all_reduce")

    for name, value in (("is_available", lambda: True), ("is_initialized", lambda: True), ("get_rank", lambda: 1),
                        ("get_world_size", lambda: 2), ("all_gather", all_gather), ("all_reduce", all_reduce)):
        monkeypatch.setattr(dist, name, value)
    return calls


def test_gather_rows_puts_the_ranks_in_order_and_sums_every_ranks_gradient_onto_the_owner(rank_one_of_two):
    local = torch.arange(6.0).reshape(2, 3).requires_grad_(True)
    out = gather_rows(local)
    assert out.shape == (4, 3) and torch.equal(out.detach(), torch.cat([torch.full((2, 3), OTHER), local.detach()]))
    weights = torch.arange(12.0).reshape(4, 3)
    (out * weights).sum().backward()
    # this rank's rows are 2 and 3; the all-reduce adds the other rank's gradient (OTHER) to ours
    assert torch.equal(local.grad, weights[2:] + OTHER)
    assert rank_one_of_two == ["all_gather", "all_reduce"]


def test_all_sum_is_detached_and_leaves_its_input_alone(rank_one_of_two):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    out = all_sum(x)
    assert torch.equal(out, torch.tensor([11.0, 12.0])) and not out.requires_grad
    assert torch.equal(x.detach(), torch.tensor([1.0, 2.0]))


def test_global_mean_and_sum_take_the_global_value_and_the_local_gradient(rank_one_of_two):
    x = torch.tensor(3.0, requires_grad=True)
    mean = global_mean(2 * x, 4)  # the other rank: sum OTHER over OTHER rows
    assert float(mean.detach()) == pytest.approx((6.0 + OTHER) / (4 + OTHER))
    mean.backward()
    assert float(x.grad) == pytest.approx(2 / (4 + OTHER))
    y = torch.tensor(3.0, requires_grad=True)
    total = global_sum(2 * y)
    assert float(total.detach()) == pytest.approx(6.0 + OTHER)
    total.backward()
    assert float(y.grad) == 2.0


def test_global_mean_of_no_rows_anywhere_is_zero(monkeypatch):
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    assert float(global_mean(torch.tensor(0.0), 0)) == 0.0
    assert float(global_mean(torch.tensor(3.0), 1)) == 3.0  # one row in all: its own value


def test_replicated_divides_the_gradient_of_a_learnable_scalar_by_the_world(rank_one_of_two):
    scale = torch.tensor(2.0, requires_grad=True)
    out = replicated(scale)
    assert float(out.detach()) == 2.0
    (out * 3.0).backward()
    assert float(scale.grad) == 1.5
    plain = torch.tensor(2.0)
    assert replicated(plain) is plain and replicated(4.0) == 4.0  # constants pass through


@pytest.mark.parametrize("kind", ["clip", "negclip", "cement"])
def test_the_global_form_equals_the_local_rows_on_one_process(kind):
    """``local_rows=False`` (every rank the whole batch) is its own code path: on one process it
    must give the local form's loss, terms, diagnostics and gradients."""
    from slipform.losses import ContrastiveLoss, LossConfig

    g = torch.Generator().manual_seed(4)
    n, k, d = 6, 2, 5

    def unit(*shape):
        return torch.nn.functional.normalize(torch.randn(*shape, generator=g), dim=-1)

    data = [unit(n, d), unit(n, d), unit(n, k, d), unit(n, d)]
    mask = torch.tensor([[1, 1], [1, 0], [0, 0], [1, 1], [0, 1], [1, 1]], dtype=torch.bool)
    conc = torch.linspace(1, 5, n * k).reshape(n, k)
    ok = torch.tensor([1, 1, 1, 0, 1, 1], dtype=torch.bool)
    outs, grads = [], []
    for local in (True, False):
        feats = [x.clone().requires_grad_(True) for x in data]
        scale = torch.tensor(6.0, requires_grad=True)
        loss = ContrastiveLoss(LossConfig(kind, margin_min=0.05, margin_max=0.3, image_negative_weight=0.7),
                               local_rows=local)
        out = loss(feats[0], feats[1], scale, feats[2], mask, conc, feats[3], ok)
        out["loss"].backward()
        outs.append(out)
        grads.append([f.grad for f in feats] + [scale.grad])
    assert set(outs[0]) == set(outs[1])
    for key in outs[0]:
        torch.testing.assert_close(outs[1][key], outs[0][key], equal_nan=True, msg=f"{kind}: {key}")
    for a, b in zip(*grads):
        if a is None or b is None:
            assert a is None and b is None
        else:
            torch.testing.assert_close(b, a)


def test_register_names_a_new_loss_and_refuses_a_nameless_or_clashing_one(monkeypatch):
    from slipform.losses import registry
    from slipform.losses.base import Loss

    registry.list_losses()  # the built-in ones are loaded
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    class Mine(Loss):
        name = "mine"

    assert registry.register(Mine) is Mine and registry.register(Mine) is Mine  # again: a no-op
    assert registry.get_loss("mine") is Mine and registry.list_losses()[-1] == "mine"

    class Nameless(Loss):
        name = ""

    class Clash(Loss):
        name = "negclip"

    with pytest.raises(ValueError, match="^Nameless has no name$"):
        registry.register(Nameless)
    with pytest.raises(ValueError, match="^loss 'negclip' registered twice$"):
        registry.register(Clash)
    assert registry.get_loss("negclip") is not Clash


def _small(n=4, k=2, d=5, seed=7):
    g = torch.Generator().manual_seed(seed)

    def unit(*shape):
        return torch.nn.functional.normalize(torch.randn(*shape, generator=g), dim=-1)

    return unit(n, d), unit(n, d), unit(n, k, d), unit(n, d)


def test_the_named_losses_set_their_kind_and_keep_the_margin_they_are_given():
    from slipform.losses import ContrastiveLoss, LossConfig
    from slipform.losses.contrastive import CementLoss, ClipLoss, NegClipLoss

    assert ContrastiveLoss().config.kind == "cement" and ContrastiveLoss().local_rows is True
    assert ClipLoss().config.kind == "clip" and NegClipLoss().config.kind == "negclip"
    assert NegClipLoss(LossConfig("cement", margin=0.2)).config == LossConfig("negclip", margin=0.2)
    assert ClipLoss(local_rows=False).local_rows is False
    img, txt, hard, _ = _small()
    mask = torch.ones(4, 2, dtype=torch.bool)
    big = CementLoss(LossConfig("cement"), margin=lambda c: torch.full_like(c, 2.0))(img, txt, 5.0, hard, mask)
    small = CementLoss(LossConfig("cement"), margin=lambda c: torch.zeros_like(c))(img, txt, 5.0, hard, mask)
    assert float(big["loss"]) > float(small["loss"])  # the margin function handed in is the one used
    with pytest.raises(ValueError, match=r"^ContrastiveLoss computes \('clip', 'negclip', 'cement'\), not 'siglip'; "
                                         r"use slipform.losses.build_loss$"):
        ContrastiveLoss(LossConfig("siglip"))


def test_grad_hard_is_reported_from_one_hard_negative_and_is_nan_without_any():
    from slipform.losses import ContrastiveLoss, LossConfig

    img, txt, hard, _ = _small()
    one = torch.zeros(4, 2, dtype=torch.bool)
    one[2, 1] = True
    out = ContrastiveLoss(LossConfig("negclip"))(img, txt, 5.0, hard, one)
    assert torch.isfinite(out["grad_hard"]) and 0 < float(out["grad_hard"]) < 1
    none = ContrastiveLoss(LossConfig("negclip"))(img, txt, 5.0, hard, torch.zeros(4, 2, dtype=torch.bool))
    assert torch.isnan(none["grad_hard"])


def test_the_global_form_without_a_usable_edited_image_adds_nothing():
    from slipform.losses import ContrastiveLoss, LossConfig

    img, txt, hard, neg = _small()
    mask = torch.ones(4, 2, dtype=torch.bool)
    loss = ContrastiveLoss(LossConfig("negclip", image_negative_weight=0.5), local_rows=False)
    plain = loss(img, txt, 5.0, hard, mask)
    out = loss(img, txt, 5.0, hard, mask, None, neg, torch.zeros(4, dtype=torch.bool))
    assert float(out["loss_image_negatives"]) == 0.0
    torch.testing.assert_close(out["loss"], plain["loss"], rtol=0, atol=0)


@pytest.fixture
def rank_one_of_three(monkeypatch):
    def all_gather(parts, tensor):
        for i, part in enumerate(parts):  # rank i's tensor: this rank's plus i - 1 (the booleans all true)
            part.copy_(tensor if i == 1 else torch.ones_like(tensor) if tensor.dtype == torch.bool else tensor + i - 1)

    def all_reduce(tensor):
        tensor.mul_(3)

    for name, value in (("is_available", lambda: True), ("is_initialized", lambda: True), ("get_rank", lambda: 1),
                        ("get_world_size", lambda: 3), ("all_gather", all_gather), ("all_reduce", all_reduce)):
        monkeypatch.setattr(dist, name, value)


def test_each_rank_marks_its_own_rows_negatives_in_the_gathered_columns(rank_one_of_three):
    """Rank 1 of 3, two rows of two negatives each: row r's own negatives are the gathered columns
    (2 + r) * 2 and (2 + r) * 2 + 1, in the local form (its rows) and in the global one (all rows)."""
    from slipform.losses import ContrastiveLoss, LossConfig

    g = torch.Generator().manual_seed(0)
    img, txt, hard = torch.randn(2, 4, generator=g), torch.randn(2, 4, generator=g), torch.randn(2, 2, 4, generator=g)
    mask = torch.tensor([[True, False], [True, True]])
    logits, _, own = ContrastiveLoss(LossConfig("negclip")).get_logits(img, txt, 5.0, hard, mask)
    assert logits.shape == (2, 6 + 12) and own.shape == (2, 12)
    assert own.nonzero().tolist() == [[0, 4], [1, 6], [1, 7]]  # the masked negative is no one's
    _, _, own = ContrastiveLoss(LossConfig("negclip"), local_rows=False).get_logits(img, txt, 5.0, hard, mask)
    assert own.shape == (6, 12)  # every gathered row; the other ranks' masks gathered as all true
    assert own.nonzero().tolist() == [[r, c] for r in range(6) for c in (2 * r, 2 * r + 1) if (r, c) != (2, 5)]
