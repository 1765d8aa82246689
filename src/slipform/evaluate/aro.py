"""ARO (Yuksekgonul et al., 2023): Attribution, Relation and Order.

Files: ``visual_genome_relation.json`` and ``visual_genome_attribution.json`` as published
with the ARO code (github.com/mertyg/vision-language-models-are-bows), their images (a GQA
subset), and Karpathy's split files for the order tasks::

    aro/visual_genome_relation.json     aro/visual_genome_attribution.json
    aro/images/<image_path>
    karpathy/dataset_coco.json + coco/...   karpathy/dataset_flickr30k.json + flickr30k/images/...

- VG-Relation / VG-Attribution: the image is cropped to the item's bounding box; accuracy =
  share preferring ``true_caption`` over ``false_caption``. ``macro`` as the ARO authors report
  it: VG-Relation averages per-relation accuracies over the relations not in their list of
  symmetric ones; VG-Attribution averages per attribute pair over pairs with >= 25 items.
  ``micro`` is over all items.
- COCO-Order / Flickr-Order: each Karpathy test caption against its four perturbations, built
  and scored as ARO's code does (:mod:`slipform.evaluate.aro_order`: spaCy fine-grained tags,
  nltk's word tokenizer, BLIP's ``pre_caption`` on every option); Precision@1 (%). Seeded per
  caption; ``order_seeds`` (default ``(0,)``) with several seeds adds the mean and sd over them,
  ``debiased=True`` a variant without punctuation under its own key.

vl_compo's ``aro`` is the mean of the four (its tables: the two order columns are whole counts
out of 25,010 and 5,000 captions, all the Karpathy test captions).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from . import register
from .aro_order import order_task
from .encode import BenchmarkDataError, Encoder, require_files
from .metrics import grouped_accuracy

# Relations the ARO authors leave out of the VG-Relation macro average (from their released code).
EXCLUDED_RELATIONS = frozenset((
    "adjusting", "attached to", "between", "bigger than", "biting", "boarding", "brushing", "chewing", "cleaning",
    "climbing", "close to", "coming from", "coming out of", "contain", "crossing", "dragging", "draped over",
    "drinking", "drinking from", "driving", "driving down", "driving on", "eating from", "eating in", "enclosing",
    "exiting", "facing", "filled with", "floating in", "floating on", "flying", "flying above", "flying in",
    "flying over", "flying through", "full of", "going down", "going into", "going through", "grazing in",
    "growing in", "growing on", "guiding", "hanging from", "hanging in", "hanging off", "hanging over",
    "higher than", "holding onto", "hugging", "in between", "jumping off", "jumping on", "jumping over", "kept in",
    "larger than", "leading", "leaning over", "leaving", "licking", "longer than", "looking in", "looking into",
    "looking out", "looking over", "looking through", "lying next to", "lying on top of", "making", "mixed with",
    "mounted on", "moving", "on the back of", "on the edge of", "on the front of", "on the other side of",
    "opening", "painted on", "parked at", "parked beside", "parked by", "parked in", "parked in front of",
    "parked near", "parked next to", "perched on", "petting", "piled on", "playing", "playing in", "playing on",
    "playing with", "pouring", "reaching for", "reading", "reflected on", "riding on", "running in", "running on",
    "running through", "seen through", "sitting behind", "sitting beside", "sitting by", "sitting in front of",
    "sitting near", "sitting next to", "sitting under", "skiing down", "skiing on", "sleeping in", "sleeping on",
    "smiling at", "sniffing", "splashing", "sprinkled on", "stacked on", "standing against", "standing around",
    "standing behind", "standing beside", "standing in front of", "standing near", "standing next to",
    "staring at", "stuck in", "surrounding", "swimming in", "swinging", "talking to", "topped with", "touching",
    "traveling down", "traveling on", "tying", "typing on", "underneath", "wading in", "waiting for",
    "walking across", "walking by", "walking down", "walking next to", "walking through", "working in",
    "working on", "worn on", "wrapped around", "wrapped in", "by", "of", "near", "next to", "with", "beside",
    "on the side of", "around"))
MIN_ATTRIBUTE_PAIR = 25
LAYOUT = "DATA_ROOT/aro/visual_genome_{relation,attribution}.json and DATA_ROOT/aro/images/<image_path>"


def _vg(encoder: Encoder, data_root: Path, name: str, limit):
    path = data_root / "aro" / f"visual_genome_{name}.json"
    try:
        items = json.loads(path.read_text())
    except FileNotFoundError:
        raise BenchmarkDataError(f"aro: {path} not found; expected {LAYOUT}") from None
    items = items[:limit] if limit else items
    paths = [data_root / "aro" / "images" / it["image_path"] for it in items]
    require_files(paths, "aro", LAYOUT)
    boxes = [(it["bbox_x"], it["bbox_y"], it["bbox_x"] + it["bbox_w"], it["bbox_y"] + it["bbox_h"]) for it in items]
    img = encoder.images(paths, boxes)
    true, false = encoder.texts([it["true_caption"] for it in items]), encoder.texts([it["false_caption"] for it in items])
    return items, ((img * true).sum(-1) > (img * false).sum(-1)).tolist()


def _relation(encoder, data_root, limit) -> dict:
    items, ok = _vg(encoder, data_root, "relation", limit)
    kept = [(c, it["relation_name"]) for c, it in zip(ok, items) if it["relation_name"] not in EXCLUDED_RELATIONS]
    acc = grouped_accuracy([c for c, _ in kept], [g for _, g in kept])
    return {"vg_relation_macro": acc["macro"], "vg_relation_micro": sum(ok) / len(ok) * 100,
            "vg_relation_n": len(ok), "vg_relation_relations": len(acc["per_group"])}


def _attribution(encoder, data_root, limit) -> dict:
    items, ok = _vg(encoder, data_root, "attribution", limit)
    pairs = ["-".join(it["attributes"]) for it in items]
    acc = grouped_accuracy(ok, pairs, min_count=MIN_ATTRIBUTE_PAIR)
    return {"vg_attribution_macro": acc["macro"], "vg_attribution_micro": acc["micro"], "vg_attribution_n": len(ok),
            "vg_attribution_pairs": len(acc["per_group"])}


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None, order_seeds: Sequence[int] = (0,),
             debiased: bool = False) -> dict:
    out = {}
    out.update(_relation(encoder, data_root, limit))
    out.update(_attribution(encoder, data_root, limit))
    for dataset in ("coco", "flickr30k"):
        try:
            out.update(order_task(encoder, data_root, dataset, limit, order_seeds, debiased))
        except BenchmarkDataError as exc:
            out[f"{dataset}_order_error"] = str(exc)
    return out


# registered by a call, not a decorator: mutmut (bench/mutation.py) does not mutate decorated functions
register("aro", "ARO: VG-Relation, VG-Attribution (macro, micro), COCO- and Flickr-Order (Precision@1)",
         "aro/visual_genome_{relation,attribution}.json, aro/images/; karpathy/dataset_{coco,flickr30k}.json, "
         "coco/, flickr30k/images/")(evaluate)
