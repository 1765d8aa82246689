"""Mutation testing of the modules whose numbers users publish or trust, with mutmut.

    python bench/mutation.py                    # every group, 2 workers
    python bench/mutation.py losses metrics     # some groups
    python bench/mutation.py --survivors        # also print each surviving mutant's diff
    python bench/mutation.py --list             # the groups, their modules and tests

mutmut (https://github.com/boxed/mutmut, 3.x) makes small changes to the code -- ``>`` to
``>=``, ``* k`` dropped, a constant changed, a call's argument replaced by ``None`` -- and runs
the tests that execute the changed function; a mutant the tests do not fail on "survived", so
some claim of the code is not pinned down by any test. Each group below runs in its own copy of
the repository under ``--workdir`` (the project's pyproject.toml gains a ``[tool.mutmut]``
section there, so the checkout is never touched), with only the tests that stand for that group
(the default suite's other tests would multiply the run time, not the kills).

Per module it prints killed / mutants and the kill rate; "no tests" (a mutant in code that no
selected test executes) counts as surviving. Survivors and why each is harmless or which test
now kills it: docs/BENCHMARKS.md, "Mutation testing". Needs ``pip install mutmut`` (3.x).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Group:
    """Files to mutate (globs, ``*`` spans folders), the tests that stand for them, and optionally
    the functions to mutate (mutmut names, e.g. ``*ǁTrainerǁresume__mutmut_*``)."""

    mutate: tuple[str, ...]
    tests: tuple[str, ...]
    functions: tuple[str, ...] = field(default=())


GROUPS = {
    "losses": Group(("src/slipform/losses/base.py", "src/slipform/losses/contrastive.py",
                     "src/slipform/losses/registry.py"),
                    ("tests/test_losses.py", "tests/test_losses_claims.py", "tests/test_losses_simulated_ranks.py",
                     "tests/test_loss_methods.py", "tests/test_loss_methods_edges.py")),
    "metrics": Group(("src/slipform/evaluate/metrics.py",),
                     ("tests/test_eval_direction.py", "tests/test_evaluate.py", "tests/test_eval_suites.py", "-k",
                      "not (fixtures or cli or probe or overlap or voc2007 or list or cache or missing or registry "
                      "or real_model or names_its)")),
    "scoring": Group(("src/slipform/evaluate/sugarcrepe.py", "src/slipform/evaluate/valse.py",
                      "src/slipform/evaluate/aro.py", "src/slipform/evaluate/winoground.py"),
                     ("tests/test_eval_direction.py", "tests/test_eval_scoring_edges.py", "tests/test_evaluate.py", "-k",
                      "not (fixtures or cli or probe or overlap or voc2007 or list or cache or missing_images "
                      "or registry)")),
}
# the scoring group one module at a time (the machine is shared: a whole group may not finish)
for _mod in ("sugarcrepe", "valse", "aro", "winoground"):
    GROUPS[_mod] = Group((f"src/slipform/evaluate/{_mod}.py",), GROUPS["scoring"].tests)
# ARO's order tasks (their own module since they follow ARO's TextShuffler; its reference test)
GROUPS["aro_order"] = Group(("src/slipform/evaluate/aro_order.py",),
                            ("tests/test_eval_scoring_edges.py", "tests/test_eval_reference.py", "tests/test_evaluate.py",
                             "-k", "aro or order or perturb or caption"))
GROUPS |= {
    "targets": Group(("src/slipform/plant/core/anchor.py",), ("tests/test_anchor.py",),
                     ("*x_select_targets__mutmut_*", "*x__ranked__mutmut_*", "*x_route__mutmut_*",
                      "*x_parse_role_weights__mutmut_*", "*x_caption_rng__mutmut_*")),
    "sampler": Group(("src/slipform/data.py",), ("tests/test_resume_parts.py", "tests/test_data.py", "-k",
                                                  "sampler or seed_epoch or ranks or batch"),
                     ("*ResumableSampler*",)),
    "resume": Group(("src/slipform/train.py",), ("tests/test_resume_parts.py", "tests/test_resume_state.py",
                                                 "tests/test_train.py", "-k",
                                                 "crashed or cosine or truncation or rng_state or carries or schedule "
                                                 "or cuda or went_through or folders or damaged or torn or teacher or selection "
                                                 "or before_the or warns"),
                    ("*ǁTrainerǁresume__mutmut_*", "*ǁTrainerǁstate__mutmut_*", "*x_save_checkpoint__mutmut_*", "*x_load_checkpoint__mutmut_*",
                     "*x__rng_state__mutmut_*", "*x__set_rng_state__mutmut_*", "*x__truncate_log__mutmut_*",
                     "*x_cosine_schedule__mutmut_*")),
    # the methods of issue 18 (the losses group predates them): one process, each against its loop
    # reference and the authors' formulation; their 2-process runs are tests/test_loss_methods_ddp.py
    "methods": Group(tuple(f"src/slipform/losses/{m}.py" for m in ("ce_clip", "fsc_clip", "degla", "siglip",
                                                                 "tripletclip")),
                     ("tests/test_loss_methods.py", "tests/test_loss_methods_edges.py", "tests/test_degla.py",
                      "tests/test_fsc_local.py", "-k",
                      "reference or formulation or options or without or zero or equal_similarities "
                      "or forward_and_backward or thresholds or refused or masks or precision or threshold "
                      "or usable or defaults or decay or distills or kl_distillation")),
    "world": Group(("src/slipform/world/caption.py", "src/slipform/world/editor.py"),
                   ("tests/test_world.py", "tests/test_world_parts.py", "tests/test_editor_plumbing.py", "-k",
                    "(caption or parse or editor or negatives or listing or verify) and not concrete_targets")),
}
# the world's parser and editor one at a time
for _mod in ("caption", "editor"):
    GROUPS[f"world_{_mod}"] = Group((f"src/slipform/world/{_mod}.py",), GROUPS["world"].tests)
COPY = ("src", "tests", "fixtures", "pyproject.toml", "README.md")  # README: the Methods table's test
KILLED = {"killed", "timeout", "caught by type check"}


def _config(group: Group) -> str:
    def toml_list(items):
        return "[" + ", ".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items) + "]"

    return ("\n[tool.mutmut]\n"
            'source_paths = ["src"]\n'
            f"only_mutate = {toml_list(group.mutate)}\n"
            f"pytest_add_cli_args_test_selection = {toml_list(group.tests)}\n"
            'pytest_add_cli_args = ["-q", "-p", "no:cacheprovider", "-x"]\n'
            'also_copy = ["fixtures", "README.md"]\n'
            # a mutant's run loads the session fixtures (spaCy, the norms) that the timing run had loaded
            # already: without this margin a slow start would count as a timeout, which mutmut calls a kill
            "timeout_constant = 60\n"
            # torch is not fork-safe: workers fork from a server that has only imported the tests
            'process_isolation = "forkserver"\n')


def _workspace(name: str, group: Group, workdir: Path) -> Path:
    ws = workdir / name
    if ws.exists():
        shutil.rmtree(ws)
    ws.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for item in COPY:
        src = ROOT / item
        (shutil.copytree(src, ws / item, ignore=ignore) if src.is_dir() else shutil.copy2(src, ws / item))
    with open(ws / "pyproject.toml", "a") as f:
        f.write(_config(group))
    return ws


def _mutmut() -> list[str]:
    exe = Path(sys.executable).with_name("mutmut")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mutmut"]


def run_group(name: str, group: Group, workdir: Path, workers: int, report_only: bool = False) -> dict[str, str]:
    """``{mutant name: status}`` of one group (mutmut's statuses: killed, survived, no tests, ...);
    ``report_only`` reads the results of an earlier (possibly interrupted) run in ``workdir``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # mutmut puts its mutated copy first
    env["OMP_NUM_THREADS"] = "1"
    ws = workdir / name
    if not report_only:
        ws = _workspace(name, group, workdir)
        log = ws / "mutmut.log"
        with open(log, "w") as out:
            proc = subprocess.run([*_mutmut(), "run", "--max-children", str(workers), *group.functions], cwd=ws,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            tail = log.read_text()[-3000:]
            raise RuntimeError(f"mutmut run failed for {name} (exit {proc.returncode}); see {log}:\n{tail}")
    res = subprocess.run([*_mutmut(), "results", "--all", "true"], cwd=ws, env=env, capture_output=True, text=True)
    status = {}
    for line in res.stdout.splitlines():
        if m := re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line):
            status[m.group(1)] = m.group(2).strip()
    if group.functions:
        from fnmatch import fnmatch

        status = {k: v for k, v in status.items() if any(fnmatch(k, pat) for pat in group.functions)}
    return status


def module_of(mutant: str) -> str:
    """``slipform.evaluate.metrics.x_recall_at_k__mutmut_3`` -> ``slipform.evaluate.metrics``."""
    parts = mutant.split(".")
    return ".".join(p for p in parts[:-1])


def show(ws: Path, mutant: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([*_mutmut(), "show", mutant], cwd=ws, env=env, capture_output=True, text=True).stdout


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("groups", nargs="*", help=f"default: all ({', '.join(GROUPS)})")
    p.add_argument("--workers", type=int, default=2, help="mutants tested at once (default 2)")
    p.add_argument("--workdir", default=os.environ.get("TMPDIR", "/tmp") + "/slipform-mutation",
                   help="where each group's copy of the repository goes")
    p.add_argument("--survivors", action="store_true", help="print each surviving mutant's diff")
    p.add_argument("--list", action="store_true", help="print the groups and exit")
    p.add_argument("--report-only", action="store_true",
                   help="print the table of an earlier run in --workdir (an interrupted one: its mutants checked so far)")
    args = p.parse_args(argv)
    if args.list:
        for name, g in GROUPS.items():
            print(f"{name}: mutate {', '.join(g.mutate)}" + (f" ({', '.join(g.functions)})" if g.functions else "")
                  + f"\n    tests: {' '.join(g.tests)}")
        return 0
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        p.error(f"unknown group(s) {sorted(unknown)}; choose from {list(GROUPS)}")
    workdir = Path(args.workdir)
    rows, failed = [], False
    for name in args.groups or list(GROUPS):
        t0 = time.perf_counter()
        status = run_group(name, GROUPS[name], workdir, args.workers, args.report_only)
        minutes = (time.perf_counter() - t0) / 60
        by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for mutant, st in status.items():
            by_module[module_of(mutant)][st] += 1
        for module, counts in sorted(by_module.items()):
            total = sum(counts.values()) - counts["skipped"] - counts["not checked"]
            killed = sum(counts[s] for s in KILLED)
            rate = killed / total * 100 if total else float("nan")
            failed |= rate < 85
            rows.append((name, module, killed, total, rate, counts["survived"], counts["no tests"], minutes))
            print(f"{name:<8} {module:<32} {killed:>4}/{total:<4} killed  {rate:5.1f}%  "
                  f"(survived {counts['survived']}, no tests {counts['no tests']}"
                  + (f", not checked {counts['not checked']}" if counts["not checked"] else "")
                  + f"; group {minutes:.1f} min)",
                  flush=True)
        if args.survivors:
            for mutant, st in sorted(status.items()):
                if st not in KILLED and st not in ("skipped", "not checked"):
                    print(f"--- {st}: {mutant}\n{show(workdir / name, mutant)}")
    print("\n| group | module | killed | mutants | kill rate | survived | no tests |")
    print("|---|---|---|---|---|---|---|")
    for name, module, killed, total, rate, surv, none, _ in rows:
        print(f"| {name} | `{module}` | {killed} | {total} | {rate:.1f}% | {surv} | {none} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
