"""A blind reader audit of planted negatives: make the shuffled items, then score the readers.

    python bench/audit.py make audit/              # plant, sample, shuffle: items-*.jsonl + key.json
    (give each items file and READERS.md to two readers; each writes ratings-<reader>-<part>.jsonl)
    python bench/audit.py score audit/             # the table for docs/BENCHMARKS.md

What the readers judge is what makes a negative good: *fluent* (grammatical, the right word
class), *plausible* (a photo like it could exist), *contradicts* (a photo of the original makes it
false: not a synonym, a more general word, or a change no photo could show). Good = all three.
No judge built on the planter's own evidence (slot counts, MiniLM neighbours, n-grams) is used.

Sources mixed in each file, the source hidden (items are shuffled and numbered afresh):

- ``sugarcrepe``: SugarCrepe's own negatives (replace_obj / replace_att / replace_rel), the
  reference (LLM-written, then human-checked);
- ``ours-sugarcrepe``: ours for the same captions, planted from all 4,345 unique captions of
  SugarCrepe's files as bench/plant_quality.py plants them;
- ``ours-sample``: ours on the bundled 500-caption sample (``slipform plant``'s default input);
- ``ours-negclip``: ours on a small file, 150 titles of NegCLIP's COCO validation TSV.

Lexical backend, concrete strategy, seed 0, the package defaults otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from judges import FIXTURES  # noqa: E402
from plant_quality import SUBSETS, sugarcrepe  # noqa: E402

RUBRIC = """# Rating captions

Each item is a photo's caption (ORIGINAL) and an ALTERED caption that differs from it. Imagine the
photo the original describes. For each item answer three questions with true or false:

- fluent: the altered caption is grammatical English and each word is of the right word class.
- plausible: a photo like the altered caption could exist (a normal scene, nothing absurd).
- contradicts: a photo of the ORIGINAL makes the altered caption false. Answer false when the
  altered caption could still be true of that photo: a synonym, a more general word (dog -> animal),
  a more specific one the photo could still fit (people -> women), or a change no photo could show.

