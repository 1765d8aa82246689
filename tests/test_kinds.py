"""The kinds table (plant/knowledge/kinds.py) and the checks every planted negative passes (plant/core/verify.py)."""

from itertools import combinations

import pytest

from slipform.plant.core.verify import check_negative, get_verifier, verifier_names
from slipform.plant.knowledge.kinds import (
    CONFUSABLE,
    KIND_OF,
    KINDS,
    PERSON_CONTRASTS,
    base,
    is_object_change,
    same_kind,
)
from slipform.plant.knowledge.tables import NOUN_SYNONYMS


def test_every_word_has_one_kind_and_every_kind_enough_members():
    seen = {}
    for kind, words in KINDS.items():
        assert len(words) >= 3, kind
        for w in words:
            assert same_kind(w), w  # something to draw from once confusable words are out
            assert w not in seen, f"{w!r} is in {seen[w]!r} and {kind!r}"
            seen[w] = kind
    assert set(seen) == set(KIND_OF)


def test_no_synonym_is_a_replacement():
    """Two words a photo may show at once (sofa/couch, bike/bicycle) are never swapped for each other."""
    for group in NOUN_SYNONYMS:
        for a, b in combinations(sorted(group), 2):
            assert b not in same_kind(a) and a not in same_kind(b), (a, b)
    for pair in CONFUSABLE:
        a, b = sorted(pair)
        assert b not in same_kind(a) and a not in same_kind(b)
        assert is_object_change(a, b) is not None and is_object_change(b, a) is not None
        if a in KIND_OF and KIND_OF.get(b) == KIND_OF[a]:
            assert is_object_change(a, b) == "replacement a photo of the original may still show"


def test_person_changes_are_contrasts_only():
    for who, others in PERSON_CONTRASTS.items():
        assert others and who not in others
        assert same_kind(who) == others
        for other in others:
            assert is_object_change(who, other) is None
    assert is_object_change("man", "person") == "person changed to a word that may name the same person"
    assert is_object_change("man", "guy") is not None


@pytest.mark.parametrize("old,new,reason", [
    ("horse", "cow", None),
    ("horses", "cows", None),  # inflected forms are read in the table's form
    ("pizza", "sandwich", None),
    ("bus", "truck", None),
    ("man", "sandwich", "person changed to a word that may name the same person"),
    ("horse", "sandwich", "object replaced by another kind of thing"),
    ("giraffe", "animal", "object replaced by another kind of thing"),  # more general: may stay true
    ("beach", "cart", "object replaced by another kind of thing"),
    ("idea", "thought", "object of unknown kind"),
    ("car", "van", "replacement a photo of the original may still show"),
])
def test_is_object_change(old, new, reason):
    assert is_object_change(old, new) == reason


def test_base_reads_plurals_in_the_tables_form():
    assert base("Dogs") == "dog" and base("cherries") == "cherry" and base("benches") == "bench"
    assert base("women") == "women" and base("sheep") == "sheep"
    assert base("unknownthings") == "unknownthings"  # nothing to strip it to: left as it is
    for w in KIND_OF:
        assert base(w) == w


def test_same_kind_excludes_the_word_and_stays_in_its_kind():
    for w, kind in KIND_OF.items():
        options = same_kind(w)
        assert w not in options
        assert all(KIND_OF[o] == kind for o in options), w
    assert same_kind("idea") == ()


def test_check_negative_names_the_first_failed_check():
    cap = "A horse standing in a field."
    assert check_negative(cap, "a horse standing in a field.", "O", "horse", "horse") == "output equals the caption"
    assert check_negative(cap, "A cow standing in a meadow.", "O", "horse", "cow") == "more than one change"
    assert check_negative(cap, "A cow standing in a meadow.", "O", "horse", "cow", one_change=False) is None
    assert check_negative(cap, "A sandwich standing in a field.", "O", "horse", "sandwich") == \
        "object replaced by another kind of thing"
    assert check_negative(cap, "A sandwich standing in a field.", "O", "horse", "sandwich", same_kind=False) is None
    assert check_negative(cap, "A cow standing in a field.", "O", "horse", "cow") is None
    # the kinds check is for object changes only
    assert check_negative(cap, "A horse sitting in a field.", "R", "stand", "sit") is None


def test_world_verifier_rejects_what_the_world_cannot_show():
    assert "world" in verifier_names()
    cap = "A large red circle sits to the left of a small blue square."
    assert check_negative(cap, "A large red circle stands to the left of a small blue square.", "R", "sit", "stand",
                          verifier="world") == "negative describes the same scene"
    assert check_negative(cap, "A large red circle sits to the left of a small blue dog.", "O", "square", "dog",
                          same_kind=False, verifier="world") == "negative does not parse as a world caption"
    assert check_negative(cap, "A large red circle sits to the left of a small blue star.", "O", "square", "star",
                          verifier="world") is None
    assert check_negative(cap, "A large green circle sits to the left of a small blue square.", "A", "red", "green",
                          verifier="world") is None
    verify = get_verifier("world")
    assert verify("A dog on a mat.", "A cat on a mat.") == "caption does not parse as a world caption"
    with pytest.raises(ValueError, match="unknown verifier 'wordl'; choose from world"):
        get_verifier("wordl")
