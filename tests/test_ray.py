"""Sharded planting: the sink alone, SLURM-style shards, and the Ray engine on a local 2-CPU cluster.

One Ray session serves the module (starting it costs ~6 s); its first run has a shard whose
first attempt dies mid-write, so every output check below is also a check of the retry.
"""

import json
import os

import pytest

from slipform.plant import PlantConfig, plant_file
from slipform.plant.engine.sink import ShardSink, done_shards
from slipform.plant.engine.source import plan_shards
from slipform.plant.engine.summary import Summary

from conftest import read_jsonl

SHARDS = 3


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, real_captions):
    """JSONL with bad lines, screened captions and captions with no target among 240 real ones."""
    rows = [json.dumps({"id": f"c{i}", "caption": c}) for i, c in enumerate(real_captions[:240])]
    rows[17] = '{"id": "broken", "caption": "A cat'
    rows[90] = json.dumps({"id": "french", "caption": "Un chien qui court dans le parc avec une balle."})
    rows[150] = json.dumps({"id": "nocand", "caption": "It is what it is."})
    rows[200] = json.dumps({"id": "empty", "caption": "  "})
    path = tmp_path_factory.mktemp("corpus") / "captions.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


SINGLE_LOG: list[str] = []  # what the single-process run told the user


@pytest.fixture(scope="module")
def single(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "neg.jsonl"
    plant_file(corpus, out, PlantConfig(), progress=False, log=SINGLE_LOG.append)
    return out


def test_skip_records_name_file_and_line_in_input_order(single, corpus):
    skips = read_jsonl(single.with_name("neg.skipped.jsonl"))
    assert all(s["file"] == str(corpus) for s in skips)
    by_id = {s["id"]: s for s in skips}
    assert by_id["line:18"]["line"] == 18 and by_id["french"]["line"] == 91
    assert by_id["nocand"]["line"] == 151 and by_id["empty"]["line"] == 201
    assert [s["line"] for s in skips] == sorted(s["line"] for s in skips)


@pytest.mark.parametrize("name,text", [
    ("a.txt", "".join(f"cap {i}\n" for i in range(1, 38))),
    ("b.csv", "filepath,title\n" + "".join(f"i{i}.jpg,cap {i}\n" for i in range(40)) + "bad\n"),
    ("c.jsonl", "".join(json.dumps({"caption": f"c{i}"}) + "\n" if i % 7 else "{bad\n" for i in range(50))),
    ("d.txt", "x\r\ny\r\nz"),
    ("captions_val.json", json.dumps({"annotations": [{"id": i, "caption": f"c{i}"} for i in range(11)]})),
])
def test_shards_are_the_whole_file_cut_in_order(tmp_path, name, text):
    from slipform.plant.engine.source import Source
    from slipform.text.io import read_captions

    path = tmp_path / name
    path.write_text(text, newline="")
    whole = list(read_captions(path))
    for n in (2, 3, 7, 60):
        plan = plan_shards(path, None, n)
        assert [s.index for s in plan] == list(range(n)) and sum(s.lines for s in plan) >= len(whole)
        assert [x for s in plan for x in Source(path, None, shard=s)] == whole, n


def test_a_finished_shard_is_never_overwritten(tmp_path):
    first = ShardSink(tmp_path, "part-00000-of-00001")
    first.write([{"id": "1", "negative": "good"}], [])
    assert first.commit({"read": 1})
    stale = ShardSink(tmp_path, "part-00000-of-00001")  # a duplicate attempt, still running
    stale.write([{"id": "1", "negative": "stale"}], [{"id": "2", "reason": "x"}])
    assert not stale.commit({"read": 9})
    assert read_jsonl(tmp_path / "part-00000-of-00001.jsonl") == [{"id": "1", "negative": "good"}]
    assert (tmp_path / "part-00000-of-00001.skipped.jsonl").read_text() == ""
    assert done_shards(tmp_path) == {"part-00000-of-00001": {"read": 1}}
    dead = ShardSink(tmp_path, "part-00000-of-00001")  # dies mid-write: never commits
    dead.write([{"id": "1", "negative": "half"}], [])
    assert read_jsonl(tmp_path / "part-00000-of-00001.jsonl") == [{"id": "1", "negative": "good"}]
    assert not list(tmp_path.glob("*.done.tmp")) and len(list(tmp_path.glob("*.tmp"))) == 2


@pytest.fixture(scope="module")
def slurm(corpus, tmp_path_factory):
    """SLURM-style shards, one plant_file per --shard-id, and the (start, stop, lines) each read."""
    import slipform.text.io as io

    plan_shards(corpus, None, SHARDS)  # the plan (one newline count) is cached per input, as the vocabulary
    reads, real = [], io._byte_lines

    def recording(path, start, stop):
        lines = list(real(path, start, stop))
        reads.append((start, stop, len(lines)))
        yield from lines

    def whole(*args):  # the whole-file reader: a generator, created to check the input, never run
        raise AssertionError("a shard read the whole file")
        yield

    folder, parts = tmp_path_factory.mktemp("slurm"), []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(io, "_byte_lines", recording)
        mp.setattr(io, "_jsonl", whole)
        for shard in plan_shards(corpus, None, SHARDS):
            out = folder / f"slurm{shard.index}.jsonl"
            plant_file(corpus, out, PlantConfig(), num_shards=SHARDS, shard_id=shard.index, progress=False)
            parts.append(out)
    return parts, reads


def test_slurm_shards_read_only_their_part(corpus, single, slurm):
    parts, reads = slurm
    assert reads == [(s.start, s.stop, s.lines) for s in plan_shards(corpus, None, SHARDS)]
    assert sum(n for _, _, n in reads) == 240 and reads[0][0] == 0 and reads[-1][1] == corpus.stat().st_size
    assert b"".join(p.read_bytes() for p in parts) == single.read_bytes()
    skips = b"".join(p.with_name(p.name[:-6] + ".skipped.jsonl").read_bytes() for p in parts)
    assert skips == single.with_name("neg.skipped.jsonl").read_bytes()  # the same lines, in the same order


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory):
    ray = pytest.importorskip("ray")
    flag = tmp_path_factory.mktemp("fault") / "died"
    os.environ["SLIPFORM_FAULT_INJECT"] = f"1:{flag}"  # read by the actors, which inherit the environment
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield flag
    ray.shutdown()
    del os.environ["SLIPFORM_FAULT_INJECT"]


