"""Plant engine behaviour pinned for mutation testing (issue 31): the summary, the stream of chunks,
the sinks and the runner's refusals.

Written from the mutants that survived ``python bench/mutation.py plant_engine_local``; each
reference is worked out by hand in the test, and each test was seen failing on its mutant.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from slipform.plant.engine.sink import (
    AppendSink,
    ShardSink,
    check_rerun,
    concatenate,
    done_shards,
    repair_and_read_ids,
    shards_dir,
    skipped_path,
    write_lines,
)
from slipform.plant.engine.stream import Chunk, account, chunks, report_unshown
from slipform.plant.engine.summary import Summary, skip_kind
from slipform.text.io import BadLine, Caption

# ---- the summary ----------------------------------------------------------------------------------


def test_summary_adds_round_trips_and_reads_as_text():
    a = Summary(read=10, planted=6, negatives=9, resumed=2, skipped=Counter({"empty caption": 1, "not English": 3}),
                rejected=Counter({"more than one change": 4}), seconds=12.34, startup_seconds=1.25, output="o.jsonl")
    b = Summary(read=5, planted=1, negatives=2, resumed=1, skipped=Counter({"not English": 2}),
                rejected=Counter({"more than one change": 1, "output equals the caption": 2}), seconds=99.0,
                startup_seconds=9.0, output="other")
    a.add(b)
    assert (a.read, a.planted, a.negatives, a.resumed) == (15, 7, 11, 3)
    assert a.skipped == {"empty caption": 1, "not English": 5}
    assert a.rejected == {"more than one change": 5, "output equals the caption": 2}
    assert (a.seconds, a.startup_seconds, a.output) == (12.34, 1.25, "o.jsonl")  # times and output stay a's
    d = a.as_dict()
    assert d == {"read": 15, "planted": 7, "negatives": 11, "resumed": 3,
                 "skipped": {"empty caption": 1, "not English": 5},
                 "rejected": {"more than one change": 5, "output equals the caption": 2},
                 "seconds": 12.34, "startup_seconds": 1.25, "output": "o.jsonl", "skipped_total": 6}
    assert type(d["skipped"]) is dict and type(d["rejected"]) is dict
    back = Summary.from_dict(json.loads(json.dumps(d)))
    assert back == a and isinstance(back.skipped, Counter) and isinstance(back.rejected, Counter)
    assert a.text() == (
        "read 15 captions; planted 11 negatives for 7 captions in 12.3s (1.2s loading); 3 already done (resumed)\n"
        "skipped 6:\n"
        "        5  not English\n"
        "        1  empty caption\n"
        "rejected 7 proposals by the checks (the next target was tried):\n"
        "        5  more than one change\n"
        "        2  output equals the caption\n"
        "output: o.jsonl")
    assert Summary(read=1, output="x").text() == \
        "read 1 captions; planted 0 negatives for 0 captions in 0.0s (0.0s loading)\noutput: x"


def test_skip_kind_counts_a_backends_error_by_its_kind():
    assert skip_kind("backend error: HTTP 500: try later") == "backend error"
    assert skip_kind("backend error") == "backend error"
    assert skip_kind("not English: really") == "not English: really"  # only a backend's errors are cut


# ---- the stream -----------------------------------------------------------------------------------


def _items():
    return [Caption("a", "A dog on a mat.", line=1), BadLine(2, "f.txt:2: malformed JSON", None, "malformed JSON"),
            Caption("b", "", line=3), Caption("c", "A cat on a sofa.", line=4),
            BadLine(5, "f.txt:5: no caption", "e", "missing caption field"), Caption("d", "A red bus.", line=6),
            Caption("f", "A man riding a horse.", line=7)]


def test_chunks_cut_screen_and_leave_out_what_is_done(lexicon):
    out = list(chunks(iter(_items()), "f.txt", {"c", "line:9"}, lexicon, 20, 2))
    assert [[i.id for i in ch.items] for ch in out] == [["a", "d"], ["f"]]
    first = out[0]
    assert first.read == 6 and first.resumed == 1  # a, the bad line, b, c (done), e, d
    assert first.skips == [
        {"id": "line:2", "reason": "malformed JSON", "file": "f.txt", "line": 2, "message": "f.txt:2: malformed JSON"},
        {"id": "b", "reason": "empty caption", "file": "f.txt", "line": 3},
        {"id": "e", "reason": "missing caption field", "file": "f.txt", "line": 5, "message": "f.txt:5: no caption"}]
    assert first.warnings == ["f.txt:2: malformed JSON", "f.txt:5: no caption"]
    assert (out[1].read, out[1].skips, out[1].resumed) == (1, [], 0)
    # a bad line already written is left out like a caption, by its id or its line
    out = list(chunks(iter(_items()), "f.txt", {"line:2", "e", "a", "b", "c", "d", "f"}, lexicon, 20, 2))
    assert len(out) == 1 and (out[0].items, out[0].skips, out[0].read, out[0].resumed) == ([], [], 5, 5)
    assert list(chunks(iter([]), "f.txt", set(), lexicon, 20, 2)) == []
    # a chunk full at the last caption is not followed by an empty one
    assert [len(c.items) for c in chunks(iter(_items()[:1] + _items()[3:4]), "f", set(), lexicon, 20, 2)] == [2]
    assert chunks(iter([Caption("x", "a b c d e f", line=1)]), "f", set(), lexicon, 5, 2).__next__().skips == [
        {"id": "x", "reason": "caption longer than 5 words", "file": "f", "line": 1}]


class _Sink:
    def __init__(self):
        self.calls = []

    def write(self, records, skips):
        self.calls.append((records, skips))


def test_account_writes_skips_in_line_order_and_counts_the_chunk():
    chunk = Chunk([Caption("a", "x", line=4), Caption("b", "y", line=2), Caption("a", "z", line=9)],
                  skips=[{"id": "q", "reason": "empty caption", "file": "f", "line": 3}], read=5, resumed=1)
    sink, summary = _Sink(), Summary()
    records = [{"id": "a", "negative": "1"}, {"id": "a", "negative": "2"}]
    skipped = [{"id": "b", "reason": "backend error: timeout"}, {"id": "z", "reason": "no candidate word"}]
    account(summary, sink, "f", chunk, records, skipped, Counter({"more than one change": 2}))
    assert sink.calls == [(records, [
        {"id": "z", "reason": "no candidate word", "file": "f", "line": None},  # no line: first
        {"id": "b", "reason": "backend error: timeout", "file": "f", "line": 2},
        {"id": "q", "reason": "empty caption", "file": "f", "line": 3}])]
    assert (summary.read, summary.resumed, summary.negatives, summary.planted) == (5, 1, 2, 1)
    assert summary.skipped == {"empty caption": 1, "backend error": 1, "no candidate word": 1}
    assert summary.rejected == {"more than one change": 2}
    # a late skip of an id given twice takes the id's first line
    sink = _Sink()
    account(summary, sink, "f", Chunk([Caption("a", "x", line=4), Caption("a", "z", line=1)]), [],
            [{"id": "a", "reason": "r"}], {})
    assert sink.calls == [([], [{"id": "a", "reason": "r", "file": "f", "line": 4}])]
    assert summary.read == 5 and summary.skipped["r"] == 1


def test_report_unshown_counts_only_bad_input_beyond_the_shown():
    said = []
    s = Summary(skipped=Counter({"malformed JSON": 3, "truncated tar": 2, "empty caption": 50}))
    report_unshown(s, 4, Path("o.skipped.jsonl"), said.append)
    assert said == ["warning: 1 more input problems not shown; see o.skipped.jsonl"]
    report_unshown(s, 5, Path("o.skipped.jsonl"), said.append)
    assert len(said) == 1


# ---- the sinks ------------------------------------------------------------------------------------


def test_paths_beside_the_output():
    assert skipped_path(Path("d/neg.jsonl")) == Path("d/neg.skipped.jsonl")
    assert skipped_path(Path("d/neg.txt")) == Path("d/neg.txt.skipped.jsonl")
    assert skipped_path(Path("d/jsonl")) == Path("d/jsonl.skipped.jsonl")
    assert shards_dir(Path("d/neg.jsonl")) == Path("d/neg.jsonl.shards")


def test_check_rerun_keeps_the_plan_and_names_every_change(tmp_path):
    out = tmp_path / "sub" / "n.jsonl"
    key = {"input": ["a", 1], "settings": "s1", "shard": None}
    check_rerun(out, key)  # a fresh run: the folder and the plan are made
    plan = tmp_path / "sub" / "n.jsonl.plan.json"
    assert json.loads(plan.read_text()) == key
    check_rerun(out, {**key, "settings": "s2"})  # nothing written yet: the new key is taken
    assert json.loads(plan.read_text())["settings"] == "s2"
    skipped_path(out).write_text('{"id": "1"}\n')  # a skip file alone counts as written
    with pytest.raises(ValueError) as err:
        check_rerun(out, {"input": ["b", 1], "settings": "s2", "shard": [2, 1]})
    assert str(err.value) == (
        f"{out} was planted from another input file (its path, size or modification time differ) and another "
        "shard; resuming it would mix two runs' negatives: delete it and n.skipped.jsonl, or choose another output")
    assert json.loads(plan.read_text())["settings"] == "s2"  # a refusal leaves the plan
    check_rerun(out, {"input": ["a", 1], "settings": "s2", "shard": None})  # the same key resumes
    out.write_text("")
    skipped_path(out).write_text("")  # empty files: nothing written
    check_rerun(out, {"input": ["z"], "settings": "s9", "shard": None})
    assert json.loads(plan.read_text()) == {"input": ["z"], "settings": "s9", "shard": None}


def test_write_lines_writes_utf8_json_lines_whole(tmp_path):
    path = tmp_path / "x.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    write_lines(fd, [])
    write_lines(fd, [{"id": "1", "caption": "Café"}, {"id": 2}])
    os.close(fd)
    assert path.read_bytes() == '{"id": "1", "caption": "Café"}\n{"id": 2}\n'.encode("utf-8")


def test_repair_reads_the_ids_of_planted_and_skipped_lines(tmp_path):
    path = tmp_path / "x.jsonl"
    assert repair_and_read_ids(path) == set() and not path.exists()
    path.write_text('{"id": 7}\n{"no": 1}\n[1]\n"s"\n{"id": "b"}\n{"id": "c"')
    assert repair_and_read_ids(path) == {"7", "b"}
    assert path.read_text() == '{"id": 7}\n{"no": 1}\n[1]\n"s"\n{"id": "b"}\n'
    path.write_text("")
    assert repair_and_read_ids(path) == set() and path.read_text() == ""


def test_the_append_sink_reads_both_files_ids_and_makes_its_folder(tmp_path):
    out = tmp_path / "new" / "n.jsonl"
    sink = AppendSink(out)
    assert sink.done == set()
    sink.write([{"id": "1"}], [{"id": "2", "reason": "r"}])
    sink.close()
    assert AppendSink(out).done == {"1", "2"}
    assert (out.stat().st_mode & 0o777) == 0o644 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_shard_sink_commits_once_and_a_stale_attempt_leaves_no_trace(tmp_path):
    folder = tmp_path / "o.shards"
    first, stale = ShardSink(folder, "part-00001"), ShardSink(folder, "part-00001")
    assert first.attempt != stale.attempt and len(first.attempt) == 12
    assert first.tmp.name == f"part-00001.jsonl.{first.attempt}.tmp"
    assert first.tmp_skipped.name == f"part-00001.skipped.jsonl.{first.attempt}.tmp"
    extra_tmp, extra_final = folder / f"x.{first.attempt}.tmp", folder / "x.tar"
    extra_tmp.write_bytes(b"tar")
    first.extra.append((extra_tmp, extra_final))
    first.write([{"id": "1", "negative": "n"}], [{"id": "2", "reason": "r"}])
    stale.write([{"id": "1", "negative": "other"}], [])
    assert first.commit({"read": 2}) is True
    assert (folder / "part-00001.jsonl").read_text() == '{"id": "1", "negative": "n"}\n'
    assert (folder / "part-00001.skipped.jsonl").read_text() == '{"id": "2", "reason": "r"}\n'
    assert extra_final.read_bytes() == b"tar" and not extra_tmp.exists()
    assert json.loads((folder / "part-00001.done").read_text()) == {"read": 2}
    assert stale.commit({"read": 9}) is False
    assert (folder / "part-00001.jsonl").read_text() == '{"id": "1", "negative": "n"}\n'
    assert json.loads((folder / "part-00001.done").read_text()) == {"read": 2}
    assert sorted(p.name for p in folder.iterdir()) == ["part-00001.done", "part-00001.jsonl", "part-00001.lock",
                                                          "part-00001.skipped.jsonl", "x.tar"]
    first.close()  # closing twice is harmless
    third = ShardSink(folder, "part-00002")
    third.discard()
    assert not third.tmp.exists() and not third.tmp_skipped.exists()


def test_done_shards_and_concatenate(tmp_path):
    folder = tmp_path / "o.shards"
    assert done_shards(folder) == {}
    folder.mkdir()
    (folder / "part-00000.done").write_text('{"read": 1}')
    (folder / "part-00002.done").write_text('{"read": 3}')
    (folder / "other.done").write_text('{"read": 9}')
    assert done_shards(folder) == {"part-00000": {"read": 1}, "part-00002": {"read": 3}}
    assert list(done_shards(folder)) == ["part-00000", "part-00002"]
    assert done_shards(folder, ["part-00002", "part-00001", "other"]) == {"part-00002": {"read": 3},
                                                                         "other": {"read": 9}}
    a, b = folder / "a", folder / "b"
    a.write_bytes(b"1\n2\n")
    b.write_bytes(b"3\n")
    concatenate([a, b, a], tmp_path / "all.jsonl")
    assert (tmp_path / "all.jsonl").read_bytes() == b"1\n2\n3\n1\n2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.jsonl", "o.shards"]  # no temporary file left


# ---- the runner -----------------------------------------------------------------------------------


def test_plant_file_refuses_bad_options_before_any_work(tmp_path):
    from slipform.plant import plant_file

    src = tmp_path / "missing.txt"  # never read: a check let through fails fast on the missing file instead
    out = tmp_path / "o.jsonl"
    for options, message in [({"engine": "spark"}, r"^unknown engine 'spark'; choose from \('local', 'ray'\)$"),
                             ({"num_shards": 2, "shard_id": 2}, r"^shard id must be in \[0, 2\), got 2$"),
                             ({"num_shards": 2, "shard_id": -1}, r"^shard id must be in \[0, 2\), got -1$"),
                             ({"num_shards": 0, "shard_id": 0}, r"^shard id must be in \[0, 0\), got 0$"),
                             ({"workers": 0}, r"^workers must be >= 1$"),
                             ({"output_format": "wds"}, r"^--output-format wds needs shard input")]:
        with pytest.raises(ValueError, match=message):
            plant_file(src, out, progress=False, **options)
    assert not out.exists() and not skipped_path(out).exists()


@pytest.fixture
def echo_backend(monkeypatch, nlp):
    """A plug-in backend that turns the caption's first "dog" into "cat" (no word vectors: fast)."""
    from slipform.plant.core import backend as backend_mod

    monkeypatch.setattr(backend_mod, "_REGISTRY", dict(backend_mod._REGISTRY))

    class Echo(backend_mod.Backend):
        needs_vocabulary = False
        one_change = False

        def targets(self, item, doc):
            return ["dog"] if "dog" in item.caption else []

        def no_target_reason(self, doc):
            return "no dog"

        def rewrite(self, jobs):
            return [backend_mod.Proposal(j.item.caption.replace("dog", "cat", 1), "dog", "O", 4.9, "cat", ("", ""))
                    for j in jobs]

    backend_mod.register("echo")(Echo)
    return Echo


