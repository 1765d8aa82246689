"""Shared fixtures: the real spaCy pipeline, the real norms, real COCO captions from ../shared/data."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "bench"))


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    # one embedding/vocabulary cache for the whole session, never the user's own
    os.environ.setdefault("SLIPFORM_CACHE", str(tmp_path_factory.mktemp("slipform-cache")))
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield


@pytest.fixture(scope="session")
def nlp():
    from slipform.plant.nlp import load_nlp

    return load_nlp()


@pytest.fixture(scope="session")
def lexicon():
    from slipform.lexicon import load_lexicon

    return load_lexicon()


@pytest.fixture(scope="session")
def real_captions():
    if not (SHARED / "sugarcrepe").exists():
        pytest.skip("../shared/data is not present")
    from corpus import real_captions as load

    return load()


@pytest.fixture(scope="session")
def sugarcrepe_captions():
    path = SHARED / "sugarcrepe" / "replace_att.json"
    if not path.exists():
        pytest.skip("../shared/data is not present")
    return [v["caption"] for v in json.loads(path.read_text()).values()]


def read_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
