"""The methods' edges, for every registered loss where it applies: masks of any integer type, double
precision, negatives handed without their mask, the options' bounds and messages, TripletCLIP
without a usable pair, CE-CLIP's threshold diagnostic, FSC-CLIP's local-score defaults and
Cement-SigLIP without concreteness (bench/mutation.py methods)."""

import pytest
import torch
import torch.nn.functional as F

from slipform.losses import LossConfig, build_loss, get_loss, list_losses
from slipform.losses.fsc_clip import local_scores


def _batch(n=6, k=2, d=8, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)

    def unit(*shape):
        return F.normalize(torch.randn(*shape, generator=g, dtype=torch.float64), dim=-1).to(dtype)

    img, txt, hard, neg_img = unit(n, d), unit(n, d), unit(n, k, d), unit(n, d)
    mask = torch.ones(n, k, dtype=torch.bool)
    mask[1, 1] = mask[4, 0] = False
    conc = torch.linspace(1, 5, n * k, dtype=torch.float64).reshape(n, k).to(dtype)
    neg_ok = torch.tensor([1, 1, 0, 1, 0, 1], dtype=torch.bool)
    teacher = {"teacher_image_features": unit(n, d), "teacher_text_features": unit(n, d),
               "teacher_hard_text_features": unit(n, k, d)}
    return img, txt, hard, mask, conc, neg_img, neg_ok, teacher


def _call(name, img, txt, hard, mask, conc, neg_img, neg_ok, teacher, scale=7.0, bias=-4.0, **kw):
    loss = build_loss(LossConfig(name, margin_min=0.05, margin_max=0.3))
    extra = teacher if loss.teacher_decay is not None else {}
    return loss(img, txt, torch.tensor(scale, dtype=img.dtype), hard, mask, conc, neg_img, neg_ok,
                logit_bias=torch.tensor(bias, dtype=img.dtype), **extra, **kw)


@pytest.mark.parametrize("name", list_losses())
@pytest.mark.parametrize("int_dtype", [torch.long, torch.uint8, torch.int32])
def test_integer_masks_mean_what_boolean_masks_mean(name, int_dtype):
    img, txt, hard, mask, conc, neg_img, neg_ok, teacher = _batch()
    want = _call(name, img, txt, hard, mask, conc, neg_img, neg_ok, teacher)
    got = _call(name, img, txt, hard, mask.to(int_dtype), conc, neg_img, neg_ok.to(int_dtype), teacher)
    assert set(got) == set(want)
    for key in want:
        torch.testing.assert_close(got[key], want[key], equal_nan=True, msg=f"{name}: {key}")


@pytest.mark.parametrize("name", list_losses())
def test_double_precision_features_give_the_single_precision_loss(name):
    single = _call(name, *_batch())
    double = _call(name, *_batch(dtype=torch.float64))
    assert double["loss"].dtype == torch.float64
    for key in single:
        if torch.is_tensor(single[key]) and single[key].is_floating_point():
            torch.testing.assert_close(double[key].float(), single[key], rtol=1e-5, atol=1e-5, equal_nan=True, msg=f"{name}: {key}")


@pytest.mark.parametrize("name", list_losses())
def test_negatives_without_their_mask_are_refused_and_a_mask_alone_is_no_negatives(name):
    img, txt, hard, mask, conc, neg_img, neg_ok, teacher = _batch()
    teacher = {k: v for k, v in teacher.items() if k != "teacher_hard_text_features"}
    with pytest.raises(ValueError, match=r"^hard_text_features need their hard_mask \(n, K\): which negatives exist$"):
        _call(name, img, txt, hard, None, conc, neg_img, neg_ok, teacher)
    want = _call(name, img, txt, None, None, None, None, None, teacher)
    got = _call(name, img, txt, None, mask, conc, None, None, teacher)
    assert set(got) == set(want), name
    for key in want:
        torch.testing.assert_close(got[key], want[key], equal_nan=True, msg=f"{name}: {key}")


