"""The runner's sink: negatives and skip records written in input order, resumable.

Two kinds, one ``write(records, skips)``:

- :class:`AppendSink` appends to one file with one ``write`` system call per chunk, so a
  ``kill -9`` leaves at most one partial line; reopening repairs that line and reports the ids
  already written (planted or skipped), which the run then leaves out.
- :class:`ShardSink` writes one shard of a sharded run to temporary files named for the attempt,
  then ``commit`` renames them into place and creates the shard's done marker (holding its
  summary), all under the shard's lock. A shard is finished once its marker exists, and a
  finished shard is never touched: an attempt that finds the marker at commit time (a stale
  duplicate of a retried shard) deletes its own files instead. An attempt that died before
  its marker leaves only files that the rerun's attempt replaces.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from pathlib import Path


def skipped_path(output: Path) -> Path:
    return output.with_name(output.name[:-len(".jsonl")] + ".skipped.jsonl" if output.name.endswith(".jsonl")
                            else output.name + ".skipped.jsonl")


def shards_dir(output: Path) -> Path:
    """Where a sharded run (the Ray engine) keeps its shard files and done markers."""
    return output.with_name(output.name + ".shards")


RERUN_KEY = {"input": "another input file (its path, size or modification time differ)",
             "settings": "other planting settings", "shard": "another shard"}


def check_rerun(output: Path, key: dict) -> None:
    """Refuse to resume ``output`` when what wrote it differs from ``key`` (:data:`RERUN_KEY`).

    ``OUTPUT.plan.json`` keeps the key of the run that wrote the output; an output without one
    (a fresh run, or one written before the plan was kept) takes this run's key.
    """
    plan = output.with_name(output.name + ".plan.json")
    written = any(p.exists() and p.stat().st_size for p in (output, skipped_path(output)))
    if written and plan.exists():
        old = json.loads(plan.read_text())
        changed = [RERUN_KEY[what] for what in key if old.get(what) != key[what]]
        if changed:
            raise ValueError(f"{output} was planted from {' and '.join(changed)}; resuming it would mix two "
                             f"runs' negatives: delete it and {skipped_path(output).name}, or choose another output")
    output.parent.mkdir(parents=True, exist_ok=True)
    plan.write_text(json.dumps(key))


def write_lines(fd: int, rows: list[dict]) -> None:
    if not rows:
        return
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def repair_and_read_ids(path: Path) -> set[str]:
    """Drop a partial last line left by a killed run; return the ids the file holds."""
    if not path.exists():
        return set()
    with open(path, "rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            f.truncate(cut)
            data = data[:cut]
    ids = set()
    for line in data.splitlines():
        try:
            ids.add(str(json.loads(line)["id"]))
        except (ValueError, KeyError, TypeError):
            continue
    return ids


class AppendSink:
    """``output`` and its skip file, opened for appending after repair; ``done`` holds their ids."""

    def __init__(self, output: Path):
        self.output, self.skipped = output, skipped_path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        self.done = repair_and_read_ids(output) | repair_and_read_ids(self.skipped)
        self._out = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._skip = os.open(self.skipped, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, records: list[dict], skips: list[dict]) -> None:
        write_lines(self._out, records)
        write_lines(self._skip, skips)

    def close(self) -> None:
        os.close(self._out)
        os.close(self._skip)


class ShardSink:
    """One attempt at writing shard ``name`` into ``folder``: temporary files until :meth:`commit`."""

    def __init__(self, folder: Path, name: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.final = folder / f"{name}.jsonl"
        self.final_skipped = folder / f"{name}.skipped.jsonl"
        self.marker = folder / f"{name}.done"
        self.attempt = attempt = uuid.uuid4().hex[:12]
        self.tmp = folder / f"{name}.jsonl.{attempt}.tmp"
        self.tmp_skipped = folder / f"{name}.skipped.jsonl.{attempt}.tmp"
        self.extra: list[tuple[Path, Path]] = []  # (temporary, final) files an owner writes beside (a tar, a Parquet)
        self.done: set[str] = set()  # a shard is written whole or not at all
        self._out = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self._skip = os.open(self.tmp_skipped, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)

    def write(self, records: list[dict], skips: list[dict]) -> None:
        write_lines(self._out, records)
        write_lines(self._skip, skips)

    def close(self) -> None:
        if self._out is not None:  # once: a closed descriptor's number may belong to another file by now
            os.close(self._out)
            os.close(self._skip)
            self._out = self._skip = None

    def commit(self, summary: dict) -> bool:
        """Put the shard in place and mark it done; False (nothing changed) if it was already done.

        Check, renames and marker happen under the shard's lock, so a stale attempt committing
        at the same moment as a fresh one waits, then finds the marker and deletes its files.
        """
        self.close()
        for path in (self.tmp, self.tmp_skipped, *(tmp for tmp, _ in self.extra)):
            with open(path, "rb") as f:
                os.fsync(f.fileno())
        with open(self.marker.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.marker.exists():
                self.discard()
                return False
            for tmp, final in self.extra:
                os.replace(tmp, final)
            os.replace(self.tmp_skipped, self.final_skipped)
            os.replace(self.tmp, self.final)
            tmp_marker = self.marker.with_name(self.tmp.name + ".done")
            tmp_marker.write_text(json.dumps(summary))
            os.replace(tmp_marker, self.marker)
        return True

    def discard(self) -> None:
        self.close()
        for path in (self.tmp, self.tmp_skipped, *(tmp for tmp, _ in self.extra)):
            path.unlink(missing_ok=True)


def done_shards(folder: Path, names: list[str] | None = None) -> dict[str, dict]:
    """The finished shards in ``folder`` (of ``names``, else all ``part-*``): name -> the summary its marker holds."""
    if not folder.is_dir():
        return {}
    if names is not None:
        return {n: json.loads((folder / f"{n}.done").read_text()) for n in names if (folder / f"{n}.done").exists()}
    return {p.name[:-len(".done")]: json.loads(p.read_text()) for p in sorted(folder.glob("part-*.done"))}


def concatenate(parts: list[Path], target: Path) -> None:
    """Write ``parts`` one after the other into ``target``, atomically."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                while buf := f.read(1 << 22):
                    out.write(buf)
    os.replace(tmp, target)
