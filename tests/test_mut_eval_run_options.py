"""``evaluate.run`` hands every encoder option on, and the overlap check reads a COCO captions file:
what issue 31's third-round samples of ``evaluate/__init__.py`` and ``evaluate/overlap.py`` left
unpinned (docs/BENCHMARKS.md, "Issue 31, third round: `evaluate/`")."""

from __future__ import annotations

import json

import slipform.evaluate as ev
from slipform.evaluate.overlap import training_images


def test_run_passes_each_encoder_option_to_the_encoder(monkeypatch, tmp_path):
    made = []

    class Recording:
        def __init__(self, model, **options):
            made.append((model, options))

        def save(self):
            made.append("saved")

    monkeypatch.setattr(ev, "Encoder", Recording)
    assert ev.run("the model", [], tmp_path, cache_dir=tmp_path / "c", device="meta", workers=3, batch_size=5,
                  progress=True) == {}
    assert made == [("the model", {"cache_dir": tmp_path / "c", "device": "meta", "workers": 3, "batch_size": 5,
                                   "progress": True}), "saved"]


def test_training_images_of_a_coco_captions_file_are_its_captioned_images(tmp_path):
    # captions_train2014.json has "images" too, without Karpathy's "sentences": read as COCO captions
    data = {"images": [{"id": 7, "file_name": "COCO_train2014_000000000007.jpg"},
                       {"id": 9, "file_name": "COCO_train2014_000000000009.jpg"}],
            "annotations": [{"id": 1, "image_id": 7, "caption": "a dog on grass"}]}
    (tmp_path / "captions_train2014.json").write_text(json.dumps(data))
    assert training_images(tmp_path / "captions_train2014.json") == {"coco:7"}


def test_the_world_scenes_default_to_the_test_split(tmp_path):
    from slipform.evaluate.world import test_scenes

    scenes, paths = test_scenes(tmp_path, limit=2)
    assert scenes == test_scenes(tmp_path, "test", 2)[0] and scenes != test_scenes(tmp_path, "train", 2)[0]
    assert len(paths) == 2 and all(p.is_file() and "test" in p.parts for p in paths)
