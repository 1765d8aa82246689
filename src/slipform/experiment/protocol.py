"""The paper's protocol in the world: pretrain a small CLIP, fine-tune it with each method, evaluate.

Everything goes through the real library -- :func:`slipform.plant.plant_file` on the world's
captions CSV, :func:`slipform.train.train` on the CSV and the planted negatives, and
:func:`slipform.evaluate.run` on the world benchmarks -- with no world-specific shortcut. The
world only supplies the data and, for image negatives, the exact :class:`~.editor.WorldEditor`.

Each stage writes its result to disk and is skipped when the result is already there, so an
interrupted protocol resumes where it stopped (a training run resumes from its checkpoint).
The pretrained model is cached under ``SLIPFORM_CACHE/world`` keyed by a hash of its config.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..data import DataConfig
from ..losses import LossConfig
from ..models import ModelSpec
from ..run import RunDir
from ..select import SelectConfig
from ..world.dataset import write_split
from ..world.editor import WorldEditor
from ..world.render import render
from ..world.scene import WorldConfig, sample_scene
from .config import ProtocolConfig
from .layout import DemoLayout


@dataclass(frozen=True)
class Method:
    """A fine-tuning recipe: which negatives (``None``, ``swap`` for NegCLIP's, or a kind of
    :data:`PLANTS`), which loss, whether the edited negative images join the batch, and how
    training chooses among a caption's planted negatives (:class:`~slipform.select.SelectConfig`)."""

    name: str
    label: str
    negatives: str | None
    loss: LossConfig = field(default_factory=lambda: LossConfig(kind="clip"))
    image_negatives: bool = False
    finetune: bool = True
    select: SelectConfig = field(default_factory=SelectConfig)


@dataclass(frozen=True)
class Plant:
    """How one kind of negatives is planted: a ConcretePlant target strategy, negatives per
    caption, whether the concreteness comes from visual norms (:mod:`slipform.norms`) measured on
    the training split instead of Brysbaert's, and the reading of the A/R/O routes (``route``:
    ``"target"``, the changed word is the chosen word; ``"anchor"``, the route edits around the
    chosen anchor; None: the planter's default)."""

    strategy: str
    per_caption: int = 1
    visual: bool = False
    route: str | None = None


# Slipform's competing variants (docs/RESULTS.md section 5, registered before their run): the
# A/R/O reading x the Cement margin x negatives per caption. ``slipform``'s row is SELECTED.
READINGS = ("target", "anchor")
MARGINS = {"linear": "adaptive", "calibrated": "calibrated"}
PER_CAPTION = (1, 2)


def variant_name(reading: str, margin: str, n: int) -> str:
    return f"slipform_{reading}_{margin}_{n}"


def variant_plant(reading: str, n: int) -> str:
    """The kind of negatives of a variant: ``concrete``/``concrete2`` (target), ``anchor``/``anchor2``."""
    return ("concrete" if reading == "target" else "anchor") + ("" if n == 1 else str(n))


VARIANTS = tuple(variant_name(r, m, n) for r in READINGS for m in MARGINS for n in PER_CAPTION)
SELECTED = "slipform_anchor_calibrated_2"  # chosen on validation by the registered rule (RESULTS section 5)
_SEL_READING, _SEL_MARGIN, _SEL_N = SELECTED.split("_")[1], SELECTED.split("_")[2], int(SELECTED.split("_")[3])

PLANTS = {**{variant_plant(r, n): Plant("concrete", per_caption=n, route=r) for r in READINGS for n in PER_CAPTION},
          # the ablations of claim (a) change only the strategy of the selected variant's negatives
          "abstract": Plant("abstract", per_caption=_SEL_N, route=_SEL_READING),
          "random": Plant("random", per_caption=_SEL_N, route=_SEL_READING),
          # so do the rows beyond the paper (visual norms, hardest of 3): the selected reading
          "concrete3": Plant("concrete", per_caption=3, route=_SEL_READING),
          "visual": Plant("concrete", visual=True, route=_SEL_READING),
          "visual3": Plant("concrete", per_caption=3, visual=True, route=_SEL_READING)}
_SELECTED_NEGATIVES = variant_plant(_SEL_READING, _SEL_N)


