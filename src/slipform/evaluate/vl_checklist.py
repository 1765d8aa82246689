"""VL-CheckList (Zhao et al., 2022): objects, attributes and relations, 13 axes.

Files: the corpus JSONs of github.com/om-ai-lab/VL-CheckList (``data/``, paths as its
``corpus/v1/**.yaml`` give them) and the images of Visual Genome, HAKE and SWiG::

    vl_checklist/data/Attribute/vg/color.json ...          (see AXES)
    vl_checklist/vg/<path>  vl_checklist/hake/<path>  vl_checklist/swig/<path>

Each file is a list of ``[image path, {"POS": [...], "NEG": [...]}]``.

Metric, as ``vl_checklist/evaluate.py`` (ITC) and ``radar.py``: a record is kept only when its
image exists (``data_loader.py``), each file keeps its first ``MAX_NUM / 2`` = 1,000 records
(the shipped config's ``MAX_NUM: 2000``), and only ``POS[0]`` and ``NEG[0]`` are scored: right
when s(image, POS[0]) > s(image, NEG[0]) strictly, so a tie is wrong. Accuracy per file; an
axis is the mean over its sources of the mean over each source's files (``corpus.json``);
``object``/``attribute``/``relation`` average their axes, and vl_compo's ``vl_checklist`` is the
mean of those three (derived from its tables). Files absent, or with no image present, are
skipped and counted in ``missing_files`` (the first named in ``missing_first``; an axis with
none left is left out); ``short_files`` counts files scored with fewer records than the
published run had because images were missing. Either puts the suite under vl_compo's
``incomplete`` (:func:`slipform.evaluate.vl_compo.gaps`). The cap of 1,000 records per file is
also what vl_compo used: its ``Relation_spatial`` column (one file, 30,650 records) is a whole
count out of 1,000 in all 202 rows, and the two-file Attribute axes out of 2,000.
"""

from __future__ import annotations

from pathlib import Path

from . import register
from .encode import BenchmarkDataError, Encoder, read_json

MAX_PER_FILE = 1000  # MAX_NUM / 2 with the shipped MAX_NUM = 2000
LAYOUT = "DATA_ROOT/vl_checklist/data/<Type>/.../<source>.json and DATA_ROOT/vl_checklist/{vg,hake,swig}/<image>"
_SWIG = ("agent", "destination", "item", "tool")


def _object(kind: str) -> dict[str, list[str]]:
    folder = "Location" if kind in ("center", "mid", "margin") else "Size"
    return {"vg": [f"Object/{folder}/vg_{folder.lower()}/vg_{w}_{kind}.json" for w in ("obj", "subj")],
            "swig": [f"Object/{folder}/swig_{folder.lower()}/swig_{r}/swig_{r}_{kind}.json" for r in _SWIG],
            "hake": [f"Object/{folder}/hake_{folder.lower()}/hake_obj_{kind}.json"]}


# axis -> {source: [files under vl_checklist/data/]}, as corpus.json groups them
AXES = {**{f"Object_Location_{k}": _object(k) for k in ("center", "margin", "mid")},
        **{f"Object_Size_{k}": _object(k) for k in ("large", "medium", "small")},
        **{f"Attribute_{k}": {"vg": [f"Attribute/vg/{k}.json"], "vaw": [f"Attribute/vaw/{k}.json"]}
           for k in ("action", "color", "material", "size", "state")},
        "Relation_action": {"vg": ["Relation/vg/action.json"], "swig": ["Relation/swig_action.json"],
                            "hake": ["Relation/hake_action.json"]},
        "Relation_spatial": {"vg": ["Relation/vg/spatial.json"]}}
IMAGE_ROOT = {"vg": "vg", "vaw": "vg", "swig": "swig", "hake": "hake"}


def _file(encoder: Encoder, data_root: Path, rel: str, source: str, limit) -> tuple[float | None, bool]:
    """A file's accuracy (None when no record has its image) and whether images were missing
    among the records the published run scored (the first ``MAX_PER_FILE``, all images present)."""
    records = read_json(data_root / "vl_checklist" / "data" / rel, "vl_checklist", LAYOUT)
    root = data_root / "vl_checklist" / IMAGE_ROOT[source]
    cap = min(MAX_PER_FILE, limit or MAX_PER_FILE)
    kept = [(root / path, texts) for path, texts in records if (root / path).exists()][:cap]
    short = len(kept) < min(cap, len(records))
    if not kept:
        return None, short
    img = encoder.images([p for p, _ in kept])
    pos, neg = encoder.texts([t["POS"][0] for _, t in kept]), encoder.texts([t["NEG"][0] for _, t in kept])
    right = (img * pos).sum(-1) > (img * neg).sum(-1)
    return float(right.float().mean() * 100), short


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    out, missing, short = {}, [], 0
    for axis, sources in AXES.items():
        per_source = []
        for source, files in sources.items():
            accs = []
            for rel in files:
                try:
                    acc, was_short = _file(encoder, data_root, rel, source, limit)
                except BenchmarkDataError:
                    acc, was_short = None, False
                short += int(was_short and acc is not None)
                if acc is None:
                    missing.append(rel)
                else:
                    accs.append(acc)
            if accs:
                per_source.append(sum(accs) / len(accs))
        if per_source:
            out[axis] = sum(per_source) / len(per_source)
    if not out:
        raise BenchmarkDataError(f"vl_checklist: no corpus file with images under {data_root / 'vl_checklist'}; "
                                 f"expected {LAYOUT}")
    for family in ("Object", "Attribute", "Relation"):
        axes = [v for k, v in out.items() if k.startswith(family + "_")]
        if axes:
            out[family.lower()] = sum(axes) / len(axes)
    if all(f in out for f in ("object", "attribute", "relation")):
        out["vl_compo_mean"] = (out["object"] + out["attribute"] + out["relation"]) / 3
    out["axes"], out["missing_files"], out["short_files"] = len([k for k in out if k in AXES]), len(missing), short
    if missing:
        out["missing_first"] = missing[0]
    return out


register("vl_checklist", "VL-CheckList: 13 axes of objects, attributes, relations (ITC accuracy, POS[0] vs NEG[0])",
         LAYOUT)(evaluate)
