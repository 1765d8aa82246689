"""Throughput of `slipform plant` (lexical backend) against bare spaCy `nlp.pipe`, in one run.

    python bench/plant_throughput.py --n 5000

Prints captions/s of (1) nlp.pipe with the same pipeline components, (2) `slipform plant`
with a cold cache (vocabulary pass and MiniLM word embeddings included), (3) plant with warm
caches and 1 worker, and (4) with 2 workers; and the ratios the issue sets targets for. Plant
runs as the CLI in its own process; its time is the run's own (after Python imports), read
from the summary it writes, in total and after loading (spaCy import and model, lexicon,
vocabulary, embeddings); nlp.pipe's excludes loading the model, so "loaded" is the like-for-like
ratio and "e2e" what a user waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from slipform.text.nlp import load_nlp  # noqa: E402

from corpus import write_captions  # noqa: E402


def timed_plant(src: Path, out: Path, workers: int) -> tuple[float, float]:
    """(seconds in total, seconds after loading) of `slipform plant` run as a user would, from its summary."""
    cmd = ["slipform", "plant", str(src), "-o", str(out), "--workers", str(workers), "--no-progress"]
    subprocess.run(cmd, check=True, capture_output=True)
    summary = json.loads(Path(str(out) + ".summary.json").read_text())
    assert summary["negatives"] > 0
    return summary["seconds"], summary["seconds"] - summary["startup_seconds"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="slipform-bench-"))
    os.environ["SLIPFORM_CACHE"] = str(tmp / "cache")
    src = write_captions(tmp / "captions.txt", args.n)
    texts = src.read_text().splitlines()

    nlp = load_nlp()
    list(nlp.pipe(texts[:200]))  # warm-up
    t = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=256):
        pass
    bare = time.perf_counter() - t

    cold, _ = timed_plant(src, tmp / "cold.jsonl", 1)
    warm_total, warm = timed_plant(src, tmp / "warm.jsonl", 1)
    two_total, two = timed_plant(src, tmp / "two.jsonl", 2)
    n = len(texts)
    print(f"captions: {n} (pipeline components: {', '.join(nlp.pipe_names)})")
    print(f"bare nlp.pipe                   {n / bare:7.1f} captions/s")
    print(f"plant, cold cache, end to end   {n / cold:7.1f} captions/s  (ratio {bare / cold:.2f})")
    print(f"plant, warm, 1 worker, e2e      {n / warm_total:7.1f} captions/s  (ratio {bare / warm_total:.2f})")
    print(f"plant, warm, 1 worker, loaded   {n / warm:7.1f} captions/s  (ratio {bare / warm:.2f}; target >= 0.75)")
    print(f"plant, warm, 2 workers, e2e     {n / two_total:7.1f} captions/s  (2 / 1 worker {warm_total / two_total:.2f})")
    print(f"plant, warm, 2 workers, loaded  {n / two:7.1f} captions/s  (2 / 1 worker {warm / two:.2f}; target >= 1.70)")
    where_the_time_goes(src, texts[:2000], nlp)
    shutil.rmtree(tmp, ignore_errors=True)


PARTS = {  # function -> what it is, for the profile's cumulative times
    "plant/core/planter.py:plant": "ConcretePlant.plant (everything after parsing)",
    "plant/core/planter.py:targets": "  candidates and target selection",
    "plant/lexical/routes/__init__.py:route_edit": "  the routes around the anchor (route=anchor)",
    "plant/lexical/rewriter.py:_neighbours": "  related words: similarity band, exclusions",
    "plant/knowledge/plausibility.py:score_many": "  plausibility of the options in the slot",
    "plant/knowledge/plausibility.py:slot_features": "  the target's slot features",
    "plant/core/edit.py:apply_edits": "  writing the negative",
    "plant/core/planter.py:_fill_similarity": "  similarity of target and replacement",
}


def where_the_time_goes(src: Path, texts: list[str], nlp) -> None:
    """Profile one worker's work on ``texts``: parsing vs each part of planting, as shares."""
    import cProfile
    import pstats

    from slipform.plant import Caption, ConcretePlant, PlantConfig
    from slipform.plant.engine.runner import build_vocabulary
    from slipform.text.io import Columns

    plant = ConcretePlant(PlantConfig(), build_vocabulary(src, None, Columns(), PlantConfig()))
    plant.backend.prepare()
    items = [Caption(str(i), t) for i, t in enumerate(texts)]
    plant.plant(items[:50], list(nlp.pipe(texts[:50])))  # one-time loads (MiniLM for new words) stay out
    prof = cProfile.Profile()
    prof.enable()
    docs = list(nlp.pipe(texts, batch_size=256))
    plant.plant(items, docs)
    prof.disable()
    stats = pstats.Stats(prof).stats
    total = sum(v[2] for v in stats.values())  # own time of every function = the whole run
    cum = {}
    for (file, _line, func), v in stats.items():
        for key in PARTS:
            path, name = key.split(":")
            if file.endswith(path) and func == name:
                cum[key] = cum.get(key, 0.0) + v[3]
    parse = total - cum.get("plant/core/planter.py:plant", 0.0)
    print(f"\nwhere the time goes (cProfile, 1 process, {len(texts)} captions; shares of the profiled run)")
    print(f"  {'spaCy nlp.pipe':<52} {100 * parse / total:5.1f}%")
    for key, label in PARTS.items():
        print(f"  {label:<52} {100 * cum.get(key, 0.0) / total:5.1f}%")


if __name__ == "__main__":
    main()
