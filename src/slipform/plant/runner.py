"""Streaming a caption file through ConcretePlant: shards, worker processes, resume.

Output is JSON Lines written with one ``write`` system call per chunk of captions, so a
``kill -9`` leaves at most one partial line at the end. Re-running the same command repairs
that line, reads the ids already written (planted or skipped) and plants only the rest.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing as mp
import os
import sys
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..text.io import BAD_INPUT_KINDS, BadLine, Caption, Columns, read_captions
from .backend import get_backend
from .core import ConcretePlant, PlantConfig, screen
from .embed import encoder_loaded


@dataclass
class Summary:
    read: int = 0
    planted: int = 0
    negatives: int = 0
    resumed: int = 0
    skipped: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)  # proposals refused by the checks, by reason
    seconds: float = 0.0
    startup_seconds: float = 0.0  # loading the pipeline, vocabulary and embeddings
    output: str = ""

    def as_dict(self) -> dict:
        d = asdict(self)
        d["skipped"] = dict(self.skipped)
        d["rejected"] = dict(self.rejected)
        d["skipped_total"] = sum(self.skipped.values())
        return d

    def text(self) -> str:
        lines = [f"read {self.read} captions; planted {self.negatives} negatives for {self.planted} captions "
                 f"in {self.seconds:.1f}s ({self.startup_seconds:.1f}s loading)" + (f"; {self.resumed} already done (resumed)" if self.resumed else "")]
        total = sum(self.skipped.values())
        if total:
            lines.append(f"skipped {total}:")
            lines += [f"  {n:>7}  {reason}" for reason, n in self.skipped.most_common()]
        if self.rejected:
            lines.append(f"rejected {sum(self.rejected.values())} proposals by the checks (the next target was tried):")
            lines += [f"  {n:>7}  {reason}" for reason, n in self.rejected.most_common()]
        lines.append(f"output: {self.output}")
        return "\n".join(lines)


def skipped_path(output: Path) -> Path:
    return output.with_name(output.name[:-len(".jsonl")] + ".skipped.jsonl" if output.name.endswith(".jsonl")
                            else output.name + ".skipped.jsonl")


def _repair_and_read_ids(path: Path) -> set[str]:
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


def _write_lines(fd: int, rows: list[dict]) -> None:
    if not rows:
        return
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


# --------------------------------------------------------------------------- vocabulary

def _input_key(path: Path, *parts) -> str:
    st = path.stat()
    raw = json.dumps([str(path.resolve()), st.st_size, st.st_mtime_ns, *parts])
    return hashlib.blake2b(raw.encode(), digest_size=10).hexdigest()


def build_vocabulary(path: Path, fmt: str | None, columns: Columns, config: PlantConfig):
    """In-domain words by role from the first ``vocab_sample`` captions, cached per input file.

    Every shard and every resumed run reads the same first captions, so all of them draw
    replacements from the same vocabulary and plant the same negatives.
    """
    from ..text.nlp import load_nlp
    from .embed import cache_dir
    from .vocabulary import Vocabulary

    cache = cache_dir() / f"vocab3-{_input_key(path, fmt, asdict(columns), config.vocab_sample, config.spacy_model, config.lexicon_path, config.lexicon_source)}.json"
    if cache.exists():
        try:
            return Vocabulary.from_dict(json.loads(cache.read_text()))
        except (ValueError, KeyError):
            pass
    items = (x for x in read_captions(path, fmt, columns) if isinstance(x, Caption) and x.caption.strip())
    texts = [x.caption for x in itertools.islice(items, config.vocab_sample)]
    nlp = load_nlp(config.spacy_model)
    # the parser is needed: the slot model counts dependencies (who fries what)
    vocab = Vocabulary.from_docs(nlp.pipe(texts, batch_size=256), ConcretePlant(config).lexicon)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(vocab.to_dict()))
    os.replace(tmp, cache)
    return vocab


# --------------------------------------------------------------------------- workers

_WORKER: dict = {}


def _limit_threads(threads: int) -> None:
    # one BLAS thread per worker: N workers with 2 threads each on N cores only contend
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)


def _init_spawned(config: PlantConfig, vocab_dict: dict | None) -> None:
    _limit_threads(1)
    _init_worker(config, vocab_dict, threads=1)


def _init_worker(config: PlantConfig, vocab_dict: dict | None, threads: int) -> None:
    from ..text.nlp import load_nlp
    from .vocabulary import Vocabulary

    os.environ["SLIPFORM_TORCH_THREADS"] = str(threads)  # read if MiniLM has to be loaded
    vocab = Vocabulary.from_dict(vocab_dict) if vocab_dict else None
    _WORKER["plant"] = ConcretePlant(config, vocab)
    _WORKER["nlp"] = load_nlp(config.spacy_model)
    _WORKER["plant"].backend.prepare()  # e.g. embed the vocabulary before the first chunk


def _plant_chunk(items: list[Caption]):
    plant, nlp = _WORKER["plant"], _WORKER["nlp"]
    docs = list(nlp.pipe([x.caption for x in items], batch_size=len(items)))
    result = plant.plant(items, docs)
    _save_vectors()
    return len(items), result.records, result.skipped, result.rejected


def _save_vectors() -> None:
    plant = _WORKER.get("plant")
    if plant is not None and "vectors" in plant.__dict__:
        plant.vectors.save()  # a no-op unless new words were embedded


def _count_lines(path: Path) -> int | None:
    if path.suffix.lower() not in (".txt", ".jsonl", ".csv", ".tsv"):
        return None
    with open(path, "rb") as f:
        return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))


# --------------------------------------------------------------------------- the run

def plant_file(input: str | Path, output: str | Path, config: PlantConfig = PlantConfig(), *,
               fmt: str | None = None, columns: Columns = Columns(), workers: int = 1, num_shards: int = 1,
               shard_id: int = 0, chunk_size: int = 256, progress: bool = True, max_messages: int = 20,
               log=None) -> Summary:
    """Plant negatives for every caption of ``input`` into ``output`` (JSONL), resuming if it exists."""
    if num_shards < 1 or not 0 <= shard_id < num_shards:
        raise ValueError(f"shard id must be in [0, {num_shards}), got {shard_id}")
    if workers < 1:
        raise ValueError("workers must be >= 1")
    log = log or (lambda msg: print(msg, file=sys.stderr))
    input, output = Path(input), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    skip_out = skipped_path(output)
    done = _repair_and_read_ids(output) | _repair_and_read_ids(skip_out)
    summary = Summary(output=str(output))
    start = time.perf_counter()

    stream = read_captions(input, fmt, columns)  # raises InputError before any work
    vocab = build_vocabulary(input, fmt, columns, config) if get_backend(config.backend).needs_vocabulary else None
    vocab_dict = vocab.to_dict() if vocab is not None else None
    lexicon = ConcretePlant(config).lexicon
    messages = 0

    def chunks():
        nonlocal messages
        batch = []
        for index, item in enumerate(stream):
            if index % num_shards != shard_id:
                continue
            if isinstance(item, BadLine):
                key = item.id or f"line:{item.line}"
                if key in done:
                    continue
                summary.read += 1
                pending_skips.append({"id": key, "reason": item.kind, "message": item.reason})
                summary.skipped[item.kind] += 1
                if messages < max_messages:
                    log(f"warning: {item.reason}")
                    messages += 1
                continue
            summary.read += 1
            if item.id in done:
                summary.resumed += 1
                continue
            reason = screen(item.caption, lexicon, config.max_words)
            if reason:
                pending_skips.append({"id": item.id, "reason": reason})
                summary.skipped[reason] += 1
                continue
            batch.append(item)
            if len(batch) == chunk_size:
                yield batch
                batch = []
        if batch:
            yield batch

    # filled by chunks(), which pool.imap runs in its feeder thread while the loop below drains
    # it: a deque's append and popleft are thread-safe, a list's copy-then-clear is not
    pending_skips: deque[dict] = deque()

    def drain() -> list[dict]:
        taken = []
        while pending_skips:
            taken.append(pending_skips.popleft())
        return taken

    total = _count_lines(input)
    if total is not None:
        total = total // num_shards
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit=" captions", desc="plant", dynamic_ncols=True, file=sys.stderr)
    out_fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    skip_fd = os.open(skip_out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    pool = None
    try:
        # Workers are forked with the pipeline and embeddings already loaded when that is safe;
        # once torch is in the process (MiniLM was needed, or the caller trained a model first, as
        # the demo does), its thread pools may be running and a fork can deadlock: spawn afresh.
        _init_worker(config, vocab_dict, threads=max(1, os.cpu_count() or 1))
        _save_vectors()
        summary.startup_seconds = time.perf_counter() - start
        if workers > 1:
            method = "spawn" if encoder_loaded() or "torch" in sys.modules else "fork"
            ctx = mp.get_context(method)
            init = (_init_spawned, (config, vocab_dict)) if method == "spawn" else (_limit_threads, (1,))
            pool = ctx.Pool(workers, initializer=init[0], initargs=init[1])
            results = pool.imap(_plant_chunk, chunks())
        else:
            results = map(_plant_chunk, chunks())
        for n, records, skipped, rejected in results:
            summary.rejected.update(rejected)
            _write_lines(out_fd, records)
            _write_lines(skip_fd, drain() + skipped)
            summary.negatives += len(records)
            summary.planted += len({r["id"] for r in records})
            for s in skipped:
                summary.skipped[s["reason"].split(": ")[0] if s["reason"].startswith("backend error") else s["reason"]] += 1
            if bar is not None:
                bar.update(n)
                bar.set_postfix(planted=summary.planted, skipped=sum(summary.skipped.values()), refresh=False)
        _write_lines(skip_fd, drain())
        if bar is not None and total is None:
            bar.total = bar.n
    finally:
        os.close(out_fd)
        os.close(skip_fd)
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.close()
            pool.join()
    bad = sum(n for reason, n in summary.skipped.items() if reason in BAD_INPUT_KINDS)
    if bad > messages:
        log(f"warning: {bad - messages} more input problems not shown; see {skip_out}")
    summary.seconds = time.perf_counter() - start
    return summary
