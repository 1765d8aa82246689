"""The plant's outputs pinned for mutation testing (issue 31): the NegCLIP export and the gallery.

Written from the mutants that survived ``python bench/mutation.py plant_output``; the expected
files are written out by hand.
"""

from __future__ import annotations

import ast
import csv
import json

from slipform.plant.output.export import export_negclip
from slipform.plant.output.gallery import _counts, _score, highlight, write_gallery


def _write(path, recs):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")


def test_export_groups_negatives_by_caption_and_draws_other_rows(tmp_path):
    neg = tmp_path / "n.jsonl"
    _write(neg, [{"id": "7", "image": "a.jpg", "caption": "A dog on a mat.", "negative": "A cat on a mat."},
                 {"id": "9", "caption": "Un café.", "negative": "Un thé."},
                 {"id": "7", "image": "a.jpg", "caption": "A dog on a mat.", "negative": "A dog on a rug."}])
    out = tmp_path / "n.tsv"
    assert export_negclip(neg, out) == 2
    # two rows: each row's only other row is the other one
    assert out.read_bytes().decode("utf-8") == (
        "\ttitle\tfilepath\tneg_caption\tneg_image\n"
        "0\tA dog on a mat.\ta.jpg\t['A cat on a mat.', 'A dog on a rug.']\t[1]\n"
        "1\tUn café.\t\t['Un thé.']\t[0]\n")
    _write(neg, [{"id": "1", "caption": "A dog.", "negative": "A cat."}])
    assert export_negclip(neg, out) == 1
    assert out.read_text().splitlines()[1] == "0\tA dog.\t\t['A cat.']\t[]"


