"""Positive controls of the world instrument (bench/world_controls.py).

The slow test is the real check: with the default protocol the instrument must detect the
effects known to exist. The fast one runs the same code on a miniature world, where nothing is
learnt, and checks that the verdicts are computed from the run and fail when they should.
"""

from __future__ import annotations

import pytest

from slipform.experiment.config import ProtocolConfig

from world_controls import run

MINI = ProtocolConfig(n_train=48, captions_per_scene=1, pretrain_epochs=1, finetune_epochs=1, batch_size=16,
                      eval_limit=24, workers=0, width=8)


def test_controls_on_a_miniature_world_report_three_checks(tmp_path):
    checks = run(str(tmp_path / "out"), [0], str(tmp_path / "cache"), protocol=MINI)
    assert len(checks) == 3
    # 24 test scenes and a model that has learnt nothing: no interval excludes 0 and no control reaches 80%
    assert not any(ok for _, ok, _ in checks)
    assert "relation swap" in checks[0][0] and "NegCLIP - CLIP-FT" in checks[2][0]


@pytest.mark.slow
def test_default_protocol_passes_its_positive_controls(tmp_path):
    checks = run(str(tmp_path / "out"), [0], str(tmp_path / "cache"))
    failed = [text for text, ok, _ in checks if not ok]
    assert not failed, failed
