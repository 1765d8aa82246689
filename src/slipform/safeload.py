"""Loading tensor files that may come from anyone: weights only, and one clear line when refused.

Every ``.pt`` file Slipform reads (a ``--model`` run directory's ``model.pt``, a ``--pretrained``
checkpoint, a training run's ``checkpoints/latest.pt``, the evaluation feature cache) goes through
:func:`load_tensors`, which calls ``torch.load(weights_only=True)``: tensors, numbers, strings and
plain containers are read; any other pickled object (a class, a function such as ``os.system``) is
refused *before* it is built, so nothing in the file runs.

torch's own refusal is a multi-paragraph message that ends by suggesting ``weights_only=False`` —
the one thing a user must not do with a file of unknown origin. :class:`UntrustedFileError`
replaces it with one line naming the file and the refused object; :class:`CorruptFileError` does
the same for a truncated or damaged file and says what to do. Both are ``ValueError`` s, so the
command line reports them as ``error: ...`` with exit status 2 and no traceback.
"""

from __future__ import annotations

import pickle
import pickletools
import re
import warnings
import zipfile
from pathlib import Path

# what to do with a damaged file, by what it is
REMEDY = {
    "checkpoint": "re-download or re-export it",
    "training checkpoint": "delete it to restart the run from step 0, or restore it from a copy",
    "feature cache": "delete it; the features are recomputed",
}


class UntrustedFileError(ValueError):
    """The file holds a pickled object that is not tensor data; it was not loaded (nothing ran)."""


class CorruptFileError(ValueError):
    """The file is truncated, empty or not a tensor file at all."""


def refused_object(message: str, path: str | Path | None = None) -> str | None:
    """The object torch's weights-only refusal is about, e.g. ``posix.system``; None if it names none.

    torch names a global it blocks; where it stops earlier (at a pickle instruction it does not
    support) the file's pickle is read, without running it, for the first object it imports that
    is neither torch's nor a plain type. None means the file imports nothing: it is damaged or
    not a tensor file, not a threat.
    """
    if m := re.search(r"GLOBAL\s+([\w.<>]+)", message):
        return m.group(1)
    return _foreign_global(Path(path)) if path is not None else None


def load_tensors(path: str | Path, what: str = "checkpoint", map_location="cpu"):
    """``torch.load(path, weights_only=True)``; a refusal or damage raises a one-line error.

    Raises :class:`UntrustedFileError` when the file holds any pickled object other than tensors
    and plain containers (it is never built), :class:`CorruptFileError` when the file cannot be
    read as a tensor file, and ``FileNotFoundError`` when it does not exist.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what}")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing or reading
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if name := refused_object(str(exc), path):
            raise UntrustedFileError(
                f"{path}: refused to load this {what}: it contains a reference to {name}, which could run "
                "code; only tensor data is loaded, so nothing in it ran") from None
        raise CorruptFileError(_corrupt(path, what, exc)) from None
    except (RuntimeError, EOFError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CorruptFileError(_corrupt(path, what, exc)) from None


def _corrupt(path: Path, what: str, exc: BaseException) -> str:
    size = path.stat().st_size
    why = "empty" if size == 0 else "truncated or corrupt" if _zip_like(path) else "not a PyTorch tensor file"
    first = str(exc).split(".")[0].strip()
    detail = f"{exc.__class__.__name__}: {first}" if first and not isinstance(exc, KeyError) else exc.__class__.__name__
    return (f"{path}: cannot read this {what} ({why}, {size} bytes: {detail}); "
            f"{REMEDY.get(what, REMEDY['checkpoint'])}")


def _zip_like(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"PK"


_SAFE_MODULES = ("torch", "collections", "_codecs", "numpy")
_SAFE_BUILTINS = {"builtins." + n for n in ("set", "frozenset", "bytearray", "slice", "complex", "int", "float",
                                            "bool", "str", "bytes", "tuple", "list", "dict")}


def _foreign_global(path: Path) -> str | None:
    """The first ``module.name`` the file's pickle imports that is not torch's or a plain type.

    Reads the opcodes with :func:`pickletools.genops`, which decodes and never executes; a
    ``STACK_GLOBAL`` whose names cannot be followed is reported as ``an unnamed global``.
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                pkl = next((n for n in z.namelist() if n.endswith("data.pkl")), None)
                data = z.read(pkl) if pkl else b""
        else:
            data = path.read_bytes()
        pushed: list = []  # what each instruction left on top of the stack, when it is a string
        memo: dict = {}
        for op, arg, _ in pickletools.genops(data):
            if op.name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
                memo[len(memo) if op.name == "MEMOIZE" else arg] = pushed[-1] if pushed else None
                continue
            if op.name in ("GET", "BINGET", "LONG_BINGET"):
                pushed.append(memo.get(arg))
                continue
            if op.name in ("GLOBAL", "INST"):
                name = str(arg).replace(" ", ".")
            elif op.name == "STACK_GLOBAL":
                module, attr = pushed[-2:] if len(pushed) >= 2 else (None, None)
                name = f"{module}.{attr}" if isinstance(module, str) and isinstance(attr, str) else "an unnamed global"
            else:
                pushed.append(arg if isinstance(arg, str) else None)
                continue
            if name.split(".")[0] not in _SAFE_MODULES and name not in _SAFE_BUILTINS:
                return name
    except Exception:  # noqa: BLE001 - genops stops at the first byte that is not a pickle instruction
        return None
    return None
