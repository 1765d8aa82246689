"""Writing evaluation results: JSON, a flat CSV (benchmark, metric, value) and a Markdown table.

With a :class:`~slipform.evaluate.published.Published` checkpoint, every metric vl_compo also
reports (its suite values in ``vl_compo_summary``, its subsets in each suite, retrieval R@K)
gets the published figure and our value minus it, in the CSV's ``published`` and
``difference`` columns and the Markdown's last two -- except in a suite the summary lists under
``incomplete`` (a run that lacks files, sets, rows or items the published run had), whose
figures get no published figure beside them. The Markdown then lists, for every subset of the
vl_compo suites that ran, our item count beside the published one.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .vl_compo import SUBSETS, item_counts

SUMMARY = "vl_compo_summary"  # the results key of vl_compo.summary()
_RETRIEVAL = {"retrieval_coco": "coco_karpathy", "retrieval_flickr30k": "flickr30k"}


def flatten(results: dict) -> list[tuple[str, str, object]]:
    rows = []
    for bench, metrics in results.items():
        for key, value in (metrics or {}).items():
            if isinstance(value, dict):
                for sub, v in value.items():
                    rows.append((bench, f"{key}/{sub}", v))
            else:
                rows.append((bench, key, value))
    return rows


def published_values(published, results: dict | None = None) -> dict[tuple[str, str], float]:
    """``{(benchmark, our metric key): published figure}`` for what vl_compo reports, leaving out
    the suites ``results``' summary lists as incomplete."""
    incomplete = ((results or {}).get(SUMMARY) or {}).get("incomplete") or {}
    out = {(SUMMARY, k): v for k, v in published.suites.items() if v is not None and k not in incomplete}
    for suite, mapping in SUBSETS.items():
        if suite in incomplete:
            continue
        figures = published.subsets.get(suite, {})
        out.update({(suite, ours): figures[col] for col, ours in mapping.items() if figures.get(col) is not None})
    for bench, table in _RETRIEVAL.items():
        for k in (1, 5, 10):
            for ours, theirs in (("image_to_text", "i2t"), ("text_to_image", "t2i")):
                value = published.subsets.get(table, {}).get(f"{theirs}/R@{k}")
                if value is not None:
                    out[(bench, f"{ours}_R@{k}")] = value
    return out


def _shown(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def count_table(results: dict, published) -> list[str]:
    """Markdown lines: our item count beside the published one, per subset of each vl_compo suite run."""
    lines = []
    for suite in SUBSETS:
        metrics = results.get(suite)
        if isinstance(metrics, dict) and "error" not in metrics:
            for label, ours, theirs in item_counts(suite, metrics, published):
                mark = "" if ours == theirs else " (differs)"
                lines.append(f"| {suite} | {label} | {'' if ours is None else ours} | {theirs}{mark} |")
    return ["", "Items scored (ours) and behind the published figures (derived from vl_compo's tables):", "",
            "| suite | subset | ours | published |", "|---|---|---|---|", *lines] if lines else []


def markdown(results: dict, model_name: str = "", published=None) -> str:
    pub = published_values(published, results) if published is not None else {}
    head = f"| benchmark | metric | {model_name or 'value'} |"
    if published is not None:
        head += f" published ({published.arch} {published.pretrained}) | difference |"
    lines = [head, "|---|---|---|" + ("---|---|" if published is not None else "")]
    for bench, key, value in flatten(results):
        line = f"| {bench} | {key} | {_shown(value)} |"
        if published is not None:
            theirs = pub.get((bench, key))
            diff = value - theirs if theirs is not None and isinstance(value, (int, float)) else None
            line += f" {_shown(theirs) if theirs is not None else ''} | {f'{diff:+.2f}' if diff is not None else ''} |"
        lines.append(line)
    if published is not None:
        incomplete = (results.get(SUMMARY) or {}).get("incomplete") or {}
        lines += count_table(results, published)
        if incomplete:
            lines += ["", "Incomplete (no published figure printed beside them): " + ", ".join(incomplete)]
        lines += ["", f"Published figures: vl_compo (github.com/ytaek-oh/vl_compo @ 43e2eae; Oh et al., 2024), "
                      f"{published.name}; cited, the tables carry no licence."]
    return "\n".join(lines)


def write_results(results: dict, output: str | Path, model_name: str = "", published=None) -> str:
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"model": model_name, "results": results}
    if published is not None:
        meta["published"] = {"source": "github.com/ytaek-oh/vl_compo@43e2eae", "checkpoint": published.name}
    out.write_text(json.dumps(meta, indent=2, default=str))
    pub = published_values(published, results) if published is not None else {}
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "benchmark", "metric", "value", "published", "difference"])
        for bench, key, value in flatten(results):
            theirs = pub.get((bench, key))
            diff = value - theirs if theirs is not None and isinstance(value, (int, float)) else ""
            w.writerow([model_name, bench, key, value, "" if theirs is None else theirs, diff])
    table = markdown(results, model_name, published)
    out.with_suffix(".md").write_text(table + "\n")
    return table
