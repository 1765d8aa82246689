"""The Ray engine: every shard of the input planted by a pool of Ray actors, then concatenated.

``pip install slipform[ray]``. The driver plans the shards (:mod:`slipform.plant.engine.source`), builds
the vocabulary and slot model once and shares it (``ray.put``); each actor loads spaCy, the
lexicon and the backend once and plants whole shards, reading its shard's bytes from the input
and writing the shard through a :class:`~slipform.plant.engine.sink.ShardSink` (temporary file,
rename, done marker) into ``OUTPUT.shards/``, a folder every node must see (shared storage on
a cluster). A killed actor is restarted and its shard retried; a rerun plants only the shards
without a done marker. Last, the shards are concatenated in order into ``OUTPUT`` and its skip
file: byte for byte what one process writes.

The driver shows one progress bar over all captions: each actor reports its shard's count after
every chunk to a small counter actor, which the driver polls (:class:`ShardProgress` sums them,
a retried shard starting again from zero). Input warnings are shown in input order, a shard's
once every shard before it is done, so they are the first ``max_messages`` one process shows.

Shard files (tars, Parquet; :func:`plant_files_ray`) are planted one task per input file by the
same actors, with the code one process runs (:mod:`slipform.plant.engine.files`), into the
output folder; there is nothing to concatenate.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections import deque
from dataclasses import asdict
from pathlib import Path

from ...text.io import BAD_INPUT_KINDS, Columns
from ..core.backend import get_backend
from ..core.planter import PlantConfig
from .pool import _WORKER, init_worker, limit_threads, plant_chunk
from .sink import ShardSink, concatenate, done_shards, shards_dir, skipped_path
from .source import Shard, Source, build_vocabulary, input_key, plan_shards
from .stream import account, chunks, report_unshown
from .summary import Summary

RETRIES = 3  # restarts of a dead actor, and retries of the shard it was planting
SHARD_BYTES = 64 << 20  # default shard size; at least DEFAULT_SHARDS shards
DEFAULT_SHARDS = 8
actors_up: list[dict] = []  # the last run's actors: pid and resident memory once loaded
FAULT_ENV = "SLIPFORM_FAULT_INJECT"  # tests: "SHARD:FLAG" kills the first attempt at shard SHARD mid-write


class ShardWorker:
    """One actor: the planter loaded once, planting one shard per call."""

    def __init__(self, config: PlantConfig, vocab_dict: dict | None):
        limit_threads(1)
        init_worker(config, vocab_dict, threads=1)
        self.config = config

    def ready(self) -> dict:
        """The actor's process and its resident memory once loaded (MB; None off Linux)."""
        try:
            status = Path("/proc/self/status").read_text().split("VmRSS:")[1]
            rss = int(status.split()[0]) / 1024
        except (OSError, IndexError, ValueError):
            rss = None
        return {"pid": os.getpid(), "rss_mb": rss}

    def plant_file(self, shard, folder: str, columns, output_format: str, chunk_size: int, max_messages: int,
                   counter=None) -> dict:
        """Plant one input file (a tar or Parquet shard, :mod:`slipform.plant.engine.files`) whole."""
        from .files import plant_one

        def report(read: int, n: int) -> None:
            if counter is not None:
                counter.set.remote(shard.index, read)  # not waited for
            _maybe_die(shard, n)

        return plant_one(shard, Path(folder), columns, output_format, _WORKER["plant"].lexicon, self.config.max_words,
                         chunk_size, max_messages, plant_chunk, report)

    def plant(self, input: str, fmt: str, columns: Columns, shard: Shard, folder: str, chunk_size: int,
              max_messages: int, counter=None) -> dict:
        start = time.perf_counter()
        sink = ShardSink(Path(folder), shard.name)
        summary, warnings = Summary(output=str(sink.final)), []
        try:
            work = chunks(Source(input, fmt, columns, shard), input, set(), _WORKER["plant"].lexicon,
                          self.config.max_words, chunk_size)
            for n, chunk in enumerate(work):
                account(summary, sink, input, *plant_chunk(chunk))
                warnings += chunk.warnings[:max(0, max_messages - len(warnings))]
                if counter is not None:
                    counter.set.remote(shard.index, summary.read)  # not waited for
                _maybe_die(shard, n)
        except BaseException:
            sink.discard()
            raise
        summary.seconds = time.perf_counter() - start
        result = {**summary.as_dict(), "warnings": warnings}
        sink.commit(result)
        return result


class Counter:
    """An actor holding each running shard's count of captions read, for the driver's bar."""

    def __init__(self):
        self.counts: dict[int, int] = {}

    def set(self, index: int, n: int) -> None:
        self.counts[index] = n

    def get(self) -> dict[int, int]:
        return dict(self.counts)


