"""The plant command end to end: records, resume after kill -9, shards, workers, NegCLIP export."""

import ast
import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from slipform.cli import main
from slipform.plant import PlantConfig, plant_file
from slipform.plant.core.edit import is_single_change, is_swap

from conftest import read_jsonl

FIELDS = {"id", "caption", "negative", "target", "role", "route", "concreteness", "strategy", "backend",
          "replacement", "similarity"}


@pytest.fixture(scope="module")
def captions_file(tmp_path_factory, real_captions):
    path = tmp_path_factory.mktemp("captions") / "captions.txt"
    path.write_text("\n".join(real_captions[:600]) + "\n")
    return path


def test_records_have_the_documented_fields(tmp_path, captions_file):
    out = tmp_path / "neg.jsonl"
    summary = plant_file(captions_file, out, PlantConfig(negatives_per_caption=2), progress=False)
    records = read_jsonl(out)
    assert summary.negatives == len(records) and summary.read == 600
    by_id = {}
    for r in records:
        assert FIELDS <= set(r) and "image" not in r
        assert r["role"] in "ARO" and r["route"][r["role"]] and sum(r["route"].values()) == 1
        assert r["concreteness"] is not None and 1 <= r["concreteness"] <= 5  # concrete ranks rated words only
        assert -1 <= r["similarity"] <= 1 and r["negative"] != r["caption"]
        by_id.setdefault(r["id"], []).append(r)
    # two negatives per caption change two different words
    assert all(len({r["negative"] for r in rs}) == len(rs) <= 2 for rs in by_id.values())
    # two same-kind targets in one caption: fewer than with any related word (> 500 before kinds; 299
    # of 600 with the parse guards of plant/lexical/guards.py; 219 with the relation prior of plant/knowledge/relations.py,
    # 201 with its rarity rule, 186 with its adjective and verb-preposition slots)
    assert sum(len(rs) == 2 for rs in by_id.values()) > 175


def test_quality_on_real_captions(tmp_path, captions_file):
    """Coverage and one-change rate on 600 real COCO captions, and concreteness by strategy."""
    means = {}
    for strategy in ("concrete", "random", "abstract"):
        out = tmp_path / f"{strategy}.jsonl"
        summary = plant_file(captions_file, out, PlantConfig(strategy=strategy), progress=False)
        records = read_jsonl(out)
        # same-kind replacements, the context prior and the parse guards: 0.95 before kinds, 0.83 with
        # them, 0.77 (concrete) with the relation prior, which refuses what real captions never say, 0.73
        # with its rarity rule, 0.69 with its adjective and verb-preposition slots
        assert summary.planted / summary.read >= 0.66
        # one edit each: one place changed, or two exchanged (route="anchor"'s swaps)
        one_edit = [is_swap(r["caption"], r["negative"]) if r["edit"] == "swap" else
                    is_single_change(r["caption"], r["negative"]) for r in records]
        assert sum(one_edit) / len(records) >= 0.95
        rated = [r["concreteness"] for r in records if r["concreteness"] is not None]
        means[strategy] = sum(rated) / len(rated)
    assert means["concrete"] > 4.5 > means["random"] > means["abstract"]


def test_rerun_resumes_without_duplicates(tmp_path, captions_file):
    out = tmp_path / "neg.jsonl"
    first = plant_file(captions_file, out, PlantConfig(), progress=False)
    lines = out.read_text()
    second = plant_file(captions_file, out, PlantConfig(), progress=False)
    assert out.read_text() == lines
    assert second.resumed == first.planted + sum(first.skipped.values()) and second.negatives == 0


def test_kill_minus_nine_then_resume(tmp_path, captions_file):
    out = tmp_path / "neg.jsonl"
    cmd = [sys.executable, "-m", "slipform.cli", "plant", str(captions_file), "-o", str(out), "--chunk-size", "8",
           "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or out.stat().st_size < 4000):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = out.read_bytes()
    assert 0 < len(partial.splitlines()) < 600, "the run was not killed mid-way"
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    ids = [r["id"] for r in read_jsonl(out)] + [r["id"] for r in read_jsonl(tmp_path / "neg.skipped.jsonl")]
    assert len(ids) == len(set(ids)) == 600  # every caption once, no partial line
    clean = tmp_path / "clean.jsonl"
    plant_file(captions_file, clean, PlantConfig(), progress=False)
    # the same negatives as an uninterrupted run: choices depend on seed and id, not on history
    assert sorted(out.read_text().splitlines()) == sorted(clean.read_text().splitlines())


def test_shards_partition_and_workers_agree(tmp_path, captions_file):
    one = tmp_path / "one.jsonl"
    plant_file(captions_file, one, PlantConfig(), progress=False)
    parts = []
    for shard in range(3):
        path = tmp_path / f"shard{shard}.jsonl"
        plant_file(captions_file, path, PlantConfig(), num_shards=3, shard_id=shard, progress=False)
        parts += path.read_text().splitlines()
    assert sorted(parts) == sorted(one.read_text().splitlines())
    two = tmp_path / "two.jsonl"
    plant_file(captions_file, two, PlantConfig(), workers=2, chunk_size=64, progress=False)
    assert two.read_text().splitlines() == one.read_text().splitlines()  # same order too
    with pytest.raises(ValueError):
        plant_file(captions_file, two, PlantConfig(), num_shards=2, shard_id=2)


def test_negclip_backend_and_export(tmp_path):
    src = tmp_path / "train.csv"
    src.write_text("filepath,title\nimgs/1.jpg,A child holding a flowered umbrella and petting a yak.\n"
                   "imgs/2.jpg,A little girl holding a kitten next to a blue fence.\n")
    out, tsv = tmp_path / "neg.jsonl", tmp_path / "negclip.tsv"
    assert main(["plant", str(src), "-o", str(out), "--backend", "negclip", "--negatives-per-caption", "2",
                 "--export-negclip", str(tsv), "--no-progress"]) == 0
    records = read_jsonl(out)
    assert {r["image"] for r in records} == {"imgs/1.jpg", "imgs/2.jpg"}
    for r in records:
        assert r["backend"] == "negclip" and r["swap"] in ("noun", "adjective", "noun_phrase", "verb_phrase")
        assert sorted(r["negative"].lower().split()) != r["caption"].lower().split()
    with open(tsv, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert [r["filepath"] for r in rows] == ["imgs/1.jpg", "imgs/2.jpg"]
    negs = ast.literal_eval(rows[0]["neg_caption"])
    assert isinstance(negs, list) and len(negs) == 2 and rows[0]["title"] not in negs
    assert ast.literal_eval(rows[0]["neg_image"]) == [1]
    assert main(["export-negclip", str(out), "-o", str(tmp_path / "again.tsv")]) == 0
    assert (tmp_path / "again.tsv").read_text() == tsv.read_text()


def test_caption_similarity_option(tmp_path):
    src = tmp_path / "c.txt"
    src.write_text("A man riding a horse on a beach.\n")
    out = tmp_path / "o.jsonl"
    plant_file(src, out, PlantConfig(caption_similarity=True), progress=False)
    [rec] = read_jsonl(out)
    assert 0.3 < rec["caption_similarity"] < 1.0


def test_python_api_entry_point(tmp_path):
    import slipform

    src = tmp_path / "c.txt"
    src.write_text("Two dogs play with a red ball in the grass.\n")
    summary = slipform.plant(src, tmp_path / "o.jsonl", PlantConfig(seed=3), progress=False)
    assert summary.planted == 1 and json.loads((tmp_path / "o.jsonl").read_text())["strategy"] == "concrete"
