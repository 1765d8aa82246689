"""bench/swap_ceiling.py's items and score, against counts worked out by hand."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import swap_ceiling  # noqa: E402


def _lines(path: Path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def study(tmp_path):
    caps = ["a red car next to a white truck", "a dog on a bed", "a man behind a woman", "two cats"]
    _lines(tmp_path / "captions.jsonl", [{"id": i, "caption": c} for i, c in enumerate(caps)])
    (tmp_path / "ours.json").write_text(json.dumps({
        "0": {"negative": "a white car next to a red truck", "edit": "swap"},
        "1": {"negative": "a cat on a bed", "edit": "replace"},  # no swap: not an item
        "2": {"negative": "a woman behind a man", "edit": "swap"}}))
    _lines(tmp_path / "writes-W1.jsonl", [{"id": 0, "swap": "a white car next to a red truck"},
                                         {"id": 1, "swap": None}, {"id": 2, "swap": "a woman behind a man"},
                                         {"id": 3, "swap": "two cats"}])  # the caption itself: not an item
    _lines(tmp_path / "writes-W2.jsonl", [{"id": 0, "swap": None}, {"id": 1, "swap": "a bed on a dog"},
                                         {"id": 2, "swap": "a woman behind a man"}, {"id": 3, "swap": ""}])
    swap_ceiling.rate(tmp_path)
    return tmp_path, caps


def test_items_hold_every_written_swap_and_ours_shuffled_with_the_source_hidden(study):
    folder, caps = study
    items = [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]
    key = json.loads((folder / "key.json").read_text())
    assert [it["id"] for it in items] == [1, 2, 3, 4, 5, 6]
    assert all(set(it) == {"id", "original", "altered"} for it in items)
    got = sorted((key[str(it["id"])]["source"], key[str(it["id"])]["caption"], it["altered"]) for it in items)
    assert got == [("ours", 0, "a white car next to a red truck"), ("ours", 2, "a woman behind a man"),
                   ("writer-W1", 0, "a white car next to a red truck"), ("writer-W1", 2, "a woman behind a man"),
                   ("writer-W2", 1, "a bed on a dog"), ("writer-W2", 2, "a woman behind a man")]
    assert all(it["original"] == caps[key[str(it["id"])]["caption"]] for it in items)
    assert "fluent" in (folder / "READERS.md").read_text()


def test_score_counts_good_as_both_readers_and_reads_the_ceiling_and_recall(study):
    folder, _ = study
    key = json.loads((folder / "key.json").read_text())
    # reader A finds everything good but the bed on the dog; reader B also rejects W1's caption-0 swap
    def rows(reject):
        return [{"id": int(k), "fluent": True, "plausible": (v["source"], v["caption"]) not in reject,
                 "contradicts": True} for k, v in key.items()]
    _lines(folder / "ratings-A.jsonl", rows({("writer-W2", 1)}))
    _lines(folder / "ratings-B.jsonl", rows({("writer-W2", 1), ("writer-W1", 0)}))
    res = swap_ceiling.score(folder)
    assert res["written"] == {"ours": 2, "writer-W1": 2, "writer-W2": 2}
    assert res["good"] == {"ours": 2, "writer-W1": 1, "writer-W2": 1}
    assert res["ceiling_any_writer"] == 1 / 4  # caption 2 only: W1's caption-0 swap failed reader B
    assert res["ours_good"] == 2 / 4
    assert res["recall"] == 1.0 and res["ours_not_human"] == 1
    assert res["agreement"] == 5 / 6


def test_score_refuses_an_item_one_reader_left_out(study):
    folder, _ = study
    key = json.loads((folder / "key.json").read_text())
    full = [{"id": int(k), "fluent": True, "plausible": True, "contradicts": True} for k in key]
    _lines(folder / "ratings-A.jsonl", full)
    _lines(folder / "ratings-B.jsonl", full[:-1])
    with pytest.raises(SystemExit, match="not rated by both"):
        swap_ceiling.score(folder)
