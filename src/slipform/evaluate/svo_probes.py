"""SVO-Probes (Hendricks & Nematzadeh, 2021): subject, verb and object negatives, by image.

Files: ``svo_probes.csv`` (github.com/google-deepmind/svo_probes; the annotation is served from
storage.googleapis.com/dm-mmt-models/svo_probes.csv) and its web images, which the user
downloads from ``pos_url``/``neg_url`` and names by image id::

    svo_probes/svo_probes.csv
    svo_probes/images/<image_id>.jpg     (.png and .jpeg are looked for too)

Columns used: ``sentence``, ``pos_image_id``, ``neg_image_id`` and the ``subj_neg``,
``verb_neg``, ``obj_neg`` flags. Many URLs are dead: rows with a missing image are dropped, as
the official notebook drops rows without a score, and so are rows without exactly one flag set
(no negative type); ``dropped_rows`` counts both.

Metric, vl_compo's columns: per negative type (rows with exactly that one flag set), the
**per-row pairwise accuracy** -- the share of rows whose sentence scores the positive image
strictly above the negative one (a tie is wrong). That rule is read off vl_compo's tables: in
193 of the 202 rows ``subj_neg``, ``verb_neg`` and ``obj_neg`` are whole counts out of 3,728,
13,523 and 4,911 rows, and in the other 9 (nine large OpenCLIP checkpoints -- ViT-bigG-14, ViT-g-14,
ViT-H-14, EVA01-g-14, EVA02-E-14, the two CLIPA, SigLIP SO400M, CoCa ViT-L-14 -- presumably
scored on another download of the web images) out of 3,727, 13,592 and 4,937; the notebook's key-based metric gives
no such counts when a sentence or image repeats. ``<type>`` is that accuracy, ``<type>_n`` its
rows, ``all`` the three types pooled, and ``mean`` their mean (vl_compo's ``svo_probes``).

The notebook's own metric (``probing_image_text_models.ipynb``, "accuracy") is kept under
``<type>_key``: ``(pos_acc + neg_acc) / 2`` where ``pos_acc`` is over the unique (sentence,
positive image) keys and ``neg_acc`` over the unique (sentence, negative image) keys, sentences
keyed lower-cased with runs of spaces collapsed. The notebook judges each key by a binary
image-text match; a dual encoder has no threshold, so here a key is judged against the images it
is paired with: a positive is right when the sentence scores it above every negative it is
paired with in that subset, a negative when below every positive (strict). Where each key
occurs once the two metrics agree.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from . import register
from .encode import BenchmarkDataError, Encoder

TYPES = ("subj_neg", "verb_neg", "obj_neg")
LAYOUT = "DATA_ROOT/svo_probes/svo_probes.csv and DATA_ROOT/svo_probes/images/<image_id>.jpg"


def sentence_key(sentence: str) -> str:
    return re.sub(r" +", " ", sentence.lower()).strip()


def _flag(value: str) -> bool:
    return str(value).strip().lower() in ("true", "1")


def load_rows(path: Path, limit: int | None = None) -> list[dict]:
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise BenchmarkDataError(f"svo_probes: {path} not found; expected {LAYOUT}") from None
    need = {"sentence", "pos_image_id", "neg_image_id", *TYPES}
    if rows and not need <= set(rows[0]):
        raise BenchmarkDataError(f"svo_probes: {path}:1: missing columns {sorted(need - set(rows[0]))}")
    return rows[:limit] if limit else rows


def _image(root: Path, image_id: str) -> Path | None:
    for ext in (".jpg", ".png", ".jpeg"):
        if (p := root / f"{image_id}{ext}").exists():
            return p
    return None


def row_accuracy(rows: list[tuple[str, str, str, float, float]]) -> float:
    """Pairwise accuracy (%) over rows ``(sentence key, pos id, neg id, s_pos, s_neg)``: s_pos > s_neg."""
    return sum(sp > sn for _, _, _, sp, sn in rows) / len(rows) * 100


def key_accuracy(rows: list[tuple[str, str, str, float, float]]) -> float:
    """``(pos_acc + neg_acc) / 2`` (%) over rows ``(sentence key, pos id, neg id, s_pos, s_neg)``."""
    pos: dict[tuple[str, str], bool] = {}
    neg: dict[tuple[str, str], bool] = {}
    for sent, p, n, sp, sn in rows:
        pos[(sent, p)] = pos.get((sent, p), True) and sp > sn
        neg[(sent, n)] = neg.get((sent, n), True) and sn < sp
    return (sum(pos.values()) / len(pos) + sum(neg.values()) / len(neg)) / 2 * 100


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    rows = load_rows(data_root / "svo_probes" / "svo_probes.csv", limit)
    root = data_root / "svo_probes" / "images"
    kept = []
    for r in rows:
        p, n = _image(root, r["pos_image_id"]), _image(root, r["neg_image_id"])
        types = [t for t in TYPES if _flag(r[t])]
        if p is not None and n is not None and len(types) == 1:
            kept.append((r, p, n, types[0]))
    if not kept:
        raise BenchmarkDataError(f"svo_probes: none of the {len(rows)} rows has both images under {root}; "
                                 f"expected {LAYOUT}")
    img_pos, img_neg = encoder.images([p for _, p, _, _ in kept]), encoder.images([n for _, _, n, _ in kept])
    txt = encoder.texts([r["sentence"] for r, _, _, _ in kept])
    s_pos, s_neg = (txt * img_pos).sum(-1).tolist(), (txt * img_neg).sum(-1).tolist()
    scored = [(sentence_key(r["sentence"]), r["pos_image_id"], r["neg_image_id"], sp, sn, t)
              for (r, _, _, t), sp, sn in zip(kept, s_pos, s_neg)]
    out = {}
    for t in TYPES:
        part = [x[:5] for x in scored if x[5] == t]
        if part:
            out[t], out[f"{t}_key"], out[f"{t}_n"] = row_accuracy(part), key_accuracy(part), len(part)
    out["all"], out["all_key"] = row_accuracy([x[:5] for x in scored]), key_accuracy([x[:5] for x in scored])
    present = [t for t in TYPES if t in out]
    out["mean"] = sum(out[t] for t in present) / len(present)
    out["dropped_rows"] = len(rows) - len(kept)
    return out


register("svo_probes", "SVO-Probes: subject/verb/object negative images (pairwise accuracy per type; key-based too)",
         LAYOUT)(evaluate)
