"""DiffusionEditor's arguments to the pipeline, with a recording stand-in (no diffusers import).

tests/test_editor.py runs a real, tiny Stable Diffusion pipeline end to end (42 s); these pin
what the editor hands the pipeline and what it does with the answer, in milliseconds, so that
the mutation group of the world's editor can run them (bench/mutation.py world_editor).
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch
from PIL import Image

from slipform.world import DiffusionEditor


class RecordingPipe:
    """Answers with a fixed-size image whose pixels come from the generator, and keeps the call."""

    def __init__(self, out_size=(24, 24)):
        self.calls, self.out_size, self.moved_to = [], out_size, None

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        value = int(torch.randint(0, 256, (1,), generator=kwargs["generator"]))
        img = Image.new("RGB", self.out_size, (value, 255 - value, 7))
        return types.SimpleNamespace(images=[img])

    def to(self, device):
        self.moved_to = device
        return self


def test_diffusion_editor_hands_the_pipeline_the_negative_and_its_settings():
    pipe = RecordingPipe()
    editor = DiffusionEditor(pipe, strength=0.75, steps=4, size=16, seed=3)
    image = Image.new("L", (40, 30), 128)  # not RGB and not square: the editor converts and resizes
    out = editor.edit(image, "a red circle above a blue square.", "a red circle below a blue square.")
    (call,) = pipe.calls
    assert call["prompt"] == "a red circle below a blue square."  # the negative, never the caption
    assert set(call) == {"prompt", "image", "strength", "num_inference_steps", "guidance_scale", "generator"}
    assert call["image"].mode == "RGB" and call["image"].size == (16, 16)
    assert call["strength"] == 0.75 and call["num_inference_steps"] == 4
    assert call["guidance_scale"] == 0.0  # turbo models run without classifier-free guidance
    assert isinstance(call["generator"], torch.Generator) and call["generator"].device.type == "cpu"
    assert out.size == (40, 30)  # back to the original size


def test_diffusion_editor_seeds_every_edit_alike_and_by_its_seed():
    def pixel(seed):
        pipe = RecordingPipe()
        editor = DiffusionEditor(pipe, seed=seed)
        image = Image.new("RGB", (8, 8))
        first = np.asarray(editor.edit(image, "a", "b"))
        second = np.asarray(editor.edit(image, "a", "b"))
        assert np.array_equal(first, second)  # the generator is re-seeded for each edit
        return first[0, 0, 0]

    expected = int(torch.randint(0, 256, (1,), generator=torch.Generator("cpu").manual_seed(5)))
    assert pixel(5) == expected
    assert pixel(0) != pixel(5)


def test_diffusion_editor_defaults_are_the_papers_sdxl_turbo_settings():
    pipe = RecordingPipe()
    editor = DiffusionEditor(pipe)
    assert (editor.strength, editor.steps, editor.size, editor.seed) == (0.5, 2, 512, 0)
    editor.edit(Image.new("RGB", (8, 8)), "a", "b")
    assert pipe.calls[0]["image"].size == (512, 512)


@pytest.mark.parametrize("strength,steps,ok", [(0.5, 2, True), (0.25, 4, True), (0.3, 2, False), (0.49, 2, False)])
def test_diffusion_editor_needs_one_denoising_step(strength, steps, ok):
    if ok:
        assert DiffusionEditor(RecordingPipe(), strength=strength, steps=steps).steps == steps
    else:
        with pytest.raises(ValueError, match=r"^img2img runs int\(steps \* strength\) denoising steps: "
                                             r"make steps \* strength >= 1$"):
            DiffusionEditor(RecordingPipe(), strength=strength, steps=steps)


def _fake_diffusers(monkeypatch):
    loaded = {}

    class AutoPipelineForImage2Image:
        @staticmethod
        def from_pretrained(model, torch_dtype):
            loaded.update(model=model, dtype=torch_dtype)
            loaded["pipe"] = RecordingPipe()
            return loaded["pipe"]

    monkeypatch.setitem(sys.modules, "diffusers", types.SimpleNamespace(AutoPipelineForImage2Image=AutoPipelineForImage2Image))
    return loaded


@pytest.mark.parametrize("device,dtype", [("cuda", torch.float16), ("cuda:1", torch.float16), ("cpu", torch.float32)])
def test_diffusion_editor_loads_the_pipeline_in_the_devices_precision(monkeypatch, device, dtype):
    loaded = _fake_diffusers(monkeypatch)
    editor = DiffusionEditor.from_pretrained("some/model", device=device, steps=3, seed=9)
    assert loaded["model"] == "some/model" and loaded["dtype"] == dtype
    assert editor.pipe is loaded["pipe"] and loaded["pipe"].moved_to == device
    assert (editor.steps, editor.seed, editor.strength) == (3, 9, 0.5)


def test_diffusion_editor_default_checkpoint_is_sdxl_turbo(monkeypatch):
    loaded = _fake_diffusers(monkeypatch)
    DiffusionEditor.from_pretrained()
    assert loaded["model"] == "stabilityai/sdxl-turbo" and loaded["pipe"].moved_to == "cuda"


def test_diffusion_editor_without_diffusers_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import fails as if not installed
    with pytest.raises(RuntimeError, match=r"^the diffusion editor needs 'pip install slipform\[edit\]' \(diffusers\)$"):
        DiffusionEditor.from_pretrained()
