"""Check a mutation group's sampled mutants in one process, when mutmut's own run cannot get the CPU.

    python bench/mutation.py GROUP --sample N --seed S --workdir W     # stopped once W/GROUP/mutants exists
    python bench/mutation_inprocess.py W/GROUP NAMES OUT TEST_ARGS...  # NAMES: the sampled mutant names

mutmut (3.x) writes every mutant of a module into ``W/GROUP/mutants/src`` behind a trampoline that
calls the mutant named by the environment variable ``MUTANT_UNDER_TEST``. This script imports the
tests once and, for each name in ``NAMES`` (one a line), sets that variable and runs
``pytest -x TEST_ARGS`` in the same process: a failing run is a kill, a passing one a survivor,
written to ``OUT`` one line per mutant (a rerun skips the names already in ``OUT``). It saves
mutmut's per-mutant process start, its statistics and clean-test runs; it has no per-mutant
timeout (a mutant that hangs stops the run: use it on groups whose tests cannot loop). Used on
2026-12-07 when the machine's load (15-23 on 2 cores) left mutmut at ``nice -n 19`` under 2% of
a core (docs/BENCHMARKS.md, issue 31, second round).
"""

import os
import sys
import time

import pytest


def main(argv: list[str]) -> int:
    ws, names_file, out, *args = argv
    os.chdir(os.path.join(ws, "mutants"))
    sys.path.insert(0, os.path.join(ws, "mutants", "src"))
    names = open(names_file).read().split()
    done = {line.split()[0] for line in open(out) if line.strip()} if os.path.exists(out) else set()
    for name in names:
        if name in done:
            continue
        os.environ["MUTANT_UNDER_TEST"] = name
        t = time.time()
        rc = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "--rootdir=.", "-W", "ignore", *args])
        with open(out, "a") as f:
            f.write(f"{name} {'killed' if rc != 0 else 'survived'} rc={int(rc)} {time.time() - t:.1f}s\n")
    os.environ["MUTANT_UNDER_TEST"] = ""
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