def test_export_draws_neg_images_distinct_other_rows_by_seed(tmp_path):
    neg = tmp_path / "n.jsonl"
    _write(neg, [{"id": str(i), "caption": f"c{i}", "negative": f"n{i}"} for i in range(6)])

    def others(**options):
        export_negclip(neg, tmp_path / "o.tsv", **options)
        with open(tmp_path / "o.tsv", encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t"))[1:]
        return [ast.literal_eval(r[4]) for r in rows]

    for k in (1, 3, 5, 9):
        drawn = others(neg_images=k)
        assert all(len(o) == min(k, 5) and len(set(o)) == len(o) and i not in o and set(o) <= set(range(6))
                   for i, o in enumerate(drawn)), (k, drawn)
    assert others(seed=3) == others(seed=3) != others(seed=4)
    assert others() == others(seed=0, neg_images=3)


def test_highlight_marks_insertions_and_deletions():
    assert highlight("A dog on a mat.", "A dog on a red mat.") == ("A dog on a mat.", "A dog on a <ins>red</ins> mat.")
    assert highlight("A big dog.", "A dog.") == ("A <del>big</del> dog.", "A dog.")
    assert highlight("A DOG runs.", "a dog walks.") == ("A DOG <del>runs.</del>", "a dog <ins>walks.</ins>")
    assert highlight("A & B", "A & C") == ("A &amp; <del>B</del>", "A &amp; <ins>C</ins>")


def test_scores_and_count_tables():
    assert _score(None) == "" and _score(0.12345) == "0.12" and _score(-3.0) == "-3.00" and _score(4) == "4"
    assert _score("<x>") == "&lt;x&gt;"
    from collections import Counter

    assert _counts("by <role>", Counter({"O": 2, "A": 5, "R": 1}), 2) == (
        "<div><h3>by &lt;role&gt;</h3><table><tr><td>A</td><td>5</td></tr><tr><td>O</td><td>2</td></tr></table></div>")


def test_gallery_page_in_full_for_two_negatives(tmp_path):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "1.png").write_bytes(b"png")
    neg = tmp_path / "n<1>.jsonl"
    _write(neg, [{"id": "1", "image": "imgs/1.png", "caption": "A dog.", "negative": "A cat.", "role": "O",
                  "target": "dog", "replacement": "Cat", "concreteness": 4.9, "similarity": 0.5,
                  "plausibility": None},
                 {"id": "2", "image": str(tmp_path / "imgs" / "1.png"), "caption": "A red bus.",
                  "negative": "A blue bus.", "role": "A", "target": "red", "replacement": "blue",
                  "concreteness": 2, "similarity": None, "plausibility": -2.5}])
    page = write_gallery(neg, tmp_path / "site" / "g.html", n=5, seed=1)  # images found beside the negatives
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html><meta charset=utf-8><title>Negatives: n&lt;1&gt;.jsonl</title>\n<style>")
    assert f"<h1>2 negatives <span class=n>{str(neg).replace('<', '&lt;').replace('>', '&gt;')}</span></h1>" in text
    assert "<h3>by role</h3><table><tr><td>O</td><td>1</td></tr><tr><td>A</td><td>1</td></tr></table>" in text
    assert "<h3>most used replacements</h3><table><tr><td>cat</td><td>1</td></tr><tr><td>blue</td>" in text
    assert "skipped by reason" not in text and "<h2>2 drawn at random (seed 1)</h2>" in text
    assert ('<tr><td class=n>1</td><td>A <del>dog.</del><br>A <ins>cat.</ins></td><td>O</td>'
            '<td>dog &rarr; Cat</td><td>4.90</td><td>0.50</td><td></td>'
            '<td><img src="../imgs/1.png" alt="imgs/1.png"></td></tr>') in text
    assert ('<td>A</td><td>red &rarr; blue</td><td>2</td><td></td><td>-2.50</td>'
            f'<td><img src="../imgs/1.png" alt="{tmp_path}/imgs/1.png"></td></tr>') in text
    assert text.endswith("</table>\n") and not (tmp_path / "site" / "g.html.tmp").exists()
    # an image root given explicitly; a record without an image has an empty cell
    _write(neg, [{"id": "3", "image": "1.png", "caption": "A dog.", "negative": "A cat."},
                 {"id": "4", "caption": "A dog.", "negative": "A cat."}])
    text = write_gallery(neg, tmp_path / "g.html", image_root=tmp_path / "imgs").read_text()
    assert '<img src="imgs/1.png" alt="1.png">' in text and "</td><td></td></tr>" in text
    # without an image root, images are found beside the negatives as soon as one shown record names one
    _write(neg, [{"id": "6", "image": "imgs/1.png", "caption": "A dog.", "negative": "A cat."},
                 {"id": "7", "caption": "A dog.", "negative": "A cat."}])
    assert '<img src="imgs/1.png" alt="imgs/1.png">' in write_gallery(neg, tmp_path / "g.html").read_text()
    _write(neg, [{"id": "5", "caption": "A dog.", "negative": "A cat."}])
    assert "<td class=n>5</td>" in write_gallery(neg, tmp_path / "g.html").read_text()


def test_gallery_shows_the_summarys_skips_and_rejections_and_the_top_twelve(tmp_path):
    neg = tmp_path / "n.jsonl"
    _write(neg, [{"id": str(i), "caption": "A dog.", "negative": f"A w{i % 14}.", "replacement": f"w{i % 14}"}
                 for i in range(14 * 3 + 1)])
    (tmp_path / "n.jsonl.summary.json").write_text(json.dumps({"skipped": {"empty caption": 2}, "rejected": {}}))
    text = write_gallery(neg, tmp_path / "g.html", n=4).read_text()
    assert "<h3>skipped by reason</h3><table><tr><td>empty caption</td><td>2</td></tr></table>" in text
    assert "rejected by reason" not in text
    block = text.split("<h3>most used replacements</h3>")[1].split("</table>")[0]
    assert block.count("<tr>") == 12 and block.startswith("<table><tr><td>w0</td><td>4</td></tr>")
    assert text.count("<tr><td class=n>") == 4 and "<h2>4 drawn at random (seed 0)</h2>" in text  # the default seed
