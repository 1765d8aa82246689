"""A pickle whose STACK_GLOBAL takes a name that is not a string: refused as "an unnamed global"
(issue 31: safeload's one unpinned survivor). No pickler writes one; the bytes are written by hand."""

import pickletools

import pytest

from slipform.safeload import UntrustedFileError, load_tensors, refused_object

# PROTO 4; BININT1 5 (a number where the module name belongs); SHORT_BINUNICODE 'system'; STACK_GLOBAL;
# EMPTY_TUPLE; REDUCE; STOP
UNNAMED = b"\x80\x04K\x05\x8c\x06system\x93)R."


def test_a_stack_global_of_no_string_names_is_an_unnamed_global(tmp_path):
    assert [op.name for op, _, _ in pickletools.genops(UNNAMED)] == [
        "PROTO", "BININT1", "SHORT_BINUNICODE", "STACK_GLOBAL", "EMPTY_TUPLE", "REDUCE", "STOP"]
    path = tmp_path / "odd.pkl"
    path.write_bytes(UNNAMED)
    assert refused_object("", path) == "an unnamed global"
    with pytest.raises(UntrustedFileError) as err:
        load_tensors(path)
    assert str(err.value) == (f"{path}: refused to load this checkpoint: it contains a reference to an unnamed global, "
                              "which could run code; only tensor data is loaded, so nothing in it ran")
