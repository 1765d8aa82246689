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
- COCO-Order / Flickr-Order: each test caption against its four perturbations from the ARO
  paper (shuffle nouns and adjectives; shuffle all but nouns and adjectives; shuffle trigrams;
  shuffle words within trigrams); Precision@1 (%) = share whose image ranks the original
  caption first. Captions are first preprocessed as ARO's code does (:func:`aro_preprocess`:
  lower-case, punctuation marks removed, at most 30 words). The shuffles are seeded per
  caption, so scores are reproducible (the original code reshuffles at every run); that is the
  one place where ours differs. As in ARO's code (``argmax == 0``) a tie goes to the original
  caption, which a perturbation equal to it (a caption with one noun) always ties; the world's
  word-order task counts ties against the model instead.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import torch

from . import register
from .encode import BenchmarkDataError, Encoder, require_files
from .metrics import grouped_accuracy
from .retrieval import load_test

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


def perturbations(caption: str, tags: list[tuple[str, str]], rng: random.Random) -> list[str]:
    """The four ARO order perturbations of a caption given its (word, POS) tags."""
    words = [w for w, _ in tags]

    def shuffle_where(pick):
        idx = [i for i, (_, p) in enumerate(tags) if pick(p)]
        moved = [words[i] for i in idx]
        rng.shuffle(moved)
        out = list(words)
        for i, w in zip(idx, moved):
            out[i] = w
        return " ".join(out)

    na = ("NOUN", "PROPN", "ADJ")
    trigrams = [words[i:i + 3] for i in range(0, len(words), 3)]
    shuffled = list(trigrams)
    rng.shuffle(shuffled)
    within = []
    for t in trigrams:
        t = list(t)
        rng.shuffle(t)
        within.append(t)
    return [shuffle_where(lambda p: p in na), shuffle_where(lambda p: p not in na),
            " ".join(w for t in shuffled for w in t), " ".join(w for t in within for w in t)]


_ARO_PUNCT = re.compile(r"([.!\"()*#:;~])")


def aro_preprocess(caption: str, max_words: int = 30) -> str:
    """A caption as ARO's order tasks see it: lower-cased, the marks ``.!"()*#:;~`` replaced by
    spaces, white space collapsed, cut to ``max_words`` words (the BLIP ``pre_caption`` that ARO's
    COCO/Flickr-Order datasets apply with 30 words)."""
    text = re.sub(r"\s{2,}", " ", _ARO_PUNCT.sub(" ", caption.lower())).strip()
    return " ".join(text.split(" ")[:max_words])


def _order(encoder, data_root, dataset: str, limit, seed: int = 0, preprocess: bool = True) -> dict:
    from ..text.nlp import load_nlp

    paths, texts, owner = load_test(data_root, dataset, limit)
    if preprocess:  # as ARO's code does, so that our numbers compare with the published ones
        texts = [aro_preprocess(t) for t in texts]
    require_files(paths, f"aro_{dataset}_order", f"DATA_ROOT/karpathy/... (see {__name__})")
    nlp = load_nlp()
    options = []
    for n, (text, doc) in enumerate(zip(texts, nlp.pipe(texts))):
        rng = random.Random(f"{seed}:{dataset}:{n}")
        tags = [(t.text, t.pos_) for t in doc if not t.is_punct]
        # the original is re-joined like the perturbations, so punctuation gives nothing away
        options.append([" ".join(w for w, _ in tags), *perturbations(text, tags, rng)])
    img = encoder.images([paths[i] for i in owner.tolist()])
    txt = encoder.texts([o for opts in options for o in opts]).reshape(len(options), 5, -1)
    scores = torch.einsum("nd,nkd->nk", img, txt)
    top1 = scores.argmax(1) == 0
    return {f"{dataset}_order_precision@1": float(top1.float().mean() * 100), f"{dataset}_order_n": len(options)}


def evaluate(encoder: Encoder, data_root: Path, limit: int | None = None) -> dict:
    out = {}
    out.update(_relation(encoder, data_root, limit))
    out.update(_attribution(encoder, data_root, limit))
    for dataset in ("coco", "flickr30k"):
        try:
            out.update(_order(encoder, data_root, dataset, limit))
        except BenchmarkDataError as exc:
            out[f"{dataset}_order_error"] = str(exc)
    return out


# registered by a call, not a decorator: mutmut (bench/mutation.py) does not mutate decorated functions
register("aro", "ARO: VG-Relation, VG-Attribution (macro, micro), COCO- and Flickr-Order (Precision@1)",
         "aro/visual_genome_{relation,attribution}.json, aro/images/; karpathy/dataset_{coco,flickr30k}.json, "
         "coco/, flickr30k/images/")(evaluate)
