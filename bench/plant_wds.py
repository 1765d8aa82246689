"""Planting from webdataset tars against planting the same captions from a text file, in one run.

    python bench/plant_wds.py --n 2000 --image-kb 200

Writes N real COCO captions (fixtures/, repeated) to a text file and, with the same keys order,
to 4 tar shards of img2dataset's layout (``.jpg`` of ~5 KB, ``.txt``, ``.json``); plants both with
the lexical backend in 1 process (``slipform plant``, each run its own process, caches warmed
first), ``--repeat`` times interleaved, and prints captions/s after loading (the run's own time
from its summary) and their ratio: the tar reader, the member copy and the ``.json`` rewrite
(``--output-format wds``) against reading lines (issue target: >= 0.9x).

Memory: the peak resident memory (ru_maxrss) of each run's process, and of a run over ONE
shard holding all N samples with ``--image-kb`` KB images (N x image-kb in one tar). Memory per
worker is bounded by a chunk (``--chunk-size`` samples' members), not by a shard, when the
big-image run's peak stays near the small-image run's plus about one chunk of images, far
below the shard's size.

The machine may be shared: the end-to-end rates then swing by 2x from run to run. The last line
isolates what reading tars adds: reading, screening and chunking the same captions without
planting, from the text file and from the tars with every member copied into new tars, in this
process; the extra milliseconds per caption bound the ratio whatever the noise.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import real_captions  # noqa: E402

RUN = ("import resource, sys; from slipform.cli import main; rc = main(sys.argv[1:]); "
       "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")


def jpeg(kb: int, seed: int) -> bytes:
    """A JPEG of about ``kb`` KB (noise compresses badly, so the size follows the side)."""
    import numpy as np
    from PIL import Image

    side = 16
    while True:
        pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "JPEG", quality=90)
        if buf.tell() >= kb * 1024 or side > 4096:
            return buf.getvalue()
        side = int(side * 1.3) + 1


def write_shards(folder: Path, captions: list[str], shards: int, kb: int) -> str:
    import webdataset as wds

    folder.mkdir(parents=True, exist_ok=True)
    image = jpeg(kb, 0)
    per = -(-len(captions) // shards)
    for s in range(shards):
        with wds.TarWriter(str(folder / f"{s:05d}.tar")) as w:
            for i in range(s * per, min(len(captions), (s + 1) * per)):
                w.write({"__key__": f"{i:09d}", "jpg": image, "txt": captions[i],
                         "json": {"key": f"{i:09d}", "status": "success"}})
    return str(folder / f"{{00000..{shards - 1:05d}}}.tar")


def plant(src: str, out: Path, *extra: str) -> dict:
    """One `slipform plant` in its own process: its summary, plus its peak resident memory (MB)."""
    cmd = [sys.executable, "-c", RUN, "plant", src, "-o", str(out), "--no-progress", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    summary = json.loads(Path(str(out) + ".summary.json").read_text())
    summary["peak_mb"] = int(done.stderr.rsplit("MAXRSS", 1)[1].split()[0]) / 1024
    summary["rate"] = summary["read"] / max(1e-9, summary["seconds"] - summary["startup_seconds"])
    return summary


def io_seconds(text: Path, spec: str, out: Path, chunk_size: int) -> tuple[float, float]:
    """Seconds to read, screen and chunk the captions, without planting: from the text file, and from
    the tars with every member copied into new tars (the work the engine adds around planting)."""
    import time

    from slipform.plant import PlantConfig
    from slipform.plant.core.planter import ConcretePlant
    from slipform.plant.engine.files import FileWriter, file_chunks, plan_files
    from slipform.plant.engine.source import Source
    from slipform.plant.engine.stream import chunks
    from slipform.text.shards import ShardColumns

    lexicon = ConcretePlant(PlantConfig()).lexicon
    t = time.perf_counter()
    for _ in chunks(Source(text), str(text), set(), lexicon, 128, chunk_size):
        pass
    text_s = time.perf_counter() - t
    t = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    for shard in plan_files(spec, None, ShardColumns(), "wds"):
        writer = FileWriter(out, shard, "wds", 20)
        for chunk, samples in file_chunks(shard, ShardColumns(), lexicon, 128, chunk_size, True):
            writer.add(samples, chunk, [], [], {})
        writer.commit()
    return text_s, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--image-kb", type=int, default=200, help="image size of the one-big-shard memory run")
    ap.add_argument("--chunk-size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="slipform-wds-"))
    os.environ["SLIPFORM_CACHE"] = str(tmp / "cache")
    caps = real_captions()
    captions = [caps[i % len(caps)] for i in range(args.n)]
    text = tmp / "captions.txt"
    text.write_text("".join(c + "\n" for c in captions))
    small = write_shards(tmp / "small", captions, 4, 5)
    big = write_shards(tmp / "big", captions, 1, args.image_kb)
    big_mb = (tmp / "big" / "00000.tar").stat().st_size / 2**20
    chunk = ["--chunk-size", str(args.chunk_size)]
    plant(str(text), tmp / "warm.jsonl", *chunk)  # the vocabulary and word embeddings, cached for both inputs
    plant(small, tmp / "warm-wds", "--output-format", "wds", *chunk)
    runs: dict[str, list[dict]] = {"text": [], "tars": []}
    for r in range(args.repeat):
        runs["text"].append(plant(str(text), tmp / f"text{r}.jsonl", *chunk))
        runs["tars"].append(plant(small, tmp / f"tars{r}", "--output-format", "wds", *chunk))
    big_run = plant(big, tmp / "big-out", "--output-format", "wds", *chunk)
    io_text, io_tars = io_seconds(text, small, tmp / "io", args.chunk_size)
    rate = {k: statistics.median(x["rate"] for x in v) for k, v in runs.items()}
    print(f"captions: {args.n}, chunk {args.chunk_size}, 1 process, median of {args.repeat} (each run's "
          f"rates: text {[round(x['rate'], 1) for x in runs['text']]}, tars {[round(x['rate'], 1) for x in runs['tars']]})")
    print(f"text file -> jsonl:        {rate['text']:7.1f} captions/s after loading")
    print(f"4 tar shards -> wds tars:  {rate['tars']:7.1f} captions/s after loading")
    print(f"ratio tars / text: {rate['tars'] / rate['text']:.2f}x (target >= 0.9x)")
    added = (io_tars - io_text) / args.n
    print(f"reading without planting: text {args.n / io_text:.0f} captions/s, tars (members copied) "
          f"{args.n / io_tars:.0f} captions/s: {added * 1e3:.2f} ms more per caption, so planting from tars "
          f"can reach at most {1 / (1 + added * rate['text']):.2f}x the text file's rate at {rate['text']:.0f} captions/s")
    print(f"planted: text {runs['text'][0]['planted']}, tars {runs['tars'][0]['planted']} captions")
    print(f"peak RSS: text {runs['text'][0]['peak_mb']:.0f} MB, tars (5 KB images) {runs['tars'][0]['peak_mb']:.0f} MB, "
          f"one {big_mb:.0f} MB shard ({args.image_kb} KB images) {big_run['peak_mb']:.0f} MB; one chunk of its images: "
          f"{args.chunk_size * args.image_kb / 1024:.0f} MB")


if __name__ == "__main__":
    main()
