"""Scoring edges of the suites whose scoring no other test file is rewriting: repeated keys (an
image, a caption or a JSON key met twice), missing images, the official caps and tie rules, each
worked out by hand (SugarCrepe, SugarCrepe++, VALSE, Winoground, MMVP, EqBen, SPEC, retrieval,
zero-shot), and the real Encoder's handling of repeats that every suite relies on."""

import json
import math

import numpy as np
import pytest
import torch

from slipform.evaluate import BenchmarkDataError, get_benchmark
from slipform.evaluate.encode import Encoder
from slipform.evaluate.zeroshot import accuracy, class_weights, image_folder

from eval_helpers import KeyedEncoder, tiny_image

# --------------------------------------------------------------------------- the real Encoder, repeats


class _PixelModel(torch.nn.Module):
    """A model whose image feature is the image's mean colour and whose text feature spells the text."""

    def fingerprint(self):
        return "pixel-model"

    @staticmethod
    def preprocess(im):
        return torch.tensor(np.asarray(im, dtype=np.float32)).mean((0, 1))

    def encode_image(self, batch):
        return batch

    @staticmethod
    def tokenize(texts):
        return torch.tensor([[len(t), ord(t[0]), ord(t[-1])] for t in texts], dtype=torch.float32)

    def encode_text(self, tokens):
        return tokens


def _colour(path, rgb):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (6, 4), rgb).save(path)
    return path


def test_the_encoder_gives_each_repeated_image_and_text_its_own_feature(tmp_path):
    a, b, c = (_colour(tmp_path / f"{n}.png", rgb) for n, rgb in (("a", (10, 0, 0)), ("b", (0, 20, 0)),
                                                                    ("c", (0, 0, 30))))
    enc = Encoder(_PixelModel(), tmp_path / "cache", workers=0, batch_size=2)
    feats = enc.images([c, a, c, b, a, c])
    want = {a: [10, 0, 0], b: [0, 20, 0], c: [0, 0, 30]}
    assert feats.tolist() == [want[p] for p in (c, a, c, b, a, c)]
    assert enc.encoded_images == 3  # each once
    left = [0, 0, 3, 2]  # the left half of a (6x4) image, and the whole image: two keys for one file
    boxed = enc.images([a, a, a], [left, None, left])
    assert boxed.tolist() == [[10, 0, 0]] * 3 and enc.encoded_images == 4
    texts = enc.texts(["a dog", "the cat", "a dog", "a dog", "x"])
    assert texts.tolist() == [[5, 97, 103], [7, 116, 116], [5, 97, 103], [5, 97, 103], [1, 120, 120]]
    enc.save()
    again = Encoder(_PixelModel(), tmp_path / "cache", workers=0)
    assert again.images([b, c, b]).tolist() == [want[b], want[c], want[b]] and again.encoded_images == 0


# --------------------------------------------------------------------------- SugarCrepe


def _sugarcrepe(root, subset_items):
    from slipform.evaluate.sugarcrepe import SUBSETS

    (root / "sugarcrepe").mkdir(parents=True)
    for s in SUBSETS:
        (root / "sugarcrepe" / f"{s}.json").write_text(subset_items.get(s, "{}"))


def test_sugarcrepe_repeated_images_captions_and_json_keys(tmp_path):
    # the same image in two subsets and twice in one; a JSON key given twice (the file's last value
    # counts, as json.load reads it for the authors' script); the same caption for two images
    items = ('{"0": {"filename": "i1.jpg", "caption": "cap", "negative_caption": "neg"},'
             ' "1": {"filename": "i1.jpg", "caption": "cap", "negative_caption": "bad"},'
             ' "0": {"filename": "i2.jpg", "caption": "cap", "negative_caption": "neg"}}')
    from slipform.evaluate.sugarcrepe import SUBSETS

    one = json.dumps({"9": {"filename": "i1.jpg", "caption": "cap", "negative_caption": "bad"}})
    wrong = json.dumps({"9": {"filename": "i1.jpg", "caption": "bad", "negative_caption": "neg"}})
    _sugarcrepe(tmp_path, {s: one for s in SUBSETS} | {"add_att": items, "replace_att": wrong})
    for name in ("i1.jpg", "i2.jpg"):
        tiny_image(tmp_path / "coco" / "val2017" / name)
    enc = KeyedEncoder({"i1.jpg": [1.0, 0.0], "i2.jpg": [0.0, 1.0]},
                       {"cap": [0.6, 0.6], "neg": [1.0, 0.0], "bad": [0.0, 0.0]})
    out = get_benchmark("sugarcrepe")(enc, tmp_path)
    # add_att: "0" -> i2 (cap 0.6 > neg 0.0: right), "1" -> i1 (cap 0.6 > bad 0: right)
    assert out["add_att_n"] == 2 and out["add_att"] == 100.0
    assert out["swap_obj_n"] == 1 and out["swap_obj"] == 100.0 and out["replace_att"] == 0.0
    assert out["n"] == 8 and out["micro"] == pytest.approx(700 / 8)
    assert out["macro"] == pytest.approx(600 / 7)  # each subset weighs the same, whatever its size