class ShardProgress:
    """Captions read over all shards: finished shards' counts, plus running ones' latest reports.

    ``initial`` counts shards finished by an earlier run. A shard's report replaces its last one
    (a retried shard counts from zero again) until :meth:`finish` fixes its count.
    """

    def __init__(self, initial: int = 0):
        self.finished, self.running = initial, {}

    def report(self, counts: dict[int, int]) -> None:
        self.running.update({i: n for i, n in counts.items() if i in self.running})

    def start(self, index: int) -> None:
        self.running[index] = 0

    def finish(self, index: int, read: int) -> None:
        self.running.pop(index, None)
        self.finished += read

    @property
    def n(self) -> int:
        return self.finished + sum(self.running.values())


class InOrder:
    """Shards' warnings released in shard order: a shard's once all shards before it are done."""

    def __init__(self, order: list[int], max_messages: int):
        self.order, self.pos, self.left, self.held = order, 0, max_messages, {}

    def done(self, index: int, warnings: list[str]) -> list[str]:
        """The warnings that may be shown now that shard ``index`` is done."""
        self.held[index] = warnings
        out = []
        while self.pos < len(self.order) and self.order[self.pos] in self.held:
            shown = self.held.pop(self.order[self.pos])[:self.left]
            out += shown
            self.left -= len(shown)
            self.pos += 1
        return out


def _maybe_die(shard: Shard, chunk_index: int) -> None:
    """Fault injection for the tests: the first attempt at one shard dies after its first chunk."""
    spec = os.environ.get(FAULT_ENV)
    if not spec or chunk_index != 0:
        return
    index, flag = spec.split(":", 1)
    if int(index) == shard.index and not os.path.exists(flag):
        Path(flag).write_text("died")
        os._exit(1)


def _check_manifest(folder: Path, key: dict, num_shards: int | None) -> int | None:
    """The run's shard count, checking that the folder's shards come from this input and settings."""
    manifest = folder / "plan.json"
    if manifest.exists():
        old = json.loads(manifest.read_text())
        if old["key"] != key or (num_shards is not None and old["num_shards"] != num_shards):
            raise ValueError(f"{folder} holds shards of another input, other settings or another --num-shards "
                             f"({old['num_shards']}); delete it or choose another output")
        return old["num_shards"]
    return num_shards


def plant_ray(input: Path, output: Path, config: PlantConfig, *, fmt: str | None, columns: Columns,
              actors: int | None, num_shards: int | None, chunk_size: int, progress: bool, max_messages: int,
              log, address: str | None) -> Summary:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("the ray engine needs Ray: pip install 'slipform[ray]'") from exc
    start = time.perf_counter()
    source = Source(input, fmt, columns)  # raises InputError before any work
    folder = shards_dir(output)
    key = {"input": input_key(input, source.fmt, asdict(columns)),
           "config": hashlib.blake2b(repr(config).encode(), digest_size=10).hexdigest()}
    num_shards = _check_manifest(folder, key, num_shards)
    if num_shards is None:
        num_shards = max(DEFAULT_SHARDS, math.ceil(input.stat().st_size / SHARD_BYTES))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.json").write_text(json.dumps({"key": key, "num_shards": num_shards}))
    plan = plan_shards(input, source.fmt, num_shards, columns)
    done = done_shards(folder)
    todo = [s for s in plan if s.name not in done]
    summary = Summary(output=str(output))
    for d in done.values():  # as one process counts a rerun: captions already done, bad lines not read
        bad = sum(n for reason, n in d["skipped"].items() if reason in BAD_INPUT_KINDS)
        summary.read += d["read"] - bad
        summary.resumed += d["read"] - bad
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    shown = 0
    try:
        if todo:
            vocab = build_vocabulary(input, source.fmt, columns, config) \
                if get_backend(config.backend).needs_vocabulary else None

            def call(actor, shard, counter):
                return actor.plant.remote(str(input), source.fmt, columns, shard, str(folder), chunk_size, max_messages,
                                          counter)

            shown = _run(ray, todo, call, config, vocab, actors, progress, max_messages, log, summary, start,
                         (sum(s.lines for s in plan), summary.read))
        for shard in plan:  # what attempts that died left behind (every shard is done now)
            for tmp in folder.glob(f"{shard.name}.*.tmp"):
                tmp.unlink(missing_ok=True)
        concatenate([folder / f"{s.name}.jsonl" for s in plan], output)
        concatenate([folder / f"{s.name}.skipped.jsonl" for s in plan], skipped_path(output))
    finally:
        if started:
            ray.shutdown()
    report_unshown(summary, shown, skipped_path(output), log)
    summary.seconds = time.perf_counter() - start
    return summary


