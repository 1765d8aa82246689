"""Planting img2dataset-style data: webdataset tar shards and Parquet, in and out, and training from them.

The shards are real tars written with the ``webdataset`` library (tiny JPEGs made here, real COCO
captions), the Parquet files real ones written with ``pyarrow``. Bad input (a cut tar, a sample
without a caption, a non-UTF-8 caption, an empty shard) is counted and named, and the run goes on.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from slipform.plant import PlantConfig, plant_file
from slipform.plant.core.record import read_sidecar, sample_negatives, sidecar_table
from slipform.text.io import BAD_INPUT_KINDS, BadLine, Caption, InputError
from slipform.text.shards import expand_urls, shard_stem, tar_samples

from conftest import read_jsonl

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
PER_SHARD = 20


def _jpeg(i: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (i * 37 % 256, i * 91 % 256, 120)).save(buf, "JPEG")
    return buf.getvalue()


def write_shard(path: Path, samples: list[dict]) -> None:
    import webdataset as wds

    with wds.TarWriter(str(path)) as w:
        for s in samples:
            w.write(s)


def make_shards(root: Path, captions: list[str]) -> str:
    """Shards 00000-00002 of 20 samples (00001 with a caption-less and a non-UTF-8 sample), 00003 empty,
    00004 cut in the middle of a member; the brace pattern of all five."""
    root.mkdir(parents=True, exist_ok=True)
    k = 0
    for s in range(3):
        samples = []
        for _ in range(PER_SHARD):
            sample = {"__key__": f"{k:09d}", "jpg": _jpeg(k), "txt": captions[k],
                      "json": {"key": f"{k:09d}", "status": "success"}}
            if s == 1 and k % PER_SHARD == 3:
                del sample["txt"]  # a sample without a caption
            if s == 1 and k % PER_SHARD == 7:
                sample["txt"] = b"caf\xe9 on a table"  # latin-1, not UTF-8
            samples.append(sample)
            k += 1
        write_shard(root / f"{s:05d}.tar", samples)
    write_shard(root / "00003.tar", [])
    write_shard(root / "whole.tar", [{"__key__": f"{k + i:09d}", "jpg": _jpeg(k + i), "txt": captions[k + i]}
                                     for i in range(6)])
    data = (root / "whole.tar").read_bytes()
    (root / "00004.tar").write_bytes(data[:len(data) // 2 + 100])
    (root / "whole.tar").unlink()
    return str(root / "{00000..00004}.tar")


def members(path) -> list[tuple[str, bytes]]:
    with tarfile.open(path) as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar]


def headers(path) -> dict[str, tuple]:
    with tarfile.open(path) as tar:
        return {m.name: (m.mode, m.mtime, m.uid, m.gid, m.uname, m.gname, m.type, m.pax_headers) for m in tar}


# ---- reading: fast, no planting ------------------------------------------------------------------


def test_tar_samples_group_by_key_and_name_bad_members(tmp_path, real_captions):
    spec = make_shards(tmp_path / "in", real_captions)
    urls = expand_urls(spec)
    assert [shard_stem(u) for u in urls] == ["00000", "00001", "00002", "00003", "00004"]
    assert expand_urls(str(tmp_path / "in" / "0000[0-2].tar")) == urls[:3]  # a local wildcard, sorted
    good = [x for x, _ in tar_samples(urls[0])]
    assert [(x.id, x.caption, x.line, x.image) for x in good] == \
        [(f"{i:09d}", real_captions[i], i + 1, f"{i:09d}.jpg") for i in range(PER_SHARD)]
    items = [x for x, _ in tar_samples(urls[1])]
    bad = {x.id: x for x in items if isinstance(x, BadLine)}
    assert set(bad) == {"000000023", "000000027"}
    assert bad["000000023"].kind == "sample without caption" and urls[1] in bad["000000023"].reason
    assert bad["000000027"].kind == "non-UTF-8 caption"
    assert f"{urls[1]}: member 000000027.txt: not UTF-8 (byte 0xe9 at 3)" == bad["000000027"].reason
    assert [x.line for x in items] == list(range(1, PER_SHARD + 1))  # bad samples keep their place
    (empty,) = [x for x, _ in tar_samples(urls[3])]
    assert empty.kind == "empty shard" and urls[3] in empty.reason
    cut = [x for x, _ in tar_samples(urls[4])]
    assert all(isinstance(x, Caption) for x in cut[:-1]) and len(cut) >= 2
    assert cut[-1].kind == "truncated tar" and f"{urls[4]}: truncated tar: cannot read " in cut[-1].reason
    # with a caption key, the caption is the .json's field
    (tmp_path / "k.tar").write_bytes(b"")
    write_shard(tmp_path / "k.tar", [{"__key__": "a", "jpg": b"x", "json": {"text": "A red bus."}},
                                     {"__key__": "b", "jpg": b"x", "json": {"other": 1}}])
    a, b = [x for x, _ in tar_samples(str(tmp_path / "k.tar"), "text")]
    assert a == Caption("a", "A red bus.", "a.jpg", 1) and b.kind == "sample without caption"


def test_a_tar_cut_between_members_and_a_zero_byte_shard(tmp_path, real_captions):
    write_shard(tmp_path / "w.tar", [{"__key__": f"k{i}", "jpg": b"j" * 600, "txt": real_captions[i]}
                                     for i in range(3)])
    data = (tmp_path / "w.tar").read_bytes()
    infos = [m for m in tarfile.open(tmp_path / "w.tar")]
    boundary = infos[4].offset  # the header of the third sample's .jpg: no member is cut, the end blocks are gone
    (tmp_path / "cut.tar").write_bytes(data[:boundary])
    items = [x for x, _ in tar_samples(str(tmp_path / "cut.tar"))]
    assert [x.id for x in items] == ["k0", "k1"] and isinstance(items[0], Caption)
    # k1 may miss a member (its .json, say): it is counted, not planted
    assert items[1].kind == "truncated tar" and items[1].reason == \
        f"{tmp_path / 'cut.tar'}: truncated tar: it ends after member k1.txt without the end-of-archive blocks"
    (tmp_path / "bad.tar").write_bytes(data[:boundary] + b"garbage!" + data[boundary + 8:])  # a spoilt header
    items = [x for x, _ in tar_samples(str(tmp_path / "bad.tar"))]
    assert [x.id for x in items] == ["k0", "k1"] and items[1].kind == "truncated tar"
    assert "cannot read the header after member k1.txt (bad checksum)" in items[1].reason
    (tmp_path / "zero.tar").write_bytes(b"")
    (zero,) = [x for x, _ in tar_samples(str(tmp_path / "zero.tar"))]
    assert zero.kind == "empty shard"
    # a pipe: URL reads the same samples; a failing command is a truncated shard, not a crash
    piped = [x for x, _ in tar_samples(f"pipe:cat {tmp_path / 'w.tar'}")]
    assert piped == [x for x, _ in tar_samples(str(tmp_path / "w.tar"))]
    failing = [x for x, _ in tar_samples(f"pipe:head -c {boundary} {tmp_path / 'w.tar'}; exit 3")]
    assert failing[-1].kind == "truncated tar" and "status 3" in failing[-1].reason


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_members_copied_raw_rebuild_the_tar_byte_for_byte(tmp_path, fmt):
    """Long names (PAX path, GNU long name, ustar prefix), a folder, a link and a non-ASCII name."""
    import gzip

    from slipform.text.tarstream import TarOut, decompressed
    from slipform.text.tarstream import members as raw_members

    deep = "d" * 60 + "/" + "e" * 60
    names = [f"{deep}/000001.jpg", f"{deep}/000001.txt", "caf\u00e9/000002.txt"]
    with tarfile.open(tmp_path / "in.tar", "w", format=fmt) as tar:
        folder = tarfile.TarInfo("folder")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for i, name in enumerate(names if fmt != tarfile.USTAR_FORMAT else names[:2]):
            data = bytes(range(256)) * (i + 3) + b"x"
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.uid, info.uname = len(data), 1_700_000_000 + i, 1000 + i, "someone"
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link.txt")
        link.type, link.linkname = tarfile.SYMTYPE, "folder/x.txt"
        tar.addfile(link)
    raw = (tmp_path / "in.tar").read_bytes()
    (tmp_path / "in.tar.gz").write_bytes(gzip.compress(raw))
    with open(tmp_path / "in.tar", "rb") as f:
        got = list(raw_members(f))
    with tarfile.open(tmp_path / "in.tar") as tar:
        expected = [(m.name, m.isfile(), tar.extractfile(m).read() if m.isfile() else b"") for m in tar]
    assert [(m.name, m.is_file, m.data) for m in got] == expected
    out = TarOut(tmp_path / "out.tar")
    for m in got:
        out.copy(m)
    out.close()
    assert (tmp_path / "out.tar").read_bytes() == raw  # every header and byte as tarfile wrote them
    with open(tmp_path / "in.tar.gz", "rb") as f:
        assert [(m.name, m.data) for m in raw_members(decompressed(f))] == [(m.name, m.data) for m in got]


def test_a_parquet_file_without_the_column_stops_before_any_work(tmp_path):
    pq.write_table(pa.table({"url": ["u"], "text": ["A dog."], "key": ["0"]}), tmp_path / "a.parquet")
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"a.parquet: no column 'caption'; its columns are url, text, key"):
        plant_file(str(tmp_path / "a.parquet"), out, PlantConfig(), progress=False)
    assert not out.exists()  # nothing was started
    from slipform.cli import EXIT_NOTHING, main

    assert main(["plant", str(tmp_path / "a.parquet"), "-o", str(out), "--no-progress"]) == EXIT_NOTHING
    assert not out.exists()


def test_a_planted_json_member_keeps_its_words_in_utf8(tmp_path):
    from slipform.plant.engine.files import _TarOut

    src = tmp_path / "in.tar"
    write_shard(src, [{"__key__": "k1", "txt": "Un café près d'un chien.", "json": b'{"title": "caf\\u00e9"}'}])
    ((_, sample),) = tar_samples(str(src))
    record = {"id": "k1", "caption": "Un café près d'un chien.", "negative": "Un café près d'un chat.",
              "target": "chien", "replacement": "chat"}
    out = _TarOut(tmp_path / "out.tar")
    out.write([sample], {"k1": [record]})
    out.close()
    with tarfile.open(tmp_path / "out.tar") as tar:
        data = tar.extractfile("k1.json").read()
    # written as UTF-8 text, as the captions are, not as \u escapes
    assert "café".encode() in data and "près d'un chat".encode() in data and b"\\u" not in data
    assert json.loads(data) == {"title": "café", "negatives": sample_negatives([record])}


def test_sidecar_holds_the_json_negatives_list(tmp_path):
    records = [{"id": "7", "image": "7.jpg", "caption": "A red bus.", "negative": "A blue bus.", "target": "red",
                "role": "A", "route": {"A": True, "R": False, "O": False}, "concreteness": 4.1, "strategy": "concrete",
                "backend": "lexical", "replacement": "blue", "similarity": 0.5, "plausibility": -3.0, "edit": "replace",
                "anchor": "bus"},
               {"id": "7", "caption": "A red bus.", "negative": "A red car.", "target": "bus", "role": "O",
                "route": {"A": False, "R": False, "O": True}, "concreteness": 4.9, "strategy": "concrete",
                "backend": "llm", "replacement": "car", "similarity": None, "plausibility": None, "edit": "replace",
                "anchor": "bus", "raw": "car"}]
    pq.write_table(sidecar_table([("7", "A red bus.", records)]), tmp_path / "s.parquet")
    entries = read_sidecar(tmp_path / "s.parquet")
    assert entries == {"7": sample_negatives(records)}
    assert entries["7"][1]["raw"] == "car" and "id" not in entries["7"][0] and "image" not in entries["7"][0]


def test_training_reads_a_txt_caption_and_a_sidecar_by_key(tmp_path):
    from slipform.data import Sidecar, _wds_sample

    raw = {"__key__": "7", "jpg": b"", "txt": b"A red bus.", "json": b'{"status": "success"}'}
    assert _wds_sample(raw).caption == "A red bus." and _wds_sample(raw).negatives == ()
    pq.write_table(sidecar_table([("7", "A red bus.", [{"id": "7", "caption": "A red bus.", "negative": "A blue bus.",
                                                        "role": "A", "concreteness": 4.0}])]), tmp_path / "000.parquet")
    side = Sidecar(str(tmp_path))
    sample = _wds_sample(raw, side.lookup("pipe:aws s3 cp s3://b/000.tar -", "7"))
    assert sample.negatives == (("A blue bus.", 4.0, None, "A"),)
    assert side.lookup("other/001.tar", "7") == []  # a shard without a side-car file has no negatives


def test_the_pool_reads_at_most_two_chunks_per_worker_ahead():
    """What the reader holds (a tar's members per chunk) is bounded: chunks are pulled as results go out."""
    from multiprocessing.pool import ThreadPool

    from slipform.plant.engine.pool import LocalPool
    from slipform.plant.engine.stream import Chunk

    pool = object.__new__(LocalPool)  # its map, over a thread pool: empty chunks need no planter
    pool.workers, pool._pool = 2, ThreadPool(2)
    pulled, ahead = [0], []

    def source():
        for _ in range(20):
            pulled[0] += 1
            yield Chunk([], read=1)

    try:
        for n, (_chunk, records, _, _) in enumerate(pool.map(source()), 1):
            assert records == []
            ahead.append(pulled[0] - n)
    finally:
        pool._pool.close()
    assert n == 20 and max(ahead) <= 2 * 2 and ahead[0] == 2 * 2 - 1


# ---- planting: one process, the reference for everything else --------------------------------------


@pytest.fixture(scope="module")
def shards(tmp_path_factory, real_captions):
    return make_shards(tmp_path_factory.mktemp("shards"), real_captions)


@pytest.fixture(scope="module")
def single(shards, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "out"
    logs: list[str] = []
    summary = plant_file(shards, out, PlantConfig(), output_format="wds", chunk_size=8, progress=False,
                         log=logs.append)
    return out, summary, logs


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.suffix in (".tar", ".jsonl", ".parquet")}


def test_planted_tars_copy_every_member_and_add_negatives(shards, single):
    out, summary, logs = single
    for url in expand_urls(shards)[:3]:
        name = shard_stem(url)
        before, after = members(url), members(out / f"{name}.tar")
        assert [n for n, _ in after] == [n for n, _ in before]
        records = {}
        for r in read_jsonl(out / f"{name}.jsonl"):
            records.setdefault(r["id"], []).append(r)
        assert records, name
        for (member, old), (_, new) in zip(before, after):
            key = member.split(".")[0]
            if not member.endswith(".json") or key not in records:
                assert new == old, member  # images and captions byte for byte; unplanted samples untouched
                assert headers(url)[member] == headers(out / f"{name}.tar")[member]  # and their headers
            else:
                meta = json.loads(new)
                assert meta.pop("negatives") == sample_negatives(records[key]) and meta == json.loads(old)
    assert summary.read == 3 * PER_SHARD + 1 + len(list(tar_samples(expand_urls(shards)[4])))  # 1: the empty shard
    assert summary.planted == sum(len({r["id"] for r in read_jsonl(p)}) for p in out.glob("*.jsonl")
                                  if not p.name.endswith("skipped.jsonl"))


def test_bad_input_is_counted_named_and_the_run_goes_on(single, shards):
    out, summary, logs = single
    urls = expand_urls(shards)
    skips = {s["id"]: s for p in sorted(out.glob("*.skipped.jsonl")) for s in read_jsonl(p)}
    assert skips["000000023"]["reason"] == "sample without caption" and skips["000000023"]["file"] == urls[1]
    assert "member 000000027.txt" in skips["000000027"]["message"]
    assert skips[urls[3]]["reason"] == "empty shard" and (out / "00003.tar").read_bytes() == Path(urls[3]).read_bytes()
    cut = [s for s in read_jsonl(out / "00004.skipped.jsonl") if s["reason"] == "truncated tar"]
    assert len(cut) == 1 and urls[4] in cut[0]["message"]
    for kind in ("sample without caption", "non-UTF-8 caption", "empty shard", "truncated tar"):
        assert summary.skipped[kind] == 1, kind
    assert any("not UTF-8" in m for m in logs) and any("empty shard" in m for m in logs)
    # the cut shard's complete samples are planted and written to a well-formed tar
    assert members(out / "00004.tar") and (out / "00004.done").exists()


def test_shard_files_plant_what_a_caption_file_of_the_same_captions_plants(shards, single, tmp_path):
    """The default backend: a tar's captions get the negatives a JSONL file of the same captions and keys
    gets, so the shards' vocabulary (of their own first captions) reaches the planter, as a file's does."""
    out, _, _ = single
    rows = [{"id": item.id, "title": item.caption} for url in expand_urls(shards)
            for item, _ in tar_samples(url) if isinstance(item, Caption) and item.caption.strip()]
    src = tmp_path / "same.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    plant_file(src, tmp_path / "same.out.jsonl", PlantConfig(), chunk_size=8, progress=False)
    from_file = {(r["id"], r["negative"]) for r in read_jsonl(tmp_path / "same.out.jsonl")}
    from_tars = {(r["id"], r["negative"]) for p in out.glob("*.jsonl") if not p.name.endswith("skipped.jsonl")
                 for r in read_jsonl(p)}
    assert len(from_tars) >= 40 and from_tars == from_file


# ---- engines, Parquet, training, resume: slow -------------------------------------------------------


@pytest.mark.slow  # ~1 min on the shared 2-core machine: 2 workers, then 3 SLURM-style shards
def test_workers_and_slurm_shards_write_the_same_bytes(shards, single, tmp_path, capsys):
    reference = _outputs(single[0])
    summary = plant_file(shards, tmp_path / "w2", PlantConfig(), output_format="wds", workers=2, chunk_size=8,
                         progress=True)
    assert _outputs(tmp_path / "w2") == reference
    frames = capsys.readouterr().err.split("\r")
    assert sum("plant: " in f for f in frames) > 2  # one bar, moving as chunks finish, over the five files
    assert f"plant: {summary.read} samples" in frames[-1].replace("\n", "")  # ... to every sample of them
    for shard_id in range(3):
        plant_file(shards, tmp_path / "slurm", PlantConfig(), output_format="wds", num_shards=3, shard_id=shard_id,
                   chunk_size=5, progress=False)  # another chunk size too: the bytes never depend on it
    assert _outputs(tmp_path / "slurm") == reference


@pytest.mark.slow  # ~40 s: 2 Ray actors load spaCy; one dies mid-file and is retried
def test_ray_writes_the_same_bytes_and_retries_only_the_dead_file(shards, single, tmp_path):
    ray = pytest.importorskip("ray")
    flag = tmp_path / "died"
    os.environ["SLIPFORM_FAULT_INJECT"] = f"1:{flag}"
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        summary = plant_file(shards, tmp_path / "ray", PlantConfig(), output_format="wds", engine="ray", workers=2,
                             chunk_size=8, progress=False)
    finally:
        ray.shutdown()
        del os.environ["SLIPFORM_FAULT_INJECT"]
    assert flag.exists(), "the injected fault did not fire"
    assert _outputs(tmp_path / "ray") == _outputs(single[0])
    assert not list((tmp_path / "ray").glob("*.tmp")) and summary.read == single[1].read


@pytest.mark.slow  # ~1 min: two CLI runs in their own processes
def test_a_killed_run_resumes_and_replants_only_unfinished_files(shards, single, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "slipform.cli", "plant", shards, "-o", str(out), "--output-format", "wds",
           "--chunk-size", "8", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "00000.done").exists():
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.stem: json.loads(p.read_text()) for p in out.glob("*.done")}
    assert "00000" in done and len(done) < 5, "the run was not killed mid-way"
    resumed = subprocess.run(cmd, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    again = json.loads((tmp_path / "out.summary.json").read_text())
    bad = sum(n for d in done.values() for reason, n in d["skipped"].items() if reason in BAD_INPUT_KINDS)
    assert again["resumed"] == sum(d["read"] for d in done.values()) - bad  # as for a caption file: bad input not re-read
    assert again["read"] == single[1].read - bad and again["planted"] < single[1].planted
    assert _outputs(out) == _outputs(single[0]) and not list(out.glob("*.tmp"))


@pytest.mark.slow  # ~1.5 min: a Parquet plant, a side-car plant and two 10-step trainings of a tiny model
def test_parquet_in_and_out_and_training_from_shards_and_sidecar(shards, single, tmp_path, real_captions):
    from slipform.data import DataConfig
    from slipform.losses import LossConfig
    from slipform.models import ModelSpec, tiny_open_clip_config
    from slipform.train import TrainConfig, train

    # Parquet in, side-car out: key -> negatives, the records of the run
    keys = [f"{i:09d}" for i in range(30)]
    table = pa.table({"url": [f"http://x/{k}.jpg" for k in keys], "caption": real_captions[:29] + [None],
                      "key": keys})
    pq.write_table(table, tmp_path / "meta.parquet", row_group_size=7)
    summary = plant_file(str(tmp_path / "meta.parquet"), tmp_path / "pq", PlantConfig(), output_format="parquet",
                         chunk_size=8, progress=False)
    side = read_sidecar(tmp_path / "pq" / "meta.parquet")
    records = read_jsonl(tmp_path / "pq" / "meta.jsonl")
    assert side and set(side) == {r["id"] for r in records} and summary.skipped["sample without caption"] == 1
    assert all(side[k] == sample_negatives([r for r in records if r["id"] == k]) for k in side)

    # tars in, side-car out: the same negatives as the planted tars' .json
    plant_file(shards, tmp_path / "side", PlantConfig(), output_format="parquet", chunk_size=8, progress=False)
    for name in ("00000", "00001", "00002"):
        planted = {n.split(".")[0]: json.loads(b)["negatives"] for n, b in members(single[0] / f"{name}.tar")
                   if n.endswith(".json") and b"negatives" in b}
        assert read_sidecar(tmp_path / "side" / f"{name}.parquet") == planted

    def run(train_spec, negatives, where):
        cfg = TrainConfig(output=str(tmp_path / where), epochs=1, batch_size=4, lr=1e-3, warmup=1, workers=0,
                          log_every=1, save_every=5, max_steps=10, progress=False,
                          model=ModelSpec("open_clip", "tiny", None, tiny_open_clip_config()),
                          loss=LossConfig("cement"), data=DataConfig(train_spec, negatives, format="wds"))
        result = train(cfg)
        rows = [json.loads(x) for x in (tmp_path / where / "log.jsonl").read_text().splitlines()]
        return result, rows

    planted_tars = str(single[0] / "{00000..00002}.tar")
    originals = shards.replace("{00000..00004}", "{00000..00002}")
    for spec, negatives, where in ((planted_tars, None, "from-tars"), (originals, str(tmp_path / "side"), "sidecar")):
        result, rows = run(spec, negatives, where)
        assert result["steps_run"] == 10 and len(rows) == 10
        assert any((r["grad_hard"] or 0) > 0 for r in rows), where  # the negatives reached the loss
    _, rows = run(originals, None, "plain")  # the original shards alone have none
    assert all(not r["grad_hard"] for r in rows)
