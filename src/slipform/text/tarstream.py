"""A tar stream read member by member with each member's raw bytes, and written back unchanged.

Python's :mod:`tarfile` parses every header field and re-encodes headers when writing (~0.25 ms
per member each way, more than planting a caption costs on a fast core); planting needs only
a member's name, size and type, and copies the rest. So this reader parses just those (POSIX
ustar, PAX ``path``/``size`` records, GNU long names), checks each header's checksum as tarfile
does, and keeps the header blocks (extended headers included) as read: a member is written
back as its exact bytes, header and padding included. gzip, bzip2 and xz streams are read
through their decompressors (the output is a plain tar). The archive ends at its first zero
block, as :mod:`tarfile` reads it; a stream ending without one was cut (:class:`CutTar`).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import tarfile
from dataclasses import dataclass

BLOCK = 512
RECORD = 20 * BLOCK  # tarfile's and GNU tar's record: archives are padded to a multiple of it
_ZERO = bytes(BLOCK)
_EXTENDED = (b"x", b"g", b"L", b"K")  # PAX per-file and global headers, GNU long name and long link
_FILES = (b"0", b"\0", b"7")  # regular and contiguous files: what webdataset reads as members


class CutTar(Exception):
    """The stream ends or breaks inside (or right after) a member: ``where`` names it."""


@dataclass
class Member:
    """A member: its name, whether it is a regular file, its header blocks as read and its data."""

    name: str
    is_file: bool
    header: bytes
    data: bytes
    size: int

    def raw(self) -> bytes:
        """The member's bytes in a tar: header, data, zero padding to the block."""
        return self.header + self.data + bytes(-self.size % BLOCK)


def decompressed(stream):
    """``stream`` itself, or its gzip/bzip2/xz decompressor (told by the first bytes, as tarfile does)."""
    head = stream.peek(6)[:6] if hasattr(stream, "peek") else b""
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if head.startswith(b"BZh"):
        return bz2.BZ2File(stream)
    if head.startswith(b"\xfd7zXZ"):
        return lzma.LZMAFile(stream)
    return stream


def _number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # base-256, for sizes over 8 GiB
        return int.from_bytes(field[1:], "big") if field[0] == 0x80 else -1
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _checksum_ok(block: bytes) -> bool:
    try:
        stored = _number(block[148:156])
    except ValueError:
        return False
    unsigned = sum(block) - sum(block[148:156]) + 256  # the checksum field counts as spaces
    if stored == unsigned:
        return True
    signed = sum(struct.unpack_from("148b8x356b", block)) + 256  # old tars summed signed bytes
    return stored == signed


def _read(stream, n: int, where: str) -> bytes:
    data = stream.read(n)
    while len(data) < n:
        more = stream.read(n - len(data))
        if not more:
            raise CutTar(f"cannot read {where} (unexpected end of data)")
        data += more
    return data


def _pax(payload: bytes) -> dict[str, str]:
    """The records (``"LEN key=value\\n"``) of a PAX extended header."""
    out, pos = {}, 0
    while pos < len(payload) and payload[pos:pos + 1] not in (b"\0", b""):
        space = payload.index(b" ", pos)
        length = int(payload[pos:space])
        key, _, value = payload[space + 1:pos + length - 1].partition(b"=")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


def members(stream, keep=lambda name: True):
    """The members of tar ``stream`` in order; a member's data is kept only if ``keep(name)`` (else b"").

    Raises :class:`CutTar` for a cut stream, a bad header or a stream ending without the
    end-of-archive block (unless it held nothing at all), naming the member.
    """
    extended, pax, long_name, last, any_block = b"", {}, None, None, False
    where = lambda: f"the header after member {last}" if last else "the first header"  # noqa: E731
    while True:
        block = stream.read(BLOCK)
        while 0 < len(block) < BLOCK:
            more = stream.read(BLOCK - len(block))
            if not more:
                break
            block += more
        if not block:
            if any_block:
                raise CutTar(f"it ends after member {last} without the end-of-archive blocks" if last
                             else "it ends without the end-of-archive blocks")
            return
        if len(block) < BLOCK:
            raise CutTar(f"cannot read {where()} (unexpected end of data)")
        any_block = True
        if block == _ZERO:
            return
        if not _checksum_ok(block):
            raise CutTar(f"cannot read {where()} (bad checksum)")
        kind, size = block[156:157], _number(block[124:136])
        if kind in _EXTENDED:
            payload = _read(stream, size + (-size % BLOCK), where())
            if kind == b"x":
                pax.update(_pax(payload[:size]))
            elif kind == b"L":
                long_name = payload[:size].rstrip(b"\0").decode("utf-8", "surrogateescape")
            extended += block + payload
            continue
        if "size" in pax:
            size = int(pax["size"])
        name = pax.get("path") or long_name
        if name is None:
            name = block[:100].split(b"\0", 1)[0]
            if block[257:263] == b"ustar\0" and block[345:500].strip(b"\0"):  # POSIX: a prefix folder
                name = block[345:500].split(b"\0", 1)[0] + b"/" + name
            name = name.decode("utf-8", "surrogateescape")
        if kind == b"\0" and name.endswith("/"):  # an old-style folder, as tarfile reads it
            kind = b"5"
        if kind == b"5":
            name = name.rstrip("/")
        is_file = kind in _FILES
        stored = size if is_file or kind not in (b"1", b"2", b"3", b"4", b"5", b"6") else 0  # links, dirs: no data
        data = _read(stream, stored + (-stored % BLOCK), f"member {name}") if stored else b""
        yield Member(name, is_file, extended + block, data[:stored] if keep(name) else b"", stored)
        extended, pax, long_name, last = b"", {}, None, name


class TarOut:
    """A tar written member by member: copied members as their raw bytes, new ones with tarfile's PAX headers."""

    def __init__(self, path):
        self.file = open(path, "wb")
        self.written = 0

    def copy(self, member: Member) -> None:
        self._write(member.raw())

    def add(self, info: tarfile.TarInfo, data: bytes) -> None:
        info.size = len(data)
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape") + data + bytes(-len(data) % BLOCK))

    def _write(self, raw: bytes) -> None:
        self.file.write(raw)
        self.written += len(raw)

    def close(self) -> None:
        end = 2 * BLOCK
        self.file.write(bytes(end + (-(self.written + end) % RECORD)))  # as tarfile ends an archive
        self.file.close()


def header_info(member: Member) -> tarfile.TarInfo:
    """The TarInfo of a member's own header block (its metadata: mode, mtime, owner), named as the member."""
    info = tarfile.TarInfo.frombuf(member.header[-BLOCK:], "utf-8", "surrogateescape")
    info.name = member.name
    return info
