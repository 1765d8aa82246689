"""The share any one replacement word may take of the negatives (issue 28: no word above 3%).

A few contrasts fit many captions ("beside", "without", "woman"): left alone, one of them becomes
a large share of an output, and the negatives teach that word rather than the captions. The cap
keeps a running count of the replacement words written so far in one call of
:meth:`ConcretePlant.plant <slipform.plant.core.planter.ConcretePlant.plant>` (one chunk of the
input) and refuses a negative whose word already holds its share; the caption then tries its next
target. The bound is :data:`SOFT` of the share while the caption has other targets to try; a
caption whose every other target fails keeps one of its refused negatives (the one whose word is
least written so far) if that word stays within the share itself: coverage before balance, but
never past the share. Swaps are not refused: their "replacement" is a word of the caption moved,
and they are the negatives the mix lacks.

Counting per chunk keeps the output a function of the input, the seed and the chunk size alone
(not of which worker planted which chunk). The first :data:`WARMUP` negatives of a chunk count as
that many for the bound, so that the first few words are not refused for being one of three.

Off by default (``PlantConfig.max_replacement_share=None``, ``slipform plant
--max-replacement-share 0.03`` to turn it on): any running count makes a caption's negative depend
on the captions planted before it in its chunk, so the output would change with the chunk size and
the SLURM-style shards, which the default output must not (tests/test_runner.py,
tests/test_wds_plant.py). What it does to issue 28's mix is in docs/BENCHMARKS.md ("Balance:
attribute exchanges and the replacement cap").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

WARMUP = 100  # the bound is ``share * max(written + 1, WARMUP)``: three of a word pass in any chunk at 3%
SOFT = 0.9  # the share of the bound that a negative with other targets left may reach


@dataclass
class ReplacementCap:
    """Counts of the replacement words written so far, and the bound on each one's share."""

    share: float
    counts: Counter = field(default_factory=Counter)
    written: int = 0

    def allows(self, word: str | None, last: bool = False) -> bool:
        """Whether one more negative with replacement ``word`` keeps it within :data:`SOFT` of its
        share (``last``: a caption's last chance, within the share itself)."""
        if word is None:
            return True
        bound = self.share * (1.0 if last else SOFT)
        return self.counts[word.lower()] + 1 <= bound * max(self.written + 1, WARMUP)

    def add(self, word: str | None) -> None:
        self.written += 1
        if word is not None:
            self.counts[word.lower()] += 1
