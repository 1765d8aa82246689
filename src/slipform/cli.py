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
    p.add_argument("input", nargs="?", help="captions: .txt, COCO/Karpathy .json, .csv/.tsv, .jsonl "
                                            "(default: the bundled sample of real COCO captions)")
    p.add_argument("-o", "--output", required=True, help="negatives JSONL (skips go to OUTPUT.skipped.jsonl)")
    p.add_argument("--format", choices=["txt", "coco", "karpathy", "csv", "tsv", "jsonl"])
    p.add_argument("--caption-col", default="title", help="caption column of CSV/TSV/JSONL (default: title)")
    p.add_argument("--image-col", default="filepath", help="image-path column of CSV/TSV/JSONL (default: filepath)")
    p.add_argument("--id-col", default="id", help="id column when present (default: id)")
    p.add_argument("--separator", help="CSV separator (default: tab for .tsv, comma for .csv)")
    p.add_argument("--k", type=int, default=3, help="keep the top k candidates (default 3)")
    p.add_argument("--strategy", default="concrete", choices=["concrete", "abstract", "random"])
    p.add_argument("--backend", default="lexical", choices=["lexical", "negclip", "hf", "openai"])
    p.add_argument("--role-weights", help="draw the role first, e.g. O=1,A=1,R=1")
    p.add_argument("--negatives-per-caption", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    p.add_argument("--num-shards", type=int, default=1)
    p.add_argument("--shard-id", type=int, default=0)
    p.add_argument("--chunk-size", type=int, default=256)
    p.add_argument("--lexicon", help="own norms file (Word, Conc.M; .tsv/.csv/.xlsx)")
    p.add_argument("--lexicon-source", default="brysbaert", choices=["brysbaert", "chain", "open"])
    p.add_argument("--spacy-model", help="spaCy pipeline (default: en_core_web_sm, else its PyPI copy)")
    p.add_argument("--band", default="0.30,0.75", help="MiniLM similarity band of replacements (lo,hi)")
    p.add_argument("--vocab-sample", type=int, default=5000, help="captions read for the in-domain vocabulary")
    p.add_argument("--max-words", type=int, default=128, help="skip longer captions")
    p.add_argument("--caption-similarity", action="store_true", help="add MiniLM cosine of caption and negative")
    p.add_argument("--model", help="hf: local directory or hub id; openai: model name")
    p.add_argument("--base-url", help="openai: e.g. http://localhost:8000/v1")
    p.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"), help="openai (default: $OPENAI_API_KEY)")
    p.add_argument("--batch-size", type=int, default=16, help="LLM prompts per batch / concurrent requests")
    p.add_argument("--timeout", type=float, default=60.0, help="openai request timeout, seconds")
    p.add_argument("--retries", type=int, default=3, help="openai retries with exponential backoff")
    p.add_argument("--export-negclip", metavar="TSV", help="also write NegCLIP's training TSV")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_plant)


def _run_plant(args) -> int:
    from .plant import Columns, LLMConfig, PlantConfig, export_negclip, plant_file
    from .plant.anchor import parse_role_weights
    from .plant.io import InputError

    try:
        lo, hi = (float(x) for x in args.band.split(","))
        weights = parse_role_weights(args.role_weights)
        config = PlantConfig(
            k=args.k, strategy=args.strategy, backend=args.backend,
            negatives_per_caption=args.negatives_per_caption, seed=args.seed,
            role_weights=tuple(sorted(weights.items())) if weights else None,
            lexicon_path=args.lexicon, lexicon_source=args.lexicon_source, spacy_model=args.spacy_model,
            band=(lo, hi), caption_similarity=args.caption_similarity, max_words=args.max_words,
            vocab_sample=args.vocab_sample,
            llm=LLMConfig(model=args.model, base_url=args.base_url, api_key=args.api_key,
                          batch_size=args.batch_size, timeout=args.timeout, retries=args.retries))
    except ValueError as exc:
        print(f"slipform plant: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    columns = Columns(args.caption_col, args.image_col, args.id_col, args.separator)
    source = args.input or _bundled_captions()
    try:
        summary = plant_file(source, args.output, config, fmt=args.format, columns=columns, workers=args.workers,
                             num_shards=args.num_shards, shard_id=args.shard_id, chunk_size=args.chunk_size,
                             progress=not args.no_progress)
    except InputError as exc:
        print(f"slipform plant: error: {exc}", file=sys.stderr)
        return EXIT_NOTHING
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"slipform plant: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(summary.text(), file=sys.stderr)
    Path(str(args.output) + ".summary.json").write_text(json.dumps(summary.as_dict(), indent=2))
    if args.export_negclip:
        rows = export_negclip(args.output, args.export_negclip, seed=args.seed)
        print(f"NegCLIP TSV: {args.export_negclip} ({rows} rows)", file=sys.stderr)
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


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="slipform", description=__doc__)
    parser.add_argument("--version", action="version", version=f"slipform {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_plant(sub)
    _add_export(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