def test_a_small_run_counts_warns_and_shows_its_bar(tmp_path, capsys, echo_backend):
    from slipform.plant import PlantConfig, plant_file

    src = tmp_path / "c.jsonl"
    lines = ['{"id": "a", "caption": "Two dogs chasing a ball in the park."}', "{oops", "[1]",
             '{"id": "b", "caption": ""}', '{"id": "c", "caption": "A man holding a red umbrella and a dog."}',
             '{"id": "d", "caption": "A man holding a red umbrella."}']
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.jsonl"
    said = []
    summary = plant_file(src, out, PlantConfig(backend="echo"), max_messages=1, log=said.append, chunk_size=1)
    assert (summary.read, summary.planted, summary.negatives) == (6, 2, 2)
    assert summary.skipped == {"malformed JSON": 1, "not an object": 1, "empty caption": 1, "no dog": 1}
    assert summary.output == str(out) and summary.seconds >= summary.startup_seconds > 0
    assert said[0].startswith("warning: ") and "c.jsonl:2" in said[0]
    assert said[1:] == [f"warning: 1 more input problems not shown; see {skipped_path(out)}"]
    err = capsys.readouterr().err
    assert "plant: 100%" in err and "6/6" in err and " captions" in err and "planted=2, skipped=4" in err
    assert [json.loads(x)["negative"] for x in out.read_text().splitlines()] == [
        "Two cats chasing a ball in the park.", "A man holding a red umbrella and a cat."]
    assert [json.loads(x)["line"] for x in skipped_path(out).read_text().splitlines()] == [2, 3, 4, 6]
    # a rerun resumes: the captions are counted as done; the bad lines already recorded are not read again
    again = plant_file(src, out, PlantConfig(backend="echo"), progress=False, log=said.append)
    assert (again.read, again.resumed, again.negatives) == (4, 4, 0)


