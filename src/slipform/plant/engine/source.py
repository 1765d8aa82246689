"""The runner's source: an input cut into contiguous numbered shards, each read alone.

A shard of a line format (txt, CSV/TSV, JSONL) is a byte range: shard ``i`` of ``n`` starts at
the first line starting at or after ``i * size / n`` (after a CSV's header), so cutting the
file needs its size only; reading a shard reads its own bytes. Its items carry the same ids
and line numbers as when the file is read whole, because the plan also records the line
number at each cut (one scan counting line ends, cached per input file like the vocabulary).
Lines end at ``\n``, ``\r\n`` or a bare ``\r`` (:mod:`slipform.text.io`). A CSV/TSV record
may span lines (a quoted field holding newlines), so its cuts are record starts, found by
parsing the file once with :mod:`csv` as the reader will (~7x slower than counting
line ends; still cached). A COCO or Karpathy JSON file is one document: its shards are ranges
of item indices.

The same plan serves ``--num-shards/--shard-id`` (a SLURM array) and the Ray engine, so both
write the same shard files.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ...text.io import (
    LINE_FORMATS,
    Columns,
    count_line_ends,
    detect_format,
    read_captions,
    read_range,
    split_lines,
)


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``: bytes (or item indices) ``[start, stop)``, from line ``first_line``."""

    index: int
    count: int
    start: int
    stop: int
    first_line: int
    lines: int  # lines (or items) in the shard: its share of the progress bar

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}-of-{self.count:05d}"


def input_key(path: Path, *parts) -> str:
    """A short hash naming ``path`` as it is now (path, size, mtime) and ``parts``."""
    st = path.stat()
    raw = json.dumps([str(path.resolve()), st.st_size, st.st_mtime_ns, *parts])
    return hashlib.blake2b(raw.encode(), digest_size=10).hexdigest()


def plan_shards(path: str | Path, fmt: str | None, num_shards: int, columns: Columns = Columns()) -> list[Shard]:
    """The ``num_shards`` contiguous shards of ``path``, cached per input file.

    ``columns.separator`` matters for CSV/TSV only: a quote opens a quoted field after it.
    """
    from ..knowledge.embed import cache_dir

    path = Path(path)
    fmt = fmt or detect_format(path)
    sep = (columns.separator or ("\t" if fmt == "tsv" else ",")) if fmt in ("csv", "tsv") else None
    cache = cache_dir() / f"shards2-{input_key(path, fmt, num_shards, sep)}.json"
    if cache.exists():
        try:
            return [Shard(**s) for s in json.loads(cache.read_text())]
        except (ValueError, TypeError):
            pass
    if fmt in ("csv", "tsv"):
        shards = _record_plan(path, sep, num_shards)
    elif fmt in LINE_FORMATS:
        shards = _line_plan(path, num_shards)
    else:
        shards = _item_plan(path, fmt, num_shards)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps([asdict(s) for s in shards]))
    os.replace(tmp, cache)
    return shards


