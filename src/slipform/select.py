"""Negatives chosen by the model during training: hardest-of-K selection.

ConcretePlant can plant K negatives per caption (``slipform plant --negatives-per-caption K``),
one per top-k target. By default training draws one of them at random each epoch. With
``SelectConfig(mode="hardest")`` the trainer instead encodes all K candidates of each caption
with the text tower (no gradient, no extra images) and keeps the one the current model scores
closest to the caption's image -- the one it is most likely to confuse with the caption::

    pick_i = argmax_k  <f(image_i), g(negative_ik)>        (f, g: normalised image/text features)

``temperature > 0`` samples ``pick_i ~ softmax(sim_i / temperature)`` instead of the argmax
(0.01-0.05 on cosine similarities keeps it near the hardest while still visiting the others);
``mode="mix"`` takes the hardest for a ``mix`` share of the captions and a uniformly random
candidate for the rest (hard-negative mining's usual hedge against false negatives).

The extra cost is one no-grad text forward over N x K captions per step; ``bench/select_cost.py``
measures it. :class:`SelectionLog` records which route (A/R/O) and concreteness bin the
selection picks against what it was offered, so the log shows what the model finds hard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

MODES = ("random", "hardest", "mix")
ROLES = ("A", "R", "O")
BINS = ((1.0, 2.0), (2.0, 3.0), (3.0, 4.0), (4.0, 5.01))


@dataclass(frozen=True)
class SelectConfig:
    """How training chooses one hard negative per caption from the ones planted for it.

    ``random``: one drawn at random per epoch (the paper's recipe; ``k`` is ignored).
    ``hardest``: up to ``k`` candidates drawn per caption, the one closest to the image kept
    (sampled from a softmax at ``temperature`` when it is > 0). ``mix``: the hardest for a
    ``mix`` share of the captions, a random candidate for the others.
    """

    mode: str = "random"
    k: int = 3
    temperature: float = 0.0
    mix: float = 0.5

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"selection mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.k < 1 or (self.active and self.k < 2):
            raise ValueError(f"hardest-of-K selection needs k >= 2 candidates, got k={self.k}")
        if self.temperature < 0 or not 0 <= self.mix <= 1:
            raise ValueError("temperature must be >= 0 and mix in [0, 1]")

    @property
    def active(self) -> bool:
        """Whether the trainer chooses (else the data draws one negative at random)."""
        return self.mode != "random"

    @property
    def candidates(self) -> int:
        """Negatives the data hands over per caption."""
        return self.k if self.active else 1


def choose(image_features: torch.Tensor, candidate_features: torch.Tensor, mask: torch.Tensor,
           config: SelectConfig, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Which candidate each caption keeps.

    image_features (N, D) and candidate_features (N, K, D), normalised; mask (N, K) bool marks
    real candidates. Returns ``pick`` (N,) long and the similarities ``sim`` (N, K) (``-inf`` where
    masked). A row without any candidate picks 0 (its mask stays False downstream). Sampling
    (temperature, mix) runs on the CPU under ``generator`` so that a resumed run repeats it.
    """
    sim = torch.einsum("nd,nkd->nk", image_features.float(), candidate_features.float()).detach().cpu()
    mask = mask.detach().cpu().bool()
    sim = sim.masked_fill(~mask, -math.inf)
    empty = ~mask.any(dim=1)
    safe = sim.masked_fill(empty[:, None], 0.0)  # every row needs one finite entry
    if config.temperature > 0:
        pick = torch.multinomial(torch.softmax(safe / config.temperature, dim=1), 1, generator=generator)[:, 0]
    else:
        pick = safe.argmax(dim=1)
    if config.mode == "mix":
        uniform = mask.float().masked_fill(empty[:, None], 1.0)
        at_random = torch.multinomial(uniform, 1, generator=generator)[:, 0]
        hardest = torch.rand(len(pick), generator=generator) < config.mix
        pick = torch.where(hardest, pick, at_random)
    return pick.masked_fill(empty, 0), sim


def concreteness_bin(value: float) -> str | None:
    """``"3-4"`` for 3.2; None for NaN (no rating) or outside 1-5."""
    for lo, hi in BINS:
        if lo <= value < hi:
            return f"{int(lo)}-{int(min(hi, 5))}"
    return None


class SelectionLog:
    """Counts of what the selection picked and what it was offered, by route and concreteness
    bin, for the log lines (``window``, reset at each log) and over thirds of training
    (``phases``, saved to ``selection.json`` and kept in checkpoints)."""

    def __init__(self, total_steps: int, phases: int = 3):
        self.total, self.n_phases = max(1, total_steps), phases
        self.window: dict[str, float] = {}
        self.phases: list[dict[str, float]] = [{} for _ in range(phases)]

    def add(self, step: int, pick: torch.Tensor, sim: torch.Tensor, mask: torch.Tensor, roles: list[list[str]],
            concreteness: torch.Tensor) -> None:
        phase = self.phases[min(self.n_phases - 1, step * self.n_phases // self.total)]
        # plain lists: indexing tensors element by element would cost more than the counting
        mask, conc = mask.detach().cpu().bool().tolist(), concreteness.detach().cpu().tolist()
        sim, pick = sim.detach().cpu().tolist(), pick.detach().cpu().tolist()
        for i, row in enumerate(roles):
            for k, role in enumerate(row):
                if not mask[i][k]:
                    continue
                for counts in (self.window, phase):
                    _count(counts, "offered", role, conc[i][k], sim[i][k])
                    if pick[i] == k:
                        _count(counts, "picked", role, conc[i][k], sim[i][k])

    def flush(self) -> dict[str, float]:
        """Shares for one log line: ``select_R`` (share of picks with route R), ``offer_R`` (share
        of the candidates), ``select_bin_4-5``, ``select_sim``/``offer_sim`` (mean cosine)."""
        out = shares(self.window)
        self.window = {}
        return out

    def summary(self) -> list[dict[str, float]]:
        return [shares(p) for p in self.phases]

    def state(self) -> list[dict[str, float]]:
        return [dict(p) for p in self.phases]

    def load(self, state: list[dict[str, float]]) -> None:
        if len(state) == self.n_phases:
            self.phases = [dict(p) for p in state]


def _count(counts: dict, kind: str, role: str, conc: float, sim: float) -> None:
    counts[f"{kind}/n"] = counts.get(f"{kind}/n", 0) + 1
    counts[f"{kind}/sim"] = counts.get(f"{kind}/sim", 0.0) + sim
    if role in ROLES:
        counts[f"{kind}/role/{role}"] = counts.get(f"{kind}/role/{role}", 0) + 1
    b = concreteness_bin(conc) if not math.isnan(conc) else None
    if b is not None:
        counts[f"{kind}/bin/{b}"] = counts.get(f"{kind}/bin/{b}", 0) + 1


def shares(counts: dict) -> dict[str, float]:
    out: dict[str, float] = {}
    for kind, prefix in (("picked", "select"), ("offered", "offer")):
        n = counts.get(f"{kind}/n", 0)
        if not n:
            continue
        out[f"{prefix}_sim"] = counts[f"{kind}/sim"] / n
        for role in ROLES:
            out[f"{prefix}_{role}"] = counts.get(f"{kind}/role/{role}", 0) / n
        for lo, hi in BINS:
            b = f"{int(lo)}-{int(min(hi, 5))}"
            out[f"{prefix}_bin_{b}"] = counts.get(f"{kind}/bin/{b}", 0) / n
    return out
