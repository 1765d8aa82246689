"""bench/judges.py: the blind text-only judges must tell fluent captions from broken ones."""

from __future__ import annotations

import numpy as np
import pytest

from judges import BigramJudge, UnigramWebJudge, blind_accuracy, paired_interval, reference_captions


@pytest.fixture(scope="module")
def corpus():
    return reference_captions(exclude={"A man riding a horse on a beach."})


def test_reference_corpus_leaves_out_the_excluded_captions(corpus):
    assert len(corpus) > 10_000
    assert all(c.lower().strip(". ") != "a man riding a horse on a beach" for c in corpus)


def test_bigram_judge_prefers_fluent_captions(corpus):
    judge = BigramJudge(corpus)
    true = ["A man riding a horse on the beach.", "A plate with a fried egg and toast.",
            "Two dogs playing with a frisbee in the park."]
    bad = ["A man riding a beach on the horse.", "A plate with a fried pillow and toast.",
           "Two frisbees playing with a dog in the park."]
    salad = ["horse the a on riding man beach a", "toast egg with fried a and plate a", "park the frisbee dogs two in a with"]
    assert blind_accuracy(judge, true, salad).mean() == 1.0
    assert blind_accuracy(judge, true, bad).mean() >= 2 / 3


def test_unigram_judge_catches_misspellings():
    judge = UnigramWebJudge()
    acc = blind_accuracy(judge, ["Some potatoes on a plate.", "A zebra in a field."],
                         ["Some potatos on a plate.", "A zebbra in a field."])
    assert acc.mean() == 1.0


def test_ties_count_half_and_the_interval_is_paired():
    class Length:
        def score(self, texts):
            return np.array([len(t) for t in texts], dtype=float)

    assert list(blind_accuracy(Length(), ["abc", "ab", "a"], ["xyz", "abc", ""])) == [0.5, 0.0, 1.0]
    x, y = np.array([1.0] * 60 + [0.0] * 40), np.array([1.0] * 50 + [0.0] * 50)
    diff, lo, hi = paired_interval(x, y)
    assert diff == pytest.approx(10.0) and lo < 10.0 < hi and lo > 0
