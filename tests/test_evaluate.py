"""Evaluation: metrics against hand-computed values; benchmarks on real annotation files with tiny images."""

import json
import shutil

import numpy as np
import pytest
import torch

from slipform.cli import main
from slipform.evaluate import get_benchmark, list_benchmarks, run
from slipform.evaluate.aro import EXCLUDED_RELATIONS
from slipform.evaluate.aro_order import perturbations, pre_caption
from slipform.evaluate.encode import Encoder
from slipform.evaluate.metrics import grouped_accuracy, mean_average_precision, recall_at_k, winoground_scores
from slipform.evaluate.overlap import check_overlap, image_key
from slipform.evaluate.sugarcrepe import SUBSETS, load_subset
from slipform.evaluate.valse import INSTRUMENTS, load_instrument
from slipform.models import ModelSpec, load_model, tiny_open_clip_config

from conftest import FIXTURES


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return load_model(ModelSpec("open_clip", "tiny", None, tiny_open_clip_config()))


def _image(path, seed=0):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(abs(hash(str(path))) % 2**32 + seed)
    Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(path)


# ----------------------------------------------------------------------------- metrics

def test_winoground_scores_by_hand():
    s = torch.tensor([
        [[0.9, 0.1], [0.2, 0.8]],   # all right: text, image, group
        [[0.9, 0.95], [0.2, 0.8]],  # text ok (0.9>0.2, 0.8>0.95? no) -> text fails; image: 0.9>0.95 no
        [[0.5, 0.4], [0.6, 0.7]],   # text: 0.5>0.6 no; image: 0.5>0.4 and 0.7>0.6 yes
    ])
    assert winoground_scores(s) == pytest.approx({"text_score": 100 / 3, "image_score": 200 / 3,
                                                  "group_score": 100 / 3})


def test_recall_at_k_with_five_captions_per_image():
    owner = torch.arange(3).repeat_interleave(5)  # 3 images x 5 captions
    sim = -torch.rand(3, 15, generator=torch.Generator().manual_seed(0)) * 0.01  # distinct: no ties
    sim[0, 3] = 1.0                       # image 0: one of its captions ranks first
    sim[1, 0] = 1.0; sim[1, 6] = 0.9      # image 1: its best caption ranks second  # noqa: E702
    sim[2, :10] += 0.5                    # image 2: its captions (10..14) rank 11th and below,
    sim[2, 10:] += 0.2                    # though it is still the best image for each of them
    r = recall_at_k(sim, owner, ks=(1, 2, 5))
    assert r["image_to_text_R@1"] == pytest.approx(100 / 3)
    assert r["image_to_text_R@2"] == pytest.approx(200 / 3)
    assert r["image_to_text_R@5"] == pytest.approx(200 / 3)
    # text -> image, by a loop: the caption's own image must have the highest similarity
    for k in (1, 2):
        hits = sum(int(owner[t] in sim[:, t].topk(k).indices) for t in range(15))
        assert r[f"text_to_image_R@{k}"] == pytest.approx(100 * hits / 15)
    assert r["text_to_image_R@1"] == pytest.approx(100 * 7 / 15)  # captions 3, 6 and 10..14


def test_recall_counts_ties_against_the_model_and_works_in_blocks():
    owner = torch.arange(4).repeat_interleave(2)  # 4 images x 2 captions
    flat = torch.zeros(4, 8)  # every score tied: no image and no caption is found at 1
    r = recall_at_k(flat, owner, ks=(1, 7))
    assert r["image_to_text_R@1"] == 0 and r["text_to_image_R@1"] == 0
    # at K = 7 an image's own caption follows the 6 other captions; a caption's image the 3 others
    assert r["image_to_text_R@7"] == 100 and r["text_to_image_R@1"] == 0
    # a duplicate image: images 0 and 1 score identically on every caption
    rng = torch.Generator().manual_seed(1)
    sim = torch.rand(4, 8, generator=rng)
    sim[0, :2] += 2.0  # captions of image 0 are its best match, and (below) image 1's too
    sim[1] = sim[0]
    from slipform.evaluate.metrics import retrieval_ranks

    best, t2i = retrieval_ranks(sim, owner)
    assert t2i[0] == 1 and t2i[1] == 1  # image 0 ties with image 1 on its own captions: rank 2
    # blocks of one image give the same ranks as one block, and match a plain loop
    b1, t1 = retrieval_ranks(sim, owner, block=1)
    assert torch.equal(b1, best) and torch.equal(t1, t2i)
    for t in range(8):
        assert t2i[t] == sum(int(sim[i, t] >= sim[owner[t], t]) for i in range(4) if i != owner[t])
    for i in range(4):
        own = sim[i][owner == i].max()
        assert best[i] == sum(int(sim[i, t] >= own) for t in range(8) if owner[t] != i)