@pytest.mark.slow  # ~40 s on the shared 2-core machine: two runs, each starting 2 actors that load spaCy
def test_ray_matches_one_process_survives_a_dead_actor_and_resumes(ray_session, corpus, single, slurm, tmp_path):
    out = tmp_path / "ray.jsonl"
    summary = plant_file(corpus, out, PlantConfig(), engine="ray", workers=2, num_shards=SHARDS, chunk_size=16,
                         progress=False)
    assert ray_session.exists(), "the injected fault did not fire"
    assert out.read_bytes() == single.read_bytes()
    assert out.with_name("ray.skipped.jsonl").read_bytes() == single.with_name("neg.skipped.jsonl").read_bytes()
    shards = out.with_name("ray.jsonl.shards")
    assert not list(shards.glob("*.tmp")), "the dead attempt's files were left behind"
    assert summary.read == 240 and summary.planted == len({r["id"] for r in read_jsonl(out)})
    assert sum(summary.skipped.values()) == len(read_jsonl(out.with_name("ray.skipped.jsonl")))

    # SLURM-style shards are Ray's shard files
    for shard, part in zip(plan_shards(corpus, None, SHARDS), slurm[0]):
        assert part.read_bytes() == (shards / f"{shard.name}.jsonl").read_bytes()
        assert part.with_name(part.name[:-6] + ".skipped.jsonl").read_bytes() == \
            (shards / f"{shard.name}.skipped.jsonl").read_bytes()

    # a rerun after deleting one done marker (and spoiling that shard) plants that shard only
    (shards / "part-00002-of-00003.done").unlink()
    (shards / "part-00002-of-00003.jsonl").write_text('{"id": "half')
    from slipform.cli import main

    assert main(["plant", str(corpus), "-o", str(out), "--engine", "ray", "--workers", "2", "--no-progress"]) == 0
    again = Summary.from_dict(json.loads(out.with_name("ray.jsonl.summary.json").read_text()))
    assert out.read_bytes() == single.read_bytes()
    assert 0 < again.planted < summary.planted and again.read == 240 - 1  # the bad line is not re-read
    assert again.resumed + again.planted + sum(again.skipped.values()) == 240 - 1


