"""Metric definitions, on similarity matrices and scores; no I/O."""

from __future__ import annotations

import torch


def pairwise_accuracy(image: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Per item: the image is closer to its positive text than to the negative (strictly)."""
    return (image * positive).sum(-1) > (image * negative).sum(-1)


def retrieval_ranks(sim: torch.Tensor, image_of_text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image, the best rank of its captions (image->text); per caption, the rank of its image
    (text->image); 0 is first. ``sim`` is (n_images, n_texts); ``image_of_text[t]`` is the image
    of caption t."""
    n_img, n_txt = sim.shape
    # text -> image: rank of the correct image among all images, per caption
    correct = sim[image_of_text, torch.arange(n_txt)]
    rank_t2i = (sim > correct.unsqueeze(0)).sum(0)
    # image -> text: best rank over the image's captions
    order = sim.argsort(dim=1, descending=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(n_txt).expand(n_img, n_txt))
    owns = image_of_text.unsqueeze(0) == torch.arange(n_img).unsqueeze(1)
    best = ranks.masked_fill(~owns, n_txt).min(1).values
    return best, rank_t2i


def retrieval_hits(sim: torch.Tensor, image_of_text: torch.Tensor, k: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image and per caption: found within the top ``k`` (see :func:`retrieval_ranks`)."""
    best, rank_t2i = retrieval_ranks(sim, image_of_text)
    return best < k, rank_t2i < k


def recall_at_k(sim: torch.Tensor, image_of_text: torch.Tensor, ks=(1, 5, 10)) -> dict:
    """Image<->text retrieval recall in the CLIP-paper convention (see :func:`retrieval_hits`)."""
    best, rank_t2i = retrieval_ranks(sim, image_of_text)
    out = {}
    for k in ks:
        out[f"image_to_text_R@{k}"] = float((best < k).float().mean() * 100)
        out[f"text_to_image_R@{k}"] = float((rank_t2i < k).float().mean() * 100)
    return out


def winoground_scores(s: torch.Tensor) -> dict:
    """``s[n, c, i]`` = similarity of caption c and image i of example n (c, i in {0, 1}).

    text: both images pick their own caption; image: both captions pick their own image;
    group: both hold (Thrush et al., 2022).
    """
    text = (s[:, 0, 0] > s[:, 1, 0]) & (s[:, 1, 1] > s[:, 0, 1])
    image = (s[:, 0, 0] > s[:, 0, 1]) & (s[:, 1, 1] > s[:, 1, 0])
    return {"text_score": float(text.float().mean() * 100), "image_score": float(image.float().mean() * 100),
            "group_score": float((text & image).float().mean() * 100)}


def mean_average_precision(scores, labels) -> float:
    """Mean over classes (with at least one positive) of scikit-learn's average precision."""
    import numpy as np
    from sklearn.metrics import average_precision_score

    scores, labels = np.asarray(scores), np.asarray(labels)
    aps = [average_precision_score(labels[:, c], scores[:, c]) for c in range(labels.shape[1]) if labels[:, c].any()]
    return float(np.mean(aps) * 100)


def grouped_accuracy(correct: list[bool], groups: list[str], min_count: int = 1) -> dict:
    """Accuracy per group (groups with fewer than ``min_count`` items left out), and their macro mean."""
    per: dict[str, list[bool]] = {}
    for c, g in zip(correct, groups):
        per.setdefault(g, []).append(bool(c))
    kept = {g: sum(v) / len(v) * 100 for g, v in per.items() if len(v) >= min_count}
    macro = sum(kept.values()) / len(kept) if kept else float("nan")
    return {"per_group": kept, "macro": macro, "micro": sum(map(bool, correct)) / max(1, len(correct)) * 100}
