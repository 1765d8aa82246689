"""Reference tests for the suites that compare a few options per item: What'sUp (every subset),
SugarCrepe++ (every clause), EqBen (and vl_compo's group), Winoground, ColorSwap, ImageCoDe,
MMVP-VLM, SugarCrepe and VALSE. Each official rule is re-implemented here independently (file
and line cited) and compared with our benchmark on a fixture with ties and every subset path."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from slipform.evaluate import get_benchmark

from eval_helpers import KeyedEncoder, tiny_image

RNG = np.random.default_rng(7)


def _vec(dim=3):
    return RNG.normal(size=dim).tolist()


def _s(a, b):
    return float(np.dot(a, b))


# ----------------------------------------------------------------------------- What'sUp


_CONTROLLED = {"controlled_a": ("controlled_images_dataset.json", "controlled_images", ("left", "right", "on", "under")),
               "controlled_b": ("controlled_clevr_dataset.json", "controlled_clevr",
                                ("left", "right", "in-front", "behind"))}
_QA = {"coco_qa_one": ("coco_qa_one_obj.json", "val2017"), "coco_qa_two": ("coco_qa_two_obj.json", "val2017"),
       "vg_qa_one": ("vg_qa_one_obj.json", "vg_images"), "vg_qa_two": ("vg_qa_two_obj.json", "vg_images")}


def _ref_whatsup(cases, controlled_relations=None):
    """evaluate_scores (whatsup_vlms dataset_zoo/aro_datasets.py L449-517 controlled, L579-620 COCO-QA,
    L683-724 VG-QA): right when np.argmax over the options is 0 (a tie picks 0); the controlled sets
    also +1 per object pair for each of (left, right) and (on, under) / (in-front, behind) both
    right, over N/2, and all four right, over N/4; the pair read from the file name."""
    correct = [int(np.argmax(scores)) == 0 for _, scores in cases]
    out = {"acc": np.mean(correct) * 100}
    if controlled_relations:
        a, b, c, d = controlled_relations
        by = {}
        for (name, _), ok in zip(cases, correct):
            parts = name[:-5].split("_")  # file name without ".jpeg"
            by.setdefault((parts[0], parts[-1]), {})[parts[1]] = ok
        pairs = sum((v[a] and v[b]) + (v[c] and v[d]) for v in by.values())
        out["pair"] = pairs * 100 / (len(cases) / 2)
        out["set"] = sum(all(v.values()) for v in by.values()) * 100 / (len(cases) / 4)
    return out


def test_whatsup_every_subset_equals_the_official_scores(tmp_path):
    root = tmp_path / "whatsup"
    images, texts, want = {}, {}, {}
    for subset, (fname, folder, relations) in _CONTROLLED.items():
        rows, cases = [], []
        for pair in range(5):
            for rel in relations:
                name = f"{subset[-1]}obj{pair}-x_{rel}_of_thing{pair}.jpeg"  # file names unique across sets
                images[name] = _vec()
                options = [f"{subset} {pair} {rel} option {k}" for k in range(4)]
                for o in options:
                    texts[o] = _vec()
                if pair < 3:  # the right option near the image: many pairs and sets right
                    texts[options[0]] = (np.array(images[name]) + 0.3 * np.array(_vec())).tolist()
                if pair == 1:
                    texts[options[2]] = texts[options[0]]  # a tie with the right option: right (argmax)
                rows.append({"image_path": f"data/{folder}/{name}", "caption_options": options})
                cases.append((name, [_s(images[name], texts[o]) for o in options]))
                tiny_image(root / folder / name)
        (root / fname).parent.mkdir(parents=True, exist_ok=True)
        (root / fname).write_text(json.dumps(rows))
        want[subset] = _ref_whatsup(cases, relations)
    for subset, (fname, folder) in _QA.items():
        rows, cases = [], []
        for i in range(7):
            image_id = 1000 * len(want) + i
            name = f"{image_id:012d}.jpg" if folder == "val2017" else f"{image_id}.jpg"
            images[name] = _vec()
            right, wrong = f"{subset} right {i}", f"{subset} wrong {i}"
            texts[right], texts[wrong] = _vec(), _vec()
            if i == 3:
                texts[wrong] = texts[right]
            rows.append([image_id, right, wrong])
            cases.append((name, [_s(images[name], texts[right]), _s(images[name], texts[wrong])]))
            tiny_image(root / folder / name)
        (root / fname).write_text(json.dumps(rows))
        want[subset] = _ref_whatsup(cases)
    out = get_benchmark("whatsup")(KeyedEncoder(images, texts), tmp_path)
    for subset, ref in want.items():
        assert out[subset] == pytest.approx(ref["acc"]), subset
        if "pair" in ref:
            assert (out[f"{subset}_pair"], out[f"{subset}_set"]) == pytest.approx((ref["pair"], ref["set"])), subset
    assert out["subsets"] == 6 and out["macro"] == pytest.approx(np.mean([r["acc"] for r in want.values()]))
    assert all(f"{s}_note" in out for s in want)  # 20 or 7 rows, not the published counts


# ----------------------------------------------------------------------------- SugarCrepe++


def _ref_scpp(img, p1, p2, n):
    # Sri-Harsha/scpp VLMs/test_*.py: ITT right when both positives beat the negative for the image;
    # TOT right when the two positives are closer to each other than either is to the negative
    itt = _s(img, p1) > _s(img, n) and _s(img, p2) > _s(img, n)
    tot = _s(p1, p2) > _s(p1, n) and _s(p1, p2) > _s(p2, n)
    return itt, tot


def test_sugarcrepe_pp_every_clause_counts(tmp_path):
    from slipform.evaluate.sugarcrepe_pp import SUBSETS

    images, texts, want, without = {}, {}, {}, {}
    for name in SUBSETS:
        items, refs = [], []
        for i in range(40):
            fn = f"{name}_{i}.jpg"
            images[fn] = _vec()
            cap, cap2, neg = (f"{name} {i} {k}" for k in ("p1", "p2", "neg"))
            texts[cap], texts[cap2], texts[neg] = _vec(), _vec(), _vec()
            if i == 5:
                texts[neg] = texts[cap]  # a tie: both scores wrong
            items.append({"id": i, "filename": fn, "caption": cap, "caption2": cap2, "negative_caption": neg})
            refs.append((images[fn], texts[cap], texts[cap2], texts[neg]))
            tiny_image(tmp_path / "coco" / "val2017" / fn)
        (tmp_path / "sugarcrepe_pp").mkdir(exist_ok=True)
        (tmp_path / "sugarcrepe_pp" / f"{name}.json").write_text(json.dumps(items))
        scored = [_ref_scpp(*r) for r in refs]
        want[name] = (np.mean([a for a, _ in scored]) * 100, np.mean([b for _, b in scored]) * 100)
        # the fixture tells every clause apart: dropping any one of the four changes a score
        without[name] = [np.mean([_s(i, p2) > _s(i, n) for i, _, p2, n in refs]) * 100,
                         np.mean([_s(i, p1) > _s(i, n) for i, p1, _, n in refs]) * 100,
                         np.mean([_s(p1, p2) > _s(p2, n) for _, p1, p2, n in refs]) * 100,
                         np.mean([_s(p1, p2) > _s(p1, n) for _, p1, p2, n in refs]) * 100]
    out = get_benchmark("sugarcrepe_pp")(KeyedEncoder(images, texts), tmp_path)
    for name, (itt, tot) in want.items():
        assert (out[f"{name}_itt"], out[f"{name}_tot"]) == pytest.approx((itt, tot)), name
        assert all(w != pytest.approx(itt) for w in without[name][:2]), name
        assert all(w != pytest.approx(tot) for w in without[name][2:]), name


# ----------------------------------------------------------------------------- Winoground-style


def _ref_wino(c0, c1, i0, i1):
    # Winoground (Thrush et al. 2022; the authors' HF example): text = s(c0,i0) > s(c1,i0) and
    # s(c1,i1) > s(c0,i1); image = s(c0,i0) > s(c0,i1) and s(c1,i1) > s(c1,i0); group = both.
    # EqBen's evaluate_eqben_locally.py L55-79 and ColorSwap's evaluation use the same.
    text = _s(c0, i0) > _s(c1, i0) and _s(c1, i1) > _s(c0, i1)
    image = _s(c0, i0) > _s(c0, i1) and _s(c1, i1) > _s(c1, i0)
    return text, image, text and image


def _wino_fixture(n, tag, images, texts, tie_every=4):
    rows, refs = [], []
    for i in range(n):
        names, caps = [f"{tag}_{i}_{k}.png" for k in (0, 1)], [f"{tag} {i} caption {k}" for k in (0, 1)]
        for x in names:
            images[x] = _vec()
        for c in caps:
            texts[c] = _vec()
        if i % tie_every == 0:
            images[names[1]] = images[names[0]]  # two identical images: the image score ties
        if i % tie_every == 1:
            texts[caps[1]] = texts[caps[0]]  # two captions that encode alike: the text score ties
        rows.append((names, caps))
        refs.append(_ref_wino(texts[caps[0]], texts[caps[1]], images[names[0]], images[names[1]]))
    return rows, [np.mean([r[k] for r in refs]) * 100 for k in range(3)]


def test_eqben_every_subset_and_vl_compo_group_equal_the_official(tmp_path):
    from slipform.evaluate.eqben import SUBSETS

    images, texts, want = {}, {}, {}
    for j, subset in enumerate(SUBSETS):
        rows, want[subset] = _wino_fixture(6 + 3 * j, subset, images, texts)
        records = [{"image0": f"{subset}/{a}", "image1": f"{subset}/{b}", "caption0": c0 if j % 2 else [c0, "x"],
                    "caption1": c1} for (a, b), (c0, c1) in rows]
        nested = {"video": records} if subset == "eqbenyoucook2" else records  # nesting as published varies
        (tmp_path / "eqben").mkdir(exist_ok=True)
        (tmp_path / "eqben" / f"{subset}.json").write_text(json.dumps(nested))
        for (a, b), _ in rows:
            tiny_image(tmp_path / "eqben" / "images" / subset / a)
            tiny_image(tmp_path / "eqben" / "images" / subset / b)
    out = get_benchmark("eqben")(KeyedEncoder(images, texts), tmp_path)
    for subset, (text, image, group) in want.items():
        assert [out[f"{subset}_{k}"] for k in ("text", "image", "group")] == pytest.approx([text, image, group])
    kubric = np.mean([want[s][2] for s in ("eqbenkubric_loc", "eqbenkubric_attr", "eqbenkubric_cnt")])
    five = [want["eqbenag"][2], want["eqbenyoucook2"][2], want["eqbengebc"][2], kubric, want["eqbensd"][2]]
    assert out["vl_compo_group"] == pytest.approx(np.mean(five))  # vl_compo's rule, from its tables
    assert out["vl_compo_group"] != pytest.approx(np.mean([w[2] for w in want.values()]))  # not over 7
    (tmp_path / "eqben" / "eqbensd.json").unlink()
    out = get_benchmark("eqben")(KeyedEncoder(images, texts), tmp_path)
    assert "vl_compo_group" not in out and "eqbensd_error" in out  # no group without all five sources


def test_winoground_and_colorswap_equal_the_official(tmp_path):
    images, texts = {}, {}
    rows, want = _wino_fixture(24, "wino", images, texts, tie_every=5)
    root = tmp_path / "winoground"
    (root / "images").mkdir(parents=True)
    with open(root / "examples.jsonl", "w") as f:
        for i, ((a, b), (c0, c1)) in enumerate(rows):
            f.write(json.dumps({"id": i, "image_0": a[:-4], "image_1": b[:-4], "caption_0": c0, "caption_1": c1}) + "\n")
            tiny_image(root / "images" / a)
            tiny_image(root / "images" / b)
    out = get_benchmark("winoground")(KeyedEncoder(images, texts), tmp_path)
    assert [out["text_score"], out["image_score"], out["group_score"]] == pytest.approx(want)
    rows, want = _wino_fixture(18, "cs", images, texts, tie_every=3)
    records = [{"id": i, "image_1": f"images/{a}", "image_2": f"images/{b}", "caption_1": c0, "caption_2": c1}
               for i, ((a, b), (c0, c1)) in enumerate(rows)]
    (tmp_path / "colorswap").mkdir()
    (tmp_path / "colorswap" / "test.json").write_text(json.dumps(records))
    for (a, b), _ in rows:
        tiny_image(tmp_path / "colorswap" / "images" / a)
        tiny_image(tmp_path / "colorswap" / "images" / b)
    out = get_benchmark("colorswap")(KeyedEncoder(images, texts), tmp_path)
    assert [out["text_score"], out["image_score"], out["group_score"]] == pytest.approx(want)


# ----------------------------------------------------------------------------- ImageCoDe


def test_imagecode_equals_the_zero_shot_script(tmp_path):
    """baselines/clip/zero_shot.py L64-90: per set, the images sorted by the number in img<X>.jpg,
    the description stripped (L70), ranked by (-similarity).argsort() and right when the first is
    the target; accuracy over all, video and static sets."""
    root = tmp_path / "imagecode"
    images, texts, data, want = {}, {}, {}, {"all": [], "video": [], "static": []}
    numbers = [0, 3, 7, 12, 20, 33, 40, 51, 64, 90]  # video frames: not 0..9
    for s in range(6):
        set_name = f"open-images-{s}" if s % 3 == 0 else f"video-clip-{s}"
        files = [f"img{x}.jpg" for x in RNG.permutation(numbers)]
        for x in files:
            images[f"{set_name}/{x}"] = _vec()
            tiny_image(root / "image-sets" / set_name / x)
        targets = {}
        for t in (1, 4, 8):
            text = f"  the one with detail {s}-{t} " if t != 4 else f"detail {s}-{t}"
            targets[str(t)] = text
            texts[text.strip()] = _vec()
        data[set_name] = targets
        ordered = sorted(files, key=lambda x: int(x[3:-4]))
        if s == 2:
            images[f"{set_name}/{ordered[8]}"] = images[f"{set_name}/{ordered[1]}"]  # a tie: the earlier wins
        for t, text in targets.items():
            sims = np.array([_s(texts[text.strip()], images[f"{set_name}/{x}"]) for x in ordered])
            right = int(np.argsort(-sims, kind="stable")[0]) == int(t)
            want["all"].append(right)
            want["static" if "open-images" in set_name else "video"].append(right)
    data["video-short-9"] = {"2": "a set with 9 of its 10 images"}  # skipped and counted, as not scorable
    for x in numbers[:9]:
        tiny_image(root / "image-sets" / "video-short-9" / f"img{x}.jpg")
    (root / "valid_data.json").write_text(json.dumps(data))

    class BySet(KeyedEncoder):
        def images(self, paths, boxes=None):
            import torch

            return torch.stack([self._images[f"{Path(p).parent.name}/{Path(p).name}"] for p in paths])

    out = get_benchmark("imagecode")(BySet(images, texts), tmp_path)
    assert out["accuracy"] == pytest.approx(np.mean(want["all"]) * 100)
    assert out["video_accuracy"] == pytest.approx(np.mean(want["video"]) * 100)
    assert out["static_accuracy"] == pytest.approx(np.mean(want["static"]) * 100)
    assert (out["n_video"], out["n_static"], out["skipped_sets"]) == (12, 6, 1)


# ----------------------------------------------------------------------------- MMVP-VLM


def test_mmvp_equals_evaluate_vlm(tmp_path):
    """scripts/evaluate_vlm.py L35-91: rows two by two, "a photo of " + statement, each statement
    picks image 1 when softmax(logit_scale * [s1, s2])[0] > 0.5, image 1 is right for odd ids; a pair
    counts when both pick right; categories are consecutive blocks of 15 pairs."""
    from slipform.evaluate.mmvp import CATEGORIES, slug

    root = tmp_path / "mmvp_vlm"
    images, texts, rows, per_cat = {}, {}, [], {c: [] for c in CATEGORIES}
    qid = 1
    for c, cat in enumerate(CATEGORIES):
        for p in range(15):
            kind = f"type{c}"
            a, b = (qid, kind, f"statement {qid}"), (qid + 1, kind, f"statement {qid + 1}")
            for q in (a, b):
                images[f"{q[0]}.jpg"] = _vec()
                texts[f"a photo of {q[2]}"] = _vec()
                tiny_image(root / "MLLM_VLM Images" / kind / f"{q[0]}.jpg")
            if p == 4:  # statement a ties between the images (prob 0.5: image 2 picked), b picks its image 2
                images[f"{a[0]}.jpg"], images[f"{b[0]}.jpg"] = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
                texts[f"a photo of {a[2]}"], texts[f"a photo of {b[2]}"] = [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]
            rows += [a, b]
            ok = []
            for q in (a, b):
                logits = 100 * np.array([_s(texts[f"a photo of {q[2]}"], images[f"{x[0]}.jpg"]) for x in (a, b)])
                probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
                ok.append((0 if probs[0] > 0.5 else 1) == (0 if q[0] % 2 == 1 else 1))
            per_cat[cat].append(all(ok))
            qid += 2
    with open(root / "Questions.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Question ID", "Type", "Statement"])
        w.writerows(rows)
    out = get_benchmark("mmvp_vlm")(KeyedEncoder(images, texts), tmp_path)
    for cat, oks in per_cat.items():
        assert out[f"{slug(cat)}_image"] == pytest.approx(np.mean(oks) * 100), cat
        assert out[f"{slug(cat)}_n"] == 15
    assert out["image_mean"] == pytest.approx(np.mean([np.mean(v) * 100 for v in per_cat.values()]))


# ----------------------------------------------------------------------------- SugarCrepe and VALSE


def test_sugarcrepe_and_valse_equal_the_official(tmp_path):
    """SugarCrepe (RAIVNLab/sugar-crepe main_eval.py, text_retrieval: right when the image scores
    the caption above the negative) per subset; VALSE (Heidelberg-NLP/VALSE, acc_r: caption above
    foil) over the samples with mturk caption >= 2."""
    from slipform.evaluate.sugarcrepe import SUBSETS as SC
    from slipform.evaluate.valse import INSTRUMENTS

    images, texts, want = {}, {}, {}
    for name in SC:
        items, oks = {}, []
        for i in range(9):
            fn = f"sc_{name}_{i}.jpg"
            images[fn], cap, neg = _vec(), f"{name} cap {i}", f"{name} neg {i}"
            texts[cap], texts[neg] = _vec(), _vec()
            if i == 2:
                texts[neg] = texts[cap]  # a tie: wrong
            items[str(i)] = {"filename": fn, "caption": cap, "negative_caption": neg}
            oks.append(_s(images[fn], texts[cap]) > _s(images[fn], texts[neg]))
            tiny_image(tmp_path / "coco" / "val2017" / fn)
        (tmp_path / "sugarcrepe").mkdir(exist_ok=True)
        (tmp_path / "sugarcrepe" / f"{name}.json").write_text(json.dumps(items))
        want[name] = np.mean(oks) * 100
    out = get_benchmark("sugarcrepe")(KeyedEncoder(images, texts), tmp_path)
    assert [out[s] for s in SC] == pytest.approx([want[s] for s in SC])
    want = {}
    for name in INSTRUMENTS:
        data, oks = {}, []
        for i in range(8):
            fn = f"valse_{name}_{i}.jpg"
            images[fn], cap, foil = _vec(), f"{name} cap {i}", f"{name} foil {i}"
            texts[cap], texts[foil] = _vec(), _vec()
            votes = 1 if i == 6 else 2 + i % 2  # sample 6 was not validated: left out
            data[f"k{i}"] = {"image_file": fn, "caption": cap, "foil": foil, "mturk": {"caption": votes},
                             "linguistic_phenomena": name}
            if votes >= 2:
                oks.append(_s(images[fn], texts[cap]) > _s(images[fn], texts[foil]))
            tiny_image(tmp_path / "valse" / "images" / fn)
        (tmp_path / "valse").mkdir(exist_ok=True)
        (tmp_path / "valse" / f"{name}.json").write_text(json.dumps(data))
        want[name] = np.mean(oks) * 100
    out = get_benchmark("valse")(KeyedEncoder(images, texts), tmp_path)
    assert [out[i] for i in INSTRUMENTS] == pytest.approx([want[i] for i in INSTRUMENTS])
    assert all(out[f"{i}_n"] == 7 for i in INSTRUMENTS)
