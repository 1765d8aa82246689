"""Plant core pinned further for mutation testing (issue 31, third round): each test here was written
from a mutant of ``bench/mutation.py core_*`` / ``plant_init`` (``--sample 20 --seed 0``) that the suite
let live, and was seen failing on it; the references are worked out by hand in the test.
"""

from __future__ import annotations

import pytest

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


# ---- core/backend.py ------------------------------------------------------------------------------


def test_the_base_backend_asks_its_planter_with_the_callers_own_arguments():
    from slipform.plant.core.backend import Backend

    class Planter:
        def targets(self, item, doc):
            return [("target of", item, doc)]

        def no_target_reason(self, doc):
            return f"nothing in {doc}"

    planter = Planter()
    backend = Backend(planter)
    assert backend.plant is planter
    assert backend.targets("item 1", "doc 1") == [("target of", "item 1", "doc 1")]
    assert backend.no_target_reason("doc 2") == "nothing in doc 2"
    targets = ["a", "b"]
    queued = backend.queue(targets, 5)
    assert queued == ["a", "b"] and queued is not targets  # each target once, a list of its own
    assert Backend.check(object()) is None and backend.prepare() is None
    with pytest.raises(NotImplementedError):
        backend.rewrite([])


def test_register_names_the_class_it_registers(monkeypatch):
    from slipform.plant.core import backend as mod

    monkeypatch.setattr(mod, "_REGISTRY", dict(mod._REGISTRY))

    class Mine(mod.Backend):
        pass

    assert mod.register("mine")(Mine) is Mine
    assert Mine.name == "mine" and mod.get_backend("mine") is Mine and "mine" in mod.backend_names()


def test_get_backend_loads_the_builtin_backends_on_first_use(monkeypatch):
    import importlib
    import sys

    from slipform.plant.core import backend as mod

    # a fresh process: nothing registered, no built-in backend module imported yet
    monkeypatch.setattr(mod, "_REGISTRY", {})
    for name in mod._BUILTIN:
        package, _, leaf = f"slipform.plant.{name}".rpartition(".")
        monkeypatch.setattr(importlib.import_module(package), leaf, sys.modules[f"{package}.{leaf}"])
        monkeypatch.delitem(sys.modules, f"{package}.{leaf}")
    cls = mod.get_backend("negclip")
    assert cls.name == "negclip" and cls.__module__ == "slipform.plant.backends.swap"
    assert sorted(mod._REGISTRY) == ["hf", "lexical", "negclip", "openai"]
