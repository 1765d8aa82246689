"""The real Encoder's crop boxes and its cache file's name in errors: what issue 31's third-round sample
of ``evaluate/encode.py`` left unpinned (docs/BENCHMARKS.md, "Issue 31, third round: `evaluate/`")."""

from __future__ import annotations

import pytest
import torch

from slipform.evaluate.encode import Encoder
from slipform.safeload import CorruptFileError
from test_eval_edges_more import _PixelModel


def _halves(path):
    from PIL import Image

    im = Image.new("RGB", (6, 4), (200, 0, 0))
    im.paste((0, 0, 100), (3, 0, 6, 4))  # left half red, right half blue
    im.save(path)
    return path


def test_a_box_crops_the_image_and_keeps_its_own_cache_entry(tmp_path):
    path = _halves(tmp_path / "halves.png")
    enc = Encoder(_PixelModel(), workers=0)
    feats = enc.images([path, path, path], boxes=[(0, 0, 3, 4), (3, 0, 6, 4), None])
    # the pixel model's feature is the mean colour of what it is given
    assert torch.equal(feats, torch.tensor([[200.0, 0, 0], [0, 0, 100.0], [100.0, 0, 50.0]]))
    assert enc.encoded_images == 3
    assert torch.equal(enc.images([path], boxes=[[3, 0, 6, 4]]), feats[1:2])  # a list box: the same entry
    assert enc.encoded_images == 3


def test_a_damaged_cache_file_is_named_as_the_feature_cache(tmp_path):
    (tmp_path / "features-pixel-model.pt").write_bytes(b"not a tensor file")
    with pytest.raises(CorruptFileError, match=r"features-pixel-model\.pt.*feature cache"):
        Encoder(_PixelModel(), cache_dir=tmp_path, workers=0)
