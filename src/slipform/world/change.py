"""What a negative changes in the scene its caption describes: the world's exact reading of an edit.

The planter labels each negative with its route (A/R/O) and edit; the world can say what the edit
does to the picture, whatever the words. :func:`scene_change` compares the two scenes:

- ``places swapped``: the same two things trade places (an argument exchange, or a relation turned
  into its inverse: "A left of B" -> "A right of B" is the picture of "B left of A");
- ``relation changed``: the same things, another axis ("left of" -> "above");
- ``colour swap`` / ``size swap`` / ``shape swap``: the two things exchange one attribute;
- ``colour change`` / ``size change`` / ``shape change``: one thing's attribute takes another value;
- ``same scene`` and ``several`` (anything else, or more than one change).
"""

from __future__ import annotations

from dataclasses import replace

from .scene import Scene

_FIELDS = ("colour", "size", "shape", "texture")


def scene_change(before: Scene, after: Scene) -> str:
    """The change from ``before`` to ``after`` (see the module docstring)."""
    if before.same_as(after):
        return "same scene"
    b, a = before.canonical(), after.canonical()
    if len(b.things) != len(a.things) or b.things[2:] != a.things[2:]:
        return "several"
    (x1, y1), (x2, y2) = b.things[:2], a.things[:2]
    if a.relation == b.relation and (x2, y2) == (y1, x1):
        return "places swapped"
    if (x2, y2) == (x1, y1):
        return "relation changed"
    if a.relation != b.relation:
        return "several"
    for f in _FIELDS:
        if (x2, y2) == (replace(x1, **{f: getattr(y1, f)}), replace(y1, **{f: getattr(x1, f)})):
            return f"{f} swap"
    changed = [(i, f) for i, (t1, t2) in enumerate(((x1, x2), (y1, y2))) for f in _FIELDS
               if getattr(t1, f) != getattr(t2, f)]
    return f"{changed[0][1]} change" if len(changed) == 1 else "several"
