"""The Markdown report's list of incomplete suites: what issue 31's third-round sample of
``evaluate/report.py`` left unpinned (docs/BENCHMARKS.md, "Issue 31, third round: `evaluate/`")."""

from __future__ import annotations

from slipform.evaluate.published import find_published
from slipform.evaluate.report import SUMMARY, markdown


def test_the_incomplete_suites_are_listed_after_a_blank_line_before_the_citation():
    p = find_published("ViT-B-32 openai")[0]
    results = {"winoground": {"text_score": 30.0}, SUMMARY: {"incomplete": {"winoground": "rows missing",
                                                                            "aro": "files missing"}}}
    lines = markdown(results, "mine", p).splitlines()
    at = lines.index("Incomplete (no published figure printed beside them): winoground, aro")
    assert lines[at - 1] == "" and lines[at + 1] == "" and lines[at + 2].startswith("Published figures: vl_compo")
    assert "| winoground | text_score | 30.00 |  |  |" in lines  # no published figure beside an incomplete suite
