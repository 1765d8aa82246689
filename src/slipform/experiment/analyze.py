"""Which negatives help? Each planted negative's properties against what it contributes.

``slipform analyze DEMO_FOLDER`` reads a demo's planted negatives (every strategy it ran, so
the concreteness of the changed word spans the scale) and, for a sample of them, measures

- properties: the changed word's concreteness, its role (A/R/O), the MiniLM similarity of
  target and replacement, whether the negative changes the scene at all, and the visual
  difference between the image and the negative image the editor renders (mean absolute pixel
  difference, and 1 - cosine of the two images' embeddings under the pretrained model);
- contribution during training, at its start (the pretrained model) and at its end (the
  Slipform model): the negative's share of its anchor's image->text gradient under InfoNCE
  with hard negatives in a batch of 128 (p_ih of the softmax, which is |dl/dz_ih|), and its
  loss term log(1 + e^{(s_ih - s_ii)/τ}).

It writes ``analysis/negatives.csv`` (one row per negative), ``analysis/correlations.csv``
(Spearman's ρ of every property with every contribution, with a bootstrap 95% interval), and
``analysis/gains.csv``: the benchmark gain of each fine-tuned method over the pretrained model
per role and per concreteness bin of the changed word (world SugarCrepe items), and a plot,
``analysis/analysis.png``.
"""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import numpy as np
import torch

from ..run import RunDir
from .layout import DemoLayout
from .protocol import ProtocolConfig, model_spec, planted_change

PROPERTIES = ("concreteness", "similarity", "changes_scene", "pixel_distance", "embedding_distance")
CONTRIBUTIONS = ("grad_share_start", "loss_start", "grad_share_end", "loss_end")
ROLE_OF_SUBSET = {"replace_obj": "O", "swap_obj": "O", "add_obj": "O", "replace_att": "A", "swap_att": "A",
                  "add_att": "A", "replace_rel": "R"}
BINS = ((1.0, 2.5), (2.5, 3.5), (3.5, 4.5), (4.5, 5.01))


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks with ties averaged (for Spearman's ρ)."""
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(len(x), dtype=float)
    for v in np.unique(x):
        tie = x == v
        if tie.sum() > 1:
            r[tie] = r[tie].mean()
    return r


def spearman(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return math.nan
    return float(np.corrcoef(ranks(x[ok]), ranks(y[ok]))[0, 1])


def bootstrap_ci(x, y, n: int = 300, seed: int = 0) -> tuple[float, float]:
    x, y = np.asarray(x, float), np.asarray(y, float)
    rng = np.random.default_rng(seed)
    stats = [spearman(x[i], y[i]) for i in (rng.integers(0, len(x), len(x)) for _ in range(n))]
    stats = [s for s in stats if math.isfinite(s)]
    return (float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5))) if stats else (math.nan, math.nan)


def _records(folder: Path, seed: int, sample: int, data: Path) -> list[dict]:
    rows, images = [], None
    for kind, path in DemoLayout(folder).negative_files(seed).items():
        with open(path) as f:
            recs = [json.loads(line) for line in f]
        random.Random(f"analyze:{kind}:{seed}").shuffle(recs)
        recs = recs[:sample]
        if any("image" not in r for r in recs):  # the controls' negatives name the caption, not the image
            if images is None:
                with open(data / "train.csv", newline="") as f:
                    images = {row["id"]: row["filepath"] for row in csv.DictReader(f)}
            recs = [r if "image" in r else dict(r, image=images[r["id"]]) for r in recs if "image" in r or r["id"] in images]
        rows += [dict(r, strategy=kind) for r in recs]
    return rows


class _Encoders:
    """One feature encoder per checkpoint, so each model's images are encoded once for all measures."""

    def __init__(self, config: ProtocolConfig, cache: Path):
        self.config, self.cache, self._by_path = config, cache, {}

    def __call__(self, checkpoint: Path):
        from ..evaluate.encode import Encoder
        from ..models import load_model

        key = str(Path(checkpoint).resolve())
        if key not in self._by_path:
            model = load_model(model_spec(self.config, checkpoint)).eval()
            self._by_path[key] = Encoder(model, cache_dir=self.cache, workers=0)
        return self._by_path[key]


def _negative_images(records, data: Path, folder: Path):
    """Render each parsable, scene-changing negative; returns per-record (path | None, changes_scene)."""
    from ..world.editor import WorldEditor
    from ..world.render import render

    editor, out = WorldEditor(), []
    for r in records:
        kind, neg = planted_change(editor, r)
        if neg is None:
            out.append((None, 0.0 if kind == "same_scene" else math.nan))
        else:
            path = folder / "images" / r["strategy"] / f"{r['id']}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            render(neg).save(path)
            out.append((path, 1.0))
    return out


def _pixel_distance(a: Path, b: Path) -> float:
    from PIL import Image

    x = np.asarray(Image.open(a).convert("RGB"), dtype=np.float32)
    y = np.asarray(Image.open(b).convert("RGB"), dtype=np.float32)
    return float(np.abs(x - y).mean() / 255)


