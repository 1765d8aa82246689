"""Image editors: the negative image that matches a negative caption (ConcretePlant, stage 3).

:class:`ImageEditor` is the interface: ``edit(image, caption, negative) -> image or None``.
:class:`WorldEditor` parses the negative caption back into a scene and renders it exactly,
keeping the original's layout jitter and noise, so the two images differ only in the planted
concept. :class:`DiffusionEditor` is the analogue for real photographs (SDXL-turbo img2img
through ``diffusers``, as in the paper) -- optional (``pip install slipform[edit]``), and
untested here: no diffusion weights can be loaded offline on our machines.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from PIL import Image

from .caption import ParseError, parse
from .render import render
from .scene import Scene, WorldConfig


class ImageEditor(Protocol):
    def edit(self, image: Image.Image, caption: str, negative: str) -> Image.Image | None: ...


class WorldEditor:
    """Exact edits of world images, through the caption parser."""

    def __init__(self, config: WorldConfig = WorldConfig()):
        self.config = config

    def negative_scene(self, scene: Scene, negative: str) -> Scene | None:
        try:
            parsed = parse(negative)
        except ParseError:
            return None
        if len(parsed.things) != len(scene.things):
            return None
        return replace(parsed, seed=scene.seed)

    def edit_scene(self, scene: Scene, negative: str) -> Image.Image | None:
        neg = self.negative_scene(scene, negative)
        return render(neg, self.config) if neg is not None else None

    def edit(self, image: Image.Image, caption: str, negative: str, seed: int = 0) -> Image.Image | None:
        try:
            scene = replace(parse(caption), seed=seed)
        except ParseError:
            return None
        return self.edit_scene(scene, negative)


class DiffusionEditor:
    """SDXL-turbo image-to-image edits steered by the negative caption (untested offline)."""

    def __init__(self, model: str = "stabilityai/sdxl-turbo", device: str = "cuda", strength: float = 0.5,
                 steps: int = 2):
        try:
            from diffusers import AutoPipelineForImage2Image
        except ImportError as exc:
            raise RuntimeError("the diffusion editor needs 'pip install diffusers'") from exc
        import torch

        self.pipe = AutoPipelineForImage2Image.from_pretrained(model, torch_dtype=torch.float16).to(device)
        self.strength, self.steps = strength, steps

    def edit(self, image: Image.Image, caption: str, negative: str) -> Image.Image | None:
        # SDXL-turbo wants steps * strength >= 1 and no guidance
        out = self.pipe(prompt=negative, image=image.convert("RGB").resize((512, 512)), strength=self.strength,
                        num_inference_steps=self.steps, guidance_scale=0.0)
        return out.images[0].resize(image.size)
