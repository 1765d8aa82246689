"""Planting a caption file: a source, a pool and a sink, on one machine or on Ray.

- the source (:mod:`slipform.plant.engine.source`) reads the input, or one contiguous shard of it,
  as captions with their global ids and lines;
- the pool (:mod:`slipform.plant.engine.pool`) parses and plants chunks in this process, in local
  worker processes, or (``engine="ray"``, :mod:`slipform.plant.engine.ray_engine`) in Ray actors;
- the sink (:mod:`slipform.plant.engine.sink`) writes negatives and skips in input order: appended to
  one file and resumed by id (the local engine), or one shard at a time, atomically (Ray).

Output is JSON Lines written with one ``write`` system call per chunk of captions, so a
``kill -9`` leaves at most one partial line at the end. Re-running the same command repairs
that line, reads the ids already written (planted or skipped) and plants only the rest.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import asdict
from pathlib import Path

from ...text.io import Columns
from ...text.shards import ShardColumns
from ..core.backend import get_backend
from ..core.planter import ConcretePlant, PlantConfig
from .pool import LocalPool, fork_state
from .sink import AppendSink, check_rerun, skipped_path
from .source import Source, build_vocabulary, count_lines, input_key, plan_shards
from .stream import account, chunks, report_unshown
from .summary import Summary

ENGINES = ("local", "ray")
_input_key = input_key  # the vocabulary cache's key (kept for callers of the old name)


def plant_file(input: str | Path | list[str], output: str | Path, config: PlantConfig = PlantConfig(), *,
               fmt: str | None = None, columns: Columns | ShardColumns = Columns(), workers: int | None = None,
               num_shards: int | None = None, shard_id: int = 0, chunk_size: int = 256, progress: bool = True,
               max_messages: int = 20, log=None, engine: str = "local", ray_address: str | None = None,
               output_format: str = "jsonl") -> Summary:
    """Plant negatives for every caption of ``input`` into ``output`` (JSONL), resuming if it exists.

    ``input`` may also name shard files, webdataset tars or Parquet tables (a brace pattern, a
    list, ``pipe:`` commands; ``fmt`` ``"wds"`` or ``"parquet"``, ``columns`` a
    :class:`~slipform.text.shards.ShardColumns`): then ``output`` is a folder with one output per
    input file, in ``output_format`` (``jsonl``, ``wds`` or ``parquet``;
    :mod:`slipform.plant.engine.files`), and ``num_shards`` splits the list of files.

    ``engine="local"``: ``workers`` processes (default 1) on this machine; with ``num_shards``,
    only shard ``shard_id`` of the input is read (a SLURM array task). ``engine="ray"``: all
    ``num_shards`` shards (default: 64 MiB each, at least 8) on a Ray cluster (``ray_address``,
    else a local one) by ``workers`` actors (default: one per CPU of the cluster), written under
    ``OUTPUT.shards/`` and then concatenated into ``output``; a rerun plants the unfinished shards.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {ENGINES}")
    if num_shards is not None and (num_shards < 1 or not 0 <= shard_id < num_shards):
        raise ValueError(f"shard id must be in [0, {num_shards}), got {shard_id}")
    if workers is not None and workers < 1:
        raise ValueError("workers must be >= 1")
    log = log or (lambda msg: print(msg, file=sys.stderr))
    from .files import is_shard_input

    if is_shard_input(input, fmt):
        return _plant_shards(input, Path(output), config, fmt, columns, workers, num_shards, shard_id, chunk_size,
                             progress, max_messages, log, engine, ray_address, output_format)
    if output_format != "jsonl":
        raise ValueError(f"--output-format {output_format} needs shard input (.tar or .parquet files)")
    input, output = Path(input), Path(output)
    if engine == "ray":
        from .ray_engine import plant_ray

        return plant_ray(input, output, config, fmt=fmt, columns=columns, actors=workers, num_shards=num_shards,
                         chunk_size=chunk_size, progress=progress, max_messages=max_messages, log=log,
                         address=ray_address)
    start, before = time.perf_counter(), fork_state()
    source = Source(input, fmt, columns)  # raises InputError before any work
    if num_shards is not None and num_shards > 1:
        source.shard = plan_shards(input, source.fmt, num_shards, columns)[shard_id]
    check_rerun(output, {"input": input_key(input, source.fmt, asdict(columns)),  # never resume from another run
                         "settings": hashlib.blake2b(repr(config).encode(), digest_size=10).hexdigest(),
                         "shard": [num_shards, shard_id] if num_shards and num_shards > 1 else None})
    sink = AppendSink(output)
    summary = Summary(output=str(output))
    vocab = build_vocabulary(input, fmt, columns, config) if get_backend(config.backend).needs_vocabulary else None
    vocab_dict = vocab.to_dict() if vocab is not None else None
    lexicon = ConcretePlant(config).lexicon
    total = source.shard.lines if source.shard is not None else count_lines(input)
    pool, bar, messages = None, None, 0
    try:
        pool = LocalPool(workers or 1, config, vocab_dict, before)
        summary.startup_seconds = time.perf_counter() - start
        if progress:  # after the pool: tqdm's monitor thread would make forking unsafe
            from tqdm import tqdm

            bar = tqdm(total=total, unit=" captions", desc="plant", dynamic_ncols=True, file=sys.stderr)
        work = chunks(source, str(input), sink.done, lexicon, config.max_words, chunk_size)
        for chunk, records, skipped, rejected in pool.map(work):
            account(summary, sink, str(input), chunk, records, skipped, rejected)
            for warning in chunk.warnings:
                if messages < max_messages:
                    log(f"warning: {warning}")
                    messages += 1
            if bar is not None:
                bar.update(chunk.read)
                bar.set_postfix(planted=summary.planted, skipped=sum(summary.skipped.values()), refresh=False)
        if bar is not None:
            bar.total = bar.n  # the count of lines was an estimate (a CSV's header, blank or multi-line records)
    finally:
        sink.close()
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.close()
    report_unshown(summary, messages, skipped_path(output), log)
    summary.seconds = time.perf_counter() - start
    return summary


def _plant_shards(input, output: Path, config, fmt, columns, workers, num_shards, shard_id, chunk_size, progress,
                  max_messages, log, engine, ray_address, output_format) -> Summary:
    columns = columns if isinstance(columns, ShardColumns) else ShardColumns()
    if engine == "ray":
        from .ray_engine import plant_files_ray

        return plant_files_ray(input, output, config, fmt=fmt, columns=columns, output_format=output_format,
                               actors=workers, chunk_size=chunk_size, progress=progress, max_messages=max_messages,
                               log=log, address=ray_address)
    from .files import plant_files

    return plant_files(input, output, config, fmt=fmt, columns=columns, output_format=output_format, workers=workers,
                       num_shards=num_shards, shard_id=shard_id, chunk_size=chunk_size, progress=progress,
                       max_messages=max_messages, log=log, before=fork_state())


__all__ = ["ENGINES", "Summary", "build_vocabulary", "plant_file", "skipped_path"]
