"""Plant core behaviour pinned for mutation testing (issue 31): the record, the checks, the edits.

Each test here was written from a mutant that survived ``python bench/mutation.py plant_record``
(or ``plant_verify``, ``plant_edit``, ``plant_anchor``) and was seen failing on it; the
references are worked out by hand in the test.
"""

from __future__ import annotations

import json

import pytest

from slipform.plant.core.edit import (
    changed_spans,
    is_single_change,
    is_swap,
    same_stem,
    word_edit_distance,
    words,
)
from slipform.plant.core.record import (
    SIDECAR_FIELDS,
    NegativeRecord,
    read_records,
    sample_negatives,
)
from slipform.plant.core.verify import check_negative, get_verifier, verifier_names

# ---- the record -----------------------------------------------------------------------------------


def test_from_dict_names_where_and_every_missing_field():
    with pytest.raises(ValueError, match=r"^f.jsonl:4: not a JSON object$"):
        NegativeRecord.from_dict(["id", "caption"], "f.jsonl:4")
    # empty strings, nulls and floats do not count as an id, a caption or a negative; all are named, in order
    with pytest.raises(ValueError, match=r"^x:2: not a Slipform negative record \(missing id, caption, negative\)$"):
        NegativeRecord.from_dict({"id": "", "caption": None, "negative": 1.5}, "x:2")
    with pytest.raises(ValueError, match=r"\(missing caption\)$"):
        NegativeRecord.from_dict({"id": "1", "negative": "b"}, "x:3")
    with pytest.raises(ValueError, match=r"^: not a JSON object$"):  # no place given: none named
        NegativeRecord.from_dict(None)


def test_from_dict_reads_integer_fields_as_text_and_defaults_edit_and_anchor():
    rec = NegativeRecord.from_dict({"id": 7, "caption": "A dog.", "negative": "A cat.", "edit": None,
                                    "target": "dog"})
    assert (rec.id, rec.caption, rec.negative) == ("7", "A dog.", "A cat.")
    assert rec.edit == "replace" and rec.anchor == "dog"
    assert rec.route == {} and rec.extra == {}
    rec = NegativeRecord.from_dict({"id": "1", "caption": "c", "negative": "n", "edit": "", "anchor": None,
                                    "target": "dog", "role": "A"})
    assert rec.edit == "replace" and rec.anchor is None  # an anchor given as null stays null
    assert rec.route == {"A": True, "R": False, "O": False}
    assert NegativeRecord(id="1", caption="c", negative="n", role="X").route == {}


def test_to_dict_puts_image_second_and_a_backends_extras_last():
    rec = NegativeRecord(id="3", caption="c", negative="n", image="i.jpg", extra={"raw": "r", "score": 2})
    d = rec.to_dict()
    assert list(d)[:3] == ["id", "image", "caption"] and list(d)[-2:] == ["raw", "score"]
    assert d["edit"] == "replace" and d["anchor"] is None and d["similarity"] is None


def test_read_records_skips_blank_lines_and_counts_them_in_line_numbers(tmp_path):
    path = tmp_path / "n.jsonl"
    good = {"id": "1", "caption": "A dog.", "negative": "A cat."}
    path.write_text(json.dumps(good) + "\n   \n" + json.dumps(good) + "\n" + "[1, 2]\n", encoding="utf-8")
    it = read_records(path)
    assert [next(it).id, next(it).id] == ["1", "1"]
    with pytest.raises(ValueError, match=r"n.jsonl:4: not a JSON object"):
        next(it)


def test_sample_negatives_leaves_out_the_samples_own_fields():
    recs = [{"id": "1", "caption": "c", "image": "i", "negative": "n", "role": "O", "raw": 1}]
    assert sample_negatives(recs) == [{"negative": "n", "role": "O", "raw": 1}]


