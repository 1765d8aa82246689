"""LLM rewriters: a local Hugging Face causal LM, or any OpenAI-compatible chat endpoint.

The prompt names the target word, its role and the rule "change only this concept". What
comes back is untrusted text: :func:`validate` accepts it only if it is non-empty, differs
from the caption, no longer contains the target, keeps the rest of the caption within a
small word edit distance and stays within length bounds. A caption whose answers all fail
is recorded as skipped with the last reason.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

from ..core.backend import Backend, Job, Proposal, register
from ..core.edit import changed_spans, word_edit_distance, words
from ..knowledge.lmscore import gguf_location
from ..knowledge.plausibility import slot_features

ROLE_NAMES = {"O": "object", "A": "attribute", "R": "relation"}
ROLE_HINTS = {
    "O": "Replace it with a different, plausible object of a similar kind (e.g. chicken -> beef).",
    "A": "Replace it with a different attribute of the same kind (colour -> colour, number -> number).",
    "R": "Replace it with a contrasting relation or action (on -> under, riding -> walking).",
}
SYSTEM = ("You write hard negative captions for image-text training. You change exactly one concept "
          "so that the caption becomes false for the image, and keep every other word.")


def build_prompt(caption: str, target: str, role: str) -> str:
    return (f"Caption: {caption}\nTarget {ROLE_NAMES[role]}: \"{target}\"\n"
            f"Change only this concept. {ROLE_HINTS[role]} Keep all other words, the grammar "
            "and the capitalisation. Answer with the new caption only.")


def clean_output(text: str) -> str:
    """First non-empty line, without quotes or a leading label such as 'Negative:'."""
    text = text.strip()
    if "</think>" in text:  # reasoning models (Qwen3) may think aloud first
        text = text.rsplit("</think>", 1)[1].strip()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    for label in ("new caption:", "negative caption:", "negative:", "caption:", "answer:"):
        if line.lower().startswith(label):
            line = line[len(label):].strip()
    return line.strip("\"'` ")


def validate(caption: str, negative: str, target: str, max_edit: int = 4,
             length_ratio: tuple[float, float] = (0.5, 1.6)) -> str | None:
    """The reason ``negative`` is unusable, or None when it passes every check."""
    if not negative:
        return "empty output"
    a, b = words(caption), words(negative)
    if a == b:
        return "output equals the caption"
    t = words(target)
    if t and _count(b, t) >= _count(a, t):
        return "target not changed"
    lo, hi = length_ratio
    if not (lo * len(a) <= len(b) <= hi * len(a) + 2):
        return "length out of bounds"
    if word_edit_distance(a, b) > max(max_edit, len(t) + 2):
        return "too many words changed"
    return None


def _count(seq: list[str], sub: list[str]) -> int:
    return sum(seq[i:i + len(sub)] == sub for i in range(len(seq) - len(sub) + 1))


@dataclass(frozen=True)
class Request:
    caption: str
    target: str
    role: str

    @property
    def prompt(self) -> str:
        return build_prompt(self.caption, self.target, self.role)


class OpenAIRewriter:
    """Chat completions from ``{base_url}/chat/completions`` (vLLM, Ollama, hosted APIs)."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0,
                 retries: int = 3, backoff: float = 1.0, concurrency: int = 8, temperature: float = 0.7,
                 max_tokens: int = 96):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key, self.timeout = model, api_key, timeout
        self.retries, self.backoff, self.concurrency = retries, backoff, concurrency
        self.temperature, self.max_tokens = temperature, max_tokens

    def _post(self, prompt: str) -> str:
        body = json.dumps({"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens,
                           "messages": [{"role": "system", "content": SYSTEM},
                                        {"role": "user", "content": prompt}]}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1) * (1 + random.random() * 0.1))
            try:
                req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    payload = json.loads(resp.read().decode("utf-8"))
                content = payload["choices"][0]["message"]["content"]
                if not isinstance(content, str):
                    raise ValueError("content is not a string")
                return content
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if exc.code < 500 and exc.code != 429:
                    break  # a client error will not heal by retrying
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                last = f"connection error: {getattr(exc, 'reason', exc)}"
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                last = f"malformed response: {exc}"
        raise RuntimeError(f"endpoint failed after {self.retries + 1} attempts ({last})")

    def generate(self, requests: list[Request]) -> list[str | Exception]:
        """One answer per request, concurrently; failures come back as exceptions."""
        def one(r: Request):
            try:
                return self._post(r.prompt)
            except RuntimeError as exc:
                return exc
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            return list(pool.map(one, requests))


