"""Input formats and bad input, through the command line."""

import json

import pytest

from slipform.cli import main
from slipform.text.io import BadLine, Caption, Columns, InputError, read_captions

from conftest import read_jsonl


def test_text_and_jsonl(tmp_path):
    txt = tmp_path / "c.txt"
    txt.write_text("A dog.\nA cat.\n")
    assert [(c.id, c.caption) for c in read_captions(txt)] == [("1", "A dog."), ("2", "A cat.")]
    jl = tmp_path / "c.jsonl"
    jl.write_text('{"id": "x", "caption": "A dog.", "image": "a.jpg"}\n\n{"caption": "A cat."}\n')
    items = list(read_captions(jl))
    assert items[0] == Caption("x", "A dog.", "a.jpg", 1) and items[1].id == "3"


def test_coco_and_karpathy_json(tmp_path):
    coco = tmp_path / "captions_train2014.json"
    coco.write_text(json.dumps({"images": [{"id": 9, "file_name": "COCO_train2014_000000000009.jpg"}],
                                "annotations": [{"id": 48, "image_id": 9, "caption": "A plate of food."},
                                                {"id": 49, "image_id": 9}]}))
    items = list(read_captions(coco))
    assert items[0] == Caption("48", "A plate of food.", "COCO_train2014_000000000009.jpg", 0)
    assert isinstance(items[1], BadLine) and "annotation #1 has no 'caption'" in items[1].reason
    karpathy = tmp_path / "dataset_coco.json"
    karpathy.write_text(json.dumps({"dataset": "coco", "images": [
        {"filepath": "val2014", "filename": "x.jpg", "split": "test",
         "sentences": [{"raw": "A man on a horse.", "sentid": 770337, "tokens": []}]}]}))
    assert list(read_captions(karpathy)) == [Caption("770337", "A man on a horse.", "val2014/x.jpg", 1)]


def test_open_clip_csv_and_negclip_tsv(tmp_path):
    csv = tmp_path / "train.csv"
    csv.write_text("filepath,title\nimg/1.jpg,A red car.\nimg/2.jpg\n")
    items = list(read_captions(csv))
    assert items[0] == Caption("2", "A red car.", "img/1.jpg", 2)
    assert isinstance(items[1], BadLine) and "train.csv:3: expected 2 columns, found 1" in items[1].reason
    tsv = tmp_path / "valid_neg_clip.tsv"
    tsv.write_text("\ttitle\tfilepath\tneg_caption\tneg_image\n7\tA dog.\tcoco/a.jpg\t[]\t[]\n")
    assert list(read_captions(tsv)) == [Caption("7", "A dog.", "coco/a.jpg", 2)]
    custom = tmp_path / "mine.tsv"
    custom.write_text("path\ttext\nq.jpg\tA cat.\n")
    items = list(read_captions(custom, columns=Columns(caption="text", image="path")))
    assert items == [Caption("2", "A cat.", "q.jpg", 2)]
    with pytest.raises(InputError, match="no caption column 'title'"):
        list(read_captions(custom))


def test_malformed_json_document_names_line(tmp_path):
    bad = tmp_path / "captions.json"
    bad.write_text('{"annotations": [\n {"caption": "x",}\n]}')
    with pytest.raises(InputError, match=r"captions.json:2:\d+: malformed JSON"):
        list(read_captions(bad))


BAD_JSONL = [
    '{"id": "ok1", "caption": "A man riding a horse on a beach."}',
    '{"id": "broken", "caption": "A cat',
    '{"id": "nocap", "text_": "A dog."}',
    '["not", "an", "object"]',
    '{"id": "empty", "caption": "   "}',
    '{"id": "emoji", "caption": "A brown dog 🐶 lying on a green couch."}',
    '{"id": "french", "caption": "Un chien qui court dans le parc avec une balle."}',
    '{"id": "cyrillic", "caption": "Собака бежит по пляжу."}',
    json.dumps({"id": "long", "caption": " ".join(["a dog on a mat"] * 200)}),
    '{"id": "nocand", "caption": "It is what it is."}',
    '{"id": "ok2", "caption": "Two zebras standing in a grassy field."}',
]


def test_bad_input_is_counted_and_the_run_goes_on(tmp_path, capsys):
    src = tmp_path / "mixed.jsonl"
    src.write_text("\n".join(BAD_JSONL) + "\n")
    out = tmp_path / "neg.jsonl"
    assert main(["plant", str(src), "-o", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "mixed.jsonl:2: malformed JSON" in err and "mixed.jsonl:3: no caption field" in err
    assert "mixed.jsonl:4: expected a JSON object" in err
    assert "Traceback" not in err
    planted = {r["id"] for r in read_jsonl(out)}
    skipped = {r["id"]: r["reason"] for r in read_jsonl(tmp_path / "neg.skipped.jsonl")}
    assert planted == {"ok1", "ok2", "emoji"}
    assert skipped == {"line:2": "malformed JSON", "nocap": "missing caption field", "line:4": "not an object",
                       "empty": "empty caption", "french": "not English", "cyrillic": "not English",
                       "long": "caption longer than 128 words", "nocand": "no candidate word"}
    summary = json.loads((tmp_path / "neg.jsonl.summary.json").read_text())
    assert summary["read"] == len(BAD_JSONL) and summary["planted"] == 3 and summary["skipped_total"] == 8
    assert "skipped 8:" in err


def test_exit_codes(tmp_path, capsys):
    out = str(tmp_path / "o.jsonl")
    assert main(["plant", str(tmp_path / "missing.txt"), "-o", out]) == 1
    assert "input not found" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["plant", str(empty), "-o", out, "--no-progress"]) == 1
    assert "no caption could be read" in capsys.readouterr().err
    ok = tmp_path / "ok.txt"
    ok.write_text("A dog on a mat.\n")
    assert main(["plant", str(ok), "-o", out, "--k", "0"]) == 2
    assert main(["plant", str(ok), "-o", out, "--role-weights", "X=1"]) == 2
    assert main(["plant", str(ok), "-o", out, "--backend", "openai"]) == 2
    assert "needs --base-url and --model" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["plant", str(ok), "-o", out, "--strategy", "nope"])
    assert exc.value.code == 2
