"""World splits on disk: images, captions in open_clip's CSV layout, and the scenes as JSONL.

``write_split(root, "train", 2000)`` writes ``root/images/train/<seed>.png``,
``root/train.csv`` (``id``, ``filepath``, ``title``; one row per caption) and
``root/train.scenes.jsonl``, so the real ``plant``, ``train`` and ``eval`` code reads the
world like any other data. ``style="list"`` writes captions without relations (``name`` gives
their CSV another name, beside the same images). Files that already exist are kept (the world is deterministic).
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict
from pathlib import Path

from .caption import STYLES
from .render import render
from .scene import Scene, WorldConfig, split_scenes


def image_path(root: Path, split: str, scene: Scene) -> Path:
    return Path(root) / "images" / split / f"{scene.seed}.png"


def _render_to(job) -> None:
    scene, config, path = job
    tmp = path.with_suffix(".tmp.png")
    render(scene, config).save(tmp)
    tmp.replace(path)  # atomic: a killed run leaves no half-written image


def ensure_images(root: Path, split: str, scenes: list[Scene], config: WorldConfig = WorldConfig(),
                  processes: int | None = None) -> list[Path]:
    """The images of ``scenes`` under ``root/images/<split>/``, rendering those not there yet (in
    ``processes`` worker processes when there are many; default: up to 2, the cores of the
    machines this runs on)."""
    paths = [image_path(root, split, scene) for scene in scenes]
    todo = [(scene, config, p) for scene, p in zip(scenes, paths) if not p.exists()]
    if todo:
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        workers = min(processes or 2, os.cpu_count() or 1)
        if workers > 1 and len(todo) >= 1000:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(workers) as pool:
                pool.map(_render_to, todo, chunksize=256)
        else:
            for job in todo:
                _render_to(job)
    return paths


def write_split(root: str | Path, split: str, n: int, config: WorldConfig = WorldConfig(),
                captions_per_scene: int = 1, style: str = "relation", name: str | None = None) -> Path:
    """Images of ``n`` scenes of ``split`` and their captions as ``root/<name or split>.csv``;
    ``style`` is ``relation`` (:func:`~.caption.caption`) or ``list`` (:func:`~.caption.listing`)."""
    if style not in STYLES:
        raise ValueError(f"unknown caption style {style!r}; choose from {tuple(STYLES)}")
    write = STYLES[style]
    root = Path(root)
    scenes = split_scenes(split, n, config)
    paths = ensure_images(root, split, scenes, config)
    with open(root / f"{split}.scenes.jsonl", "w") as f:
        for scene in scenes:
            f.write(json.dumps({"seed": scene.seed, "relation": scene.relation,
                                "things": [asdict(t) for t in scene.things]}) + "\n")
    out = root / f"{name or split}.csv"
    tmp = out.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "filepath", "title"])
        for scene, path in zip(scenes, paths):
            for k in range(captions_per_scene):
                w.writerow([f"{scene.seed}-{k}", str(path.relative_to(root)), write(scene, k)])
    tmp.replace(out)  # last and atomic: a killed run leaves no CSV that looks finished
    return out
