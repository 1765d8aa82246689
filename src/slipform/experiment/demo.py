"""``slipform demo``: the protocol on the world, end to end on a CPU, with a report folder.

    >>> from slipform.experiment.demo import DemoConfig, run_demo
    >>> run_demo(DemoConfig(output="slipform-demo"))

The default runs pretraining, CLIP-FT, NegCLIP and Slipform with one seed; ``full=True``
(``--full``) adds every ablation. The report folder holds ``results.md``/``results.csv``,
``results.json`` (every metric of every run), ``benchmarks.png``, ``gradients.png``, the paper's
Figs. 2-4 (``imbalance.png``, ``gradient_magnitudes.png``, ``margin_fit.png``: :mod:`.figures`),
``samples.png``, ``negatives.html`` (a gallery of ConcretePlant's negatives) and ``runs/``, ``negatives/`` with the training logs and planted negatives.
Re-running the same command reuses every finished stage.

``split="val"`` (``slipform demo --validate``) evaluates on the validation scenes instead of the
test ones and applies the selection rule registered in docs/RESULTS.md section 5 to Slipform's
variants (``selection.md``); no reported test benchmark reads those scenes.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .figures import paper_figures
from .layout import DemoLayout
from .mix import mix_markdown, negative_mix
from .protocol import (
    DEMO_METHODS,
    FULL_METHODS,
    METHODS,
    PLANTS,
    VALIDATE_METHODS,
    VARIANTS,
    ProtocolConfig,
    add_negative_images,
    evaluate_checkpoint,
    finetune,
    load_items,
    plant_negatives,
    pretrain,
    scene_of,
    visual_norms,
    world_data,
)
from .report import bar_chart, gradient_stats, sample_sheet, write_comparisons, write_table
from .summary import aggregate, paired, paired_over_items
from .validation import selection_markdown

# rough relative cost of each stage on 2 CPU cores, for the ETA
_COST = {"data": 0.5, "pretrain": 2.5, "plant": 0.5, "images": 0.3, "norms": 0.4, "finetune": 1.4, "evaluate": 0.5,
         "report": 0.1}


def cache_root(cache: str | None = None) -> Path:
    """World data and pretrained models: ``cache``, else $SLIPFORM_CACHE/world or ~/.cache/slipform/world."""
    if cache:
        return Path(cache)
    return Path(os.environ.get("SLIPFORM_CACHE", Path.home() / ".cache" / "slipform")) / "world"


@dataclass(frozen=True)
class DemoConfig:
    output: str = "slipform-demo"
    methods: tuple[str, ...] = DEMO_METHODS
    seeds: tuple[int, ...] = (0,)
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    cache: str | None = None  # default: $SLIPFORM_CACHE/world or ~/.cache/slipform/world
    progress: bool = True
    split: str = "test"  # "val": evaluate on the validation scenes and select among Slipform's variants

    def __post_init__(self):
        if self.split not in ("test", "val"):
            raise ValueError(f"split must be 'test' or 'val', got {self.split!r}")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise ValueError(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
        if not self.seeds:
            raise ValueError("at least one seed")

    @classmethod
    def full(cls, **kw) -> DemoConfig:
        return cls(methods=FULL_METHODS, **kw)

    @classmethod
    def validate(cls, **kw) -> DemoConfig:
        """CLIP-FT and Slipform's variants on the validation split (docs/RESULTS.md section 5)."""
        return cls(methods=VALIDATE_METHODS, split="val", **kw)


class _Progress:
    """Prints ``[stage i/n] what (elapsed, ETA)`` lines; training shows its own step bar.

    The ETA extrapolates the time per unit of expected cost from the stages that did work
    (a stage reused from an earlier run takes no time and says nothing about the rest)."""

    def __init__(self, stages: list[tuple[str, str]], log):
        self.stages, self.log = stages, log
        self.remaining = sum(_COST[k] for k, _ in stages)
        self.worked_cost, self.worked_seconds, self.i = 0.0, 0.0, 0
        self.start = self._t0 = time.perf_counter()

    def begin(self, kind: str, what: str) -> None:
        self.i += 1
        self._kind, self._t0 = kind, time.perf_counter()
        eta = "" if not self.worked_cost else \
            f", ETA {_clock(self.worked_seconds / self.worked_cost * self.remaining)}"
        self.log(f"[{self.i}/{len(self.stages)}] {what} ({_clock(self._t0 - self.start)} elapsed{eta})")

    def end(self) -> None:
        took = time.perf_counter() - self._t0
        self.remaining -= _COST[self._kind]
        if took > 0.5:
            self.worked_cost += _COST[self._kind]
            self.worked_seconds += took


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s"


def _negative_kinds(methods) -> list[str]:
    kinds = []
    for m in methods:
        k = METHODS[m].negatives
        if k and k not in kinds:
            kinds.append(k)
    return kinds


def _image_kinds(methods) -> set[str]:
    """The kinds of negatives whose edited images some method trains on."""
    return {METHODS[m].negatives for m in methods if METHODS[m].image_negatives}


def _needs_norms(methods) -> bool:
    return any(PLANTS[k].visual for k in _negative_kinds(methods) if k in PLANTS)


