"""vl_compo's aggregate conventions against its own tables, its published figures beside ours, and the
one-command evaluation (families, summary, --published, --list)."""

from __future__ import annotations

import csv
import json
from statistics import mean

import pytest
import torch

from slipform.cli import main
from slipform.evaluate import VL_COMPO_SUITES, benchmark_families, select_benchmarks
from slipform.evaluate.published import find_published, load_published, published_count
from slipform.evaluate.vl_compo import COUNTS, SUBSETS, aggregate, summary

from conftest import FIXTURES
from eval_helpers import tiny_image

# ----------------------------------------------------------------------------- conventions vs the tables

@pytest.mark.parametrize("suite", VL_COMPO_SUITES)
def test_each_suite_rule_reproduces_every_published_row(suite):
    rows = load_published()
    assert len(rows) == 202
    for p in rows:
        got = aggregate(suite, p.subsets[suite])
        assert got == pytest.approx(p.suites[suite], abs=1e-6), (p.name, suite)


def test_the_rules_are_not_plain_means_where_the_tables_say_so():
    """The test above would fail with the naive rule (mean of all subset columns) for these suites."""
    p = find_published("ViT-B-32 openai")[0]
    for suite in ("colorswap", "eqben", "imagecode", "mmvp_vlm", "sugarcrepe", "valse", "vl_checklist", "winoground"):
        assert abs(mean(p.subsets[suite].values()) - p.suites[suite]) > 0.01, suite


def test_comp_avg_and_retrieval_averages_by_the_tables():
    for p in load_published():
        assert mean(p.suites[s] for s in VL_COMPO_SUITES) == pytest.approx(p.suites["comp_avg"], abs=1e-6)
        assert (p.suites["coco_i2t"] + p.suites["flickr_i2t"]) / 2 == pytest.approx(p.suites["i2t_avg"], abs=1e-6)
        assert p.subsets["coco_karpathy"]["i2t/R@1"] == pytest.approx(p.suites["coco_i2t"])


def _integral(values, n):
    return all(abs(v * n / 100 - round(v * n / 100)) < 1e-6 for v in values)


def test_published_figures_count_the_items_our_loaders_keep():
    """What can be checked here without weights or images: every published per-subset figure is a
    whole number of items out of the count our loader keeps from the real annotation file."""
    from slipform.evaluate.imagecode import is_static, load_descriptions
    from slipform.evaluate.sugarcrepe import SUBSETS as SC
    from slipform.evaluate.sugarcrepe import load_subset
    from slipform.evaluate.valse import INSTRUMENTS, load_instrument

    rows = load_published()
    for i in INSTRUMENTS:  # VALSE: over the validated samples (mturk caption >= 2), not all of them
        kept, raw = len(load_instrument(FIXTURES / "valse" / f"{i}.json")), \
            len(json.loads((FIXTURES / "valse" / f"{i}.json").read_text()))
        figures = [p.subsets["valse"][i] for p in rows]
        assert _integral(figures, kept) and not _integral(figures, raw), i
    for s in SC:
        assert _integral([p.subsets["sugarcrepe"][s] for p in rows], len(load_subset(FIXTURES / "sugarcrepe" / f"{s}.json")))
    items = load_descriptions(FIXTURES / "imagecode" / "valid_data.json")
    n_static = sum(is_static(s) for s, _, _ in items)
    assert _integral([p.subsets["imagecode"]["static"] for p in rows], n_static)
    assert _integral([p.subsets["imagecode"]["videos"] for p in rows], len(items) - n_static)
    from slipform.evaluate.whatsup import PUBLISHED  # What'sUp's Controlled A/B row counts (formats notes)

    assert _integral([p.subsets["whatsup"]["WhatsUp_A"] for p in rows], PUBLISHED["controlled_a"][0])
    assert _integral([p.subsets["whatsup"]["WhatsUp_B"] for p in rows], PUBLISHED["controlled_b"][0])


# ----------------------------------------------------------------------------- summary of our results


def _ours_from(p):
    """Results shaped as our benchmarks return them, filled with a published row's subset figures
    and the item counts behind them."""
    results = {}
    for suite, mapping in SUBSETS.items():
        results[suite] = {ours: p.subsets[suite][col] for col, ours in mapping.items()}
        results[suite].update({COUNTS[suite][col]: published_count(p, suite, col) for col in COUNTS.get(suite, {})})
    results["retrieval_coco"] = {"image_to_text_R@1": p.suites["coco_i2t"], "text_to_image_R@1": p.suites["coco_t2i"]}
    results["retrieval_flickr30k"] = {"image_to_text_R@1": p.suites["flickr_i2t"],
                                      "text_to_image_R@1": p.suites["flickr_t2i"]}
    return results


def test_summary_of_our_result_keys_gives_the_published_suite_values():
    p = find_published("NegCLIP")[0]
    out = summary(_ours_from(p))
    for key in (*VL_COMPO_SUITES, "comp_avg", "i2t_avg", "t2i_avg"):
        assert out[key] == pytest.approx(p.suites[key], abs=1e-6), key