def _targets(head: int, size: int, n: int) -> list[int]:
    return [head + (size - head) * i // n for i in range(1, n)]


def _line_plan(path: Path, n: int) -> list[Shard]:
    """Cuts at the first line start at or after each target; line numbers from counting line ends."""
    size = path.stat().st_size
    cuts = [0]
    with open(path, "rb") as f:
        for target in _targets(0, size, n):
            cuts.append(max(cuts[-1], _line_start_from(f, target, size)))
        cuts.append(size)
        ends = [count_line_ends(f, a, b) for a, b in zip(cuts, cuts[1:])]
        f.seek(max(0, size - 1))
        unterminated = size > 0 and f.read(1) not in (b"\n", b"\r")  # a last line without its end
    if unterminated:  # counted in the shard holding the last byte (later shards may be empty)
        ends[max(i for i in range(n) if cuts[i] < cuts[i + 1])] += 1
    firsts = list(itertools.accumulate(ends, initial=1))
    return [Shard(i, n, cuts[i], cuts[i + 1], firsts[i], ends[i]) for i in range(n)]


def _line_start_from(f, pos: int, size: int) -> int:
    """The first line start at or after ``pos`` (``size`` if none)."""
    if pos <= 0:
        return 0
    for raw in split_lines(f, pos - 1, size):  # from the byte before: is ``pos`` itself a line start?
        if not raw.endswith((b"\n", b"\r")):
            return size
        return pos - 1 + len(raw)
    return size


def _record_plan(path: Path, sep: str, n: int, block: int = 1 << 20) -> list[Shard]:
    """Cuts at the first CSV record start at or after each target: one pass of :mod:`csv` over the file.

    The csv module's own parsing bounds its speed (~25 MB/s on a contended core; a faster line
    splitter measured the same), hence the cache.
    """
    import sys

    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    size = path.stat().st_size
    at = [0, 0]  # bytes and lines the reader has taken

    with open(path, "rb") as f:
        def lines():
            for raw in split_lines(f, 0, size, block):
                at[0] += len(raw)
                at[1] += 1
                yield raw.decode("utf-8", errors="replace")

        records = csv.reader(lines(), delimiter=sep)  # takes lines up to a record's end, never beyond
        next(records, None)  # the header
        cuts, firsts = [at[0]], [at[1] + 1]
        for target in _targets(at[0], size, n):
            while at[0] < target and next(records, None) is not None:
                pass
            cuts.append(at[0])
            firsts.append(at[1] + 1)
        tail = count_line_ends(f, cuts[-1], size)  # the last shard's lines: no need to parse them
        f.seek(max(0, size - 1))
        tail += size > cuts[-1] and f.read(1) not in (b"\n", b"\r")
    cuts.append(size)
    firsts.append(firsts[-1] + tail)
    return [Shard(i, n, cuts[i], cuts[i + 1], firsts[i], firsts[i + 1] - firsts[i]) for i in range(n)]


def _item_plan(path: Path, fmt: str, n: int) -> list[Shard]:
    total = sum(1 for _ in read_captions(path, fmt, Columns()))
    cuts = [total * i // n for i in range(n + 1)]
    return [Shard(i, n, cuts[i], cuts[i + 1], cuts[i], cuts[i + 1] - cuts[i]) for i in range(n)]


class Source:
    """The items of one shard of ``path`` (all of it when ``shard`` is None), with global ids and lines."""

    def __init__(self, path: str | Path, fmt: str | None = None, columns: Columns = Columns(),
                 shard: Shard | None = None):
        self.path = Path(path)
        read_captions(self.path, fmt, columns)  # raises InputError (missing, unknown format) before any work
        self.fmt = fmt or detect_format(self.path)
        self.columns = columns
        self.shard = shard

    def __iter__(self):
        shard = self.shard
        if shard is None or shard.count == 1:
            return iter(read_captions(self.path, self.fmt, self.columns))
        if self.fmt not in LINE_FORMATS:
            items = read_captions(self.path, self.fmt, self.columns)
            return itertools.islice(items, shard.start, shard.stop)
        return iter(read_range(self.path, self.fmt, self.columns, shard.start, shard.stop, shard.first_line))


def build_vocabulary(path: Path, fmt: str | None, columns: Columns, config):
    """In-domain words by role from the first ``vocab_sample`` captions, cached per input file.

    Every shard and every resumed run reads the same first captions, so all of them draw
    replacements from the same vocabulary and plant the same negatives.
    """
    path = Path(path)
    key = input_key(path, fmt, asdict(columns), config.vocab_sample, config.spacy_model, config.lexicon_path,
                    config.lexicon_source)
    return vocabulary_from(key, lambda: read_captions(path, fmt, columns), config)


def vocabulary_from(key: str, items, config):
    """The vocabulary of the first ``vocab_sample`` captions of ``items()`` (Caption and other items),
    cached under ``key`` (which names the input and the settings)."""
    from ...text.io import Caption
    from ...text.nlp import load_nlp
    from ..core.planter import ConcretePlant
    from ..knowledge.embed import cache_dir
    from ..knowledge.vocabulary import Vocabulary

    cache = cache_dir() / f"vocab3-{key}.json"
    if cache.exists():
        try:
            return Vocabulary.from_dict(json.loads(cache.read_text()))
        except (ValueError, KeyError):
            pass
    captions = (x for x in items() if isinstance(x, Caption) and x.caption.strip())
    texts = [x.caption for x in itertools.islice(captions, config.vocab_sample)]
    nlp = load_nlp(config.spacy_model)
    # the parser is needed: the slot model counts dependencies (who fries what)
    vocab = Vocabulary.from_docs(nlp.pipe(texts, batch_size=256), ConcretePlant(config).lexicon)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(vocab.to_dict()))
    os.replace(tmp, cache)
    return vocab


def count_lines(path: Path) -> int | None:
    """The lines of a line-format file (``\n``, ``\r\n`` or ``\r`` ends, the last one optional); None for others."""
    if path.suffix.lower() not in (".txt", ".jsonl", ".csv", ".tsv"):
        return None
    size = path.stat().st_size
    with open(path, "rb") as f:
        ends = count_line_ends(f, 0, size)
        f.seek(max(0, size - 1))
        return ends + (size > 0 and f.read(1) not in (b"\n", b"\r"))  # a last line without its end
