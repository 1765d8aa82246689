"""The registered benchmarks not scored by hand elsewhere, each on a small fixture in its published
layout with an encoder whose similarities the test sets, against figures worked out by hand here.

Retrieval (COCO, Flickr30k), zero-shot and linear probes (CIFAR-10/100 in torchvision's pickles,
ImageFolder, VOC 2007, COCO 2014), and the world's retrieval, probe and compositional-split
SugarCrepe. The pairwise suites and Winoground: ``test_eval_direction.py``; the other
compositional suites: ``test_eval_suites.py``.
"""

from __future__ import annotations

import json
import pickle
import random
import warnings

import numpy as np
import pytest
import torch

from slipform.evaluate import get_benchmark

from eval_helpers import KeyedEncoder, onehot, tiny_image

# ----------------------------------------------------------------------------- retrieval

# 11 test images, image i at e_i; 12 captions, caption t of image OWNER[t]. A caption's feature is
# its column of the similarity matrix: 1.0 at its own image, 2.0 (or 1.0: a tie) at the images
# that beat it. Caption 11 (image 0's second) is 0.5 at image 0 and 0.6 everywhere else.
OWNER = list(range(11)) + [0]
BEATEN_BY = {1: [10], 2: [10, 9, 8, 7], 3: [10, 9, 8, 7, 6], 6: [10]}
TIED_WITH = {5: [10]}
# text -> image ranks (0-based, ties against the model): captions 0..11
T2I = [0, 1, 4, 5, 0, 1, 1, 0, 0, 0, 0, 10]
# image -> text: image j's best caption (1.0) against other images' captions at >= 1.0 in row j:
# image 6: caption 3; 7, 8, 9: captions 2, 3; 10: captions 1, 2, 3, 5 (tied), 6
I2T = [0, 0, 0, 0, 0, 0, 1, 2, 2, 2, 5]


def _caption_features():
    feats = []
    for t, owner in enumerate(OWNER):
        v = [0.0] * 11
        v[owner] = 1.0
        for j in BEATEN_BY.get(t, []):
            v[j] = 2.0
        for j in TIED_WITH.get(t, []):
            v[j] = 1.0
        feats.append(v)
    feats[11] = [0.6] * 11
    feats[11][0] = 0.5
    return feats


def _karpathy(tmp_path, dataset):
    feats = _caption_features()
    images, texts, rows = {}, {}, []
    for i in range(11):
        name = f"COCO_val2014_{i:012d}.jpg" if dataset == "coco" else f"{1000 + i}.jpg"
        sentences = [{"raw": f"caption {t}"} for t, o in enumerate(OWNER) if o == i]
        rows.append({"filepath": "val2014", "filename": name, "split": "test", "sentences": sentences})
        images[name] = onehot(i, 11)
        image = tmp_path / "coco" / "val2014" / name if dataset == "coco" else tmp_path / "flickr30k" / "images" / name
        tiny_image(image)
    for t in range(12):
        texts[f"caption {t}"] = feats[t]
    # other splits are left out: the encoder does not know their images or captions
    rows.insert(3, {"filepath": "train2014", "filename": "train.jpg", "split": "train", "sentences": [{"raw": "x"}]})
    rows.append({"filepath": "val2014", "filename": "val.jpg", "split": "val", "sentences": [{"raw": "y"}]})
    (tmp_path / "karpathy").mkdir()
    (tmp_path / "karpathy" / f"dataset_{dataset}.json").write_text(json.dumps({"images": rows}))
    return images, texts


@pytest.mark.parametrize("dataset", ["coco", "flickr30k"])
def test_retrieval_recalls_by_hand(tmp_path, dataset):
    assert [sum(r < k for r in T2I) for k in (1, 5, 10)] == [6, 10, 11]  # the hand counts below
    images, texts = _karpathy(tmp_path, dataset)
    out = get_benchmark(f"retrieval_{dataset}")(KeyedEncoder(images, texts), tmp_path)
    assert out == pytest.approx({"image_to_text_R@1": 600 / 11, "image_to_text_R@5": 1000 / 11,
                                 "image_to_text_R@10": 100.0, "text_to_image_R@1": 50.0,
                                 "text_to_image_R@5": 1000 / 12, "text_to_image_R@10": 1100 / 12,
                                 "n_images": 11, "n_texts": 12})
    # the first 3 test images: captions 0, 1, 2 rank first (their rivals are gone), caption 11 third
    first = get_benchmark(f"retrieval_{dataset}")(KeyedEncoder(images, texts), tmp_path, limit=3)
    assert (first["n_images"], first["n_texts"]) == (3, 4)
    assert first["image_to_text_R@1"] == 100.0 and first["text_to_image_R@1"] == 75.0
    assert first["text_to_image_R@5"] == 100.0