def test_summary_pools_by_our_counts_and_flags_what_is_missing():
    p = find_published("ViT-B-32 openai")[0]
    results = _ours_from(p)
    counts = {k: results["sugarcrepe"][f"{k}_n"] for k in SUBSETS["sugarcrepe"]}
    assert aggregate("sugarcrepe", p.subsets["sugarcrepe"], {**counts, "add_obj": 1}) != \
        pytest.approx(p.suites["sugarcrepe"], abs=1e-3)  # the pooled weights follow what was scored
    results["sugarcrepe"]["add_obj_n"] = 1  # ... but such a run does not compare with the published one
    del results["whatsup"]["vg_qa_two"]
    results["crepe"] = {"error": "crepe: ... not found"}
    results["winoground"]["limit"] = 20
    results["vl_checklist"].update({"missing_files": 3, "missing_first": "Relation/hake_action.json",
                                    "short_files": 2})
    results["imagecode"]["skipped_sets"] = 2
    out = summary(results, p)
    assert out["incomplete"] == {
        "sugarcrepe": "add_obj: 1 items, published 2062", "whatsup": "missing VG_QA_TWO",
        "winoground": "run with --limit 20", "imagecode": "2 image sets without their 10 images",
        "vl_checklist": "3 corpus files missing (first: Relation/hake_action.json); "
                        "2 files scored without some of their images"}
    assert not set(out["incomplete"]) & set(out) and "comp_avg" not in out and out["suites_present"] == 6
    assert out["comp_avg_present"] == pytest.approx(mean(out[s] for s in VL_COMPO_SUITES if s in out))


def test_summary_checks_every_subsets_count_against_the_row_or_the_tables():
    p = find_published("ViT-bigG-14 laion2b_s39b_b160k")[0]  # SVO-Probes scored on 3,727 / 13,592 / 4,937 rows
    results = _ours_from(p)
    assert (results["svo_probes"]["subj_neg_n"], results["svo_probes"]["verb_neg_n"]) == (3727, 13592)
    assert summary(results, p)["svo_probes"] == pytest.approx(p.suites["svo_probes"])
    other = find_published("ViT-B-32 openai")[0]  # 3,728 / 13,523 / 4,911
    assert summary(results, other)["incomplete"]["svo_probes"].startswith("subj_neg: 3727 items, published 3728")
    assert "svo_probes" in summary(results)  # no row given: any count the tables show
    for suite in ("crepe", "eqben", "mmvp_vlm", "colorswap", "aro", "valse"):
        key = next(iter(COUNTS[suite].values()))
        changed = {**results, suite: {**results[suite], key: results[suite][key] - 1}}
        assert suite in summary(changed, p)["incomplete"], suite
        assert suite in summary(results, p), suite


# ----------------------------------------------------------------------------- published look-up and report


def test_find_published_by_name():
    assert [p.name for p in find_published("ViT-B-32 openai")] == ["ViT-B-32 openai (OpenCLIP)"]
    assert len(find_published("vit-b-32:OPENAI")) == 1 and len(find_published("ViT-B-32", "openai")) == 1
    assert find_published("NegCLIP")[0].suites["aro"] == pytest.approx(80.88, abs=0.01)
    assert len(find_published("CLIP_ViT-B-16 cc12m")) == 2  # LaCLIP and SynthCLIP
    assert len(find_published("CLIP_ViT-B-16 cc12m SynthCLIP")) == 1
    assert find_published("FSC-CLIP") == []  # not in these tables


def test_report_puts_published_figures_and_differences_beside_ours(tmp_path):
    from slipform.evaluate.report import SUMMARY, write_results

    p = find_published("ViT-B-32 openai")[0]
    results = {"winoground": {"text_score": 30.0, "image_score": 10.0, "group_score": 9.75, "n": 400},
               "colorswap": {"text_score": 30.0, "image_score": 10.0, "group_score": 9.0, "n": 299},
               "retrieval_coco": {"image_to_text_R@1": 51.12, "image_to_text_R@5": 75.0}}
    results[SUMMARY] = summary(results, p)
    table = write_results(results, tmp_path / "r.json", "ViT-B-32", published=p)
    rows = {(r["benchmark"], r["metric"]): r for r in csv.DictReader(open(tmp_path / "r.csv"))}
    assert float(rows[(SUMMARY, "winoground")]["published"]) == pytest.approx(8.75)
    assert float(rows[(SUMMARY, "winoground")]["difference"]) == pytest.approx(1.0)
    assert float(rows[("winoground", "text_score")]["published"]) == pytest.approx(p.subsets["winoground"]["text"])
    assert float(rows[("retrieval_coco", "image_to_text_R@1")]["difference"]) == pytest.approx(1.0)
    assert rows[("winoground", "n")]["published"] == ""
    assert "| vl_compo_summary | winoground | 9.75 | 8.75 | +1.00 |" in table and "no licence" in table
    # colorswap scored 299 of the 300 examples: incomplete, no published figure beside it
    assert results[SUMMARY]["incomplete"] == {"colorswap": "colorswap: 299 items, published 300"}
    assert rows[("colorswap", "group_score")]["published"] == "" and (SUMMARY, "colorswap") not in rows
    assert "| colorswap | group_score | 9.00 |  |  |" in table and "Incomplete (no published figure" in table
    assert "| winoground | winoground | 400 | 400 |" in table and "| colorswap | colorswap | 299 | 300 (differs) |" in table
    assert json.loads((tmp_path / "r.json").read_text())["published"]["checkpoint"] == p.name


