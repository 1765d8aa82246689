"""The planting engine's modules (plant/engine/), what the issue-31 samples of each left unpinned:
counts that add up over a chunk, and more (each test names the claim)."""

from collections import Counter
from pathlib import Path

import pytest

from slipform.plant.engine.stream import Chunk, account
from slipform.plant.engine.summary import Summary
from slipform.text.io import Caption


class _Sink:
    def __init__(self):
        self.calls = []

    def write(self, records, skips):
        self.calls.append((records, skips))


def test_account_counts_every_skip_of_one_reason():
    chunk = Chunk([Caption("a", "x", line=1)], skips=[{"id": "p", "reason": "empty caption", "file": "f", "line": 2},
                                                        {"id": "q", "reason": "empty caption", "file": "f", "line": 3}],
                  read=3)
    summary = Summary(skipped=Counter({"empty caption": 4}))
    account(summary, _Sink(), "f", chunk, [], [{"id": "a", "reason": "backend error: a"},
                                               {"id": "a", "reason": "backend error: b"}], {})
    assert summary.skipped == {"empty caption": 6, "backend error": 2}


def test_an_append_sink_makes_the_folders_of_its_output(tmp_path):
    from slipform.plant.engine.sink import AppendSink

    out = tmp_path / "a" / "b" / "neg.jsonl"
    sink = AppendSink(out)
    sink.write([{"id": "1"}], [{"id": "2", "reason": "r"}])
    sink.close()
    assert out.read_text() == '{"id": "1"}\n' and (out.parent / "neg.skipped.jsonl").read_text() == \
        '{"id": "2", "reason": "r"}\n'
    again = AppendSink(out)  # again, in the folders now there
    assert again.done == {"1", "2"}
    again.close()


def test_a_shard_attempt_starts_with_nothing_done(tmp_path):
    from slipform.plant.engine.sink import ShardSink

    sink = ShardSink(tmp_path / "shards", "part-00000-of-00001")  # the folder made for it
    assert sink.done == set()  # a shard is written whole or not at all: no id is left out of it
    sink.extra.append((tmp_path / "shards" / "x.tar.tmp", tmp_path / "shards" / "x.tar"))  # never written: it died
    sink.discard()
    assert not list((tmp_path / "shards").iterdir())


# -- runner.plant_file: what a run passes on (the planter's own counts are the reference)
@pytest.fixture
def lazy_backend(monkeypatch, nlp):
    """A plug-in backend whose proposal for a caption with a cat changes nothing (the checks reject it)."""
    from slipform.plant.core import backend as backend_mod

    monkeypatch.setattr(backend_mod, "_REGISTRY", dict(backend_mod._REGISTRY))

    class Lazy(backend_mod.Backend):
        needs_vocabulary = False
        one_change = False

        def targets(self, item, doc):
            return ["dog"]

        def no_target_reason(self, doc):
            return "no dog"

        def rewrite(self, jobs):
            return [backend_mod.Proposal(j.item.caption if "cat" in j.item.caption else
                                         j.item.caption.replace("dog", "cat", 1), "dog", "O", 4.9, "cat", ("", ""))
                    for j in jobs]

    backend_mod.register("lazy")(Lazy)


def test_a_run_counts_the_planters_rejections(tmp_path, nlp, lazy_backend):
    from slipform.plant import PlantConfig, plant_file
    from slipform.plant.core.planter import ConcretePlant

    texts = ["A dog and a cat on a sofa.", "A dog on a beach.", "A cat and a dog in a yard.", "Two dogs in a car."]
    src = tmp_path / "caps.lines"  # no known suffix: the format is given
    src.write_text("\n".join(texts) + "\n")
    summary = plant_file(src, tmp_path / "n.jsonl", PlantConfig(backend="lazy"), fmt="txt", progress=False,
                         chunk_size=3)
    direct = ConcretePlant(PlantConfig(backend="lazy")).plant([Caption(str(i + 1), t) for i, t in enumerate(texts)],
                                                             list(nlp.pipe(texts)))
    assert summary.rejected == direct.rejected and sum(summary.rejected.values()) == 2
    assert (summary.read, summary.negatives) == (4, len(direct.records)) == (4, 2)


