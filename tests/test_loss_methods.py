"""Every registered loss: forward/backward on the registry, and each new method against a
loop-based reference written from its paper and, where the authors' code is public, against
their formulation (re-derived here in our words, on inputs where the two must agree)."""

import math

import pytest
import torch
import torch.nn.functional as F

from slipform.losses import LossConfig, build_loss, describe_losses, get_loss, list_losses


def _unit(x):
    return F.normalize(x, dim=-1)


def _batch(n=5, k=2, d=8, seed=0, missing=((1, 1),)):
    g = torch.Generator().manual_seed(seed)
    img, txt = _unit(torch.randn(n, d, generator=g)), _unit(torch.randn(n, d, generator=g))
    hard = _unit(torch.randn(n, k, d, generator=g))
    mask = torch.ones(n, k, dtype=torch.bool)
    for i, t in missing:
        mask[i, t] = False
    conc = torch.linspace(1, 5, n * k).reshape(n, k)
    conc[0, 0] = float("nan")
    return img, txt, hard, mask, conc


def _lse(xs):
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


def _dot(a, b):
    return float(a @ b)


def _log_sigmoid(x):
    return -math.log1p(math.exp(-x)) if x > 0 else x - math.log1p(math.exp(x))


def _clip_ref(img, txt, t):
    n = len(img)
    i2t = sum(-t * _dot(img[i], txt[i]) + _lse([t * _dot(img[i], txt[j]) for j in range(n)]) for i in range(n)) / n
    t2i = sum(-t * _dot(txt[i], img[i]) + _lse([t * _dot(txt[i], img[j]) for j in range(n)]) for i in range(n)) / n
    return (i2t + t2i) / 2


def _negclip_ref(img, txt, hard, mask, t):
    n, k = mask.shape
    i2t = 0.0
    for i in range(n):
        terms = [t * _dot(img[i], txt[j]) for j in range(n)]
        terms += [t * _dot(img[i], hard[j, h]) for j in range(n) for h in range(k) if mask[j, h]]
        i2t += -terms[i] + _lse(terms)
    t2i = sum(-t * _dot(txt[i], img[i]) + _lse([t * _dot(txt[i], img[j]) for j in range(n)]) for i in range(n))
    return (i2t / n + t2i / n) / 2


# --------------------------------------------------------------------------- the registry

def test_the_registry_lists_every_method_with_paper_negatives_and_defaults():
    names = list_losses()
    for want in ("clip", "negclip", "cement", "tripletclip", "siglip", "cement_siglip", "ce_clip", "fsc_clip"):
        assert want in names
    for row in describe_losses():
        assert row["paper"] and row["summary"] and row["negatives"] in ("none", "text", "text+image")
    assert describe_losses()[names.index("fsc_clip")]["defaults"] == {
        "neg_weight": 0.5, "focal_gamma": 2.0, "label_smoothing": 0.02, "local_weight": 0.2,
        "sim_normalizer": "minmax", "sim_sparsify": False}


def test_unknown_losses_and_options_are_refused():
    with pytest.raises(ValueError, match="unknown loss"):
        LossConfig("triplet")
    with pytest.raises(ValueError, match="no option gamma"):
        LossConfig("fsc_clip", options={"gamma": 1.0})
    assert build_loss(LossConfig("fsc_clip", options={"focal_gamma": 1.0})).options.focal_gamma == 1.0


@pytest.mark.parametrize("name", list_losses())
def test_every_loss_runs_forward_and_backward(name):
    img, txt, hard, mask, conc = _batch()
    feats = [x.clone().requires_grad_(True) for x in (img, txt, hard)]
    scale, bias = torch.tensor(10.0, requires_grad=True), torch.tensor(-5.0, requires_grad=True)
    loss = build_loss(LossConfig(name))
    out = loss(feats[0], feats[1], scale, feats[2], mask, conc, _unit(torch.randn(5, 8)), torch.tensor([1, 1, 0, 1, 0]).bool(),
               logit_bias=bias)
    assert torch.isfinite(out["loss"])
    out["loss"].backward()
    assert all(f.grad is None or torch.isfinite(f.grad).all() for f in feats) and feats[0].grad.abs().sum() > 0
    assert (feats[2].grad is None) == (get_loss(name).negatives == "none")
    assert torch.isfinite(scale.grad)
    assert build_loss(LossConfig(name))(img, txt, 10.0, logit_bias=-5.0)["loss"].isfinite()  # no negatives at all
    assert isinstance(loss, get_loss(name))


