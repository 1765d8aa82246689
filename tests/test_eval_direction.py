"""Every pairwise benchmark scored by hand, ties included: the image must prefer the right text strictly.

Each benchmark gets items whose similarities the test sets (``KeyedEncoder``): right (the
positive scores higher), wrong (the negative does) and tied. A tie counts against the model, so
swapping the comparison (``>`` to ``<`` or ``>=``) or the two texts changes every figure below.
"""

import json
import math
import random

import numpy as np
import pytest
import torch

from slipform.evaluate import get_benchmark
from slipform.evaluate.metrics import pairwise_accuracy
from slipform.evaluate.sugarcrepe import SUBSETS
from slipform.evaluate.valse import INSTRUMENTS

from eval_helpers import KeyedEncoder, tiny_image

# per item: (positive's similarity, negative's similarity) to its image
RIGHT, WRONG, TIE = (0.9, 0.2), (0.3, 0.8), (0.5, 0.5)
PATTERN = (RIGHT, RIGHT, WRONG, TIE)  # 50% correct; '<' gives 25%, '>=' 75%


def test_pairwise_accuracy_by_hand_with_ties():
    image = torch.tensor([[1.0, 0.0]] * 4)
    pos = torch.tensor([[p, 0.0] for p, _ in PATTERN])
    neg = torch.tensor([[n, 1.0] for _, n in PATTERN])  # the second coordinate is orthogonal to the image
    assert pairwise_accuracy(image, pos, neg).tolist() == [True, True, False, False]


def _features(items, image_key, pos_key, neg_key):
    """Image i at (1, 0, 0); texts at (s, 0, 0) with the similarity s the item's pattern sets."""
    images, texts = {}, {}
    for it, (p, n) in items:
        images[it[image_key]] = [1.0, 0.0, 0.0]
        texts[it[pos_key]], texts[it[neg_key]] = [p, 0.0, 0.0], [n, 0.0, 0.0]
    return images, texts


def test_sugarcrepe_by_hand(tmp_path):
    images, texts, n_items = {}, {}, {}
    for subset in SUBSETS:
        pattern = PATTERN + ((RIGHT,) if subset == "add_att" else ())  # add_att: 3 of 5 right
        items = [({"filename": f"{subset}_{i}.jpg", "caption": f"{subset} caption {i}",
                   "negative_caption": f"{subset} negative {i}"}, sims) for i, sims in enumerate(pattern)]
        (tmp_path / "sugarcrepe").mkdir(exist_ok=True)
        (tmp_path / "sugarcrepe" / f"{subset}.json").write_text(json.dumps({str(i): it for i, (it, _) in
                                                                           enumerate(items)}))
        for it, _ in items:
            tiny_image(tmp_path / "coco" / "val2017" / it["filename"])
        im, tx = _features(items, "filename", "caption", "negative_caption")
        images.update(im)
        texts.update(tx)
        n_items[subset] = len(items)
    enc = KeyedEncoder(images, texts)
    out = get_benchmark("sugarcrepe")(enc, tmp_path)
    assert out["add_att"] == pytest.approx(60.0)
    assert all(out[s] == pytest.approx(50.0) for s in SUBSETS if s != "add_att")
    assert out["micro"] == pytest.approx((3 + 6 * 2) / 29 * 100) and out["n"] == 29
    assert out["macro"] == pytest.approx((60 + 6 * 50) / 7)  # by hand, not from the subset scores
    assert {s: out[f"{s}_n"] for s in SUBSETS} == n_items
    assert sorted(enc.paths) == sorted((tmp_path / "coco" / "val2017").iterdir())  # the images it checked for
    first_two = get_benchmark("sugarcrepe")(KeyedEncoder(images, texts), tmp_path, limit=2)  # RIGHT, RIGHT
    assert first_two["n"] == 14 and first_two["micro"] == first_two["macro"] == pytest.approx(100.0)
    (tmp_path / "coco" / "val2017" / "swap_obj_3.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"^sugarcrepe: 1 of 29 files missing .*swap_obj_3\.jpg.*"
                                                r"expected layout: DATA_ROOT/sugarcrepe/<subset>\.json and "
                                                r"DATA_ROOT/coco/val2017/<filename>$"):
        get_benchmark("sugarcrepe")(KeyedEncoder(images, texts), tmp_path)