def test_sidecar_round_trip_keeps_each_field_and_the_extras(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    from slipform.plant.core.record import read_sidecar, sidecar_table

    full = NegativeRecord(id="7", caption="A red bus.", negative="A blue bus.", target="red", role="A",
                          concreteness=1.9, strategy="concrete", backend="lexical", replacement="blue",
                          similarity=0.5, plausibility=-3.25, edit="replace", anchor="bus",
                          extra={"raw": "é", "n": 2}).to_dict()
    bare = NegativeRecord(id="7", caption="A red bus.", negative="A bus red.", edit="swap").to_dict()
    rows = [("7", "A red bus.", [full, bare]), ("8", None, []), ("9", "A cat.", [])]
    table = sidecar_table(rows)
    assert [n for n, _ in SIDECAR_FIELDS] == [f.name for f in table.schema.field("negatives").type.value_type]
    entry = table.column("negatives").to_pylist()[0][0]
    assert json.loads(entry["extra"]) == {"raw": "é", "n": 2} and entry["plausibility"] == -3.25
    assert table.column("negatives").to_pylist()[0][1]["extra"] is None
    pq.write_table(table, tmp_path / "s.parquet")
    back = read_sidecar(tmp_path / "s.parquet")
    assert list(back) == ["7", "8", "9"] and back["8"] == [] and back["9"] == []
    assert back["7"] == sample_negatives([full, bare])
    assert list(back["7"][0])[-2:] == ["raw", "n"]


def test_read_sidecar_reads_a_null_list_and_caption_as_empty(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from slipform.plant.core.record import read_sidecar, sidecar_schema

    entry = {name: None for name, _ in SIDECAR_FIELDS} | {"negative": "A cat.", "edit": "replace"}
    table = pa.table({"key": ["1", "2"], "caption": [None, "A dog."], "negatives": [[entry], None]},
                     schema=sidecar_schema())
    pq.write_table(table, tmp_path / "s.parquet")
    assert read_sidecar(tmp_path / "s.parquet") == {
        "1": [{k: v for k, v in NegativeRecord(id="1", caption="", negative="A cat.").to_dict().items()
               if k not in ("id", "caption")}], "2": []}


def test_read_sidecar_refuses_a_file_without_its_columns(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from slipform.plant.core.record import read_sidecar

    pq.write_table(pa.table({"key": ["1"], "text": ["x"]}), tmp_path / "o.parquet")
    with pytest.raises(ValueError, match=r"o.parquet: not a Slipform side-car \(columns key, caption, negatives\); "
                                         r"its columns are key, text$"):
        read_sidecar(tmp_path / "o.parquet")


# ---- the checks -----------------------------------------------------------------------------------


def test_check_negative_swaps_and_the_kinds_check():
    cap = "A dog chasing a cat."
    # case and surrounding spaces do not make a negative
    assert check_negative(cap, "  a DOG chasing a cat.  ", "O", "dog", "dog") == "output equals the caption"
    # a swap is checked as a swap, and an object swap is not a replacement of kind
    assert check_negative(cap, "A cat chasing a dog.", "O", "dog", "cat", edit="swap") is None
    # two things of other kinds exchanging places is a swap, not a replacement of kind
    assert check_negative("A dog chasing a ball.", "A ball chasing a dog.", "O", "dog", "ball", edit="swap") is None
    assert check_negative("A dog chasing a ball.", "A ball chasing a ball.", "O", "dog", "ball") == \
        "object replaced by another kind of thing"
    assert check_negative(cap, "A cat chasing a cat.", "O", "dog", "cat", edit="swap") == \
        "swap that does not exchange two places"
    assert check_negative(cap, "A cat chasing a cat.", "O", "dog", "cat", edit="swap", one_change=False) is None
    # the same exchange read as a replacement changes two places
    assert check_negative(cap, "A cat chasing a dog.", "O", "dog", "cat") == "more than one change"
    # a replacement of kind fails only for objects
    assert check_negative(cap, "A sandwich chasing a cat.", "A", "dog", "sandwich") is None
    assert check_negative(cap, "A sandwich chasing a cat.", "O", "dog", "sandwich") == \
        "object replaced by another kind of thing"
    assert verifier_names() == ("world",)
    with pytest.raises(ValueError, match=r"^unknown verifier 'x'; choose from world$"):
        get_verifier("x")


# ---- the edits ------------------------------------------------------------------------------------


def test_words_and_word_edit_distance():
    assert words("A man's well-known DOG, sitting.") == ["a", "man's", "well-known", "dog", "sitting"]
    assert word_edit_distance([], []) == 0
    assert word_edit_distance(["a", "b"], []) == 2 and word_edit_distance([], ["a", "b", "c"]) == 3
    assert word_edit_distance("a dog on a mat".split(), "a cat on the mat".split()) == 2  # two substitutions
    assert word_edit_distance("a b c".split(), "b c d".split()) == 2  # one deletion, one insertion
    assert word_edit_distance("kitten sitting".split(), "sitting kitten".split()) == 2


@pytest.mark.parametrize("a, b, same", [
    ("dog", "dogs", True), ("bus", "buses", True), ("baby", "babies", True), ("ride", "riding", True),
    ("stop", "stopping", True), ("stopping", "stop", True), ("stop", "stopped", True), ("sit", "sits", True),
    ("bed", "bedding", True), ("run", "running", True), ("bake", "baked", True),
    ("ox", "oxen", False), ("cat", "car", False), ("mat", "match", False), ("tab", "table", False),
    ("cart", "carton", False), ("sit", "sitter", False), ("dog", "dog", True),
])
def test_same_stem(a, b, same):
    assert same_stem(a, b) is same and same_stem(b, a) is same


def test_changed_spans_ignore_articles_and_inflection():
    assert changed_spans("Two dogs on a mat.", "Two dog on an mat.") == []
    assert changed_spans("A dog on a mat.", "A dog on a rug.") == [(["mat"], ["rug"])]
    assert changed_spans("A dog on a mat.", "An apple on a mat.") == [(["a", "dog"], ["an", "apple"])]
    assert changed_spans("A dog on a mat.", "A dog under a mat near a door.") == [(["on"], ["under"]),
                                                                                ([], ["near", "a", "door"])]


@pytest.mark.parametrize("caption, negative, single", [
    ("A dog on a mat.", "A cat on a mat.", True),             # one word
    ("A dog on a mat.", "An apple on a mat.", True),          # a/an beside the word does not count
    ("A hot dog on a mat.", "A cat on a mat.", True),         # two words for one
    ("A big hot dog on a mat.", "A cat on a mat.", False),    # three words, not a relation
    ("A dog on a mat.", "A hot dog on a mat.", False),        # nothing of the caption's replaced
    ("A dog on a mat.", "A dog on a rug.", True),
    ("A dog on a mat.", "A cat on a rug.", False),            # two places
    ("A dog on a mat.", "A dog on a mat.", False),            # no change
    ("A dog on a mat.", "Two dogs on a mat.", True),
    ("A dog on a mat.", "A dog on the mat.", False),          # only an article changed: no word of the caption's
])
def test_is_single_change(caption, negative, single):
    assert is_single_change(caption, negative) is single


def test_multiword_relations_count_as_one_change():
    assert is_single_change("A cat in front of a car.", "A cat on top of a car.")
    assert is_single_change("A cat to the left of a car.", "A cat behind a car.")
    assert not is_single_change("A cat big red old of a car.", "A cat behind a car.")


@pytest.mark.parametrize("caption, negative, swap", [
    ("Two dogs chasing a cat.", "Two cats chasing a dog.", True),         # X M Y -> Y M X, plural moved
    ("A red car next to a truck.", "A car next to a red truck.", True),   # X moves past M
    ("A car next to a red truck.", "A red car next to a truck.", True),   # Y moves back
    ("A dog chasing a cat.", "A cat chasing a cat.", False),              # not the caption's words
    ("A dog chasing a cat.", "A dog chasing a cat.", False),              # nothing moved
    ("A dog chasing a cat.", "A cat chasing the dog now.", False),        # other length
    ("A dog chasing a cat.", "Chasing a dog a cat.", True),               # M X -> X M
    ("A big brown dog chasing a cat.", "A cat chasing a big brown dog.", True),     # three words exchanged
    ("A very big brown dog chasing a cat.", "A cat chasing a very big brown dog.", False),  # four: too long
    ("A dog and a dog.", "A dog and a dog.", False),
    ("A dog chases a cat and a bird.", "A bird chases a cat and a dog.", True),
])
def test_is_swap(caption, negative, swap):
    assert is_swap(caption, negative) is swap


def test_is_swap_longest_bounds_the_parts():
    assert is_swap("A very big brown dog chasing a cat.", "A cat chasing a very big brown dog.", longest=4)
    assert not is_swap("A big brown dog chasing a cat.", "A cat chasing a big brown dog.", longest=2)


# ---- the planter's configuration and screen -------------------------------------------------------


def test_plant_config_refuses_each_bad_setting_by_name():
    from slipform.plant import PlantConfig

    for options, message in [
        ({"k": 0}, r"^k must be >= 1, got 0$"),
        ({"strategy": "concret"}, r"^unknown strategy 'concret'; choose from \('concrete', 'abstract', 'random'\)$"),
        ({"route": "anchors"}, r"^unknown route 'anchors'; choose from \('anchor', 'target'\)$"),
        ({"negatives_per_caption": 0}, r"^negatives_per_caption must be >= 1$"),
        ({"band": (0.5, 0.5)}, r"^similarity band must satisfy -1 <= lo < hi <= 1, got \(0.5, 0.5\)$"),
        ({"band": (-1.01, 0.5)}, r"similarity band"),
        ({"band": (0.1, 1.01)}, r"similarity band"),
        ({"band": (0.6, 0.5)}, r"similarity band"),
        ({"backend": "nope"}, r"^unknown backend 'nope'; choose from lexical, "),
        ({"verifier": "nope"}, r"^unknown verifier 'nope'"),
        ({"min_lm_score": -3.0}, r"^min_lm_score needs lm_scorer \(a causal LM to score the negatives\)$"),
    ]:
        with pytest.raises(ValueError, match=message):
            PlantConfig(**options)
    # the edges themselves are allowed
    assert PlantConfig(k=1, negatives_per_caption=1, band=(-1.0, 1.0)).band == (-1.0, 1.0)
    assert PlantConfig(min_lm_score=-3.0, lm_scorer="m").min_lm_score == -3.0
    assert PlantConfig().weights is None
    assert PlantConfig(role_weights=(("O", 2.0), ("A", 1.0))).weights == {"O": 2.0, "A": 1.0}


def test_screen_names_why_a_caption_is_not_planted(lexicon):
    from slipform.plant import screen

    assert screen("   ", lexicon, 10) == "empty caption"
    assert screen("a dog on a mat", lexicon, 4) == "caption longer than 4 words"
    assert screen("a dog on a mat", lexicon, 5) is None  # exactly the limit
    assert screen("123 456 !!", lexicon, 10) == "no words"
    assert screen("собака на коврике у двери", lexicon, 10) == "not English"
    assert screen("собака на dog", lexicon, 10) == "not English"   # 1 of 3 letters-words ASCII
    assert screen("собака dog", lexicon, 10) is None                 # half ASCII is enough
    assert screen("zorblax quuxing flimbat dog", lexicon, 10) == "not English"  # 1 of 4 known
    assert screen("zorblax quuxing dog", lexicon, 10) == "not English"  # 1 of 3 known: three words are judged
    assert screen("zorblax quuxing dog cat", lexicon, 10) is None    # half known is enough
    assert screen("zorblax quuxing", lexicon, 10) is None            # under three words: not judged
    assert screen("Zorblax DOG CAT", lexicon, 10) is None            # known in any case


# ---- the planter's loop, with a stand-in backend registered as a plug-in ---------------------------

# what the stand-in proposes for (caption, target): a negative and the lemmas it changed, or the reason it has none
PROPOSALS = {
    ("A dog on a mat.", "bad"): ("A cat on a rug.", ("dog", "cat")),     # two places: refused by the checks
    ("A dog on a mat.", "dog"): ("A cat on a mat.", ("dog", "cat")),
    ("A dog on a mat.", "mat"): ("A dog on a blanket.", ("mat", "blanket")),
    ("A dog on a mat.", "same"): ("A cat on a mat.", ("dog", "cat")),    # the same negative by another target
    ("A dog on a mat.", "sandwich"): ("A sandwich on a mat.", ("dog", "sandwich")),
    ("A red bus.", "red"): ("A blue bus.", ("red", "")),
    ("A red bus.", "none"): "no colour to swap",
}
SIMILARITY = {("dog", "cat"): 0.123456, ("mat", "blanket"): 0.5, ("dog", "sandwich"): -0.25}


class Vectors:
    """The MiniLM word vectors' two calls, with the similarities above."""

    def ensure(self, words):
        self.words = set(words)

    def similarity(self, a, b):
        return SIMILARITY[(a, b)]


@pytest.fixture
def stub_backend(monkeypatch):
    from slipform.plant.core import backend as backend_mod

    monkeypatch.setattr(backend_mod, "_REGISTRY", dict(backend_mod._REGISTRY))

    class Stub(backend_mod.Backend):
        needs_vocabulary = False
        order: dict = {}
        calls: list = []

        def targets(self, item, doc):
            return list(self.order.get(item.id, []))

        def no_target_reason(self, doc):
            return "no candidate word"

        def rewrite(self, jobs):
            Stub.calls.append([(j.index, j.target) for j in jobs])
            out = []
            for j in jobs:
                answer = PROPOSALS[(j.item.caption, j.target)]
                if isinstance(answer, str):
                    out.append(answer)
                    continue
                neg, keys = answer
                role = "A" if j.target == "red" else "O"
                out.append(backend_mod.Proposal(negative=neg, target=j.target, role=role, concreteness=4.5,
                                                replacement=keys[1], keys=keys, plausibility=-2.0,
                                                extra={"why": j.target}))
            return out

    backend_mod.register("stub")(Stub)
    Stub.calls = []
    return Stub


def _planter(need=1, **config):
    from slipform.plant import ConcretePlant, PlantConfig

    planter = ConcretePlant(PlantConfig(backend="stub", negatives_per_caption=need, **config))
    planter.__dict__["vectors"] = Vectors()
    return planter


def _plant(stub, order, need=1, **config):
    from slipform.plant import Caption

    stub.order = order
    items = [Caption("c0", "A dog on a mat.", image="0.jpg"), Caption("c1", "A red bus.")]
    return _planter(need, **config).plant(items, [None, None])


def test_the_loop_tries_targets_in_rounds_and_writes_in_caption_order(stub_backend):
    out = _plant(stub_backend, {"c0": ["bad", "dog", "mat"], "c1": ["red"]})
    # round 1: one target per caption; round 2: the refused caption's next target only
    assert stub_backend.calls == [[(0, "bad"), (1, "red")], [(0, "dog")]]
    assert [r["id"] for r in out.records] == ["c0", "c1"]  # c0's record came a round later
    first = out.records[0]
    assert (first["negative"], first["image"], first["target"], first["anchor"], first["role"]) == \
        ("A cat on a mat.", "0.jpg", "dog", "dog", "O")
    assert (first["backend"], first["strategy"], first["edit"], first["why"]) == ("stub", "concrete", "replace", "dog")
    assert first["concreteness"] == 4.5 and first["plausibility"] == -2.0 and first["replacement"] == "cat"
    assert first["similarity"] == 0.1235 and "_keys" not in first
    assert out.records[1]["similarity"] is None  # one key empty: no similarity
    assert out.rejected == {"more than one change": 1} and out.skipped == []


def test_two_negatives_per_caption_and_the_reasons_of_the_skipped(stub_backend):
    out = _plant(stub_backend, {"c0": ["dog", "same", "mat", "bad"], "c1": ["none"]}, need=2)
    # c0 asks for two targets at once; "same" repeats dog's negative and is refused, "mat" follows
    assert stub_backend.calls == [[(0, "dog"), (0, "same"), (1, "none")], [(0, "mat")]]
    assert [r["negative"] for r in out.records] == ["A cat on a mat.", "A dog on a blanket."]
    assert [r["similarity"] for r in out.records] == [0.1235, 0.5]
    assert out.rejected == {"same negative as another of the caption": 1}
    assert out.skipped == [{"id": "c1", "reason": "no colour to swap"}]


def test_a_caption_without_targets_is_skipped_with_the_backends_reason(stub_backend):
    out = _plant(stub_backend, {"c1": ["red"]})
    assert out.skipped == [{"id": "c0", "reason": "no candidate word"}] and len(out.records) == 1
    stub_backend.queue = lambda self, targets, need: []  # targets, but none queued
    out = _plant(stub_backend, {"c0": ["dog"], "c1": ["red"]})
    assert out.records == [] and out.skipped == [{"id": "c0", "reason": "no replacement found"},
                                                 {"id": "c1", "reason": "no replacement found"}]


def test_a_target_queued_twice_is_tried_once(stub_backend):
    stub_backend.queue = lambda self, targets, need: targets + targets
    out = _plant(stub_backend, {"c0": ["dog", "mat"], "c1": []}, need=3)
    assert stub_backend.calls == [[(0, "dog"), (0, "mat"), (0, "dog")]]
    assert [r["target"] for r in out.records] == ["dog", "mat"]
    assert out.rejected == {}  # the second answer for "dog" is dropped as done, not counted as a repeat


def test_checks_follow_the_backend_and_the_config(stub_backend):
    out = _plant(stub_backend, {"c0": ["sandwich"]})
    assert out.rejected == {"object replaced by another kind of thing": 1}
    out = _plant(stub_backend, {"c0": ["sandwich"]}, same_kind=False)
    assert out.records[0]["negative"] == "A sandwich on a mat." and out.records[0]["similarity"] == -0.25
    stub_backend.one_change = False  # free rewrites: neither the one-change nor the kinds check
    assert [r["negative"] for r in _plant(stub_backend, {"c0": ["bad"]}).records] == ["A cat on a rug."]
    assert [r["negative"] for r in _plant(stub_backend, {"c0": ["sandwich"]}).records] == ["A sandwich on a mat."]


def test_the_language_model_floor(stub_backend):
    from slipform.plant import Caption

    class Scorer:
        def score(self, pairs):
            self.pairs = pairs
            return [-2.0 if "cat" in neg else -2.5 for _, neg in pairs]

    stub_backend.order = {"c0": ["dog"], "c1": ["red"]}
    items = [Caption("c0", "A dog on a mat."), Caption("c1", "A red bus.")]
    planter = _planter(lm_scorer="m", min_lm_score=-2.0)
    planter.__dict__["scorer"] = scorer = Scorer()
    out = planter.plant(items, [None, None])
    assert scorer.pairs == [("A dog on a mat.", "A cat on a mat."), ("A red bus.", "A blue bus.")]
    assert [(r["id"], r["lm_score"]) for r in out.records] == [("c0", -2.0)]  # a score at the floor passes
    assert out.rejected == {"below the language-model floor": 1}
    assert out.skipped == [{"id": "c1", "reason": "below the language-model floor"}]
    planter = _planter(lm_scorer="m")  # scored, no floor
    planter.__dict__["scorer"] = Scorer()
    assert [r["lm_score"] for r in planter.plant(items, [None, None]).records] == [-2.0, -2.5]
    assert "lm_score" not in _plant(stub_backend, {"c0": ["dog"]}).records[0]


def test_caption_similarity_is_the_dot_product_of_the_encoded_captions(stub_backend, monkeypatch):
    import numpy as np

    import slipform.plant.knowledge.embed as embed

    monkeypatch.setattr(embed, "encode", lambda texts: np.array([[1.0, 0.0] if "dog" in t else [0.6, 0.8]
                                                               for t in texts]))
    planter = _planter(need=2, caption_similarity=True)
    stub_backend.order = {"c0": ["dog", "mat"], "c1": ["red"]}
    from slipform.plant import Caption

    out = planter.plant([Caption("c0", "A dog on a mat."), Caption("c1", "A red bus.")], [None, None])
    assert planter.vectors.words == {"dog", "cat", "mat", "blanket", "red"}
    # caption . negative: (1,0).(0.6,0.8) for "A cat on a mat.", (1,0).(1,0) where the dog stays, (0.6,0.8) twice
    assert [r["caption_similarity"] for r in out.records] == [0.6, 1.0, 1.0]
    assert "caption_similarity" not in _plant(stub_backend, {"c0": ["dog"]}).records[0]
