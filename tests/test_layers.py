"""The package's floors (README, Layout): data < library < experiment, and no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "slipform"
FLOOR = {"world": 0, "lexicon": 0, "text": 0, "safeload": 0, "run": 0, "plant": 1, "losses": 1, "models": 1, "data": 1, "train": 1,
         "evaluate": 1, "plots": 1, "norms": 1, "select": 1, "experiment": 2, "cli": 2, "__init__": 2}


def _unit(path: Path) -> str:
    rel = path.relative_to(SRC).parts
    return rel[0] if len(rel) > 1 else rel[0][:-3]


def _imports(path: Path) -> set[str]:
    """Top-level slipform units that ``path`` imports (at module level or inside functions)."""
    tree = ast.parse(path.read_text())
    pkg = path.relative_to(SRC).parts[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = list(pkg[: len(pkg) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
                if parts:
                    out.add(parts[0])
                else:  # "from . import x" at the package root
                    out.update(a.name for a in node.names)
            elif node.module and node.module.startswith("slipform."):
                out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("slipform."))
    return out


def test_every_unit_has_a_floor():
    units = {_unit(p) for p in SRC.rglob("*.py")}
    assert units <= set(FLOOR), units - set(FLOOR)


def test_no_unit_imports_a_floor_above_it():
    bad = []
    for path in SRC.rglob("*.py"):
        unit = _unit(path)
        for dep in _imports(path) - {unit}:
            if dep in FLOOR and FLOOR[dep] > FLOOR[unit]:
                bad.append(f"{path.relative_to(SRC)} ({unit}, floor {FLOOR[unit]}) imports {dep} (floor {FLOOR[dep]})")
    assert not bad, bad


def test_no_import_cycle_between_units():
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        unit = _unit(path)
        graph.setdefault(unit, set()).update(d for d in _imports(path) if d != unit and d in FLOOR)

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    cycles = [u for u in graph if u in reach(u)]
    assert not cycles, {u: graph[u] for u in cycles}


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_imports(path: Path, modules: set[str]) -> set[str]:
    """Modules of the package that ``path`` imports anywhere, type-checking imports included."""
    name = _module(path)
    pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = pkg[: len(pkg) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out |= {m for m in (mod, *(f"{mod}.{a.name}" for a in node.names)) if m in modules}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
    return out - {name}


def test_no_import_cycle_between_modules():
    """No module reaches itself through imports, even type-only ones (plant/core <-> backend was one);
    plug-ins are loaded by the registry by name, so they never import the planter back."""
    paths = {_module(p): p for p in SRC.rglob("*.py")}
    graph = {m: _module_imports(p, set(paths)) for m, p in paths.items()}
    cycles = []
    for start in graph:
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo += graph.get(m, ())
        if start in seen:
            cycles.append(start)
    assert not cycles, sorted(cycles)


PLANT_ROOMS = {"knowledge": 0, "core": 1, "lexical": 2, "backends": 2, "engine": 2, "output": 2}


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 3 and parts[:2] == ["slipform", "plant"] else None


def test_plant_rooms_form_layers():
    """plant/'s rooms (README, Layout): knowledge < core < {lexical, backends, engine, output}. The
    rooms of one floor never import each other: the engine reaches a backend only through the
    registry, by name; every module of plant/ lives in a room."""
    plant = SRC / "plant"
    loose = [p.name for p in plant.glob("*.py") if p.name != "__init__.py"]
    assert not loose, loose
    assert {p.name for p in plant.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(PLANT_ROOMS)
    paths = {_module(p): p for p in SRC.rglob("*.py")}
    bad = []
    for name, path in paths.items():
        room = _room(name)
        if room is None:
            continue
        for dep in _module_imports(path, set(paths)):
            other = _room(dep)
            if other is not None and other != room and PLANT_ROOMS[other] >= PLANT_ROOMS[room]:
                bad.append(f"{name} ({room}) imports {dep} ({other})")
    assert not bad, bad