def _run(ray, todo: list, call, config: PlantConfig, vocab, actors: int | None, progress: bool, max_messages: int,
         log, summary: Summary, start: float, bar_span: tuple[int, int]) -> int:
    """Plant the shards of ``todo`` (``call(actor, shard, counter)`` starts one), counting them into
    ``summary``; the number of warnings shown.

    ``bar_span``: the bar's estimated total (the plan's lines; 0: unknown) and its start (captions
    done by an earlier run, as one process counts them on a rerun).
    """
    vocab_ref = ray.put(vocab.to_dict() if vocab is not None else None)
    n = min(actors or max(1, int(ray.cluster_resources().get("CPU", 1))), len(todo))
    remote = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(ShardWorker)
    pool = [remote.remote(config, vocab_ref) for _ in range(n)]
    actors_up.clear()
    actors_up.extend(ray.get([a.ready.remote() for a in pool]))
    summary.startup_seconds = time.perf_counter() - start
    bar, counter, tally = None, None, ShardProgress(bar_span[1])
    if progress:
        import sys

        from tqdm import tqdm

        mb = [a["rss_mb"] for a in actors_up if a["rss_mb"] is not None]
        log(f"ray: {n} actors loaded in {summary.startup_seconds:.1f}s"
            + (f", {max(mb):.0f} MB resident each at most" if mb else ""))
        counter = ray.remote(num_cpus=0)(Counter).remote()
        bar = tqdm(total=bar_span[0] or None, initial=bar_span[1], unit=" captions", desc="plant (ray)",
                   dynamic_ncols=True, file=sys.stderr)
    queue, running, shown = deque(todo), {}, 0
    in_order = InOrder([s.index for s in todo], max_messages)

    def submit(actor) -> None:
        shard = queue.popleft()
        ref = call(actor, shard, counter)
        running[ref] = (actor, shard)
        tally.start(shard.index)

    try:
        for actor in pool:
            submit(actor)
        while running:
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5 if bar is not None else None)
            for ref in ready:
                actor, shard = running.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    raise RuntimeError(f"shard {shard.name} failed after {RETRIES} retries: {exc}") from None
                summary.add(Summary.from_dict(result))
                tally.finish(shard.index, result["read"])
                for warning in in_order.done(shard.index, result["warnings"]):
                    log(f"warning: {warning}")
                    shown += 1
                if queue:
                    submit(actor)
            if bar is not None:
                tally.report(ray.get(counter.get.remote()))
                bar.update(tally.n - bar.n)
                bar.set_postfix(shards=f"{len(todo) - len(queue) - len(running)}/{len(todo)}",
                                planted=summary.planted, refresh=False)
        if bar is not None:
            bar.total = bar.n  # the plan counted lines; the bar ends at the captions read
    finally:
        if bar is not None:
            bar.close()
        for actor in pool:
            ray.kill(actor)
        if counter is not None:
            ray.kill(counter)
    return shown


def plant_files_ray(spec, output: Path, config: PlantConfig, *, fmt: str | None, columns, output_format: str,
                    actors: int | None, chunk_size: int, progress: bool, max_messages: int, log,
                    address: str | None) -> Summary:
    """Shard files (tars, Parquet) on Ray: one task per input file, written into folder ``output``.

    Ray Data's ``read_webdataset`` decodes samples and its ``write_webdataset`` writes new members,
    so neither keeps a tar's members byte for byte; the actors plant each file with the code one
    process runs (:func:`slipform.plant.engine.files.plant_one`), so the outputs are the same bytes.
    """
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("the ray engine needs Ray: pip install 'slipform[ray]'") from exc
    from .files import check_manifest, plan_files, remove_leftovers, resumed_counts, run_key, shard_vocabulary

    start = time.perf_counter()
    plan = plan_files(spec, fmt, columns, output_format)  # InputError before any work
    check_manifest(output, run_key(plan, columns, output_format, config))
    done = done_shards(output, [s.name for s in plan])
    todo = [s for s in plan if s.name not in done]
    summary = Summary(output=str(output))
    resumed_counts(summary, done)
    started = not ray.is_initialized()
    if started and todo:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    shown = 0
    try:
        if todo:
            vocab = shard_vocabulary(plan, columns, config) if get_backend(config.backend).needs_vocabulary else None

            def call(actor, shard, counter):
                return actor.plant_file.remote(shard, str(output), columns, output_format, chunk_size, max_messages,
                                               counter)

            shown = _run(ray, todo, call, config, vocab, actors, progress, max_messages, log, summary, start,
                         (sum(s.lines for s in plan), summary.read))
        remove_leftovers(output, plan)
    finally:
        if started and todo:
            ray.shutdown()
    report_unshown(summary, shown, f"{output}/*.skipped.jsonl", log)
    summary.seconds = time.perf_counter() - start
    return summary