def test_valse_by_hand_counts_only_validated_samples(tmp_path):
    images, texts = {}, {}
    (tmp_path / "valse").mkdir()
    for name in INSTRUMENTS:
        # a sample one annotator of three validated (mturk.caption = 1) is left out: it would be right;
        # so are samples without votes (mturk null, or no caption count). counting-hard has one more
        # right sample: 3 of 5
        rows = [(3, RIGHT), (2, RIGHT), (3, WRONG), (2, TIE), (1, RIGHT), (0, RIGHT), (None, RIGHT), ("no caption", RIGHT)]
        rows += [(2, RIGHT)] if name == "counting-hard" else []
        items = [({"image_file": f"{name}_{i}.jpg", "caption": f"{name} caption {i}", "foil": f"{name} foil {i}",
                   "mturk": {"caption": votes} if isinstance(votes, int) else None if votes is None else {"foil": 3},
                   "linguistic_phenomena": "counting" if "counting" in name else name},
                  sims) for i, (votes, sims) in enumerate(rows)]
        (tmp_path / "valse" / f"{name}.json").write_text(json.dumps({str(i): it for i, (it, _) in enumerate(items)}))
        for it, _ in items:
            tiny_image(tmp_path / "valse" / "images" / it["image_file"])
        im, tx = _features(items, "image_file", "caption", "foil")
        images.update(im)
        texts.update(tx)
    enc = KeyedEncoder(images, texts)
    out = get_benchmark("valse")(enc, tmp_path)
    assert out["counting-hard"] == pytest.approx(60.0) and out["counting-hard_n"] == 5
    assert all(out[name] == pytest.approx(50.0) and out[f"{name}_n"] == 4 for name in INSTRUMENTS
               if name != "counting-hard")
    # a phenomenon pools its instruments' samples (3 + 2 + 2 of 13), not their accuracies (53.3)
    assert out["phenomenon/counting"] == pytest.approx(700 / 13) and out["phenomenon/existence"] == pytest.approx(50)
    assert out["mean"] == pytest.approx((60 + 10 * 50) / 11)
    assert all(p.is_file() and p.parent == tmp_path / "valse" / "images" for p in enc.paths)
    first_two = get_benchmark("valse")(KeyedEncoder(images, texts), tmp_path, limit=2)  # RIGHT, RIGHT
    assert all(first_two[name] == 100.0 and first_two[f"{name}_n"] == 2 for name in INSTRUMENTS)
    one = get_benchmark("valse")(KeyedEncoder(images, texts), tmp_path, limit=1)  # its phenomenon from that one
    assert one["phenomenon/counting"] == 100.0 and one["counting-hard_n"] == 1
    # an instrument file without one validated sample scores NaN and leaves the mean to the others
    exist = tmp_path / "valse" / "existence.json"
    exist.write_text(json.dumps({k: {**v, "mturk": {"caption": 1}} for k, v in json.loads(exist.read_text()).items()}))
    none = get_benchmark("valse")(KeyedEncoder(images, texts), tmp_path)
    assert math.isnan(none["existence"]) and none["existence_n"] == 0 and "phenomenon/existence" not in none
    assert none["mean"] == pytest.approx((60 + 9 * 50) / 10)
    (tmp_path / "valse" / "images" / "plurals_3.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"^valse: 1 of 4 files missing .*plurals_3\.jpg.*expected layout: "
                                                r"DATA_ROOT/valse/<instrument>\.json and DATA_ROOT/valse/images/"
                                                r"<image_file>$"):
        get_benchmark("valse")(KeyedEncoder(images, texts), tmp_path)