def test_map_matches_sklearn():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, (40, 4))
    scores = rng.random((40, 4)) + labels * 0.3
    want = np.mean([average_precision_score(labels[:, c], scores[:, c]) for c in range(4)]) * 100
    assert mean_average_precision(scores, labels) == pytest.approx(want)


def test_aro_macro_averages():
    acc = grouped_accuracy([1, 0, 1, 1, 0, 0], ["on", "on", "under", "under", "x", "x"], min_count=2)
    assert acc["per_group"] == {"on": 50.0, "under": 100.0, "x": 0.0}
    assert acc["macro"] == pytest.approx(50.0) and acc["micro"] == pytest.approx(50.0)
    assert grouped_accuracy([1, 0, 1], ["a", "a", "b"], min_count=2)["per_group"] == {"a": 50.0}
    assert "next to" in EXCLUDED_RELATIONS and "on" not in EXCLUDED_RELATIONS


def test_aro_order_preprocessing_matches_aros_code():
    assert pre_caption('A Man (riding) a horse; "fast"!  Here.') == "a man riding a horse fast here"
    assert pre_caption("A dog, on a mat.") == "a dog, on a mat"  # commas are kept, as in ARO
    long = " ".join(f"w{i}" for i in range(40))
    assert pre_caption(long).split() == [f"w{i}" for i in range(30)]


def test_order_perturbations_keep_the_words():
    import random

    from slipform.evaluate.aro_order import seeded_permute

    tags = [("a", "DT"), ("brown", "JJ"), ("dog", "NN"), ("runs", "VBZ"), ("on", "IN"), ("the", "DT"),
            ("green", "JJ"), ("grass", "NN")]
    words = [w for w, _ in tags]
    outs = perturbations(tags, words, seeded_permute(random.Random(0)))
    assert len(outs) == 4 and all(sorted(o.split()) == sorted(words) for o in outs)
    assert outs == perturbations(tags, words, seeded_permute(random.Random(0)))  # seeded: reproducible


# ----------------------------------------------------------------------------- real annotation files

