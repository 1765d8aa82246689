"""Captions of world scenes, and the parser that reads a scene back from one.

Captions vary their phrasing (relation said either way round, "there is", "is", "with") and
mix in abstract fillers with no visual correlate -- words from the bottom of the
concreteness norms ("honest", "seemingly", "in theory") -- drawn independently of the image,
as abstract words are in real captions. The parser ignores fillers and recovers the scene,
so ``parse(caption(scene))`` equals the scene; a caption that does not describe a world
scene (an unknown word where a colour or shape belongs) raises :class:`ParseError`.

:func:`listing` writes the other style: the things without their relation, as web alt-text
does (the pretraining captions of the experiment).
"""

from __future__ import annotations

import random
import re

from ..text.inflect import article_for
from .scene import COLOURS, INVERSE, RELATIONS, SHAPES, SIZES, TEXTURES, Scene, Thing

# Abstract fillers (Brysbaert ratings <= 2.2, checked by the tests against the norms).
FILLER_ADJECTIVES = ("honest", "ideal", "typical", "genuine", "notable", "probable", "eventual", "virtual")
FILLER_ADVERBS = ("seemingly", "arguably", "presumably", "supposedly", "apparently", "evidently", "perhaps")
FILLER_PHRASES = ("in theory", "in principle", "in essence", "in fairness", "for some reason")
RELATION_WORDS = {"left of": "to the left of", "right of": "to the right of", "above": "above", "below": "below"}
_RELATION_PATTERNS = {"to the left of": "left of", "left of": "left of", "to the right of": "right of",
                      "right of": "right of", "above": "above", "over": "above", "below": "below",
                      "under": "below", "beneath": "below"}
TEMPLATES = ("{a} {rel} {b}", "there is {a} {rel} {b}", "{a} is {rel} {b}", "{a} sits {rel} {b}")


class ParseError(ValueError):
    pass


def describe(thing: Thing, rng: random.Random, filler: bool = False) -> str:
    words = [thing.size, thing.colour] + ([thing.texture] if thing.texture != "plain" else []) + [thing.shape]
    if filler:
        words.insert(0, rng.choice(FILLER_ADJECTIVES))
    return f"{article_for(words[0])} {' '.join(words)}"


def caption(scene: Scene, seed: int = 0, filler_rate: float = 0.5) -> str:
    """One caption of ``scene``; ``seed`` picks phrasing and fillers."""
    rng = random.Random(f"caption:{scene.seed}:{seed}")
    a, *rest = scene.things
    if scene.relation is None:
        text = rng.choice(("{a}", "there is {a}", "a picture of {a}")).format(a=describe(a, rng, rng.random() < filler_rate))
    else:
        b = rest[0]
        rel = scene.relation
        if rng.random() < 0.5:  # say it the other way round
            a, b, rel = b, a, INVERSE[rel]
        text = rng.choice(TEMPLATES).format(a=describe(a, rng, rng.random() < filler_rate), rel=RELATION_WORDS[rel],
                                            b=describe(b, rng, rng.random() < filler_rate))
        for extra in rest[1:]:
            text += f" and {describe(extra, rng)}"
    if rng.random() < filler_rate:
        if rng.random() < 0.5:
            text = f"{rng.choice(FILLER_ADVERBS)}, {text}"
        else:
            text = f"{text}, {rng.choice(FILLER_PHRASES)}"
    return text[0].upper() + text[1:] + "."


def listing(scene: Scene, seed: int = 0, filler_rate: float = 0.5) -> str:
    """An alt-text-like caption of ``scene``: its things in random order, joined by "and", with
    no relation ("A small red circle and a large blue square."). Web captions, on which CLIP
    models are pretrained, rarely say where things are; this is the world's analogue."""
    rng = random.Random(f"listing:{scene.seed}:{seed}")
    things = list(scene.things)
    rng.shuffle(things)
    text = " and ".join(describe(t, rng, rng.random() < filler_rate) for t in things)
    if rng.random() < filler_rate:
        text = f"{rng.choice(FILLER_ADVERBS)}, {text}"
    return text[0].upper() + text[1:] + "."


STYLES = {"relation": caption, "list": listing}

_WORD = re.compile(r"[a-z]+")
_THING = re.compile(rf"(?:({'|'.join(SIZES)}) )?({'|'.join(COLOURS)}) (?:({'|'.join(TEXTURES)}) )?(\w+)")


def parse(text: str) -> Scene:
    """The scene a caption describes (fillers ignored), or :class:`ParseError`."""
    low = " ".join(_WORD.findall(text.lower()))
    mentions = [(m.start(), m.end(), m.groups()) for m in _THING.finditer(low)]
    if not mentions:
        raise ParseError(f"no thing described in {text!r}")
    things = []
    for _, _, (size, colour, texture, shape) in mentions:
        if shape not in SHAPES:
            raise ParseError(f"{shape!r} is not a shape of this world (in {text!r})")
        things.append(Thing(shape, colour, size or "large", texture or "plain"))
    if len(things) == 1:
        return Scene((things[0],), None)
    between = low[mentions[0][1]:mentions[1][0]]
    found = [rel for pattern, rel in sorted(_RELATION_PATTERNS.items(), key=lambda kv: -len(kv[0]))
             if re.search(rf"\b{pattern}\b", between)]
    if not found:
        raise ParseError(f"no relation between the first two things in {text!r}")
    rel = found[0]
    if rel not in RELATIONS:
        raise ParseError(f"unknown relation in {text!r}")
    return Scene(tuple(things), rel).canonical()


def verify_negative(original: str, negative: str) -> str | None:
    """Why ``negative`` is no negative of ``original`` in this world, or None: it must parse as a
    world caption and describe another scene (the planting verifier ``world``)."""
    try:
        scene = parse(original)
    except ParseError:
        return "caption does not parse as a world caption"
    try:
        other = parse(negative)
    except ParseError:
        return "negative does not parse as a world caption"
    if scene.same_as(other):
        return "negative describes the same scene"
    return None