def test_a_run_stopped_midway_keeps_the_chunks_it_finished_and_resumes(tmp_path, monkeypatch, echo_backend):
    """Each chunk is written as it is planted (nothing finished is lost when a run is killed); the
    progress bar counts captions on stderr at the terminal's width; a backend that needs no
    vocabulary gets none built (seed-5 sample of runner.py)."""
    import tqdm as tqdm_mod

    from slipform.plant import PlantConfig, plant_file
    from slipform.plant.engine import pool as pool_mod
    from slipform.plant.engine import runner

    src = tmp_path / "c.jsonl"
    src.write_text("".join(json.dumps({"id": f"k{i}", "caption": f"A dog number {i} on a mat."}) + "\n"
                           for i in range(7)))
    out = tmp_path / "o.jsonl"
    planted, bars = [0], []

    def stop_at_third(chunk):
        planted[0] += 1
        if planted[0] == 3:
            raise KeyboardInterrupt
        return real(chunk)

    def no_vocabulary(*_):
        raise AssertionError("a vocabulary built for a backend that needs none")

    class Bar(tqdm_mod.tqdm):
        def __init__(self, **kw):
            bars.append(kw)
            super().__init__(**kw)

    real = pool_mod.plant_chunk
    monkeypatch.setattr(pool_mod, "plant_chunk", stop_at_third)
    monkeypatch.setattr(runner, "build_vocabulary", no_vocabulary)
    monkeypatch.setattr(tqdm_mod, "tqdm", Bar)
    with pytest.raises(KeyboardInterrupt):
        plant_file(src, out, PlantConfig(backend="echo"), chunk_size=2)
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["k0", "k1", "k2", "k3"]
    assert bars == [dict(total=7, unit=" captions", desc="plant", dynamic_ncols=True, file=sys.stderr)]
    monkeypatch.setattr(pool_mod, "plant_chunk", real)
    again = plant_file(src, out, PlantConfig(backend="echo"), chunk_size=2, progress=False)
    assert (again.read, again.resumed, again.negatives) == (7, 4, 3)
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [f"k{i}" for i in range(7)]