def test_a_shards_bar_counts_the_shards_lines(tmp_path, capsys, lazy_backend):
    from slipform.plant import PlantConfig, plant_file
    from slipform.plant.engine.source import plan_shards

    src = tmp_path / "caps.txt"
    src.write_text("".join(f"A dog number {i} on a beach.\n" for i in range(10)))
    shard = plan_shards(src, None, 3)[1]
    summary = plant_file(src, tmp_path / "n.jsonl", PlantConfig(backend="lazy"), num_shards=3, shard_id=1,
                         chunk_size=2)
    frames = capsys.readouterr().err.split("\r")
    assert summary.read == shard.lines < 10
    assert f" 0/{shard.lines} " in frames[1]  # the bar's first frame: the shard's lines, not the file's


def _parquet(folder, rows_per_file):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f, rows in enumerate(rows_per_file):
        path = folder / f"{f:05d}.parquet"
        pq.write_table(pa.table({"key": [f"{f}{i:04d}" for i in range(len(rows))], "caption": rows}), path)
        paths.append(str(path))
    return paths


def test_shard_files_plant_only_the_shard_asked_for_with_a_bar(tmp_path, capsys, lazy_backend):
    from slipform.plant import PlantConfig, plant_file

    paths = _parquet(tmp_path / "in", [["A dog on a beach."] * 3, ["A dog in a car.", "A dog and a cat."]])
    out = tmp_path / "out"
    summary = plant_file(paths, out, PlantConfig(backend="lazy"), num_shards=2, shard_id=1, chunk_size=1)
    assert (summary.read, summary.negatives, sum(summary.rejected.values())) == (2, 1, 1)
    assert sorted(p.name for p in out.glob("*.jsonl")) == ["00001.jsonl", "00001.skipped.jsonl"]
    err = capsys.readouterr().err
    assert "plant: " in err and "2/2" in err and " samples" in err  # the bar over the shard's captions
    again = plant_file(paths, out, PlantConfig(backend="lazy"), num_shards=2, shard_id=1, chunk_size=1)
    assert again.negatives == 0 and 0 <= again.seconds < 60  # nothing left to do: timed all the same


def test_the_vocabulary_reads_the_input_in_the_format_given(tmp_path, real_captions):
    from slipform.plant import PlantConfig, plant_file

    src = tmp_path / "caps.lines"  # a suffix no format is known by: only --format says how to read it
    src.write_text("\n".join(real_captions[:3]) + "\n")
    import time

    start = time.perf_counter()
    summary = plant_file(src, tmp_path / "n.jsonl", PlantConfig(), fmt="txt", progress=False)
    assert summary.read == 3 and summary.negatives == 3
    assert 0 < summary.seconds <= time.perf_counter() - start


def test_a_shard_file_of_another_name_is_read_in_the_format_given(tmp_path, lazy_backend):
    from slipform.plant import PlantConfig, plant_file

    (path,) = _parquet(tmp_path / "in", [["A dog on a beach.", "A dog in a car."]])
    odd = tmp_path / "in" / "captions.table"
    Path(path).rename(odd)
    summary = plant_file(str(odd), tmp_path / "out", PlantConfig(backend="lazy"), fmt="parquet", progress=False)
    assert (summary.read, summary.negatives) == (2, 2)
    assert [p.name for p in (tmp_path / "out").glob("*.jsonl") if "skipped" not in p.name] == ["captions.table.jsonl"]


def test_a_one_byte_file_has_one_line_ended_or_not(tmp_path):
    from slipform.plant.engine.source import plan_shards

    for name, data in (("nl.txt", b"\n"), ("x.txt", b"x")):
        path = tmp_path / name
        path.write_bytes(data)
        assert [s.lines for s in plan_shards(path, None, 1)] == [1], name  # "\n" ends its line: no second one


