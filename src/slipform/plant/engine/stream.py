"""Captions to chunks of work, and chunks' results into a sink and a summary, in input order.

Screening (empty, too long, not English) and bad input lines are decided here, on the side
that reads; each chunk carries the skips met since the previous chunk, and the sink writes a
chunk's skips sorted by line, so the skip file is in input order whatever the chunking, the
number of processes or the sharding. Every skip record names the file and line it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...text.io import BAD_INPUT_KINDS, BadLine, Caption
from ..core.planter import screen
from .summary import Summary, skip_kind


@dataclass
class Chunk:
    items: list[Caption]  # to plant
    skips: list[dict] = field(default_factory=list)  # decided before parsing, with file and line
    read: int = 0
    resumed: int = 0
    warnings: list[str] = field(default_factory=list)  # bad input lines, to show the user


def chunks(source, file: str, done: set[str], lexicon, max_words: int, chunk_size: int):
    """Chunks of at most ``chunk_size`` captions to plant from ``source``; ids in ``done`` are left out."""
    chunk = Chunk([])
    for item in source:
        if isinstance(item, BadLine):
            key = item.id or f"line:{item.line}"
            if key in done:
                continue
            chunk.read += 1
            chunk.skips.append({"id": key, "reason": item.kind, "file": file, "line": item.line,
                                "message": item.reason})
            chunk.warnings.append(item.reason)
            continue
        chunk.read += 1
        if item.id in done:
            chunk.resumed += 1
            continue
        reason = screen(item.caption, lexicon, max_words)
        if reason:
            chunk.skips.append({"id": item.id, "reason": reason, "file": file, "line": item.line})
            continue
        chunk.items.append(item)
        if len(chunk.items) == chunk_size:
            yield chunk
            chunk = Chunk([])
    if chunk.items or chunk.skips or chunk.read:
        yield chunk


def account(summary: Summary, sink, file: str, chunk: Chunk, records: list[dict], skipped: list[dict],
            rejected) -> None:
    """Write one planted chunk to ``sink`` and count it in ``summary``."""
    lines = {}
    for item in chunk.items:
        lines.setdefault(item.id, item.line)
    late = [{**s, "file": file, "line": lines.get(s["id"])} for s in skipped]
    skips = sorted(chunk.skips + late, key=lambda s: s["line"] if s["line"] is not None else -1)
    sink.write(records, skips)
    summary.read += chunk.read
    summary.resumed += chunk.resumed
    summary.negatives += len(records)
    summary.planted += len({r["id"] for r in records})
    summary.rejected.update(rejected)
    for s in chunk.skips + skipped:
        summary.skipped[skip_kind(s["reason"])] += 1


def report_unshown(summary: Summary, shown: int, skip_file, log) -> None:
    """Warn once about the bad input lines beyond the ``shown`` ones that were logged one by one."""
    bad = sum(n for reason, n in summary.skipped.items() if reason in BAD_INPUT_KINDS)
    if bad > shown:
        log(f"warning: {bad - shown} more input problems not shown; see {skip_file}")
