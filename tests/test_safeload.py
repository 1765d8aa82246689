"""Untrusted .pt files: a real malicious pickle is refused on every load path, in one line, and never runs."""

import json
import os
import pickle

import pytest
import torch

from slipform.cli import main
from slipform.models import ModelSpec, export_open_clip, load_model, tiny_open_clip_config
from slipform.safeload import CorruptFileError, UntrustedFileError, load_tensors

from conftest import make_pair_data

SYSTEM = f"{os.system.__module__}.system"  # posix.system


class _Payload:
    """Unpickling this runs ``touch MARKER`` (through os.system)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "PWNED"


def _malicious(path, marker, protocol=2):
    """A file torch.save wrote, with an os.system call next to the weights."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {"w": torch.zeros(2)}, "x": _Payload(marker)}, path, pickle_protocol=protocol)
    return path


def test_the_payload_is_live(tmp_path, marker):
    """Sanity: an ordinary unpickler does run it (so the tests below test something)."""
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()


@pytest.mark.parametrize("protocol", [2, 4])
def test_load_tensors_refuses_in_one_line_naming_file_and_object(tmp_path, marker, protocol):
    bad = _malicious(tmp_path / "evil.pt", marker, protocol)
    with pytest.raises(UntrustedFileError) as info:
        load_tensors(bad)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{bad}: refused") and SYSTEM in msg
    assert "weights_only" not in msg and "False" not in msg  # no advice to load it unsafely
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not marker.exists()


def test_a_bare_pickle_is_refused_and_named(tmp_path, marker):
    bad = tmp_path / "evil.pkl"
    bad.write_bytes(pickle.dumps({"w": 1, "x": _Payload(marker)}, protocol=4))
    with pytest.raises(UntrustedFileError, match=SYSTEM):
        load_tensors(bad)
    assert not marker.exists()


def test_damaged_files_are_named_with_what_to_do(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"w": torch.arange(1000.0)}, good)
    assert torch.equal(load_tensors(good)["w"], torch.arange(1000.0))
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[:300])
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"hello, not tensors")
    for path, why in ((cut, "truncated or corrupt"), (empty, "empty"), (junk, "not a PyTorch tensor file")):
        with pytest.raises(CorruptFileError) as info:
            load_tensors(path, "training checkpoint")
        msg = str(info.value)
        assert "\n" not in msg and msg.startswith(f"{path}: cannot read") and why in msg
        assert "delete it to restart the run from step 0" in msg
    with pytest.raises(CorruptFileError, match="delete it; the features are recomputed"):
        load_tensors(cut, "feature cache")
    with pytest.raises(FileNotFoundError):
        load_tensors(tmp_path / "absent.pt")


def _one_line_refusal(capsys, code, path, marker):
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert str(path) in lines[0] and SYSTEM in lines[0] and "Traceback" not in err and "weights_only" not in err
    assert not marker.exists()


def _eval(tmp_path, *model_args):
    return main(["eval", *model_args, "--benchmarks", "world_aro", "--data-root", str(tmp_path / "bench"),
                 "--limit", "4", "--workers", "0", "--cache-dir", str(tmp_path / "cache"),
                 "-o", str(tmp_path / "res.json")])


def test_eval_model_run_directory_is_refused(tmp_path, marker, capsys):
    run = tmp_path / "run"
    _malicious(run / "model.pt", marker)
    (run / "config.json").write_text(json.dumps({"model": {"name": "tiny", "config": tiny_open_clip_config()}}))
    _one_line_refusal(capsys, _eval(tmp_path, "--model", str(run)), run / "model.pt", marker)


@pytest.mark.parametrize("arch", ["ViT-B-32", "tiny"])
def test_eval_pretrained_is_refused(tmp_path, marker, capsys, arch):
    bad = _malicious(tmp_path / "evil.pt", marker)
    args = ["--model", arch, "--pretrained", str(bad)] + (["--model-config", "tiny"] if arch == "tiny" else [])
    _one_line_refusal(capsys, _eval(tmp_path, *args), bad, marker)


def test_a_poisoned_feature_cache_is_refused(tmp_path, marker, capsys):
    torch.manual_seed(0)
    model = load_model(ModelSpec("open_clip", "tiny", None, tiny_open_clip_config()))
    weights = export_open_clip(model, tmp_path / "tiny.pt")
    fingerprint = load_model(ModelSpec("open_clip", "tiny", str(weights), tiny_open_clip_config())).fingerprint()
    cache = _malicious(tmp_path / "cache" / f"features-{fingerprint}.pt", marker)
    code = _eval(tmp_path, "--model", "tiny", "--model-config", "tiny", "--pretrained", str(weights))
    _one_line_refusal(capsys, code, cache, marker)


def _train(tmp_path, data, *extra):
    return main(["train", "--train", data["train"], "--negatives", data["negatives"], "--image-root",
                 data["image_root"], "--model-config", "tiny", "--epochs", "1", "--batch-size", "4", "--workers", "0",
                 "--no-progress", "-o", str(tmp_path / "run"), *extra])


def test_train_pretrained_and_resume_are_refused(tmp_path, marker, capsys):
    data = make_pair_data(tmp_path / "data", n=8)
    bad = _malicious(tmp_path / "evil.pt", marker)
    _one_line_refusal(capsys, _train(tmp_path, data, "--pretrained", str(bad)), bad, marker)
    latest = _malicious(tmp_path / "run" / "checkpoints" / "latest.pt", marker)
    _one_line_refusal(capsys, _train(tmp_path, data, "--pretrained", "none"), latest, marker)


def test_a_truncated_resume_checkpoint_says_what_to_do(tmp_path, capsys):
    data = make_pair_data(tmp_path / "data", n=8)
    latest = tmp_path / "run" / "checkpoints" / "latest.pt"
    latest.parent.mkdir(parents=True)
    torch.save({"model": {"w": torch.zeros(500)}}, latest)
    latest.write_bytes(latest.read_bytes()[:200])
    assert _train(tmp_path, data, "--pretrained", "none") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(latest) in err and "truncated or corrupt" in err
    assert "delete it to restart the run from step 0" in err and "Traceback" not in err