# --------------------------------------------------------------------------- TripletCLIP

def test_tripletclip_against_the_loop_reference():
    img, txt, hard, mask, conc = _batch(n=5, k=2, missing=((1, 0),))
    neg_img = _unit(torch.randn(5, 8, generator=torch.Generator().manual_seed(3)))
    ok = torch.tensor([True, True, False, True, True])
    got = build_loss(LossConfig("tripletclip", image_negative_weight=0.7))(img, txt, 10.0, hard, mask, conc, neg_img, ok)
    rows = [i for i in range(5) if ok[i] and mask[i, 0]]  # 1 has no first negative, 2 no edited image
    t, cols = 10.0, [hard[i, 0] for i in rows] + [txt[i] for i in rows]
    i2t = sum(-t * _dot(neg_img[i], hard[i, 0]) + _lse([t * _dot(neg_img[i], c) for c in cols]) for i in rows)
    t2i = sum(-t * _dot(hard[i, 0], neg_img[i]) + _lse([t * _dot(hard[i, 0], neg_img[j]) for j in rows]) for i in rows)
    synthetic = (i2t + t2i) / (2 * len(rows))
    assert got["loss_triplet"].item() == pytest.approx(synthetic, rel=1e-5)
    assert got["loss"].item() == pytest.approx(_negclip_ref(img, txt, hard, mask, t) + 0.7 * synthetic, rel=1e-5)
    plain = build_loss(LossConfig("tripletclip"))(img, txt, 10.0, hard, mask, conc)["loss"]
    assert plain.item() == pytest.approx(_negclip_ref(img, txt, hard, mask, t), rel=1e-5)


# --------------------------------------------------------------------------- SigLIP

def _siglip_ref(img, txt, hard, mask, conc, t, b, margin=None, default_c=3.0):
    n, k = mask.shape
    total = 0.0
    for i in range(n):
        for j in range(n):
            z = t * _dot(img[i], txt[j]) + b
            total += -_log_sigmoid(z if i == j else -z)
        for j in range(n):
            for h in range(k):
                if not mask[j, h]:
                    continue
                c = float(conc[j, h])
                m = margin(default_c if math.isnan(c) else c) if (margin and j == i) else 0.0
                total += -_log_sigmoid(-(t * (_dot(img[i], hard[j, h]) + m) + b))
    return total / n


@pytest.mark.parametrize("name", ["siglip", "cement_siglip"])
def test_siglip_against_the_loop_reference(name):
    img, txt, hard, mask, conc = _batch(n=4, k=3, missing=((0, 2), (3, 1)))
    cfg = LossConfig(name, margin_min=0.05, margin_max=0.25, default_concreteness=2.0)
    got = build_loss(cfg)(img, txt, 10.0, hard, mask, conc, logit_bias=-4.0)["loss"].item()
    margin = (lambda c: 0.05 + 0.2 * (c - 1) / 4) if name == "cement_siglip" else None
    assert got == pytest.approx(_siglip_ref(img, txt, hard, mask, conc, 10.0, -4.0, margin, 2.0), rel=1e-5)


def test_siglip_without_negatives_is_the_papers_loss_and_needs_a_bias():
    img, txt, *_ = _batch(n=4)
    logits = 10.0 * img @ txt.T - 4.0
    labels = 2 * torch.eye(4) - 1
    want = -F.logsigmoid(labels * logits).sum() / 4  # Zhai et al. 2023, Algorithm 1
    assert build_loss(LossConfig("siglip"))(img, txt, 10.0, logit_bias=-4.0)["loss"].item() == \
        pytest.approx(want.item(), rel=1e-6)
    with pytest.raises(ValueError, match="logit_bias"):
        build_loss(LossConfig("siglip"))(img, txt, 10.0)


def test_cement_siglip_with_zero_margin_is_siglip_and_a_margin_raises_it():
    img, txt, hard, mask, conc = _batch()
    sig = build_loss(LossConfig("siglip"))(img, txt, 10.0, hard, mask, conc, logit_bias=-3.0)["loss"]
    zero = build_loss(LossConfig("cement_siglip", schedule="static", margin=0.0))(
        img, txt, 10.0, hard, mask, conc, logit_bias=-3.0)["loss"]
    assert zero.item() == pytest.approx(sig.item(), abs=1e-6)
    assert build_loss(LossConfig("cement_siglip"))(img, txt, 10.0, hard, mask, conc, logit_bias=-3.0)["loss"] > sig


