"""Drawing a scene: anti-aliased shapes on a lightly noisy background, reproducibly.

Shapes are drawn at 4x resolution and downsampled (anti-aliasing); positions follow the
relation (for "left of", the first thing's centre lies left of the second's by at least a
third of the canvas) with jitter from the scene's seed; background noise comes from the
same seed. The same scene always gives the same pixels.
"""

from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageDraw

from .scene import Scene, Thing, WorldConfig

RGB = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (235, 215, 40),
       "purple": (140, 60, 180), "orange": (240, 140, 30), "white": (250, 250, 250), "black": (20, 20, 20)}
BACKGROUND = (128, 128, 128)
SUPERSAMPLE = 4


def _polygon(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if shape == "square":
        return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    if shape == "triangle":
        return [(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)]
    if shape == "diamond":
        return [(cx, cy - r), (cx + r * 0.75, cy), (cx, cy + r), (cx - r * 0.75, cy)]
    if shape == "star":
        pts = []
        for k in range(10):
            rad = r if k % 2 == 0 else r * 0.45
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
        return pts
    if shape == "cross":
        w = r * 0.35
        return [(cx - w, cy - r), (cx + w, cy - r), (cx + w, cy - w), (cx + r, cy - w), (cx + r, cy + w),
                (cx + w, cy + w), (cx + w, cy + r), (cx - w, cy + r), (cx - w, cy + w), (cx - r, cy + w),
                (cx - r, cy - w), (cx - w, cy - w)]
    if shape == "heart":
        pts = []
        for k in range(40):
            t = 2 * math.pi * k / 40
            x = 16 * math.sin(t) ** 3
            y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
            pts.append((cx + x * r / 17, cy - y * r / 17))
        return pts
    raise ValueError(f"no polygon for {shape!r}")


def _draw(draw: ImageDraw.ImageDraw, thing: Thing, cx: float, cy: float, r: float) -> None:
    colour = RGB[thing.colour]
    if thing.shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    else:
        draw.polygon(_polygon(thing.shape, cx, cy, r), fill=colour)
    if thing.texture != "plain":
        line = (0, 0, 0) if thing.colour != "black" else (255, 255, 255)
        step = max(2, int(r / 2.5))
        if thing.texture == "striped":
            for x in range(int(cx - r), int(cx + r), step * 2):
                draw.line((x, cy - r * 0.6, x, cy + r * 0.6), fill=line, width=max(1, step // 2))
        else:
            for x in range(int(cx - r / 2), int(cx + r / 2) + 1, step * 2):
                for y in range(int(cy - r / 2), int(cy + r / 2) + 1, step * 2):
                    draw.ellipse((x - 1.5 * SUPERSAMPLE, y - 1.5 * SUPERSAMPLE, x + 1.5 * SUPERSAMPLE,
                                  y + 1.5 * SUPERSAMPLE), fill=line)


def layout(scene: Scene, config: WorldConfig = WorldConfig()) -> list[tuple[float, float, float]]:
    """(centre x, centre y, radius) per thing, in canvas pixels."""
    rng = random.Random(f"layout:{scene.seed}")
    s = config.canvas
    radius = {"small": s * 0.09, "large": s * 0.16}
    out = []
    a_pos, b_pos = (0.27, 0.5), (0.73, 0.5)  # "left of"
    rel = scene.relation
    if rel == "right of":
        a_pos, b_pos = b_pos, a_pos
    elif rel in ("above", "below"):
        a_pos, b_pos = (0.5, 0.27), (0.5, 0.73)
        if rel == "below":
            a_pos, b_pos = b_pos, a_pos
    slots = [a_pos, b_pos] if rel else [(0.5, 0.5)]
    if len(scene.things) == 3:  # the third stands in a corner, away from the pair
        slots.append((0.84, 0.84) if rel in ("left of", "right of") else (0.84, 0.16))
    for thing, (fx, fy) in zip(scene.things, slots):
        j = s * 0.05
        out.append((fx * s + rng.uniform(-j, j), fy * s + rng.uniform(-j, j), radius[thing.size]))
    return out


def render(scene: Scene, config: WorldConfig = WorldConfig()) -> Image.Image:
    s = config.canvas
    big = Image.new("RGB", (s * SUPERSAMPLE, s * SUPERSAMPLE), BACKGROUND)
    draw = ImageDraw.Draw(big)
    for thing, (cx, cy, r) in zip(scene.things, layout(scene, config)):
        _draw(draw, thing, cx * SUPERSAMPLE, cy * SUPERSAMPLE, r * SUPERSAMPLE)
    small = np.asarray(big.resize((s, s), Image.LANCZOS), dtype=np.float32)
    noise = np.random.default_rng(scene.seed % 2**32).normal(0, config.noise, small.shape[:2])[..., None]
    return Image.fromarray(np.clip(small + noise, 0, 255).astype(np.uint8))