def test_degla_distills_only_with_both_teacher_towers_and_its_negatives_only_with_the_students():
    img, txt, hard, mask, conc, _, _, teacher = _batch()
    loss = build_loss(LossConfig("degla"))
    plain = loss(img, txt, 7.0, hard, mask)
    for half in ("teacher_image_features", "teacher_text_features"):
        out = loss(img, txt, 7.0, hard, mask, **{half: teacher[half]})
        assert "loss_distill" not in out and "loss_tgc" not in out
        torch.testing.assert_close(out["loss"], plain["loss"])
    # the teacher's negatives without the student's: the distillation of images and captions only
    out = loss(img, txt, 7.0, None, None, **teacher)
    want = (img - teacher["teacher_image_features"]).pow(2).sum() + (txt - teacher["teacher_text_features"]).pow(2).sum()
    torch.testing.assert_close(out["loss_distill"], want)
    assert "loss_tgc" not in out and "loss_igc" not in out


def test_tripletclip_without_a_usable_pair_is_negclip():
    img, txt, hard, mask, conc, neg_img, _, _ = _batch()
    negclip = build_loss(LossConfig("negclip"))(img, txt, 7.0, hard, mask, conc)
    out = build_loss(LossConfig("tripletclip"))(img, txt, 7.0, hard, mask, conc, neg_img,
                                                torch.zeros(len(img), dtype=torch.bool))
    assert float(out["loss_triplet"]) == 0.0
    torch.testing.assert_close(out["loss"], negclip["loss"], rtol=0, atol=0)


def test_ce_clip_reports_the_threshold_it_used_before_updating_it():
    img, txt, hard, mask, conc, *_ = _batch()
    loss = build_loss(LossConfig("ce_clip"))
    first = loss(img, txt, 7.0, hard, mask)
    assert float(first["threshold"]) == 0.0  # θ starts at 0
    used = loss.thresholds.mean()
    assert float(used) != 0.0
    assert float(loss(img, txt, 7.0, hard, mask)["threshold"]) == pytest.approx(float(used))


def test_local_scores_default_to_min_max_weights_without_sparsifying():
    g = torch.Generator().manual_seed(3)
    patches, words = torch.randn(4, 9, 6, generator=g), torch.randn(4, 5, 6, generator=g)
    mask = torch.ones(4, 5, dtype=torch.bool)
    default = local_scores(patches, words, mask, 5.0)
    torch.testing.assert_close(default, local_scores(patches, words, mask, 5.0, "minmax", False))
    assert not torch.allclose(default, local_scores(patches, words, mask, 5.0, "minmax", True))
    assert not torch.allclose(default, local_scores(patches, words, mask, 5.0, "softmax", False))


def test_sparsified_local_scores_keep_a_patch_weighted_exactly_one_over_p():
    # one token [1, 0] against four patches: similarities 0, 1, 4, 4, min-max weights 0, 1/4, 1, 1;
    # sparsifying drops the weights below 1/P = 1/4 (none here but the zero), so the second patch stays
    words = torch.tensor([[[1.0, 0.0]]])
    patches = torch.tensor([[[0.0, 1.0], [1.0, 5.0], [4.0, 0.0], [4.0, 0.0]]])
    mask = torch.ones(1, 1, dtype=torch.bool)
    pooled = torch.tensor([0.25 * 1.0 + 4.0 + 4.0, 0.25 * 5.0])
    expected = 5.0 * float(pooled[0] / pooled.norm())
    assert float(local_scores(patches, words, mask, 5.0, "minmax", True)[0]) == pytest.approx(expected, rel=1e-5)
    assert expected < 4.99  # the kept patch turns the pooled vector away from the token


