"""The item counts behind vl_compo's published figures, derived from its own tables and pinned.

Each subset figure of ``individual_results.csv`` is k/N * 100 for a whole k; N is the number of
items the published run scored, and it says how the column was scored (pooled or averaged,
per row or per key). These tests derive N from all 202 rows and pin it.
"""

from __future__ import annotations

import pytest

from slipform.evaluate.published import (
    PUBLISHED_COUNTS,
    decimals,
    derive_denominators,
    is_whole_count,
    load_published,
    published_count,
)

# Pinned: the counts the tables give (with the SVO-Probes split described in published.py).
PINNED = {
    ("aro", "COCO_Order"): (25010,), ("aro", "Flickr30k_Order"): (5000,),
    ("crepe", "atom"): (17698,), ("crepe", "swap"): (7405,), ("crepe", "negate"): (17303,),
    ("svo_probes", "subj_neg"): (3728, 3727), ("svo_probes", "verb_neg"): (13523, 13592),
    ("svo_probes", "obj_neg"): (4911, 4937),
    ("imagecode", "videos"): (1872,), ("imagecode", "static"): (430,),
    ("colorswap", "group"): (300,), ("winoground", "group"): (400,),
    ("eqben", "eqbenag::group"): (195872,), ("eqben", "eqbenyoucook2::group"): (45849,),
    ("eqben", "eqbengebc::group"): (1814,), ("eqben", "eqbenkubric_cnt::group"): (2000,),
    ("eqben", "eqbensd::group"): (1513,), ("mmvp_vlm", "Texts::group"): (15,),
    ("whatsup", "WhatsUp_A"): (412,), ("whatsup", "WhatsUp_B"): (408,), ("whatsup", "COCO_QA_ONE"): (2247,),
    ("whatsup", "COCO_QA_TWO"): (440,), ("whatsup", "VG_QA_ONE"): (1160,), ("whatsup", "VG_QA_TWO"): (291,),
    ("vl_checklist", "Relation_spatial"): (1000,), ("sugarcrepe", "swap_obj"): (245,),
    ("valse", "coreference-hard"): (104,), ("valse", "existence"): (505,),
}
SVO_SPLIT = {"ViT-bigG-14 laion2b_s39b_b160k", "ViT-SO400M-14-SigLIP webli", "EVA02-E-14 laion2b_s4b_b115k",
             "ViT-g-14 laion2b_s34b_b88k", "ViT-H-14 laion2b_s32b_b79k", "EVA01-g-14 laion400m_s11b_b41k",
             "ViT-bigG-14-CLIPA datacomp1b", "ViT-H-14-CLIPA datacomp1b", "coca_ViT-L-14 laion2b_s13b_b90k"}


def _figures(suite, column):
    return [p.subsets[suite][column] for p in load_published()]


def test_the_pinned_counts_are_the_shipped_ones():
    for (suite, column), counts in PINNED.items():
        assert PUBLISHED_COUNTS[suite][column] == counts, (suite, column)


@pytest.mark.parametrize("suite,column", [(s, c) for s, cols in PUBLISHED_COUNTS.items() for c in cols])
def test_each_count_is_derived_from_all_202_rows(suite, column):
    """Searching every N from 1 up: the smallest that makes the most figures whole counts is the
    shipped one, and it (with the second count where rows split) covers all 202 rows."""
    counts = PUBLISHED_COUNTS[suite][column]
    figures = _figures(suite, column)
    assert len(figures) == 202
    assert derive_denominators(figures, hi=max(counts) + 5) == counts
    assert all(any(is_whole_count(f, n, rounded=True) for n in counts) for f in figures)


def test_columns_that_are_not_counts_derive_none():
    for suite, column in (("aro", "VG_Relation"), ("aro", "VG_Attribute"), ("vl_checklist", "Object_Size_medium"),
                          ("vl_checklist", "Attribute_state")):
        assert derive_denominators(_figures(suite, column), hi=30000) == (), (suite, column)


def test_svo_rows_split_between_two_downloads():
    rows = load_published()
    split = {f"{p.arch} {p.pretrained}" for p in rows if published_count(p, "svo_probes", "subj_neg") == 3727}
    assert split == SVO_SPLIT
    for p in rows:
        n = [published_count(p, "svo_probes", t) for t in ("subj_neg", "verb_neg", "obj_neg")]
        assert n == ([3727, 13592, 4937] if f"{p.arch} {p.pretrained}" in SVO_SPLIT else [3728, 13523, 4911])


def test_rounded_figures_and_float_noise():
    assert decimals(49.120000000000005) == 2 and decimals(0.4) == 1 and decimals(12.0) == 0
    assert not is_whole_count(49.12, 45849) and is_whole_count(49.12, 45849, rounded=True)
    assert is_whole_count(0.4, 2000) and not is_whole_count(0.4, 1997)  # 8 of 2,000; not of 1,997
    mixed = [100 * k / 3728 for k in (3001, 3150, 3299)] + [100 * k / 3727 for k in (3100, 3333)]
    assert derive_denominators(mixed, hi=4000) == (3728, 3727)
    rounded = [round(100 * 1234 / 3728, 2), round(100 * 2001 / 3728, 2)]  # printed with 2 decimals, as a few are
    assert derive_denominators(mixed[:3] + rounded, hi=20000) == (3728,)  # not a second count (10,000) for them
    assert derive_denominators([12.34567, 33.1], hi=1000) == ()  # no N below 1,000 makes both whole


def test_our_loaders_keep_exactly_the_published_counts_of_the_real_files():
    """On the real annotation files here, the items our loaders keep are the derived counts, so a
    complete run of these suites is summarised (not put under incomplete)."""
    from slipform.evaluate.imagecode import is_static, load_descriptions
    from slipform.evaluate.sugarcrepe import SUBSETS as SC
    from slipform.evaluate.sugarcrepe import load_subset
    from slipform.evaluate.valse import INSTRUMENTS, load_instrument

    from conftest import FIXTURES

    assert {i: (len(load_instrument(FIXTURES / "valse" / f"{i}.json")),) for i in INSTRUMENTS} == \
        PUBLISHED_COUNTS["valse"]
    assert {s: (len(load_subset(FIXTURES / "sugarcrepe" / f"{s}.json")),) for s in SC} == PUBLISHED_COUNTS["sugarcrepe"]
    items = load_descriptions(FIXTURES / "imagecode" / "valid_data.json")
    static = sum(is_static(s) for s, _, _ in items)
    assert {"videos": (len(items) - static,), "static": (static,)} == PUBLISHED_COUNTS["imagecode"]