_CEMENT = LossConfig(kind="cement", schedule=MARGINS[_SEL_MARGIN])
_NEGCLIP = LossConfig(kind="negclip")
_HARDEST = SelectConfig("hardest", k=3)
_FSC_GLOBAL = LossConfig(kind="fsc_clip", options={"local_weight": 0.0})
# every ConcretePlant row trains on the selected variant's negatives (_SELECTED_NEGATIVES)
METHODS = {m.name: m for m in (
    Method("pretrained", "Pretrained CLIP", None, finetune=False),
    Method("clip_ft", "CLIP-FT", None),
    Method("negclip", "NegCLIP", "swap", LossConfig(kind="negclip")),
    Method("concrete_negclip", "ConcretePlant + NegCLIP loss", _SELECTED_NEGATIVES, LossConfig(kind="negclip")),
    Method("slipform", "Slipform (ConcretePlant + Cement)", _SELECTED_NEGATIVES, _CEMENT),
    *(Method(variant_name(r, m, n), f"Slipform variant: {r}, {m} margin, {n} per caption", variant_plant(r, n),
             LossConfig(kind="cement", schedule=MARGINS[m])) for r in READINGS for m in MARGINS for n in PER_CAPTION),
    # the loss apart from the negatives: Slipform's Cement on NegCLIP's own swap negatives
    Method("cement_swaps", "Cement on NegCLIP's swaps", "swap", _CEMENT),
    Method("abstract_target", "Abstract targets + Cement", "abstract", _CEMENT),
    Method("random_target", "Random targets + Cement", "random", _CEMENT),
    Method("static_margin", "Slipform, static margin", _SELECTED_NEGATIVES, LossConfig(kind="cement", schedule="static")),
    Method("image_negatives", "Slipform + negative images", _SELECTED_NEGATIVES, _CEMENT, image_negatives=True),
    # positive controls: the benchmark's own swaps as training negatives (an upper bound on what
    # hard negatives can teach the model about that test)
    Method("control_relation", "Control: relation-swap negatives", "relation_swap", LossConfig(kind="negclip")),
    Method("control_attribute", "Control: attribute-swap negatives", "attribute_swap", LossConfig(kind="negclip")),
    # beyond the paper: concreteness measured from the images (visual norms), negatives chosen
    # by the model (hardest of the 3 planted per caption), and both
    Method("visual_negclip", "Visual norms + NegCLIP loss", "visual", _NEGCLIP),
    Method("visual_slipform", "Visual norms + Cement", "visual", _CEMENT),
    Method("hardest_negclip", "Hardest-of-3 + NegCLIP loss", "concrete3", _NEGCLIP, select=_HARDEST),
    Method("hardest_slipform", "Hardest-of-3 + Cement", "concrete3", _CEMENT, select=_HARDEST),
    Method("visual_hardest_negclip", "Visual norms, hardest-of-3 + NegCLIP loss", "visual3", _NEGCLIP,
           select=_HARDEST),
    Method("visual_hardest_slipform", "Visual norms, hardest-of-3 + Cement", "visual3", _CEMENT, select=_HARDEST),
    # the field's methods side by side (each with its own recipe's defaults, see slipform train
    # --list-losses): with NegCLIP's swap negatives, and with ConcretePlant's
    Method("ce_clip", "CE-CLIP", "swap", LossConfig(kind="ce_clip")),
    Method("ce_clip_concrete", "ConcretePlant + CE-CLIP loss", _SELECTED_NEGATIVES, LossConfig(kind="ce_clip")),
    # FSC-CLIP's global loss only: the world's 48-px ResNet ends in a 1x1 grid, where the local
    # token-patch loss has one patch and nothing local to align
    Method("fsc_clip", "FSC-CLIP (global loss)", "swap", _FSC_GLOBAL),
    Method("fsc_clip_concrete", "ConcretePlant + FSC-CLIP global loss", _SELECTED_NEGATIVES, _FSC_GLOBAL),
    Method("siglip", "SigLIP loss + NegCLIP's negatives", "swap", LossConfig(kind="siglip")),
    Method("cement_siglip", "ConcretePlant + Cement on SigLIP", _SELECTED_NEGATIVES, LossConfig(kind="cement_siglip")),
    Method("tripletclip", "TripletCLIP (ConcretePlant's negatives and their images)", _SELECTED_NEGATIVES,
           LossConfig(kind="tripletclip"), image_negatives=True),
    Method("degla", "DeGLA", "swap", LossConfig(kind="degla")),
    Method("degla_concrete", "ConcretePlant + DeGLA loss", _SELECTED_NEGATIVES, LossConfig(kind="degla")),
)}
DEMO_METHODS = ("pretrained", "clip_ft", "negclip", "slipform")
CONTROL_METHODS = ("pretrained", "clip_ft", "negclip", "control_relation", "control_attribute")
FULL_METHODS = tuple(m for m in METHODS if m not in VARIANTS)
# --validate: the variants against CLIP-FT, on the validation split
VALIDATE_METHODS = ("clip_ft", *VARIANTS)
# --compare: every published method of the loss registry beside NegCLIP, on the same seeds and data
COMPARE_METHODS = ("pretrained", "clip_ft", "negclip", "concrete_negclip", "slipform", "cement_swaps", "ce_clip",
                   "ce_clip_concrete", "fsc_clip", "fsc_clip_concrete", "siglip", "cement_siglip", "tripletclip",
                   "degla", "degla_concrete")