def test_shard_progress_and_warnings_in_input_order():
    """The driver's bookkeeping for the bar and the warnings, fed out of order as actors finish."""
    from slipform.plant.engine.ray_engine import InOrder, ShardProgress

    tally = ShardProgress(initial=10)  # shards done by an earlier run
    tally.start(0), tally.start(1)
    tally.report({0: 16, 1: 32})
    tally.report({1: 16, 2: 99})  # shard 1 retried from zero; shard 2 has not started (a stale report)
    assert tally.n == 10 + 16 + 16
    tally.finish(1, 40)
    tally.report({1: 48})  # a late report of a finished shard counts no more
    assert tally.n == 10 + 16 + 40
    tally.finish(0, 20)
    assert tally.n == 70 and not tally.running

    order = InOrder([0, 2, 3], max_messages=3)
    assert order.done(3, ["d1", "d2"]) == [] and order.done(2, []) == []
    assert order.done(0, ["a1", "a2"]) == ["a1", "a2", "d1"]  # shard 0's first, then the rest up to 3


@pytest.mark.slow  # ~25 s: 2 actors load spaCy
def test_ray_shows_one_bar_over_all_shards_and_one_process_warnings(ray_session, corpus, single, tmp_path,
                                                                   monkeypatch, capsys):
    import tqdm

    counts = []

    class Recording(tqdm.tqdm):
        def update(self, n=1):
            super().update(n)
            counts.append(self.n)

    monkeypatch.setattr(tqdm, "tqdm", Recording)
    logs = []
    out = tmp_path / "bar.jsonl"
    summary = plant_file(corpus, out, PlantConfig(), engine="ray", workers=2, num_shards=SHARDS, chunk_size=16,
                         progress=True, log=logs.append)
    assert counts and counts[-1] == summary.read == 240 and counts == sorted(counts)
    assert "| 240/240 " in capsys.readouterr().err.split("\r")[-1]  # the bar's last frame, as the user saw it
    assert [m for m in logs if not m.startswith("ray: ")] == SINGLE_LOG  # the same warnings as one process
    assert out.read_bytes() == single.read_bytes()

    (tmp_path / "bar.jsonl.shards" / "part-00002-of-00003.done").unlink()  # a rerun: the bar starts at the done shards
    counts.clear()
    again = plant_file(corpus, out, PlantConfig(), engine="ray", workers=2, progress=True, log=logs.append)
    assert counts[-1] == again.read == 240 - 1 and min(counts) > 100  # the bad line is not re-read, as in one process


def test_an_actor_reports_its_shard_after_every_chunk(corpus, tmp_path):
    """The bar moves within a shard: the worker (here in this process) reports its count per chunk."""
    from slipform.plant.engine.ray_engine import ShardWorker
    from slipform.text.io import Columns

    class Counter:
        def __init__(self):
            self.calls = []
            self.set = self  # counter.set.remote(index, n), as on an actor handle

        def remote(self, index, n):
            self.calls.append((index, n))

    shard = plan_shards(corpus, None, SHARDS)[1]
    counter = Counter()
    result = ShardWorker(PlantConfig(), None).plant(str(corpus), "jsonl", Columns(), shard, str(tmp_path), 16, 20,
                                                    counter)
    counts = [n for _, n in counter.calls]
    assert len(counts) >= result["read"] // 17 and counts == sorted(set(counts)) and counts[-1] == result["read"]
    assert {i for i, _ in counter.calls} == {1}
