"""Positive controls of the world instrument (bench/world_controls.py).

The slow test is the real check: with the default protocol the instrument must detect the
effects known to exist. The fast one (tests/test_demo.py, on the demo's miniature world, where
nothing is learnt) checks that the verdicts are computed from the run and fail when they should.
"""

from __future__ import annotations

import pytest

from world_controls import run

# The fast test, the same code on a miniature world, is in test_demo.py: it reuses the demo's runs.


@pytest.mark.slow
def test_default_protocol_passes_its_positive_controls(tmp_path):
    checks = run(str(tmp_path / "out"), [0], str(tmp_path / "cache"))
    failed = [text for text, ok, _ in checks if not ok]
    assert not failed, failed
