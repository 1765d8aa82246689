"""bench/gpu.py on the CPU with a tiny model, so that the GPU check cannot rot before a GPU runs it."""

from __future__ import annotations

import json

import pytest

from gpu import main

ARGS = ["--model", "tiny", "--device", "cpu", "--batch-size", "8", "--steps", "10", "--images", "48",
        "--workers", "0", "--timeout", "240", "--losses", "cement,clip,ce_clip"]


def test_gpu_bench_cpu_path_measures_every_part(tmp_path, capsys):
    assert main([*ARGS, "--no-compile", "--json", str(tmp_path / "r.json")]) == 0
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["failures"] == [] and [r["loss"] for r in res["runs"]] == ["clip", "cement", "ce_clip"]
    assert set(res["step_over_clip"]) == {"clip", "cement", "ce_clip"} and res["step_over_clip"]["clip"] == 1.0
    assert all(r["samples_per_s"] > 0 and 0 <= r["data_wait"] <= 1 for r in res["runs"])
    assert res["cement_over_clip"] > 0 and res["encoder"]["images"] == 48
    assert res["torchrun_2proc"]["steps"] == 10
    assert "cement_over_clip" in capsys.readouterr().out


def test_gpu_bench_fails_loudly(tmp_path, capsys):
    # a step count the run can never reach (no data): the part is reported and the exit code is 1
    assert main([*ARGS, "--no-compile", "--images", "4", "--json", str(tmp_path / "r.json")]) == 1
    assert json.loads((tmp_path / "r.json").read_text())["failures"]
    assert "FAILED" in capsys.readouterr().err


@pytest.mark.slow
def test_gpu_bench_cpu_path_with_compile(tmp_path):
    assert main([*ARGS, "--json", str(tmp_path / "r.json")]) == 0
    res = json.loads((tmp_path / "r.json").read_text())
    assert any(r["compile"] for r in res["runs"]) and "cement_over_clip_compiled" in res


def test_gpu_bench_names_a_loss_it_does_not_know(capsys):
    with pytest.raises(SystemExit):
        main([*ARGS[:-1], "cement,nosuch"])
    assert "nosuch" in capsys.readouterr().err
