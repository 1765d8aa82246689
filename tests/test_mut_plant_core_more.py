"""Plant core pinned further for mutation testing (issue 31, third round): each test here was written
from a mutant of ``bench/mutation.py core_*`` / ``plant_init`` (``--sample 20 --seed 0``) that the suite
let live, and was seen failing on it; the references are worked out by hand in the test.
"""

from __future__ import annotations

from slipform.plant.core.edit import Edit, apply_edits, is_swap

# ---- core/edit.py ---------------------------------------------------------------------------------


def test_apply_edits_makes_an_upper_case_an_agree(nlp):
    doc = nlp("An apple on a table.")
    # "An apple" -> "banana": the article before the edit becomes "A", in the case it was written in
    assert apply_edits(doc, [Edit(1, 2, "banana")]) == "A banana on a table."
    assert apply_edits(nlp("AN APPLE ON A TABLE."), [Edit(1, 2, "banana")]) == "A BANANA ON A TABLE."
    assert apply_edits(nlp("A pear on a table."), [Edit(1, 2, "apple")]) == "An apple on a table."


def test_is_swap_refuses_parts_that_overlap():
    # past the common start and end the caption reads [dog chasing dog], the negative [chasing dog chasing]:
    # only parts X and Y that overlap (X = "dog chasing", Y = "chasing dog") would "exchange" them, and the
    # negative does not keep the caption's words (one "dog" became a "chasing")
    assert not is_swap("A dog chasing a dog.", "Chasing dog chasing.", longest=2)
    assert not is_swap("The dog the.", "Dog the dogs.", longest=2)
    assert is_swap("A dog chasing a cat.", "A cat chasing a dog.", longest=1)  # the real exchange still is one


# ---- plant/__init__.py ----------------------------------------------------------------------------


def test_plant_and_the_callable_package_hand_everything_to_plant_file(monkeypatch):
    import slipform
    import slipform.plant as pkg
    from slipform.plant import PlantConfig

    calls = []

    def fake_plant_file(*args, **options):
        calls.append((args, options))
        return f"summary {len(calls)}"

    monkeypatch.setattr(pkg, "plant_file", fake_plant_file)
    config = PlantConfig(seed=3, k=2)
    assert pkg.plant("in.txt", "out.jsonl", config, workers=2, progress=False) == "summary 1"
    assert slipform.plant("in.tsv", "o.jsonl", config, chunk_size=7, fmt="tsv") == "summary 2"
    assert pkg.plant("a.txt", "b.jsonl") == "summary 3"
    assert slipform.plant("c.txt", "d.jsonl") == "summary 4"
    assert calls == [(("in.txt", "out.jsonl", config), {"workers": 2, "progress": False}),
                     (("in.tsv", "o.jsonl", config), {"chunk_size": 7, "fmt": "tsv"}),
                     (("a.txt", "b.jsonl", PlantConfig()), {}),
                     (("c.txt", "d.jsonl", PlantConfig()), {})]
