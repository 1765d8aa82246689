"""One mutant made by hand: replace a piece of a source file once, run tests, restore the file.

    python bench/hand_mutant.py src/slipform/evaluate/spec.py '* 100' '' tests/test_eval_suites.py -k spec

Prints ``KILLED`` (the tests failed on the mutant) or ``SURVIVED`` with pytest's last line, and
exits 0 either way (1 when the piece is not in the file exactly once). The file is restored even
when the run is interrupted by an exception; the tests run with the checkout's ``src`` first on
the path. Used where a mutmut run is too slow (docs/BENCHMARKS.md, "Issue 31, evaluate/ module
by module") and to check that a new test fails on the bug it was written for.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    path, old, new, *tests = argv if argv is not None else sys.argv[1:]
    file = Path(path)
    text = file.read_text()
    if text.count(old) != 1:
        print(f"{old!r} occurs {text.count(old)} times in {path}; give a piece that occurs once", file=sys.stderr)
        return 1
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    try:
        file.write_text(text.replace(old, new))
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                             cwd=ROOT, env=env, capture_output=True, text=True)
    finally:
        file.write_text(text)
    last = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"{'KILLED' if run.returncode else 'SURVIVED'} {path}: {old!r} -> {new!r}  [{last}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
