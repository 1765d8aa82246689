"""slipform.run.RunDir: the one owner of a run directory's layout (names as the README documents)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from slipform.run import RunDir

SRC = Path(__file__).resolve().parents[1] / "src" / "slipform"
OWNER = SRC / "run.py"
# names of a run directory's files; "config.json" is also the demo folder's settings (experiment/layout.py
# owns that folder) and a Hugging Face directory's config (models.is_hf_directory)
# file names anywhere in a string; folder names only as a whole string or a path part ("/checkpoints")
RUN_FILES = re.compile(r"(^|/)(model\.pt|log\.jsonl|latest\.pt|selection\.json|skipped\.json)$")
RUN_FOLDERS = re.compile(r"^(checkpoints|tensorboard)$|/(checkpoints|tensorboard)(/|$)|^(checkpoints|tensorboard)/")
CONFIG = re.compile(r"(^|/)config\.json$")
CONFIG_OWNERS = {OWNER, SRC / "experiment" / "layout.py", SRC / "models.py"}


def test_the_paths_are_the_documented_names(tmp_path):
    run = RunDir(str(tmp_path))
    assert isinstance(run.root, Path)
    assert {k: getattr(run, k).relative_to(tmp_path).as_posix() for k in (
        "config", "log", "checkpoints", "checkpoint", "tensorboard", "selection", "skipped", "model", "hf",
        "gradients_plot")} == {
        "config": "config.json", "log": "log.jsonl", "checkpoints": "checkpoints", "checkpoint": "checkpoints/latest.pt",
        "tensorboard": "tensorboard", "selection": "selection.json", "skipped": "skipped.json", "model": "model.pt",
        "hf": "hf", "gradients_plot": "gradients.png"}
    with pytest.raises(AttributeError):
        run.root = tmp_path / "other"  # frozen


def test_a_run_is_finished_once_its_model_is_written(tmp_path):
    run = RunDir(tmp_path / "run")
    assert not run.finished and run.latest_checkpoint() is None
    run.write_config({"loss": {"kind": "cement"}, "batch_size": 8})
    assert run.read_config() == {"loss": {"kind": "cement"}, "batch_size": 8}
    assert json.loads((tmp_path / "run" / "config.json").read_text())["batch_size"] == 8
    assert not run.finished
    run.checkpoints.mkdir()
    run.checkpoint.write_bytes(b"x")
    assert run.latest_checkpoint() == tmp_path / "run" / "checkpoints" / "latest.pt" and not run.finished
    run.model.write_bytes(b"x")
    assert run.finished


def test_the_log_reads_in_order_skipping_blank_lines_and_naming_a_bad_one(tmp_path):
    run = RunDir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no training log"):
        run.read_log()
    with pytest.raises(FileNotFoundError, match="no run configuration"):
        run.read_config()
    run.log.write_text('{"step": 1, "loss": 2.0}\n\n{"step": 2, "grad_hard": null}\n')
    assert run.read_log() == [{"step": 1, "loss": 2.0}, {"step": 2, "grad_hard": None}]
    run.log.write_text('{"step": 1}\n{"step": 2\n')
    with pytest.raises(ValueError, match=r"log\.jsonl:2: not a JSON line"):
        run.read_log()


def _strings(path: Path):
    """String constants of a module and the literal parts of its f-strings, docstrings left out."""
    tree = ast.parse(path.read_text())
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value


def _spellers(src: Path) -> list[str]:
    bad = []
    for path in sorted(src.rglob("*.py")):
        for line, text in _strings(path):
            parts = re.split(r"[\s'\"(){},:;]+", text)
            run_name = any(RUN_FILES.search(p) for p in parts) or any(RUN_FOLDERS.search(p) for p in parts
                                                                      if len(parts) == 1 or "/" in p)
            config = any(CONFIG.search(p) for p in parts)
            if (run_name and path != OWNER) or (config and path not in CONFIG_OWNERS):
                bad.append(f"{path.relative_to(src)}:{line}: {text!r}")
    return bad


def test_no_module_but_the_owner_spells_a_run_directorys_file_names():
    """Code that finds a run's files goes through RunDir; prose (docstrings, messages about
    'checkpoints') may still name them."""
    assert _spellers(SRC) == []


def test_the_spelling_guard_catches_a_path_string(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "ok.py").write_text('"""Reads log.jsonl and model.pt (prose)."""\nMSG = "names 3 checkpoints here"\n')
    (pkg / "bad.py").write_text('from pathlib import Path\n\ndef f(run):\n    return Path(run) / "model.pt"\n')
    (pkg / "bad2.py").write_text('def g(run):\n    return f"{run}/checkpoints/latest.pt"\n')
    (pkg / "bad3.py").write_text('def h(p):\n    return p / "config.json"\n')
    (pkg / "bad4.py").write_text('def k(p):\n    return p / "checkpoints" / "x"\n')
    assert [s.split(":")[0] for s in _spellers(pkg)] == ["bad.py", "bad2.py", "bad3.py", "bad4.py"]