@torch.no_grad()
def contributions(enc, records, data: Path, batch: int = 128) -> tuple[list, list]:
    """Per negative: its share p_ih of the anchor's image->text softmax (InfoNCE with hard negatives,
    in batches of ``batch`` from the same sample), and its loss term log(1 + e^{(s_ih - s_ii)/τ}).
    ``enc`` is the model's :class:`~slipform.evaluate.encode.Encoder`."""
    img = enc.images([data / r["image"] for r in records])
    pos, neg = enc.texts([r["caption"] for r in records]), enc.texts([r["negative"] for r in records])
    scale = float(enc.model.logit_scale)
    share, loss = [], []
    for start in range(0, len(records), batch):
        sl = slice(start, start + batch)
        i, t, h = img[sl], pos[sl], neg[sl]
        logits = scale * torch.cat([i @ t.T, i @ h.T], dim=1)  # (n, 2n): captions, then negatives
        p = logits.softmax(dim=1)
        n = i.shape[0]
        idx = torch.arange(n)
        share += p[idx, n + idx].tolist()
        loss += torch.nn.functional.softplus(logits[idx, n + idx] - logits[idx, idx]).tolist()
    return share, loss


def analyze(folder: str | Path, seed: int = 0, sample: int = 512, log=print) -> dict:
    folder = Path(folder)
    cfg_path = DemoLayout(folder).config
    if not cfg_path.exists():
        raise FileNotFoundError(f"{cfg_path}: not a demo folder (run 'slipform demo' first)")
    cfg = json.loads(cfg_path.read_text())
    protocol = ProtocolConfig(**cfg["protocol"])
    runs = DemoLayout(folder).runs(seed)
    if "slipform" not in runs:
        raise FileNotFoundError(f"{DemoLayout(folder).run('slipform', seed)}: no finished Slipform run to analyse")
    run_cfg = RunDir(runs["slipform"]).read_config()
    pretrained = Path(run_cfg["model"]["pretrained"])
    data = Path(run_cfg["data"]["image_root"])
    out = folder / "analysis"
    out.mkdir(exist_ok=True)
    records = _records(folder, seed, sample, data)
    if not records:
        raise FileNotFoundError(f"{folder}/negatives: no planted negatives for seed {seed}")
    log(f"analysing {len(records)} negatives ({', '.join(sorted({r['strategy'] for r in records}))})")
    encoders = _Encoders(protocol, folder / "analysis" / "features")
    rows = [{"id": r["id"], "strategy": r["strategy"], "role": r.get("role"), "target": r.get("target"),
             "replacement": r.get("replacement"), "concreteness": _num(r.get("concreteness")),
             "similarity": _num(r.get("similarity"))} for r in records]
    start_enc = encoders(pretrained)
    negs = _negative_images(records, data, out)
    have = [k for k, (p, _) in enumerate(negs) if p is not None]
    emb_a = start_enc.images([data / records[k]["image"] for k in have])
    emb_b = start_enc.images([negs[k][0] for k in have])
    emb_dist = dict(zip(have, (1 - (emb_a * emb_b).sum(-1)).tolist()))
    for k, (row, (path, changed)) in enumerate(zip(rows, negs)):
        row["changes_scene"] = changed
        row["pixel_distance"] = _pixel_distance(data / records[k]["image"], path) if path else \
            (0.0 if changed == 0.0 else math.nan)
        row["embedding_distance"] = emb_dist.get(k, 0.0 if changed == 0.0 else math.nan)
    for tag, checkpoint in (("start", pretrained), ("end", RunDir(runs["slipform"]).model)):
        share, loss = contributions(encoders(checkpoint), records, data)
        for row, s, lo in zip(rows, share, loss):
            row[f"grad_share_{tag}"], row[f"loss_{tag}"] = s, lo
    _write_csv(out / "negatives.csv", rows)
    corr = []
    for prop in PROPERTIES:
        for con in CONTRIBUTIONS:
            x, y = [r[prop] for r in rows], [r[con] for r in rows]
            lo, hi = bootstrap_ci(x, y)
            corr.append({"property": prop, "contribution": con, "spearman": spearman(x, y), "ci_low": lo,
                         "ci_high": hi, "n": int(np.isfinite(np.asarray(x, float)).sum())})
    _write_csv(out / "correlations.csv", corr)
    gains = benchmark_gains(folder, seed, protocol, pretrained, encoders)
    _write_csv(out / "gains.csv", gains)
    plot(rows, corr, gains, out / "analysis.png")
    by_strategy = {}
    for s in sorted({r["strategy"] for r in rows}):
        sub = [r for r in rows if r["strategy"] == s]
        by_strategy[s] = {k: _nanmean([r[k] for r in sub]) for k in (*PROPERTIES, *CONTRIBUTIONS)}
    (out / "summary.json").write_text(json.dumps({"by_strategy": by_strategy, "correlations": corr,
                                                  "gains": gains}, indent=1))
    for s, v in by_strategy.items():
        log(f"  {s:>9}: concreteness {v['concreteness']:.2f}, changes scene {v['changes_scene']:.0%}, "
            f"grad share {v['grad_share_start']:.3f} -> {v['grad_share_end']:.3f}")
    log(f"analysis: {out}")
    return {"by_strategy": by_strategy, "correlations": corr, "gains": gains, "folder": str(out)}


