"""Planting a list of shard files (webdataset tars, Parquet tables): one input file, one natural shard.

Each input file is planted whole, into files named after it in the output folder::

    OUT/00017.jsonl            the negative records (as for a caption file)
    OUT/00017.skipped.jsonl    what was skipped and why, naming shard and member
    OUT/00017.tar              --output-format wds: every member of the input byte for byte, each
                               planted sample's .json holding its ``negatives`` list
    OUT/00017.parquet          --output-format parquet: the side-car, key -> negatives
    OUT/00017.done             the marker: the file is finished (its summary)

A file's outputs are written to temporary files and renamed into place with its done marker
(:class:`~slipform.plant.engine.sink.ShardSink`), so a killed run, worker or actor leaves no
half file, and a rerun plants only the files without a marker. Everything written depends on
the input file and the settings alone (never on chunk boundaries, workers or the engine):
1 process, N workers, SLURM-style shards (``--num-shards/--shard-id``: a contiguous range of the
files) and Ray (:mod:`slipform.plant.engine.ray_engine`, one task per file) write the same bytes.
The sample key is the caption's id. A tar's samples are held one chunk at a time, and the pool
keeps at most two chunks per worker in flight, so memory is bounded by chunks, not shards.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import sys
import tarfile
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass
from pathlib import Path

from ...text.io import BAD_INPUT_KINDS, InputError
from ...text.shards import (
    SHARD_FORMATS,
    ShardColumns,
    TarSample,
    check_parquet,
    expand_urls,
    shard_format,
    shard_samples,
    shard_stem,
)
from ...text.tarstream import TarOut, header_info
from ..core.record import sample_negatives, sidecar_schema, sidecar_table
from .sink import ShardSink, done_shards
from .stream import Chunk, account, chunks, report_unshown
from .summary import Summary

OUTPUT_FORMATS = ("jsonl", "wds", "parquet")
ROW_GROUP = 4096  # side-car rows per Parquet row group: fixed, so that the bytes never depend on chunks


@dataclass(frozen=True)
class FileShard:
    """Input file ``index`` of ``count``: its URL, format, output name and (Parquet) rows."""

    index: int
    count: int
    url: str
    fmt: str
    name: str
    lines: int = 0  # rows of a Parquet file (its share of the bar); 0 for a tar, whose samples are not counted first


def is_shard_input(spec, fmt: str | None = None) -> bool:
    """Whether ``spec`` names shard files (tars, Parquet) rather than one caption file."""
    if fmt is not None:
        return fmt in SHARD_FORMATS
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str):
        return True
    urls = expand_urls(spec) if ("{" in spec or "," in spec or "::" in spec or spec.startswith("pipe:")) else [spec]
    return bool(urls) and shard_format(urls[0]) is not None


def plan_files(spec, fmt: str | None, columns: ShardColumns, output_format: str) -> list[FileShard]:
    """The input files, checked before any work: formats, names, local files, Parquet columns."""
    urls = expand_urls(spec)
    if not urls:
        raise InputError(f"no input shards in {spec!r}")
    fmts = [fmt or shard_format(u) for u in urls]
    unknown = [u for u, f in zip(urls, fmts) if f not in SHARD_FORMATS]
    if unknown or len(set(fmts)) > 1:
        raise InputError(f"cannot plant {unknown[0] if unknown else urls[0]}: the inputs must all be .tar shards "
                         "or all .parquet files (or pass --format wds/parquet)")
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {output_format!r}; choose from {OUTPUT_FORMATS}")
    if output_format == "wds" and fmts[0] != "wds":
        raise ValueError("--output-format wds copies tar members: it needs .tar input (for Parquet: parquet or jsonl)")
    names = [shard_stem(u) for u in urls]
    dup = [n for n, k in Counter(names).items() if k > 1]
    if dup:
        raise InputError(f"two input shards are named {dup[0]!r}; their outputs would clash")
    for u in urls:
        if not u.startswith("pipe:") and "://" not in u and not Path(u).exists():
            raise InputError(f"input not found: {u}")
    rows = [check_parquet(u, columns) if f == "parquet" else 0 for u, f in zip(urls, fmts)]
    return [FileShard(i, len(urls), u, f, n, r) for i, (u, f, n, r) in enumerate(zip(urls, fmts, names, rows))]


def files_key(plan: list[FileShard], *parts) -> str:
    """A short hash naming the input files as they are now (local ones by size and mtime) and ``parts``."""
    stats = []
    for s in plan:
        local = not s.url.startswith("pipe:") and "://" not in s.url
        st = Path(s.url).stat() if local else None
        stats.append([str(Path(s.url).resolve()) if local else s.url, st.st_size if st else None,
                      st.st_mtime_ns if st else None])
    return hashlib.blake2b(json.dumps([stats, *parts]).encode(), digest_size=10).hexdigest()


def check_manifest(folder: Path, key: dict) -> None:
    """Refuse a folder holding outputs of other inputs or settings; record this run's otherwise."""
    manifest = folder / "plan.json"
    if manifest.exists():
        if json.loads(manifest.read_text()) != key:
            raise ValueError(f"{folder} holds outputs of other input shards or other settings; delete it or "
                             "choose another output folder")
        return
    folder.mkdir(parents=True, exist_ok=True)
    tmp = manifest.with_name(f".plan.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(key))
    os.replace(tmp, manifest)


def shard_vocabulary(plan: list[FileShard], columns: ShardColumns, config):
    """The vocabulary of the first ``vocab_sample`` captions over the files in order (every shard reads the same)."""
    from .source import vocabulary_from

    key = files_key(plan, asdict(columns), config.vocab_sample, config.spacy_model, config.lexicon_path,
                    config.lexicon_source)

    def items():
        for shard in plan:
            for item, _ in shard_samples(shard.url, shard.fmt, columns):
                yield item

    return vocabulary_from(f"files-{key}", items, config)


class _Tap:
    """The items of ``pairs`` for :func:`~slipform.plant.engine.stream.chunks`, keeping the samples aside."""

    def __init__(self, pairs, keep: bool):
        self.pairs, self.keep, self.taken = pairs, keep, []

    def __iter__(self):
        for item, sample in self.pairs:
            if self.keep and sample is not None:
                self.taken.append(sample)
            if item is not None:
                yield item

    def take(self) -> list[TarSample]:
        out, self.taken = self.taken, []
        return out


def file_chunks(shard: FileShard, columns: ShardColumns, lexicon, max_words: int, chunk_size: int,
                keep_members: bool):
    """``(chunk, samples)`` of one file: the chunk to plant and the tar samples it covers, in order."""
    tap = _Tap(shard_samples(shard.url, shard.fmt, columns, keep_members), keep_members)
    any_chunk = False
    for chunk in chunks(tap, shard.url, set(), lexicon, max_words, chunk_size):
        any_chunk = True
        yield chunk, tap.take()
    rest = tap.take()
    if rest or not any_chunk:  # loose members after the last caption; or nothing at all
        yield Chunk([]), rest


class _TarOut:
    """The output tar: members copied as their raw bytes (headers too), each planted sample's ``.json``
    given its negatives (a new header from the old one's metadata, or the sample's first member's)."""

    def __init__(self, path: Path):
        self.tar = TarOut(path)

    def write(self, samples: list[TarSample], by_key: dict[str, list[dict]]) -> None:
        for sample in samples:
            records = by_key.get(sample.key) if sample.key is not None else None
            if not records:
                for member in sample.members:
                    self.tar.copy(member)
                continue
            negatives, found = sample_negatives(records), False
            for member in sample.members:
                if member.name != f"{sample.key}.json":
                    self.tar.copy(member)
                    continue
                found = True
                meta = json.loads(member.data)  # the reader refused the sample if this is not a JSON object
                self.tar.add(header_info(member), _json({**meta, "negatives": negatives}))
            if not found:  # a new member, its metadata the sample's first member's: fixed by the input
                info = header_info(sample.members[0])
                info.name, info.mode, info.type = f"{sample.key}.json", 0o644, tarfile.REGTYPE
                self.tar.add(info, _json({"negatives": negatives}))

    def close(self) -> None:
        self.tar.close()


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


class _SidecarOut:
    """The side-car Parquet file: (key, caption, negatives) rows in fixed-size row groups."""

    def __init__(self, path: Path):
        import pyarrow.parquet as pq

        self.writer = pq.ParquetWriter(path, sidecar_schema())
        self.rows: list = []

    def write(self, samples, by_key: dict[str, list[dict]]) -> None:
        self.rows += [(key, records[0]["caption"], records) for key, records in by_key.items()]
        while len(self.rows) >= ROW_GROUP:
            self.writer.write_table(sidecar_table(self.rows[:ROW_GROUP]))
            del self.rows[:ROW_GROUP]

    def close(self) -> None:
        if self.rows:
            self.writer.write_table(sidecar_table(self.rows))
        self.writer.close()


class FileWriter:
    """One attempt at one input file's outputs: records, skips and the tar or side-car, with its summary."""

    def __init__(self, folder: Path, shard: FileShard, output_format: str, max_messages: int):
        self.shard, self.max_messages = shard, max_messages
        self.sink = ShardSink(folder, shard.name)
        self.summary, self.warnings = Summary(output=str(folder / shard.name)), []
        self.out = None
        if output_format in ("wds", "parquet"):
            suffix = ".tar" if output_format == "wds" else ".parquet"
            tmp = folder / f"{shard.name}{suffix}.{self.sink.attempt}.tmp"
            self.sink.extra.append((tmp, folder / f"{shard.name}{suffix}"))
            self.out = (_TarOut if output_format == "wds" else _SidecarOut)(tmp)
        self.start = time.perf_counter()

    def add(self, samples: list[TarSample], chunk: Chunk, records: list[dict], skipped: list[dict],
            rejected) -> None:
        account(self.summary, self.sink, self.shard.url, chunk, records, skipped, rejected)
        self.warnings += chunk.warnings[:max(0, self.max_messages - len(self.warnings))]
        if self.out is not None:
            by_key: dict[str, list[dict]] = {}
            for r in records:
                by_key.setdefault(str(r["id"]), []).append(r)
            self.out.write(samples, by_key)

    def commit(self) -> dict:
        if self.out is not None:
            self.out.close()
            self.out = None
        self.summary.seconds = time.perf_counter() - self.start
        result = {**self.summary.as_dict(), "warnings": self.warnings}
        self.sink.commit(result)
        return result

    def discard(self) -> None:
        if self.out is not None:
            try:
                self.out.close()
            except Exception:  # noqa: BLE001 - the attempt's files are deleted anyway
                pass
            self.out = None
        self.sink.discard()


def plant_one(shard: FileShard, folder: Path, columns: ShardColumns, output_format: str, lexicon, max_words: int,
              chunk_size: int, max_messages: int, plant, report=None) -> dict:
    """Plant one input file in this process with ``plant(chunk)``; its summary (and warnings). A Ray task."""
    writer = FileWriter(folder, shard, output_format, max_messages)
    try:
        for n, (chunk, samples) in enumerate(file_chunks(shard, columns, lexicon, max_words, chunk_size,
                                                          output_format == "wds")):
            writer.add(samples, *plant(chunk))
            samples = None  # not held while the next chunk is read: one chunk's members at a time
            if report is not None:
                report(writer.summary.read, n)
    except BaseException:
        writer.discard()
        raise
    return writer.commit()


def remove_leftovers(folder: Path, shards: list[FileShard]) -> None:
    """Delete what attempts killed before finishing ``shards`` left behind (every one of them is done now)."""
    for shard in shards:
        for tmp in folder.glob(f"{glob.escape(shard.name)}.*.tmp"):
            tmp.unlink(missing_ok=True)


def resumed_counts(summary: Summary, done: dict[str, dict]) -> None:
    """Count files finished by an earlier run as one process counts a rerun: captions done, bad input not read."""
    for d in done.values():
        bad = sum(n for reason, n in d["skipped"].items() if reason in BAD_INPUT_KINDS)
        summary.read += d["read"] - bad
        summary.resumed += d["read"] - bad


def plant_files(spec, output: Path, config, *, fmt: str | None, columns: ShardColumns, output_format: str,
                workers: int | None, num_shards: int | None, shard_id: int, chunk_size: int, progress: bool,
                max_messages: int, log, before) -> Summary:
    """Plant the files of ``spec`` (those of shard ``shard_id`` of ``num_shards``) into folder ``output``."""
    from ..core.backend import get_backend
    from ..core.planter import ConcretePlant
    from .pool import LocalPool

    start = time.perf_counter()
    plan = plan_files(spec, fmt, columns, output_format)  # InputError before any work
    output = Path(output)
    check_manifest(output, run_key(plan, columns, output_format, config))
    n = len(plan)
    mine = plan if not num_shards or num_shards == 1 else plan[n * shard_id // num_shards:n * (shard_id + 1) // num_shards]
    done = done_shards(output, [s.name for s in mine])
    todo = [s for s in mine if s.name not in done]
    summary = Summary(output=str(output))
    resumed_counts(summary, done)
    if not todo:
        summary.seconds = time.perf_counter() - start
        return summary
    vocab = shard_vocabulary(plan, columns, config) if get_backend(config.backend).needs_vocabulary else None
    lexicon = ConcretePlant(config).lexicon
    pool, bar, writer, shown = None, None, None, 0
    pending: deque = deque()

    def work():
        for shard in todo:
            for chunk, samples in file_chunks(shard, columns, lexicon, config.max_words, chunk_size,
                                              output_format == "wds"):
                pending.append((shard, samples))
                yield chunk

    try:
        pool = LocalPool(workers or 1, config, vocab.to_dict() if vocab is not None else None, before)
        summary.startup_seconds = time.perf_counter() - start
        if progress:  # after the pool: tqdm's monitor thread would make forking unsafe
            from tqdm import tqdm

            total = sum(s.lines for s in mine) if all(s.fmt == "parquet" for s in mine) else None
            bar = tqdm(total=total, initial=summary.read, unit=" samples", desc="plant", dynamic_ncols=True,
                       file=sys.stderr)
        for result in pool.map(work()):
            shard, samples = pending.popleft()
            if writer is None or writer.shard is not shard:
                if writer is not None:
                    summary.add(Summary.from_dict(writer.commit()))
                writer = FileWriter(output, shard, output_format, max_messages)
            writer.add(samples, *result)
            samples = None  # not held while the next chunk is read
            for warning in result[0].warnings:
                if shown < max_messages:
                    log(f"warning: {warning}")
                    shown += 1
            if bar is not None:
                bar.update(result[0].read)
                bar.set_postfix(planted=summary.planted + writer.summary.planted, refresh=False)
        if writer is not None:
            summary.add(Summary.from_dict(writer.commit()))
            writer = None
        remove_leftovers(output, todo)
    finally:
        if writer is not None:
            writer.discard()
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.close()
    report_unshown(summary, shown, f"{output}/*.skipped.jsonl", log)
    summary.seconds = time.perf_counter() - start
    return summary


def run_key(plan: list[FileShard], columns: ShardColumns, output_format: str, config) -> dict:
    """What a folder's outputs depend on: the input files, the columns, the format and the settings."""
    return {"input": files_key(plan, asdict(columns)), "output_format": output_format,
            "config": hashlib.blake2b(repr(config).encode(), digest_size=10).hexdigest()}
