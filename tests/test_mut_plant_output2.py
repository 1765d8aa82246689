"""The gallery (plant/output/gallery.py): what the issue-31 sample of the module left unpinned."""

import json

from slipform.plant.output.gallery import write_gallery


def test_the_gallery_makes_the_folders_of_its_page(tmp_path):
    neg = tmp_path / "n.jsonl"
    neg.write_text(json.dumps({"id": "1", "caption": "A dog.", "negative": "A cat.", "role": "O", "target": "dog",
                               "replacement": "cat"}) + "\n", encoding="utf-8")
    page = write_gallery(neg, tmp_path / "site" / "plant" / "g.html")
    assert page == tmp_path / "site" / "plant" / "g.html" and "A <ins>cat.</ins>" in page.read_text(encoding="utf-8")
    assert [p.name for p in page.parent.iterdir()] == ["g.html"]  # no temporary file left beside it


def test_a_record_without_a_target_shows_an_empty_one_not_none(tmp_path):
    neg = tmp_path / "n.jsonl"
    neg.write_text(json.dumps({"id": "1", "caption": "A dog.", "negative": "A cat.", "role": "O",
                               "replacement": "cat"}) + "\n", encoding="utf-8")
    text = write_gallery(neg, tmp_path / "g.html").read_text(encoding="utf-8")
    assert "<td> &rarr; cat</td>" in text and "None" not in text
    neg.write_text(json.dumps({"id": "1", "caption": "A dog.", "negative": "A cat.", "role": "O",
                               "target": "dog"}) + "\n", encoding="utf-8")  # nor without a replacement
    text = write_gallery(neg, tmp_path / "g.html").read_text(encoding="utf-8")
    assert "<td>dog &rarr; </td>" in text and "None" not in text
