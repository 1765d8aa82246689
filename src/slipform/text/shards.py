"""Captions stored beside their images, as img2dataset writes them: webdataset tars and Parquet tables.

- ``wds``: tar shards whose members are grouped into samples by key, as webdataset groups them
  (the member's path up to the first dot of its file name: ``000017.jpg``, ``000017.txt`` and
  ``000017.json`` are sample ``000017``). The caption is the ``.txt`` member, or a field of the
  ``.json`` member (``caption_key``). A tar is read as a stream, member by member, never whole,
  each member with its raw bytes (:mod:`slipform.text.tarstream`) so that it can be copied exactly.
- ``parquet``: tables with a caption column and a key column, read with pyarrow batch by batch.

A shard is named by a URL: a local path, or ``pipe:COMMAND`` whose standard output is the
shard (``pipe:aws s3 cp s3://bucket/000.tar -``), as webdataset and open_clip take them. Lists
are brace patterns (``shards/{000..099}.tar``), local wildcards (``shards/*.parquet``), ``::``- or
comma-separated.

Every reader yields ``(item, sample)``: the item is a :class:`~slipform.text.io.Caption` whose
id is the sample key and whose ``line`` is the sample's place in its shard (1, 2, ...), or a
:class:`~slipform.text.io.BadLine` naming the shard and member it could not use; the sample
holds the members (tar info and bytes) when ``keep_members``, for writing them back unchanged.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

from .io import BadLine, Caption, InputError
from .tarstream import CutTar, Member, decompressed, members

SHARD_FORMATS = ("wds", "parquet")
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")
_KEY = re.compile(r"^((?:.*/|)[^./]+)\.([^/]*)$")  # webdataset's key and suffix of a member path


@dataclass(frozen=True)
class ShardColumns:
    """Where the caption and the key are: ``caption_key`` a field of each sample's ``.json`` (None: the
    ``.txt`` member); for Parquet, the caption and key columns (img2dataset's names by default)."""

    caption_key: str | None = None
    caption_col: str = "caption"
    key_col: str = "key"


@dataclass
class TarSample:
    """One sample of a tar: its key and members in tar order (members without a key have key None)."""

    key: str | None
    members: list[Member] = field(default_factory=list)


def expand_urls(spec: str | list[str]) -> list[str]:
    """``"data/{000..009}.tar"``, ``"a.tar::b.tar"``, ``"a.tar,b.tar"`` or a list -> the list of URLs
    (webdataset's brace expansion; a comma outside braces also separates)."""
    from webdataset.shardlists import expand_urls as expand

    if not isinstance(spec, str):
        return [u for s in spec for u in expand_urls(s)]
    parts, depth, cur = [], 0, ""
    for ch in spec:  # split on commas outside braces, so "{a,b}" stays one pattern
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    urls = [u for part in parts if part for u in expand(part)]
    return [m for u in urls for m in (_glob(u) or [u])]


def _glob(url: str) -> list[str]:
    """The sorted matches of a local pattern with ``*``, ``?`` or ``[``; none for URLs and commands."""
    import glob

    if url.startswith("pipe:") or "://" in url or not glob.has_magic(url):
        return []
    return sorted(glob.glob(url))


def shard_format(url: str) -> str | None:
    """``"wds"`` or ``"parquet"`` from a URL's name (a ``pipe:`` command's words too); None for others."""
    words = url[len("pipe:"):].split() if url.startswith("pipe:") else [url]
    for word in words:
        name = word.lower()
        if name.endswith(TAR_SUFFIXES):
            return "wds"
        if name.endswith(".parquet"):
            return "parquet"
    return None


def shard_stem(url: str) -> str:
    """A shard's name without folder and suffix (``s3://b/00017.tar`` -> ``00017``), naming its outputs."""
    words = url[len("pipe:"):].split() if url.startswith("pipe:") else [url]
    word = next((w for w in words if shard_format(w)), words[-1] if words else url)
    name = word.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (*TAR_SUFFIXES, ".parquet"):
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


class _Pipe(io.RawIOBase):
    """A ``pipe:`` command's standard output; a failing command reads as a truncated stream."""

    def __init__(self, command: str):
        self.command = command
        self.proc = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE)  # its errors go to our stderr

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        return self.proc.stdout.readinto(buf)

    def close(self) -> None:
        if not self.closed:
            self.proc.stdout.close()  # a command still writing gets SIGPIPE
            self.proc.wait()
        super().close()

    def failure(self) -> str | None:
        """Why the command failed, or None (what it still writes is read and dropped first)."""
        while self.proc.stdout.read(1 << 16):
            pass
        code = self.proc.wait()
        return f"command exited with status {code}" if code else None


def open_url(url: str):
    """A binary stream of a shard: a file, or a ``pipe:`` command's output."""
    if url.startswith("pipe:"):
        return io.BufferedReader(_Pipe(url[len("pipe:"):]), 1 << 20)
    return open(url, "rb")


