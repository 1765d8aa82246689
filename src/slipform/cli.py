"""The ``slipform`` command line: a thin layer that parses options into configs and calls the library."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_USAGE, EXIT_NOTHING = 2, 1


def _bundled_captions() -> Path:
    return Path(__file__).parent / "data" / "coco_captions_sample.txt"


def _add_plant(sub) -> None:
    p = sub.add_parser("plant", help="plant hard-negative captions (ConcretePlant)",
                       description="Write one hard negative per line of OUTPUT (JSONL); re-running resumes.")
    p.add_argument("input", nargs="*", help="captions: .txt, COCO/Karpathy .json, .csv/.tsv, .jsonl; or shards: "
                                            "webdataset .tar or .parquet files, a brace pattern or several, local "
                                            "or pipe:CMD (default: the bundled sample of real COCO captions)")
    p.add_argument("-o", "--output", required=True, help="negatives JSONL (skips go to OUTPUT.skipped.jsonl); for "
                                                         "shards a folder, one output per input shard")
    p.add_argument("--format", choices=["txt", "coco", "karpathy", "csv", "tsv", "jsonl", "wds", "parquet"])
    p.add_argument("--output-format", default="jsonl", choices=["jsonl", "wds", "parquet"],
                   help="shards: negative records (jsonl), new tar shards whose .json hold the negatives (wds), "
                        "or a side-car Parquet per shard, key -> negatives (parquet)")
    p.add_argument("--caption-key", help="tars: the .json field holding the caption (default: the .txt member)")
    p.add_argument("--caption-col", help="caption column of CSV/TSV/JSONL (default: title) or Parquet (caption)")
    p.add_argument("--image-col", default="filepath", help="image-path column of CSV/TSV/JSONL (default: filepath)")
    p.add_argument("--id-col", help="id column when present (default: id); Parquet: the key column (key)")
    p.add_argument("--separator", help="CSV separator (default: tab for .tsv, comma for .csv)")
    p.add_argument("--k", type=int, default=3, help="keep the top k candidates (default 3)")
    p.add_argument("--strategy", default="concrete", choices=["concrete", "abstract", "random"])
    p.add_argument("--backend", default="lexical", help="how negatives are written: "
                   + ", ".join(_backend_names()) + " (default: lexical)")
    p.add_argument("--route", default="anchor", choices=["anchor", "target"],
                   help="anchor (default): concreteness picks a thing and the route (A/R/O) what changes about it, "
                        "swaps included; target: the picked word itself changes, routed by its part of speech")
    p.add_argument("--role-weights", help="the routes' weights, e.g. O=1,A=1,R=1 (with --route target: draw the "
                                          "role first)")
    p.add_argument("--negatives-per-caption", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, help="processes (default 1); with --engine ray, actors (default: "
                                                "one per CPU of the cluster)")
    p.add_argument("--num-shards", type=int, help="contiguous shards of the input: a SLURM array task plants "
                                                  "--shard-id only; --engine ray plants all (default 64 MiB each)")
    p.add_argument("--shard-id", type=int, default=0)
    p.add_argument("--engine", default="local", choices=["local", "ray"],
                   help="local processes, or Ray actors on a cluster (pip install 'slipform[ray]')")
    p.add_argument("--ray-address", help="--engine ray: an existing cluster (default: start a local one)")
    p.add_argument("--chunk-size", type=int, default=256)
    p.add_argument("--lexicon", help="own norms file (Word, Conc.M; .tsv/.csv/.xlsx)")
    p.add_argument("--lexicon-source", default="brysbaert", choices=["brysbaert", "chain", "open"])
    p.add_argument("--spacy-model", help="spaCy pipeline (default: en_core_web_sm, else its PyPI copy)")
    p.add_argument("--band", default="0.30,0.75", help="MiniLM similarity band of replacements (lo,hi)")
    p.add_argument("--vocab-sample", type=int, default=5000, help="captions read for the in-domain vocabulary")
    p.add_argument("--no-fallback-vocab", action="store_true",
                   help="replace only with the input's own words (closed worlds), not the built-in lists")
    p.add_argument("--max-words", type=int, default=128, help="skip longer captions")
    p.add_argument("--caption-similarity", action="store_true", help="add MiniLM cosine of caption and negative")
    p.add_argument("--min-plausibility", type=float,
                   help="lexical: drop replacements whose slot plausibility (mean log-probability) is lower")
    p.add_argument("--no-plausibility", action="store_true",
                   help="lexical: do not rank replacements by how well they fit the slot (ablation)")
    p.add_argument("--model", help="hf: local directory or hub id; openai: model name")
    p.add_argument("--base-url", help="openai: e.g. http://localhost:8000/v1")
    p.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"), help="openai (default: $OPENAI_API_KEY)")
    p.add_argument("--batch-size", type=int, default=16, help="LLM prompts per batch / concurrent requests")
    p.add_argument("--timeout", type=float, default=60.0, help="openai request timeout, seconds")
    p.add_argument("--retries", type=int, default=3, help="openai retries with exponential backoff")
    p.add_argument("--verifier", choices=_verifier_names(),
                   help="also check every negative with this domain's exact reader (world: the Concrete Jungle's parser)")
    p.add_argument("--any-kind", action="store_true",
                   help="lexical: replace objects by any related word, not only one of the same kind (the old rewriter)")
    p.add_argument("--lm-scorer", metavar="MODEL",
                   help="score every negative with this causal LM (directory, hub id or .gguf file): log P(negative) "
                        "- log P(caption), recorded as lm_score; off by default (10-20x slower on CPU)")
    p.add_argument("--min-lm-score", type=float, help="with --lm-scorer: reject negatives scoring below this")
    p.add_argument("--max-replacement-share", type=float,
                   help="cap one replacement word's share of each chunk's negatives (e.g. 0.03; off by default)")
    p.add_argument("--export-negclip", metavar="TSV", help="also write NegCLIP's training TSV")
    p.add_argument("--gallery", metavar="HTML", help="also write a page showing a sample of the negatives")
    p.add_argument("--gallery-size", type=int, default=200, help="negatives on the gallery page (default 200)")
    p.add_argument("--image-root", help="gallery: folder the input's image paths are relative to "
                                        "(default: the input's folder)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_plant)


def _verifier_names() -> tuple[str, ...]:
    from .plant.core.verify import verifier_names

    return verifier_names()


def _backend_names() -> tuple[str, ...]:
    from .plant.core.backend import backend_names

    return backend_names()


def _run_plant(args) -> int:
    from .plant import Columns, LLMConfig, PlantConfig, export_negclip, plant_file
    from .plant.core.anchor import parse_role_weights
    from .text.io import InputError

    try:
        lo, hi = (float(x) for x in args.band.split(","))
        weights = parse_role_weights(args.role_weights)
        config = PlantConfig(
            k=args.k, strategy=args.strategy, backend=args.backend, route=args.route,
            negatives_per_caption=args.negatives_per_caption, seed=args.seed,
            role_weights=tuple(sorted(weights.items())) if weights else None,
            lexicon_path=args.lexicon, lexicon_source=args.lexicon_source, spacy_model=args.spacy_model,
            band=(lo, hi), caption_similarity=args.caption_similarity, max_words=args.max_words,
            vocab_sample=args.vocab_sample, fallback_vocabulary=not args.no_fallback_vocab,
            plausibility=not args.no_plausibility, min_plausibility=args.min_plausibility,
            same_kind=not args.any_kind, verifier=args.verifier, lm_scorer=args.lm_scorer,
            min_lm_score=args.min_lm_score, max_replacement_share=args.max_replacement_share,
            llm=LLMConfig(model=args.model, base_url=args.base_url, api_key=args.api_key,
                          batch_size=args.batch_size, timeout=args.timeout, retries=args.retries))
    except ValueError as exc:
        print(f"slipform plant: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from .plant.engine.files import is_shard_input
    from .text.shards import ShardColumns

    source = (args.input[0] if len(args.input) == 1 else args.input) if args.input else _bundled_captions()
    shards = is_shard_input(source, args.format)
    if shards:
        columns = ShardColumns(args.caption_key, args.caption_col or "caption", args.id_col or "key")
        if args.export_negclip or args.gallery:
            print("slipform plant: error: --export-negclip and --gallery read one negatives file; run them on "
                  "OUTPUT/<shard>.jsonl", file=sys.stderr)
            return EXIT_USAGE
    else:
        columns = Columns(args.caption_col or "title", args.image_col, args.id_col or "id", args.separator)
    try:
        summary = plant_file(source, args.output, config, fmt=args.format, columns=columns, workers=args.workers,
                             num_shards=args.num_shards, shard_id=args.shard_id, chunk_size=args.chunk_size,
                             progress=not args.no_progress, engine=args.engine, ray_address=args.ray_address,
                             output_format=args.output_format)
    except InputError as exc:
        print(f"slipform plant: error: {exc}", file=sys.stderr)
        return EXIT_NOTHING
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"slipform plant: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(summary.text(), file=sys.stderr)
    part = f".{args.shard_id:05d}-of-{args.num_shards:05d}" if shards and args.num_shards else ""  # tasks share OUTPUT/
    Path(f"{args.output}{part}.summary.json").write_text(json.dumps(summary.as_dict(), indent=2))
    if args.export_negclip:
        rows = export_negclip(args.output, args.export_negclip, seed=args.seed)
        print(f"NegCLIP TSV: {args.export_negclip} ({rows} rows)", file=sys.stderr)
    if args.gallery and summary.negatives:
        from .plant.output.gallery import write_gallery

        root = args.image_root or Path(source).parent
        page = write_gallery(args.output, args.gallery, n=args.gallery_size, seed=args.seed, image_root=root)
        print(f"gallery: {page}", file=sys.stderr)
    if summary.read == 0:
        print(f"slipform plant: error: no caption could be read from {source}", file=sys.stderr)
        return EXIT_NOTHING
    return 0


def _add_export(sub) -> None:
    p = sub.add_parser("export-negclip", help="convert planted negatives to NegCLIP's training TSV")
    p.add_argument("negatives", help="negatives JSONL written by 'slipform plant'")
    p.add_argument("-o", "--output", required=True, help="TSV to write")
    p.add_argument("--neg-images", type=int, default=3, help="random hard-negative image rows per row")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_run_export)


def _run_export(args) -> int:
    from .plant import export_negclip

    try:
        rows = export_negclip(args.negatives, args.output, args.neg_images, args.seed)
    except (ValueError, FileNotFoundError) as exc:
        print(f"slipform export-negclip: error: {exc}", file=sys.stderr)
        return EXIT_NOTHING
    print(f"wrote {rows} rows to {args.output}", file=sys.stderr)
    return 0


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="fine-tune a CLIP model with hard negatives (Cement loss)",
                       description="Fine-tune; re-running in the same --output resumes from its checkpoint.")
    p.add_argument("--train", help="captions CSV/TSV/JSON(L), NegCLIP TSV, or .tar shards (required)")
    p.add_argument("--list-losses", action="store_true", help="list the losses (--loss), their papers and defaults")
    p.add_argument("--negatives", help="negatives.jsonl from 'slipform plant' (joined by id); for .tar shards also "
                                       "a side-car: a folder of <shard>.parquet/.jsonl, or one such file (by key)")
    p.add_argument("--image-root", help="folder the image paths are relative to")
    p.add_argument("--data-format", help="negclip, wds, or a captions format (default: guessed)")
    p.add_argument("--caption-col", default="title")
    p.add_argument("--image-col", default="filepath")
    p.add_argument("--image-negatives", action="store_true", help="use edited negative images when the data has them")
    p.add_argument("--resampled", action="store_true",
                   help="webdataset shards: draw shards with replacement (fixed-length epochs, as open_clip's "
                        "--dataset-resampled); set the epoch length with --max-steps")
    p.add_argument("-o", "--output", default="runs/slipform", help="run directory")
    p.add_argument("--model", default="ViT-B-32", help="open_clip architecture, or HF directory / hub id")
    p.add_argument("--model-family", default="open_clip", choices=["open_clip", "hf"])
    p.add_argument("--pretrained", default="openai", help="open_clip tag or checkpoint; 'none' for random init")
    p.add_argument("--model-config", help="custom open_clip config: a JSON file, or 'tiny'")
    p.add_argument("--quick-gelu", choices=["auto", "on", "off"], default="auto")
    p.add_argument("--loss", default="cement", choices=_loss_names(), help="see --list-losses (default: cement)")
    p.add_argument("--loss-option", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting of the chosen loss (its defaults: --list-losses), e.g. focal_gamma=1; repeatable")
    p.add_argument("--margin-schedule", default="adaptive",
                   choices=["adaptive", "linear", "calibrated", "inverse", "static"],
                   help="cement's margin m(c): adaptive (= linear) ramp from --margin-min at c=1 to --margin-max "
                        "at c=5, inverse, static, or calibrated: fitted during training with LOESS to how hard "
                        "each concreteness level's negatives are (slipform.losses.calibrated)")
    p.add_argument("--margin-refresh", type=int, default=10, metavar="N",
                   help="calibrated margin: refit every N optimizer steps")
    p.add_argument("--margin-window", type=int, default=2048, metavar="S",
                   help="calibrated margin: fit on the last S (concreteness, similarity) samples")
    p.add_argument("--margin", type=float, default=0.05, help="static margin")
    p.add_argument("--margin-min", type=float, default=0.0)
    p.add_argument("--margin-max", type=float, default=0.1)
    p.add_argument("--default-concreteness", type=float, default=3.0, help="for unrated targets")
    p.add_argument("--select", default="random", choices=["random", "hardest", "mix"],
                   help="which planted negative trains: one at random per epoch (default), the hardest of "
                        "--candidates by the current model, or a --select-mix share hardest and the rest random")
    p.add_argument("--candidates", type=int, default=3,
                   help="K: negatives per caption the selection encodes (plant them with --negatives-per-caption)")
    p.add_argument("--select-temperature", type=float, default=0.0,
                   help="0: the hardest; > 0: sample from softmax(similarity / T)")
    p.add_argument("--select-mix", type=float, default=0.5, help="--select mix: share of captions taking the hardest")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=256, help="per process")
    p.add_argument("--lr", type=float, default=5e-6)
    p.add_argument("--wd", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--accum-steps", type=int, default=1)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    p.add_argument("--compile", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--max-steps", type=int)
    p.add_argument("--export-hf", action="store_true", help="also write a Hugging Face CLIP directory")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_train)


def _loss_names() -> list[str]:
    from .losses import list_losses

    return list_losses()


def _list_losses() -> int:
    from .losses import describe_losses
    from .losses.registry import format_defaults

    for d in describe_losses():
        print(f"{d['name']:<14} {d['summary']}\n{'':<14} negatives: {d['negatives']}; paper: {d['paper']}\n"
              f"{'':<14} defaults: {format_defaults(d['defaults'])}")
    return 0


def _loss_options(pairs: list[str]) -> dict:
    """``--loss-option key=value`` pairs; values are read as JSON (numbers, true/false, null), else strings."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--loss-option wants KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _model_config(arg: str | None) -> dict | None:
    """``--model-config``: 'tiny' (the test-sized ViT), a JSON file of an open_clip config, or nothing."""
    from .models import tiny_open_clip_config

    if arg == "tiny":
        return tiny_open_clip_config()
    return json.loads(Path(arg).read_text()) if arg else None


