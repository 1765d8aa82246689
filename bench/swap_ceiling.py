"""How many real captions offer a good swap at all: people write them, other people rate them.

    python bench/swap_ceiling.py make DIR --seed 9 --n 160   # captions.jsonl + WRITERS.md (+ ours, hidden)
    (two writers each read WRITERS.md and captions.jsonl and write writes-<W>.jsonl)
    python bench/swap_ceiling.py rate DIR                   # items.jsonl: the writers' swaps and ours, shuffled
    (two readers each read READERS.md and items.jsonl and write ratings-<R>.jsonl)
    python bench/swap_ceiling.py score DIR                  # the table for docs/BENCHMARKS.md

Issue 28 asks that swaps (attribute or argument exchanges) make at least 10% of the negatives, and
also that no swap be made where a caption offers no plausible one. Our planter makes swaps for 2-5%
of captions. Whether the rest is our recall or the captions' is a question about the captions, so
it is asked of people, not of the planter's evidence: two writers, who see only the captions and
the rules of a swap, write one swap per caption where they find a good one and NONE where they do
not; two other readers then rate every written swap and every swap of ours on those captions,
shuffled together with the source hidden, by the audit's rubric (fluent, plausible, contradicts).

The ceiling is the share of captions for which a writer's swap is rated good by both readers; our
recall is the share of those captions for which ours is a good swap too.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from audit import AUDIT_SEEDS, RUBRIC, _kappa, _plant, negclip_titles  # noqa: E402

WRITERS = """# Writing swapped captions

Each line of captions.jsonl is a photo's caption. For each caption, try to write ONE altered caption
that *swaps*: it rearranges what the caption already says, with no new content word, in one of
these ways:

- two things exchange an attribute: "a red car next to a white truck" -> "a white car next to a
  red truck"; "a small dog on a large bed" -> "a large dog on a small bed"; "two cats and a dog"
  -> "a cat and two dogs";
- two things exchange their places in a relation or action: "a cat to the left of a dog" -> "a
  dog to the left of a cat"; "a man walking behind a woman" -> "a woman walking behind a man";
- two things exchange what the caption says of them: "a man in a hat next to a girl holding a
  kite" -> "a girl in a hat next to a man holding a kite".

Small grammatical changes are allowed (a/an, is/are, singular/plural, his/her). The altered caption
must be:

- fluent: grammatical English;
- plausible: a normal photo like it could exist (no "a horse riding a man", no "a plate on a pizza");
- contradicting: a photo of the ORIGINAL caption makes the altered one false ("a dog and a cat" ->
  "a cat and a dog" says the same and does not count; nor does "a cat next to a dog" -> "a dog next
  to a cat").

Do not force it: where no such swap would be fluent, plausible and contradicting, write NONE.
Most captions may have none. Work on your own; do not look at any other file.

Write one JSON line per caption, in the order given: {"id": <id>, "swap": "<altered caption>"} or
{"id": <id>, "swap": null}.
"""


def captions(seed: int, n: int) -> list[str]:
    """``n`` NegCLIP COCO titles drawn with ``seed``, none of them read in an earlier audit round or
    in bench/plant_balance.py's input or in an earlier batch of this study."""
    if seed in AUDIT_SEEDS:
        raise SystemExit(f"seed {seed} was an audit round's: take a new one")
    from plant_balance import inputs

    used = {t for s in AUDIT_SEEDS for t in negclip_titles(seed=s)} | set(inputs()["coco"])  # and the bench's titles
    for earlier in Path(__file__).resolve().parents[1].glob("docs/audit/swap-ceiling*/captions.jsonl"):
        used |= {json.loads(line)["caption"] for line in earlier.read_text().splitlines()}  # and earlier batches
    pool = [t for t in negclip_titles(n=len(used) + 4 * n, seed=seed) if t not in used]
    return pool[:n]


def make(folder: Path, seed: int, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    caps = captions(seed, n)
    with open(folder / "captions.jsonl", "w") as f:
        for i, c in enumerate(caps):
            f.write(json.dumps({"id": i, "caption": c}) + "\n")
    (folder / "WRITERS.md").write_text(WRITERS)
    ours = _plant(caps, Path(tempfile.mkdtemp(prefix="slipform-ceiling-")), "ceiling")
    key = {str(i): {k: ours[c].get(k) for k in ("negative", "edit", "role", "target", "replacement")}
           for i, c in enumerate(caps) if c in ours}
    (folder / "ours.json").write_text(json.dumps(key, indent=1))
    print(f"{len(caps)} captions (seed {seed}); ours: {len(key)} negatives, "
          f"{sum(r['edit'] == 'swap' for r in key.values())} swaps")


def _writes(folder: Path) -> dict[str, dict[int, str | None]]:
    out = {}
    for path in sorted(folder.glob("writes-*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        out[path.stem[len("writes-"):]] = {int(r["id"]): (r.get("swap") or None) for r in rows}
    return out


def rate(folder: Path, seed: int = 0) -> None:
    caps = [json.loads(line)["caption"] for line in (folder / "captions.jsonl").read_text().splitlines()]
    ours = json.loads((folder / "ours.json").read_text())
    items = []
    for writer, swaps in _writes(folder).items():
        items += [(i, f"writer-{writer}", s) for i, s in swaps.items() if s and s.strip() != caps[i].strip()]
    items += [(int(i), "ours", r["negative"]) for i, r in ours.items() if r["edit"] == "swap"]
    random.Random(seed).shuffle(items)
    key = {}
    with open(folder / "items.jsonl", "w") as f:
        for k, (i, source, altered) in enumerate(items, 1):
            key[str(k)] = {"caption": i, "source": source}
            f.write(json.dumps({"id": k, "original": caps[i], "altered": altered}) + "\n")
    (folder / "key.json").write_text(json.dumps(key, indent=1))
    (folder / "READERS.md").write_text(RUBRIC)
    print(f"{len(items)} items to rate")


def score(folder: Path) -> dict:
    caps = [json.loads(line)["caption"] for line in (folder / "captions.jsonl").read_text().splitlines()]
    key = json.loads((folder / "key.json").read_text())
    ratings = {}
    for path in sorted(folder.glob("ratings-*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        ratings[path.stem] = {str(r["id"]): all(bool(r.get(q)) for q in ("fluent", "plausible", "contradicts"))
                              for r in rows}
    if len(ratings) != 2:
        raise SystemExit(f"need two readers' ratings, found {sorted(ratings)}")
    (ra, a), (rb, b) = sorted(ratings.items())
    missing = [k for k in key if k not in a or k not in b]
    if missing:
        raise SystemExit(f"items not rated by both readers: {missing[:10]}")
    good = {k: a[k] and b[k] for k in key}
    agree = sum(a[k] == b[k] for k in key) / len(key)
    n = len(caps)
    by_source: dict[str, set[int]] = {}
    written: dict[str, int] = {}
    for k, it in key.items():
        written[it["source"]] = written.get(it["source"], 0) + 1
        if good[k]:
            by_source.setdefault(it["source"], set()).add(it["caption"])
    human = set().union(*(v for s, v in by_source.items() if s.startswith("writer-")))
    ours = by_source.get("ours", set())
    res = {"captions": n, "agreement": agree, "kappa": _kappa([a[k] for k in key], [b[k] for k in key]),
           "written": written, "good": {s: len(v) for s, v in by_source.items()},
           "ceiling_any_writer": len(human) / n, "ours_good": len(ours) / n,
           "recall": len(ours & human) / len(human) if human else None,
           "ours_not_human": len(ours - human)}
    print(f"{n} captions; readers agree on good for {100 * agree:.0f}% of {len(key)} items "
          f"(kappa {res['kappa']:.2f})")
    print("| source | swaps written | good (both readers) | good, share of captions |")
    print("|---|---|---|---|")
    for s in sorted(written):
        g = len(by_source.get(s, set()))
        print(f"| {s} | {written[s]} | {g} ({100 * g / written[s]:.0f}%) | {100 * g / n:.1f}% |")
    print(f"| any writer | | {len(human)} | **{100 * len(human) / n:.1f}%** (the ceiling) |")
    if human:
        print(f"ours is a good swap for {len(ours & human)} of the {len(human)} captions with a good human swap "
              f"(recall {100 * res['recall']:.0f}%); for {len(ours - human)} captions only ours is good")
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=("make", "rate", "score"))
    ap.add_argument("folder", type=Path)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--n", type=int, default=160)
    args = ap.parse_args(argv)
    if args.command == "make":
        make(args.folder, args.seed, args.n)
    elif args.command == "rate":
        rate(args.folder)
    else:
        res = score(args.folder)
        (args.folder / "result.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