def test_sugarcrepe_a_missing_image_is_counted_and_named(tmp_path):
    _sugarcrepe(tmp_path, {"add_att": json.dumps({str(i): {"filename": f"i{i}.jpg", "caption": "c",
                                                           "negative_caption": "n"} for i in range(3)})})
    tiny_image(tmp_path / "coco" / "val2017" / "i0.jpg")
    tiny_image(tmp_path / "coco" / "val2017" / "i2.jpg")
    with pytest.raises(BenchmarkDataError, match=r"^sugarcrepe: 1 of 3 files missing \(first: .*i1.jpg\)"):
        get_benchmark("sugarcrepe")(KeyedEncoder({}, {}), tmp_path)


# --------------------------------------------------------------------------- SugarCrepe++


def test_sugarcrepe_pp_ties_count_against_the_model_and_the_published_sizes(tmp_path):
    from slipform.evaluate.sugarcrepe_pp import SUBSETS

    (tmp_path / "sugarcrepe_pp").mkdir()
    item = {"filename": "i.jpg", "caption": "p1", "caption2": "p2", "negative_caption": "n"}
    tie = {"filename": "i.jpg", "caption": "p1", "caption2": "p2tie", "negative_caption": "n"}
    for s in SUBSETS:
        rows = [item, tie] if s == "replace_att" else [item]
        (tmp_path / "sugarcrepe_pp" / f"{s}.json").write_text(json.dumps({str(i): r for i, r in enumerate(rows)}))
    tiny_image(tmp_path / "coco" / "val2017" / "i.jpg")
    enc = KeyedEncoder({"i.jpg": [1.0, 0.0, 0.0]},
                       {"p1": [0.8, 0.6, 0.0], "p2": [0.8, 0.6, 0.0], "p2tie": [0.5, 0.0, 0.0], "n": [0.5, 0.0, 0.0]})
    out = get_benchmark("sugarcrepe_pp")(enc, tmp_path)
    # the tie row: s(I, P2) = s(I, N) = 0.5 -> ITT wrong; s(P1, P2) = 0.4 = s(P1, N) -> TOT wrong
    assert out["replace_att_itt"] == 50.0 and out["replace_att_tot"] == 50.0
    assert out["swap_obj_itt"] == 100.0 and out["swap_obj_tot"] == 100.0
    assert out["itt_mean"] == pytest.approx((50 + 4 * 100) / 5)
    assert "2 rows where the published file has 788" in out["replace_att_note"]
    assert "1 rows where the published file has 245" in out["swap_obj_note"]


# --------------------------------------------------------------------------- VALSE


