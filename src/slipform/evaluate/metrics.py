"""Metric definitions, on similarity matrices and scores; no I/O."""

from __future__ import annotations

import torch


def pairwise_accuracy(image: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Per item: the image is closer to its positive text than to the negative (strictly)."""
    return (image * positive).sum(-1) > (image * negative).sum(-1)


def retrieval_ranks(sim: torch.Tensor, image_of_text: torch.Tensor, block: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """0-based ranks of the right answers, ties counted against the model.

    ``sim`` is (n_images, n_texts); ``image_of_text[t]`` is the image of caption t. Returns, per
    image, the rank of its best caption among the other images' captions (image->text), and per
    caption, the rank of its image among all images (text->image). A wrong answer that scores
    *exactly* as high as the right one ranks before it (pessimistic): duplicate images,
    identical captions and fp16 features otherwise inflate recall, and by how much would depend
    on an arbitrary sort order. CLIP_benchmark takes ``topk`` order among ties, which is
    arbitrary; on matrices without ties the two agree. Computed in blocks of ``block`` images,
    so a COCO 5k x 25k matrix needs no full-size index or boolean copy.
    """
    n_img, n_txt = sim.shape
    image_of_text = image_of_text.to(sim.device)
    correct = sim[image_of_text, torch.arange(n_txt, device=sim.device)]  # (n_txt,)
    rank_t2i = torch.zeros(n_txt, dtype=torch.long, device=sim.device)
    best = torch.empty(n_img, dtype=torch.long, device=sim.device)
    for lo in range(0, n_img, block):
        rows = sim[lo:lo + block]
        images = torch.arange(lo, lo + rows.shape[0], device=sim.device)
        owns = image_of_text.unsqueeze(0) == images.unsqueeze(1)  # (b, n_txt)
        # text -> image: every other image scoring at least the right one's score ranks first
        rank_t2i += ((rows >= correct.unsqueeze(0)) & ~owns).sum(0)
        # image -> text: other images' captions scoring at least the best own caption
        top_own = rows.masked_fill(~owns, float("-inf")).max(1).values
        best[lo:lo + rows.shape[0]] = ((rows >= top_own.unsqueeze(1)) & ~owns).sum(1)
    return best, rank_t2i


def recall_at_k(sim: torch.Tensor, image_of_text: torch.Tensor, ks=(1, 5, 10), ranks=None) -> dict:
    """Image<->text retrieval recall in the CLIP-paper convention: an image counts as found at K
    when any of its captions ranks in its top K, a caption when its image does. Ties count
    against the model (see :func:`retrieval_ranks`; pass its result as ``ranks`` when the caller
    already has it)."""
    best, rank_t2i = ranks if ranks is not None else retrieval_ranks(sim, image_of_text)
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
