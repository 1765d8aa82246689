"""The negative record (plant/core/record.py): one owner of the fields every negatives file holds."""

import json

import pytest

from slipform.plant import export_negclip
from slipform.plant.core.record import NegativeRecord, read_records

LINE = {"id": "7", "image": "imgs/7.jpg", "caption": "A horse in a field.", "negative": "A cow in a field.",
        "target": "horse", "role": "O", "route": {"A": False, "R": False, "O": True}, "concreteness": 5.0,
        "strategy": "concrete", "backend": "lexical", "replacement": "cow", "similarity": 0.61,
        "plausibility": -4.2, "raw": "extra from a backend"}


def _with_edit(line: dict, edit: str, anchor: str) -> dict:
    out = {}
    for k, v in line.items():
        out[k] = v
        if k == "route":
            out.update(edit=edit, anchor=anchor)
    return out


def test_a_record_reads_and_writes_the_same_line():
    new = _with_edit(LINE, "replace", "horse")
    rec = NegativeRecord.from_dict(new)
    assert rec.route == {"A": False, "R": False, "O": True} and rec.extra == {"raw": "extra from a backend"}
    assert json.dumps(rec.to_dict()) == json.dumps(new)  # same fields, same order
    swap = _with_edit({**LINE, "negative": "A field in a horse.", "role": "R", "replacement": "field",
                       "route": {"A": False, "R": True, "O": False}}, "swap", "horse")
    assert NegativeRecord.from_dict(swap).edit == "swap" and NegativeRecord.from_dict(swap).to_dict() == swap
    bare = NegativeRecord(id="1", caption="a", negative="b").to_dict()
    assert "image" not in bare and bare["route"] == {}


def test_a_line_written_before_edits_reads_as_a_replacement_of_its_target():
    rec = NegativeRecord.from_dict(LINE)
    assert rec.edit == "replace" and rec.anchor == "horse"
    assert json.dumps(rec.to_dict()) == json.dumps(_with_edit(LINE, "replace", "horse"))


def test_bad_lines_name_file_and_line(tmp_path):
    path = tmp_path / "neg.jsonl"
    path.write_text(json.dumps(LINE) + "\n\n" + json.dumps({"id": "8", "caption": "x"}) + "\n")
    with pytest.raises(ValueError, match=r"neg.jsonl:3: not a Slipform negative record \(missing negative\)"):
        list(read_records(path))
    path.write_text("{oops\n")
    with pytest.raises(ValueError, match="neg.jsonl:1: not JSON"):
        export_negclip(path, tmp_path / "out.tsv")


def test_planted_records_round_trip(tmp_path):
    from slipform.plant import PlantConfig, plant_file

    src = tmp_path / "c.txt"
    src.write_text("A horse grazing in a field.\nA man riding a bicycle down the street.\n")
    out = tmp_path / "n.jsonl"
    plant_file(src, out, PlantConfig(), progress=False)
    lines = out.read_text().splitlines()
    assert lines and [json.dumps(r.to_dict()) for r in read_records(out)] == lines