# --------------------------------------------------------------------------- CE-CLIP

def _ce_clip_ref(img, txt, hard, mask, t, theta, w_imc=0.2, w_cmr=0.2):
    """The paper's three terms by loops; returns (loss, the thresholds for the next call)."""
    n, k = mask.shape
    pos = [t * _dot(img[i], txt[i]) for i in range(n)]
    cmr = sum(max(0.0, theta[h] + t * _dot(img[i], hard[i, h]) - pos[i])
              for i in range(n) for h in range(k) if mask[i, h]) / (n * k)
    imc = 0.0
    for i in range(n):
        terms = [pos[i]] + [t * _dot(txt[i], hard[j, h]) for j in range(n) for h in range(k) if mask[j, h]]
        imc += -terms[0] + _lse(terms)
    imc /= n
    new = []
    for h in range(k):
        vals = [t * _dot(img[i], hard[i, h]) for i in range(n) if mask[i, h]]
        new.append(sum(pos) / n - sum(vals) / len(vals) if vals else theta[h])
    return _negclip_ref(img, txt, hard, mask, t) + w_imc * imc + w_cmr * cmr, new


def test_ce_clip_against_the_loop_reference_over_two_calls():
    loss = build_loss(LossConfig("ce_clip", options={"imc_weight": 0.3, "cmr_weight": 0.5}))
    theta = [0.0, 0.0]
    for seed in (0, 1):  # the second call uses the thresholds the first one set
        img, txt, hard, mask, conc = _batch(seed=seed, missing=((1, 1), (3, 0)))
        want, theta_next = _ce_clip_ref(img, txt, hard, mask, 10.0, theta, 0.3, 0.5)
        assert loss(img, txt, 10.0, hard, mask, conc)["loss"].item() == pytest.approx(want, rel=1e-5)
        assert loss.thresholds.tolist() == pytest.approx(theta_next, rel=1e-5)
        theta = theta_next
    assert theta[0] != 0.0


