"""Image editors: the negative image that matches a negative caption (ConcretePlant, stage 3).

:class:`ImageEditor` is the interface: ``edit(image, caption, negative) -> image or None``.
:class:`WorldEditor` parses the negative caption back into a scene and renders it exactly,
keeping the original's layout jitter and noise, so the two images differ only in the planted
concept. :class:`DiffusionEditor` is the analogue for real photographs (SDXL-turbo img2img
through ``diffusers``, as in the paper) -- optional (``pip install slipform[edit]``); its
tests use a tiny random pipeline, since no real diffusion weights load offline here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from PIL import Image

from .caption import ParseError, parse
from .render import render
from .scene import INVERSE, Scene, WorldConfig


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
        return replace(_orient(parsed, scene), seed=scene.seed)

    def edit_scene(self, scene: Scene, negative: str) -> Image.Image | None:
        neg = self.negative_scene(scene, negative)
        return render(neg, self.config) if neg is not None else None

    def edit(self, image: Image.Image, caption: str, negative: str, seed: int = 0) -> Image.Image | None:
        try:
            scene = replace(parse(caption), seed=seed)
        except ParseError:
            return None
        return self.edit_scene(scene, negative)


def _orient(negative: Scene, original: Scene) -> Scene:
    """The negative written in the original's order ("B right of A" or "A left of B"), so that each
    thing keeps its place and jitter in the layout and the images differ only in the change."""
    if negative.relation is None:
        return negative
    a, b, *rest = negative.things
    flipped = Scene((b, a, *rest), INVERSE[negative.relation], negative.seed)

    def agreement(s: Scene) -> float:
        fields = ("shape", "colour", "size", "texture")
        same = sum(getattr(s.things[k], f) == getattr(original.things[k], f) for k in (0, 1) for f in fields)
        return same + 0.5 * (s.relation == original.relation)

    return flipped if agreement(flipped) > agreement(negative) else negative


class DiffusionEditor:
    """Image-to-image edits steered by the negative caption, as the paper does with SDXL-turbo.

    ``DiffusionEditor.from_pretrained()`` loads ``stabilityai/sdxl-turbo`` (a download; GPU
    advised); any ``diffusers`` image-to-image pipeline can be passed as ``pipe`` instead. The
    tests run it with a tiny randomly initialised Stable Diffusion pipeline, which checks the
    plumbing (sizes, seeding, the prompt), not the quality of real edits.
    """

    def __init__(self, pipe, strength: float = 0.5, steps: int = 2, size: int = 512, seed: int = 0):
        if steps * strength < 1:
            raise ValueError("img2img runs int(steps * strength) denoising steps: make steps * strength >= 1")
        self.pipe, self.strength, self.steps, self.size, self.seed = pipe, strength, steps, size, seed

    @classmethod
    def from_pretrained(cls, model: str = "stabilityai/sdxl-turbo", device: str = "cuda", **kwargs) -> DiffusionEditor:
        try:
            from diffusers import AutoPipelineForImage2Image
        except ImportError as exc:
            raise RuntimeError("the diffusion editor needs 'pip install slipform[edit]' (diffusers)") from exc
        import torch

        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        pipe = AutoPipelineForImage2Image.from_pretrained(model, torch_dtype=dtype).to(device)
        return cls(pipe, **kwargs)

    def edit(self, image: Image.Image, caption: str, negative: str) -> Image.Image | None:
        import torch

        generator = torch.Generator("cpu").manual_seed(self.seed)
        # turbo models are distilled for a few steps without classifier-free guidance
        out = self.pipe(prompt=negative, image=image.convert("RGB").resize((self.size, self.size)),
                        strength=self.strength, num_inference_steps=self.steps, guidance_scale=0.0,
                        generator=generator)
        return out.images[0].resize(image.size)
