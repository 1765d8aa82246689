"""Shared fixtures: the real spaCy pipeline, the real norms, real COCO captions from fixtures/ (in this repository)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"  # published annotation files with their licences
sys.path.insert(0, str(ROOT / "bench"))


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    # one embedding/vocabulary cache for the whole session, in the session's own temporary folder; a
    # cache set before the first session is kept (bench/mutation.py's warm cache). A process that runs
    # many sessions (mutation --in-process) gets a new one per session: pytest deletes all but the
    # last three sessions' folders, so an older session's path would vanish under a later test.
    # (the process's own cache is named in the environment: conftest may be imported again per session)
    if os.environ.get("SLIPFORM_CACHE", "") == os.environ.get("SLIPFORM_TEST_CACHE", ""):
        path = str(tmp_path_factory.mktemp("slipform-cache"))
        os.environ["SLIPFORM_CACHE"] = os.environ["SLIPFORM_TEST_CACHE"] = path
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield


@pytest.fixture(scope="session")
def nlp():
    from slipform.text.nlp import load_nlp

    return load_nlp()


@pytest.fixture(scope="session")
def lexicon():
    from slipform.lexicon import load_lexicon

    return load_lexicon()


@pytest.fixture(scope="session")
def real_captions():
    from corpus import real_captions as load

    return load()


@pytest.fixture(scope="session")
def sugarcrepe_captions():
    path = FIXTURES / "sugarcrepe" / "replace_att.json"
    return [v["caption"] for v in json.loads(path.read_text()).values()]


def read_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


COLOURS = {"red": (220, 30, 30), "green": (30, 180, 40), "blue": (30, 60, 220), "yellow": (230, 220, 40)}
SHAPES = ("square", "circle")


def make_pair_data(root: Path, n: int = 24, corrupt: int = 0, missing: int = 0) -> dict:
    """Small images of coloured shapes with captions and colour-swap negatives, in open_clip's CSV layout."""
    from PIL import Image, ImageDraw

    root.mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(exist_ok=True)
    names = list(COLOURS)
    rows, negs = [], []
    for i in range(n):
        colour, shape = names[i % 4], SHAPES[(i // 4) % 2]
        im = Image.new("RGB", (40, 40), (245, 245, 245))
        draw = ImageDraw.Draw(im)
        box = (8 + i % 5, 8, 30 + i % 5, 30)
        (draw.rectangle if shape == "square" else draw.ellipse)(box, fill=COLOURS[colour])
        path = f"images/{i:03d}.png"
        if i < corrupt:
            (root / path).write_bytes(b"not a png")
        elif i >= n - missing:
            pass  # listed but never written
        else:
            im.save(root / path)
        caption = f"a {colour} {shape}"
        other = names[(i + 1) % 4]
        rows.append((str(i), path, caption))
        negs.append({"id": str(i), "caption": caption, "negative": f"a {other} {shape}", "target": colour,
                     "role": "A", "concreteness": 4.0 + (i % 3) * 0.3})
    with open(root / "train.csv", "w") as f:
        f.write("id,filepath,title\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    with open(root / "negatives.jsonl", "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in negs[: n - 2]))  # two captions have no negative
    return {"train": str(root / "train.csv"), "negatives": str(root / "negatives.jsonl"), "image_root": str(root)}
