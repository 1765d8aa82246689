"""Reading captions from the formats users have, one item at a time.

Formats, chosen from the file name (or ``fmt``):

- ``txt``: one caption per line; the id is the line number.
- ``coco``: COCO captions JSON (``captions_train2014.json``): id = annotation id,
  image = the image's ``file_name``.
- ``karpathy``: Karpathy's split JSON (``dataset_coco.json``): id = ``sentid``,
  image = ``filepath/filename``.
- ``csv`` / ``tsv``: open_clip's convention, a header with image-path and caption columns
  (``filepath`` and ``title`` by default); an ``id`` column is used when present (or
  NegCLIP's unnamed index column), else the line number.
- ``jsonl``: one object per line with ``caption`` (and optionally ``id``, ``image``).

Every reader yields :class:`Caption` items, or :class:`BadLine` items naming the file and
line of input it could not use, so the caller can count them and go on. Text, CSV and JSONL
are streamed; the two JSON formats are single documents and are read whole.

Lines end at ``\n``, ``\r\n`` or a bare ``\r`` (old Mac files), mixed freely, as Python's
universal newlines and editors count them; a last line without its newline is a line. Other
Unicode separators (``\u2028``, ``\x85``, form feed) stay inside their caption. An item's
``line`` is the line an editor shows it on: for a CSV record whose quoted field holds newlines,
the line the record starts on (and, without an id column, its id).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FORMATS = ("txt", "coco", "karpathy", "csv", "tsv", "jsonl")


@dataclass(frozen=True)
class Caption:
    id: str
    caption: str
    image: str | None = None
    line: int = 0


@dataclass(frozen=True)
class BadLine:
    """An input item that could not be used: ``reason`` names file and line, ``kind`` counts it."""

    line: int
    reason: str
    id: str | None = None
    kind: str = "malformed input"


BAD_INPUT_KINDS = ("malformed JSON", "missing columns", "missing caption field", "not an object", "malformed input",
                   "truncated tar", "sample without caption", "non-UTF-8 caption", "empty shard")  # the last: shards


@dataclass(frozen=True)
class Columns:
    caption: str = "title"
    image: str = "filepath"
    id: str = "id"
    separator: str | None = None  # None: tab for .tsv, comma otherwise


class InputError(ValueError):
    """The input as a whole cannot be read (missing, unknown format, malformed JSON document)."""


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".txt", ".jsonl", ".csv", ".tsv"):
        return suffix[1:]
    if suffix == ".json":
        with open(path, encoding="utf-8") as f:
            head = f.read(4096)
        if '"sentences"' in head or '"dataset"' in head:
            return "karpathy"
        return "coco"
    raise InputError(f"{path}: cannot tell the format from the suffix {suffix!r}; pass --format ({', '.join(FORMATS)})")


def read_captions(path: str | Path, fmt: str | None = None, columns: Columns = Columns()) -> Iterator[Caption | BadLine]:
    path = Path(path)
    if not path.exists():
        raise InputError(f"input not found: {path}")
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose from {FORMATS}")
    reader = {"txt": _txt, "coco": _coco, "karpathy": _karpathy, "csv": _table, "tsv": _table, "jsonl": _jsonl}[fmt]
    if fmt in ("csv", "tsv") and columns.separator is None:
        columns = Columns(columns.caption, columns.image, columns.id, "\t" if fmt == "tsv" else ",")
    return reader(path, columns)


LINE_FORMATS = ("txt", "csv", "tsv", "jsonl")  # one record per line: a shard can be a byte range


def read_range(path: str | Path, fmt: str, columns: Columns, start: int, stop: int,
               first_line: int) -> Iterator[Caption | BadLine]:
    """The items of bytes ``[start, stop)`` of a line format, ``start`` being line ``first_line``.

    ``start`` and ``stop`` lie at line starts, and for CSV/TSV at record starts (never inside a
    quoted field; :mod:`slipform.plant.engine.source` plans them); only those bytes are read, and a
    CSV's header. Items are the ones :func:`read_captions` yields for the same lines, with the
    same ids and line numbers.
    """
    path = Path(path)
    if fmt not in LINE_FORMATS:
        raise InputError(f"format {fmt!r} is one document; it has no line ranges")
    if fmt in ("csv", "tsv") and columns.separator is None:
        columns = Columns(columns.caption, columns.image, columns.id, "\t" if fmt == "tsv" else ",")
    lines = _byte_lines(path, start, stop)
    if fmt == "txt":
        return _txt_lines(lines, first_line)
    if fmt == "jsonl":
        return _jsonl_lines(path, columns, lines, first_line)
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        header = next(csv.reader(f, delimiter=columns.separator), None)
    return _table_rows(path, columns, header, csv.reader(lines, delimiter=columns.separator), first_line)


_LINE_END = re.compile(rb"\r\n|\r|\n")


def split_lines(f, start: int, stop: int, block: int = 1 << 20):
    """The raw lines (with their ends) of bytes ``[start, stop)`` of binary file ``f``.

    A line ends at ``\n``, ``\r\n`` or a bare ``\r``, as in Python's universal newlines; the
    last one may have no end. Reads ``block`` bytes at a time, whatever the lines' lengths.
    """
    f.seek(start)
    pos, carry = start, b""
    while pos < stop:
        data = f.read(min(block, stop - pos))
        if not data:
            break
        pos += len(data)
        buf, at = carry + data, 0
        more = pos < stop
        for m in _LINE_END.finditer(buf):
            if more and m.end() == len(buf) and m.group() == b"\r":
                break  # perhaps the first half of a \r\n cut by the block
            yield buf[at:m.end()]
            at = m.end()
        carry = buf[at:]
    if carry:
        yield carry


def count_line_ends(f, start: int, stop: int, block: int = 1 << 22) -> int:
    """How many line ends (``\n``, ``\r\n``, bare ``\r``) bytes ``[start, stop)`` of ``f`` hold, at disk speed."""
    f.seek(start)
    pos, count, cr_before = start, 0, False
    while pos < stop:
        buf = f.read(min(block, stop - pos))
        if not buf:
            break
        pos += len(buf)
        count += buf.count(b"\n") + buf.count(b"\r") - buf.count(b"\r\n")
        count -= cr_before and buf[:1] == b"\n"  # a \r\n cut by the block is one end
        cr_before = buf[-1:] == b"\r"
    return count


def _byte_lines(path: Path, start: int, stop: int):
    with open(path, "rb") as f:
        for raw in split_lines(f, start, stop):
            yield raw.decode("utf-8", errors="replace")


def _txt(path: Path, columns: Columns):
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        yield from _txt_lines(f, 1)


def _txt_lines(lines, first: int):
    for n, line in enumerate(lines, first):
        yield Caption(str(n), line.rstrip("\r\n"), None, n)


def _load_json(path: Path):
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}:{exc.colno}: malformed JSON ({exc.msg})") from None


def _coco(path: Path, columns: Columns):
    data = _load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise InputError(f"{path}: not COCO captions JSON (no 'annotations' list)")
    files = {im.get("id"): im.get("file_name") for im in data.get("images", []) if isinstance(im, dict)}
    for n, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict) or "caption" not in ann:
            yield BadLine(n, f"{path}: annotation #{n} has no 'caption'", kind="missing caption field")
            continue
        cid = str(ann.get("id", n))
        yield Caption(cid, str(ann["caption"]), files.get(ann.get("image_id")), n)


def _karpathy(path: Path, columns: Columns):
    data = _load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise InputError(f"{path}: not a Karpathy split JSON (no 'images' list)")
    n = 0
    for im in data["images"]:
        image = "/".join(p for p in (im.get("filepath"), im.get("filename")) if p) or None
        for sent in im.get("sentences", []):
            n += 1
            raw = sent.get("raw") if isinstance(sent, dict) else None
            if raw is None:
                yield BadLine(n, f"{path}: sentence #{n} of {image} has no 'raw' text", kind="missing caption field")
                continue
            yield Caption(str(sent.get("sentid", n)), raw, image, n)


def _table(path: Path, columns: Columns):
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        rows = csv.reader(f, delimiter=columns.separator)
        header = next(rows, None)
        yield from _table_rows(path, columns, header, rows, 1 + rows.line_num)


def _table_rows(path: Path, columns: Columns, header, rows, first: int):
    """The records of csv reader ``rows``, its next line being line ``first``: each numbered by the line it starts on."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    if not header:
        raise InputError(f"{path}: empty file, expected a header row")
    header = [h.strip() for h in header]
    if columns.caption not in header:
        raise InputError(f"{path}:1: no caption column {columns.caption!r} in header {header[:8]}; "
                         "set it with --caption-col")
    ci = header.index(columns.caption)
    ii = header.index(columns.image) if columns.image in header else None
    idx = header.index(columns.id) if columns.id in header else (0 if header[0] == "" else None)
    base = rows.line_num
    while True:
        n = first + rows.line_num - base  # the line this record starts on
        row = next(rows, None)
        if row is None:
            return
        if not row:
            continue
        if len(row) != len(header):
            last = first + rows.line_num - base - 1
            span = f" (a record over lines {n}-{last})" if last > n else ""
            yield BadLine(n, f"{path}:{n}: expected {len(header)} columns, found {len(row)}{span}",
                          kind="missing columns")
            continue
        cid = row[idx] if idx is not None and row[idx] else str(n)
        yield Caption(cid, row[ci], row[ii] if ii is not None else None, n)


def _jsonl(path: Path, columns: Columns):
    with open(path, encoding="utf-8", errors="replace", newline="") as f:  # the lines a shard's reader sees
        yield from _jsonl_lines(path, columns, f, 1)


def _jsonl_lines(path: Path, columns: Columns, lines, first: int):
    keys = (columns.caption, "caption", "title", "text")
    for n, line in enumerate(lines, first):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadLine(n, f"{path}:{n}: malformed JSON ({exc.msg})", kind="malformed JSON")
            continue
        if not isinstance(obj, dict):
            yield BadLine(n, f"{path}:{n}: expected a JSON object", kind="not an object")
            continue
        key = next((k for k in keys if k in obj), None)
        if key is None or not isinstance(obj[key], str):
            yield BadLine(n, f"{path}:{n}: no caption field ({columns.caption!r} or 'caption')",
                          str(obj.get("id", n)), kind="missing caption field")
            continue
        image = obj.get(columns.image, obj.get("image"))
        yield Caption(str(obj.get(columns.id, obj.get("id", n))), obj[key], image, n)