def test_the_pool_judges_forking_by_the_state_before_the_run_loaded_anything(tmp_path, monkeypatch, echo_backend):
    from slipform.plant import PlantConfig, plant_file
    from slipform.plant.engine import runner

    seen = []

    class Pool(runner.LocalPool):
        def __init__(self, workers, config, vocab_dict, before=None):
            seen.append((workers, before))
            super().__init__(workers, config, vocab_dict)

    monkeypatch.setattr(runner, "fork_state", lambda: (False, 3))  # taken first, before the planter loads
    monkeypatch.setattr(runner, "LocalPool", Pool)
    src = tmp_path / "c.jsonl"
    src.write_text('{"id": "a", "caption": "A dog on a mat."}\n')
    plant_file(src, tmp_path / "o.jsonl", PlantConfig(backend="echo"), progress=False)
    assert seen == [(1, (False, 3))]


# ---- the source -----------------------------------------------------------------------------------


def _shards(path, n, fmt=None):
    from slipform.plant.engine.source import plan_shards

    return [(s.start, s.stop, s.first_line, s.lines) for s in plan_shards(path, fmt, n)]


def test_line_shards_cut_at_line_starts_with_their_first_lines(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"aa\nbbb\nc\ndddd\n")  # lines start at bytes 0, 3, 7, 9; 14 bytes
    assert _shards(path, 1) == [(0, 14, 1, 4)]
    assert _shards(path, 2) == [(0, 7, 1, 2), (7, 14, 3, 2)]            # target 7: a line start
    assert _shards(path, 3) == [(0, 7, 1, 2), (7, 9, 3, 1), (9, 14, 4, 1)]  # targets 4 and 9
    path = tmp_path / "d.txt"
    path.write_bytes(b"aa\nbbb")  # the last line without its end
    assert _shards(path, 2) == [(0, 3, 1, 1), (3, 6, 2, 1)]
    path = tmp_path / "f.txt"
    path.write_bytes(b"a\nbbbb")  # the target (3) falls inside the unterminated last line: shard 1 is empty
    assert _shards(path, 2) == [(0, 6, 1, 2), (6, 6, 3, 0)]
    path = tmp_path / "e.txt"
    path.write_bytes(b"a\nb")  # targets 0, 1, 2 of 3 bytes
    assert _shards(path, 4) == [(0, 0, 1, 0), (0, 2, 1, 1), (2, 2, 2, 0), (2, 3, 2, 1)]


