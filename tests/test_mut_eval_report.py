"""Writing results (JSON, CSV, Markdown) with and without a published checkpoint beside them: what
issue 31's mutation sample of ``evaluate/report.py`` left unpinned (docs/BENCHMARKS.md, "Issue 31,
evaluate/ module by module"). The published figures are vl_compo's row for ``ViT-B-32 openai``."""

from __future__ import annotations

import csv
import json

import pytest

from slipform.evaluate.published import find_published
from slipform.evaluate.report import SUMMARY, flatten, markdown, published_values, write_results


def test_flatten_spreads_one_level_of_nested_metrics_and_skips_a_benchmark_with_none():
    results = {"a": {"x": 1.5, "per": {"p": 2, "q": 3.0}}, "b": None, "c": {}}
    assert flatten(results) == [("a", "x", 1.5), ("a", "per/p", 2), ("a", "per/q", 3.0)]


def test_a_table_without_published_figures(tmp_path):
    results = {"winoground": {"text_score": 30.0, "n": 400, "note": "x"}, "mmvp_vlm": {"error": "gone"}}
    table = write_results(results, tmp_path / "deep" / "r.json", "tiny")
    assert table.splitlines() == ["| benchmark | metric | tiny |", "|---|---|---|",
                                  "| winoground | text_score | 30.00 |", "| winoground | n | 400 |",
                                  "| winoground | note | x |", "| mmvp_vlm | error | gone |"]
    assert (tmp_path / "deep" / "r.md").read_text() == table + "\n"
    assert json.loads((tmp_path / "deep" / "r.json").read_text()) == {"model": "tiny", "results": results}
    rows = list(csv.reader(open(tmp_path / "deep" / "r.csv")))
    assert rows == [["model", "benchmark", "metric", "value", "published", "difference"],
                    ["tiny", "winoground", "text_score", "30.0", "", ""], ["tiny", "winoground", "n", "400", "", ""],
                    ["tiny", "winoground", "note", "x", "", ""], ["tiny", "mmvp_vlm", "error", "gone", "", ""]]
    assert markdown(results).splitlines()[0] == "| benchmark | metric | value |"


def test_published_values_cover_suites_subsets_and_retrieval_but_not_incomplete_suites():
    p = find_published("ViT-B-32 openai")[0]
    values = published_values(p)
    assert values[(SUMMARY, "winoground")] == pytest.approx(8.75)
    assert values[("winoground", "group_score")] == p.subsets["winoground"]["group"]
    assert values[("sugarcrepe", "swap_att")] == p.subsets["sugarcrepe"]["swap_att"]
    for k in (1, 5, 10):
        assert values[("retrieval_coco", f"image_to_text_R@{k}")] == p.subsets["coco_karpathy"][f"i2t/R@{k}"]
        assert values[("retrieval_flickr30k", f"text_to_image_R@{k}")] == p.subsets["flickr30k"][f"t2i/R@{k}"]
    assert all(v is not None for v in values.values())
    cut = published_values(p, {SUMMARY: {"incomplete": {"winoground": "why", "aro": "why"}}})
    assert (SUMMARY, "winoground") not in cut and ("winoground", "group_score") not in cut
    assert ("aro", "vg_relation_macro") not in cut and ("sugarcrepe", "swap_att") in cut
    assert len(values) - len(cut) == 2 + 3 + 4  # the two suite values, Winoground's 3 and ARO's 4 subsets
    assert published_values(p, {SUMMARY: None}) == values


def test_differences_only_for_numbers_and_the_count_table_only_for_suites_that_ran(tmp_path):
    p = find_published("ViT-B-32 openai")[0]
    theirs = p.subsets["winoground"]["text"]
    results = {"winoground": {"text_score": 30.0, "n": 400, "note": "a string", "image_score": None},
               "colorswap": {"error": "files missing"}}  # image_score: not a number, where a figure is published
    table = markdown(results, "mine", p)
    assert table.splitlines()[:2] == ["| benchmark | metric | mine | published (ViT-B-32 openai) | difference |",
                                      "|---|---|---|---|---|"]
    assert f"| winoground | text_score | 30.00 | {theirs:.2f} | {30.0 - theirs:+.2f} |" in table
    assert "| winoground | n | 400 |  |  |" in table and "| winoground | note | a string |  |  |" in table
    image = p.subsets["winoground"]["image"]
    assert f"| winoground | image_score | None | {image:.2f} |  |" in table  # a figure, no difference
    assert "| colorswap |" not in table.split("Items scored")[1]  # an errored suite has no count row
    assert "| winoground | winoground | 400 | 400 |" in table and "Incomplete" not in table
    assert table.endswith("ViT-B-32 openai (OpenCLIP); cited, the tables carry no licence.")
    write_results(results, tmp_path / "r.json", "mine", p)
    rows = {(r["benchmark"], r["metric"]): r for r in csv.DictReader(open(tmp_path / "r.csv"))}
    assert float(rows[("winoground", "text_score")]["difference"]) == pytest.approx(30.0 - theirs)
    assert rows[("winoground", "note")]["difference"] == "" and rows[("winoground", "note")]["published"] == ""
    assert rows[("winoground", "image_score")]["difference"] == "" and rows[("winoground", "image_score")]["value"] == ""
    assert float(rows[("winoground", "image_score")]["published"]) == pytest.approx(p.subsets["winoground"]["image"])
    meta = json.loads((tmp_path / "r.json").read_text())["published"]
    assert meta == {"source": "github.com/ytaek-oh/vl_compo@43e2eae", "checkpoint": p.name}
    assert markdown({"mmvp_vlm": {"error": "x"}}, "m", p).count("Items scored") == 0