# ----------------------------------------------------------------------------- families and the CLI


def test_families_and_selection():
    fams = benchmark_families()
    assert set(VL_COMPO_SUITES) | {"sugarcrepe_pp", "spec"} == set(fams["compositional"])
    assert fams["retrieval"] == ["retrieval_coco", "retrieval_flickr30k"]
    assert "zeroshot_cifar10" in fams["classification"] and "probe_voc2007" in fams["classification"]
    assert all(n.startswith("world_") for n in fams["world"])
    assert select_benchmarks("vl_compo") == list(VL_COMPO_SUITES)
    assert select_benchmarks("winoground,retrieval,winoground") == ["winoground", "retrieval_coco",
                                                                       "retrieval_flickr30k"]
    with pytest.raises(KeyError, match="nope"):
        select_benchmarks("nope")


def test_eval_list_is_grouped_by_family(capsys):
    assert main(["eval", "--list"]) == 0
    out = capsys.readouterr().out
    heads = [out.index(f"{f}:\n") for f in ("compositional", "retrieval", "classification", "world")]
    assert heads == sorted(heads)
    assert heads[0] < out.index("  imagecode ") < heads[1] < out.index("  retrieval_coco ") < heads[2]


def test_eval_published_prints_a_checkpoints_figures(capsys):
    assert main(["eval", "--published", "ViT-B-32 openai"]) == 0
    out = capsys.readouterr().out
    assert "| comp_avg | 41.15 |" in out and "| winoground | 8.75 |" in out
    assert "| crepe | swap | " in out and out.count("| svo_probes |") == 1 + 3 and "| 7405 |" in out
    assert main(["eval", "--published", "CLIP_ViT-B-16"]) == 2 and "38 checkpoints" in capsys.readouterr().err


def test_the_published_checkpoint_is_found_from_model_and_pretrained():
    from argparse import Namespace

    from slipform.cli import _published_for

    found, problem = _published_for(Namespace(published_as=None, model="ViT-B-32", pretrained="openai"))
    assert found.name == "ViT-B-32 openai (OpenCLIP)" and problem is None
    assert _published_for(Namespace(published_as=None, model="runs/cement", pretrained="openai")) == (None, None)
    assert _published_for(Namespace(published_as="none", model="ViT-B-32", pretrained="openai")) == (None, None)
    assert _published_for(Namespace(published_as="NegCLIP", model="x.pt", pretrained="none"))[0].arch == "NegCLIP"
    assert "names 38" in _published_for(Namespace(published_as="CLIP_ViT-B-16", model="x", pretrained="y"))[1]


def test_eval_compositional_runs_what_is_present_and_notes_the_rest(tmp_path, capsys):
    from slipform.models import ModelSpec, export_open_clip, load_model, tiny_open_clip_config

    torch.manual_seed(0)
    ckpt = export_open_clip(load_model(ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())), tmp_path / "t.pt")
    root = tmp_path / "data"
    rows = [{"id": 0, "caption_1": "a red cup and a blue box", "caption_2": "a blue cup and a red box",
             "image_1": "images/img_0_1.png", "image_2": "images/img_0_2.png"}]
    (root / "colorswap").mkdir(parents=True)
    (root / "colorswap" / "test.json").write_text(json.dumps(rows))
    tiny_image(root / "colorswap" / "images" / "img_0_1.png")
    tiny_image(root / "colorswap" / "images" / "img_0_2.png")
    out = tmp_path / "res.json"
    code = main(["eval", "--model", "tiny", "--model-config", "tiny", "--pretrained", str(ckpt), "--benchmarks",
                 "compositional", "--data-root", str(root), "-o", str(out), "--workers", "0", "--cache-dir",
                 str(tmp_path / "c"), "--published-as", "ViT-B-32 openai", "--limit", "5"])
    assert code == 0
    res = json.loads(out.read_text())["results"]
    assert set(res) == set(benchmark_families()["compositional"]) | {"vl_compo_summary"}
    assert "group_score" in res["colorswap"] and "error" in res["imagecode"]
    # one of ColorSwap's 300 examples: scored, but never summarised beside the published figure
    assert res["vl_compo_summary"]["incomplete"] == {"colorswap": "run with --limit 5; colorswap: 1 items, published 300"}
    assert "colorswap" not in res["vl_compo_summary"] and "note" in res["colorswap"]
    err = capsys.readouterr().err
    assert "slipform eval: imagecode:" in err and "valid_data.json not found" in err
    assert "12.0" not in open(out.with_suffix(".csv")).read()  # ViT-B-32 openai's published colorswap
