"""Shards of awkward line files: CSV records spanning lines, '\\r' and '\\r\\n' ends, no final newline.

Whatever the cuts, each shard's items are the whole file's (same ids, same lines), the lines
are the ones an editor shows, and planted shards concatenate to one process's output.
"""

import csv
import io
import json

import pytest

from slipform.plant import PlantConfig, plant_file
from slipform.plant.engine import source
from slipform.plant.engine.source import Source, count_lines, plan_shards
from slipform.text.io import BadLine, Caption, read_captions

from conftest import read_jsonl

# an editor's lines of each file, by hand: (id, caption, line) of every item
AWKWARD = {
    "quoted.csv": ('filepath,title\r\ni1.jpg,"A dog\r\non a\r\nmat."\r\ni2.jpg,plain\r\n\r\n'
                   'i3.jpg,"quote ""x""\nnext"\ni4.jpg,"a, b",extra\ni5.jpg,last',
                   [("2", "A dog\r\non a\r\nmat.", 2), ("5", "plain", 5), ("7", 'quote "x"\nnext', 7),
                    (None, None, 9), ("10", "last", 10)]),
    "mac.txt": ("one\rtwo\r\nthree\nfour\r\rsix",
                [("1", "one", 1), ("2", "two", 2), ("3", "three", 3), ("4", "four", 4), ("5", "", 5),
                 ("6", "six", 6)]),
    "long_last.txt": ("a\rb\n" + "c" * 100, [("1", "a", 1), ("2", "b", 2), ("3", "c" * 100, 3)]),  # empty last shards
    "mixed.jsonl": ('{"caption": "a"}\r{"caption": "b"}\r\n\r\n{bad\n{"caption": "c"}',
                    [("1", "a", 1), ("2", "b", 2), (None, None, 4), ("5", "c", 5)]),
    "stray.tsv": ('filepath\ttitle\nx\t"multi\nline\tcap"\ny\tstray " quote\rz\tok\n',
                  [("2", "multi\nline\tcap", 2), ("4", 'stray " quote', 4), ("5", "ok", 5)]),
}


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_lines_are_an_editors_whole_or_sharded(tmp_path, name):
    text, expected = AWKWARD[name]
    path = tmp_path / name
    path.write_bytes(text.encode())
    whole = list(read_captions(path))
    assert [(x.id, x.caption, x.line) if isinstance(x, Caption) else (None, None, x.line) for x in whole] == expected
    assert all(f":{x.line}:" in x.reason for x in whole if isinstance(x, BadLine))  # warnings say the same line
    editor_lines = len(text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n"))
    assert count_lines(path) == editor_lines
    for n in range(2, 12):
        plan = plan_shards(path, None, n)
        assert [x for s in plan for x in Source(path, None, shard=s)] == whole, n
        assert sum(s.lines for s in plan) == editor_lines - name.endswith("sv"), n  # a header is no shard's
        for s in plan:  # each shard's share of the bar is its own lines
            assert s.lines == (plan[s.index + 1].first_line if s.index + 1 < n else editor_lines + 1) - s.first_line
            assert (s.lines == 0) == (s.start == s.stop), (n, s)


def test_a_cut_never_falls_inside_a_quoted_record(tmp_path):
    """One record holds most of the file: every target but the first lands inside its quotes."""
    body = "\n".join(f"line {i} of a long caption" for i in range(200))
    path = tmp_path / "long.csv"
    path.write_text(f'filepath,title\na.jpg,short\nb.jpg,"{body}"\nc.jpg,after\n', newline="")
    for n in (2, 3, 5, 8):
        plan = plan_shards(path, None, n)
        items = [[(x.id, x.line) for x in Source(path, None, shard=s)] for s in plan]
        assert [x for part in items for x in part] == [("2", 2), ("3", 3), ("203", 203)], n
        assert [s.first_line for s in plan] == sorted(s.first_line for s in plan)


def _table(rows, newline: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue()


@pytest.fixture(scope="module")
def quoted_csv(tmp_path_factory, real_captions):
    """A CSV of 90 real captions (no id column: ids are lines), a dozen of them over 2-4 lines, with bad rows."""
    rows = [["filepath", "title"]]
    for i, caption in enumerate(real_captions[:90]):
        words = caption.split()
        if i % 7 == 3:  # a caption over several lines, as spreadsheets write them
            caption = " ".join(words[:3]) + "\n" + " ".join(words[3:6]) + "\r\n" + " ".join(words[6:])
        rows.append([f"img/{i}.jpg", caption])
    rows[20] = ["img/19.jpg"]  # a missing column
    rows[41] = ["img/40.jpg", "a bad\nrow over\nthree lines", "extra"]
    rows[60] = ["img/59.jpg", "  "]
    path = tmp_path_factory.mktemp("quoted") / "quoted.csv"
    path.write_text(_table(rows, "\r\n"), newline="")  # the csv module's own line ends
    return path


@pytest.fixture(scope="module")
def quoted_single(quoted_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("quoted_single") / "neg.jsonl"
    plant_file(quoted_csv, out, PlantConfig(), progress=False)
    return out


def test_quoted_csv_whole_run_numbers_records_by_their_first_line(quoted_csv, quoted_single):
    text = quoted_csv.read_bytes().decode()
    skips = {s["id"]: s for s in read_jsonl(quoted_single.with_name("neg.skipped.jsonl"))}
    for s in skips.values():  # every skip names the line its record starts on
        assert s["file"] == str(quoted_csv) and s["id"] in (str(s["line"]), f"line:{s['line']}")
        start = text.splitlines()[s["line"] - 1]
        assert start.startswith("img/")
    starts = {line.split(",")[0]: n for n, line in enumerate(text.splitlines(), 1)}
    bad = {s["line"]: s["reason"] for s in skips.values() if s["reason"] in ("empty caption", "missing columns")}
    assert bad == {starts["img/19.jpg"]: "missing columns", starts["img/40.jpg"]: "missing columns",
                   starts["img/59.jpg"]: "empty caption"}
    assert starts["img/59.jpg"] > 60  # the multi-line records before it count their lines
    records = read_jsonl(quoted_single)
    multi = [r for r in records if "\n" in r["caption"]]
    assert multi and all(text.splitlines()[int(r["id"]) - 1].startswith(r["image"]) for r in records)


@pytest.mark.parametrize("shards", [2, 3, 5])
def test_quoted_csv_shards_concatenate_to_one_process(quoted_csv, quoted_single, tmp_path, shards):
    plan = plan_shards(quoted_csv, None, shards)
    assert len({s.first_line for s in plan}) == shards  # no empty shard: each cut is its own record
    parts, logs = [], []
    for shard in range(shards):
        out = tmp_path / f"part{shard}.jsonl"
        plant_file(quoted_csv, out, PlantConfig(), num_shards=shards, shard_id=shard, progress=False,
                   log=logs.append)
        parts.append(out)
    assert b"".join(p.read_bytes() for p in parts) == quoted_single.read_bytes()
    skips = b"".join(p.with_name(p.name[:-6] + ".skipped.jsonl").read_bytes() for p in parts)
    assert skips == quoted_single.with_name("neg.skipped.jsonl").read_bytes()
    assert sorted(logs) == sorted(f"warning: {s['message']}" for s in read_jsonl(quoted_single.with_name(
        "neg.skipped.jsonl")) if "message" in s)


def test_mac_line_ends_planted_sharded_name_editor_lines(tmp_path, real_captions):
    """A '\\r' file, mixed with '\\r\\n', without a final newline: skip lines and ids are an editor's."""
    lines = real_captions[:30]
    lines[4], lines[11], lines[29] = "", "Un chien qui court dans le parc avec une balle.", "   "
    path = tmp_path / "mac.txt"
    path.write_bytes(("\r".join(lines[:15]) + "\r\n" + "\r".join(lines[15:])).encode())
    whole = tmp_path / "whole.jsonl"
    plant_file(path, whole, PlantConfig(), progress=False)
    skips = read_jsonl(tmp_path / "whole.skipped.jsonl")
    assert [(s["id"], s["line"], s["reason"]) for s in skips if s["line"] in (5, 12, 30)] == [
        ("5", 5, "empty caption"), ("12", 12, "not English"), ("30", 30, "empty caption")]
    records = read_jsonl(whole)
    assert all(r["caption"] == lines[int(r["id"]) - 1] for r in records)  # never joined with the next
    parts = []
    for shard in range(4):
        out = tmp_path / f"p{shard}.jsonl"
        plant_file(path, out, PlantConfig(), num_shards=4, shard_id=shard, progress=False)
        parts.append(out)
    assert b"".join(p.read_bytes() for p in parts) == whole.read_bytes()
    assert [s for p in parts for s in read_jsonl(p.with_name(p.name[:-6] + ".skipped.jsonl"))] == skips
    assert json.loads(whole.read_text().splitlines()[0])["id"] == "1"


def test_line_ends_cut_by_the_read_block(tmp_path):
    """'\\r\\n' split across two reads is one line end; every block size finds an editor's lines."""
    from slipform.text.io import count_line_ends, split_lines

    text = b"ab\r\ncd\r\r\nef\n\n\rg\r\r\nh"
    expected = [b"ab\r\n", b"cd\r", b"\r\n", b"ef\n", b"\n", b"\r", b"g\r", b"\r\n", b"h"]
    path = tmp_path / "ends.txt"
    path.write_bytes(text)
    with open(path, "rb") as f:
        for block in range(1, len(text) + 1):
            assert list(split_lines(f, 0, len(text), block)) == expected, block
            assert count_line_ends(f, 0, len(text), block) == len(expected) - 1, block
        assert list(split_lines(f, 4, 13)) == [b"cd\r", b"\r\n", b"ef\n", b"\n"]  # a range from a line start


def _record_starts(path, sep):
    """(byte offset, line) of every record start after the header, and the end: the plan's definition, slowly."""
    from slipform.text.io import split_lines

    with open(path, "rb") as f:
        raws = list(split_lines(f, 0, path.stat().st_size))
    pos, taken = [0], [0]

    def lines():
        for raw in raws:
            pos[0] += len(raw)
            taken[0] += 1
            yield raw.decode("utf-8", errors="replace")

    reader = csv.reader(lines(), delimiter=sep)
    next(reader, None)
    starts = [(pos[0], taken[0] + 1)]
    while next(reader, None) is not None:
        starts.append((pos[0], taken[0] + 1))
    return starts


@pytest.mark.parametrize("sep", [",", "\t", "§"])
def test_csv_plan_finds_the_record_starts_in_any_block(tmp_path, sep):
    """Random CSVs of quotes, stray quotes, newlines of every kind and UTF-8: cuts are record starts."""
    import random

    rng = random.Random(len(sep) + ord(sep[0]))
    pieces = ["a", "é", "日本", '"', '""', sep, "\n", "\r\n", "\r", " ", "x y"]
    for trial in range(20):
        text = "h1" + sep + "h2\n" + "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 120)))
        path = tmp_path / f"t{trial}.csv"
        path.write_bytes(text.encode())
        starts = _record_starts(path, sep)
        size = path.stat().st_size
        head = starts[0][0]
        for n in (2, 3, 7):
            for block in (1, 2, 5, 1 << 22):
                plan = source._record_plan(path, sep, n, block)
                for s in plan[1:]:
                    target = head + (size - head) * s.index // n
                    assert (s.start, s.first_line) == next(x for x in starts if x[0] >= target), (trial, n, block)
                assert plan[0].start == head and plan[-1].stop == size
