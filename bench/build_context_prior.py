"""Count the shipped context prior (src/slipform/data/context_prior.json) from the repository's captions.

    python bench/build_context_prior.py

Captions: VALSE's (fixtures/valse, MIT) and the titles of NegCLIP's COCO validation file
(fixtures/negclip, MIT), without any caption of SugarCrepe (fixtures/sugarcrepe), of the bundled
sample or of bench/audit.py's NegCLIP samples (every round's seed): the blind audit reads none of the captions counted.
Only pairs seen in two captions or more are kept (the model asks for three).

The same captions, parsed by spaCy, give the relation prior (src/slipform/data/relation_prior.json,
:mod:`slipform.plant.knowledge.relations`): which things fill which grammatical slots ("fly>dobj": kite).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from audit import AUDIT_SEEDS, negclip_titles  # noqa: E402
from plant_quality import sugarcrepe  # noqa: E402
from slipform.plant.knowledge.context import ContextModel  # noqa: E402
from slipform.plant.knowledge.relations import RelationModel  # noqa: E402
from slipform.text.nlp import load_nlp  # noqa: E402


def corpus() -> list[str]:
    held_out = set(sugarcrepe()[0]) | {t for seed in AUDIT_SEEDS for t in negclip_titles(seed=seed)}
    held_out |= set((ROOT / "src/slipform/data/coco_captions_sample.txt").read_text().splitlines())
    held_out = {c.strip().lower() for c in held_out}
    caps = []
    for path in sorted((ROOT / "fixtures/valse").glob("*.json")):
        caps += [item["caption"] for item in json.loads(path.read_text()).values() if item.get("caption")]
    with open(ROOT / "fixtures/negclip/valid_neg_clip.tsv", newline="") as f:
        caps += [row["title"] for row in csv.DictReader(f, delimiter="\t")]
    seen, out = set(), []
    for c in caps:
        key = c.strip().lower()
        if key and key not in held_out and key not in seen:
            seen.add(key)
            out.append(c.strip())
    return out


def main() -> int:
    model = ContextModel()
    caps = corpus()
    for c in caps:
        model.add(c)
    d = model.to_dict()
    d["pairs"] = {t: {w: n for w, n in sorted(c.items()) if n >= 2} for t, c in d["pairs"].items()}
    kept = {w for c in d["pairs"].values() for w in c}
    d["words"] = {w: n for w, n in d["words"].items() if w in kept}
    d["source"] = ("bench/build_context_prior.py: captions of VALSE and of NegCLIP's COCO validation file "
                   "(MIT; fixtures/), held-out captions excluded")
    out = ROOT / "src/slipform/data/context_prior.json"
    out.write_text(json.dumps(d, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{len(caps)} captions, {len(d['things'])} things, {sum(map(len, d['pairs'].values()))} pairs -> {out} "
          f"({out.stat().st_size // 1024} KiB)")
    relations = RelationModel()
    for doc in load_nlp().pipe(caps, batch_size=256):
        relations.add(doc)
    out = ROOT / "src/slipform/data/relation_prior.json"
    d = {"slots": relations.to_dict(), "captions": len(caps),
         "source": "bench/build_context_prior.py: dependency slots of the context prior's captions (spaCy "
                   "en_core_web_sm), held-out captions excluded"}
    out.write_text(json.dumps(d, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{len(d['slots'])} slots, {sum(map(len, d['slots'].values()))} (slot, word) pairs -> {out} "
          f"({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