def test_cement_siglip_without_concreteness_uses_the_default_rating_for_every_negative():
    img, txt, hard, mask, *_ = _batch()
    loss = build_loss(LossConfig("cement_siglip", margin_min=0.05, margin_max=0.3, default_concreteness=4.0))
    unrated = loss(img, txt, 7.0, hard, mask, None, logit_bias=-4.0)
    rated = loss(img, txt, 7.0, hard, mask, torch.full(mask.shape, 4.0), logit_bias=-4.0)
    other = loss(img, txt, 7.0, hard, mask, torch.full(mask.shape, 1.5), logit_bias=-4.0)
    torch.testing.assert_close(unrated["loss"], rated["loss"])
    assert float(other["loss"]) != pytest.approx(float(rated["loss"]))


@pytest.mark.parametrize("value,ok", [(0.0, True), (1.0, True), (0.9996, True), (-1e-6, False), (1.000001, False)])
def test_degla_teacher_decay_lies_in_the_closed_unit_interval(value, ok):
    if ok:
        assert build_loss(LossConfig("degla", options={"teacher_decay": value})).teacher_decay == value
    else:
        with pytest.raises(ValueError, match=r"^degla: teacher_decay must lie in \[0, 1\]$"):
            LossConfig("degla", options={"teacher_decay": value})


_FSC_RANGE = r"^fsc_clip: label_smoothing must lie in \[0, 1\) and focal_gamma be >= 0$"
_FSC_LOCAL = r"^fsc_clip: sim_normalizer must be 'minmax' or 'softmax' and local_weight be >= 0$"


@pytest.mark.parametrize("options,message", [
    ({"label_smoothing": 0.0}, None), ({"label_smoothing": 0.999}, None), ({"focal_gamma": 0.0}, None),
    ({"local_weight": 0.0, "sim_normalizer": "softmax"}, None),
    ({"label_smoothing": 1.0}, _FSC_RANGE), ({"label_smoothing": 1.5}, _FSC_RANGE),
    ({"label_smoothing": -0.1}, _FSC_RANGE), ({"focal_gamma": -0.5}, _FSC_RANGE),
    ({"sim_normalizer": "mean"}, _FSC_LOCAL), ({"local_weight": -0.1}, _FSC_LOCAL),
])
def test_fsc_clip_options_bounds_and_messages(options, message):
    if message is None:
        assert get_loss("fsc_clip").Options(**options)
    else:
        with pytest.raises(ValueError, match=message):
            LossConfig("fsc_clip", options=options)


def test_degla_kl_distillation_moves_the_logit_scale_through_the_student_only():
    """The teacher's similarity distribution is a target: the learnable scale t enters it detached."""
    img, txt, _, _, _, _, _, teacher = _batch()
    t_img, t_txt = teacher["teacher_image_features"], teacher["teacher_text_features"]
    scale = torch.tensor(6.0, requires_grad=True)
    loss = build_loss(LossConfig("degla", options={"distill": "kl"}))
    loss(img, txt, scale, None, None, teacher_image_features=t_img, teacher_text_features=t_txt)["loss_distill"].backward()
    ref_scale = torch.tensor(6.0, requires_grad=True)

    def kl(target, logits):
        return F.kl_div(logits.log_softmax(1), target.log_softmax(1), log_target=True, reduction="batchmean")

    target = 6.0 * t_img @ t_txt.T
    ((kl(target, ref_scale * img @ txt.T) + kl(target.T, ref_scale * txt @ img.T)) / 2).backward()
    torch.testing.assert_close(scale.grad, ref_scale.grad)


def test_cement_siglip_refuses_the_calibrated_margin_with_the_schedules_it_takes():
    from slipform.losses import LossConfig
    from slipform.losses.siglip import CementSigLipLoss, SigLipLoss

    with pytest.raises(ValueError, match=r"^loss 'cement_siglip': the calibrated margin is built for 'cement' only; "
                                         r"use --margin-schedule linear, inverse or static$"):
        CementSigLipLoss(LossConfig("cement", schedule="calibrated"))
    assert SigLipLoss(LossConfig("clip", schedule="calibrated")).name == "siglip"  # no margin: nothing to refuse
