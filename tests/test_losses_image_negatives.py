"""Image hard negatives with several negative captions per caption (K >= 2), against a loop reference."""

import math

import pytest
import torch
import torch.nn.functional as F

from slipform.losses import ContrastiveLoss, LossConfig


def _reference(neg_images, ok, txt, hard, scale):
    """Row r: edited image of caption i scores all N captions and all N*K negatives; its target is
    caption i's first negative, column N + i*K (the formula in losses.py, read as a loop)."""
    n, k = hard.shape[:2]
    columns = [txt[j] for j in range(n)] + [hard[j, t] for j in range(n) for t in range(k)]
    total, rows = 0.0, 0
    for i in range(n):
        if not ok[i]:
            continue
        logits = [scale * float(neg_images[i] @ c) for c in columns]
        target = n + i * k
        total += -logits[target] + math.log(sum(math.exp(z) for z in logits))
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
    want = _reference(hard[:, 0], torch.tensor([True, False, True]), txt, hard, 10.0)
    assert out["loss_image_negatives"].item() == pytest.approx(want, rel=1e-5)