def _run_train(args) -> int:
    from .data import DataConfig
    from .losses import LossConfig
    from .models import ModelSpec
    from .select import SelectConfig
    from .train import TrainConfig, train

    if args.list_losses:
        return _list_losses()
    if not args.train:
        print("slipform train: error: --train is required (or --list-losses)", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = _model_config(args.model_config)
        pretrained = None if args.pretrained.lower() == "none" else args.pretrained
        quick = {"auto": None, "on": True, "off": False}[args.quick_gelu]
        cfg = TrainConfig(
            output=args.output, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=args.wd,
            warmup=args.warmup, grad_clip=args.grad_clip, accum_steps=args.accum_steps, precision=args.precision,
            compile=args.compile, seed=args.seed, workers=args.workers, log_every=args.log_every,
            save_every=args.save_every, max_steps=args.max_steps, export_hf=args.export_hf,
            progress=not args.no_progress,
            model=ModelSpec(args.model_family, args.model, pretrained, config, quick),
            loss=LossConfig(args.loss, args.margin_schedule, args.margin, args.margin_min, args.margin_max,
                            args.default_concreteness, options=_loss_options(args.loss_option),
                            refresh_every=args.margin_refresh, calibration_window=args.margin_window),
            data=DataConfig(args.train, args.negatives, args.image_root, args.data_format, args.caption_col,
                            args.image_col, args.image_negatives, args.resampled),
            select=SelectConfig(args.select, args.candidates, args.select_temperature, args.select_mix))
        result = train(cfg)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"slipform train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    resumed = f" (resumed from step {result['resumed_from']}; {result['step']} in all)" if result["resumed_from"] else ""
    print(f"trained {result['steps_run']} steps{resumed}; skipped images: {result['skipped_images']}, "
          f"non-finite steps: {result['nonfinite_steps']}; run: {args.output}", file=sys.stderr)
    return 0


def _add_plot(sub) -> None:
    p = sub.add_parser("plot", help="plots of a run")
    p.add_argument("what", choices=["gradients", "magnitudes", "margin"],
                   help="gradients: the gradient shares per run; magnitudes: the gradient w.r.t. s_ii, s_ii' "
                        "and Σ_j s_ij of the runs in one figure (the paper's Fig. 3); margin: a calibrated "
                        "margin's LOESS fits (Fig. 4)")
    p.add_argument("runs", nargs="+", help="run directories (several are drawn side by side)")
    p.add_argument("-o", "--output", help="PNG (default: RUN/gradients.png, RUN/gradient_magnitudes.png, "
                                          "RUN/margin_fit.png)")
    p.set_defaults(func=_run_plot)


def _run_plot(args) -> int:
    from .plots import plot_gradient_magnitudes, plot_gradients, plot_margin_fit

    try:
        if args.what == "magnitudes":
            path = plot_gradient_magnitudes(args.runs, args.output or Path(args.runs[0]) / "gradient_magnitudes.png")
        elif args.what == "margin":
            path = plot_margin_fit(args.runs[0], args.output)
        else:
            path = plot_gradients(args.runs, args.output)
    except (ValueError, FileNotFoundError) as exc:
        print(f"slipform plot: error: {exc}", file=sys.stderr)
        return EXIT_NOTHING
    print(f"wrote {path}", file=sys.stderr)
    return 0


def _add_model_args(p, required: bool) -> None:
    """The model to load (:func:`_eval_model`), for the commands that encode with one."""
    p.add_argument("--model", required=required, help="open_clip architecture, HF directory / hub id, or a run "
                                                      "directory" + ("" if required else " (required)"))
    p.add_argument("--model-family", default=None, choices=["open_clip", "hf"], help="default: guessed")
    p.add_argument("--pretrained", default="openai", help="open_clip tag or checkpoint; 'none' for random init")
    p.add_argument("--model-config", help="custom open_clip config: a JSON file, or 'tiny'")


def _add_encoder_args(p) -> None:
    """How :class:`~slipform.evaluate.encode.Encoder` encodes: feature cache, batch, loader, device."""
    p.add_argument("--cache-dir", default=None, help="image feature cache (default: ~/.cache/slipform/features)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--device", default=None)


def _feature_cache(args) -> str:
    return args.cache_dir or str(Path.home() / ".cache" / "slipform" / "features")


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a model on compositional, retrieval and probing benchmarks",
                       description="Evaluate a model on registered benchmarks. 'slipform eval --list' prints every "
                                   "benchmark with a one-line description and the files it expects under "
                                   "--data-root.")
    p.add_argument("--list", action="store_true", help="list the benchmarks and the layout each expects, then exit")
    _add_model_args(p, required=False)  # required unless --list
    p.add_argument("--benchmarks", default="sugarcrepe,valse,winoground,aro,retrieval_coco,retrieval_flickr30k",
                   help="comma-separated names or families (compositional, retrieval, classification, world); "
                        "'vl_compo' for its 12 suites; 'all' for every registered benchmark")
    p.add_argument("--published", metavar="MODEL", help="print vl_compo's published figures for a checkpoint "
                                                         "(e.g. 'ViT-B-32 openai', 'NegCLIP'), then exit")
    p.add_argument("--published-as", metavar="MODEL", help="the vl_compo checkpoint to report beside ours (default: "
                                                            "--model and --pretrained when they name one; 'none': off)")
    p.add_argument("--data-root", default="data", help="folder with the benchmarks' files")
    p.add_argument("-o", "--output", default="results.json", help="JSON (a CSV and a Markdown table go beside it)")
    p.add_argument("--limit", type=int, help="items per benchmark/subset, for a quick smoke run")
    _add_encoder_args(p)
    p.add_argument("--check-overlap", metavar="TRAIN_FILE", help="count benchmark images that occur in a training file")
    p.set_defaults(func=_run_eval)


