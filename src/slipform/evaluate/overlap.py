"""Contamination check: benchmark images that also occur in a training file.

SugarCrepe's COCO val2017 images overlap the Karpathy train/restval split that NegCLIP-style
fine-tuning uses, since val2017 was drawn from the 2014 train and val sets. Images are
matched by COCO image id when the file name carries one (``COCO_val2014_000000331352.jpg`` and
``000000331352.jpg`` are the same image), else by file name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..text.io import Caption, Columns, read_captions
from . import sugarcrepe, valse

_COCO_ID = re.compile(r"(?:^|_)(\d{6,12})\.(?:jpg|jpeg|png)$", re.IGNORECASE)


def image_key(path: str) -> str:
    name = Path(str(path)).name
    m = _COCO_ID.search(name)
    return f"coco:{int(m.group(1))}" if m else name.lower()


def training_images(train_file: str | Path) -> set[str]:
    path = Path(train_file)
    keys = set()
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        if "images" in data and data["images"] and "sentences" in data["images"][0]:  # Karpathy: train + restval
            return {image_key(im["filename"]) for im in data["images"] if im.get("split") in ("train", "restval")}
    for item in read_captions(path, None, Columns()):
        if isinstance(item, Caption) and item.image:
            keys.add(image_key(item.image))
    return keys


def benchmark_images(data_root: Path, names: list[str]) -> dict[str, set[str]]:
    out = {}
    for name in names:
        try:
            if name == "sugarcrepe":
                out[name] = {image_key(it["filename"]) for s in sugarcrepe.SUBSETS
                             for it in sugarcrepe.load_subset(data_root / "sugarcrepe" / f"{s}.json")}
            elif name == "valse":
                out[name] = {image_key(it["image_file"]) for i in valse.INSTRUMENTS
                             for it in valse.load_instrument(data_root / "valse" / f"{i}.json")}
        except FileNotFoundError:
            continue
    return out


def check_overlap(train_file: str | Path, data_root: str | Path, names: list[str]) -> dict:
    """``{benchmark: {"images": n, "overlap": k, "examples": [...]}}``."""
    train = training_images(train_file)
    result = {}
    for name, keys in benchmark_images(Path(data_root), names).items():
        both = sorted(keys & train)
        result[name] = {"images": len(keys), "overlap": len(both), "examples": both[:5]}
    return result