def test_valse_a_repeated_image_and_an_instrument_with_no_validated_sample(tmp_path):
    from slipform.evaluate.valse import INSTRUMENTS

    (tmp_path / "valse").mkdir()
    ok = {"mturk": {"caption": 3}, "image_file": "shared.jpg", "linguistic_phenomena": "existence"}
    for name in INSTRUMENTS:
        data = {}
        if name == "existence":
            data = {"a": {**ok, "caption": "right", "foil": "wrong"}, "b": {**ok, "caption": "wrong", "foil": "right"},
                    "c": {**ok, "mturk": {"caption": 1}, "caption": "right", "foil": "wrong"}}
        elif name == "plurals":
            data = {"d": {**ok, "linguistic_phenomena": "plurality", "caption": "right", "foil": "wrong"}}
        elif name == "relations":
            data = {"e": {**ok, "mturk": {"caption": 1}, "caption": "right", "foil": "wrong"}}  # none validated
        (tmp_path / "valse" / f"{name}.json").write_text(json.dumps(data))
    tiny_image(tmp_path / "valse" / "images" / "shared.jpg")
    out = get_benchmark("valse")(KeyedEncoder({"shared.jpg": [1.0, 0.0]}, {"right": [0.9, 0.1], "wrong": [0.1, 0.9]}),
                                 tmp_path)
    assert out["existence_n"] == 2 and out["existence"] == 50.0  # "c" is not validated (1 of 3 annotators)
    assert out["plurals_n"] == 1 and out["plurals"] == 100.0
    assert out["relations_n"] == 0 and math.isnan(out["relations"])
    assert out["phenomenon/existence"] == 50.0 and out["phenomenon/plurality"] == 100.0
    assert out["mean"] == 75.0  # over the two instruments that have a score


# --------------------------------------------------------------------------- Winoground