def _eval_model(args):
    from .models import ModelSpec, is_hf_directory, load_model
    from .run import RunDir

    path = Path(args.model)
    if RunDir(path).finished and RunDir(path).config.is_file():  # a Slipform run directory
        run = RunDir(path).read_config()["model"]
        return load_model(ModelSpec("open_clip", run["name"], str(RunDir(path).model), run.get("config"),
                                    run.get("quick_gelu")))
    family = args.model_family or ("hf" if is_hf_directory(path) or "/" in args.model and not
                                   path.exists() else "open_clip")
    config = _model_config(args.model_config)
    pretrained = None if str(args.pretrained).lower() == "none" else args.pretrained
    return load_model(ModelSpec(family, args.model, pretrained if family == "open_clip" else None, config))


def _list_benchmarks() -> int:
    from .evaluate import benchmark_families, describe_benchmarks

    info = {name: (description, layout) for name, description, layout in describe_benchmarks()}
    width = max(len(name) for name in info)
    for family, names in benchmark_families().items():
        print(f"{family}:")
        for name in names:
            description, layout = info[name]
            print(f"  {name:<{width}}  {description}")
            print(f"  {'':<{width}}  files: {layout.replace('DATA_ROOT/', '')}")
    print("\n--benchmarks takes names, families, 'vl_compo' (its 12 suites) or 'all'.")
    return 0


