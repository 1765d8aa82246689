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
from dataclasses import asdict
from pathlib import Path

from .caption import STYLES
from .render import render
from .scene import Scene, WorldConfig, split_scenes


def image_path(root: Path, split: str, scene: Scene) -> Path:
    return Path(root) / "images" / split / f"{scene.seed}.png"


def ensure_images(root: Path, split: str, scenes: list[Scene], config: WorldConfig = WorldConfig()) -> list[Path]:
    paths = []
    for scene in scenes:
        p = image_path(root, split, scene)
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_suffix(".tmp.png")
            render(scene, config).save(tmp)
            tmp.replace(p)
        paths.append(p)
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
