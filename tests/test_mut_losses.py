"""LossConfig's checks of the calibrated margin's settings, at their bounds, with their messages
(issue 31: the losses_base group's mutants)."""

import pytest

from slipform.losses import LossConfig


@pytest.mark.parametrize("field, value", [("refresh_every", 0), ("calibration_window", 0), ("refresh_every", -3)])
def test_refresh_and_window_below_one_are_refused(field, value):
    with pytest.raises(ValueError) as err:
        LossConfig("cement", schedule="calibrated", **{field: value})
    assert str(err.value) == "refresh_every and calibration_window must be >= 1"


def test_refresh_and_window_of_one_are_accepted():
    cfg = LossConfig("cement", schedule="calibrated", refresh_every=1, calibration_window=1)
    assert (cfg.refresh_every, cfg.calibration_window) == (1, 1)


@pytest.mark.parametrize("frac", [0.0, -0.5, 1.0000001, 2.0])
def test_a_loess_span_outside_0_1_is_refused(frac):
    with pytest.raises(ValueError) as err:
        LossConfig("cement", schedule="calibrated", loess_frac=frac)
    assert str(err.value) == f"loess_frac must lie in (0, 1], got {frac}"


@pytest.mark.parametrize("frac", [1.0, 1e-6, 0.5])
def test_a_loess_span_in_0_1_is_accepted(frac):
    assert LossConfig("cement", schedule="calibrated", loess_frac=frac).loess_frac == frac


@pytest.mark.parametrize("c, ok", [(1.0, True), (5.0, True), (0.99, False), (5.01, False)])
def test_the_default_concreteness_lies_in_1_5(c, ok):
    if ok:
        assert LossConfig("cement", default_concreteness=c).default_concreteness == c
    else:
        with pytest.raises(ValueError) as err:
            LossConfig("cement", default_concreteness=c)
        assert str(err.value) == "default_concreteness must lie in [1, 5]"


def test_equal_margin_bounds_are_accepted_and_crossed_ones_refused():
    assert LossConfig("cement", margin_min=0.1, margin_max=0.1).margin_max == 0.1
    with pytest.raises(ValueError) as err:
        LossConfig("cement", margin_min=0.2, margin_max=0.1)
    assert str(err.value) == "margin_min must not exceed margin_max"
