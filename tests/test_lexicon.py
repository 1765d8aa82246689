import time

import pytest

from slipform.lexicon import load_lexicon


def test_brysbaert_ratings_of_real_words(lexicon):
    assert lexicon.rating("chicken") == 4.8
    assert lexicon.rating("honest") == 1.66
    assert lexicon.rating("Dog") == 4.85  # case-insensitive
    assert 39_000 < len(lexicon) < 41_000


def test_two_word_expressions_are_rated(lexicon):
    for phrase in ("hot dog", "fire hydrant", "teddy bear", "tennis racket"):
        assert lexicon.rating(phrase) > 4.5
    assert lexicon.is_expression("Fire", "hydrant")


def test_unknown_words_are_none_not_zero(lexicon):
    assert lexicon.rating("qwzxv") is None
    assert lexicon.lookup("qwzxv", "qwzxvs") is None


def test_surface_then_lemma(lexicon):
    assert lexicon.rating("giraffes") is None  # Brysbaert rates lemmas, mostly
    assert lexicon.lookup("giraffes", "giraffe") == 4.73
    assert lexicon.lookup("dogs", "dog") == lexicon.rating("dogs") == 5.0  # rated as written: surface first
    assert lexicon.lookup("hot", "hotly") == lexicon.rating("hot")  # the surface form wins


def test_sources_differ_where_brysbaert_has_no_rating():
    brys, chain, open_ = load_lexicon(None, "brysbaert"), load_lexicon(None, "chain"), load_lexicon(None, "open")
    assert brys.rating(".22 caliber") is None  # Muraki's multiword norms only
    assert chain.rating(".22 caliber") == 4.1
    assert open_.rating(".22 caliber") == 4.1
    assert len(chain) > len(open_) > len(brys)
    assert chain.rating("chicken") == brys.rating("chicken") == open_.rating("chicken")


def test_unknown_source_is_refused():
    with pytest.raises(ValueError, match="unknown lexicon source"):
        load_lexicon(None, "nope")


def test_user_file_tsv_and_csv(tmp_path):
    tsv = tmp_path / "norms.txt"
    tsv.write_text("Word\tBigram\tConc.M\tConc.SD\nzebra\t0\t4.9\t0.3\nhope\t0\t1.25\t0.5\n")
    lex = load_lexicon(str(tsv))
    assert lex.rating("zebra") == 4.9 and lex.rating("hope") == 1.25 and lex.rating("dog") is None
    csv = tmp_path / "norms.csv"
    csv.write_text("Word,Conc.M\nice cream,4.8\n")
    assert load_lexicon(str(csv)).rating("ice cream") == 4.8


def test_user_file_xlsx(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["Word", "Bigram", "Conc.M"])
    wb.active.append(["kettle", 0, 4.93])
    path = tmp_path / "norms.xlsx"
    wb.save(path)
    assert load_lexicon(str(path)).rating("kettle") == 4.93


def test_user_file_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("Word\tConc.M\nzebra\tfour\n")
    with pytest.raises(ValueError, match=r"bad.tsv:2: Conc.M is not a number"):
        load_lexicon(str(bad))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("word,rating\nzebra,4\n")
    with pytest.raises(ValueError, match="expected columns 'Word' and 'Conc.M'"):
        load_lexicon(str(wrong))
    with pytest.raises(FileNotFoundError):
        load_lexicon(str(tmp_path / "missing.tsv"))


def test_loads_in_under_a_second():
    load_lexicon.cache_clear()
    t = time.perf_counter()
    load_lexicon(None, "brysbaert")
    assert time.perf_counter() - t < 1.0
