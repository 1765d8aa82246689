"""Writing evaluation results: JSON, a flat CSV (benchmark, metric, value) and a Markdown table."""

from __future__ import annotations

import csv
import json
from pathlib import Path


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


def markdown(results: dict, model_name: str = "") -> str:
    lines = [f"| benchmark | metric | {model_name or 'value'} |", "|---|---|---|"]
    for bench, key, value in flatten(results):
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {bench} | {key} | {shown} |")
    return "\n".join(lines)


def write_results(results: dict, output: str | Path, model_name: str = "") -> str:
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": model_name, "results": results}, indent=2, default=str))
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "benchmark", "metric", "value"])
        for row in flatten(results):
            w.writerow([model_name, *row])
    table = markdown(results, model_name)
    out.with_suffix(".md").write_text(table + "\n")
    return table
