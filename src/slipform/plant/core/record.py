"""The negative record: the one owner of the fields of a line of ``slipform plant``'s output.

ConcretePlant writes records through :meth:`NegativeRecord.to_dict` and everything that reads
negatives files (the gallery, the NegCLIP export) reads them through :func:`read_records`, so a
field is named in one place. A line is one JSON object::

    {"id", "image"?, "caption", "negative", "target", "role", "route", "edit", "anchor", "concreteness",
     "strategy", "backend", "replacement", "similarity", "plausibility", ...backend extras}

``image`` is present when the input names images; ``route`` is ``{"A", "R", "O"} -> bool`` for the
role; numbers are ``null`` where a backend has none (swaps have no plausibility). ``edit`` is
``"replace"`` (``target`` became ``replacement``) or ``"swap"`` (``target`` and ``replacement``
exchanged places: the negative has the caption's words in another arrangement); ``anchor`` is the
thing whose route made the edit (the target itself with ``route="target"``). Records written before
``edit`` and ``anchor`` existed read as replacements of their target.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .anchor import ROLES, route

REQUIRED = ("id", "caption", "negative")


@dataclass(frozen=True)
class NegativeRecord:
    id: str
    caption: str
    negative: str
    target: str | None = None
    role: str | None = None
    concreteness: float | None = None
    strategy: str | None = None
    backend: str | None = None
    replacement: str | None = None
    similarity: float | None = None
    plausibility: float | None = None
    image: str | None = None
    edit: str = "replace"
    anchor: str | None = None
    extra: dict = field(default_factory=dict)  # what a backend adds (an LLM's raw answer, ...)

    @property
    def route(self) -> dict[str, bool]:
        """The paper's routing flags (:func:`slipform.plant.core.anchor.route`); empty without a role."""
        return route(self.role) if self.role in ROLES else {}

    def to_dict(self) -> dict:
        d: dict = {"id": self.id}
        if self.image is not None:
            d["image"] = self.image
        d.update(caption=self.caption, negative=self.negative, target=self.target, role=self.role,
                 route=self.route, edit=self.edit, anchor=self.anchor, concreteness=self.concreteness, strategy=self.strategy, backend=self.backend,
                 replacement=self.replacement, similarity=self.similarity, plausibility=self.plausibility)
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str = "") -> NegativeRecord:
        """A record from one parsed line; a ValueError names ``where`` and what is wrong."""
        if not isinstance(d, dict):
            raise ValueError(f"{where}: not a JSON object")
        missing = [k for k in REQUIRED if not isinstance(d.get(k), (str, int)) or d.get(k) == ""]
        if missing:
            raise ValueError(f"{where}: not a Slipform negative record (missing {', '.join(missing)})")
        known = {"id", "image", "caption", "negative", "target", "role", "route", "concreteness", "strategy",
                 "backend", "replacement", "similarity", "plausibility", "edit", "anchor"}
        return cls(id=str(d["id"]), caption=str(d["caption"]), negative=str(d["negative"]), target=d.get("target"),
                   role=d.get("role"), concreteness=d.get("concreteness"), strategy=d.get("strategy"),
                   backend=d.get("backend"), replacement=d.get("replacement"), similarity=d.get("similarity"),
                   plausibility=d.get("plausibility"), image=d.get("image"),
                   edit=d.get("edit") or "replace", anchor=d.get("anchor", d.get("target")),
                   extra={k: v for k, v in d.items() if k not in known})


def read_records(path: str | Path) -> Iterator[NegativeRecord]:
    """Every record of a negatives file; a bad line raises a ValueError naming file and line."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except ValueError:
                raise ValueError(f"{path}:{n}: not JSON") from None
            yield NegativeRecord.from_dict(d, f"{path}:{n}")
