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
    assert all((ROOT / t).is_file() for t in group.tests if t.startswith("tests/")), name
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


def test_named_mutants_are_run_by_the_group_that_mutates_their_module():
    name = "slipform.plant.core.record.x_read_sidecar__mutmut_1"
    assert mutation._paths_of(name)[0] == "src/slipform/plant/core/record.py"
    owners = [g for g, grp in mutation.GROUPS.items() if any(mutation._covers(grp, p) for p in mutation._paths_of(name))]
    assert "plant_record" in owners and "plant_engine_local" not in owners
