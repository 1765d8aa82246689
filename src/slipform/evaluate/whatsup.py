"""What'sUp (Kamath et al., 2023): spatial relations, one image against 4 (or 2) captions.

Files: the JSONs the authors' code downloads (github.com/amitakamath/whatsup_vlms,
``dataset_zoo/aro_datasets.py``) and their images, under ``whatsup/``::

    whatsup/controlled_images_dataset.json  + whatsup/controlled_images/<file>     (Controlled A)
    whatsup/controlled_clevr_dataset.json   + whatsup/controlled_clevr/<file>      (Controlled B)
    whatsup/coco_qa_{one,two}_obj.json      + whatsup/val2017/<image_id:012d>.jpg (COCO-QA)
    whatsup/vg_qa_{one,two}_obj.json        + whatsup/vg_images/<image_id>.jpg    (GQA/VG-QA)

Controlled sets are lists of ``{"image_path", "caption_options"}`` (4 options; the file's
``image_path`` is read by its last two parts, folder and file name); the QA sets are lists of
``[image_id, right caption, wrong caption]``. The right option is always the first.

Metrics (%), as ``evaluate_scores`` there: accuracy = share whose image scores option 0 highest
(``argmax``, so a tie goes to option 0, as in the original). The controlled sets also report
**pair accuracy** (per object pair, +1 when both left and right are right, +1 when both on and
under -- in-front and behind for B -- are right; over N/2) and **set accuracy** (all four
right; over N/4); the object pair is the file name's first and last ``_``-separated parts and
the relation its second part. ``macro`` is the mean accuracy over the six subsets (the
README's Table 1 averages, and vl_compo's ``whatsup``). A subset whose files are absent is
reported as ``<subset>_error``; the others still run.
"""

from __future__ import annotations

from pathlib import Path

import torch

from . import register
from .encode import BenchmarkDataError, Encoder, published_file_note, read_json, require_files

LAYOUT = "DATA_ROOT/whatsup/<subset>.json with controlled_images/, controlled_clevr/, val2017/, vg_images/"
# subset -> (annotation file, image folder); the published row counts and sha256 starts (formats notes)
SUBSETS = {"controlled_a": ("controlled_images_dataset.json", "controlled_images"),
           "controlled_b": ("controlled_clevr_dataset.json", "controlled_clevr"),
           "coco_qa_one": ("coco_qa_one_obj.json", "val2017"), "coco_qa_two": ("coco_qa_two_obj.json", "val2017"),
           "vg_qa_one": ("vg_qa_one_obj.json", "vg_images"), "vg_qa_two": ("vg_qa_two_obj.json", "vg_images")}
# rows of the published files: Controlled A/B from the format notes (with their sha256 starts), the QA
# sets from vl_compo's tables (their figures are whole counts out of these in all 202 rows)
PUBLISHED = {"controlled_a": (412, "77ee94ae"), "controlled_b": (408, "2c0df1ab"), "coco_qa_one": (2247, ""),
             "coco_qa_two": (440, ""), "vg_qa_one": (1160, ""), "vg_qa_two": (291, "")}
PAIRS = {"controlled_a": (("left", "right"), ("on", "under")),
         "controlled_b": (("left", "right"), ("in-front", "behind"))}


def _cases(data_root: Path, subset: str, limit):
    name, folder = SUBSETS[subset]
    path = data_root / "whatsup" / name
    rows = read_json(path, "whatsup", LAYOUT)
    note = published_file_note(path, len(rows), *PUBLISHED[subset])
    rows = rows[:limit] if limit else rows
    base = data_root / "whatsup" / folder
    if subset.startswith("controlled"):
        cases = [(base / Path(r["image_path"]).name, list(r["caption_options"]), Path(r["image_path"]).name)
                 for r in rows]
    elif subset.startswith("coco"):
        cases = [(base / f"{str(r[0]).zfill(12)}.jpg", [r[1], r[2]], None) for r in rows]
    else:
        cases = [(base / f"{r[0]}.jpg", [r[1], r[2]], None) for r in rows]
    return cases, note


def pair_and_set_accuracy(file_names: list[str], correct: list[bool], subset: str) -> tuple[float, float]:
    """What'sUp's pair and set accuracy of a controlled subset (see the module docstring)."""
    (a, b), (c, d) = PAIRS[subset]
    by_objects: dict[tuple[str, str], dict[str, bool]] = {}
    for name, ok in zip(file_names, correct):
        parts = Path(name).stem.split("_")
        by_objects.setdefault((parts[0], parts[-1]), {})[parts[1]] = bool(ok)
    pairs = sum(int(v.get(a, False) and v.get(b, False)) + int(v.get(c, False) and v.get(d, False))
                for v in by_objects.values())
    sets = sum(int(all(v.get(k, False) for k in (a, b, c, d))) for v in by_objects.values())
    n = len(file_names)
    return pairs * 100 / (n / 2), sets * 100 / (n / 4)


def _subset(encoder: Encoder, data_root: Path, subset: str, limit) -> dict:
    cases, note = _cases(data_root, subset, limit)
    require_files([p for p, _, _ in cases], f"whatsup {subset}", LAYOUT)
    k = len(cases[0][1])
    img = encoder.images([p for p, _, _ in cases])
    txt = encoder.texts([o for _, opts, _ in cases for o in opts]).reshape(len(cases), k, -1)
    correct = (torch.einsum("nd,nkd->nk", img, txt).argmax(1) == 0).tolist()
    out = {subset: sum(correct) / len(correct) * 100, f"{subset}_n": len(correct)}
    if subset in PAIRS:
        out[f"{subset}_pair"], out[f"{subset}_set"] = pair_and_set_accuracy([n for _, _, n in cases], correct, subset)
    if note:
        out[f"{subset}_note"] = note
    return out


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    out, errors = {}, []
    for subset in SUBSETS:
        try:
            out.update(_subset(encoder, data_root, subset, limit))
        except BenchmarkDataError as exc:
            out[f"{subset}_error"] = str(exc)
            errors.append(str(exc))
    if len(errors) == len(SUBSETS):
        raise BenchmarkDataError(errors[0])
    present = [s for s in SUBSETS if s in out]
    out["macro"] = sum(out[s] for s in present) / len(present)
    out["subsets"] = len(present)
    return out


register("whatsup", "What'sUp: spatial relations, Controlled A/B (accuracy, pair, set), COCO-QA and VG-QA 1/2-object",
         LAYOUT)(evaluate)