def test_winoground_a_repeated_image_a_limit_and_a_missing_image(tmp_path):
    root = tmp_path / "winoground"
    rows = [{"id": 0, "image_0": "a", "image_1": "b", "caption_0": "ca", "caption_1": "cb"},
            {"id": 1, "image_0": "b", "image_1": "a", "caption_0": "cb", "caption_1": "ca"},  # the same pair swapped
            {"id": 2, "image_0": "a", "image_1": "c", "caption_0": "ca", "caption_1": "cc"}]
    root.mkdir()
    (root / "examples.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    for n in "ab":
        tiny_image(root / "images" / f"{n}.png")
    enc = KeyedEncoder({"a.png": [1.0, 0.0], "b.png": [0.0, 1.0], "c.png": [1.0, 0.0]},
                       {"ca": [1.0, 0.0], "cb": [0.0, 1.0], "cc": [1.0, 0.0]})
    out = get_benchmark("winoground")(enc, tmp_path, limit=2)
    assert out == {"text_score": 100.0, "image_score": 100.0, "group_score": 100.0, "n": 2}
    with pytest.raises(BenchmarkDataError, match=r"^winoground: 1 of 6 files missing \(first: .*c.png\)"):
        get_benchmark("winoground")(enc, tmp_path)
    tiny_image(root / "images" / "c.png")  # c looks like a and cc reads like ca: every comparison ties
    out = get_benchmark("winoground")(enc, tmp_path)
    assert out["n"] == 3 and out["group_score"] == pytest.approx(200 / 3)


# --------------------------------------------------------------------------- MMVP


def _mmvp(root, n_pairs):
    from slipform.evaluate.mmvp import CATEGORIES

    folder = root / "mmvp_vlm"
    folder.mkdir(parents=True)
    rows = ["Question ID,Type,Statement"]
    for p in range(n_pairs):
        kind = CATEGORIES[min(p // 15, 8)]
        for k in (1, 2):
            qid = 2 * p + k
            rows.append(f"{qid},{kind},statement {qid}")
            tiny_image(folder / "MLLM_VLM Images" / CATEGORIES[min(p // 15, 8)] / f"{qid}.jpg")
    (folder / "Questions.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_mmvp_categories_are_blocks_of_15_pairs_and_ties_pick_the_second_image(tmp_path):
    _mmvp(tmp_path, 17)  # 15 pairs of the first category, 2 of the second
    images, texts = {}, {}
    for qid in range(1, 35):
        images[f"{qid}.jpg"] = [1.0, 0.0] if qid % 2 else [0.0, 1.0]
        texts[f"a photo of statement {qid}"] = [1.0, 0.0] if qid % 2 else [0.0, 1.0]
    texts["a photo of statement 3"] = [0.5, 0.5]  # pair 2: a tie -> image 2, wrong for an odd id
    texts["a photo of statement 33"] = [0.5, 0.5]  # pair 17 (second category): wrong as well
    out = get_benchmark("mmvp_vlm")(KeyedEncoder(images, texts), tmp_path)
    assert out["pairs"] == 17 and out["categories"] == 2
    assert out["orientation_and_direction_image"] == pytest.approx(100 * 14 / 15)
    assert out["presence_of_specific_features_image"] == 50.0
    assert out["image_mean"] == pytest.approx((100 * 14 / 15 + 50) / 2)
    limited = get_benchmark("mmvp_vlm")(KeyedEncoder(images, texts), tmp_path, limit=2)
    assert limited["pairs"] == 2 and limited["categories"] == 1 and limited["image_mean"] == 50.0


def test_mmvp_an_odd_last_row_is_dropped_and_a_missing_image_named(tmp_path):
    folder = _mmvp(tmp_path, 2)
    with open(folder / "Questions.csv", "a") as f:
        f.write("5,Orientation and Direction,statement 5\n")
    from slipform.evaluate.mmvp import load_pairs

    assert [(a[0], b[0]) for a, b in load_pairs(folder / "Questions.csv")] == [(1, 2), (3, 4)]
    (folder / "MLLM_VLM Images" / "Orientation and Direction" / "4.jpg").unlink()
    with pytest.raises(BenchmarkDataError, match=r"^mmvp_vlm: 1 of 4 files missing .*4.jpg"):
        get_benchmark("mmvp_vlm")(KeyedEncoder({}, {}), tmp_path)


# --------------------------------------------------------------------------- EqBen


def test_eqben_an_absent_subset_is_reported_and_leaves_the_summary_out(tmp_path):
    (tmp_path / "eqben").mkdir()
    rec = {"image0": "x0.png", "image1": "x1.png", "caption0": ["c0", "ignored"], "caption1": "c1"}
    (tmp_path / "eqben" / "eqbenag.json").write_text(json.dumps({"video": [rec, rec]}))  # the same pair twice
    for n in ("x0.png", "x1.png"):
        tiny_image(tmp_path / "eqben" / "images" / n)
    enc = KeyedEncoder({"x0.png": [1.0, 0.0], "x1.png": [0.0, 1.0]}, {"c0": [1.0, 0.0], "c1": [0.2, 0.8]})
    out = get_benchmark("eqben")(enc, tmp_path)
    assert out["eqbenag_n"] == 2 and out["eqbenag_group"] == 100.0
    assert "eqbensd_error" in out and "not found" in out["eqbensd_error"] and "vl_compo_group" not in out
    (tmp_path / "eqben" / "images" / "x1.png").unlink()
    with pytest.raises(BenchmarkDataError) as err:  # every subset failed: the first one's message
        get_benchmark("eqben")(enc, tmp_path)
    assert str(err.value).startswith("eqben eqbenag: 2 of 4 files missing (first: ")
    assert str(err.value).endswith("expected layout: DATA_ROOT/eqben/<subset>.json and DATA_ROOT/eqben/images/<image0>")
    tiny_image(tmp_path / "eqben" / "images" / "x1.png")
    (tmp_path / "eqben" / "eqbenag.json").write_text(json.dumps({"video": []}))
    with pytest.raises(BenchmarkDataError, match="holds no image0/image1/caption0/caption1 records"):
        get_benchmark("eqben")(enc, tmp_path)


# --------------------------------------------------------------------------- SPEC


def test_spec_a_tie_goes_to_the_earlier_key_as_argmax_does(tmp_path):
    root = tmp_path / "spec" / "count"
    root.mkdir(parents=True)
    i2t = [{"query": "q.jpg", "keys": ["one dog", "two dogs", "one dog"], "label": 2},  # the same caption twice
           {"query": "q.jpg", "keys": ["two dogs", "one dog"], "label": 1}]
    t2i = [{"query": "one dog", "keys": ["q.jpg", "r.jpg"], "label": 1},  # q and r look alike: a tie
           {"query": "two dogs", "keys": ["r.jpg", "s.jpg"], "label": 1}]
    (root / "image2text.json").write_text(json.dumps(i2t))
    (root / "text2image.json").write_text(json.dumps(t2i))
    for n in ("q.jpg", "r.jpg", "s.jpg"):
        tiny_image(root / n)
    enc = KeyedEncoder({"q.jpg": [1.0, 0.0], "r.jpg": [1.0, 0.0], "s.jpg": [0.0, 1.0]},
                       {"one dog": [1.0, 0.0], "two dogs": [0.0, 1.0]})
    out = get_benchmark("spec")(enc, tmp_path)
    assert out["count_i2t"] == 50.0  # label 2 repeats key 0: argmax takes key 0, wrong
    assert out["count_t2i"] == 50.0  # the tie goes to q, not the label r
    assert out["subsets"] == 1 and out["i2t_mean"] == 50.0 and "existence_error" in out


# --------------------------------------------------------------------------- retrieval


def test_retrieval_a_caption_shared_by_two_images_and_only_the_test_split(tmp_path):
    images = [{"split": "test", "filename": f"{i}.jpg", "sentences": [{"raw": s} for s in sents]}
              for i, sents in enumerate((["red", "same"], ["blue", "same"], ["green"]))]
    images.insert(1, {"split": "train", "filename": "train.jpg", "sentences": [{"raw": "red"}]})
    (tmp_path / "karpathy").mkdir()
    (tmp_path / "karpathy" / "dataset_flickr30k.json").write_text(json.dumps({"images": images}))
    for i in range(3):
        tiny_image(tmp_path / "flickr30k" / "images" / f"{i}.jpg")
    enc = KeyedEncoder({"0.jpg": [1.0, 0.0, 0.0], "1.jpg": [0.0, 1.0, 0.0], "2.jpg": [0.0, 0.0, 1.0]},
                       {"red": [1.0, 0.0, 0.0], "blue": [0.0, 1.0, 0.0], "green": [0.0, 0.0, 1.0],
                        "same": [0.5, 0.5, 0.0]})
    out = get_benchmark("retrieval_flickr30k")(enc, tmp_path)
    assert out["n_images"] == 3 and out["n_texts"] == 5
    # "same" (twice) ties between images 0 and 1: a tie counts against the model, so both miss at 1
    assert out["text_to_image_R@1"] == pytest.approx(60.0) and out["text_to_image_R@5"] == 100.0
    assert out["image_to_text_R@1"] == 100.0  # each image has a caption of its own at the top
    limited = get_benchmark("retrieval_flickr30k")(enc, tmp_path, limit=1)
    assert limited["n_images"] == 1 and limited["n_texts"] == 2


# --------------------------------------------------------------------------- zero-shot


def test_zeroshot_class_weights_accuracy_and_folders_by_hand(tmp_path, monkeypatch):
    import slipform.evaluate.zeroshot as zs

    monkeypatch.setattr(zs, "templates", lambda: (lambda c: f"a {c}", lambda c: f"the {c}"))
    feats = {"a cat": [1.0, 0.0], "the cat": [0.0, 1.0], "a dog": [0.0, -1.0], "the dog": [0.0, -1.0]}
    w = class_weights(KeyedEncoder({}, feats), ["cat", "dog"])
    assert torch.allclose(w, torch.tensor([[2 ** -0.5, 2 ** -0.5], [0.0, -1.0]]))
    img = torch.tensor([[1.0, 1.0], [0.0, -1.0], [1.0, 0.9]])
    res = accuracy(img, torch.tensor([0, 0, 1]), w)
    assert res == {"top1": pytest.approx(100 / 3), "top5": 100.0, "n": 3}  # two classes: top-5 is top-2
    for cls, names in (("big_cat", ["b.JPG", "a.png", "c.txt"]), ("dog", ["z.jpeg", "y.webp", "x.bmp"])):
        for n in names:
            (tiny_image(tmp_path / "test" / cls / n.replace(".txt", ".png")) if not n.endswith(".txt")
             else (tmp_path / "test" / cls / n).write_text("x"))
    paths, labels, classes = image_folder(tmp_path, "test", limit=1)
    assert classes == ["big cat", "dog"] and labels.tolist() == [0, 1]
    assert [p.name for p in paths] == ["a.png", "x.bmp"]  # sorted, one per class
    every = image_folder(tmp_path, "test")[0]  # an upper-case suffix counts; a text file does not
    assert [p.name for p in every] == ["a.png", "b.JPG", "x.bmp", "y.webp", "z.jpeg"]
