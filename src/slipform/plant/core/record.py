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

Planted into a sample of a webdataset shard, a caption's records become the ``negatives`` list of
its ``.json`` (:func:`sample_negatives`): each record without the fields the sample holds itself
(``id``, ``caption``, ``image``); ``slipform train`` reads ``negative``, ``concreteness`` and
``role`` from them. A side-car Parquet file holds the same lists by key (:func:`sidecar_table`,
:func:`read_sidecar`): columns ``key``, ``caption`` and ``negatives``, a list of structs with the
fields of :data:`SIDECAR_FIELDS` (a backend's extras as a JSON object in ``extra``; the route is
the role's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .anchor import ROLES, route

REQUIRED = ("id", "caption", "negative")
SAMPLE_HELD = ("id", "caption", "image")  # a sample's own fields, left out of its negatives list
SIDECAR_FIELDS = (("negative", "string"), ("target", "string"), ("role", "string"), ("concreteness", "float64"),
                  ("strategy", "string"), ("backend", "string"), ("replacement", "string"),
                  ("similarity", "float64"), ("plausibility", "float64"), ("edit", "string"), ("anchor", "string"),
                  ("extra", "string"))  # extra last: a backend's own fields as one JSON object


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


def sample_negatives(records: list[dict]) -> list[dict]:
    """The ``negatives`` list of a sample's ``.json``: its records without ``id``, ``caption`` and ``image``."""
    return [{k: v for k, v in r.items() if k not in SAMPLE_HELD} for r in records]


def sidecar_schema():
    import pyarrow as pa

    entry = pa.struct([(name, getattr(pa, kind)()) for name, kind in SIDECAR_FIELDS])
    return pa.schema([("key", pa.string()), ("caption", pa.string()), ("negatives", pa.list_(entry))])


def sidecar_table(rows: list[tuple[str, str, list[dict]]]):
    """A side-car table of ``(key, caption, records)`` rows (a pyarrow Table with :func:`sidecar_schema`)."""
    import pyarrow as pa

    known = {name for name, _ in SIDECAR_FIELDS} | set(SAMPLE_HELD) | {"route"}
    negatives = []
    for _, _, records in rows:
        entries = []
        for r in records:
            extra = {k: v for k, v in r.items() if k not in known}
            entries.append({**{name: r.get(name) for name, _ in SIDECAR_FIELDS[:-1]},
                            "extra": json.dumps(extra, ensure_ascii=False) if extra else None})
        negatives.append(entries)
    return pa.table({"key": [k for k, _, _ in rows], "caption": [c for _, c, _ in rows], "negatives": negatives},
                    schema=sidecar_schema())


def read_sidecar(path) -> dict[str, list[dict]]:
    """``key`` -> the sample's negatives list (as in its ``.json``) from a side-car Parquet file.

    A file without the side-car's columns raises a ValueError naming the file and its columns.
    """
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    names = f.schema_arrow.names
    if not {"key", "caption", "negatives"} <= set(names):
        raise ValueError(f"{path}: not a Slipform side-car (columns key, caption, negatives); its columns are "
                         f"{', '.join(names)}")
    out: dict[str, list[dict]] = {}
    for batch in f.iter_batches(columns=["key", "caption", "negatives"]):
        for key, caption, entries in zip(*(batch.column(c).to_pylist() for c in ("key", "caption", "negatives"))):
            records = []
            for e in entries or []:
                fields = {k: v for k, v in e.items() if k != "extra"}
                extra = json.loads(e["extra"]) if e.get("extra") else {}
                records.append(NegativeRecord(id=str(key), caption=caption or "", **fields, extra=extra).to_dict())
            out[str(key)] = sample_negatives(records)
    return out
