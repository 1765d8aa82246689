"""The mix of a world negatives file: how many negatives of each route and edit, and what each does
to its training scene (:func:`slipform.world.change.scene_change`), as counts and a Markdown table."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ..world.caption import ParseError, parse
from ..world.change import scene_change


def negative_mix(negatives: Path, scene_of) -> dict:
    """``{"n", "role", "edit", "change", "role_change"}`` counts over the records of ``negatives``;
    ``scene_of(record_id)`` gives a record's training scene. ``edit`` is the planter's edit label
    (``"replace"`` for records without one), ``change`` the world's reading of the negative."""
    role, edit, change, both = Counter(), Counter(), Counter(), Counter()
    with open(negatives) as f:
        for line in f:
            rec = json.loads(line)
            try:
                what = scene_change(scene_of(rec["id"]), parse(rec["negative"]))
            except ParseError:
                what = "unparsable"
            r = rec.get("role") or "-"
            role[r] += 1
            edit[rec.get("edit") or "replace"] += 1
            change[what] += 1
            both[f"{r}: {what}"] += 1
    return {"n": sum(role.values()), "role": dict(role), "edit": dict(edit), "change": dict(change),
            "role_change": dict(both)}


def mix_markdown(mix: dict, title: str) -> str:
    """Counts and shares of a :func:`negative_mix`, one small table per grouping."""
    n = max(mix["n"], 1)
    parts = [f"{title}: {mix['n']} negatives.\n"]
    for key, head in (("role", "route"), ("edit", "edit (planter)"), ("change", "change in the scene (world)")):
        rows = sorted(mix[key].items(), key=lambda kv: (-kv[1], kv[0]))
        parts.append(f"| {head} | negatives | share |\n|---|---|---|\n" +
                     "\n".join(f"| {k} | {v} | {v / n:.1%} |" for k, v in rows) + "\n")
    return "\n".join(parts)