def _published(query: str, pretrained: str | None = None):
    """The one vl_compo checkpoint ``query`` names, or the list of candidates when it is not one."""
    from .evaluate.published import find_published

    hits = find_published(query, pretrained)
    return (hits[0], []) if len(hits) == 1 else (None, hits)


def _published_for(args):
    """``(checkpoint or None, problem or None)``: the vl_compo row to report beside ours --
    ``--published-as`` when given ('none': off), else --model/--pretrained when they name one."""
    if args.published_as is not None:
        if args.published_as.lower() == "none":
            return None, None
        found, hits = _published(args.published_as)
        if found is None:
            return None, f"--published-as {args.published_as!r} names {len(hits)} vl_compo checkpoints (see --published)"
        return found, None
    return _published(args.model, args.pretrained)[0], None


def _print_published(query: str) -> int:
    from .evaluate.published import format_published

    found, hits = _published(query)
    if found is None:
        if hits:
            print(f"slipform eval: {query!r} names {len(hits)} checkpoints; add the pretrained tag (and family): "
                  + ", ".join(h.name for h in hits), file=sys.stderr)
        else:
            print(f"slipform eval: {query!r} is not in vl_compo's tables (e.g. 'ViT-B-32 openai', 'NegCLIP')",
                  file=sys.stderr)
        return EXIT_USAGE
    print(format_published(found))
    return 0


