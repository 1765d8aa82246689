"""The calibrated Cement margin's parts, each against numbers worked out by hand (issue 31: the
mutants of ``losses/calibrated.py`` that tests/test_margin_calibrated.py left alive)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from slipform.losses import LossConfig
from slipform.losses.calibrated import (
    GRID_POINTS,
    MIN_SAMPLES,
    CalibratedMargin,
    difficulty,
    fit_curve,
    grid,
    interpolate,
)

CAL = LossConfig("cement", schedule="calibrated", margin_min=0.02, margin_max=0.2, refresh_every=3,
                 calibration_window=5)


def _sample(c, pos=0.6, neg=0.3, easy=0.1):
    return torch.tensor([[c, pos, neg, easy]], dtype=torch.float64)


def test_the_grid_is_33_points_an_eighth_apart():
    g = grid()
    assert GRID_POINTS == 33 and g.dtype == torch.float64
    assert g.tolist() == [1 + i / 8 for i in range(33)]


def test_interpolate_reads_a_curved_table_piecewise_linearly_and_flat_outside():
    table = grid() ** 2  # 1, 1.265625, ... 25
    c = torch.tensor([0.0, 1.0, 1.0625, 2.3, 4.9375, 5.0, 9.0])
    # between grid points k/8 and (k+1)/8 the line through their squares
    expected = [1.0, 1.0, (1.0 + 1.125 ** 2) / 2, None, (4.875 ** 2 + 25) / 2, 25.0, 25.0]
    lo, hi = 2.25, 2.375
    expected[3] = lo ** 2 + (2.3 - lo) / (hi - lo) * (hi ** 2 - lo ** 2)
    got = interpolate(table, c)
    assert got.dtype == torch.float32 and got.shape == c.shape
    assert got.tolist() == pytest.approx(expected, rel=1e-6)
    # any shape, and float64 stays float64
    c2 = torch.tensor([[1.0625, 5.0], [0.5, 3.0]], dtype=torch.float64)
    assert interpolate(table, c2).flatten().tolist() == pytest.approx([expected[2], 25.0, 1.0, 9.0])
    assert interpolate(table, c2).dtype == torch.float64


def test_difficulty_with_no_span_is_the_hardest():
    # pos == easy: the caption is no closer than a random caption
    d = difficulty(torch.tensor([0.2, 0.2, 0.3], dtype=torch.float64), torch.tensor([0.1, 0.25, 0.2],
                   dtype=torch.float64), torch.tensor([0.2, 0.1, 0.1], dtype=torch.float64))
    assert d.tolist() == pytest.approx([1.0, 1.0, 0.5])
    # a tiny positive span is still a span: (neg - easy) / span, clipped
    d = difficulty(torch.tensor([1e-9], dtype=torch.float64), torch.tensor([0.5e-9], dtype=torch.float64),
                   torch.tensor([0.0], dtype=torch.float64))
    assert d.item() == pytest.approx(0.5)


def test_fit_curve_is_robust_to_outliers_and_uses_its_fraction():
    rng = np.random.default_rng(1)
    c = np.sort(rng.uniform(1, 5, 400))
    s = 0.1 * c + rng.normal(0, 0.01, 400)
    s[::40] += 3.0  # 10 gross outliers: three robustifying iterations discount them
    at = grid().numpy()
    curve = fit_curve(c, s, 0.5, at)
    assert curve.dtype == np.float64 and curve.shape == at.shape
    assert np.abs(curve - 0.1 * at).max() < 0.03
    # a small fraction follows a local bump that a wide one smooths away
    bump = 0.1 * c + 0.5 * np.exp(-((c - 3) ** 2) / 0.02) + rng.normal(0, 0.01, 400)
    narrow, wide = fit_curve(c, bump, 0.08, at), fit_curve(c, bump, 0.9, at)
    at3 = int(np.argmin(np.abs(at - 3)))
    assert narrow[at3] > 0.6 and wide[at3] < 0.5


def test_the_window_is_a_ring_read_oldest_first():
    m = CalibratedMargin(CAL)  # window of 5
    m._append(torch.cat([_sample(c) for c in (1.0, 2.0, 3.0)]))
    assert (m.next, m.seen) == (3, 3)
    assert m.samples()[:, 0].tolist() == [1.0, 2.0, 3.0]
    m._append(torch.cat([_sample(c) for c in (4.0, 5.0, 1.5)]))  # wraps: 1.0 is dropped
    assert (m.next, m.seen) == (1, 6)
    assert m.samples()[:, 0].tolist() == [2.0, 3.0, 4.0, 5.0, 1.5]
    m._append(torch.cat([_sample(1 + i / 10) for i in range(7)]))  # more than the window: its last 5
    assert (m.next, m.seen) == (1, 13)
    assert m.samples()[:, 0].tolist() == pytest.approx([1.2, 1.3, 1.4, 1.5, 1.6])
    assert m.samples().shape == (5, 4)


def test_observe_keeps_valid_rated_finite_samples_in_row_order():
    m = CalibratedMargin(replace(CAL, calibration_window=20))
    c = torch.tensor([[1.0, 2.0], [float("nan"), 4.0], [5.0, 3.0]])
    pos = torch.tensor([0.5, 0.6, float("nan")])
    neg = torch.tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    easy = torch.tensor([0.05, 0.06, 0.07])
    mask = torch.tensor([[1, 0], [1, 1], [1, 1]], dtype=torch.int64)  # an integer mask selects rows
    m.observe(c, pos, neg, easy, mask)
    rows = m.samples()
    # (0,0) kept; (0,1) masked out; (1,0) unrated; (1,1) kept; row 2 has no finite s_ii
    assert rows.flatten().tolist() == pytest.approx([1.0, 0.5, 0.1, 0.05, 4.0, 0.6, 0.4, 0.06])
    assert rows.dtype == torch.float64 and m.seen == 2


def _fill(m, cs, noise=0.0):
    """Samples on exact lines (s_ii' = 0.1 + 0.05c); ``noise``: Gaussian, seeded (statsmodels' robust
    LOESS misreads noise-free data: with every residual 0 its robustness weights are undefined)."""
    g = torch.Generator().manual_seed(0)
    rows = torch.cat([_sample(c, neg=0.1 + 0.05 * c) for c in cs])
    m._append(rows + noise * torch.randn(rows.shape, generator=g, dtype=torch.float64) * torch.tensor([0, 1, 1, 1]))


def test_a_fit_needs_32_samples_of_3_distinct_concreteness_values():
    big = replace(CAL, calibration_window=100)
    few = CalibratedMargin(big)
    _fill(few, [1.0, 3.0, 5.0] * 10 + [1.0])  # 31
    assert MIN_SAMPLES == 32 and not few.fit(1) and few.table is None and few.history == []
    enough = CalibratedMargin(big)
    _fill(enough, [1.0, 3.0, 5.0] * 10 + [1.0, 3.0])  # 32, 3 distinct values
    assert enough.fit(4) and enough.table is not None
    two = CalibratedMargin(big)
    _fill(two, [1.0, 5.0] * 20)
    assert not two.fit(1) and two.table is None


def test_a_fit_records_its_step_samples_range_and_curves():
    m = CalibratedMargin(replace(CAL, calibration_window=100))
    cs = [1.5, 2.0, 3.0, 4.0, 4.5] * 8
    _fill(m, cs, noise=1e-7)
    assert m.fit(6)
    fit = m.history[-1]
    assert (fit["step"], fit["samples"], fit["c_min"], fit["c_max"]) == (6, 40, 1.5, 4.5)
    assert type(fit["c_min"]) is float and type(fit["step"]) is int
    # the curves are the exact lines: pos 0.6, easy 0.1, neg 0.1 + 0.05c held flat beyond [1.5, 4.5]
    g = grid()
    flat = g.clamp(1.5, 4.5)
    close = {"atol": 1e-5, "rtol": 0}
    torch.testing.assert_close(fit["pos"], torch.full_like(g, 0.6), **close)
    torch.testing.assert_close(fit["easy"], torch.full_like(g, 0.1), **close)
    torch.testing.assert_close(fit["neg"], 0.1 + 0.05 * flat, **close)
    d = 0.1 * flat  # (0.05c) / 0.5
    torch.testing.assert_close(fit["difficulty"], d, **close)
    torch.testing.assert_close(fit["margin"], 0.02 + 0.18 * d, **close)
    torch.testing.assert_close(m.table, 0.02 + 0.18 * d, **close)
    # the margin read at a concreteness between grid points
    assert m(torch.tensor([2.0, 1.0, 5.0], dtype=torch.float64)).tolist() == pytest.approx(
        [0.02 + 0.18 * 0.2, 0.02 + 0.18 * 0.15, 0.02 + 0.18 * 0.45], abs=1e-5)
    # the history keeps its own copy of the margin
    m.table += 1
    torch.testing.assert_close(fit["margin"], 0.02 + 0.18 * d, **close)


def test_refresh_fits_every_refresh_every_steps_only():
    m = CalibratedMargin(replace(CAL, calibration_window=100))  # refresh_every=3
    _fill(m, [1.0, 3.0, 5.0] * 12)
    assert [m.refresh(s) for s in (1, 2)] == [False, False] and m.table is None
    assert m.refresh(3) and [h["step"] for h in m.history] == [3]
    assert not m.refresh(4) and m.refresh(6)
    assert [h["step"] for h in m.history] == [3, 6]


def test_before_a_fit_the_margin_is_the_ramp():
    m = CalibratedMargin(CAL)
    c = torch.tensor([1.0, 3.0, 5.0])
    assert m(c).tolist() == pytest.approx([0.02, 0.11, 0.2])


def test_the_extra_state_round_trips_without_a_table_and_with_one():
    m = CalibratedMargin(replace(CAL, calibration_window=40))
    _fill(m, [1.0, 3.0, 5.0] * 3)
    state = m.get_extra_state()
    assert state["table"].numel() == 0 and state["table"].dtype == torch.float64
    assert (state["next"], state["seen"], state["history"]) == (9, 9, [])
    other = CalibratedMargin(replace(CAL, calibration_window=40))
    other.set_extra_state(state)
    assert other.table is None and (other.next, other.seen) == (9, 9)
    assert torch.equal(other.samples(), m.samples())
    state["window"][0, 0] = 99.0  # the loaded state is a copy, not the checkpoint's tensor
    assert other.samples()[0, 0].item() == 1.0
    _fill(m, [1.0, 3.0, 5.0] * 10)
    m.fit(3)
    state = m.get_extra_state()
    assert state["table"] is not m.table and torch.equal(state["table"], m.table)
    other.set_extra_state(state)
    assert torch.equal(other.table, m.table) and other.history[0]["step"] == 3
    assert (other.next, other.seen) == (39 % 40, 39)
    state["table"] += 1
    assert torch.equal(other.table, m.table)
    with pytest.raises(ValueError) as err:
        CalibratedMargin(replace(CAL, calibration_window=7)).set_extra_state(state)
    assert str(err.value) == ("the checkpoint's calibration window holds 40 samples, this run's calibration_window "
                              "is 7: resume with the same setting")


def test_the_summary_is_every_fit_as_json_lists():
    m = CalibratedMargin(replace(CAL, calibration_window=50))
    _fill(m, [1.0, 3.0, 5.0] * 11)
    m.fit(3)
    s = m.summary()
    assert s["grid"] == grid().tolist()
    assert (s["margin_min"], s["margin_max"], s["loess_frac"], s["refresh_every"], s["window"],
            s["samples_seen"]) == (0.02, 0.2, CAL.loess_frac, 3, 50, 33)
    (fit,) = s["fits"]
    assert fit["step"] == 3 and fit["samples"] == 33
    assert fit["margin"] == m.table.tolist() and isinstance(fit["pos"], list)
    assert s["last_samples"] == m.samples().tolist() and len(s["last_samples"]) == 33
