"""ImageCoDe (Krojer et al., 2022): pick the described image among 10 near-identical ones.

Files: the annotations of github.com/McGill-NLP/imagecode (``data/``, MIT) and the image sets
of its ``image-sets.zip`` release (Zenodo record 6518944), unzipped::

    imagecode/valid_data.json                  (or imagecode/data/valid_data.json)
    imagecode/image-sets/<set>/img<X>.jpg      10 images per set

``valid_data.json`` is ``{set: {"<target 0-9>": description}}``; the test split's targets are
hidden, so the labelled ``valid`` split is scored (as vl_compo did: its figures are exact
multiples of 1/1,872 video and 1/430 static descriptions, the valid split's counts).

Metric, as the authors' zero-shot CLIP script (``baselines/clip/zero_shot.py``): a set's images
are **sorted by the number X in ``imgX.jpg``** and ``target`` is a position in that order, not
the X of a file name (video sets name frames by frame number); each description, stripped of
outer white space (``text.strip()``, L70), is scored against the 10 images and is right when the
most similar one is the target (argmax; a tie goes to the earlier image, as the script's sort of
10 values does). Accuracy (%) over all descriptions, over video sets
and over static sets (a set is static when ``open-images`` is in its name). A set whose folder
does not hold exactly 10 ``img<X>`` files is skipped and counted (``skipped_sets``, which keeps
the run from vl_compo's summary: :func:`slipform.evaluate.vl_compo.gaps`); a valid file without
the published 2,302 descriptions gets a ``note``.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from . import register
from .encode import BenchmarkDataError, Encoder, published_file_note, read_json, require_files

LAYOUT = "DATA_ROOT/imagecode/valid_data.json and DATA_ROOT/imagecode/image-sets/<set>/img<X>.jpg"
_NUMBER = re.compile(r"^img(\d+)\.\w+$")
VALID_DESCRIPTIONS = 2302  # the published valid split


def annotation_path(data_root: Path, split: str = "valid") -> Path:
    for cand in (data_root / "imagecode" / f"{split}_data.json", data_root / "imagecode" / "data" / f"{split}_data.json"):
        if cand.exists():
            return cand
    return data_root / "imagecode" / f"{split}_data.json"


def load_descriptions(path: Path, limit: int | None = None) -> list[tuple[str, int, str]]:
    """``(set, target position, description)`` for each description, in file order; descriptions are
    stripped of leading and trailing white space, as the official script strips them (854 of the
    2,302 valid descriptions carry such spaces)."""
    data = read_json(path, "imagecode", LAYOUT)
    items = []
    for set_name, targets in data.items():
        if not isinstance(targets, dict):
            raise BenchmarkDataError(f"imagecode: {path}: set {set_name!r} has no target indices (the unlabeled "
                                     "test file?); score the valid split")
        items.extend((set_name, int(t), str(text).strip()) for t, text in targets.items())
    return items[:limit] if limit else items


def sorted_images(folder: Path) -> list[Path]:
    """A set's images in the official order: by the integer X of ``imgX.jpg``."""
    named = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NUMBER.match(p.name))]
    return [p for _, p in sorted(named)]


def is_static(set_name: str) -> bool:
    return "open-images" in set_name


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    path = annotation_path(data_root)
    items = load_descriptions(path, limit)
    note = None if limit else published_file_note(path, len(items), VALID_DESCRIPTIONS)
    root = data_root / "imagecode" / "image-sets"
    sets = sorted({s for s, _, _ in items})
    require_files([root / s for s in sets], "imagecode", LAYOUT)
    images = {s: sorted_images(root / s) for s in sets}
    complete = {s for s, paths in images.items() if len(paths) == 10}
    kept = [it for it in items if it[0] in complete]
    if not kept:
        raise BenchmarkDataError(f"imagecode: no set under {root} holds 10 img<X> files; expected {LAYOUT}")
    order = sorted(complete)
    img = encoder.images([p for s in order for p in images[s]]).reshape(len(order), 10, -1)
    where = {s: i for i, s in enumerate(order)}
    txt = encoder.texts([text for _, _, text in kept])
    sims = torch.einsum("nd,nkd->nk", txt, img[[where[s] for s, _, _ in kept]])
    right = (sims.argmax(1) == torch.tensor([t for _, t, _ in kept])).tolist()
    static = [is_static(s) for s, _, _ in kept]
    video_right = [r for r, st in zip(right, static) if not st]
    static_right = [r for r, st in zip(right, static) if st]
    pct = lambda xs: sum(xs) / len(xs) * 100 if xs else float("nan")  # noqa: E731
    return {"accuracy": pct(right), "video_accuracy": pct(video_right), "static_accuracy": pct(static_right),
            "n": len(right), "n_video": len(video_right), "n_static": len(static_right),
            "skipped_sets": len(sets) - len(complete), **({"note": note} if note else {})}


register("imagecode", "ImageCoDe: the described image among 10 (valid split; accuracy, video and static)", LAYOUT)(evaluate)