def tar_samples(url: str, caption_key: str | None = None, keep_members: bool = True) -> Iterator[tuple]:
    """``(Caption or BadLine or None, TarSample or None)`` for every sample of a tar shard, in order.

    A cut (truncated) tar yields the samples read before the cut, then one ``truncated tar``
    problem naming the member it was reading (the sample being read when the stream broke is
    counted there, its complete members kept); an empty shard yields one ``empty shard``.
    """
    raw = open_url(url)
    keep = (lambda name: True) if keep_members else (lambda name: name.endswith((".txt", ".json")))
    n, current, cut = 0, None, None
    try:
        try:
            for member in members(decompressed(raw), keep):
                match = _KEY.match(member.name) if member.is_file else None
                key = match.group(1) if match else None
                if current is not None and (key is None or key != current.key):
                    n += current.key is not None
                    yield _caption(url, current, n, caption_key), current
                    current = None
                if current is None:
                    current = TarSample(key)
                current.members.append(member)
        except CutTar as exc:
            cut = f"{url}: truncated tar: {exc}"
        except (EOFError, OSError, ValueError) as exc:  # a cut or corrupt compressed stream, a failing read
            cut = f"{url}: truncated tar: cannot read it ({exc})"
        failure = raw.raw.failure() if isinstance(getattr(raw, "raw", None), _Pipe) else None
        if failure:
            cut = f"{cut} ({failure})" if cut else f"{url}: truncated tar: {failure}"
        if current is not None:
            n += current.key is not None
            if cut is None:
                yield _caption(url, current, n, caption_key), current
            else:  # the last sample may miss members: its complete ones are kept, it is not planted
                yield BadLine(n, cut, current.key, kind="truncated tar"), current
                cut = None
        if cut:
            yield BadLine(n + 1, cut, url, kind="truncated tar"), None
        elif n == 0 and current is None:
            yield BadLine(0, f"{url}: empty shard (no samples)", url, kind="empty shard"), None
    finally:
        raw.close()


def _caption(url: str, sample: TarSample, n: int, caption_key: str | None):
    """The Caption of a sample, or the BadLine saying why it has none (None for loose members)."""
    if sample.key is None:
        return None
    by_suffix = {_KEY.match(m.name).group(2): m for m in sample.members if _KEY.match(m.name)}
    meta = None
    if "json" in by_suffix:  # planting writes the negatives into it: it must be a JSON object
        info = by_suffix["json"]
        data = info.data
        try:
            meta = json.loads(data)
        except ValueError as exc:
            return BadLine(n, f"{url}: member {info.name}: malformed JSON ({exc})", sample.key, kind="malformed JSON")
        if not isinstance(meta, dict):
            return BadLine(n, f"{url}: member {info.name}: not a JSON object", sample.key, kind="not an object")
    if caption_key:
        if meta is None:
            return BadLine(n, f"{url}: sample {sample.key} has no .json member (for its {caption_key!r})", sample.key,
                           kind="sample without caption")
        text = meta.get(caption_key)
        info = by_suffix["json"]
        if not isinstance(text, str):
            return BadLine(n, f"{url}: member {info.name} has no {caption_key!r} caption", sample.key,
                           kind="sample without caption")
    else:
        if "txt" not in by_suffix:
            return BadLine(n, f"{url}: sample {sample.key} has no .txt caption (members: "
                              f"{', '.join(m.name for m in sample.members)})", sample.key, kind="sample without caption")
        info = by_suffix["txt"]
        data = info.data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return BadLine(n, f"{url}: member {info.name}: not UTF-8 (byte {data[exc.start]:#04x} at {exc.start})",
                           sample.key, kind="non-UTF-8 caption")
    image = next((m.name for s, m in by_suffix.items() if s in ("jpg", "jpeg", "png", "webp")), None)
    return Caption(sample.key, text, image, n)


def parquet_file(url: str):
    """A pyarrow ParquetFile of a local path or a filesystem URI (``s3://...``)."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputError("Parquet needs pyarrow: pip install 'slipform[parquet]'") from exc
    if "://" in url:
        from pyarrow import fs

        filesystem, path = fs.FileSystem.from_uri(url)
        return pq.ParquetFile(filesystem.open_input_file(path))
    return pq.ParquetFile(url)


def check_parquet(url: str, columns: ShardColumns) -> int:
    """The rows of a Parquet file, after checking that it has the caption and key columns (InputError if not)."""
    try:
        f = parquet_file(url)
    except (OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{url}: not a readable Parquet file ({exc})") from None
    names = f.schema_arrow.names
    missing = [c for c in (columns.caption_col, columns.key_col) if c not in names]
    if missing:
        raise InputError(f"{url}: no column {' or '.join(map(repr, missing))}; its columns are {', '.join(names)} "
                         "(set --caption-col / --id-col)")
    return f.metadata.num_rows


def parquet_samples(url: str, columns: ShardColumns, batch_rows: int = 1024) -> Iterator[tuple]:
    """``(Caption or BadLine, None)`` for every row of a Parquet file, read ``batch_rows`` at a time."""
    f = parquet_file(url)
    n = 0
    for batch in f.iter_batches(batch_size=batch_rows, columns=[columns.key_col, columns.caption_col]):
        keys = batch.column(columns.key_col).to_pylist()
        texts = batch.column(columns.caption_col).to_pylist()
        for key, text in zip(keys, texts):
            n += 1
            key = str(key) if key is not None else f"row:{n}"
            if not isinstance(text, str):
                yield BadLine(n, f"{url}: row {n} (key {key}) has no {columns.caption_col!r} text", key,
                              kind="sample without caption"), None
            else:
                yield Caption(key, text, None, n), None
    if n == 0:
        yield BadLine(0, f"{url}: empty shard (no rows)", url, kind="empty shard"), None


def shard_samples(url: str, fmt: str, columns: ShardColumns, keep_members: bool = False) -> Iterator[tuple]:
    """The ``(item, sample)`` pairs of one shard of format ``fmt`` (``wds`` or ``parquet``)."""
    if fmt == "parquet":
        return parquet_samples(url, columns)
    return tar_samples(url, columns.caption_key, keep_members)
