"""Fine-tuning a CLIP-style model with hard negatives and the Cement loss.

The same code runs as one CPU process or under ``torchrun`` on many GPUs and nodes::

    slipform train --train train.csv --negatives negatives.jsonl --image-root images/ -o runs/cement
    torchrun --nproc_per_node 8 -m slipform.cli train ...

A run directory holds ``config.json`` (every setting, defaults included), ``log.jsonl``
(step, loss, lr, samples/s, the gradient shares ``grad_pos``/``grad_hard``/``grad_easy`` and
magnitudes ``grad_s_*``), TensorBoard events, ``checkpoints/latest.pt`` (model, optimizer,
scheduler, scaler, RNG states and the data position; a calibrated Cement margin's fitted state
too) and, at the end,
``model.pt`` (an open_clip checkpoint), optionally ``hf/`` (a Hugging Face CLIP directory) and,
with ``--margin-schedule calibrated``, ``margin_fit.json``/``margin_fit.png`` (the LOESS fits).
Starting a run in a directory that has a checkpoint resumes it; on the CPU the result is bitwise
that of an uninterrupted run.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from .data import (
    Collate,
    DataConfig,
    PairDataset,
    ResumableSampler,
    ShardDataset,
    SkipReport,
    _seed,
    expand_shards,
    read_samples,
)
from .losses import LossConfig, build_loss, ddp_scale
from .losses.calibrated import CalibratedMargin
from .models import ClipModel, ModelSpec, export_hf, export_open_clip, load_model
from .run import RunDir
from .safeload import load_tensors
from .select import SelectConfig, SelectionLog, choose


@dataclass(frozen=True)
class TrainConfig:
    """Defaults follow the published recipe: ViT-B-32 ``openai``, lr 1e-6..5e-6, batch 256, 5 epochs.

    ``batch_size`` is per process; ``accum_steps`` splits it into micro-batches whose losses are
    averaged, each contrasting within itself (unlike open_clip's feature-cache accumulation, it
    trades in-batch negatives for memory). ``max_steps`` caps the run (tests, benchmarks).
    """

    output: str = "runs/slipform"
    epochs: int = 5
    batch_size: int = 256  # per process
    lr: float = 5e-6
    weight_decay: float = 0.1
    warmup: int = 50
    grad_clip: float = 1.0
    accum_steps: int = 1
    precision: str = "fp32"  # "bf16" / "fp16": autocast on CUDA
    compile: bool = False
    seed: int = 0
    workers: int = 2
    log_every: int = 10
    save_every: int = 100
    max_steps: int | None = None
    max_nonfinite: int = 5  # consecutive non-finite losses before the run stops
    export_hf: bool = False
    progress: bool = True
    model: ModelSpec = field(default_factory=ModelSpec)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig | None = None
    select: SelectConfig = field(default_factory=SelectConfig)  # which planted negative trains each step

    def __post_init__(self):
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"precision must be fp32, bf16 or fp16, got {self.precision!r}")
        if self.batch_size < 1 or self.accum_steps < 1 or self.epochs < 1:
            raise ValueError("batch_size, accum_steps and epochs must be >= 1")
        if self.batch_size % self.accum_steps:  # else each step would take accum_steps whole batches
            raise ValueError(f"batch_size {self.batch_size} is not a multiple of accum_steps {self.accum_steps}: "
                             "each step splits its batch into accum_steps equal micro-batches")
        if self.select.active and self.data is not None and self.data.image_negatives:
            raise ValueError("hardest-of-K selection chooses among negative captions; it does not combine with "
                             "negative images (an image per candidate would be loaded for one to be used)")


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: str = "cpu"

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed() -> DistInfo:
    """From torchrun's environment; one process without it."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return DistInfo(device="cuda" if torch.cuda.is_available() else "cpu")
    import torch.distributed as dist

    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
        dist.init_process_group("nccl")
        return DistInfo(rank, world, local, f"cuda:{local}")
    dist.init_process_group("gloo")
    return DistInfo(rank, world, local, "cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """AdamW groups: no weight decay for gains, biases (any 1-d parameter) and the logit scale."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        flat = p.ndim < 2 or "bias" in name or "logit_scale" in name
        (no_decay if flat else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def cosine_schedule(warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return factor


# --------------------------------------------------------------------------- checkpoints

def _rng_state() -> dict:
    np_state = np.random.get_state()
    state = {"python": random.getstate(), "numpy": [np_state[0], torch.from_numpy(np_state[1].copy()),
                                                  *np_state[2:]], "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(tuple(tuple(x) if isinstance(x, list) else x for x in state["python"]))
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy(), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, **state) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, path)  # a kill mid-write leaves the previous checkpoint intact


def load_checkpoint(path: Path) -> dict:
    """A run's checkpoint, weights only: a refused or damaged file raises a one-line ``ValueError``."""
    return load_tensors(path, "training checkpoint")


# --------------------------------------------------------------------------- the run

class Trainer:
    def __init__(self, config: TrainConfig, model: ClipModel | None = None, dist_info: DistInfo | None = None):
        self.config = config
        self.dist = dist_info or init_distributed()
        self.run = RunDir(config.output)  # the run directory's layout (slipform.run)
        seed_everything(config.seed + self.dist.rank)
        self.model = model or load_model(config.model)
        self.loss = build_loss(config.loss)
        if self.loss.uses_logit_bias and self.model.logit_bias is None:  # SigLIP's b, learned with the model
            self.model.add_logit_bias(self.loss.options.init_bias)
        elif not self.loss.uses_logit_bias and self.model.logit_bias is not None:
            self.model.logit_bias.requires_grad_(False)  # a softmax ignores it; DDP refuses unused parameters
        self.model.to(self.dist.device)
        self.net = self.model
        if self.dist.world > 1:
            ids = [self.dist.local_rank] if self.dist.device.startswith("cuda") else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        # after DDP's broadcast of rank 0's weights: every rank's teacher starts as the same model
        self.teacher = _ema_teacher(self.model, self.loss)  # None unless the loss has teacher_decay
        if config.compile:
            self.net = torch.compile(self.net)
        self.optimizer = torch.optim.AdamW(param_groups(self.model, config.weight_decay), lr=config.lr,
                                           betas=(0.9, 0.98), eps=1e-6)
        self.scaler = torch.amp.GradScaler("cuda", enabled=config.precision == "fp16" and "cuda" in self.dist.device)
        self.skips = SkipReport(log=self._warn)  # rows and images training could not use
        self._build_data()
        total = self.steps_per_epoch * config.epochs
        if config.max_steps:
            total = min(total, config.max_steps)
        self.total_steps = total
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, cosine_schedule(config.warmup, total))
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self.counters = {"skipped_images": 0, "nonfinite_steps": 0}
        self.selection = SelectionLog(total) if config.select.active else None

    def _build_data(self):
        cfg, data = self.config, self.config.data
        if data is None:
            raise ValueError("no training data: set TrainConfig.data")
        k = cfg.select.candidates
        collate = Collate(self.model.tokenize, k)
        self.micro_batch = cfg.batch_size // cfg.accum_steps
        if data.format == "wds" or str(data.train).endswith(".tar") or "{" in str(data.train) or \
                str(data.train).startswith("pipe:"):
            self.dataset = ShardDataset(expand_shards(data.train), self.model.preprocess_train, cfg.seed,
                                        self.dist.rank, self.dist.world, data.image_negatives, data.resampled, k,
                                        negatives=data.negatives)
            self.sampler = None
            self.steps_per_epoch = cfg.max_steps or 1000
        else:
            samples = read_samples(data, self.skips)
            if not samples:
                raise ValueError(f"{data.train}: no usable image-caption pairs")
            self.dataset = PairDataset(samples, self.model.preprocess_train, cfg.seed, data.image_negatives, k)
            self.sampler = ResumableSampler(len(samples), cfg.batch_size, cfg.seed, self.dist.rank, self.dist.world)
            self.steps_per_epoch = self.sampler.batches_per_epoch
        self.collate = collate

    def _loader(self, start_batch: int):
        self.dataset.set_epoch(self.epoch)
        if self.sampler is not None:
            self.sampler.set_epoch(self.epoch, start_batch)
        kwargs = {"num_workers": self.config.workers, "collate_fn": self.collate,
                  "batch_size": self.micro_batch, "drop_last": True}
        if self.config.workers > 0:
            kwargs.update(persistent_workers=False, prefetch_factor=4)
        loader = torch.utils.data.DataLoader(self.dataset, sampler=self.sampler, **kwargs)
        it = iter(loader)
        if self.sampler is None:  # a stream: skip what was already trained on
            for _ in range(start_batch * self.config.accum_steps):
                next(it, None)
        return it

    # -- state
    def state(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
                "rng": _rng_state(), "loss": self.loss.state_dict(), "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
                "counters": dict(self.counters), "skips": self.skips.as_dict(),
                "selection": self.selection.state() if self.selection else [],
                "teacher": self.teacher.state_dict() if self.teacher is not None else {}}  # a loss's EMA teacher

    def resume(self, path: Path) -> None:
        ckpt = load_checkpoint(path)
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.scaler.load_state_dict(ckpt["scaler"])
        _set_rng_state(ckpt["rng"])
        self.loss.load_state_dict(ckpt.get("loss", {}))  # a loss's own state (CE-CLIP's thresholds)
        if self.teacher is not None:
            if not ckpt.get("teacher"):
                raise ValueError(f"{path}: the checkpoint has no EMA teacher for loss {self.loss.name!r}")
            self.teacher.load_state_dict(ckpt["teacher"])
        self.step, self.epoch, self.batch_in_epoch = ckpt["step"], ckpt["epoch"], ckpt["batch_in_epoch"]
        self.counters.update(ckpt.get("counters", {}))
        self.skips = SkipReport(log=self._warn)
        self.skips.merge(ckpt.get("skips", {}))
        if self.selection is not None:
            self.selection.load(ckpt.get("selection", []))

    # -- one optimizer step over accum_steps micro-batches
    def _train_step(self, micro_batches: list[dict]) -> dict:
        cfg, device = self.config, self.dist.device
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.precision)
        amp = dtype is not None and device.startswith("cuda")
        self.optimizer.zero_grad(set_to_none=True)
        logs: dict[str, float] = {}
        finite = True
        for i, b in enumerate(micro_batches):
            sync = i == len(micro_batches) - 1 or not hasattr(self.net, "no_sync")
            ctx = self.net.no_sync() if not sync else _nullcontext()
            with ctx, torch.autocast(device.split(":")[0], dtype=dtype or torch.float32, enabled=amp):
                n = b["tokens"].shape[0]
                # a batch without any hard negative (CLIP-FT, or none drawn) encodes no placeholder texts;
                # under DDP every rank must gather the same tensors, so there they are always encoded
                has_hard = bool(b["hard_mask"].any()) or self.dist.world > 1 or self.selection is not None
                images = b["images"].to(device)
                has_neg_img = "neg_images" in b and cfg.loss.image_negative_weight > 0
                if has_neg_img:
                    images = torch.cat([images, b["neg_images"].to(device)])
                hard_mask, conc = b["hard_mask"], b["concreteness"]
                dense = {"dense": True} if self.loss.needs_tokens else {}  # token/patch features (FSC-CLIP)
                if self.selection is not None:  # hardest-of-K: the model picks one candidate per caption
                    img, txt, scale, hard_mask, conc, tokens, *extra = self._select(b, images, i, dense)
                else:
                    tokens = torch.cat([b["tokens"], b["hard_tokens"].flatten(0, 1)]) if has_hard else b["tokens"]
                    img, txt, scale, *extra = self.net(images, tokens.to(device), **dense)
                out = self.loss(img[:n], txt[:n], scale,
                                txt[n:].reshape(n, -1, txt.shape[-1]) if has_hard else None,
                                hard_mask.to(device) if has_hard else None, conc.to(device),
                                img[n:] if has_neg_img else None,
                                b["neg_image_mask"].to(device) if has_neg_img else None,
                                **({"logit_bias": self.model.logit_bias} if self.loss.uses_logit_bias else {}),
                                **(self._teacher_features(images, tokens.to(device), n, has_hard)
                                   if self.teacher is not None else {}),
                                **(_token_kwargs(extra[0], n, has_hard) if extra else {}))
            loss = out["loss"]
            if not torch.isfinite(loss.detach()):
                finite = False
                break
            self.scaler.scale(loss * ddp_scale() / len(micro_batches)).backward()
            for k, v in out.items():
                logs[k] = logs.get(k, 0.0) + float(v.detach()) / len(micro_batches)
        if not finite:
            self.optimizer.zero_grad(set_to_none=True)
            return {"nonfinite": True}
        # the temperature's (and a bias's) gradient, which every rank holds in full, is divided by
        # the world size inside the loss (slipform.losses.base.replicated)
        self.scaler.unscale_(self.optimizer)
        # the whole model's gradient norm before clipping: under DDP that of the global batch, so
        # 1 process and N processes log the same value (the check that ddp_scale is right)
        logs["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip or math.inf))
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        with torch.no_grad():  # CLIP keeps the temperature at or below 100
            self.model.model.logit_scale.clamp_(0, math.log(100))
            if self.teacher is not None:  # teacher = d * teacher + (1 - d) * model
                for t, p in zip(self.teacher.parameters(), self.model.parameters(), strict=True):
                    t.lerp_(p, 1.0 - self.loss.teacher_decay)
        return logs

    @torch.no_grad()
    def _teacher_features(self, images: torch.Tensor, tokens: torch.Tensor, n: int, has_hard: bool) -> dict:
        """The EMA teacher's features of the batch, for a loss with ``teacher_decay``."""
        img, txt, _ = self.teacher(images[:n], tokens)
        return {"teacher_image_features": img, "teacher_text_features": txt[:n],
                "teacher_hard_text_features": txt[n:].reshape(n, -1, txt.shape[-1]) if has_hard else None}

    def _select(self, b: dict, images: torch.Tensor, micro: int, dense: dict):
        """Encode each caption's K candidates, keep the one closest to its image (see
        :mod:`slipform.select`) and record the pick; returns features, scale and the chosen
        negatives' mask and concreteness, (N, 1) each, and the tokens encoded (captions, then picks)."""
        cfg, device = self.config, self.dist.device
        mask = b["hard_mask"]
        gen = torch.Generator().manual_seed(_seed(cfg.seed, self.step, micro, self.dist.rank, "select") % (2**63))
        seen = {}

        def chooser(image_features, candidate_features):
            pick, seen["sim"] = choose(image_features, candidate_features, mask, cfg.select, gen)
            return pick

        img, txt, scale, pick, *extra = self.net(images, b["tokens"].to(device),
                                                 candidates=b["hard_tokens"].to(device), choose=chooser, **dense)
        pick = pick.cpu()
        rows = torch.arange(len(pick))
        self.selection.add(self.step, pick, seen["sim"], mask, b["roles"], b["concreteness"])
        tokens = torch.cat([b["tokens"], b["hard_tokens"][rows, pick]])  # what the model encoded, for a teacher
        return img, txt, scale, mask[rows, pick][:, None], b["concreteness"][rows, pick][:, None], tokens, *extra

    def fit(self) -> dict:
        cfg = self.config
        run = self.run
        ckpt_path = run.checkpoint
        resumed = 0
        if ckpt_path.exists():
            self.resume(ckpt_path)
            resumed = self.step
            self._warn(f"resuming from step {self.step} of {self.total_steps} ({ckpt_path})")
        if self.dist.main:
            run.root.mkdir(parents=True, exist_ok=True)
            run.write_config(_jsonable(asdict(cfg)))
            _truncate_log(run.log, self.step)
        logger = _Logger(run, self.dist.main)
        bar = None
        if cfg.progress and self.dist.main:
            from tqdm import tqdm

            bar = tqdm(total=self.total_steps, initial=self.step, unit="step", desc="train", file=sys.stderr,
                       dynamic_ncols=True)
        consecutive_bad, last_log, wait, busy = 0, time.perf_counter(), 0.0, 0.0
        samples_since, steps_run = 0, 0  # steps_run: optimizer steps this process took
        self.net.train()
        while self.step < self.total_steps and self.epoch < cfg.epochs:
            it = self._loader(self.batch_in_epoch)
            while self.step < self.total_steps and self.batch_in_epoch < self.steps_per_epoch:
                t0 = time.perf_counter()
                micro, drawn = [], 0
                for _ in range(cfg.accum_steps):
                    b = next(it, None)
                    if b is None:
                        break
                    drawn += 1
                    self.counters["skipped_images"] += b["skipped"]
                    for reason, where in b.get("skips", ()):
                        self.skips.add(reason, where)
                    if b["size"]:
                        micro.append(b)
                if not micro and drawn:  # every image of this step's batches was skipped: no step, go on
                    self.batch_in_epoch += 1  # (a loader restarted here would draw the same batches forever)
                    continue
                if not micro:  # the loader ran dry: a stream's epoch ends here (a loader restarted at this
                    self.batch_in_epoch = self.steps_per_epoch  # batch would skip everything, for ever)
                    break
                t1 = time.perf_counter()
                logs = self._train_step(micro)
                t2 = time.perf_counter()
                wait, busy = wait + (t1 - t0), busy + (t2 - t1)
                self.batch_in_epoch += 1
                if logs.get("nonfinite"):
                    consecutive_bad += 1
                    self.counters["nonfinite_steps"] += 1
                    print(f"warning: non-finite loss at step {self.step}; step skipped", file=sys.stderr)
                    if consecutive_bad >= cfg.max_nonfinite:
                        raise RuntimeError(f"{consecutive_bad} non-finite losses in a row at step {self.step}: "
                                           "lower the learning rate or check the data")
                    continue
                consecutive_bad = 0
                self.step += 1
                steps_run += 1
                self.loss.on_step(self.step)  # state that moves with training: the calibrated margin's refit
                samples_since += sum(b["size"] for b in micro) * self.dist.world
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=f"{self.epoch + 1}/{cfg.epochs}", loss=f"{logs['loss']:.4f}", refresh=False)
                if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                    now = time.perf_counter()
                    logger.write({"step": self.step, "epoch": self.epoch, "loss": logs["loss"],
                                  "lr": self.scheduler.get_last_lr()[0],
                                  "samples_per_s": samples_since / max(1e-9, now - last_log),
                                  "data_wait": wait / max(1e-9, wait + busy),
                                  **{k: v for k, v in logs.items() if k != "loss"}, **self.counters,
                                  **(self.selection.flush() if self.selection else {})})
                    last_log, samples_since, wait, busy = now, 0, 0.0, 0.0
                if self.step % cfg.save_every == 0 and self.dist.main:
                    save_checkpoint(ckpt_path, **self.state())
            if self.batch_in_epoch >= self.steps_per_epoch:
                self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        if bar is not None:
            bar.close()
        logger.close()
        if self.dist.main:
            save_checkpoint(ckpt_path, **self.state())
            self._write_skips()
            self._write_margin_fit()
            if self.selection is not None:
                run.selection.write_text(json.dumps(
                    {"config": asdict(cfg.select), "phases": self.selection.summary()}, indent=1))
            export_open_clip(self.model, run.model) if self.model.family == "open_clip" else None
            if cfg.export_hf:
                export_hf(self.model, run.hf)
        return {"step": self.step, "resumed_from": resumed, "steps_run": steps_run, **self.counters,
                "skips": self.skips.as_dict()}

    def _warn(self, msg: str) -> None:
        if self.dist.main:
            print(msg, file=sys.stderr)

    def _write_margin_fit(self) -> None:
        """A calibrated margin's fits (``margin_fit.json``) and their plot, the paper's Fig. 4
        (``margin_fit.png``): the estimated similarities against concreteness and the margin."""
        fitted = getattr(self.loss, "margin", None)
        if not isinstance(fitted, CalibratedMargin):
            return
        self.run.margin_fit.write_text(json.dumps(fitted.summary()))
        from .plots import plot_margin_fit

        plot_margin_fit(self.run.root)

    def _write_skips(self) -> None:
        """``skipped.json`` in the run directory: counts by reason (images count each time they
        are drawn, once per epoch) and the first few files or lines of each."""
        skipped = self.run.skipped
        skipped.write_text(json.dumps(self.skips.as_dict(), indent=1))
        if self.skips.total():
            print(f"{self.skips.text()} (details: {skipped})", file=sys.stderr)