def test_item_shards_and_the_shards_names(tmp_path):
    from slipform.plant.engine.source import Shard, plan_shards

    path = tmp_path / "c.json"
    path.write_text(json.dumps({"annotations": [{"image_id": i, "id": 10 + i, "caption": f"A dog number {i}."}
                                                for i in range(5)],
                                "images": [{"id": i, "file_name": f"{i}.jpg"} for i in range(5)]}))
    assert _shards(path, 2) == [(0, 2, 0, 2), (2, 5, 2, 3)]
    assert plan_shards(path, None, 2)[1].name == "part-00001-of-00002"
    assert Shard(12, 345, 0, 0, 0, 0).name == "part-00012-of-00345"


def test_a_shards_source_reads_its_own_items_with_global_ids(tmp_path):
    from slipform.plant.engine.source import Source, plan_shards

    path = tmp_path / "c.txt"
    path.write_bytes(b"aa\nbbb\nc\ndddd\n")
    shards = plan_shards(path, None, 3)
    assert [[(c.id, c.caption, c.line) for c in Source(path, shard=s)] for s in shards] == [
        [("1", "aa", 1), ("2", "bbb", 2)], [("3", "c", 3)], [("4", "dddd", 4)]]
    assert [c.id for c in Source(path)] == ["1", "2", "3", "4"] and Source(path).fmt == "txt"
    coco = tmp_path / "c.json"
    coco.write_text(json.dumps({"annotations": [{"image_id": i, "id": 10 + i, "caption": f"cap {i}"}
                                                for i in range(5)],
                                "images": [{"id": i, "file_name": f"{i}.jpg"} for i in range(5)]}))
    assert [[c.id for c in Source(coco, shard=s)] for s in plan_shards(coco, None, 2)] == [["10", "11"],
                                                                                        ["12", "13", "14"]]


