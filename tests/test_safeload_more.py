"""The weights-only loader's own reading of a pickle (what torch's refusal does not name), in every
pickle protocol, and the damaged-file messages in full (bench/mutation.py safeload_gpu survivors)."""

import collections
import os
import pickle

import pytest
import torch

from slipform.safeload import CorruptFileError, UntrustedFileError, load_tensors, refused_object

SYSTEM = f"{os.system.__module__}.system"


class _Payload:
    def __reduce__(self):
        return os.system, ("true",)


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_the_pickle_is_read_for_the_object_it_imports_in_every_protocol(tmp_path, protocol):
    path = tmp_path / "evil.pkl"
    safe = collections.OrderedDict(a=1)  # a plain type first: not the one to name
    path.write_bytes(pickle.dumps({"ok": safe, "w": [1.0, 2.0], "x": _Payload(), "y": _Payload()}, protocol=protocol))
    assert refused_object("", path) == SYSTEM  # torch's message named nothing: the file itself is read
    assert refused_object("Unsupported global: GLOBAL shutil.rmtree was not an allowed global", path) == "shutil.rmtree"
    with pytest.raises(UntrustedFileError, match=SYSTEM):
        load_tensors(path)


def test_a_torch_file_with_a_payload_is_read_inside_its_zip(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(2), "x": _Payload()}, path)
    assert refused_object("", path) == SYSTEM
    clean = tmp_path / "clean.pt"
    torch.save({"w": torch.zeros(2), "d": collections.OrderedDict(a=1)}, clean)
    assert refused_object("", clean) is None  # torch's own and plain types only


def test_a_damaged_pickle_and_a_cut_torch_file_say_what_broke(tmp_path):
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(pickle.dumps({"w": [1, 2, 3]}, protocol=2)[:-5])
    with pytest.raises(CorruptFileError) as err:
        load_tensors(cut)
    assert str(err.value) == (f"{cut}: cannot read this checkpoint (not a PyTorch tensor file, {cut.stat().st_size} "
                              "bytes: EOFError); re-download or re-export it")
    good = tmp_path / "good.pt"
    torch.save({"w": torch.arange(1000.0)}, good)
    zipcut = tmp_path / "zipcut.pt"
    zipcut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(CorruptFileError) as err:
        load_tensors(zipcut, "feature cache")
    assert str(err.value).startswith(f"{zipcut}: cannot read this feature cache (truncated or corrupt, 300 bytes: "
                                     "RuntimeError: PytorchStreamReader failed reading zip archive")
    assert str(err.value).endswith("); delete it; the features are recomputed")


@pytest.mark.parametrize("protocol", [4, 5])
def test_an_import_whose_names_come_from_the_pickles_memo(tmp_path, protocol):
    """The module and function names pickled earlier as strings: the import reads them back (BINGET)."""
    path = tmp_path / "memo.pkl"
    data = {"m": os.system.__module__, "n": os.system.__qualname__, "x": _Payload()}
    raw = pickle.dumps(data, protocol=protocol)
    import pickletools

    assert "BINGET" in {op.name for op, _, _ in pickletools.genops(raw)}
    path.write_bytes(raw)
    assert refused_object("", path) == SYSTEM


def test_a_file_that_is_no_pickle_at_all(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"\xffjunk")
    with pytest.raises(CorruptFileError) as err:
        load_tensors(path)
    assert str(err.value) == (f"{path}: cannot read this checkpoint (not a PyTorch tensor file, 5 bytes: "
                                     "UnpicklingError: Weights only load failed); re-download or re-export it")


def test_a_hand_written_pickle_that_builds_by_inst(tmp_path):
    """Protocol 0's INST (module and name inline) is not what Python 3 writes, but anyone can."""
    path = tmp_path / "inst.pkl"
    path.write_bytes(b"(S'true'\ni" + os.system.__module__.encode() + b"\nsystem\n.")
    assert refused_object("", path) == SYSTEM
    with pytest.raises(UntrustedFileError, match=SYSTEM):
        load_tensors(path)


def test_a_pickle_that_is_one_foreign_global_names_it(tmp_path):
    import argparse

    for protocol in (2, 4):  # GLOBAL, and STACK_GLOBAL with exactly its two names on the stack
        path = tmp_path / f"class{protocol}.pkl"
        path.write_bytes(pickle.dumps(argparse.Namespace, protocol=protocol))
        assert refused_object("", path) == "argparse.Namespace", protocol


def test_an_empty_checkpoint_is_called_empty(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    with pytest.raises(CorruptFileError) as err:
        load_tensors(path)
    assert f"{path}: cannot read this checkpoint (empty, 0 bytes: " in str(err.value)
