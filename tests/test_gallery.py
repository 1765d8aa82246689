"""The negatives gallery (plant/output/gallery.py) and ``slipform plant --gallery``."""

import json
import re

from PIL import Image

from slipform.cli import main
from slipform.plant.output.gallery import highlight, write_gallery


def test_highlight_marks_the_change_only():
    old, new = highlight("A horse grazing in a field.", "A cow grazing in a field.")
    assert old == "A <del>horse</del> grazing in a field." and new == "A <ins>cow</ins> grazing in a field."
    old, new = highlight("A <b> sign", "A <i> sign")
    assert "<b>" not in old and "&lt;b&gt;" in old  # caption text is escaped


def test_gallery_shows_a_sample_counts_and_images(tmp_path):
    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "imgs" / "1.png")
    recs = [dict(id=str(i), image="imgs/1.png" if i % 2 == 0 else f"imgs/missing{i}.png", caption=f"A dog number {i}.",
                 negative=f"A cat number {i}.", role="O", target="dog", replacement="cat", concreteness=4.9,
                 similarity=0.8, plausibility=-3.25) for i in range(30)]
    recs[1].update(role="A", replacement="red")
    neg = tmp_path / "neg.jsonl"
    neg.write_text("".join(json.dumps(r) + "\n" for r in recs))
    (tmp_path / "neg.jsonl.summary.json").write_text(json.dumps({"skipped": {"no replacement found": 4},
                                                                 "rejected": {"more than one change": 2}}))
    page = write_gallery(neg, tmp_path / "out" / "g.html", n=10, image_root=tmp_path)
    text = page.read_text()
    assert text.count("<tr><td class=n>") == 10
    assert "<h1>30 negatives" in text and "<td>O</td><td>29</td>" in text and "<td>cat</td><td>29</td>" in text
    assert "no replacement found</td><td>4" in text and "more than one change</td><td>2" in text
    shown = set(re.findall(r"<td class=n>(\d+)</td>", text))
    assert len(shown) == 10
    # the image that exists is linked relative to the page; the others are named as missing
    assert text.count('src="../imgs/1.png"') == sum(int(i) % 2 == 0 for i in shown) > 0
    assert text.count("(not found)") == sum(int(i) % 2 == 1 for i in shown) > 0
    again = write_gallery(neg, tmp_path / "g2.html", n=10, image_root=tmp_path).read_text()
    assert set(re.findall(r"<td class=n>(\d+)</td>", again)) == shown  # the seed decides the sample


def test_plant_writes_a_gallery(tmp_path):
    src = tmp_path / "c.txt"
    src.write_text("A horse grazing in a field.\nA man riding a bicycle down the street.\n"
                   "A slice of pizza on a white plate.\n")
    page = tmp_path / "g.html"
    assert main(["plant", str(src), "-o", str(tmp_path / "n.jsonl"), "--gallery", str(page), "--no-progress"]) == 0
    text = page.read_text()
    n = len((tmp_path / "n.jsonl").read_text().splitlines())
    assert n >= 2 and text.count("<tr><td class=n>") == n and text.count("<ins>") == n


def test_plant_verifier_flag_rejects_what_the_domain_cannot_read(tmp_path):
    src = tmp_path / "c.txt"
    src.write_text("A horse grazing in a field.\nA large red circle to the left of a small blue square.\n")
    out = tmp_path / "n.jsonl"
    assert main(["plant", str(src), "-o", str(out), "--verifier", "world", "--no-progress"]) == 0
    summary = json.loads((tmp_path / "n.jsonl.summary.json").read_text())
    assert summary["rejected"].get("caption does not parse as a world caption", 0) >= 1
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["2"]