def benchmark_gains(folder: Path, seed: int, protocol: ProtocolConfig, pretrained: Path, encoders) -> list[dict]:
    """Per fine-tuned method: accuracy gain over the pretrained model on world SugarCrepe items,
    grouped by the role of the change and by the concreteness bin of the changed word."""
    from ..evaluate import world as wb
    from ..lexicon import load_lexicon
    from .demo import cache_root

    lex = load_lexicon()
    scenes, paths = wb.test_scenes(cache_root(json.loads(DemoLayout(folder).config.read_text()).get("cache")), "test",
                               protocol.eval_limit)
    items = []
    for i, scene in enumerate(scenes):
        for kind, neg in wb.negatives(scene, random.Random(f"wsc:{scene.seed}")).items():
            pos = wb.plain_caption(scene)
            changed = set(neg.lower().strip(".").split()) - set(pos.lower().strip(".").split())
            rated = [lex.rating(w) for w in changed if lex.rating(w) is not None]
            items.append((i, pos, neg, ROLE_OF_SUBSET[kind], sum(rated) / len(rated) if rated else math.nan))
    correct = {}
    runs = {"pretrained": pretrained, **{m: RunDir(p).model for m, p in DemoLayout(folder).runs(seed).items()}}
    for name, ckpt in runs.items():
        enc = encoders(ckpt)
        img = enc.images(paths)
        idx = torch.tensor([it[0] for it in items])
        a = (img[idx] * enc.texts([it[1] for it in items])).sum(-1)
        b = (img[idx] * enc.texts([it[2] for it in items])).sum(-1)
        correct[name] = (a > b).float().numpy()
    out = []
    groups = [("role", r, [k for k, it in enumerate(items) if it[3] == r]) for r in ("A", "R", "O")]
    groups += [("concreteness", f"{lo:g}-{min(hi, 5):g}", [k for k, it in enumerate(items) if lo <= it[4] < hi])
               for lo, hi in BINS]
    for name in runs:
        if name == "pretrained":
            continue
        for group, value, ks in groups:
            if ks:
                gain = 100 * float(correct[name][ks].mean() - correct["pretrained"][ks].mean())
                out.append({"method": name, "group": group, "value": value, "items": len(ks),
                            "accuracy": 100 * float(correct[name][ks].mean()), "gain": gain})
    return out


def plot(rows, corr, gains, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    ax = axes[0]
    for s in sorted({r["strategy"] for r in rows}):
        sub = [r for r in rows if r["strategy"] == s and math.isfinite(r["concreteness"])]
        ax.scatter([r["concreteness"] for r in sub], [r["grad_share_start"] for r in sub], s=6, alpha=0.5, label=s)
    ax.set_yscale("log")
    ax.set_xlabel("concreteness of the changed word")
    ax.set_ylabel("gradient share p_ih (pretrained model)")
    ax.legend(fontsize=7)
    ax.set_title("Each negative's pull at the start of fine-tuning")
    ax = axes[1]
    labels = [f"{c['property']} / {c['contribution']}" for c in corr if c["contribution"].endswith("start")]
    vals = [c for c in corr if c["contribution"].endswith("start")]
    ax.barh(range(len(vals)), [c["spearman"] for c in vals],
            xerr=[[max(0, c["spearman"] - c["ci_low"]) if math.isfinite(c["ci_low"]) else 0 for c in vals],
                  [max(0, c["ci_high"] - c["spearman"]) if math.isfinite(c["ci_high"]) else 0 for c in vals]])
    ax.set_yticks(range(len(vals)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("Spearman ρ (95% bootstrap CI)")
    ax.set_title("Properties vs contribution")
    ax = axes[2]
    methods = sorted({g["method"] for g in gains})
    keys = list(dict.fromkeys((g["group"], g["value"]) for g in gains))
    width = 0.8 / max(1, len(methods))
    for i, m in enumerate(methods):
        by = {(g["group"], g["value"]): g["gain"] for g in gains if g["method"] == m}
        ax.bar([j + i * width for j in range(len(keys))], [by.get(k, 0) for k in keys], width, label=m)
    ax.set_xticks([j + width * (len(methods) - 1) / 2 for j in range(len(keys))])
    ax.set_xticklabels([f"{'role' if g == 'role' else 'c'} {v}" for g, v in keys], rotation=30, fontsize=7)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylabel("gain over pretrained (points)")
    ax.set_title("World SugarCrepe gain per role and concreteness bin")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _nanmean(values) -> float:
    v = [x for x in values if isinstance(x, (int, float)) and math.isfinite(x)]
    return sum(v) / len(v) if v else math.nan


def _write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        path.write_text("")
        return
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