def _plan(config: DemoConfig) -> list[tuple[str, str]]:
    stages = [("data", "world data")]
    needs_images = any(METHODS[m].image_negatives for m in config.methods)
    for seed in config.seeds:
        stages.append(("pretrain", f"pretrain CLIP from scratch (seed {seed})"))
        if _needs_norms(config.methods):
            stages.append(("norms", f"visual norms (seed {seed})"))
        for kind in _negative_kinds(config.methods):
            stages.append(("plant", f"plant {kind} negatives (seed {seed})"))
            if needs_images and kind in _image_kinds(config.methods):
                stages.append(("images", f"render negative images (seed {seed})"))
        for m in config.methods:
            if METHODS[m].finetune:
                stages.append(("finetune", f"fine-tune {METHODS[m].label} (seed {seed})"))
            stages.append(("evaluate", f"evaluate {METHODS[m].label} (seed {seed})"))
    stages.append(("report", "report"))
    return stages


def run_demo(config: DemoConfig = DemoConfig(), log=None) -> dict:
    """Run the protocol and write the report; returns ``{"table", "results", "report"}``."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    layout = DemoLayout(out)
    cache = cache_root(config.cache)
    p = config.protocol
    previous = layout.config
    if previous.exists():  # finished stages are reused only when they were made with the same settings
        before = json.loads(previous.read_text()).get("protocol")
        if before is not None and before != json.loads(json.dumps(asdict(p))):
            raise ValueError(f"{out} holds a demo run with other settings ({previous}); "
                             "choose another output folder or delete it")
    previous.write_text(json.dumps(asdict(config), indent=1, default=str))
    progress = _Progress(_plan(config), log)
    progress.begin("data", f"world data: {p.n_train} training scenes x {p.captions_per_scene} captions")
    data = world_data(cache, p)
    progress.end()
    results: dict[str, dict[int, dict]] = {m: {} for m in config.methods}
    grads: dict[str, dict[int, dict]] = {}
    image_counts = {}
    for seed in config.seeds:
        progress.begin("pretrain", f"pretrain CLIP from scratch with InfoNCE (seed {seed})")
        base = pretrain(cache, data, p, seed, config.progress)
        progress.end()
        negatives, norms = {}, None
        if _needs_norms(config.methods):
            # measured with the CLIP-FT model of this seed (the same data, no negatives): the
            # pretrained tower never saw a relation stated, so it rates every relation word at
            # chance and visual norms would plant no relation negative at all (docs/RESULTS.md)
            progress.begin("norms", f"visual norms from the CLIP-FT image tower (seed {seed})")
            clip_ft = finetune(out, data, METHODS["clip_ft"], base, None, seed, p, config.progress)
            norms = visual_norms(out, data, seed, p, clip_ft)
            progress.end()
        for kind in _negative_kinds(config.methods):
            progress.begin("plant", f"plant {kind} negatives (seed {seed})")
            negatives[kind] = plant_negatives(out, data, kind, seed, p, config.progress, norms)
            progress.end()
            if kind in _image_kinds(config.methods):
                progress.begin("images", f"render negative images (seed {seed})")
                negatives[kind + "+images"], image_counts[seed] = add_negative_images(negatives[kind])
                progress.end()
        for name in config.methods:
            method = METHODS[name]
            checkpoint = base
            if method.finetune:
                progress.begin("finetune", f"fine-tune {method.label} (seed {seed})")
                neg = negatives.get(method.negatives + "+images" if method.image_negatives else method.negatives)
                checkpoint = finetune(out, data, method, base, neg, seed, p, config.progress)
                if method.negatives:
                    grads.setdefault(name, {})[seed] = gradient_stats(layout.run(name, seed))
                progress.end()
            progress.begin("evaluate", f"evaluate {method.label} (seed {seed})")
            results[name][seed] = evaluate_checkpoint(checkpoint, layout.eval(name, seed, config.split), cache, p,
                                                      items=layout.items(name, seed, config.split), split=config.split)
            progress.end()
    progress.begin("report", "report")
    report = write_report(out, config, results, grads, data, image_counts)
    progress.end()
    log(f"done in {_clock(time.perf_counter() - progress.start)}; report: {out}")
    return report


def write_report(out: Path, config: DemoConfig, results: dict, grads: dict, data: Path, image_counts: dict) -> dict:
    layout = DemoLayout(out)
    labels = {m: METHODS[m].label for m in config.methods}
    table = aggregate(results)
    extra = {}
    for name, per_seed in grads.items():
        ratios = [g["hard_to_easy"] for g in per_seed.values()]
        extra[name] = {"hard/easy gradient": f"{sum(ratios) / len(ratios):.3f}"}
        shares = [g["relation_share"] for g in per_seed.values() if not math.isnan(g.get("relation_share", math.nan))]
        if shares:
            extra[name]["relation-word negatives"] = f"{sum(shares) / len(shares):.0%}"
    md = write_table(table, labels, out, extra, seeds=len(config.seeds))
    seed = config.seeds[0]
    if len(config.seeds) > 1:
        comparisons = paired(results)
    else:  # one seed: pair the methods over the test items they all answered
        items = {m: load_items(layout.items(m, seed, config.split)) for m in config.methods
                 if layout.items(m, seed, config.split).exists()}
        comparisons = paired_over_items(items, seed)
    if comparisons:
        md += "\nPaired differences (comparisons.md):\n\n" + write_comparisons(comparisons, out, config.split)
        md += positive_control(comparisons, split=config.split)
        (out / "results.md").write_text((out / "results.md").read_text()
                                        + positive_control(comparisons, split=config.split))
    selection = None
    if config.split == "val":
        selection = write_selection(out, table, [m for m in VARIANTS if m in config.methods])
        md += "\nSelection (selection.md, the rule of docs/RESULTS.md section 5):\n\n" + selection_markdown(selection)
    (out / "results.json").write_text(json.dumps({"results": results, "gradients": grads,
                                                   "comparisons": comparisons, "split": config.split,
                                                   "selection": selection,
                                                   "negative_images": image_counts}, indent=1))
    bar_chart(table, labels, out / "benchmarks.png")
    pair = [m for m in ("concrete_negclip", "negclip") if m in config.methods][:1] + \
        [m for m in ("slipform",) if m in config.methods]
    if len(pair) == 2:
        from ..plots import plot_gradients

        plot_gradients([layout.run(m, seed) for m in pair], out / "gradients.png")
    figures = paper_figures(out, seed, config.protocol, labels)  # the paper's Figs. 2-4, where their runs exist
    if figures:
        (out / "results.md").write_text((out / "results.md").read_text() + figures)
        md += figures
    shown = METHODS["slipform"].negatives if "slipform" in config.methods else next(
        (METHODS[m].negatives for m in config.methods if m in VARIANTS), "concrete")
    planted = [k for k in _negative_kinds(config.methods) if k in PLANTS and layout.negatives(k, seed).exists()]
    if planted:
        from ..plant.output.gallery import write_gallery

        mixes = {k: negative_mix(layout.negatives(k, seed), scene_of) for k in planted}
        text = "\n".join(mix_markdown(m, f"`{k}` (seed {seed})") for k, m in mixes.items())
        (out / "negatives-mix.md").write_text("# ConcretePlant's world negatives by route, edit and scene change\n\n"
                                              + text)
        (out / "negatives-mix.json").write_text(json.dumps(mixes, indent=1))
        links = []
        for kind in planted:  # the Slipform row's negatives in negatives.html, the others beside it
            page = "negatives.html" if kind == shown else f"negatives-{kind}.html"
            write_gallery(layout.negatives(kind, seed), out / page, n=100, seed=seed, image_root=data)
            links.append(f"[{page}]({page}) (`{kind}`)")
        if shown in planted:
            sample_sheet(layout.negatives(shown, seed), data, out / "samples.png")
        link = ("\nConcretePlant's negatives, with their images: " + ", ".join(links) +
                "; their mix by route, edit and scene change: [negatives-mix.md](negatives-mix.md)\n")
        (out / "results.md").write_text((out / "results.md").read_text() + link)
        md += link
    print(md)
    return {"table": table, "results": results, "gradients": grads, "comparisons": comparisons, "report": str(out)}


def write_selection(out: Path, table: dict, variants: list[str]) -> dict:
    """The registered rule applied to a validation table: ``selection.md`` and ``selection.json``.
    Every variant of :data:`VARIANTS` must be in the run, else nothing is selected."""
    from .validation import select_variant

    missing = [v for v in VARIANTS if v not in variants]
    selection = select_variant({m: table[m] for m in table if m in (*variants, "clip_ft")}, VARIANTS if not missing
                               else tuple(variants))
    if missing:
        selection = {**selection, "selected": None,
                     "reason": f"the run lacks {', '.join(missing)}: a selection is made only over all of them"}
    layout = DemoLayout(out)
    layout.selection.write_text(selection_markdown(selection))
    layout.selection.with_suffix(".json").write_text(json.dumps(selection, indent=1))
    return selection


def positive_control(comparisons: list[dict], column: str = "ARO relation", split: str = "test") -> str:
    """One sentence on whether the instrument detects the effect known to exist: NegCLIP's
    hard negatives lift relation swap over CLIP-FT (Yuksekgonul et al., 2023)."""
    found = [c for c in comparisons if (c["a"], c["b"]) == ("negclip", "clip_ft")]
    if not found:
        return ""
    c = found[0]
    m, ci = c["diff"][column]
    over = f"{c['n']} {'validation' if split == 'val' else split} scenes" if c.get("over") == "items" else f"{c['seeds']} seeds"
    sig = c["excludes_zero"][column] if "excludes_zero" in c else abs(m) > ci
    verdict = ("the 95% interval excludes 0: the instrument detects the known effect" if sig and m > 0 else
               "the 95% interval does not exclude a null or negative effect: the instrument FAILS its positive "
               "control, and the comparisons above say nothing about the methods")
    return (f"\nPositive control: NegCLIP − CLIP-FT on {column} = {m:+.1f} ± {ci:.1f} points "
            f"(paired over {over}); {verdict}.\n")