def test_real_sugarcrepe_and_valse_counts():
    counts = {s: len(load_subset(FIXTURES / "sugarcrepe" / f"{s}.json")) for s in SUBSETS}
    assert counts == {"add_att": 692, "add_obj": 2062, "replace_att": 788, "replace_obj": 1652, "replace_rel": 1406,
                      "swap_att": 666, "swap_obj": 245}
    kept = {i: len(load_instrument(FIXTURES / "valse" / f"{i}.json")) for i in INSTRUMENTS}
    raw = {i: len(json.loads((FIXTURES / "valse" / f"{i}.json").read_text())) for i in INSTRUMENTS}
    assert all(0 < kept[i] <= raw[i] for i in INSTRUMENTS)
    assert sum(kept.values()) < sum(raw.values())  # the mturk filter removes samples
    assert raw["existence"] == 534 and raw["relations"] == 614


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    shutil.copytree(FIXTURES / "sugarcrepe", root / "sugarcrepe")
    shutil.copytree(FIXTURES / "valse", root / "valse")
    for s in SUBSETS:
        for it in load_subset(root / "sugarcrepe" / f"{s}.json", 3):
            _image(root / "coco" / "val2017" / it["filename"])
    for i in INSTRUMENTS:
        for it in load_instrument(root / "valse" / f"{i}.json", 3):
            _image(root / "valse" / "images" / it["image_file"])
    wino = root / "winoground"
    rows = [{"id": n, "image_0": f"ex_{n}_img_0", "image_1": f"ex_{n}_img_1", "caption_0": f"a dog bites a man {n}",
             "caption_1": f"a man bites a dog {n}"} for n in range(4)]
    (wino).mkdir()
    (wino / "examples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for r in rows:
        _image(wino / "images" / f"{r['image_0']}.png")
        _image(wino / "images" / f"{r['image_1']}.png")
    kp = {"images": [{"filepath": "val2014", "filename": f"COCO_val2014_{i:012d}.jpg", "split": "test",
                      "sentences": [{"raw": f"caption {k} of image {i}"} for k in range(5)]} for i in range(6)]
          + [{"filepath": "train2014", "filename": "COCO_train2014_000000000009.jpg", "split": "train", "sentences": []}]}
    (root / "karpathy").mkdir()
    (root / "karpathy" / "dataset_coco.json").write_text(json.dumps(kp))
    for im in kp["images"][:6]:
        _image(root / "coco" / im["filepath"] / im["filename"])
    aro = root / "aro"
    rel = [{"image_path": f"{i}.jpg", "bbox_x": 2, "bbox_y": 3, "bbox_w": 20, "bbox_h": 25,
            "true_caption": "the horse is on the grass", "false_caption": "the grass is on the horse",
            "relation_name": ["on", "next to", "under"][i % 3]} for i in range(6)]
    att = [{"image_path": f"{i}.jpg", "bbox_x": 0, "bbox_y": 0, "bbox_w": 30, "bbox_h": 30,
            "true_caption": "the red car and the blue door", "false_caption": "the blue car and the red door",
            "attributes": ["red", "blue"]} for i in range(6)]
    aro.mkdir()
    (aro / "visual_genome_relation.json").write_text(json.dumps(rel))
    (aro / "visual_genome_attribution.json").write_text(json.dumps(att))
    for i in range(6):
        _image(aro / "images" / f"{i}.jpg")
    for split in ("train", "test"):
        for c in ("cat", "dog"):
            for k in range(6):
                _image(root / "imagefolder" / "pets" / split / c / f"{k}.png", seed=k)
    return root


@pytest.mark.parametrize("name", ["sugarcrepe", "valse", "winoground", "retrieval_coco", "aro",
                                  "zeroshot_imagefolder", "probe_imagefolder"])
def test_benchmarks_run_on_fixtures(name, tiny, data_root, tmp_path):
    enc = Encoder(tiny, cache_dir=tmp_path, workers=0)
    out = get_benchmark(name)(enc, data_root, limit=3)
    numbers = [v for k, v in out.items() if isinstance(v, float) and not k.endswith("C")]
    assert numbers and all(0.0 <= v <= 100.0 or v != v for v in numbers)
    if name == "sugarcrepe":
        assert set(SUBSETS) <= set(out) and out["n"] == 21
        assert out["macro"] == pytest.approx(sum(out[s] for s in SUBSETS) / 7)
    if name == "valse":
        assert set(INSTRUMENTS) <= set(out) and any(k.startswith("phenomenon/") for k in out)
    if name == "aro":
        assert out["vg_relation_relations"] == 2  # "next to" is excluded
        assert "coco_order_precision@1" in out


def test_missing_files_give_a_clear_message(tiny, tmp_path):
    results = run(tiny, ["sugarcrepe", "winoground"], tmp_path, limit=2, workers=0)
    assert "not found" in results["sugarcrepe"]["error"] and "expected" in results["sugarcrepe"]["error"]
    assert "winoground" in results["winoground"]["error"]


def test_missing_images_are_counted(tiny, data_root, tmp_path):
    enc = Encoder(tiny, workers=0)
    with pytest.raises(FileNotFoundError, match=r"sugarcrepe: \d+ of 28 files missing"):
        get_benchmark("sugarcrepe")(enc, data_root, limit=4)


def test_cache_encodes_each_image_once(tiny, data_root, tmp_path):
    first = Encoder(tiny, cache_dir=tmp_path, workers=0)
    a = get_benchmark("sugarcrepe")(first, data_root, limit=3)
    first.save()
    unique = {it["filename"] for sub in SUBSETS for it in load_subset(data_root / "sugarcrepe" / f"{sub}.json", 3)}
    assert first.encoded_images == len(unique)  # an image shared by subsets is encoded once
    again = Encoder(tiny, cache_dir=tmp_path, workers=0)
    b = get_benchmark("sugarcrepe")(again, data_root, limit=3)
    assert again.encoded_images == 0 and a == b


def test_registry_and_cli(tiny, data_root, tmp_path, capsys):
    from slipform.cli import main
    from slipform.models import export_open_clip

    assert {"sugarcrepe", "valse", "winoground", "aro", "retrieval_coco", "zeroshot_cifar10", "probe_voc2007",
            "probe_coco2014", "sugarcrepe_pp"} <= set(list_benchmarks())
    ckpt = export_open_clip(tiny, tmp_path / "tiny.pt")
    out = tmp_path / "res.json"
    code = main(["eval", "--model", "tiny", "--model-config", "tiny", "--pretrained", str(ckpt), "--benchmarks",
                 "sugarcrepe,winoground", "--data-root", str(data_root), "--limit", "2", "-o", str(out),
                 "--workers", "0", "--cache-dir", str(tmp_path / "c"), "--check-overlap",
                 str(data_root / "karpathy" / "dataset_coco.json")])
    assert code == 0
    res = json.loads(out.read_text())["results"]
    assert "replace_rel" in res["sugarcrepe"] and "group_score" in res["winoground"]
    assert out.with_suffix(".csv").exists() and "| sugarcrepe | macro |" in capsys.readouterr().out
    assert res["overlap"]["sugarcrepe"]["overlap"] == 0


def test_overlap_by_coco_id(tmp_path):
    assert image_key("coco/val2014/COCO_val2014_000000331352.jpg") == image_key("000000331352.jpg") == "coco:331352"
    kp = {"images": [{"filename": "COCO_val2014_000000331352.jpg", "split": "restval", "sentences": [{"raw": "x"}]},
                     {"filename": "COCO_val2014_000000000001.jpg", "split": "test", "sentences": [{"raw": "y"}]}]}
    (tmp_path / "dataset_coco.json").write_text(json.dumps(kp))
    res = check_overlap(tmp_path / "dataset_coco.json", FIXTURES, ["sugarcrepe"])
    assert res["sugarcrepe"]["overlap"] == 1 and res["sugarcrepe"]["examples"] == ["coco:331352"]


def test_voc2007_multilabel_probe(tiny, tmp_path):
    """A miniature VOC 2007 in its published layout: XML annotations, image sets, JPEGs."""
    base = tmp_path / "voc" / "VOCdevkit" / "VOC2007"
    (base / "Annotations").mkdir(parents=True)
    (base / "ImageSets" / "Main").mkdir(parents=True)
    sets = {"trainval": [f"{i:06d}" for i in range(20)], "test": [f"{i:06d}" for i in range(20, 30)]}
    for name, ids in sets.items():
        (base / "ImageSets" / "Main" / f"{name}.txt").write_text("\n".join(ids) + "\n")
    for i in range(30):
        classes = (["dog"] if i % 4 else ["cat"]) + (["person"] if i % 2 else []) + (["car"] if i % 3 == 0 else [])
        objs = "".join(f"<object><name>{c}</name></object>" for c in classes)
        (base / "Annotations" / f"{i:06d}.xml").write_text(f"<annotation>{objs}</annotation>")
        _image(base / "JPEGImages" / f"{i:06d}.jpg")
    out = get_benchmark("probe_voc2007")(Encoder(tiny, workers=0), tmp_path)
    assert out["n_train"] == 20 and out["n_test"] == 10 and 0 <= out["mAP"] <= 100
    assert out["classes"] == 4  # dog, cat, person, car: VOC's other 16 classes never occur here


def test_eval_list_describes_every_benchmark(capsys):
    from slipform.evaluate import describe_benchmarks, list_benchmarks

    rows = describe_benchmarks()
    assert [r[0] for r in rows] == list_benchmarks()
    assert all(description and layout for _, description, layout in rows)
    assert main(["eval", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in list_benchmarks()) and "sugarcrepe/<subset>.json" in out
    assert main(["eval"]) == 2 and "--list" in capsys.readouterr().err


def test_probe_sweeps_c_over_the_clip_range_and_warns_at_its_edge():
    import math
    import warnings

    from slipform.evaluate.probe import C_GRID, fit_single_label, sweep_c

    assert C_GRID[0] == pytest.approx(1e-6) and C_GRID[-1] == pytest.approx(1e6)
    seen = []

    def peaked(c):
        seen.append(c)
        return -(math.log10(c) - 1.3) ** 2

    best, edge = sweep_c(peaked)
    assert best == pytest.approx(10 ** 1.25) and not edge  # refined between the decades
    assert len(seen) == len(C_GRID) + 6
    with pytest.warns(UserWarning, match="edge of the sweep"):
        best, edge = sweep_c(lambda c: c)
    assert best == pytest.approx(1e6) and edge
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = (x[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_single_label(x[:150], y[:150], x[150:], y[150:])
    assert C_GRID[0] <= res["C"] <= C_GRID[-1] and isinstance(res["C_at_edge"], bool) and res["top1"] > 70
