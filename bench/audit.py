"""A blind reader audit of planted negatives: make the shuffled items, then score the readers.

    python bench/audit.py make audit/ --seed 7     # plant, sample, shuffle: items-*.jsonl + key.json
    (give each items file and READERS.md to two readers; each writes ratings-<reader>-<part>.jsonl)
    python bench/audit.py score audit/             # the table for docs/BENCHMARKS.md

What the readers judge is what makes a negative good: *fluent* (grammatical, the right word
class), *plausible* (a photo like it could exist), *contradicts* (a photo of the original makes it
false: not a synonym, a more general word, or a change no photo could show). Good = all three.
No judge built on the planter's own evidence (slot counts, MiniLM neighbours, n-grams) is used.

Sources mixed in each file, the source hidden (items are shuffled and numbered afresh), per route
family (round 7 on: *replace*, *attribute swap*, *relation/argument swap*, :func:`family`):

- ``sugarcrepe``: SugarCrepe's own negatives of the family's subsets (replace_obj / replace_att /
  replace_rel; swap_att; swap_obj), the reference (LLM-written, then human-checked);
- ``ours-sugarcrepe``: ours planted from all 4,345 unique captions of SugarCrepe's files;
- ``ours-sample``: ours on the bundled 500-caption sample (``slipform plant``'s default input);
- ``ours-negclip``: ours on titles of NegCLIP's COCO validation TSV (150 a round; 400 in round 7),
  held out of the shipped priors (:data:`AUDIT_SEEDS`);
- ``ours-sugarcrepe-pp``: ours on the ``caption2`` field of SugarCrepe++ (fixtures/sugarcrepe_pp: a
  second real COCO caption of each image), the held-out COCO-style input of round 8 on
  (``--sources sugarcrepe,sample,sugarcrepe-pp``): no rule was tuned on it.

Ours are drawn from the three sources in turn, up to ``--per-family`` per family.
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
from plant_quality import sugarcrepe  # noqa: E402

RUBRIC = """# Rating captions

Each item is a photo's caption (ORIGINAL) and an ALTERED caption that differs from it. Imagine the
photo the original describes. For each item answer three questions with true or false:

- fluent: the altered caption is grammatical English and each word is of the right word class.
- plausible: a photo like the altered caption could exist (a normal scene, nothing absurd).
- contradicts: a photo of the ORIGINAL makes the altered caption false. Answer false when the
  altered caption could still be true of that photo: a synonym, a more general word (dog -> animal),
  a more specific one the photo could still fit (people -> women), or a change no photo could show.

Some altered captions use the caption's own words in another arrangement ("a red car next to a
white truck" -> "a white car next to a red truck"); judge them by the same three questions.

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
AUDIT_SEEDS = (0, 4, 5, 6, 7)
# round 7 reads more titles: its swaps are a few percent of the negatives
AUDIT_TITLES = {7: 400}


def negclip_titles(n: int | None = None, seed: int = 0) -> list[str]:
    n = AUDIT_TITLES.get(seed, 150) if n is None else n
    with open(FIXTURES / "negclip" / "valid_neg_clip.tsv", newline="") as f:
        titles = sorted({row["title"].strip() for row in csv.DictReader(f, delimiter="\t")})
    return random.Random(seed).sample(titles, n)


FAMILIES = ("replace", "attribute swap", "relation/argument swap")
# SugarCrepe's own negatives of the matching subsets
THEIRS = {"replace": ("replace_obj", "replace_att", "replace_rel"), "attribute swap": ("swap_att",),
          "relation/argument swap": ("swap_obj",)}


def family(rec: dict) -> str:
    """A negative's route family: a replacement (any role), an attribute swap, or a relation or
    argument swap (an exchange around the anchor's relation)."""
    if rec.get("edit") != "swap":
        return "replace"
    return "attribute swap" if rec.get("role") == "A" else "relation/argument swap"


def _sugarcrepe_pairs(subset: str) -> list[tuple[str, str]]:
    data = json.loads((FIXTURES / "sugarcrepe" / f"{subset}.json").read_text())
    return [(item["caption"].strip(), item["negative_caption"].strip()) for item in data.values()]


def sugarcrepe_pp_captions() -> list[str]:
    """The unique ``caption2`` of SugarCrepe++'s five files (fixtures/sugarcrepe_pp), in file order."""
    seen: dict[str, None] = {}
    for path in sorted((FIXTURES / "sugarcrepe_pp").glob("*.json")):
        for item in json.loads(path.read_text()):
            cap = str(item.get("caption2", "")).strip()
            if cap:
                seen.setdefault(cap, None)
    return list(seen)


SOURCES = ("sugarcrepe", "sample", "negclip", "sugarcrepe-pp")