# -- pool: a worker's loading and its vectors (the worker code, run here in this process)
def test_a_worker_loads_the_vocabulary_it_is_given_and_says_its_threads(monkeypatch):
    from slipform.plant import PlantConfig
    from slipform.plant.engine import pool
    from slipform.plant.knowledge.vocabulary import Vocabulary

    monkeypatch.setattr(pool, "_WORKER", {})
    monkeypatch.delenv("SLIPFORM_TORCH_THREADS", raising=False)
    vocab = Vocabulary(["dog", "cat"], ["red"], ["sit"])
    pool.init_worker(PlantConfig(), vocab.to_dict(), threads=3)
    assert pool._WORKER["plant"]._vocabulary.to_dict() == vocab.to_dict()
    assert __import__("os").environ["SLIPFORM_TORCH_THREADS"] == "3"


def test_a_worker_saves_its_vectors_once_it_has_them(monkeypatch):
    from types import SimpleNamespace

    from slipform.plant.engine import pool

    saved = []
    monkeypatch.setattr(pool, "_WORKER", {"plant": SimpleNamespace(vectors=SimpleNamespace(save=lambda: saved.append(1)))})
    pool.save_vectors()
    assert saved == [1]
    monkeypatch.setattr(pool, "_WORKER", {"plant": SimpleNamespace()})  # vectors never loaded: nothing to save
    pool.save_vectors()
    monkeypatch.setattr(pool, "_WORKER", {})
    pool.save_vectors()
    assert saved == [1]


def test_wds_output_needs_tar_input_and_the_refusal_says_so(tmp_path):
    from slipform.plant import PlantConfig, plant_file

    paths = _parquet(tmp_path / "in", [["A dog."], ["A cat."]])
    for spec in (paths[:1], paths):  # one file or two
        with pytest.raises(ValueError, match=r"^--output-format wds copies tar members: it needs \.tar input "
                                             r"\(for Parquet: parquet or jsonl\)$"):
            plant_file(spec, tmp_path / "out", PlantConfig(), output_format="wds", progress=False)
    assert not (tmp_path / "out").exists()  # before any work


def test_a_files_warnings_stop_at_max_messages(tmp_path):
    from slipform.plant.engine.files import FileShard, FileWriter
    from slipform.plant.engine.stream import Chunk

    writer = FileWriter(tmp_path, FileShard(0, 1, "in/00000.tar", "wds", "00000"), "jsonl", max_messages=3)
    writer.add([], Chunk([], warnings=["a", "b"], read=2), [], [], {})
    writer.add([], Chunk([], warnings=["c", "d"], read=2), [], [], {})
    writer.add([], Chunk([], warnings=["e"], read=1), [], [], {})
    result = writer.commit()
    assert result["warnings"] == ["a", "b", "c"] and result["read"] == 5