def test_aro_visual_genome_by_hand(tmp_path):
    rel = [{"image_path": f"r{i}.jpg", "bbox_x": 1, "bbox_y": 2, "bbox_w": 10, "bbox_h": 12,
            "true_caption": f"the cup is on the table {i}", "false_caption": f"the table is on the cup {i}",
            "relation_name": "on" if i < 4 else "under"} for i in range(6)]
    att = [{"image_path": f"a{i}.jpg", "bbox_x": 0, "bbox_y": 0, "bbox_w": 8, "bbox_h": 8,
            "true_caption": f"the red cup and the blue table {i}", "false_caption": f"the blue cup and the red table {i}",
            "attributes": ["red", "blue"]} for i in range(4)]
    (tmp_path / "aro").mkdir()
    (tmp_path / "aro" / "visual_genome_relation.json").write_text(json.dumps(rel))
    (tmp_path / "aro" / "visual_genome_attribution.json").write_text(json.dumps(att))
    rel_sims = list(PATTERN) + [RIGHT, TIE]  # "on": 50%; "under": 50%
    images, texts = {}, {}
    for items, sims in ((rel, rel_sims), (att, PATTERN)):
        for it in items:
            tiny_image(tmp_path / "aro" / "images" / it["image_path"])
        im, tx = _features(list(zip(items, sims)), "image_path", "true_caption", "false_caption")
        images.update(im)
        texts.update(tx)
    enc = KeyedEncoder(images, texts)
    out = get_benchmark("aro")(enc, tmp_path)
    assert out["vg_relation_micro"] == pytest.approx(50.0) and out["vg_relation_n"] == 6
    assert out["vg_relation_macro"] == pytest.approx(50.0) and out["vg_relation_relations"] == 2
    assert out["vg_attribution_micro"] == pytest.approx(50.0) and out["vg_attribution_n"] == 4
    assert enc.boxes[:1] == [(1, 2, 11, 14)]  # cropped to the item's box (x, y, x + w, y + h)


class ScoredTexts:
    """The world benchmarks' encoder: every image at (1, 0); a text at (s, 0) with s from ``score``."""

    def __init__(self, score):
        self.score, self.seen = score, []

    def images(self, paths, boxes=None):
        return torch.tensor([[1.0, 0.0]] * len(paths))

    def texts(self, texts):
        self.seen.extend(texts)
        return torch.tensor([[self.score(t), 0.0] for t in texts])


def test_world_sugarcrepe_and_aro_swaps_by_hand(tmp_path):
    from slipform.evaluate.world import negatives, plain_caption, swap_things, test_scenes

    scenes, _ = test_scenes(tmp_path, "test", 8)
    value = {}  # text -> similarity: positives 0.5; scene i's negatives right, right, wrong, tied by i % 4
    for s in scenes:
        value[plain_caption(s)] = 0.5
    negs = {i: negatives(s, random.Random(f"wsc:{s.seed}")) for i, s in enumerate(scenes)}
    expected: dict[str, list[float]] = {}
    for i, s in enumerate(scenes):
        neg_value = (0.2, 0.2, 0.8, 0.5)[i % 4]
        for kind, text in {**negs[i], "relation_swap": plain_caption(swap_things(s))}.items():
            assert value.get(text, neg_value) == neg_value, "a text with two roles: pick other scenes"
            value[text] = neg_value
            expected.setdefault(kind, []).append(100.0 if i % 4 < 2 else 0.0)
    enc = ScoredTexts(lambda t: value.get(t, 0.0))
    out = get_benchmark("world_sugarcrepe")(enc, tmp_path, limit=8)
    for kind in negs[0]:
        assert out[kind] == pytest.approx(np.mean(expected[kind])), kind
    assert out["macro"] == pytest.approx(np.mean([np.mean(expected[k]) for k in out["_items"]]))
    aro = get_benchmark("world_aro")(ScoredTexts(lambda t: value.get(t, 0.0)), tmp_path, limit=8)
    assert aro["relation_swap"] == pytest.approx(np.mean(expected["relation_swap"])) == pytest.approx(50.0)


def test_world_word_order_counts_ties_against_the_model(tmp_path):
    """A bag-of-words text tower scores a caption and its shuffles alike: that is 0%, not 100%."""
    enc = ScoredTexts(lambda t: 0.5)  # every text the same: all ties
    assert get_benchmark("world_aro")(enc, tmp_path, limit=4)["order_precision@1"] == 0.0
    originals = set()
    from slipform.evaluate.world import plain_caption, test_scenes

    for s in test_scenes(tmp_path, "test", 4)[0]:
        originals.add(plain_caption(s)[:-1])
    right = get_benchmark("world_aro")(ScoredTexts(lambda t: 0.9 if t in originals else 0.1), tmp_path, limit=4)
    assert right["order_precision@1"] == 100.0


def test_valse_keeps_exactly_the_validated_samples_of_the_real_files():
    """The published files' counts of samples with mturk.caption >= 2 (VALSE's validated set)."""
    from slipform.evaluate.valse import load_instrument

    from conftest import FIXTURES

    kept = {i: len(load_instrument(FIXTURES / "valse" / f"{i}.json")) for i in INSTRUMENTS}
    assert kept == {"existence": 505, "plurals": 851, "counting-hard": 868, "counting-small-quant": 900,
                    "counting-adversarial": 691, "relations": 535, "action-replacement": 648, "actant-swap": 949,
                    "coreference-standard": 708, "coreference-hard": 104, "foil-it": 943}