Write one JSON line per item: {"id": <id>, "fluent": true|false, "plausible": true|false,
"contradicts": true|false}. Rate every item, independently, in the order given.
"""


def _plant(captions: list[str], tmp: Path, name: str) -> dict[str, dict]:
    from slipform.plant import PlantConfig, plant_file

    src = tmp / f"{name}.jsonl"
    src.write_text("".join(json.dumps({"id": str(i), "caption": c}) + "\n" for i, c in enumerate(captions)))
    out = tmp / f"{name}-neg.jsonl"
    plant_file(src, out, PlantConfig(strategy="concrete", seed=0), progress=False)
    first: dict[str, dict] = {}
    for line in out.read_text().splitlines():
        r = json.loads(line)
        first.setdefault(captions[int(r["id"])], r)
    return first


# the seeds of the audit rounds so far: their NegCLIP titles are held out of the shipped priors
# (bench/build_context_prior.py); a new round takes a new seed, so that it reads captions that no
# rule was written against (round 4: seed 4; round 5: seed 5; round 6: seed 6)
AUDIT_SEEDS = (0, 4, 5, 6)


def negclip_titles(n: int = 150, seed: int = 0) -> list[str]:
    with open(FIXTURES / "negclip" / "valid_neg_clip.tsv", newline="") as f:
        titles = sorted({row["title"].strip() for row in csv.DictReader(f, delimiter="\t")})
    return random.Random(seed).sample(titles, n)


def make(folder: Path, per_source: int, parts: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="slipform-audit-"))
    captions, pairs, _ = sugarcrepe()
    ours_sc = _plant(captions, tmp, "sugarcrepe")
    items = []
    per_subset, taken = per_source // len(SUBSETS), set()
    for subset in SUBSETS:
        both = [(c, n) for c, n in pairs[subset] if c in ours_sc and c not in taken]
        for cap, neg in rng.sample(both, per_subset):
            taken.add(cap)
            r = ours_sc[cap]
            items.append(dict(source="sugarcrepe", subset=subset, original=cap, altered=neg))
            items.append(dict(source="ours-sugarcrepe", subset=subset, original=cap, altered=r["negative"],
                              role=r["role"], target=r["target"], replacement=r["replacement"]))
    sample = Path(__file__).parents[1] / "src" / "slipform" / "data" / "coco_captions_sample.txt"
    for name, caps in (("ours-sample", sample.read_text().splitlines()), ("ours-negclip", negclip_titles(seed=seed))):
        ours = _plant([c for c in caps if c.strip()], tmp, name)
        for cap in rng.sample(sorted(ours), min(per_source, len(ours))):
            r = ours[cap]
            items.append(dict(source=name, original=cap, altered=r["negative"], role=r["role"], target=r["target"],
                              replacement=r["replacement"]))
    rng.shuffle(items)
    folder.mkdir(parents=True, exist_ok=True)
    key = {}
    for part in range(parts):
        chunk = items[part::parts]
        with open(folder / f"items-{part + 1}.jsonl", "w") as f:
            for k, it in enumerate(chunk):
                uid = f"{part + 1}-{k + 1}"
                key[uid] = it
                f.write(json.dumps({"id": uid, "original": it["original"], "altered": it["altered"]}) + "\n")
    (folder / "key.json").write_text(json.dumps(key, indent=1))
    (folder / "READERS.md").write_text(RUBRIC)
    counts = defaultdict(int)
    for it in items:
        counts[it["source"]] += 1
    print(f"{len(items)} items in {parts} files under {folder}: {dict(counts)}")


def _kappa(a: list[bool], b: list[bool]) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    po = float(np.mean(a == b))
    pe = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
    return (po - pe) / (1 - pe) if pe < 1 else 1.0


def score(folder: Path, examples: int = 6) -> dict:
    key = json.loads((folder / "key.json").read_text())
    ratings: dict[str, dict[str, dict]] = defaultdict(dict)  # reader -> id -> rating
    for path in sorted(folder.glob("ratings-*.jsonl")):
        reader = path.stem.split("-")[1]
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                ratings[reader][str(r["id"])] = {q: bool(r[q]) for q in ("fluent", "plausible", "contradicts")}
            except (ValueError, KeyError, TypeError) as e:
                print(f"{path}:{n}: skipped ({e})", file=sys.stderr)
    readers = sorted(ratings)
    rows, agree = {}, {}
    by_source = defaultdict(list)
    for uid, it in key.items():
        rated = [ratings[r][uid] for r in readers if uid in ratings[r]]
        if len(rated) >= 2:
            by_source[it["source"]].append((uid, it, rated[:2]))
    good = lambda x: x["fluent"] and x["plausible"] and x["contradicts"]  # noqa: E731
    all_a, all_b = [], []
    for source, entries in sorted(by_source.items()):
        n = len(entries)
        both = [good(a) and good(b) for _, _, (a, b) in entries]
        row = {"n": n, "good_both": 100 * np.mean(both),
               "good_each": [100 * np.mean([good(x[k]) for _, _, x in entries]) for k in (0, 1)]}
        for q in ("fluent", "plausible", "contradicts"):
            row[q] = [100 * np.mean([x[k][q] for _, _, x in entries]) for k in (0, 1)]
        a, b = [good(x[0]) for _, _, x in entries], [good(x[1]) for _, _, x in entries]
        all_a += a
        all_b += b
        row["agree"] = 100 * np.mean(np.equal(a, b))
        # 95% interval for good (both) by the Wilson score
        p, z = np.mean(both), 1.96
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        row["ci"] = [100 * (centre - half), 100 * (centre + half)]
        subsets = defaultdict(list)
        for (_, it, _), g in zip(entries, both):
            subsets[it.get("subset") or it.get("role", "?")].append(g)
        row["by"] = {k: round(100 * np.mean(v)) for k, v in sorted(subsets.items())}
        row["rejected"] = [f"{it['original']} -> {it['altered']}" for (_, it, _), g in zip(entries, both) if not g][:examples]
        row["accepted"] = [f"{it['original']} -> {it['altered']}" for (_, it, _), g in zip(entries, both) if g][:examples]
        rows[source] = row
    agree = {"good": 100 * float(np.mean(np.equal(all_a, all_b))), "kappa": _kappa(all_a, all_b)}
    print(f"readers: {', '.join(readers)}; agreement on good {agree['good']:.0f}% (Cohen's kappa {agree['kappa']:.2f})")
    print("| source | n | good (both readers) | 95% CI | by subset / role | fluent | plausible | contradicts |")
    print("|---|---|---|---|---|---|---|---|")
    for source, r in rows.items():
        fmt = lambda v: "–".join(f"{x:.0f}" for x in v)  # noqa: E731
        print(f"| {source} | {r['n']} | **{r['good_both']:.0f}%** | {r['ci'][0]:.0f}–{r['ci'][1]:.0f} | "
              f"{r['by']} | {fmt(r['fluent'])} | {fmt(r['plausible'])} | {fmt(r['contradicts'])} |")
    for source, r in rows.items():
        print(f"\n{source}, rejected by a reader:", *r["rejected"], sep="\n  ")
    return {"readers": readers, "agreement": agree, "sources": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("action", choices=("make", "score"))
    ap.add_argument("folder", type=Path)
    ap.add_argument("--per-source", type=int, default=120)
    ap.add_argument("--parts", type=int, default=2)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--seed", type=int, default=0, help="which captions are drawn (one of AUDIT_SEEDS)")
    args = ap.parse_args(argv)
    if args.action == "make":
        if args.seed not in AUDIT_SEEDS:
            ap.error(f"--seed {args.seed}: add it to AUDIT_SEEDS and rebuild the priors first")
        make(args.folder, args.per_source, args.parts, args.seed)
        return 0
    result = score(args.folder)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
