"""Issue 28's balance on real parses: attribute exchanges outside the kinds table and across a list
of things (routes/attribute.py), and the cap on one replacement word's share (core/balance.py)."""

import random
from collections import Counter

import pytest

from slipform.plant import PlantConfig
from slipform.plant.core.anchor import Routed, candidates
from slipform.plant.core.balance import ReplacementCap
from slipform.plant.core.edit import apply_edits, is_swap
from slipform.plant.core.planter import ConcretePlant
from slipform.plant.lexical.routes import route_edit
from slipform.text.io import Caption


@pytest.fixture(scope="module")
def plant():
    return ConcretePlant(PlantConfig())


def _swap(plant, nlp, text, anchor, route):
    """What ``route``'s exchange pass makes around the thing ``anchor`` of ``text`` (None: nothing)."""
    doc = nlp(text)
    cands = candidates(doc, plant.lexicon)
    a = next(c for c in cands if c.role == "O" and c.text.split()[-1] == anchor)
    made = route_edit(plant.backend.rewriter, doc, Routed(a, route, tuple(cands), "swap"), random.Random(0))
    if made is None:
        return None
    negative = apply_edits(doc, list(made.rewrite.edits))
    assert made.edit == "swap" and is_swap(text, negative), negative
    return negative


def test_colours_exchange_between_things_the_counts_colour(plant, nlp):
    # walls and tiles are outside the kinds table; real captions give both many colours
    assert _swap(plant, nlp, "A bathroom with blue walls and white tiles.", "tiles", "A") \
        == "A bathroom with white walls and blue tiles."
    # "and" joins the things, not two colours of one thing
    assert _swap(plant, nlp, "A man in yellow shirt and black shorts playing a game of tennis.", "shorts", "A") \
        == "A man in black shirt and yellow shorts playing a game of tennis."


def test_attribute_exchanges_still_refuse(plant, nlp):
    assert _swap(plant, nlp, "A gray chair and a black chair sit in a room.", "chair", "A") is None  # says the same
    assert _swap(plant, nlp, "A yellow notebook on a black desk.", "desk", "A") is None  # notebooks: no known colours
    assert _swap(plant, nlp, "A brown and white dog next to a black car.", "car", "A") is None  # which colour goes


def test_the_cap_bounds_a_words_share_after_the_warm_up():
    cap = ReplacementCap(0.03)
    assert cap.allows("Beside")
    cap.add("beside")
    cap.add("beside")
    assert not cap.allows("beside")  # a third in the first hundred: over 90% of 3%, with other targets left
    assert cap.allows("beside", last=True)  # a caption's last chance: within 3% itself
    cap.add("beside")
    assert not cap.allows("beside", last=True)  # a fourth in the first hundred: over 3%
    for k in range(129):
        cap.add(f"w{k}")
    assert cap.written == 132 and not cap.allows("beside", last=True)  # 4 of 133 is 3.01%
    cap.add("other")
    assert cap.allows("beside", last=True) and not cap.allows("beside") and cap.allows(None)  # 4 of 134: 2.99%


def test_the_cap_keeps_coverage_and_spreads_the_words(nlp):
    texts = [c.strip() for c in open("src/slipform/data/coco_captions_sample.txt").read().splitlines()[:150]]
    items = [Caption(str(i), t) for i, t in enumerate(texts)]
    docs = list(nlp.pipe(texts))
    free = ConcretePlant(PlantConfig(max_replacement_share=None)).plant(items, docs)
    strict = ConcretePlant(PlantConfig(max_replacement_share=0.02)).plant(items, docs)
    assert strict.rejected["replacement over its share"] > 0
    lost = {s["id"]: s["reason"] for s in strict.skipped} .items() - {s["id"]: s["reason"] for s in free.skipped}.items()
    assert all(reason == "replacement over its share" for _, reason in lost)  # coverage lost to the cap alone
    assert len(strict.records) >= len(free.records) - len(lost)  # the others keep a refused negative as the last
    top = Counter(r["replacement"].lower() for r in strict.records if r["edit"] != "swap").most_common(1)[0][1]
    assert top <= 0.02 * max(len(strict.records), 100) < Counter(
        r["replacement"].lower() for r in free.records if r["edit"] != "swap").most_common(1)[0][1]
    assert any(a["negative"] != b["negative"] for a, b in zip(free.records, strict.records))  # others took their place
    with pytest.raises(ValueError, match="max_replacement_share"):
        PlantConfig(max_replacement_share=0)


def test_the_cap_never_refuses_a_swap(nlp):
    texts = ["A red car next to a white truck.", "A cat to the left of a dog."]
    planted = ConcretePlant(PlantConfig(max_replacement_share=0.001)).plant(
        [Caption(str(i), t) for i, t in enumerate(texts)], list(nlp.pipe(texts)))
    assert [r["edit"] for r in planted.records] == ["swap", "swap"]
    assert not planted.rejected["replacement over its share"]  # a moved word is no replacement