def test_winoground_ties_and_the_other_pairs_count_against_the_model():
    from slipform.evaluate.metrics import winoground_scores

    # s[n, caption, image]; text: s00 > s10 and s11 > s01; image: s00 > s01 and s11 > s10
    s = torch.tensor([
        [[0.9, 0.1], [0.1, 0.9]],  # all four comparisons hold: text, image and group
        [[0.5, 0.1], [0.5, 0.9]],  # image 0 ties between its captions (s00 = s10): no text score
        [[0.9, 0.9], [0.1, 0.95]],  # caption 0 ties between the images (s00 = s01): no image score
        [[0.6, 0.1], [0.1, 0.6]],  # s00 = s11, never compared with each other: all hold
        [[0.9, 0.2], [0.1, 0.2]],  # image 1 ties between its captions (s11 = s01): no text score
        [[0.9, 0.1], [0.3, 0.3]],  # caption 1 ties between the images (s11 = s10): no image score
    ])
    out = winoground_scores(s)
    assert out["text_score"] == pytest.approx(100 * 4 / 6)
    assert out["image_score"] == pytest.approx(100 * 4 / 6)
    assert out["group_score"] == pytest.approx(100 * 2 / 6)


def test_grouped_accuracy_keeps_single_item_groups_by_default_and_is_nan_without_any():
    from slipform.evaluate.metrics import grouped_accuracy

    acc = grouped_accuracy([True], ["on"])
    assert acc == {"per_group": {"on": 100.0}, "macro": 100.0, "micro": 100.0}
    none = grouped_accuracy([True, False], ["a", "b"], min_count=2)
    assert none["per_group"] == {} and none["macro"] != none["macro"] and none["micro"] == 50.0
    assert grouped_accuracy([], [])["micro"] == 0.0


def test_retrieval_ranks_are_integers_and_blocks_of_two_agree():
    from slipform.evaluate.metrics import recall_at_k, retrieval_ranks

    g = torch.Generator().manual_seed(3)
    sim = torch.rand(5, 10, generator=g)
    owner = torch.arange(5).repeat_interleave(2)
    best, t2i = retrieval_ranks(sim, owner)
    assert best.dtype == t2i.dtype == torch.long
    b2, t2 = retrieval_ranks(sim, owner, block=2)  # blocks narrower than the captions, last one short
    assert torch.equal(b2, best) and torch.equal(t2, t2i)
    assert recall_at_k(sim, owner, ranks=(best, t2i)) == recall_at_k(sim, owner)


def test_winoground_benchmark_by_hand(tmp_path):
    """s[n, caption, image] = caption . image with image 0 at (1, 0), image 1 at (0, 1)."""
    root = tmp_path / "winoground" / "data"  # the layout of the unzipped Hugging Face files
    captions = [((0.9, 0.1), (0.1, 0.9)),  # text, image and group
                ((0.5, 0.1), (0.5, 0.9)),  # image 0 ties between the captions: image score only
                ((0.9, 0.9), (0.1, 0.95)),  # caption 0 ties between the images: text score only
                ((0.9, 0.2), (0.8, 0.3))]  # caption 1 prefers image 0: text score only (text and image differ)
    rows, images, texts = [], {}, {}
    for n, (c0, c1) in enumerate(captions):
        ext = ".jpg" if n == 1 else ".png"
        rows.append({"id": n, "image_0": f"ex{n}_0", "image_1": f"ex{n}_1", "caption_0": f"caption 0 of {n}",
                     "caption_1": f"caption 1 of {n}"})
        for i, vec in ((0, [1.0, 0.0]), (1, [0.0, 1.0])):
            tiny_image(root / "images" / f"ex{n}_{i}{ext}")
            images[f"ex{n}_{i}{ext}"] = vec
        texts[f"caption 0 of {n}"], texts[f"caption 1 of {n}"] = list(c0), list(c1)
    (root / "examples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    out = get_benchmark("winoground")(KeyedEncoder(images, texts), tmp_path)
    assert out["n"] == 4 and out["text_score"] == pytest.approx(300 / 4)
    assert out["image_score"] == pytest.approx(200 / 4) and out["group_score"] == pytest.approx(100 / 4)
