"""Training data: image-caption pairs with their hard negatives.

Three sources, one batch format:

1. Captions (CSV/TSV in open_clip's convention, COCO or Karpathy JSON, JSONL) joined by
   ``id`` with a ``negatives.jsonl`` written by ``slipform plant``.
2. NegCLIP's TSV (``title``, ``filepath``, ``neg_caption``, ``neg_image``).
3. WebDataset tar shards: per sample a ``.jpg``, the caption (``.json``'s ``caption``, else the
   ``.txt``) and ``negatives`` in the ``.json`` (a list of ``{"negative", "concreteness"}``,
   optionally ``"role"``: A/R/O; as ``slipform plant --output-format wds`` writes them), optionally
   ``.neg.jpg``. Or the original shards joined by key with a side-car (``negatives``): a folder
   of per-shard ``<shard>.parquet`` (``slipform plant --output-format parquet``) or
   ``<shard>.jsonl`` files, or one ``.parquet``/``.jsonl`` file for all shards.

Each epoch draws one hard negative per caption from (seed, epoch, index) -- or, for the
trainer's hardest-of-K selection (:mod:`slipform.select`), up to K candidates -- and applies the
image augmentation under a generator seeded the same way, so a sample is a pure function of
its position: a resumed run sees exactly what an uninterrupted one saw. A caption without a
negative trains with its negative masked. A missing or corrupt image drops the sample, and
the batch counts it in ``skipped``.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset, IterableDataset

from .text.io import Caption, Columns, read_captions


@dataclass(frozen=True)
class DataConfig:
    train: str  # captions file, NegCLIP TSV, or a list of .tar shards ("a.tar,b.tar" or a brace pattern)
    negatives: str | None = None  # negatives.jsonl for captions files; a side-car for shards (Sidecar)
    image_root: str | None = None
    format: str | None = None  # "negclip", "wds", or a captions format; None: guessed
    caption_col: str = "title"
    image_col: str = "filepath"
    image_negatives: bool = False
    resampled: bool = False  # wds: draw shards with replacement (fixed-length epochs)


@dataclass(frozen=True)
class Sample:
    """An image, its caption, and its hard negatives as (caption, concreteness or NaN, image or None,
    route: "A", "R", "O" or "" when unknown).

    A negative's image is an *edited* image that shows the negative caption (TripletCLIP-style,
    e.g. from the world's editor); NegCLIP's ``neg_image`` column lists nearest-neighbour real
    images instead, which are a different thing and are not used as such.
    """

    image: str
    caption: str
    negatives: tuple[tuple[str, float, str | None], ...] = ()


def _seed(*parts) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest(), "little")


def _resolve(root: str | None, path: str) -> str:
    return str(Path(root) / path) if root and not Path(path).is_absolute() else path


def load_negatives(path: str | Path, image_root: str | None = None) -> dict[str, list[tuple]]:
    """``id`` -> [(negative, concreteness, negative image, route)], from a ``slipform plant`` output.

    A record's optional ``negative_image`` names an edited image showing the negative.
    Unreadable lines are counted and reported.
    """
    table: dict[str, list[tuple]] = {}
    bad = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
                c = rec.get("concreteness")
                img = rec.get("negative_image")
                table.setdefault(str(rec["id"]), []).append(
                    (rec["negative"], math.nan if c is None else float(c), _resolve(image_root, img) if img else None,
                     str(rec.get("role") or "")))
            except (ValueError, KeyError, TypeError):
                bad += 1
    if bad:
        import logging

        logging.getLogger(__name__).warning("%s: %d unreadable negative records skipped", path, bad)
    return table


class SkipReport:
    """What training could not use, by reason: counts, and where (file and line, or image path)
    for the first ``keep`` of each reason. ``add`` prints those first few as warnings."""

    def __init__(self, keep: int = 5, log=None):
        self.keep, self.counts, self.examples = keep, {}, {}
        self.log = log

    def add(self, reason: str, where: str, n: int = 1) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + n
        shown = self.examples.setdefault(reason, [])
        if len(shown) < self.keep and where not in shown:
            shown.append(where)
            if self.log is not None:
                self.log(f"warning: skipped ({reason}): {where}")

    def merge(self, other: dict) -> None:
        """Add a report saved with :meth:`as_dict` (a resumed run's), without warning again."""
        log, self.log = self.log, None
        for reason, n in other.get("counts", {}).items():
            examples = other.get("examples", {}).get(reason, [])
            for k, where in enumerate(examples or ["?"]):
                self.add(reason, where, n if k == 0 else 0)
        self.log = log

    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict:
        return {"total": self.total(), "counts": dict(sorted(self.counts.items())),
                "examples": {k: self.examples[k] for k in sorted(self.examples)}}

    def text(self) -> str:
        if not self.counts:
            return "skipped: nothing"
        return "skipped " + ", ".join(f"{n} {reason}" for reason, n in sorted(self.counts.items()))


def read_samples(config: DataConfig, skips: SkipReport | None = None) -> list[Sample]:
    """Samples of a captions file joined with negatives, or of NegCLIP's TSV. Rows that cannot
    train (bad lines, no caption, no image) are counted in ``skips`` with file and line."""
    fmt = config.format
    skips = skips if skips is not None else SkipReport()
    if fmt == "negclip" or (fmt is None and _is_negclip(config.train)):
        return _negclip_samples(config)
    negatives = load_negatives(config.negatives, config.image_root) if config.negatives else {}
    samples = []
    for item in read_captions(config.train, fmt, Columns(config.caption_col, config.image_col)):
        if not isinstance(item, Caption):
            skips.add(getattr(item, "kind", "unreadable row"), getattr(item, "reason", str(item)))
        elif not item.caption.strip():
            skips.add("row without a caption", f"{config.train}:{item.line}")
        elif not item.image:
            skips.add("row without an image", f"{config.train}:{item.line}")
        else:
            negs = tuple(negatives.get(item.id, ()))
            samples.append(Sample(_resolve(config.image_root, item.image), item.caption, negs))
    return samples


def _is_negclip(path: str) -> bool:
    if not str(path).endswith((".tsv", ".csv")):
        return False
    with open(path, encoding="utf-8") as f:
        return "neg_caption" in f.readline()


def _negclip_samples(config: DataConfig) -> list[Sample]:
    with open(config.train, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    samples = []
    for n, r in enumerate(rows, 2):
        try:
            negs = ast.literal_eval(r["neg_caption"]) if r.get("neg_caption") else []
        except (ValueError, SyntaxError):
            raise ValueError(f"{config.train}:{n}: neg_caption is not a Python list literal") from None
        samples.append(Sample(_resolve(config.image_root, r["filepath"]), r["title"],
                              tuple((str(x), math.nan, None, "") for x in negs)))
    return samples


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


def _image_problem(path, exc: Exception) -> str:
    """Why an image could not be read: missing, not an image file at all, or a corrupt image."""
    if isinstance(exc, FileNotFoundError):
        return "missing image"
    name = str(path).lower()
    return "corrupt image" if name.endswith(_IMAGE_SUFFIXES) or name == "jpg" else "not an image file"


def _open_image(path_or_bytes):
    from PIL import Image

    if path_or_bytes is None:
        raise FileNotFoundError("no image in this sample")
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with Image.open(src) as im:
        return im.convert("RGB")


class _Draw:
    """Per-sample randomness fixed by (seed, epoch, index). ``candidates`` > 1 hands over up to
    that many negatives per caption (drawn without replacement) for the trainer to choose from."""

    def __init__(self, seed: int, candidates: int = 1):
        self.seed, self.epoch, self.candidates = seed, 0, candidates

    def item(self, index: int, sample: Sample, transform, image_negatives: bool, load):
        rng = random.Random(_seed(self.seed, self.epoch, index))
        try:
            image = load(sample.image)
        except Exception as exc:  # noqa: BLE001 - a missing or corrupt image of any kind is skipped
            return {"skip": _image_problem(sample.image, exc), "where": str(sample.image)}
        # the augmentation's randomness from (seed, epoch, index): seeding the CPU generator itself
        # is ~30x cheaper than torch.manual_seed, which also walks every other device's generator
        gen = torch.default_generator
        state = gen.get_state()
        gen.manual_seed(_seed(self.seed, self.epoch, index, "aug") % (2**63))
        if self.candidates > 1:
            drawn = rng.sample(sample.negatives, min(self.candidates, len(sample.negatives)))
            negative, conc, neg_image, role = None, math.nan, None, ""
        else:
            negative, conc, neg_image, role = rng.choice(sample.negatives) if sample.negatives else \
                (None, math.nan, None, "")
        try:
            pixels = transform(image)
            neg_pixels = None
            if image_negatives and neg_image:
                try:
                    neg_pixels = transform(load(neg_image))
                except Exception:  # noqa: BLE001 - the caption still trains without its edited image
                    neg_pixels = None
        finally:
            gen.set_state(state)
        item = {"pixels": pixels, "caption": sample.caption, "negative": negative, "concreteness": conc,
                "role": role, "neg_pixels": neg_pixels}
        if self.candidates > 1:
            item["candidates"] = [(text, c, r) for text, c, _, r in drawn]
        return item


class PairDataset(Dataset):
    """Map-style dataset over :class:`Sample` records."""

    def __init__(self, samples: list[Sample], transform, seed: int = 0, image_negatives: bool = False,
                 candidates: int = 1):
        self.samples, self.transform, self.image_negatives = samples, transform, image_negatives
        self.draw = _Draw(seed, candidates)

    def set_epoch(self, epoch: int) -> None:
        self.draw.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        return self.draw.item(index, self.samples[index], self.transform, self.image_negatives, _open_image)


class ShardDataset(IterableDataset):
    """WebDataset tar shards through the ``webdataset`` library.

    ``urls`` is anything ``webdataset`` expands: brace patterns (``shards/{000..099}.tar``),
    ``::``-separated lists, ``pipe:`` commands (``pipe:aws s3 cp s3://bucket/{000..099}.tar -``)
    or a list. Each sample is a ``.jpg`` with a ``.json`` holding ``caption`` and ``negatives``
    (``[{"negative", "concreteness"}, ...]``), optionally ``.neg.jpg`` (the first negative's
    image). Shards are shuffled per epoch (seeded), split by node (``rank`` of ``world``) and by
    loader worker, so each sample is seen once per epoch across all ranks and workers; with
    ``resampled=True`` shards are drawn with replacement instead (fixed-length epochs over
    unequal shards, as open_clip's ``--dataset-resampled``). A sample that cannot be read is
    skipped with a warning (``webdataset``'s ``warn_and_continue``).
    """

    def __init__(self, urls, transform, seed: int = 0, rank: int = 0, world: int = 1,
                 image_negatives: bool = False, resampled: bool = False, candidates: int = 1,
                 negatives: str | None = None):
        self.urls = expand_shards(urls) if isinstance(urls, str) else list(urls)
        self.negatives = negatives  # a side-car joined by key, replacing the .json's negatives (see Sidecar)
        if negatives is not None and not Path(negatives).exists():
            raise FileNotFoundError(f"negatives side-car not found: {negatives}")
        self.transform, self.rank, self.world = transform, rank, world
        self.image_negatives, self.resampled = image_negatives, resampled
        self.draw = _Draw(seed, candidates)

    def set_epoch(self, epoch: int) -> None:
        self.draw.epoch = epoch

    def _shards(self):
        if self.resampled:
            rng = random.Random(_seed(self.draw.seed, self.draw.epoch, "resample", self.rank, _worker_id()))
            while True:
                yield {"url": rng.choice(self.urls)}
        order = list(self.urls)
        random.Random(_seed(self.draw.seed, self.draw.epoch, "shards")).shuffle(order)
        yield from ({"url": u} for u in order)

    def _by_node(self, src):
        if self.resampled:  # every node draws its own shards
            yield from src
            return
        for i, item in enumerate(src):
            if i % self.world == self.rank:
                yield item

    def __iter__(self):
        import webdataset as wds

        pipeline = wds.DataPipeline(
            self._shards, self._by_node, *([] if self.resampled else [wds.split_by_worker]),
            wds.tarfile_to_samples(handler=wds.warn_and_continue))
        sidecar = Sidecar(self.negatives) if self.negatives else None
        for raw in pipeline:
            sample = _wds_sample(raw, sidecar.lookup(raw.get("__url__", ""), raw["__key__"]) if sidecar else None)
            if sample is None:
                continue
            item = self.draw.item(_seed(raw.get("__url__", ""), raw["__key__"]), sample, self.transform,
                                  self.image_negatives, lambda key, raw=raw: _open_image(raw.get(key)))
            if "skip" in item:
                item["where"] = f"{raw.get('__url__', '?')}: {raw['__key__']}.jpg"
            yield item


def _worker_id() -> int:
    info = torch.utils.data.get_worker_info()
    return info.id if info else 0


def _wds_sample(raw: dict, sidecar: list[dict] | None = None) -> Sample | None:
    """A sample's caption (``.json``'s ``caption``, else its ``.txt``) and negatives (``sidecar``'s, else
    the ``.json``'s), or None (with a warning) when it has no readable caption."""
    try:
        meta = json.loads(raw["json"]) if "json" in raw else {}
        caption = meta["caption"] if "caption" in meta else raw["txt"].decode("utf-8")
        entries = sidecar if sidecar is not None else meta.get("negatives", [])
        negs = tuple((n["negative"], math.nan if n.get("concreteness") is None else float(n["concreteness"]),
                      "neg.jpg" if i == 0 and "neg.jpg" in raw else None, str(n.get("role") or ""))
                     for i, n in enumerate(entries))
        return Sample("jpg", caption, negs)
    except (KeyError, ValueError, TypeError, AttributeError):
        import logging

        logging.getLogger(__name__).warning("%s: sample %s has no readable caption (.json or .txt); skipped",
                                            raw.get("__url__", "?"), raw.get("__key__", "?"))
        return None


class Sidecar:
    """Negatives by sample key, from ``slipform plant``'s side-car: a folder of per-shard files named
    after the shards (``00017.tar`` -> ``00017.parquet`` or ``00017.jsonl``), loaded one shard at a
    time, or one ``.parquet``/``.jsonl`` file for every shard. A shard without a side-car file
    trains without negatives (a warning names it)."""

    def __init__(self, path: str):
        self.path = Path(path)
        self.url, self.table = None, ({} if self.path.is_dir() else _read_sidecar(self.path))

    def lookup(self, url: str, key: str) -> list[dict]:
        if self.path.is_dir() and url != self.url:
            from .text.shards import shard_stem

            self.url, self.table = url, {}
            for suffix in (".parquet", ".jsonl"):
                if (self.path / f"{shard_stem(url)}{suffix}").exists():
                    self.table = _read_sidecar(self.path / f"{shard_stem(url)}{suffix}")
                    break
            else:
                import logging

                logging.getLogger(__name__).warning("%s: no side-car for shard %s; its samples train without "
                                                    "negatives", self.path, url)
        return self.table.get(key, [])


def _read_sidecar(path: Path) -> dict[str, list[dict]]:
    """key -> negatives entries (``{"negative", "concreteness", "role", ...}``) of a side-car file."""
    if path.suffix == ".parquet":
        from .plant.core.record import read_sidecar

        return read_sidecar(path)
    return {k: [{"negative": n, "concreteness": None if math.isnan(c) else c, "role": r} for n, c, _, r in negs]
            for k, negs in load_negatives(path).items()}


def expand_shards(spec: str) -> list[str]:
    """``"data/{000..009}.tar"``, ``"a.tar::b.tar"`` or ``"a.tar,b.tar"`` -> the list of URLs
    (``webdataset``'s expansion; a comma outside braces also separates)."""
    from .text.shards import expand_urls

    return expand_urls(spec)


class Collate:
    """Stack images, tokenize captions and negatives, and list the samples that were dropped
    (``skips``: reason and image path).

    With ``candidates`` = K > 1 the negatives are each caption's K candidates: ``hard_tokens``
    (N, K, L), ``hard_mask`` and ``concreteness`` (N, K), ``roles`` (N lists of K routes), padded
    with masked empty captions; otherwise K = 1 and ``roles`` holds the drawn negative's route."""

    def __init__(self, tokenize, candidates: int = 1):
        self.tokenize, self.candidates = tokenize, candidates

    def __call__(self, items):
        ok = [x for x in items if x is not None and "skip" not in x]
        skips = [(x["skip"], x["where"]) for x in items if x is not None and "skip" in x]
        skipped = len(items) - len(ok)
        if not ok:
            return {"skipped": skipped, "skips": skips, "size": 0}
        k = self.candidates
        if k > 1:
            cands = [x.get("candidates", [])[:k] for x in ok]
            pad = [c + [("", math.nan, "")] * (k - len(c)) for c in cands]
            hard_tokens = self.tokenize([text for c in pad for text, _, _ in c]).view(len(ok), k, -1)
            hard_mask = torch.tensor([[j < len(c) for j in range(k)] for c in cands])
            conc = torch.tensor([[x for _, x, _ in c] for c in pad], dtype=torch.float32)
            roles = [[r for _, _, r in c] for c in pad]
        else:
            hard_tokens = self.tokenize([x["negative"] or "" for x in ok]).unsqueeze(1)
            hard_mask = torch.tensor([[x["negative"] is not None] for x in ok])
            conc = torch.tensor([[x["concreteness"]] for x in ok], dtype=torch.float32)
            roles = [[x.get("role", "")] for x in ok]
        batch = {
            "images": torch.stack([x["pixels"] for x in ok]),
            "tokens": self.tokenize([x["caption"] for x in ok]),
            "hard_tokens": hard_tokens,
            "hard_mask": hard_mask,
            "concreteness": conc,
            "roles": roles,
            "skipped": skipped,
            "skips": skips,
            "size": len(ok),
        }
        if any(x["neg_pixels"] is not None for x in ok):
            zero = torch.zeros_like(ok[0]["pixels"])
            batch["neg_images"] = torch.stack([x["neg_pixels"] if x["neg_pixels"] is not None else zero for x in ok])
            batch["neg_image_mask"] = torch.tensor([x["neg_pixels"] is not None for x in ok])
        return batch


class ResumableSampler(torch.utils.data.Sampler):
    """A seeded permutation per epoch, split over ranks, that can start at any batch.

    Every rank gets the same number of indices (the tail is dropped), so gathered batches
    line up across ranks::

        perm:    | batch 0          | batch 1          | ...
                 | rank 0 | rank 1  | rank 0 | rank 1  |
    """

    def __init__(self, n: int, batch_size: int, seed: int = 0, rank: int = 0, world: int = 1):
        self.n, self.batch_size, self.seed, self.rank, self.world = n, batch_size, seed, rank, world
        self.epoch, self.start_batch = 0, 0
        self.batches_per_epoch = n // (batch_size * world)
        if self.batches_per_epoch == 0:
            raise ValueError(f"{n} samples are fewer than one global batch ({batch_size} x {world})")

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        self.epoch, self.start_batch = epoch, start_batch

    def __iter__(self):
        g = torch.Generator().manual_seed(_seed(self.seed, self.epoch, "perm") % (2**63))
        perm = torch.randperm(self.n, generator=g).tolist()
        # global batch b is perm[b*G:(b+1)*G] (G = batch x world), split over ranks in rank order, so
        # N processes see the batches one process with an N-times larger batch would see
        b, w = self.batch_size, self.world
        mine = [i for batch in range(self.start_batch, self.batches_per_epoch)
                for i in perm[(batch * w + self.rank) * b:(batch * w + self.rank + 1) * b]]
        return iter(mine)

    def __len__(self) -> int:
        return (self.batches_per_epoch - self.start_batch) * self.batch_size
