"""Coverage and the mix of negatives per input: what issue 28's "Done means" counts.

    python bench/plant_balance.py                      # the three inputs, default options
    python bench/plant_balance.py --route target       # today's reading of the routes, for comparison
    python bench/plant_balance.py --role-weights O=1   # the weights still steer
    python bench/plant_balance.py --max-replacement-share 0.03   # the cap on one word's share (off by default)

Inputs: SugarCrepe's 4,345 unique captions (fixtures/sugarcrepe), the bundled 500-caption sample,
and 1,000 titles of NegCLIP's COCO validation TSV (fixtures/negclip, a seed no audit round used).
Per input it prints coverage (captions with a negative / captions with a rated thing), the skip
reasons, the share of each role (A, R, O), of swaps, of the top replacement word, of person
contrasts (woman <-> man, girl <-> boy, ...), and of replacements that change the word's class
(the coarse spaCy POS of the changed word in the caption and in the negative, both parsed).
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import FIXTURES, negclip_titles  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "slipform" / "data" / "coco_captions_sample.txt"
COCO_SEED = 7  # NegCLIP titles drawn for this bench and audit round 7


def inputs(n_coco: int = 1000) -> dict[str, list[str]]:
    """The three inputs, each a list of unique captions."""
    seen, sc = set(), []
    for path in sorted((FIXTURES / "sugarcrepe").glob("*.json")):
        for item in json.loads(path.read_text()).values():
            cap = item["caption"].strip()
            if cap not in seen:
                seen.add(cap)
                sc.append(cap)
    sample = [c.strip() for c in SAMPLE.read_text().splitlines() if c.strip()]
    titles = sorted({t.strip() for t in negclip_titles() if t.strip()})
    return {"sugarcrepe": sc, "sample": sample, "coco": random.Random(COCO_SEED).sample(titles, n_coco)}


_CLASS = {"PROPN": "NOUN", "AUX": "VERB"}
PERSONS = frozenset({"man", "woman", "men", "women", "boy", "girl", "boys", "girls", "lady", "ladies", "guy",
                     "child", "kid", "father", "mother", "king", "queen", "husband", "wife", "brother", "sister",
                     "son", "daughter", "gentleman"})


def class_changed(nlp, records: list[dict]) -> list[bool]:
    """Per replacement record: whether a changed word's coarse POS differs in the negative."""
    pairs = [(r["caption"], r["negative"]) for r in records]
    docs = list(nlp.pipe([t for p in pairs for t in p], batch_size=256))
    out = []
    for k in range(len(pairs)):
        a, b = docs[2 * k], docs[2 * k + 1]
        la, lb = [t.lower_ for t in a], [t.lower_ for t in b]
        changed = False
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=la, b=lb, autojunk=False).get_opcodes():
            if op == "replace" and i2 - i1 == j2 - j1:
                for x, y in zip(a[i1:i2], b[j1:j2]):
                    if x.lower_ in ("a", "an"):
                        continue
                    changed |= _CLASS.get(x.pos_, x.pos_) != _CLASS.get(y.pos_, y.pos_)
        out.append(changed)
    return out


def measure(name: str, captions: list[str], config, nlp, tmp: Path) -> dict:
    from slipform.plant import plant_file

    src = tmp / f"{name}.jsonl"
    src.write_text("".join(json.dumps({"id": str(i), "caption": c}) + "\n" for i, c in enumerate(captions)))
    out = tmp / f"{name}-neg.jsonl"
    summary = plant_file(src, out, config, progress=False)
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    n = len(recs)
    no_thing = summary.skipped.get("no candidate word", 0) + summary.skipped.get("no rated candidate", 0)
    roles = Counter(r["role"] for r in recs)
    swaps = sum(r.get("edit") == "swap" for r in recs)
    repl = Counter(str(r["replacement"]).lower() for r in recs)
    top, top_n = repl.most_common(1)[0]
    persons = sum(r.get("edit") != "swap" and str(r["replacement"]).lower() in PERSONS
                  and str(r["target"]).lower() in PERSONS for r in recs)
    replaced = [r for r in recs if r.get("edit") != "swap"]
    changes = class_changed(nlp, replaced)
    row = {"captions": len(captions), "planted": summary.planted,
           "coverage": 100 * summary.planted / len(captions),
           "coverage_rated": 100 * summary.planted / max(1, len(captions) - no_thing),
           "skipped": dict(summary.skipped.most_common(4)),
           "A": 100 * roles["A"] / n, "R": 100 * roles["R"] / n, "O": 100 * roles["O"] / n,
           "swaps": 100 * swaps / n, "top": [top, 100 * top_n / n], "persons": 100 * persons / n,
           "class_changes": 100 * sum(changes) / max(1, len(changes)), "negatives": n,
           "examples": {"class": [f"{r['caption']} -> {r['negative']}" for r, c in zip(replaced, changes) if c][:5]}}
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--route", default="anchor", choices=("anchor", "target"))
    ap.add_argument("--role-weights")
    ap.add_argument("--inputs", default="sugarcrepe,sample,coco")
    ap.add_argument("--max-replacement-share", type=float, help="PlantConfig.max_replacement_share (default: none)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from slipform.plant import PlantConfig
    from slipform.plant.core.anchor import parse_role_weights
    from slipform.text.nlp import load_nlp

    weights = parse_role_weights(args.role_weights)
    config = PlantConfig(route=args.route, role_weights=tuple(sorted(weights.items())) if weights else None,
                         max_replacement_share=args.max_replacement_share)
    nlp, tmp, rows = load_nlp(), Path(tempfile.mkdtemp(prefix="slipform-balance-")), {}
    data = inputs()
    print(f"route={args.route} role_weights={args.role_weights} max_replacement_share={args.max_replacement_share}")
    print("| input | coverage (of rated) | A | R | O | swaps | top replacement | persons | class changes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.inputs.split(","):
        r = rows[name] = measure(name, data[name], config, nlp, tmp)
        print(f"| {name} ({r['captions']}) | {r['coverage']:.1f}% ({r['coverage_rated']:.1f}%) | {r['A']:.1f}% | "
              f"{r['R']:.1f}% | {r['O']:.1f}% | {r['swaps']:.1f}% | {r['top'][0]} {r['top'][1]:.1f}% | "
              f"{r['persons']:.1f}% | {r['class_changes']:.2f}% |", flush=True)
    for name, r in rows.items():
        print(f"\n{name}: skipped {r['skipped']}; class changes e.g.", *r["examples"]["class"], sep="\n  ")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