def _run_eval(args) -> int:
    if args.list:
        return _list_benchmarks()
    if args.published:
        return _print_published(args.published)
    if not args.model:
        print("slipform eval: error: --model is required (or --list to see the benchmarks)", file=sys.stderr)
        return EXIT_USAGE
    import torch

    from .evaluate import run, select_benchmarks
    from .evaluate.report import SUMMARY, write_results
    from .evaluate.vl_compo import summary
    from .safeload import CorruptFileError, UntrustedFileError

    try:
        names = select_benchmarks(args.benchmarks)
    except KeyError as exc:
        print(f"slipform eval: error: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    published, problem = _published_for(args)
    if problem:
        print(f"slipform eval: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        model = _eval_model(args)
    except (ValueError, FileNotFoundError, OSError, RuntimeError) as exc:
        print(f"slipform eval: error: cannot load the model: {exc}", file=sys.stderr)
        return EXIT_USAGE
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    cache = _feature_cache(args)
    try:
        results = run(model, names, args.data_root, limit=args.limit, cache_dir=cache, device=device,
                      workers=args.workers, batch_size=args.batch_size, progress=True)
    except (UntrustedFileError, CorruptFileError) as exc:  # the feature cache
        print(f"slipform eval: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.check_overlap:
        from .evaluate.overlap import check_overlap

        results["overlap"] = check_overlap(args.check_overlap, args.data_root, names)
    if summarised := summary(results, published):
        results[SUMMARY] = summarised
    table = write_results(results, args.output, model_name=args.model, published=published)
    print(table)
    errors = [n for n, r in results.items() if isinstance(r, dict) and "error" in r]
    for n in errors:
        print(f"slipform eval: {n}: {results[n]['error']}", file=sys.stderr)
    return EXIT_NOTHING if errors and len(errors) == len(names) else 0


def _add_demo(sub) -> None:
    from .experiment.config import ProtocolConfig
    from .experiment.protocol import METHODS

    p = sub.add_parser("demo", help="the whole pipeline on the built-in world, with a report (CPU, minutes)",
                       description="Pretrain a small CLIP on the Concrete Jungle world, fine-tune it with each "
                                   "method through plant/train/eval, and write a report folder. Re-running resumes.")
    p.add_argument("-o", "--output", default="slipform-demo", help="report folder (default: slipform-demo)")
    p.add_argument("--full", action="store_true", help="every method, ablation and positive control")
    p.add_argument("--controls", action="store_true",
                   help="the positive controls only: CLIP-FT, NegCLIP and fine-tuning with the benchmark's own "
                        "relation- and attribute-swap negatives (is the instrument sensitive?)")
    p.add_argument("--compare", action="store_true",
                   help="the field's training methods side by side (CE-CLIP, FSC-CLIP, SigLIP, TripletCLIP, ...) "
                        "with NegCLIP's and ConcretePlant's negatives, paired against NegCLIP")
    p.add_argument("--validate", action="store_true",
                   help="CLIP-FT and Slipform's variants on the validation scenes (no test benchmark reads them), "
                        "and the selection rule registered in docs/RESULTS.md section 5 (selection.md)")
    p.add_argument("--methods", help="comma-separated, overrides --full/--compare/--controls/--validate's methods: "
                   + ", ".join(METHODS))
    p.add_argument("--seeds", type=int, default=1, help="number of seeds (0..N-1); the table shows mean ± 95%% CI")
    p.add_argument("--cache", help="world data and pretrained models (default: ~/.cache/slipform/world)")
    defaults = ProtocolConfig()
    p.add_argument("--n-train", type=int, help=f"training scenes (default {defaults.n_train})")
    p.add_argument("--pretrain-epochs", type=int, help=f"default {defaults.pretrain_epochs}")
    p.add_argument("--finetune-epochs", type=int, help=f"default {defaults.finetune_epochs}")
    p.add_argument("--finetune-steps", type=int, help="cap on fine-tuning steps, the same for every method "
                                                      "(a reduced budget; default: the epochs' steps)")
    p.add_argument("--batch-size", type=int, help=f"default {defaults.batch_size}")
    p.add_argument("--eval-limit", type=int, help=f"test scenes per benchmark (default {defaults.eval_limit})")
    p.add_argument("--workers", type=int, help="data-loading processes (default 2)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_demo)


def _run_demo(args) -> int:
    from dataclasses import replace

    from .experiment.demo import DemoConfig, run_demo
    from .experiment.protocol import (
        COMPARE_METHODS,
        CONTROL_METHODS,
        DEMO_METHODS,
        FULL_METHODS,
        VALIDATE_METHODS,
        ProtocolConfig,
    )

    overrides = {k: v for k, v in (("n_train", args.n_train), ("pretrain_epochs", args.pretrain_epochs),
                                   ("finetune_epochs", args.finetune_epochs), ("eval_limit", args.eval_limit),
                                   ("finetune_steps", args.finetune_steps),
                                   ("batch_size", args.batch_size),
                                   ("workers", args.workers)) if v is not None}
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip()) if args.methods else \
        VALIDATE_METHODS if args.validate else FULL_METHODS if args.full else COMPARE_METHODS if args.compare \
        else CONTROL_METHODS if args.controls else DEMO_METHODS
    try:
        if args.seeds < 1:
            raise ValueError("--seeds must be >= 1")
        config = DemoConfig(output=args.output, methods=methods, seeds=tuple(range(args.seeds)),
                            protocol=replace(ProtocolConfig(), **overrides), cache=args.cache,
                            progress=not args.no_progress, split="val" if args.validate else "test")
    except ValueError as exc:
        print(f"slipform demo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        run_demo(config)
    except ValueError as exc:
        print(f"slipform demo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _add_analyze(sub) -> None:
    p = sub.add_parser("analyze", help="which negatives help: properties vs contribution, on a demo folder",
                       description="Relate each planted negative's concreteness, role, word similarity and visual "
                                   "difference to its gradient share and loss, and the benchmark gains per role and "
                                   "concreteness bin; writes DEMO/analysis/ (CSV files and analysis.png).")
    p.add_argument("demo", help="a folder written by 'slipform demo'")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample", type=int, default=512, help="negatives per strategy (default 512)")
    p.set_defaults(func=_run_analyze)


def _run_analyze(args) -> int:
    from .experiment.analyze import analyze

    try:
        analyze(args.demo, seed=args.seed, sample=args.sample, log=lambda m: print(m, file=sys.stderr))
    except (FileNotFoundError, ValueError) as exc:
        print(f"slipform analyze: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _add_norms(sub) -> None:
    p = sub.add_parser("norms", help="visual concreteness of every word, measured from images and captions",
                       description="Score each word and two-word expression of a captions file by how tightly the "
                                   "images whose captions use it cluster in an image encoder's feature space, against "
                                   "chance (Hessel, Mimno & Lee, NAACL 2018). Writes a norms file (Word, Conc.M on "
                                   "1-5 by rank) that 'slipform plant --lexicon' reads.")
    p.add_argument("input", help="captions with images: CSV/TSV (filepath, title), COCO or Karpathy JSON, JSONL")
    p.add_argument("-o", "--output", default="visual-norms.csv", help="norms file (.csv or .tsv)")
    _add_model_args(p, required=True)
    p.add_argument("--image-root", help="folder the image paths are relative to")
    p.add_argument("--format", dest="fmt", default=None, help="input format (default: from the file name)")
    p.add_argument("--caption-col", default="title")
    p.add_argument("--image-col", default="filepath")
    p.add_argument("--k", type=int, default=50, help="nearest neighbours per image (default 50)")
    p.add_argument("--min-count", type=int, default=10, help="images a word must occur with (default 10)")
    p.add_argument("--expressions", choices=["known", "all", "none"], default="known",
                   help="two-word expressions to score: those the human norms list (default), every adjacent "
                        "pair (analysis; as a planting lexicon it makes arbitrary pairs targets), or none")
    p.add_argument("--blend", choices=["brysbaert"], help="average the rank with Brysbaert's where both rate a word")
    _add_encoder_args(p)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_norms)


def _run_norms(args) -> int:
    import torch

    from .evaluate.encode import Encoder
    from .norms import NormsConfig, compute_norms
    from .text.io import Columns, InputError

    try:
        config = NormsConfig(k=args.k, min_count=args.min_count, expressions=args.expressions,
                             blend=args.blend)
        model = _eval_model(args)
        device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        encoder = Encoder(model, _feature_cache(args), device=device, workers=args.workers, batch_size=args.batch_size,
                          progress=not args.no_progress)
        summary = compute_norms(args.input, args.output, encoder, config, fmt=args.fmt,
                                columns=Columns(args.caption_col, args.image_col), image_root=args.image_root,
                                log=lambda m: print(m, file=sys.stderr))
    except (ValueError, InputError, FileNotFoundError) as exc:
        print(f"slipform norms: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    skipped = ", ".join(f"{n} {why}" for why, n in summary.skipped.most_common()) or "none"
    print(f"{summary.terms} terms from {summary.captions} captions of {summary.images} images "
          f"(skipped: {skipped}) -> {summary.output}")
    encoder.save()  # the features, for a rerun with another k or minimum
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="slipform", description=__doc__)
    parser.add_argument("--version", action="version", version=f"slipform {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_plant(sub)
    _add_export(sub)
    _add_train(sub)
    _add_eval(sub)
    _add_plot(sub)
    _add_demo(sub)
    _add_analyze(sub)
    _add_norms(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
