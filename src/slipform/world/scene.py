"""Scenes of the Concrete Jungle world: a few coloured shapes in a spatial relation.

A :class:`Scene` is the ground truth every other part of the world derives from: the image
(:mod:`.render`), the captions (:mod:`.caption`) and, through the caption parser, the
negative image of a planted negative caption (:mod:`.editor`). Scenes are sampled from a
seed, so a scene, its image and its captions are reproducible.

Two scenes are equal when they show the same thing: "A left of B" and "B right of A" are
one scene, which :meth:`Scene.canonical` writes one way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

SHAPES = ("circle", "square", "triangle", "star", "heart", "cross", "diamond")
COLOURS = ("red", "green", "blue", "yellow", "purple", "orange", "white", "black")
SIZES = ("small", "large")
TEXTURES = ("plain", "striped", "dotted")
RELATIONS = ("left of", "right of", "above", "below")
COMPOSITIONAL_SPLITS = ("compositional", "val_compositional")
INVERSE = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}


@dataclass(frozen=True)
class Thing:
    shape: str
    colour: str
    size: str = "large"
    texture: str = "plain"

    def __post_init__(self):
        for value, allowed in ((self.shape, SHAPES), (self.colour, COLOURS), (self.size, SIZES),
                               (self.texture, TEXTURES)):
            if value not in allowed:
                raise ValueError(f"{value!r} is not one of {allowed}")


@dataclass(frozen=True)
class Scene:
    """``things[0]`` stands in ``relation`` to ``things[1]``; further things stand apart."""

    things: tuple[Thing, ...]
    relation: str | None = None
    seed: int = field(default=0, compare=False)  # layout jitter; not part of what the scene shows

    def __post_init__(self):
        if not 1 <= len(self.things) <= 3:
            raise ValueError("a scene holds 1 to 3 things")
        if (self.relation is None) != (len(self.things) == 1):
            raise ValueError("scenes with two or more things have a relation between the first two; one thing has none")
        if self.relation is not None and self.relation not in RELATIONS:
            raise ValueError(f"unknown relation {self.relation!r}")

    def canonical(self) -> Scene:
        """The same scene with the relation written as "left of" or "above"."""
        if self.relation in ("right of", "below"):
            a, b, *rest = self.things
            return replace(self, things=(b, a, *rest), relation=INVERSE[self.relation])
        return self

    def same_as(self, other: Scene) -> bool:
        a, b = self.canonical(), other.canonical()
        return a.relation == b.relation and a.things[:2] == b.things[:2] and sorted(
            map(repr, a.things[2:])) == sorted(map(repr, b.things[2:]))


@dataclass(frozen=True)
class WorldConfig:
    """The world's parameters, chosen once and used for every method (see docs/RESULTS.md)."""

    n_things: int = 2
    canvas: int = 64
    textures: bool = False
    noise: float = 6.0  # std of the background's pixel noise
    held_out: tuple[tuple[str, str], ...] = (("red", "circle"), ("blue", "square"), ("green", "triangle"),
                                             ("yellow", "star"), ("purple", "heart"), ("orange", "cross"))

    def __post_init__(self):
        if not 1 <= self.n_things <= 3:
            raise ValueError("n_things must be 1, 2 or 3")


def sample_thing(rng: random.Random, config: WorldConfig, exclude: set | None = None) -> Thing:
    while True:
        t = Thing(rng.choice(SHAPES), rng.choice(COLOURS), rng.choice(SIZES),
                  rng.choice(TEXTURES) if config.textures else "plain")
        if not exclude or (t.colour, t.shape) not in exclude:
            return t


def sample_scene(seed: int, config: WorldConfig = WorldConfig(), split: str = "train") -> Scene:
    """A scene from ``seed``. ``train``/``val``/``test`` never show a held-out colour-shape
    combination; ``compositional`` and ``val_compositional`` always show one (as their first
    thing)."""
    rng = random.Random(f"scene:{seed}:{split}")
    held = set(config.held_out)
    things = [sample_thing(rng, config, held) for _ in range(config.n_things)]
    if split in COMPOSITIONAL_SPLITS:
        colour, shape = rng.choice(sorted(held))
        things[0] = replace(things[0], colour=colour, shape=shape)
    relation = rng.choice(RELATIONS) if config.n_things > 1 else None
    return Scene(tuple(things), relation, seed)


# ``val`` and ``val_compositional`` are the validation splits: no reported test benchmark reads them
# (docs/RESULTS.md section 5 chooses Slipform's defaults on them)
SPLIT_OFFSETS = {"train": 0, "val": 10_000_000, "test": 20_000_000, "compositional": 30_000_000,
                 "val_compositional": 40_000_000}


def split_scenes(split: str, n: int, config: WorldConfig = WorldConfig()) -> list[Scene]:
    """``n`` scenes of a split; the splits draw from disjoint seed ranges."""
    if split not in SPLIT_OFFSETS:
        raise ValueError(f"unknown split {split!r}; choose from {tuple(SPLIT_OFFSETS)}")
    return [sample_scene(SPLIT_OFFSETS[split] + i, config, split) for i in range(n)]
