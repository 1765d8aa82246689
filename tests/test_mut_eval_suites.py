"""Suite scoring that issue 31's hand-made mutants found unpinned (docs/BENCHMARKS.md, "Issue 31,
evaluate/ module by module")."""

from __future__ import annotations

import json

from slipform.evaluate import get_benchmark

from eval_helpers import KeyedEncoder, tiny_image


def test_colorswap_text_and_image_scores_are_not_swapped(tmp_path):
    # s(c1, i1) = 1.0, s(c1, i2) = 0.9, s(c2, i1) = 0.5, s(c2, i2) = 0.8
    # text score (each image prefers its caption): i1 yes (1.0 > 0.5), i2 no (0.8 < 0.9) -> 0
    # image score (each caption prefers its image): c1 yes (1.0 > 0.9), c2 yes (0.8 > 0.5) -> 100
    rows = [{"caption_1": "c1", "caption_2": "c2", "image_1": "images/i1.png", "image_2": "images/i2.png"}]
    (tmp_path / "colorswap").mkdir()
    (tmp_path / "colorswap" / "test.json").write_text(json.dumps(rows))
    for name in ("i1", "i2"):
        tiny_image(tmp_path / "colorswap" / "images" / f"{name}.png")
    enc = KeyedEncoder({"i1.png": [1.0, 0.0], "i2.png": [0.0, 1.0]}, {"c1": [1.0, 0.9], "c2": [0.5, 0.8]})
    out = get_benchmark("colorswap")(enc, tmp_path)
    assert (out["text_score"], out["image_score"], out["group_score"], out["n"]) == (0.0, 100.0, 0.0, 1)
    assert out["note"].endswith("1 rows where the published file has 300 (numbers may not compare with published ones)")
