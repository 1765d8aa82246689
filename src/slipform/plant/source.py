"""The runner's source: an input cut into contiguous numbered shards, each read alone.

A shard of a line format (txt, CSV/TSV, JSONL) is a byte range: shard ``i`` of ``n`` starts at
the first line starting at or after ``i * size / n`` (after a CSV's header), so cutting the
file needs its size only; reading a shard reads its own bytes. Its items carry the same ids
and line numbers as when the file is read whole, because the plan also records the line
number at each cut (one scan counting newlines, cached per input file like the vocabulary).
A COCO or Karpathy JSON file is one document: its shards are ranges of item indices.

The same plan serves ``--num-shards/--shard-id`` (a SLURM array) and the Ray engine, so both
write the same shard files.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..text.io import LINE_FORMATS, Columns, detect_format, read_captions, read_range


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


def plan_shards(path: str | Path, fmt: str | None, num_shards: int) -> list[Shard]:
    """The ``num_shards`` contiguous shards of ``path``, cached per input file."""
    from .embed import cache_dir

    path = Path(path)
    fmt = fmt or detect_format(path)
    cache = cache_dir() / f"shards1-{input_key(path, fmt, num_shards)}.json"
    if cache.exists():
        try:
            return [Shard(**s) for s in json.loads(cache.read_text())]
        except (ValueError, TypeError):
            pass
    shards = _line_plan(path, fmt, num_shards) if fmt in LINE_FORMATS else _item_plan(path, fmt, num_shards)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps([asdict(s) for s in shards]))
    os.replace(tmp, cache)
    return shards


def _line_plan(path: Path, fmt: str, n: int) -> list[Shard]:
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = len(f.readline()) if fmt in ("csv", "tsv") else 0
        cuts = [head]
        for i in range(1, n):
            f.seek(max(head, head + (size - head) * i // n - 1))
            f.readline()  # to the start of the next line
            cuts.append(max(cuts[-1], min(f.tell(), size)))
        cuts.append(size)
        f.seek(max(0, size - 1))
        unterminated = size > head and f.read(1) != b"\n"  # a last line without its newline
    firsts = [1 + c for c in _newlines_before(path, cuts)]
    firsts[-1] += unterminated
    return [Shard(i, n, cuts[i], cuts[i + 1], firsts[i], firsts[i + 1] - firsts[i]) for i in range(n)]


def _newlines_before(path: Path, offsets: list[int]) -> list[int]:
    """How many newlines precede each of the (ascending) byte offsets: one pass over the file."""
    out, pos, count = [], 0, 0
    with open(path, "rb") as f:
        for off in offsets:
            while pos < off:
                buf = f.read(min(1 << 22, off - pos))
                if not buf:
                    break
                count += buf.count(b"\n")
                pos += len(buf)
            out.append(count)
    return out


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
    from ..text.io import Caption
    from ..text.nlp import load_nlp
    from .core import ConcretePlant
    from .embed import cache_dir
    from .vocabulary import Vocabulary

    path = Path(path)
    cache = cache_dir() / f"vocab3-{input_key(path, fmt, asdict(columns), config.vocab_sample, config.spacy_model, config.lexicon_path, config.lexicon_source)}.json"
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


def count_lines(path: Path) -> int | None:
    if path.suffix.lower() not in (".txt", ".jsonl", ".csv", ".tsv"):
        return None
    with open(path, "rb") as f:
        return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))
