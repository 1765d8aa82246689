"""Blind test of planted negatives on SugarCrepe's captions, side by side with SugarCrepe's own.

    python bench/plant_quality.py --examples docs/PLANT_EXAMPLES.md --json quality.json
    python bench/plant_quality.py --runs concrete --hf-model /models/Qwen3-4B     # the LLM backends, same test

Every unique caption of SugarCrepe's seven files (4,345 real COCO captions, from
fixtures/) is planted once per run (strategy x backend). On the captions of ``replace_obj``,
``replace_att`` and ``replace_rel`` the bench then compares, for the *same captions*, our
negative with SugarCrepe's own (LLM-written, then adversarially filtered) under text-only
judges that the planter does not use (bench/judges.py): a judge's blind accuracy is the share
of pairs in which it prefers the true caption. Target (lexical backend, concrete strategy):
ours within 3 points of SugarCrepe's on every subset, coverage >= 95%, one change >= 95%,
and mean changed-word concreteness ordered concrete > random > abstract.

Prints per run: coverage, the share of negatives that make one edit (one word or two-word
expression changed, or a swap; the mix of routes and swaps per input is bench/plant_balance.py's), mean concreteness of the changed words, mean plausibility, and per subset and
judge: ours, SugarCrepe's, and ours - SugarCrepe's with a 95% paired-bootstrap interval.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from judges import FIXTURES, blind_accuracy, make_judges, paired_interval  # noqa: E402
from slipform.plant import PlantConfig, plant_file  # noqa: E402
from slipform.plant.core.edit import is_single_change, is_swap  # noqa: E402

SUBSETS = ("replace_obj", "replace_att", "replace_rel")
RUNS = {
    "concrete": PlantConfig(strategy="concrete"),
    "concrete, route=target": PlantConfig(strategy="concrete", route="target"),
    "random": PlantConfig(strategy="random"),
    "abstract": PlantConfig(strategy="abstract"),
    "concrete, plausibility off": PlantConfig(strategy="concrete", plausibility=False),
    "concrete + role weights O=1,A=1,R=1": PlantConfig(strategy="concrete",
                                                       role_weights=(("A", 1.0), ("O", 1.0), ("R", 1.0))),
    "negclip swaps": PlantConfig(backend="negclip"),
    # each subset compared with negatives of its own kind: attributes for replace_att, and so on
    "concrete, the subset's own role": {subset: PlantConfig(strategy="concrete", role_weights=((role, 1.0),))
                                        for subset, role in zip(SUBSETS, "OAR")},
}


def sugarcrepe() -> tuple[list[str], dict[str, list[tuple[str, str]]], set[str]]:
    """Unique captions of all seven files, the (caption, negative) pairs of the replace subsets, all texts."""
    captions, seen, texts = [], set(), set()
    pairs: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((FIXTURES / "sugarcrepe").glob("*.json")):
        for item in json.loads(path.read_text()).values():
            cap = item["caption"].strip()
            texts |= {cap, item["negative_caption"].strip()}
            if cap not in seen:
                seen.add(cap)
                captions.append(cap)
            if path.stem in SUBSETS:
                pairs.setdefault(path.stem, []).append((cap, item["negative_caption"].strip()))
    return captions, pairs, texts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default=";".join(RUNS), help="run names separated by ';'")
    ap.add_argument("--judges", default="bigram,unigram-web,minilm-knn")
    ap.add_argument("--examples", type=Path, help="write 30 random examples per run here (Markdown)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--hf-model", help="add a run with the hf backend (a local instruction-tuned LLM directory)")
    ap.add_argument("--openai-url", help="add a run with the openai backend at this base URL (with --openai-model)")
    ap.add_argument("--openai-model")
    args = ap.parse_args(argv)
    from slipform.plant import LLMConfig

    if args.hf_model:
        RUNS["hf"] = PlantConfig(backend="hf", llm=LLMConfig(model=args.hf_model))
        args.runs += ";hf"
    if args.openai_url:
        RUNS["openai"] = PlantConfig(backend="openai", llm=LLMConfig(model=args.openai_model, base_url=args.openai_url))
        args.runs += ";openai"
    captions, pairs, texts = sugarcrepe()
    judges = make_judges(texts, tuple(args.judges.split(",")))
    tmp = Path(tempfile.mkdtemp(prefix="slipform-quality-"))
    src = tmp / "captions.jsonl"
    src.write_text("".join(json.dumps({"id": str(i), "caption": c}) + "\n" for i, c in enumerate(captions)))
    reference = {}
    for subset, items in pairs.items():
        caps, negs = [c for c, _ in items], [n for _, n in items]
        reference[subset] = {j.name: blind_accuracy(j, caps, negs) for j in judges}
    results, sections, rng = {}, [], random.Random(0)
    for name in args.runs.split(";"):
        configs = RUNS[name] if isinstance(RUNS[name], dict) else {s: RUNS[name] for s in SUBSETS}
        planted: dict[PlantConfig, tuple] = {}
        for config in set(configs.values()):
            out = tmp / f"{len(results)}-{len(planted)}.jsonl"
            summary = plant_file(src, out, config, workers=args.workers, progress=False)
            recs = [json.loads(line) for line in out.read_text().splitlines()]
            first: dict[str, dict] = {}
            for r in recs:
                first.setdefault(captions[int(r["id"])], r)
            planted[config] = (summary, recs, first)
        summary, recs, negative = planted[configs[SUBSETS[0]]]
        rated = [r["concreteness"] for r in negative.values() if r["concreteness"] is not None]
        plaus = [r["plausibility"] for r in negative.values() if r.get("plausibility") is not None]
        row = {"coverage": 100 * summary.planted / summary.read,
               # one edit: one place changed, or a swap that rearranges the caption's words (route="anchor")
               "one_change": 100 * float(np.mean([is_swap(r["caption"], r["negative"]) if r.get("edit") == "swap"
                                                  else is_single_change(r["caption"], r["negative"])
                                                  for r in negative.values()])),
               "concreteness": float(np.mean(rated)), "plausibility": float(np.mean(plaus)) if plaus else None,
               "subsets": {}}
        for subset, items in pairs.items():
            negative = planted[configs[subset]][2]
            keep = [k for k, (c, _) in enumerate(items) if c in negative]
            caps = [items[k][0] for k in keep]
            ours_neg = [negative[c]["negative"] for c in caps]
            cell = {"n": len(keep), "of": len(items)}
            for j in judges:
                ours = blind_accuracy(j, caps, ours_neg)
                theirs = reference[subset][j.name][keep]
                diff, lo, hi = paired_interval(ours, theirs)
                cell[j.name] = {"ours": 100 * ours.mean(), "sugarcrepe": 100 * theirs.mean(), "diff": diff,
                                "ci": [lo, hi]}
            row["subsets"][subset] = cell
        results[name] = row
        _print_row(name, row, [j.name for j in judges])
        lines = [f"## {name}", "", "| role | target -> replacement | plausibility | negative |", "|---|---|---|---|"]
        for r in rng.sample(recs, min(30, len(recs))):
            c = "" if r["concreteness"] is None else f" ({r['concreteness']})"
            p = "" if r.get("plausibility") is None else f"{r['plausibility']:.2f}"
            lines.append(f"| {r['role']} | {r['target']}{c} -> {r['replacement']} | {p} | {r['negative'].strip()} |")
        sections.append("\n".join(lines))
    if args.examples:
        head = ("# Planted negatives: 30 random examples per run\n\nMade by `python bench/plant_quality.py "
                f"--examples {args.examples}` on the 4,345 unique captions of SugarCrepe's files (real COCO "
                "captions, fixtures/sugarcrepe), seed 0. The caption is the negative with the target put back; "
                "plausibility is the mean log-probability of the replacement in the target's slot "
                "(`slipform.plant.knowledge.plausibility`).\n")
        args.examples.write_text(head + "\n\n" + "\n\n".join(sections) + "\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def _print_row(name: str, row: dict, judge_names: list[str]) -> None:
    p = "-" if row["plausibility"] is None else f"{row['plausibility']:.2f}"
    print(f"\n## {name}: coverage {row['coverage']:.1f}%, one change {row['one_change']:.1f}%, "
          f"concreteness {row['concreteness']:.2f}, plausibility {p}")
    print("| subset | n | " + " | ".join(f"{j}: ours / SugarCrepe (diff, 95% CI)" for j in judge_names) + " |")
    print("|---|---|" + "---|" * len(judge_names))
    for subset, cell in row["subsets"].items():
        parts = [f"{cell[j]['ours']:.1f} / {cell[j]['sugarcrepe']:.1f} ({cell[j]['diff']:+.1f}, "
                 f"{cell[j]['ci'][0]:+.1f}..{cell[j]['ci'][1]:+.1f})" for j in judge_names]
        print(f"| {subset} | {cell['n']}/{cell['of']} | " + " | ".join(parts) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