# negatives written from the scenes, not planted: the world_aro swaps of every training caption
CONTROL_NEGATIVES = ("relation_swap", "attribute_swap")
BENCHMARKS = ("world_retrieval", "world_aro", "world_sugarcrepe", "world_sugarcrepe_comp", "world_probe")


def _digest(obj) -> str:
    return hashlib.blake2b(json.dumps(obj, sort_keys=True, default=str).encode(), digest_size=6).hexdigest()


def world_data(cache: Path, config: ProtocolConfig) -> Path:
    """The world's training split on disk (shared by every method and seed): ``train.csv`` with
    relation captions (fine-tuning) and ``pretrain.csv`` in the pretraining style, same images."""
    root = Path(cache) / f"data-{_digest([asdict(WorldConfig()), config.n_train, config.captions_per_scene])}"
    # write_split writes its CSV last and atomically: an existing CSV marks a finished split
    if not (root / "train.csv").exists():
        write_split(root, "train", config.n_train, captions_per_scene=config.captions_per_scene)
    if not (root / "pretrain-list.csv").exists():
        write_split(root, "train", config.n_train, captions_per_scene=config.captions_per_scene, style="list",
                    name="pretrain-list")
    return root


def pretrain_csv(data: Path, config: ProtocolConfig) -> Path:
    return Path(data) / ("pretrain-list.csv" if config.pretrain_captions == "list" else "train.csv")


def pretrain_dir(cache: Path, config: ProtocolConfig, seed: int) -> Path:
    key = [asdict(WorldConfig()), config.model_config(), config.n_train, config.captions_per_scene,
           config.pretrain_captions, config.pretrain_epochs, config.pretrain_lr, config.batch_size, seed]
    return Path(cache) / f"pretrain-{_digest(key)}"


def model_spec(config: ProtocolConfig, checkpoint: str | Path | None) -> ModelSpec:
    return ModelSpec(name="world-tiny", pretrained=str(checkpoint) if checkpoint else None,
                     config=config.model_config())


def pretrain(cache: Path, data: Path, config: ProtocolConfig, seed: int, progress: bool = True) -> Path:
    """Plain InfoNCE from random weights; returns the checkpoint (cached by config and seed)."""
    from ..train import TrainConfig, train

    out = pretrain_dir(cache, config, seed)
    if not RunDir(out).finished:
        train(TrainConfig(output=str(out), epochs=config.pretrain_epochs, batch_size=config.batch_size,
                          lr=config.pretrain_lr, warmup=50, seed=seed, workers=config.workers, log_every=10,
                          save_every=100, progress=progress, model=model_spec(config, None),
                          loss=LossConfig(kind="clip"), data=DataConfig(train=str(pretrain_csv(data, config)),
                                                                        image_root=str(data))))
    return RunDir(out).model


