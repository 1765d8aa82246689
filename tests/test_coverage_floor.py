"""bench/coverage_floor.py: which modules fail their floor, and the floors' rule."""

import coverage_floor as cf


def _report(**modules):
    return {"files": {f"src/slipform/{m}": {"summary": {"covered_lines": c, "num_statements": n}}
                      for m, (c, n) in modules.items()}}


def test_a_module_below_its_floor_without_one_or_never_imported_fails():
    mods = cf.per_module(_report(**{"run.py": (90, 100), "new.py": (5, 10), "empty.py": (0, 0)}))
    assert mods == {"run.py": (90, 100), "new.py": (5, 10), "empty.py": (0, 0)}
    problems = cf.check(mods, {"run.py": 95, "gone.py": 50})
    assert problems == ["new.py: 50.0% covered and no floor; add \"new.py\": 45 to FLOORS in bench/coverage_floor.py",
                        "run.py: 90.0% of 100 lines covered, below its floor of 95%",
                        "gone.py: has a floor of 50% but the suite never imported it"]
    assert cf.check({"run.py": (95, 100)}, {"run.py": 95}) == []


def test_floors_leave_three_points_and_round_down_to_five():
    assert [cf.floor_for(p) for p in (100.0, 98.0, 97.9, 56.4, 2.0)] == [95, 95, 90, 50, 0]


def test_every_module_of_the_package_has_a_floor():
    import ast

    from conftest import ROOT

    src = ROOT / "src" / "slipform"
    with_code = set()
    for p in src.rglob("*.py"):
        body = ast.parse(p.read_text()).body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        if body:
            with_code.add(str(p.relative_to(src)))
    assert sorted(with_code - set(cf.FLOORS)) == []