def make(folder: Path, per_family: int, theirs: int, parts: int, seed: int = 0,
         sources: tuple[str, ...] = ("sugarcrepe", "sample", "negclip")) -> None:
    """Items per route family: ``per_family`` of ours, drawn in turn from the three sources, and
    ``theirs`` of SugarCrepe's own of the matching subsets; shuffled, numbered afresh, split in
    ``parts`` files."""
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="slipform-audit-"))
    sample = Path(__file__).parents[1] / "src" / "slipform" / "data" / "coco_captions_sample.txt"
    readers = {"sugarcrepe": lambda: sugarcrepe()[0],
               "sample": lambda: [c for c in sample.read_text().splitlines() if c.strip()],
               "negclip": lambda: negclip_titles(seed=seed), "sugarcrepe-pp": sugarcrepe_pp_captions}
    unknown = set(sources) - set(readers)
    if unknown:
        raise ValueError(f"unknown audit sources {sorted(unknown)}; choose from {SOURCES}")
    sources = {f"ours-{name}": readers[name]() for name in sources}
    pools: dict[str, dict[str, list]] = {f: {} for f in FAMILIES}
    for name, caps in sources.items():
        for cap, r in _plant(caps, tmp, name).items():
            pools[family(r)].setdefault(name, []).append((cap, r))
    items = []
    for fam in FAMILIES:
        lists = {name: rng.sample(v, len(v)) for name, v in sorted(pools[fam].items())}
        taken = 0
        while taken < per_family and any(lists.values()):
            for name in sorted(lists):  # in turn, so that every source is read
                if lists[name] and taken < per_family:
                    cap, r = lists[name].pop()
                    items.append(dict(source=name, family=fam, original=cap, altered=r["negative"], role=r["role"],
                                      edit=r.get("edit"), target=r["target"], replacement=r["replacement"]))
                    taken += 1
        subsets = THEIRS[fam]
        for k, subset in enumerate(subsets):
            n = theirs // len(subsets) + (k < theirs % len(subsets))
            for cap, neg in rng.sample(_sugarcrepe_pairs(subset), n):
                items.append(dict(source="sugarcrepe", family=fam, subset=subset, original=cap, altered=neg))
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
        counts[it["family"], it["source"]] += 1
    print(f"{len(items)} items in {parts} files under {folder}:")
    for (fam, src), n in sorted(counts.items()):
        print(f"  {fam:24s} {src:16s} {n}")


def _kappa(a: list[bool], b: list[bool]) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    po = float(np.mean(a == b))
    pe = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
    return (po - pe) / (1 - pe) if pe < 1 else 1.0


def _group(it: dict) -> str:
    """An item's row: its route family and whose negative it is (round 7 on), else its source."""
    if it.get("family"):
        return f"{it['family']} / {'ours' if it['source'].startswith('ours') else 'sugarcrepe'}"
    return it["source"]


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
            by_source[_group(it)].append((uid, it, rated[:2]))
            if it.get("family") and it["source"].startswith("ours"):
                by_source["ours, all families"].append((uid, it, rated[:2]))
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
            subsets[it.get("subset") or (it["source"] if it.get("family") else it.get("role", "?"))].append(g)
        row["by"] = {k: round(100 * np.mean(v)) for k, v in sorted(subsets.items())}
        row["rejected"] = [f"{it['original']} -> {it['altered']}" for (_, it, _), g in zip(entries, both) if not g][:examples]
        row["accepted"] = [f"{it['original']} -> {it['altered']}" for (_, it, _), g in zip(entries, both) if g][:examples]
        rows[source] = row
    agree = {"good": 100 * float(np.mean(np.equal(all_a, all_b))), "kappa": _kappa(all_a, all_b)}
    for source, r in rows.items():
        if source != "ours, all families":
            agree[source] = r["agree"]
    print(f"readers: {', '.join(readers)}; agreement on good {agree['good']:.0f}% (Cohen's kappa {agree['kappa']:.2f})")
    print("| source | n | good (both readers) | 95% CI | by subset / role | fluent | plausible | contradicts |")
    print("|---|---|---|---|---|---|---|---|")
    for source, r in rows.items():
        fmt = lambda v: "–".join(f"{x:.0f}" for x in v)  # noqa: E731
        print(f"| {source} | {r['n']} | **{r['good_both']:.0f}%** | {r['ci'][0]:.0f}–{r['ci'][1]:.0f} | "
              f"{r['by']} | {fmt(r['fluent'])} | {fmt(r['plausible'])} | {fmt(r['contradicts'])} |")
    fams = sorted({k.split(" / ")[0] for k in rows if " / " in k})
    if fams:
        print("\n| route family | ours good | SugarCrepe's good | ours - SugarCrepe | agreement (ours, theirs) |")
        print("|---|---|---|---|---|")
        for fam in fams:
            o, t = rows.get(f"{fam} / ours"), rows.get(f"{fam} / sugarcrepe")
            if o and t:
                print(f"| {fam} | {o['good_both']:.0f}% (n={o['n']}) | {t['good_both']:.0f}% (n={t['n']}) | "
                      f"{o['good_both'] - t['good_both']:+.0f} | {o['agree']:.0f}%, {t['agree']:.0f}% |")
    for source, r in rows.items():
        if source != "ours, all families":
            print(f"\n{source}, rejected by a reader:", *r["rejected"], sep="\n  ")
    return {"readers": readers, "agreement": agree, "sources": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("action", choices=("make", "score"))
    ap.add_argument("folder", type=Path)
    ap.add_argument("--per-family", type=int, default=110, help="ours per route family")
    ap.add_argument("--theirs", type=int, default=80, help="SugarCrepe's own per route family")
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--seed", type=int, default=0, help="which captions are drawn (one of AUDIT_SEEDS)")
    ap.add_argument("--sources", default="sugarcrepe,sample,negclip",
                    help=f"where ours come from, comma-separated, of {SOURCES} (round 8: sugarcrepe,sample,sugarcrepe-pp)")
    args = ap.parse_args(argv)
    if args.action == "make":
        if args.seed not in AUDIT_SEEDS and "negclip" in args.sources.split(","):  # the seed draws NegCLIP's titles
            ap.error(f"--seed {args.seed}: add it to AUDIT_SEEDS and rebuild the priors first")
        make(args.folder, args.per_family, args.theirs, args.parts, args.seed, tuple(args.sources.split(",")))
        return 0
    result = score(args.folder)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
