"""The slot model on real parses, plausibility-ranked replacements, and the backend registry."""

from __future__ import annotations

import pytest

from slipform.plant import ConcretePlant, PlantConfig, plant_file
from slipform.plant.core.anchor import candidates, caption_rng
from slipform.plant.core.backend import Backend, Proposal, backend_names, get_backend, register
from slipform.plant.knowledge.plausibility import SlotModel, slot_features
from slipform.plant.lexical.rewriter import LexicalRewriter, Vocabulary

from conftest import read_jsonl

KITCHEN = ["A plate with a fried egg and toast.", "A man fried an egg in a pan.", "Two fried eggs on a plate.",
           "A fried egg on a plate next to bacon.", "A pillow on a bed.", "A white pillow on a bed.",
           "A man riding a horse on a beach.", "A woman riding a horse.", "A boy riding a bike down the street."]


@pytest.fixture(scope="module")
def slots(nlp):
    model = SlotModel()
    for doc in nlp.pipe(KITCHEN * 3):
        model.add(doc)
    return model


def test_slot_features_name_neighbours_head_and_dependents(nlp):
    doc = nlp("A plate with a fried egg.")
    feats = slot_features(doc, 5, 6)  # "egg"
    assert ("L", "fried") in feats and ("R", ".") in feats
    assert ("H", "pobj", "with") in feats and ("C", "amod", "fried") in feats


def test_a_word_seen_in_the_slot_beats_one_never_seen_there(nlp, slots):
    doc = nlp("A plate with a fried egg.")
    feats = slot_features(doc, 5, 6)
    assert slots.score(feats, "egg") > slots.score(feats, "pillow") + 1.0
    # an unseen slot backs off to frequency: a common word still beats a word never counted
    unseen = slot_features(nlp("A zebra near the xylophone."), 4, 5)
    assert slots.score(unseen, "egg") > slots.score(unseen, "xylophone")
    assert "ride" in slots.words and "rid" not in slots.words  # spaCy's "riding" -> "rid", repaired
    assert slots.lemma("frying") == "fry" and slots.lemma("eggs") == "egg" and slots.lemma("Zorb") == "zorb"


def test_slot_model_round_trips_through_json(slots, nlp):
    import json

    again = SlotModel.from_dict(json.loads(json.dumps(slots.to_dict())))
    feats = slot_features(nlp("Two fried eggs on a plate."), 2, 3)
    assert again.score(feats, "egg") == pytest.approx(slots.score(feats, "egg"))


def test_rewriter_prefers_replacements_that_fit_the_slot(nlp, lexicon, real_captions):
    docs = list(nlp.pipe(real_captions[:3000]))
    vocab = Vocabulary.from_docs(docs, lexicon)
    plant = ConcretePlant(PlantConfig(), vocab)
    ranked = LexicalRewriter(lexicon, vocab, plant.vectors)
    flat = LexicalRewriter(lexicon, vocab, plant.vectors, plausibility=False)
    scores = {"ranked": [], "flat": []}
    for doc in docs[:300]:
        for cand in candidates(doc, lexicon)[:2]:
            for name, rw in (("ranked", ranked), ("flat", flat)):
                out = rw.rewrite(doc, cand, caption_rng(0, doc.text))
                if out is not None and out.plausibility is not None:
                    scores[name].append(out.plausibility)
    mean = {k: sum(v) / len(v) for k, v in scores.items()}
    # the filters before the ranking leave fewer options to rank: the gap is 0.43 with the relation
    # prior's rarity rule (2026-12-03); with no ranking it is 0
    assert len(scores["ranked"]) > 200 and mean["ranked"] > mean["flat"] + 0.3, mean


def test_typos_in_the_input_never_become_replacements(nlp, lexicon):
    texts = ["Some potatos on a plate.", "A plate of potatos and beef."] * 5 + ["A plate of chicken."] * 3
    vocab = Vocabulary.from_docs(nlp.pipe(texts), lexicon)
    assert "potatos" not in vocab.nouns and "plate" in vocab.nouns and "chicken" in vocab.nouns


def test_records_carry_plausibility_and_the_minimum_drops(tmp_path, real_captions):
    src = tmp_path / "c.txt"
    src.write_text("\n".join(real_captions[:300]) + "\n")
    recs = read_jsonl(_plant(src, tmp_path / "a.jsonl", PlantConfig()))
    lexical = [r["plausibility"] for r in recs if r["role"] == "O"]
    assert lexical and all(isinstance(p, float) and p < 0 for p in lexical)
    floor = sorted(lexical)[len(lexical) // 2]
    strict = read_jsonl(_plant(src, tmp_path / "b.jsonl", PlantConfig(min_plausibility=floor)))
    assert all(r["plausibility"] is None or r["plausibility"] >= floor for r in strict)


def test_an_all_caps_caption_stays_all_caps(tmp_path):
    src = tmp_path / "c.txt"
    src.write_text("A RED BUS PARKED NEXT TO A TALL BUILDING.\nTWO DOGS PLAYING WITH A BALL ON THE GRASS.\n")
    for r in read_jsonl(_plant(src, tmp_path / "o.jsonl", PlantConfig(negatives_per_caption=3))):
        assert r["negative"] == r["negative"].upper(), r


def _plant(src, out, config):
    plant_file(src, out, config, progress=False)
    return out


def test_backend_registry_checks_names_in_one_place():
    assert {"lexical", "negclip", "hf", "openai"} <= set(backend_names())
    with pytest.raises(ValueError, match="unknown backend 'nope'.*lexical"):
        PlantConfig(backend="nope")
    with pytest.raises(ValueError, match="--base-url"):
        PlantConfig(backend="openai")


def test_a_new_backend_is_one_class(tmp_path):
    @register("shout")
    class Shout(Backend):
        needs_vocabulary = False

        def rewrite(self, jobs):
            return [Proposal(j.item.caption.replace(j.target.text, j.target.text[::-1].upper()), j.target.text,
                             j.target.role, j.target.concreteness, j.target.text[::-1].upper(),
                             (j.target.text, j.target.text[::-1])) if j.index % 2 == 0
                    else "refused" for j in jobs]

    try:
        src = tmp_path / "c.txt"
        src.write_text("A dog on a sofa.\nA cat on a bed.\nA red bus.\n")
        # same_kind=False: a reversed word is of no kind, and that check is not what this test is about
        summary = plant_file(src, tmp_path / "o.jsonl", PlantConfig(backend="shout", same_kind=False), progress=False)
        recs = read_jsonl(tmp_path / "o.jsonl")
        assert [r["id"] for r in recs] == ["1", "3"]
        assert all(r["negative"] == r["caption"].replace(r["target"], r["target"][::-1].upper()) for r in recs)
        assert all(r["backend"] == "shout" for r in recs) and summary.skipped == {"refused": 1}
        assert get_backend("shout") is Shout
    finally:
        from slipform.plant.core import backend

        backend._REGISTRY.pop("shout", None)
