"""A static HTML page of planted negatives, to look at them: ``slipform plant --gallery``.

One self-contained file (no script, no network): a random sample of the negatives, each with
its caption, the negative with the changed words highlighted, the role, target and replacement,
the target's concreteness and the scores the record carries, and the image when the input names
images and the file is found. Above them: how many negatives each role and each replacement
word has (a word dominating the outputs shows at once) and, when ``OUTPUT.summary.json`` is
beside the negatives, the skips and rejections by reason.
"""

from __future__ import annotations

import html
import json
import os
import random
from collections import Counter
from pathlib import Path

from ..core.edit import words
from ..core.record import read_records

_STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}
th{background:#f4f4f4}ins{background:#ffe08a;text-decoration:none;font-weight:600}del{color:#a33}
img{max-width:160px;max-height:120px}.n{color:#666;font-size:90%}.stats{display:flex;gap:3em}"""


def highlight(caption: str, negative: str) -> tuple[str, str]:
    """HTML of the caption with the replaced words struck and the negative with the new ones marked."""
    import difflib

    a, b = caption.split(), negative.split()
    old, new = [], []
    ops = difflib.SequenceMatcher(a=[w.lower() for w in a], b=[w.lower() for w in b], autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in ops:
        left, right = html.escape(" ".join(a[i1:i2])), html.escape(" ".join(b[j1:j2]))
        if op == "equal":
            old.append(left)
            new.append(right)
            continue
        if left:
            old.append(f"<del>{left}</del>")
        if right:
            new.append(f"<ins>{right}</ins>")
    return " ".join(old), " ".join(new)


def _image_cell(rec: dict, image_root: Path | None, page: Path) -> str:
    name = rec.get("image")
    if not name:
        return ""
    path = Path(name) if image_root is None or Path(name).is_absolute() else image_root / name
    if not path.exists():
        return f'<span class="n">{html.escape(str(name))} (not found)</span>'
    rel = os.path.relpath(path.resolve(), page.parent.resolve())
    return f'<img src="{html.escape(Path(rel).as_posix())}" alt="{html.escape(str(name))}">'


def _score(value) -> str:
    return "" if value is None else f"{value:.2f}" if isinstance(value, float) else html.escape(str(value))


def write_gallery(negatives: str | Path, page: str | Path, n: int = 200, seed: int = 0,
                  image_root: str | Path | None = None) -> Path:
    """Write ``page`` showing ``n`` negatives of ``negatives`` (JSONL) drawn with ``seed``."""
    negatives, page = Path(negatives), Path(page)
    records = [rec.to_dict() for rec in read_records(negatives)]
    roles = Counter(r.get("role") for r in records)
    replaced = Counter(" ".join(words(r.get("replacement") or "")) for r in records)
    shown = random.Random(seed).sample(records, min(n, len(records)))
    root = Path(image_root) if image_root is not None else (negatives.parent if any("image" in r for r in shown) else None)
    summary_path = Path(str(negatives) + ".summary.json")
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    out = [f"<!doctype html><meta charset=utf-8><title>Negatives: {html.escape(negatives.name)}</title>",
           f"<style>{_STYLE}</style>", f"<h1>{len(records)} negatives <span class=n>{html.escape(str(negatives))}</span></h1>",
           "<div class=stats>", _counts("by role", roles), _counts("most used replacements", replaced, 12)]
    for key in ("skipped", "rejected"):
        if summary.get(key):
            out.append(_counts(key + " by reason", Counter(summary[key])))
    out.append("</div>")
    out.append(f"<h2>{len(shown)} drawn at random (seed {seed})</h2><table><tr><th>#</th><th>caption / negative</th>"
               "<th>role</th><th>target &rarr; replacement</th><th>concreteness</th><th>similarity</th>"
               "<th>plausibility</th><th>image</th></tr>")
    for rec in shown:
        old, new = highlight(rec["caption"], rec["negative"])
        out.append(f"<tr><td class=n>{html.escape(str(rec.get('id', '')))}</td><td>{old}<br>{new}</td>"
                   f"<td>{html.escape(str(rec.get('role', '')))}</td>"
                   f"<td>{html.escape(str(rec.get('target') or ''))} &rarr; {html.escape(str(rec.get('replacement') or ''))}</td>"
                   f"<td>{_score(rec.get('concreteness'))}</td><td>{_score(rec.get('similarity'))}</td>"
                   f"<td>{_score(rec.get('plausibility'))}</td><td>{_image_cell(rec, root, page)}</td></tr>")
    out.append("</table>")
    page.parent.mkdir(parents=True, exist_ok=True)
    tmp = page.with_name(page.name + ".tmp")
    tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
    tmp.replace(page)
    return page


def _counts(title: str, counts: Counter, top: int | None = None) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{v}</td></tr>" for k, v in counts.most_common(top))
    return f"<div><h3>{html.escape(title)}</h3><table>{rows}</table></div>"