def test_the_plan_is_cached_per_input_and_a_damaged_cache_is_planned_again(tmp_path):
    from slipform.plant.engine.source import input_key, plan_shards
    from slipform.plant.knowledge.embed import cache_dir

    path = tmp_path / "c.txt"
    path.write_bytes(b"aa\nbbb\nc\ndddd\n")
    key = input_key(path, "txt", 2, None)
    assert len(key) == 20 and key != input_key(path, "txt", 3, None)
    cache = cache_dir() / f"shards2-{key}.json"
    cache.unlink(missing_ok=True)
    first = plan_shards(path, None, 2)
    assert [s["start"] for s in json.loads(cache.read_text())] == [0, 7]
    cache.write_text(json.dumps([{**s, "lines": 99} for s in json.loads(cache.read_text())]))
    assert [s.lines for s in plan_shards(path, None, 2)] == [99, 99]  # read back, not planned again
    cache.write_text("{oops")
    assert plan_shards(path, None, 2) == first
    cache.write_text('[{"index": 0}]')
    assert plan_shards(path, None, 2) == first
    path.write_bytes(b"aa\nbbb\nc\ndddd\ne\n")  # another size: another key
    assert input_key(path, "txt", 2, None) != key


def test_count_lines(tmp_path):
    from slipform.plant.engine.source import count_lines

    for name, data, n in [("a.txt", b"x\ny\n", 2), ("b.TXT", b"x\ny", 2), ("c.csv", b"", 0), ("d.tsv", b"\n", 1),
                          ("e.jsonl", b"x\r\ny\rz", 3), ("f.json", b"[]", None)]:
        (tmp_path / name).write_bytes(data)
        assert count_lines(tmp_path / name) == n, name