# ----------------------------------------------------------------------------- zero-shot

CLASSES = ["big_cat", "dog", "fish", "owl", "ram", "yak"]  # folder names; "big cat" in the prompts
# each test image's rank of its own class among the 6 (0 = first): top-1 2 of 6, top-5 4 of 6
OWN_RANK = [0, 1, 5, 0, 4, 5]


def _prompt_features(classnames, dim):
    """Every prompt of class c: e_c + e_(c+1) for even templates, e_c - e_(c+1) for odd ones (80
    templates: the mean is e_c, which only an average over all of them gives), class 0's five
    times as long (the class weights are normalised)."""
    from slipform.evaluate.zeroshot import templates

    ts = templates()
    texts = {}
    for c, name in enumerate(classnames):
        for k, t in enumerate(ts):
            v = np.zeros(dim)
            v[c], v[(c + 1) % dim] = 1.0, 1.0 if k % 2 == 0 else -1.0
            texts[t(name)] = list(v * (5.0 if c == 0 else 1.0))
    return texts


def _ranked(label, rank, dim):
    """Scores over classes with ``label`` at position ``rank`` of the descending order."""
    order = [c for c in range(dim) if c != label]
    order.insert(rank, label)
    v = [0.0] * dim
    for pos, c in enumerate(order):
        v[c] = float(dim - pos)
    return v


def test_zeroshot_imagefolder_top1_top5_by_hand(tmp_path):
    from slipform.evaluate.zeroshot import templates

    assert len(templates()) == 80 and templates()[0]("dog") == "a bad photo of a dog."
    images = {}
    for c, name in enumerate(CLASSES):
        tiny_image(tmp_path / "imagefolder" / "pets" / "test" / name / f"{name}.png")
        images[f"{name}.png"] = _ranked(c, OWN_RANK[c], 6)
    (tmp_path / "imagefolder" / "pets" / "test" / "dog" / "notes.txt").write_text("not an image")
    texts = _prompt_features([n.replace("_", " ") for n in CLASSES], 6)
    out = get_benchmark("zeroshot_imagefolder")(KeyedEncoder(images, texts), tmp_path)
    assert out == pytest.approx({"pets_top1": 200 / 6, "pets_top5": 400 / 6, "pets_n": 6})


class PixelEncoder:
    """The encoder's model for in-memory images (CIFAR): an image's pixel (0, 0, 0) is its index
    into ``features``; texts as :class:`KeyedEncoder`."""

    batch_size, device = 4, "cpu"

    def __init__(self, features, texts):
        feats = torch.tensor(features, dtype=torch.float32)
        self.text_encoder = KeyedEncoder({}, texts)
        self.batches = []

        class Model:
            @staticmethod
            def preprocess(image):
                return torch.tensor([int(np.asarray(image)[0, 0, 0])])

            @staticmethod
            def encode_image(x):
                self.batches.append(len(x))
                return feats[x[:, 0]]

        self.model = Model()

    def texts(self, texts):
        return self.text_encoder.texts(texts)


def _write_cifar(root, name, classnames, train_labels, test_labels):
    """torchvision's pickles: image n of a split has pixel (0, 0, 0) = its index (train first)."""
    folder = root / name / ("cifar-10-batches-py" if name == "cifar10" else "cifar-100-python")
    folder.mkdir(parents=True)
    key = "labels" if name == "cifar10" else "fine_labels"

    def batch(labels, offset):
        data = np.zeros((len(labels), 3 * 32 * 32), dtype=np.uint8)
        data[:, 0] = np.arange(offset, offset + len(labels))
        return {"data": data, key: list(labels)}

    files = ([f"data_batch_{k}" for k in range(1, 6)], "test_batch", "batches.meta", "label_names")
    if name == "cifar100":
        files = (["train"], "test", "meta", "fine_label_names")
    train_files, test_file, meta, meta_key = files
    for k, f in enumerate(train_files):  # CIFAR-10's train split: five files, here all in the first
        (folder / f).write_bytes(pickle.dumps(batch(train_labels if k == 0 else [], 0)))
    (folder / test_file).write_bytes(pickle.dumps(batch(test_labels, len(train_labels))))
    (folder / meta).write_bytes(pickle.dumps({meta_key: classnames}))


