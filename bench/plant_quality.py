"""Quality of planted negatives on real COCO captions, per strategy.

    python bench/plant_quality.py --n 5000 --examples docs/PLANT_EXAMPLES.md

For each strategy (and the role-weighted variant) prints: coverage (captions with a valid
negative), the share of negatives that change exactly one word or two-word expression
(inflection and a/an aside), the mean concreteness of the changed words, the role mix and
the mean MiniLM similarity of target and replacement. Writes 30 random examples per
strategy (seeded) for a person to read.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from slipform.plant import PlantConfig, plant_file  # noqa: E402
from slipform.plant.edit import is_single_change  # noqa: E402

from corpus import write_captions  # noqa: E402

RUNS = {
    "concrete": PlantConfig(strategy="concrete"),
    "random": PlantConfig(strategy="random"),
    "abstract": PlantConfig(strategy="abstract"),
    "concrete + role weights O=1,A=1,R=1": PlantConfig(strategy="concrete",
                                                       role_weights=(("A", 1.0), ("O", 1.0), ("R", 1.0))),
    "negclip swaps": PlantConfig(backend="negclip"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--examples", type=Path)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="slipform-quality-"))
    src = write_captions(tmp / "captions.txt", args.n)
    rng = random.Random(0)
    sections = []
    print("| run | coverage | one change | mean concreteness | roles O/A/R | mean similarity |")
    print("|---|---|---|---|---|---|")
    for name, config in RUNS.items():
        out = tmp / f"{len(sections)}.jsonl"
        summary = plant_file(src, out, config, progress=False)
        recs = [json.loads(line) for line in out.read_text().splitlines()]
        single = sum(is_single_change(r["caption"], r["negative"]) for r in recs) / len(recs)
        rated = [r["concreteness"] for r in recs if r["concreteness"] is not None]
        roles = collections.Counter(r["role"] for r in recs)
        sims = [r["similarity"] for r in recs if r["similarity"] is not None]
        mix = "/".join(f"{100 * roles[k] / len(recs):.0f}%" for k in "OAR")
        print(f"| {name} | {100 * summary.planted / summary.read:.1f}% | {100 * single:.1f}% | "
              f"{sum(rated) / len(rated):.2f} | {mix} | {sum(sims) / len(sims):.2f} |")
        lines = [f"## {name}", "", "| role | target -> replacement | negative |", "|---|---|---|"]
        for r in rng.sample(recs, min(30, len(recs))):
            c = "" if r["concreteness"] is None else f" ({r['concreteness']})"
            lines.append(f"| {r['role']} | {r['target']}{c} -> {r['replacement']} | {r['negative'].strip()} |")
        sections.append("\n".join(lines))
    if args.examples:
        head = ("# Planted negatives: 30 random examples per strategy\n\nMade by `python bench/plant_quality.py "
                f"--n {args.n} --examples {args.examples}` on real COCO captions (SugarCrepe and NegCLIP files), "
                "seed 0. The caption is the negative with the target put back.\n")
        args.examples.write_text(head + "\n\n" + "\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