def test_a_sample_without_metadata_gets_a_json_member_with_its_negatives(tmp_path, lazy_backend):
    import io
    import json
    import tarfile

    from slipform.plant import PlantConfig, plant_file

    src = tmp_path / "00000.tar"
    with tarfile.open(src, "w") as tar:
        for key, text in (("k0", "A dog on a beach."), ("k1", "A dog in a car.")):
            data = text.encode()
            info = tarfile.TarInfo(f"{key}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    plant_file([str(src)], tmp_path / "out", PlantConfig(backend="lazy"), output_format="wds", progress=False)
    with tarfile.open(tmp_path / "out" / "00000.tar") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    assert sorted(members) == ["k0.json", "k0.txt", "k1.json", "k1.txt"]
    for key, negative in (("k0", "A cat on a beach."), ("k1", "A cat in a car.")):
        meta = json.loads(members[f"{key}.json"])
        assert list(meta) == ["negatives"] and [n["negative"] for n in meta["negatives"]] == [negative]


def test_shard_files_rerun_with_other_settings_is_refused(tmp_path, lazy_backend):
    from slipform.plant import PlantConfig, plant_file

    paths = _parquet(tmp_path / "in", [["A dog on a beach."]])
    out = tmp_path / "out"
    plant_file(paths, out, PlantConfig(backend="lazy"), progress=False)
    plant_file(paths, out, PlantConfig(backend="lazy"), progress=False)  # the same: resumed
    with pytest.raises(ValueError, match=f"^{out} holds outputs of other input shards or other settings; delete it "
                                         "or choose another output folder$"):
        plant_file(paths, out, PlantConfig(backend="lazy", seed=1), progress=False)


def test_the_shards_vocabulary_is_cached_per_spacy_model(tmp_path, monkeypatch, real_captions):
    from slipform.plant import PlantConfig
    from slipform.plant.engine.files import plan_files, shard_vocabulary
    from slipform.text.nlp import ModelNotFound
    from slipform.text.shards import ShardColumns

    monkeypatch.setenv("SLIPFORM_CACHE", str(tmp_path / "cache"))
    paths = _parquet(tmp_path / "in", [real_captions[:6]])
    columns = ShardColumns()
    plan = plan_files(paths, None, columns, "jsonl")
    vocab = shard_vocabulary(plan, columns, PlantConfig())
    assert vocab.to_dict() == shard_vocabulary(plan, columns, PlantConfig()).to_dict()  # the cached one
    assert len(list((tmp_path / "cache").glob("vocab3-files-*.json"))) == 1
    with pytest.raises(ModelNotFound, match="en_core_web_nonexistent"):  # another model: built again, not reused
        shard_vocabulary(plan, columns, PlantConfig(spacy_model="en_core_web_nonexistent"))


def test_parquet_output_writes_each_files_side_car_and_the_startup_time(tmp_path, lazy_backend):
    from slipform.plant import PlantConfig, plant_file
    from slipform.plant.core.record import read_sidecar

    paths = _parquet(tmp_path / "in", [["A dog on a beach.", "A cat."], ["A dog in a car."]])
    summary = plant_file(paths, tmp_path / "out", PlantConfig(backend="lazy"), output_format="parquet",
                         progress=False)
    first = read_sidecar(tmp_path / "out" / "00000.parquet")
    assert {k: [n["negative"] for n in v] for k, v in first.items()} == {"00000": ["A cat on a beach."]}
    assert list(read_sidecar(tmp_path / "out" / "00001.parquet")) == ["10000"]
    assert 0 < summary.startup_seconds <= summary.seconds


def test_a_files_run_logs_at_most_max_messages_warnings_then_counts_the_rest(tmp_path, lazy_backend):
    import io
    import tarfile

    from slipform.plant import PlantConfig, plant_file

    src = tmp_path / "00000.tar"
    with tarfile.open(src, "w") as tar:
        for name, data in (("k0.jpg", b"x"), ("k1.jpg", b"x"), ("k2.jpg", b"x"), ("k3.txt", b"A dog on a beach.")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    for shown in (1, 2):
        logs: list[str] = []
        summary = plant_file([str(src)], tmp_path / f"out{shown}", PlantConfig(backend="lazy"), progress=False,
                             max_messages=shown, log=logs.append)
        assert summary.skipped["sample without caption"] == 3 and summary.negatives == 1
        warnings = [m for m in logs if m.startswith("warning:")]
        assert len(warnings) == shown + 1 and "k0" in warnings[0] and (shown == 1 or "k1" in warnings[1])
        assert warnings[-1] == (f"warning: {3 - shown} more input problems not shown; "
                                f"see {tmp_path / f'out{shown}'}/*.skipped.jsonl")


def test_what_names_shard_files_rather_than_one_caption_file(tmp_path):
    from pathlib import Path

    from slipform.plant.engine.files import FileShard, files_key, is_shard_input

    for spec in ("a.tar", "d/{000..001}.tar", "a.tar,b.tar", "a.tar::b.tar", "pipe:cat a.tar", Path("a.parquet"),
                 "a.tar,notes.txt"):  # the first input decides; plan_files then refuses the mix by name
        assert is_shard_input(spec), spec
    for spec in ("captions.jsonl", "notes.txt", "a.txt,b.txt"):
        assert not is_shard_input(spec), spec
    assert is_shard_input("captions.jsonl", "wds") and not is_shard_input("a.tar", "jsonl")
    # a remote shard is named by its URL, never looked up on this disk
    for url in ("https://host/data/00000.tar", "pipe:cat /no/such/dir/00000.tar"):
        remote = [FileShard(0, 1, url, "wds", "00000")]
        assert files_key(remote, "x") == files_key(remote, "x") != files_key(remote, "y"), url


def test_shard_files_changed_since_a_run_are_refused_on_rerun(tmp_path, lazy_backend):
    from slipform.plant import PlantConfig, plant_file

    paths = _parquet(tmp_path / "in", [["A dog on a beach."], ["A dog in a car."]])
    out = tmp_path / "out"
    plant_file(paths, out, PlantConfig(backend="lazy"), progress=False)
    _parquet(tmp_path / "in", [["A dog on a beach.", "A dog on a bed."], ["A dog in a car."]])  # the first file grows
    with pytest.raises(ValueError, match=f"^{out} holds outputs of other input shards or other settings"):
        plant_file(paths, out, PlantConfig(backend="lazy"), progress=False)


def test_a_file_is_planted_in_chunks_of_chunk_size_by_one_process_and_by_a_ray_task(tmp_path, lazy_backend, lexicon):
    from slipform.plant import PlantConfig, plant_file
    from slipform.plant.core import backend as backend_mod
    from slipform.plant.engine.files import plan_files, plant_one
    from slipform.text.shards import ShardColumns

    sizes: list[int] = []
    lazy = backend_mod._REGISTRY["lazy"]
    rewrite = lazy.rewrite

    def counted(self, jobs):
        sizes.append(len(jobs))
        return rewrite(self, jobs)

    lazy.rewrite = counted
    paths = _parquet(tmp_path / "in", [[f"A dog on beach {i}." for i in range(5)]])
    plant_file(paths, tmp_path / "out", PlantConfig(backend="lazy"), chunk_size=2, progress=False)
    assert sizes == [2, 2, 1]
    seen: list[int] = []

    def plant(chunk):
        seen.append(len(chunk.items))
        return chunk, [], [], {}

    (shard,) = plan_files(paths, None, ShardColumns(), "jsonl")
    (tmp_path / "ray").mkdir()
    plant_one(shard, tmp_path / "ray", ShardColumns(), "jsonl", lexicon, 100, 2, 5, plant)
    assert seen == [2, 2, 1]


def test_a_shards_outputs_are_readable_by_all_and_executable_by_none(tmp_path, lazy_backend):
    import os

    from slipform.plant import PlantConfig, plant_file

    paths = _parquet(tmp_path / "in", [["A dog on a beach."]])
    old = os.umask(0o022)
    try:
        plant_file(paths, tmp_path / "out", PlantConfig(backend="lazy"), progress=False)
    finally:
        os.umask(old)
    for name in ("00000.jsonl", "00000.skipped.jsonl"):
        assert (tmp_path / "out" / name).stat().st_mode & 0o777 == 0o644, name


def test_the_input_files_are_checked_before_any_work_with_whole_messages(tmp_path, lazy_backend):
    from slipform.plant import PlantConfig, plant_file
    from slipform.text.io import InputError

    (first,) = _parquet(tmp_path / "a", [["A dog on a beach."]])
    (second,) = _parquet(tmp_path / "b", [["A dog in a car."]])  # the same name in another folder
    with pytest.raises(InputError, match=r"^two input shards are named '00000'; their outputs would clash$"):
        plant_file([first, second], tmp_path / "out", PlantConfig(backend="lazy"), progress=False)
    (tmp_path / "notes.txt").write_text("A dog.\n")
    with pytest.raises(InputError, match=rf"^cannot plant {tmp_path / 'notes.txt'}: the inputs must all be \.tar "
                                         r"shards or all \.parquet files \(or pass --format wds/parquet\)$"):
        plant_file([first, str(tmp_path / "notes.txt")], tmp_path / "out", PlantConfig(backend="lazy"), progress=False)
    tar = str(tmp_path / "c" / "00001.tar")  # two known formats mixed: the message names the first input
    with pytest.raises(InputError, match=rf"^cannot plant {first}: the inputs must all be \.tar shards"):
        plant_file([first, tar], tmp_path / "out", PlantConfig(backend="lazy"), progress=False)
    with pytest.raises(InputError, match=rf"^input not found: {tar}$"):
        plant_file([tar], tmp_path / "out", PlantConfig(backend="lazy"), progress=False)
    assert not (tmp_path / "out").exists()


def test_a_files_run_makes_its_nested_folder_and_names_each_skips_file(tmp_path, lazy_backend):
    import json

    from slipform.plant import PlantConfig, plant_file

    (path,) = _parquet(tmp_path / "in", [["A dog on a beach.", "A cat."]])
    out = tmp_path / "runs" / "today" / "negatives"
    plant_file([path], out, PlantConfig(backend="lazy"), progress=False)
    skips = [json.loads(line) for line in (out / "00000.skipped.jsonl").read_text().splitlines()]
    assert [s["file"] for s in skips] == [path]


def test_the_shards_vocabulary_is_cached_per_sample_size(tmp_path, monkeypatch, real_captions):
    from slipform.plant import PlantConfig
    from slipform.plant.engine.files import plan_files, shard_vocabulary
    from slipform.text.shards import ShardColumns

    monkeypatch.setenv("SLIPFORM_CACHE", str(tmp_path / "cache"))
    paths = _parquet(tmp_path / "in", [real_captions[:6]])
    plan = plan_files(paths, None, ShardColumns(), "jsonl")
    shard_vocabulary(plan, ShardColumns(), PlantConfig())
    shard_vocabulary(plan, ShardColumns(), PlantConfig(vocab_sample=2))  # the first two captions only
    assert len(list((tmp_path / "cache").glob("vocab3-files-*.json"))) == 2


def test_shard_files_read_the_columns_asked_for(tmp_path, lazy_backend):
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from slipform.plant import PlantConfig, plant_file
    from slipform.text.shards import ShardColumns

    path = tmp_path / "in" / "00000.parquet"
    path.parent.mkdir()
    pq.write_table(pa.table({"uid": ["u1", "u2"], "text": ["A dog on a beach.", "A cat in a car."]}), path)
    plant_file([str(path)], tmp_path / "out", PlantConfig(backend="lazy"), progress=False,
               columns=ShardColumns(caption_col="text", key_col="uid"))
    ids = {json.loads(x)["id"] for name in ("00000.jsonl", "00000.skipped.jsonl")
           for x in (tmp_path / "out" / name).read_text().splitlines()}
    assert ids == {"u1", "u2"}  # every row read by its key column, planted or skipped


def test_a_rerun_reading_the_file_in_another_format_is_refused(tmp_path, lazy_backend):
    from slipform.plant import PlantConfig, plant_file

    src = tmp_path / "c.txt"
    src.write_text("A dog on a beach.\nA cat in a car.\n")
    plant_file(src, tmp_path / "o.jsonl", PlantConfig(backend="lazy"), progress=False, fmt="txt")
    with pytest.raises(ValueError, match="was planted from another input file"):
        plant_file(src, tmp_path / "o.jsonl", PlantConfig(backend="lazy"), progress=False, fmt="csv")


def test_a_parquet_file_of_no_rows_is_finished_with_empty_outputs(tmp_path, lazy_backend):
    from slipform.plant import PlantConfig, plant_file

    (empty,) = _parquet(tmp_path / "in", [[]])
    summary = plant_file([empty], tmp_path / "out", PlantConfig(backend="lazy"), progress=False)
    assert (summary.read, summary.planted, summary.skipped) == (1, 0, {"empty shard": 1})  # counted, named
    assert (tmp_path / "out" / "00000.jsonl").read_text() == ""
    assert (tmp_path / "out" / "00000.done").exists()  # finished: a rerun does not plant it again