def _ema_teacher(model: ClipModel, loss) -> ClipModel | None:
    """A frozen copy of the model that the trainer moves towards it after every step."""
    if loss.teacher_decay is None:
        return None
    return copy.deepcopy(model).eval().requires_grad_(False)


def _token_kwargs(dense: dict, n: int, has_hard: bool) -> dict:
    """The loss's token arguments (:attr:`slipform.losses.base.Loss.needs_tokens`) from the dense
    forward: the captions' first n images (negative images follow) and texts, then the negatives'."""
    words, mask = dense["text_tokens"], dense["text_token_mask"]
    out = {"image_tokens": dense["image_tokens"][:n], "text_tokens": words[:n], "text_token_mask": mask[:n]}
    if has_hard:
        out.update(hard_text_tokens=words[n:].reshape(n, -1, *words.shape[1:]),
                   hard_text_token_mask=mask[n:].reshape(n, -1, mask.shape[1]))
    return out


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj if isinstance(obj, (int, float, str, bool)) or obj is None else str(obj)


def _truncate_log(path: Path, step: int) -> None:
    """Drop log lines written after the checkpoint a resumed run restarts from."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line)["step"] <= step:
                keep.append(line)
        except (ValueError, KeyError):
            continue
    path.write_text("".join(line + "\n" for line in keep))


class _Logger:
    def __init__(self, run: RunDir, active: bool):
        self.active, self.path, self.tb = active, run.log, None
        if active:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(run.tensorboard))
            except ImportError:
                self.tb = None

    def write(self, row: dict) -> None:
        if not self.active:
            return
        with open(self.path, "a") as f:  # strict JSON: a non-finite number (no hard negative) is null
            f.write(json.dumps({k: None if isinstance(v, float) and not math.isfinite(v) else v
                                for k, v in row.items()}, allow_nan=False) + "\n")
        if self.tb is not None:
            for k, v in row.items():
                if k != "step" and isinstance(v, (int, float)) and math.isfinite(v):
                    self.tb.add_scalar(k, v, row["step"])

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def train(config: TrainConfig, model: ClipModel | None = None) -> dict:
    """Run (or resume) a fine-tuning run; returns the final step, the step it resumed from (0 for a
    fresh run), the optimizer steps this call took, and the counters."""
    return Trainer(config, model).fit()


__all__ = ["DistInfo", "TrainConfig", "Trainer", "cosine_schedule", "param_groups", "replace", "train"]
