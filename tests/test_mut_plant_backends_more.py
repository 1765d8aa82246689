"""The plant's backends pinned further for mutation testing (issue 31, third round): each test here was
written from a mutant of ``bench/mutation.py backends_swap`` / ``backends_llm`` (``--sample 20 --seed 0``)
that the suite let live, and was seen failing on it; references worked out by hand from the parse.
"""

from __future__ import annotations

import pytest

from slipform.plant.backends.swap import Swap, _spans
from test_llm import tiny_causal_lm  # noqa: F401  (the fixture: a 2-layer random Llama saved to disk)

# ---- backends/swap.py -----------------------------------------------------------------------------


def test_a_noun_phrase_leaves_its_possessive_where_it_is(nlp):
    doc = nlp("A man holding his black umbrella near a red car.")
    assert [t.pos_ for t in doc[3:6]] == ["PRON", "ADJ", "NOUN"]  # "his" is a pronoun to the tagger
    # "his black umbrella" and "a red car" without "his" and "a": their swap keeps each determiner in place
    assert _spans(doc, "noun_phrase") == [(4, 6), (8, 10)]


def test_a_swap_of_an_unrated_word_has_no_concreteness(nlp):
    from slipform.plant import Caption, ConcretePlant, PlantConfig
    from slipform.plant.core.backend import Job, get_backend

    planter = ConcretePlant(PlantConfig(backend="negclip"))
    doc = nlp("Zorblax chases a dog.")
    assert planter.lexicon.lookup("Zorblax", doc[0].lemma_) is None  # a made-up name: no rating
    backend = get_backend("negclip")(planter)
    item = Caption("1", doc.text)
    unrated, rated = backend.rewrite([Job(0, item, doc, Swap("noun", (0, 1), (3, 4)), None),
                                      Job(0, item, doc, Swap("noun", (3, 4), (0, 1)), None)])
    assert (unrated.negative, unrated.target, unrated.replacement) == ("Dog chases a Zorblax.", "Zorblax", "dog")
    assert unrated.concreteness is None and unrated.keys == ("zorblax", "dog") and unrated.edit == "swap"
    assert rated.concreteness == planter.lexicon.lookup("dog", "dog") == pytest.approx(4.85)
    assert rated.extra == {"swap": "noun"} and rated.role == "O"


# ---- backends/llm.py ------------------------------------------------------------------------------

def test_the_hf_prompt_goes_through_the_models_chat_template(tiny_causal_lm):  # noqa: F811
    from slipform.plant.backends.llm import SYSTEM, HFRewriter

    rw = HFRewriter(str(tiny_causal_lm), device="cpu", max_new_tokens=4)
    assert rw.tokenizer.padding_side == "left"
    assert rw.do_sample is False  # greedy decoding by default: a rerun writes the same negatives
    assert rw.device == "cpu" and next(rw.model.parameters()).device.type == "cpu"
    assert rw._text("P") == f"{SYSTEM}\n\nP\nNew caption:"  # no chat template: the plain prompt
    rw.tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
        "{% if enable_thinking is defined and not enable_thinking %}<no-think>{% endif %}")
    assert rw._text("P") == f"<system>{SYSTEM}<user>P<assistant><no-think>"


def test_the_llm_backends_refuse_a_config_without_their_settings():
    from slipform.plant import LLMConfig, PlantConfig

    with pytest.raises(ValueError, match=r"^the openai backend needs --base-url and --model$"):
        PlantConfig(backend="openai", llm=LLMConfig(model="m"))
    with pytest.raises(ValueError, match=r"^the openai backend needs --base-url and --model$"):
        PlantConfig(backend="openai", llm=LLMConfig(base_url="http://h/v1"))
    with pytest.raises(ValueError, match=r"^the hf backend needs --model \(a local directory or hub id\)$"):
        PlantConfig(backend="hf")
    assert PlantConfig(backend="openai", llm=LLMConfig(model="m", base_url="http://h/v1")).backend == "openai"


def test_the_endpoint_url_and_the_backoff_between_attempts(monkeypatch):
    import urllib.error

    from slipform.plant.backends import llm

    assert llm.OpenAIRewriter("http://h:8000/v1/", "m").url == "http://h:8000/v1/chat/completions"
    assert llm.OpenAIRewriter("http://h:8000/v1", "m").url == "http://h:8000/v1/chat/completions"
    sleeps, tried = [], []

    def refuse(req, timeout):
        tried.append((req.full_url, timeout))
        raise urllib.error.URLError("refused")

    monkeypatch.setattr(llm.urllib.request, "urlopen", refuse)
    monkeypatch.setattr(llm.time, "sleep", sleeps.append)
    monkeypatch.setattr(llm.random, "random", lambda: 0.5)
    rw = llm.OpenAIRewriter("http://h/v1/", "m", retries=3, backoff=0.2, timeout=7)
    with pytest.raises(RuntimeError, match=r"^endpoint failed after 4 attempts \(connection error: refused\)$"):
        rw._post("p")
    # backoff doubling from 0.2 s, each with 10% of jitter at most (here half of it: 5%)
    assert sleeps == pytest.approx([0.2 * 1.05, 0.4 * 1.05, 0.8 * 1.05])
    assert tried == [("http://h/v1/chat/completions", 7)] * 4
    with pytest.raises(RuntimeError, match=r"^endpoint failed after 0 attempts \(no attempt\)$"):
        llm.OpenAIRewriter("http://h/v1", "m", retries=-1)._post("p")


def test_an_answer_that_only_inflects_the_caption_has_no_replacement_and_no_plausibility(nlp):
    from slipform.plant import Caption, ConcretePlant, LLMConfig, PlantConfig
    from slipform.plant.core.anchor import candidates
    from slipform.plant.core.backend import Job, get_backend
    from slipform.plant.knowledge.plausibility import slot_features
    from slipform.plant.knowledge.vocabulary import Vocabulary

    planter = ConcretePlant(PlantConfig(backend="openai", llm=LLMConfig(model="m", base_url="http://h/v1")),
                            vocabulary=Vocabulary())
    backend = get_backend("openai")(planter)

    class Client:
        def generate(self, requests):
            return [{"dog": "A dogs on a mat.", "mat": "A dog on a rug."}[r.target] for r in requests]

    backend.__dict__["client"] = Client()
    doc = nlp("A dog on a mat.")
    dog, mat = [c for c in candidates(doc, planter.lexicon) if c.text in ("dog", "mat")]
    item = Caption("1", doc.text)
    inflected, rug = backend.rewrite([Job(0, item, doc, dog, None), Job(0, item, doc, mat, None)])
    # "dogs" for "dog" passes the untrusted-text checks, but no word changed: nothing to score
    assert (inflected.negative, inflected.replacement, inflected.plausibility) == ("A dogs on a mat.", "", None)
    assert inflected.keys == ("dog", "") and inflected.target == "dog" and inflected.role == "O"
    slots = planter.slots
    assert rug.replacement == "rug" and rug.keys == ("mat", "rug")
    assert rug.plausibility == round(slots.score(slot_features(doc, mat.start, mat.end), "rug"), 3)
