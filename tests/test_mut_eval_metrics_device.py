"""``retrieval_ranks`` keeps every tensor on the similarity matrix's device: what the third-round
re-sample of ``evaluate/metrics.py`` left unpinned (docs/BENCHMARKS.md, "Issue 31, third round:
`evaluate/`"). The ``meta`` device stands in for a GPU: a tensor left on the CPU fails to mix with it."""

from __future__ import annotations

import torch

from slipform.evaluate.metrics import retrieval_ranks


def test_retrieval_ranks_stay_on_the_device_of_the_similarities():
    sim = torch.tensor([[0.9, 0.1, 0.7], [0.2, 0.8, 0.6]])  # caption 2 scores image 0 above its own
    image_of_text = torch.tensor([0, 1, 1])
    best, rank_t2i = retrieval_ranks(sim.to("meta"), image_of_text)
    assert best.device.type == rank_t2i.device.type == "meta" and best.shape == (2,) and rank_t2i.shape == (3,)
    best, rank_t2i = retrieval_ranks(sim, image_of_text)  # on the CPU, the ranks by hand
    assert best.tolist() == [0, 0] and rank_t2i.tolist() == [0, 0, 1]
