"""data.py outside the sampler and ShardDataset: the negatives file, the side-car, a shard's sample,
the skip report and the collate step, each against values written out by hand (issue 31: the
data_rest group's sampled mutants)."""

import json
import logging
import math

import torch

from slipform.data import (
    Collate,
    PairDataset,
    Sample,
    Sidecar,
    SkipReport,
    _read_sidecar,
    _wds_sample,
    load_negatives,
)


def _jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_negatives_keep_their_concreteness_image_and_role(tmp_path, caplog):
    path = _jsonl(tmp_path / "neg.jsonl", [
        {"id": 7, "negative": "a blue café", "concreteness": 4.5, "negative_image": "e/7.jpg", "role": "A"},
        {"id": "7", "negative": "a red car", "concreteness": None},
        "{not json", {"negative": "no id"}])
    with caplog.at_level(logging.WARNING):
        table = load_negatives(path, image_root="/imgs")
    assert list(table) == ["7"]
    (a, b) = table["7"]
    assert a == ("a blue café", 4.5, "/imgs/e/7.jpg", "A")
    assert b[0] == "a red car" and math.isnan(b[1]) and b[2:] == (None, "")
    assert f"{path}: 2 unreadable negative records skipped" in caplog.text


def test_a_jsonl_side_car_is_keyed_by_id(tmp_path):
    path = _jsonl(tmp_path / "000.jsonl", [{"id": "k1", "negative": "a cat", "concreteness": 4.0, "role": "O"},
                                           {"id": "k1", "negative": "a dog", "concreteness": None, "role": "A"}])
    assert _read_sidecar(path) == {"k1": [{"negative": "a cat", "concreteness": 4.0, "role": "O"},
                                          {"negative": "a dog", "concreteness": None, "role": "A"}]}
    side = Sidecar(str(tmp_path))  # a folder: one file per shard, found by the shard's name
    assert side.lookup("data/000.tar", "k1")[0]["negative"] == "a cat"
    assert side.lookup("data/000.tar", "k2") == []
    single = Sidecar(str(path))  # one file for every shard
    assert single.lookup("data/123.tar", "k1")[1]["negative"] == "a dog"


def test_a_shards_sample_prefers_the_json_caption_and_the_side_cars_negatives(caplog):
    meta = {"caption": "a red bus", "negatives": [{"negative": "a blue bus", "concreteness": 4.5, "role": "A"},
                                                  {"negative": "a red car"}]}
    raw = {"__key__": "k", "__url__": "s/0.tar", "json": json.dumps(meta).encode(), "txt": "ignored".encode(),
           "neg.jpg": b"x"}
    s = _wds_sample(raw)
    assert s.caption == "a red bus"
    assert s.negatives[0] == ("a blue bus", 4.5, "neg.jpg", "A")
    assert s.negatives[1][0] == "a red car" and math.isnan(s.negatives[1][1]) and s.negatives[1][2:] == (None, "")
    # a side-car, even an empty one, replaces the .json's negatives
    assert _wds_sample(raw, []).negatives == ()
    assert _wds_sample(raw, [{"negative": "a bus", "concreteness": 2}]).negatives == (("a bus", 2.0, "neg.jpg", ""),)
    # a .txt caption, UTF-8
    assert _wds_sample({"__key__": "t", "txt": "un café".encode()}).caption == "un café"
    with caplog.at_level(logging.WARNING):
        assert _wds_sample({"json": b"{}"}) is None
    assert "?: sample ? has no readable caption (.json or .txt); skipped" in caplog.text


def test_the_skip_report_as_a_dict_and_merged_back():
    r = SkipReport(keep=2)
    r.add("missing image", "a.jpg")
    r.add("missing image", "b.jpg")
    r.add("missing image", "c.jpg")
    assert r.as_dict() == {"total": 3, "counts": {"missing image": 3}, "examples": {"missing image": ["a.jpg", "b.jpg"]}}
    other = SkipReport()
    other.merge(r.as_dict())
    assert other.as_dict() == r.as_dict()
    other.merge({"counts": {"row without a caption": 2}})  # no examples saved: "?"
    assert other.counts["row without a caption"] == 2 and other.examples["row without a caption"] == ["?"]