def visual_norms(work: Path, data: Path, seed: int, config: ProtocolConfig, checkpoint: Path) -> Path:
    """Visual concreteness of the training split's words under ``checkpoint``'s image tower
    (:func:`slipform.norms.compute_norms`, k = 50, words on at least 50 images), written once
    per seed beside the negatives."""
    from ..evaluate.encode import Encoder
    from ..models import load_model
    from ..norms import NormsConfig, compute_norms

    out = DemoLayout(work).norms(seed)
    if not out.exists():
        encoder = Encoder(load_model(model_spec(config, checkpoint)).eval(), cache_dir=None, workers=0,
                          progress=False)
        tmp = out.with_name(out.stem + ".tmp.csv")
        # k = 50 neighbours and words on >= 50 images at the protocol's 8,000 scenes; fewer for small worlds
        k, min_count = max(2, min(50, config.n_train // 10)), max(2, min(50, config.n_train // 20))
        compute_norms(data / "train.csv", tmp, encoder, NormsConfig(k=k, min_count=min_count), fmt="csv",
                      image_root=data, log=lambda msg: None)
        tmp.replace(out)
    return out


def plant_negatives(work: Path, data: Path, kind: str, seed: int, config: ProtocolConfig,
                    progress: bool = True, norms: Path | None = None) -> Path:
    """Negatives of the training captions: ``swap`` (NegCLIP's), a kind of :data:`PLANTS`
    (``norms``: the visual norms file its visual kinds read), or a control's swaps
    (:data:`CONTROL_NEGATIVES`)."""
    from ..plant import PlantConfig, plant_file

    out = DemoLayout(work).negatives(kind, seed)
    done = out.with_name(out.name + ".done")
    if not done.exists() and kind in CONTROL_NEGATIVES:
        done.write_text(json.dumps(write_control_negatives(data / "train.csv", out, kind)))
    elif not done.exists():
        how = PLANTS.get(kind, Plant("concrete"))
        if how.visual and norms is None:
            raise ValueError(f"{kind} negatives need a visual norms file")
        plant = PlantConfig(backend="negclip" if kind == "swap" else "lexical", strategy=how.strategy, seed=seed,
                            negatives_per_caption=how.per_caption, lexicon_path=str(norms) if how.visual else None,
                            **({"route": how.route} if how.route else {}),
                            # a closed world: replace with its own words; every combination of its
                            # words is equally plausible by construction, so the slot model would
                            # rank by sampling noise and only narrow the negatives
                            fallback_vocabulary=False, plausibility=False,
                            # the world has an exact reader: a negative must parse and show another scene
                            verifier=None if kind == "swap" else "world")
        summary = plant_file(data / "train.csv", out, plant, fmt="csv", workers=config.plant_workers,
                             progress=progress, log=lambda msg: None)
        done.write_text(json.dumps(summary.as_dict()))
    return out


def write_control_negatives(captions: Path, out: Path, kind: str) -> dict:
    """For every training caption, the same caption of its scene with the two things swapped
    (``relation_swap``) or their colours swapped (``attribute_swap``; none when the colours are
    equal). The caption's own seed redraws its phrasing and fillers, so the negative differs from
    it in the tested change only -- never in a word the image cannot refute."""
    import csv

    from ..world.caption import caption

    counts = {"read": 0, "planted": 0, "skipped": 0}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(captions, newline="") as f, open(tmp, "w") as dst:
        for row in csv.DictReader(f):
            counts["read"] += 1
            scene = scene_of(row["id"])
            k = int(row["id"].split("-")[1])
            a, b, *rest = scene.things
            if kind == "relation_swap":
                neg_scene = replace(scene, things=(b, a, *rest))
            elif a.colour != b.colour:
                neg_scene = replace(scene, things=(replace(a, colour=b.colour), replace(b, colour=a.colour), *rest))
            else:
                counts["skipped"] += 1
                continue
            neg = caption(neg_scene, k)
            if neg == row["title"]:  # the same two things: nothing to swap
                counts["skipped"] += 1
                continue
            counts["planted"] += 1
            dst.write(json.dumps({"id": row["id"], "caption": row["title"], "negative": neg, "role": "R" if
                                  kind == "relation_swap" else "A", "strategy": kind, "concreteness": None}) + "\n")
    tmp.replace(out)
    return counts


def scene_of(record_id: str):
    """The training scene behind a caption id ``<seed>-<k>``."""
    return sample_scene(int(str(record_id).split("-")[0]), WorldConfig(), "train")


def planted_change(editor: WorldEditor, record: dict):
    """What a planted negative does to its training scene: ``("unparsable", None)``,
    ``("same_scene", None)`` (an abstract change: the caption is still true), or
    ``("with_image", scene)`` with the negative scene the editor renders."""
    scene = scene_of(record["id"])
    neg = editor.negative_scene(scene, record["negative"])
    if neg is None:
        return "unparsable", None
    return ("same_scene", None) if neg.same_as(scene) else ("with_image", neg)


def add_negative_images(negatives: Path) -> tuple[Path, dict]:
    """A copy of ``negatives`` whose records carry ``negative_image``: the scene the negative caption
    describes, rendered by the exact editor into ``images/<name>/`` beside ``negatives``. A negative
    that does not parse, or that describes the same scene (an abstract change), gets none -- an
    identical image is no negative. Returns the new file and counts of each case."""
    out = negatives.with_name(negatives.stem + ".images.jsonl")
    counts = {"records": 0, "with_image": 0, "unparsable": 0, "same_scene": 0}
    editor = WorldEditor()
    # beside the negatives they show (not in the shared data cache, where another run's would linger)
    image_dir = (negatives.parent / "images" / negatives.stem).resolve()
    if out.exists():
        return out, json.loads(out.with_name(out.name + ".counts.json").read_text())
    image_dir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    seen: dict[str, int] = {}
    with open(negatives) as src, open(tmp, "w") as dst:
        for line in src:
            rec = json.loads(line)
            counts["records"] += 1
            kind, neg = planted_change(editor, rec)
            counts[kind] += 1
            if neg is not None:  # one file per negative: a caption may have several
                k = seen[rec["id"]] = seen.get(rec["id"], -1) + 1
                path = image_dir / (f"{rec['id']}.png" if k == 0 else f"{rec['id']}-{k}.png")
                render(neg).save(path)
                rec["negative_image"] = str(path)  # absolute: read as is, whatever the image root
            dst.write(json.dumps(rec) + "\n")
    out.with_name(out.name + ".counts.json").write_text(json.dumps(counts))
    tmp.replace(out)
    return out, counts


def finetune(work: Path, data: Path, method: Method, pretrained: Path, negatives: Path | None, seed: int,
             config: ProtocolConfig, progress: bool = True) -> Path:
    from ..train import TrainConfig, train

    out = DemoLayout(work).run(method.name, seed)
    if not RunDir(out).finished:
        train(TrainConfig(output=str(out), epochs=config.finetune_epochs, batch_size=config.batch_size,
                          lr=config.finetune_lr, warmup=config.finetune_warmup, seed=seed, workers=config.workers,
                          log_every=5, save_every=50, max_steps=config.finetune_steps, progress=progress, model=model_spec(config, pretrained), loss=method.loss,
                          data=DataConfig(train=str(data / "train.csv"), image_root=str(data),
                                          negatives=str(negatives) if negatives else None,
                                          image_negatives=method.image_negatives), select=method.select))
    return RunDir(out).model


def evaluate_checkpoint(checkpoint: Path, result: Path, cache: Path, config: ProtocolConfig,
                        benchmarks: tuple[str, ...] = BENCHMARKS, items: Path | None = None,
                        split: str = "test") -> dict:
    """World benchmarks of one checkpoint, saved to ``result`` (and read back from it when present);
    with ``items``, the per-test-scene scores too (``.npz``, keys ``benchmark/metric``). ``split="val"``
    computes the same columns on the validation scenes instead (:mod:`.validation`; no probes)."""
    from .. import evaluate
    from ..models import load_model

    if split not in ("test", "val"):
        raise ValueError(f"split must be 'test' or 'val', got {split!r}")
    if result.exists() and (items is None or items.exists()):
        return json.loads(result.read_text())
    model = load_model(model_spec(config, checkpoint))
    per_item: dict = {}
    if split == "test":
        metrics = evaluate.run(model, list(benchmarks), data_root=cache, limit=config.eval_limit,
                               cache_dir=Path(cache) / "features", workers=0, items=per_item)
    else:
        from .validation import evaluate_validation

        encoder = evaluate.Encoder(model, cache_dir=Path(cache) / "features", workers=0)
        metrics = evaluate_validation(encoder, Path(cache), config.eval_limit)
        encoder.save()
        per_item = {b: m.pop("_items") for b, m in metrics.items()}
    result.parent.mkdir(parents=True, exist_ok=True)
    if items is not None:
        tmp = items.with_name(items.name + ".tmp.npz")
        np.savez_compressed(tmp, **{f"{b}/{m}": v for b, d in per_item.items() for m, v in d.items()})
        tmp.replace(items)
    result.write_text(json.dumps(metrics, indent=1))
    return metrics


def load_items(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """Per-item scores saved by :func:`evaluate_checkpoint`: ``{benchmark: {metric: array}}``."""
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path) as z:
        for key in z.files:
            bench, metric = key.split("/", 1)
            out.setdefault(bench, {})[metric] = z[key]
    return out