class HFRewriter:
    """A local causal LM (Qwen3 in the paper) through ``transformers``, batched, greedy or sampled."""

    def __init__(self, model: str, device: str | None = None, max_new_tokens: int = 64,
                 do_sample: bool = False, dtype: str = "auto"):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise RuntimeError("the hf backend needs 'pip install slipform[hf]'") from exc
        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model, files = gguf_location(model)
        self.tokenizer = AutoTokenizer.from_pretrained(model, **files)
        self.tokenizer.padding_side = "left"  # decoder-only models continue from the right edge
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=dtype, **files).to(self.device).eval()
        self.max_new_tokens, self.do_sample = max_new_tokens, do_sample

    def _text(self, prompt: str) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
            kwargs = {"enable_thinking": False}  # Qwen3's switch; other templates ignore it
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **kwargs)
        return f"{SYSTEM}\n\n{prompt}\nNew caption:"

    def generate(self, requests: list[Request]) -> list[str | Exception]:
        texts = [self._text(r.prompt) for r in requests]
        batch = self.tokenizer(texts, return_tensors="pt", padding=True).to(self.device)
        with self.torch.no_grad():
            out = self.model.generate(**batch, max_new_tokens=self.max_new_tokens, do_sample=self.do_sample,
                                      pad_token_id=self.tokenizer.pad_token_id)
        new = out[:, batch["input_ids"].shape[1]:]
        return list(self.tokenizer.batch_decode(new, skip_special_tokens=True))


class _LLMBackend(Backend):
    """The per-caption loop's side of an LLM: prompts in batches, untrusted answers validated."""

    def queue(self, targets: list, need: int) -> list:
        """The first ``need`` targets, each asked up to ``llm.attempts`` times (a sampled LLM may
        answer better the second time; a dead endpoint is not asked about every target)."""
        return [t for _ in range(max(1, self.plant.config.llm.attempts)) for t in targets[:need]]

    client = None  # the subclass's rewriter: a cached property with a ``generate(requests)`` method

    def rewrite(self, jobs: list[Job]) -> list[Proposal | str]:
        client, size = self.client, max(1, self.plant.config.llm.batch_size)
        answers: list = []
        for s in range(0, len(jobs), size):
            answers += client.generate([Request(j.item.caption, j.target.text, j.target.role) for j in jobs[s:s + size]])
        out: list[Proposal | str] = []
        slots = self.plant.slots
        for job, answer in zip(jobs, answers):
            t = job.target
            if isinstance(answer, Exception):
                out.append(f"backend error: {answer}")
                continue
            negative = clean_output(answer)
            reason = validate(job.item.caption, negative, t.text)
            if reason:
                out.append(f"invalid output: {reason}")
                continue
            spans = changed_spans(job.item.caption, negative)
            replacement = " ".join(spans[0][1]) if spans else ""
            plausibility = None
            if replacement:
                features = slot_features(job.doc, t.start, t.end)
                plausibility = round(slots.score(features, slots.lemma(replacement)), 3)
            out.append(Proposal(negative, t.text, t.role, t.concreteness, replacement,
                                (t.text.lower(), replacement.lower()), plausibility))
        return out


@register("openai")
class OpenAIBackend(_LLMBackend):
    """Any OpenAI-compatible chat endpoint (vLLM, Ollama, hosted APIs)."""

    @classmethod
    def check(cls, config) -> None:
        if not (config.llm.base_url and config.llm.model):
            raise ValueError("the openai backend needs --base-url and --model")

    @cached_property
    def client(self) -> OpenAIRewriter:
        llm = self.plant.config.llm
        return OpenAIRewriter(llm.base_url, llm.model, llm.api_key, llm.timeout, llm.retries,
                              backoff=llm.backoff, concurrency=llm.batch_size)


@register("hf")
class HFBackend(_LLMBackend):
    """A local causal LM (Qwen3 in the paper) through ``transformers``."""

    @classmethod
    def check(cls, config) -> None:
        if not config.llm.model:
            raise ValueError("the hf backend needs --model (a local directory or hub id)")

    @cached_property
    def client(self) -> HFRewriter:
        llm = self.plant.config.llm
        return HFRewriter(llm.model, max_new_tokens=llm.max_new_tokens)
