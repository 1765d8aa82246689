"""vl_compo's published table as ``slipform eval --published`` prints it, and the rounding rule of a
whole count: what issue 31's third-round sample of ``evaluate/published.py`` left unpinned
(docs/BENCHMARKS.md, "Issue 31, third round: `evaluate/`")."""

from __future__ import annotations

import pytest

from slipform.evaluate import VL_COMPO_SUITES
from slipform.evaluate.published import Published, find_published, format_published, is_whole_count

_HEAD = ["", "| suite | published |", "|---|---|"]
_ITEMS = ["", "Items behind each subset figure (derived from the tables: the figure is a whole count of them)", "",
          "| suite | subset | published | items |", "|---|---|---|---|"]
_AVERAGES = ("comp_avg", "coco_i2t", "coco_t2i", "flickr_i2t", "flickr_t2i", "i2t_avg", "t2i_avg", "imagenet",
             "21_tasks_avg")


def test_format_published_lists_every_suite_and_average_then_the_items_of_each_count_column():
    p = find_published("ViT-B-32 openai")[0]
    lines = format_published(p).splitlines()
    cite = f"vl_compo published figures for {p.name} (github.com/ytaek-oh/vl_compo @ 43e2eae; cited, no licence)"
    suites = [f"| {k} | {p.suites[k]:.2f} |" for k in (*VL_COMPO_SUITES, *_AVERAGES)]
    assert all(p.suites[k] is not None for k in (*VL_COMPO_SUITES, *_AVERAGES))  # this row has all of them
    assert lines[:4 + len(suites) + len(_ITEMS)] == [cite, *_HEAD, *suites, *_ITEMS]
    rows = lines[4 + len(suites) + len(_ITEMS):]
    assert f"| winoground | text | {p.subsets['winoground']['text']:.2f} | 400 |" in rows
    assert f"| crepe | atom | {p.subsets['crepe']['atom']:.2f} | 17698 |" in rows


def test_format_published_of_a_row_without_some_suites_leaves_them_out():
    p = Published("Arch", "data", "Family", {"aro": 50.0, "imagenet": None, "21_tasks_avg": 61.25},
                  {"winoground": {"text": 25.0, "image": None}})
    assert format_published(p).splitlines() == [
        "vl_compo published figures for Arch data (Family) (github.com/ytaek-oh/vl_compo @ 43e2eae; cited, no licence)",
        *_HEAD, "| aro | 50.00 |", "| 21_tasks_avg | 61.25 |", *_ITEMS, "| winoground | text | 25.00 | 400 |"]


def test_every_figure_rounded_to_its_decimals_is_a_whole_count_with_rounded():
    # k/n * 100 printed with 2 decimals is off the count by up to n/100 * 0.005: inside the slack
    for n in (1652, 788):
        assert all(is_whole_count(round(k / n * 100, 2), n, rounded=True) for k in range(n + 1)), n
    assert not is_whole_count(round(8 / 1652 * 100, 2), 1652)  # not exactly


def test_a_figure_off_by_more_than_its_rounding_is_not_a_whole_count():
    # 6.06% of 1,652 is 100.11 items: off by 0.11, more than the 0.083 that 2 decimals allow
    assert not is_whole_count(6.06, 1652, rounded=True) and is_whole_count(6.05, 1652, rounded=True)


def test_a_rounded_figure_takes_the_count_it_rounds_from():
    from slipform.evaluate.published import published_count

    # SVO-Probes' subj_neg has two counts (3,728 and 3,727); 26.83 is 1,000 of 3,727 rounded, of neither exactly
    p = Published("A", "b", "c", {}, {"svo_probes": {"subj_neg": round(1000 / 3727 * 100, 2)}})
    assert published_count(p, "svo_probes", "subj_neg") == 3727


def test_derive_denominators_searches_up_to_hi_inclusive():
    from slipform.evaluate.published import derive_denominators

    figures = [100 / 11 * k for k in (1, 2, 3)]  # whole counts of 11 items only
    assert derive_denominators(figures, hi=11) == (11,) and derive_denominators(figures, hi=10) == ()


def test_tables_out_of_step_are_refused_naming_the_row(monkeypatch):
    import slipform.evaluate.published as published

    tables = {"results.csv": [{"arch": "A", "pretrained": "x", "family": "f"}],
              "individual_results.csv": [{"arch": "A", "pretrained": "y"}]}
    monkeypatch.setattr(published, "_read", tables.get)
    with pytest.raises(ValueError, match="^vl_compo tables out of step at A x$"):
        published._load_published()