def _item(caption, negative, conc, neg_pixels=None, role=""):
    return {"pixels": torch.full((3, 2, 2), float(len(caption))), "caption": caption, "negative": negative,
            "concreteness": conc, "role": role, "neg_pixels": neg_pixels}


def test_collate_stacks_masks_and_fills_missing_edited_images_with_zeros():
    seen = []

    def tokenize(texts):
        seen.append(list(texts))
        return torch.tensor([[len(t)] for t in texts])

    col = Collate(tokenize)
    neg = torch.ones(3, 2, 2)
    batch = col([_item("a cat", "a dog", 4.0, neg, "O"), None, _item("a red bus", None, math.nan)])
    assert seen == [["a dog", ""], ["a cat", "a red bus"]]
    assert batch["tokens"].tolist() == [[5], [9]] and batch["hard_tokens"].shape == (2, 1, 1)
    assert batch["hard_mask"].tolist() == [[True], [False]]
    assert batch["concreteness"][0].tolist() == [4.0] and math.isnan(batch["concreteness"][1, 0].item())
    assert batch["roles"] == [["O"], [""]] and (batch["skipped"], batch["size"]) == (1, 2)
    assert torch.equal(batch["neg_images"], torch.stack([neg, torch.zeros(3, 2, 2)]))
    assert batch["neg_image_mask"].tolist() == [True, False]
    without = col([_item("a cat", "a dog", 4.0)])
    assert "neg_images" not in without and "neg_image_mask" not in without
    assert col([None, {"skip": "missing image", "where": "x.jpg"}]) == {
        "skipped": 2, "skips": [("missing image", "x.jpg")], "size": 0}


def test_a_pair_dataset_hands_its_edited_image_setting_to_the_draw(tmp_path):
    from PIL import Image

    for name, colour in (("a.jpg", (200, 0, 0)), ("e.jpg", (0, 0, 200))):
        Image.new("RGB", (8, 8), colour).save(tmp_path / name)
    sample = Sample(str(tmp_path / "a.jpg"), "a red square", (("a blue square", 4.0, str(tmp_path / "e.jpg"), "A"),))

    def to_tensor(im):
        return torch.tensor(list(im.getpixel((0, 0))), dtype=torch.float32)

    with_neg = PairDataset([sample], to_tensor, image_negatives=True)[0]
    assert with_neg["neg_pixels"] is not None and with_neg["neg_pixels"][2] > 150 and with_neg["role"] == "A"
    assert PairDataset([sample], to_tensor)[0]["neg_pixels"] is None
    bare = PairDataset([Sample(str(tmp_path / "a.jpg"), "a red square")], to_tensor)[0]
    assert (bare["negative"], bare["role"]) == (None, "") and math.isnan(bare["concreteness"])


def test_an_unreadable_row_is_skipped_by_kind_with_its_reason_and_negclip_is_read_when_named(tmp_path):
    from slipform.data import DataConfig, read_samples

    path = _jsonl(tmp_path / "caps.jsonl", [{"id": "1", "image": "a.jpg", "caption": "a cat"}, "{broken"])
    skips = SkipReport()
    assert [s.caption for s in read_samples(DataConfig(str(path)), skips)] == ["a cat"]
    assert skips.counts == {"malformed JSON": 1}  # the row's kind, and its reason naming file and line
    assert skips.examples["malformed JSON"] == [f"{path}:2: malformed JSON (Expecting property name enclosed in "
                                                "double quotes)"]
    tsv = tmp_path / "negclip.txt"  # not guessed from its name: read as NegCLIP only when named
    tsv.write_text("title\tfilepath\tneg_caption\na dog\td.jpg\t['a cat']\n", encoding="utf-8")
    (s,) = read_samples(DataConfig(str(tsv), format="negclip"))
    assert (s.caption, s.image, s.negatives[0][0]) == ("a dog", "d.jpg", "a cat")
    for name in ("negclip.tsv", "negclip.csv"):  # NegCLIP's own files: tab-separated whatever the suffix
        (tmp_path / name).write_text(tsv.read_text(encoding="utf-8"), encoding="utf-8")
        (s,) = read_samples(DataConfig(str(tmp_path / name)))
        assert (s.caption, s.negatives[0][0]) == ("a dog", "a cat"), name