def _authors_ce_clip(img, txt, hard, t, thresholds):
    """Clip_DALoss of lezhang7/Enhance-FineGrained (hard negatives on, cmr and imc on,
    threshold_type 'mean'), re-derived: negatives laid out after the captions, a missing one
    a zero vector, the threshold per negative slot from the batch means."""
    n, k, d = hard.shape
    valid = (hard.abs().sum(-1) > 0).float()
    neg = hard.reshape(n * k, d)
    logits_per_image = t * img @ torch.cat([txt, neg]).T
    logits_per_text = t * txt @ img.T
    labels = torch.arange(n)
    itc = (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2
    da = t * (neg.reshape(n, k, d) @ img.unsqueeze(-1)).squeeze(-1) * valid
    gt = logits_per_image.diag().reshape(-1, 1).expand(da.shape)
    cmr = (F.relu(thresholds + da - gt) * valid).mean()
    nonzero = da != 0
    new = (gt.mean(0) - (da * nonzero).sum(0) / nonzero.sum(0)).expand(gt.shape)
    imc = F.cross_entropy(torch.cat([gt[:, :1], t * txt @ neg.T], dim=-1), torch.zeros(n, dtype=torch.long))
    return itc + 0.2 * cmr + 0.2 * imc, new[0]


def test_ce_clip_matches_the_authors_formulation_on_identical_features():
    loss = build_loss(LossConfig("ce_clip"))
    theta = torch.zeros(3)
    for seed in (0, 1):
        img, txt, hard, mask, conc = _batch(n=6, k=3, seed=seed, missing=())
        want, theta = _authors_ce_clip(img, txt, hard, 20.0, theta)
        assert loss(img, txt, 20.0, hard, mask, conc)["loss"].item() == pytest.approx(want.item(), rel=1e-5)
        torch.testing.assert_close(loss.thresholds, theta)


def test_ce_clip_thresholds_are_state_that_a_checkpoint_keeps():
    img, txt, hard, mask, conc = _batch()
    loss = build_loss(LossConfig("ce_clip"))
    loss(img, txt, 10.0, hard, mask, conc)
    fresh = build_loss(LossConfig("ce_clip"))
    fresh.load_state_dict(loss.state_dict())
    torch.testing.assert_close(fresh.thresholds, loss.thresholds)
    capped = build_loss(LossConfig("ce_clip", options={"threshold_max": 0.01}))
    capped(img, txt, 10.0, hard, mask, conc)
    assert capped.thresholds.max() <= 0.01 and capped.thresholds.min() >= 0


# --------------------------------------------------------------------------- FSC-CLIP

def _fsc_ref(img, txt, hard, mask, t, lam=0.5, gamma=2.0, eps=0.02):
    n, k = mask.shape
    rows = []
    for i in range(n):
        cands = [txt[i]] + [hard[i, h] for h in range(k) if mask[i, h]]
        if len(cands) == 1:
            continue
        z = [t * _dot(img[i], c) for c in cands]
        lse = _lse(z)
        q = [math.exp(x - lse) for x in z]
        y = [(1 - eps) + eps / len(cands)] + [eps / len(cands)] * (len(cands) - 1)
        rows.append(sum(y[c] * (1 - q[c]) ** gamma * -math.log(q[c]) for c in range(len(cands))))
    return _clip_ref(img, txt, t) + lam * sum(rows) / len(rows)


def test_fsc_clip_against_the_loop_reference():
    img, txt, hard, mask, conc = _batch(n=5, k=3, missing=((0, 0), (2, 0), (2, 1), (2, 2)))  # row 2: no negative
    got = build_loss(LossConfig("fsc_clip"))(img, txt, 10.0, hard, mask, conc)["loss"].item()
    assert got == pytest.approx(_fsc_ref(img, txt, hard, mask, 10.0), rel=1e-5)
    opts = {"neg_weight": 1.0, "focal_gamma": 0.0, "label_smoothing": 0.0}  # then it is plain cross-entropy
    got = build_loss(LossConfig("fsc_clip", options=opts))(img, txt, 10.0, hard, mask, conc)["loss"].item()
    assert got == pytest.approx(_fsc_ref(img, txt, hard, mask, 10.0, 1.0, 0.0, 0.0), rel=1e-5)


def _authors_fsc_global(img, txt, hard, valid, t, gamma=2.0, eps=0.02, weight=0.5):
    """Global_HNLoss + _focal_loss_with_nsr of ytaek-oh/fsc-clip, re-derived: the (1+K)-way
    logits with a zero vector for a missing negative, smoothing over the valid classes."""
    hard = hard * valid[..., None]
    n = len(img)
    labels = torch.arange(n)
    clip = (F.cross_entropy(t * img @ txt.T, labels) + F.cross_entropy(t * txt @ img.T, labels)) / 2
    logits = t * torch.einsum("bd,bcd->bc", img, torch.cat([txt[:, None], hard], dim=1))
    rows = valid.any(1)
    logits, v = logits[rows], valid[rows].float()
    per_row = v.sum(-1) + 1
    target = torch.zeros_like(logits)
    target[:, 0] = (1 - eps) + eps / per_row
    target[:, 1:] = (eps / per_row)[:, None] * v
    ce = -F.log_softmax(logits, dim=-1)
    return clip + weight * (target * ce * (1 - torch.exp(-ce)) ** gamma).sum(-1).mean()


def test_fsc_clip_matches_the_authors_formulation_on_identical_features():
    img, txt, hard, mask, conc = _batch(n=6, k=4, missing=())
    mask[4] = False  # a caption without negatives drops out in both
    want = _authors_fsc_global(img, txt, hard, mask, 50.0)
    got = build_loss(LossConfig("fsc_clip"))(img, txt, 50.0, hard, mask, conc)["loss"]
    assert got.item() == pytest.approx(want.item(), rel=1e-5)


# --------------------------------------------------------------------------- README and command line

def test_the_readme_methods_table_is_the_registrys():
    from pathlib import Path

    from slipform.losses import methods_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("<!-- methods-table -->\n", 1)[1].split("\n<!-- /methods-table -->", 1)[0]
    assert table == methods_table(), "regenerate the README table with slipform.losses.methods_table()"


def test_train_lists_the_losses_and_takes_their_options(capsys, tmp_path):
    from slipform.cli import _loss_options, main

    assert main(["train", "--list-losses"]) == 0
    out = capsys.readouterr().out
    for name in list_losses():
        assert f"\n{name} " in "\n" + out
    assert "label_smoothing=0.02" in out
    assert _loss_options(["focal_gamma=1", "threshold_max=null", "note=x"]) == {
        "focal_gamma": 1, "threshold_max": None, "note": "x"}
    args = ["train", "--train", str(tmp_path / "none.csv"), "--loss", "fsc_clip", "--loss-option", "gamma=1"]
    assert main(args) == 2 and "no option gamma" in capsys.readouterr().err
