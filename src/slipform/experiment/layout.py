"""Where a demo folder keeps what: the one place that spells its on-disk layout.

    slipform-demo/
      config.json                      the demo's settings (a folder is reused only with the same)
      negatives/<kind>-s<seed>.jsonl   planted negatives (+ .done marker, .images.jsonl, images/)
      negatives/visual-norms-s<seed>.csv  visual norms the visual kinds are planted with
      runs/<method>-s<seed>/           training runs (a slipform.run.RunDir each)
      eval/<method>-s<seed>.json       world benchmark metrics of one model
      eval/<method>-s<seed>.items.npz  per-test-item scores, for paired comparisons
      eval/<method>-s<seed>.val.json, .val.items.npz  the same on the validation split (--validate)
      selection.{md,json}              the registered rule applied to a validation run
      results.{md,csv,json}, comparisons.{md,csv}, *.png
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..run import RunDir

_SPLIT_SUFFIX = {"test": "", "val": ".val"}
_TAG = re.compile(r"^(?P<name>.+)-s(?P<seed>\d+)$")


def tag(name: str, seed: int) -> str:
    return f"{name}-s{seed}"


def untag(stem: str) -> tuple[str, int] | None:
    """``("slipform", 0)`` from ``"slipform-s0"``; None for a name outside the layout."""
    m = _TAG.match(stem)
    return (m["name"], int(m["seed"])) if m else None


@dataclass(frozen=True)
class DemoLayout:
    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    def negatives(self, kind: str, seed: int) -> Path:
        return self.root / "negatives" / f"{tag(kind, seed)}.jsonl"

    def norms(self, seed: int) -> Path:
        """Visual norms measured for one seed (the visual kinds of negatives read them)."""
        return self.root / "negatives" / f"visual-norms-s{seed}.csv"

    def run(self, method: str, seed: int) -> Path:
        return self.root / "runs" / tag(method, seed)

    def eval(self, method: str, seed: int, split: str = "test") -> Path:
        return self.root / "eval" / f"{tag(method, seed)}{_SPLIT_SUFFIX[split]}.json"

    def items(self, method: str, seed: int, split: str = "test") -> Path:
        return self.root / "eval" / f"{tag(method, seed)}{_SPLIT_SUFFIX[split]}.items.npz"

    @property
    def selection(self) -> Path:
        """The selection rule applied to a validation run (``.md``; ``.json`` beside it)."""
        return self.root / "selection.md"

    def runs(self, seed: int) -> dict[str, Path]:
        """Finished runs of one seed: ``{method: run directory}``."""
        out = {}
        for p in sorted((self.root / "runs").glob(f"*-s{seed}")):
            parsed = untag(p.name)
            if parsed and parsed[1] == seed and RunDir(p).finished:
                out[parsed[0]] = p
        return out

    def negative_files(self, seed: int) -> dict[str, Path]:
        """Planted negatives of one seed: ``{kind: file}``."""
        out = {}
        for p in sorted((self.root / "negatives").glob(f"*-s{seed}.jsonl")):
            parsed = untag(p.name[: -len(".jsonl")])
            if parsed and parsed[1] == seed:
                out[parsed[0]] = p
        return out
