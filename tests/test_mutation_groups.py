"""bench/mutation.py: every module of src/slipform is in a mutation group, each group's tests exist,
``--changed`` finds the modules a diff touches, and a sample's interval is right."""

import subprocess

import pytest

import mutation

from conftest import ROOT


def test_every_module_is_in_a_mutation_group():
    assert len(mutation.module_files()) > 80
    assert mutation.uncovered() == []


def test_a_new_module_in_no_group_is_named(monkeypatch):
    real = mutation.module_files()
    monkeypatch.setattr(mutation, "module_files", lambda: [*real, "src/slipform/brand_new.py"])
    assert mutation.uncovered() == ["src/slipform/brand_new.py"]


@pytest.mark.parametrize("name", sorted(mutation.GROUPS))
def test_each_groups_files_exist(name):
    group = mutation.GROUPS[name]
    assert all((ROOT / t.split("::")[0]).is_file() for t in group.tests if t.startswith("tests/")), name
    assert all(list(ROOT.glob(pat)) for pat in group.mutate), name


def test_changed_mutates_each_module_a_diff_touches_with_its_groups_tests():
    if subprocess.run(["git", "rev-parse", "HEAD~1"], cwd=ROOT, capture_output=True).returncode:
        pytest.skip("no git history here")
    base = subprocess.run(["git", "log", "-1", "--format=%H", "--", "src/slipform/plant/engine/sink.py"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip()
    groups = mutation.changed_groups(f"{base}~1")
    assert groups["changed:plant/engine/sink.py"].mutate == ("src/slipform/plant/engine/sink.py",)
    assert "tests/test_plant_reruns.py" in groups["changed:plant/engine/sink.py"].tests
    assert all(len(g.mutate) == 1 for g in groups.values())


def test_the_samples_interval():
    lo, hi = mutation.wilson(85, 100)
    assert 76 < lo < 78 and 90 < hi < 92  # the Wilson interval of 85/100
    assert mutation.wilson(10, 10)[1] == pytest.approx(100.0)


def test_each_evaluate_module_has_a_group_of_its_own():
    alone = {g.mutate[0] for g in mutation.GROUPS.values() if len(g.mutate) == 1 and not g.functions}
    assert [f for f in mutation.module_files() if "/evaluate/" in f and f not in alone] == []


def test_a_per_module_sample_is_the_same_in_any_group():
    a = [f"slipform.evaluate.zeroshot.x_accuracy__mutmut_{i}" for i in range(40)]
    b = [f"slipform.evaluate.probe.x_fit__mutmut_{i}" for i in range(7)]
    both = mutation.draw(a + b, 10, seed=0, per_module=True)
    assert len(both) == 17 and set(b) <= set(both)  # a module with fewer mutants: all of them
    assert mutation.draw(a, 10, seed=0, per_module=True) == [m for m in both if m in a]
    assert mutation.draw(a, 10, seed=1, per_module=True) != mutation.draw(a, 10, seed=0, per_module=True)
    assert len(mutation.draw(a + b, 10, seed=0)) == 10


def test_the_in_process_run_chooses_named_mutants_or_the_same_sample_as_mutmuts_run():
    a = [f"slipform.evaluate.spec.x_evaluate__mutmut_{i}" for i in range(30)]
    b = [f"slipform.evaluate.mmvp.x_evaluate__mutmut_{i}" for i in range(30)]
    assert mutation.choose(a + b, 5, seed=0, per_module=True) == mutation.draw(a + b, 5, seed=0, per_module=True)
    assert len(mutation.choose(a + b, 5, seed=0)) == 5
    assert mutation.choose(a + b, 5, 0, mutants=("*spec.x_evaluate__mutmut_1", "*mmvp*_29")) == [a[1], b[29]]
    assert mutation.choose(a, None, 0) == a


def test_the_node_ids_of_each_group_name_tests_that_exist():
    import ast

    for name, group in mutation.GROUPS.items():
        for t in (t for t in group.tests if "::" in t):
            file, test = t.split("::")
            defined = {n.name for n in ast.walk(ast.parse((ROOT / file).read_text())) if isinstance(n, ast.FunctionDef)}
            assert test.split("[")[0] in defined, (name, t)