@pytest.fixture
def no_md5(monkeypatch):
    """The fixture's files are not the published ones: torchvision's checksums are skipped."""
    import torchvision.datasets.cifar as cifar

    monkeypatch.setattr(cifar, "check_integrity", lambda *a, **k: True)
    monkeypatch.setattr(cifar.CIFAR10, "_check_integrity", lambda self: True)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_zeroshot_cifar_top1_top5_by_hand(tmp_path, name, no_md5):
    classnames = ["apple", "aquarium fish", "bear", "bee", "bus", "cup"]
    _write_cifar(tmp_path, name, classnames, [], list(range(6)))
    feats, texts = [_ranked(c, OWN_RANK[c], 6) for c in range(6)], _prompt_features(classnames, 6)
    enc = PixelEncoder(feats, texts)
    out = get_benchmark(f"zeroshot_{name}")(enc, tmp_path)
    assert out == pytest.approx({"top1": 200 / 6, "top5": 400 / 6, "n": 6})
    assert enc.batches == [4, 2]  # in batches of the encoder's size, the last one short
    assert get_benchmark(f"zeroshot_{name}")(PixelEncoder(feats, texts), tmp_path, limit=4) \
        == pytest.approx({"top1": 50.0, "top5": 75.0, "n": 4})


# ----------------------------------------------------------------------------- linear probes

# single-label: two classes at x = -1 and +1 on a line (10 training samples each, so every C of
# the sweep separates them); 4 test samples, the last of class 0 placed among class 1: 75% top-1
PROBE_TRAIN = [(-1.0 - 0.1 * (k % 3), 0) for k in range(10)] + [(1.0 + 0.1 * (k % 3), 1) for k in range(10)]
PROBE_TEST = [(-1.0, 0), (-1.2, 0), (1.1, 1), (1.0, 0)]


def _probe_check(res, n_train=20, n_test=4):
    assert res["top1"] == pytest.approx(75.0)
    assert (res["n_train"], res["n_test"]) == (n_train, n_test)


