"""The real Encoder and the file helpers every suite uses: what issue 31's mutation sample of
``evaluate/encode.py`` left unpinned (docs/BENCHMARKS.md, "Issue 31, evaluate/ module by module")."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
import torch

from slipform.evaluate.encode import (
    BenchmarkDataError,
    Encoder,
    published_file_note,
    read_json,
    require_files,
)
from test_eval_edges_more import _colour, _PixelModel


class _Counting(_PixelModel):
    def __init__(self):
        super().__init__()
        self.text_batches: list[int] = []
        self.image_batches: list[int] = []
        self.grad_enabled: list[bool] = []

    def encode_image(self, batch):
        self.image_batches.append(len(batch))
        self.grad_enabled.append(torch.is_grad_enabled())
        return batch

    def encode_text(self, tokens):
        self.text_batches.append(len(tokens))
        self.grad_enabled.append(torch.is_grad_enabled())
        return tokens


def test_require_files_names_how_many_are_missing_the_first_and_the_layout(tmp_path):
    present = _colour(tmp_path / "a.png", (1, 2, 3))
    require_files([present], "suite", "DATA_ROOT/x")  # all there: nothing raised
    with pytest.raises(BenchmarkDataError) as err:
        require_files([present, tmp_path / "b.png", tmp_path / "c.png"], "suite", "DATA_ROOT/x/<image>")
    assert str(err.value) == (f"suite: 2 of 3 files missing (first: {tmp_path / 'b.png'}); "
                              "expected layout: DATA_ROOT/x/<image>")


def test_read_json_reads_and_names_a_missing_or_malformed_file(tmp_path):
    (tmp_path / "ok.json").write_text('{"a": [1, 2]}')
    assert read_json(tmp_path / "ok.json", "suite", "L") == {"a": [1, 2]}
    with pytest.raises(BenchmarkDataError) as err:
        read_json(tmp_path / "gone.json", "suite", "DATA_ROOT/suite/gone.json")
    assert str(err.value) == f"suite: {tmp_path / 'gone.json'} not found; expected layout: DATA_ROOT/suite/gone.json"
    (tmp_path / "bad.json").write_text('{"a": ')
    with pytest.raises(BenchmarkDataError) as err:
        read_json(tmp_path / "bad.json", "suite", "L")
    assert str(err.value).startswith(f"suite: {tmp_path / 'bad.json'}: malformed JSON (Expecting value: line 1")
    assert str(err.value).endswith(")")


def test_published_file_note_by_rows_and_by_digest(tmp_path):
    path = tmp_path / "test.json"
    path.write_text("[1, 2, 3]")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert published_file_note(path, 3, 3) is None
    assert published_file_note(path, 3, 3, digest[:8]) is None
    assert published_file_note(path, 2, 3) == (f"{path}: 2 rows where the published file has 3 "
                                               "(numbers may not compare with published ones)")
    other = "0" * 8 if not digest.startswith("0" * 8) else "1" * 8
    assert published_file_note(path, 4, 3, other) == (
        f"{path}: 4 rows where the published file has 3; sha256 {digest[:8]}... is not the published {other}... "
        "(numbers may not compare with published ones)")
    assert published_file_note(path, 3, 3, other) == (
        f"{path}: sha256 {digest[:8]}... is not the published {other}... (numbers may not compare with published ones)")


def test_a_npy_frame_is_read_as_bgr_and_an_image_file_as_rgb(tmp_path):
    frame = np.zeros((4, 6, 3), dtype=np.uint8)
    frame[..., 0], frame[..., 1], frame[..., 2] = 30, 20, 10  # B, G, R as OpenCV stores them
    np.save(tmp_path / "f.npy", frame)
    rgb = _colour(tmp_path / "g.png", (7, 8, 9))
    from PIL import Image

    Image.new("L", (6, 4), 50).save(tmp_path / "l.png")  # a grey-scale file: converted to RGB
    enc = Encoder(_PixelModel(), None, workers=0)
    assert enc.images([tmp_path / "f.npy", rgb, tmp_path / "l.png"]).tolist() == [[10, 20, 30], [7, 8, 9],
                                                                                   [50, 50, 50]]


def test_texts_in_chunks_of_256_without_gradients_and_none_for_no_text(tmp_path):
    model = _Counting()
    enc = Encoder(model, None, workers=0, batch_size=3)
    texts = [f"t{i:03d}x" for i in range(600)]
    with torch.enable_grad():
        feats = enc.texts(texts + texts[:5])
    assert model.text_batches == [256, 256, 88]  # each distinct text once
    assert feats.shape == (605, 3) and feats[600:].tolist() == feats[:5].tolist()
    assert enc.texts([]).shape == (0,) and model.text_batches == [256, 256, 88]
    a, b, c, d = (_colour(tmp_path / f"{n}.png", (i, 0, 0)) for i, n in enumerate("abcd"))
    with torch.enable_grad():
        enc.images([a, b, c, d])
    assert model.image_batches == [3, 1] and not any(model.grad_enabled)


def test_the_cache_file_is_per_model_and_written_only_when_something_new_was_encoded(tmp_path):
    a = _colour(tmp_path / "a.png", (10, 0, 0))
    cache = tmp_path / "deep" / "cache"  # its parents are made
    enc = Encoder(_PixelModel(), cache, workers=0)
    assert enc.path == cache / "features-pixel-model.pt"
    enc.save()
    assert not cache.exists()  # nothing encoded: nothing written
    enc.images([a])
    enc.save()
    assert sorted(os.listdir(cache)) == ["features-pixel-model.pt"]  # no temporary file left
    stamp = enc.path.stat().st_mtime_ns
    enc.images([a])  # from memory
    os.utime(enc.path, ns=(stamp - 10**9, stamp - 10**9))
    enc.save()
    assert enc.path.stat().st_mtime_ns == stamp - 10**9  # not rewritten
    Encoder(_PixelModel(), None, workers=0).save()  # no cache folder: a no-op


def test_a_changed_image_file_is_encoded_again(tmp_path):
    a = _colour(tmp_path / "a.bmp", (10, 0, 0))  # a bitmap: the same size whatever its colour
    enc = Encoder(_PixelModel(), tmp_path / "c", workers=0)
    assert enc.images([a]).tolist() == [[10, 0, 0]]
    enc.save()
    size = a.stat().st_size
    _colour(a, (0, 40, 0))
    st = a.stat()
    assert st.st_size == size  # only the modification time tells the new image from the old
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a new modification time
    again = Encoder(_PixelModel(), tmp_path / "c", workers=0)
    assert again.images([a]).tolist() == [[0, 40, 0]] and again.encoded_images == 1


def test_progress_bar_over_image_batches(tmp_path, capsys):
    a, b = (_colour(tmp_path / f"{n}.png", (i, 0, 0)) for i, n in enumerate("ab"))
    enc = Encoder(_PixelModel(), None, workers=0, batch_size=1, progress=True)
    assert enc.images([a, b]).tolist() == [[0, 0, 0], [1, 0, 0]]
    err = capsys.readouterr().err
    assert "images: 100%" in err and "2/2" in err and ("batch/s" in err or "s/batch" in err)