def test_probe_imagefolder_by_hand(tmp_path):
    images = {}
    for split, rows in (("train", PROBE_TRAIN), ("test", PROBE_TEST)):
        for k, (x, label) in enumerate(rows):
            name = f"{split}_{k}.png"
            tiny_image(tmp_path / "imagefolder" / "line" / split / ("left", "right")[label] / name)
            images[name] = [x, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a C at the sweep's edge: every C separates these
        out = get_benchmark("probe_imagefolder")(KeyedEncoder(images, {}), tmp_path)
    res = {k.removeprefix("line_"): v for k, v in out.items()}
    _probe_check(res)
    assert set(res) == {"top1", "C", "C_at_edge", "n_train", "n_test"}


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_probe_cifar_by_hand(tmp_path, name, no_md5):
    train = [label for _, label in PROBE_TRAIN]
    test = [label for _, label in PROBE_TEST]
    _write_cifar(tmp_path, name, ["left", "right"], train, test)
    feats = [[x, 0.0] for x, _ in PROBE_TRAIN + PROBE_TEST]  # train images first (their pixel index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _probe_check(get_benchmark(f"probe_{name}")(PixelEncoder(feats, {}), tmp_path))


# multi-label: features are the labels (+1 present, -1 absent) over dog, cat, person; test image 3
# has a person the features miss, and looks exactly like test images 1 and 2 (dog only).
# AP: dog 1, cat 1; person: image 0 first (a hit, precision 1 at recall 1/2), then images 1-3
# tied (2 hits of 4 at recall 1): 1/2 * 1 + 1/2 * 1/2 = 0.75. mAP = (1 + 1 + 0.75) / 3.
MULTI_CLASSES = ("dog", "cat", "person")
MULTI_TRAIN = [tuple(int(b) for b in f"{k % 8:03b}") for k in range(24)]  # every combination, 3 times
MULTI_TEST = [((0, 1, 1), (0, 1, 1)), ((1, 0, 0), (1, 0, 0)), ((1, 0, 0), (1, 0, 0)), ((1, 0, 1), (1, 0, 0))]
MULTI_MAP = (1 + 1 + 0.75) / 3 * 100


def _multi_features(labels):
    return [2.0 * b - 1.0 for b in labels]


def _check_multi(out):
    assert out["mAP"] == pytest.approx(MULTI_MAP)
    assert (out["n_train"], out["n_test"], out["classes"]) == (24, 4, 3)  # the other classes never occur


def test_probe_voc2007_map_by_hand(tmp_path):
    base = tmp_path / "voc" / "VOCdevkit" / "VOC2007"
    (base / "Annotations").mkdir(parents=True)
    (base / "ImageSets" / "Main").mkdir(parents=True)
    images, ids = {}, {"trainval": [], "test": []}
    rows = [("trainval", y, y) for y in MULTI_TRAIN] + [("test", y, f) for y, f in MULTI_TEST]
    for n, (split, labels, feats) in enumerate(rows):
        i = f"{n:06d}"
        ids[split].append(i)
        objs = "".join(f"<object><name> {c} </name></object>" for c, b in zip(MULTI_CLASSES, labels) if b)
        (base / "Annotations" / f"{i}.xml").write_text(f"<annotation>{objs}</annotation>")
        tiny_image(base / "JPEGImages" / f"{i}.jpg")
        images[f"{i}.jpg"] = _multi_features(feats)
    for split, names in ids.items():
        (base / "ImageSets" / "Main" / f"{split}.txt").write_text("\n".join(names) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_multi(get_benchmark("probe_voc2007")(KeyedEncoder(images, {}), tmp_path))


def test_probe_coco2014_map_by_hand(tmp_path):
    cat_ids = {"dog": 18, "cat": 17, "person": 1}  # columns in id order: person, cat, dog
    images = {}
    for split, rows in (("train", [(y, y) for y in MULTI_TRAIN]), ("val", MULTI_TEST)):
        entries, anns = [], []
        for n, (labels, feats) in enumerate(rows):
            image_id = 1000 - n  # listed in reverse: the benchmark sorts by id
            name = f"COCO_{split}2014_{image_id:012d}.jpg"
            entries.append({"id": image_id, "file_name": name})
            anns += [{"image_id": image_id, "category_id": cat_ids[c]} for c, b in zip(MULTI_CLASSES, labels) if b]
            anns += [{"image_id": image_id, "category_id": cat_ids["dog"]}] if labels[0] else []  # two dogs
            tiny_image(tmp_path / "coco" / f"{split}2014" / name)
            images[name] = _multi_features(feats)
        anns.append({"image_id": 5, "category_id": 18})  # an image the annotations name but not the list
        data = {"images": entries, "annotations": anns,
                "categories": [{"id": i, "name": c} for c, i in cat_ids.items()]}
        (tmp_path / "coco" / "annotations").mkdir(parents=True, exist_ok=True)
        (tmp_path / "coco" / "annotations" / f"instances_{split}2014.json").write_text(json.dumps(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_multi(get_benchmark("probe_coco2014")(KeyedEncoder(images, {}), tmp_path))


# ----------------------------------------------------------------------------- the world


class WorldEncoder:
    """Image n of a call at e_n (or the feature ``image_feature(n)``); texts from a dict."""

    def __init__(self, texts, image_feature=None, dim=None):
        self.texts_, self.image_feature, self.dim = texts, image_feature, dim

    def images(self, paths, boxes=None):
        if self.image_feature is None:
            return torch.eye(len(paths), self.dim or len(paths))
        return torch.tensor([self.image_feature(p) for p in paths], dtype=torch.float32)

    def texts(self, texts):
        return torch.tensor([self.texts_(t) if callable(self.texts_) else self.texts_[t] for t in texts],
                            dtype=torch.float32)


def test_world_retrieval_by_hand(tmp_path):
    from slipform.evaluate.world import test_scenes
    from slipform.world.caption import caption

    scenes, _ = test_scenes(tmp_path, "test", 4)
    # caption 0 of scene i at e_i; caption 1 too, but scenes 0 and 1's second captions score 2.0 at
    # the next scene's image: t2i ranks [0, 1], [0, 1], [0, 0], [0, 0] (R@1 6/8); i2t: images 1
    # and 2 meet a foreign caption above their own (R@1 2/4)
    texts = {}
    for i, s in enumerate(scenes):
        texts[caption(s, 0)] = onehot(i, 4)
        texts[caption(s, 1)] = [a + 2.0 * b for a, b in zip(onehot(i, 4), onehot(i + 1, 4))] if i < 2 else onehot(i, 4)
    assert len(texts) == 8, "two scenes share a caption: pick other scenes"
    out = get_benchmark("world_retrieval")(WorldEncoder(texts), tmp_path, limit=4)
    items = out.pop("_items")
    assert out == pytest.approx({"image_to_text_R@1": 50.0, "image_to_text_R@5": 100.0, "image_to_text_R@10": 100.0,
                                 "text_to_image_R@1": 75.0, "text_to_image_R@5": 100.0, "text_to_image_R@10": 100.0})
    assert items["image_to_text_R@1"].tolist() == [100.0, 0.0, 0.0, 100.0]
    assert items["text_to_image_R@1"].tolist() == [50.0, 50.0, 100.0, 100.0]
    assert items["mean_R@1"].tolist() == [75.0, 25.0, 50.0, 100.0]


def test_world_probe_fits_each_probe_on_its_features_and_labels(tmp_path, monkeypatch):
    """What each of the three probes is fit on (the fits themselves: the probe tests above; three
    real sweeps here would take minutes): image features with the left (or upper) thing's shape
    and with the colours and shapes present, and the plain captions' text features scored on the
    test scenes whose two shapes differ."""
    import slipform.evaluate.world as world
    from slipform.world.scene import COLOURS, SHAPES

    n = 6
    train, train_paths = world.test_scenes(tmp_path, "train", n)
    test, test_paths = world.test_scenes(tmp_path, "test", n)
    index = {p: k for k, p in enumerate(train_paths + test_paths)}  # image feature: its index
    calls = []

    def fake(kind):
        def fit(xa, ya, xb, yb):
            calls.append((kind, xa, ya, xb, yb))
            return {"top1": 10.0 * len(calls), "mAP": 10.0 * len(calls)}
        return fit

    monkeypatch.setattr(world, "fit_single_label", fake("single"))
    monkeypatch.setattr(world, "fit_multi_label", fake("multi"))
    captions = {world.plain_caption(s): [float(k), 1.0] for k, s in enumerate(train + test)}
    enc = WorldEncoder(captions, lambda p: [float(index[p]), 0.0])
    out = get_benchmark("world_probe")(enc, tmp_path, limit=n)
    assert [c[0] for c in calls] == ["single", "multi", "single"]
    assert out == {"left_shape_top1": 10.0, "colours_shapes_mAP": 20.0, "text_left_shape_top1": 30.0}
    (_, xa, ya, xb, yb), (_, mxa, ma, mxb, mb), (_, ta, tya, tb, tyb) = calls
    assert xa[:, 0].tolist() == list(range(n)) and xb[:, 0].tolist() == list(range(n, 2 * n))
    assert (mxa == xa).all() and (mxb == xb).all() and (tya == ya).all()
    for scene, label, present in zip(train + test, np.concatenate([ya, yb]), np.concatenate([ma, mb])):
        # "A left of B" / "A above B": A; "A right of B" / "A below B": B
        left = scene.things[0] if scene.relation in ("left of", "above") else scene.things[1]
        assert SHAPES[label] == left.shape
        assert {COLOURS[i] for i in np.flatnonzero(present[:len(COLOURS)])} == {t.colour for t in scene.things}
        assert {SHAPES[i] for i in np.flatnonzero(present[len(COLOURS):])} == {t.shape for t in scene.things}
    differ = [k for k, s in enumerate(test) if s.things[0].shape != s.things[1].shape]
    assert ta[:, 0].tolist() == list(range(n)) and tb[:, 0].tolist() == [n + k for k in differ]
    assert (tyb == yb[differ]).all()


def test_world_sugarcrepe_comp_scores_the_compositional_split(tmp_path):
    """Positives at 0.5; the even scenes' negatives at 0.2 (right), the odd ones' at 0.5 (tied: wrong):
    every subset that all 8 scenes have is 50%, on the held-out combinations' images."""
    from slipform.evaluate.world import negatives, plain_caption, test_scenes

    scenes, paths = test_scenes(tmp_path, "compositional", 8)
    value = {}
    for i, s in enumerate(scenes):
        for text in negatives(s, random.Random(f"wsc:{s.seed}")).values():
            value[text] = 0.2 if i % 2 == 0 else 0.5
    for s in scenes:
        assert plain_caption(s) not in value, "a positive is another scene's negative: pick other scenes"
        value[plain_caption(s)] = 0.5
    seen = []
    enc = WorldEncoder(lambda t: [value[t], 0.0], lambda p: seen.append(p) or [1.0, 0.0])
    out = get_benchmark("world_sugarcrepe_comp")(enc, tmp_path, limit=8)
    assert seen == paths and all("compositional" in str(p) for p in paths)
    for kind in ("replace_obj", "replace_att", "replace_rel", "add_obj", "add_att"):
        assert out[kind] == pytest.approx(50.0), kind
        assert out["_items"][kind].tolist() == [100.0, 0.0] * 4
    assert out["macro"] == pytest.approx(np.mean([np.nanmean(v) for v in out["_items"].values()]))
