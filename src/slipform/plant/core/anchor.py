"""Anchor selection: which word of a caption the negative will change.

A caption's *candidates* are its content words (NOUN, PROPN, ADJ, NUM, ADP, VERB), with
two-word expressions the lexicon rates ("hot dog", "fire hydrant") merged into one
candidate. Each candidate carries its concreteness and its *route*: the role that decides
what kind of change it gets -- Object (NOUN, PROPN), Attribute (ADJ, NUM) or Relation
(ADP, VERB).

Two readings of the paper's routing (``PlantConfig(route=...)``):

- ``target``: the chosen word itself changes, and its part of speech routes it (a noun is
  replaced, an adjective changes within its family, a preposition or verb takes a contrast);
- ``anchor`` (the default): concreteness chooses the *anchor*, a thing the caption names, and the
  route decides what changes about it -- O replaces it, A changes its attribute or exchanges
  attributes with another thing, R changes its relation or exchanges it with the relation's other
  argument. :func:`anchor_routes` orders the (anchor, route) pairs a caption tries.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from ...lexicon import Lexicon
from ..knowledge.kinds import PERSON_CONTRASTS
from ..knowledge.tables import ATTRIBUTE_FAMILIES, MULTIWORD_RELATIONS

_COLOURS = frozenset(ATTRIBUTE_FAMILIES["colour"])
ROLE_OF_POS = {"NOUN": "O", "PROPN": "O", "ADJ": "A", "NUM": "A", "ADP": "R", "VERB": "R"}
ROLES = ("A", "R", "O")
STRATEGIES = ("concrete", "abstract", "random")
ROUTINGS = ("anchor", "target")
# the routes' weights with ``route="anchor"`` and no role weights: A and R first more often than O,
# whose replacements CLIP already tells apart (issue 28); the draw order is also the fallback order
ANCHOR_ROUTE_WEIGHTS = {"A": 3.0, "R": 1.0, "O": 2.0}


@dataclass(frozen=True)
class Candidate:
    """A content word or two-word expression; ``start``/``end`` are token indices."""

    start: int
    end: int
    text: str
    lemma: str
    pos: str
    tag: str
    role: str
    concreteness: float | None


_RELATION_PARTS = {}
for _phrase in sorted(MULTIWORD_RELATIONS, key=lambda p: -len(p.split())):  # the longest match first
    _RELATION_PARTS.setdefault(_phrase.split()[0], []).append(_phrase.split())


def _multiword_relation(lowers: list[str], i: int) -> str | None:
    for parts in _RELATION_PARTS.get(lowers[i], ()):
        if lowers[i:i + len(parts)] == parts:
            return " ".join(parts)
    return None


def _phrase_rating(phrase: str, lexicon: Lexicon) -> float | None:
    """A multi-word relation's own rating, else the mean of its rated words."""
    rating = lexicon.rating(phrase)
    if rating is None:
        rated = [r for r in map(lexicon.rating, phrase.split()) if r is not None]
        rating = round(sum(rated) / len(rated), 2) if rated else None
    return rating


@dataclass(frozen=True)
class Routed:
    """One try of ``route="anchor"``: change ``route`` (A, R or O) of the thing ``anchor``.

    ``cands`` are the caption's candidates, where the route finds the anchor's attribute or
    relation word; ``edit="swap"`` asks the route for an exchange only (the first pass),
    ``edit="target"`` for a change of the word ``anchor`` itself (a candidate that is no thing),
    ``edit="last"`` for the last resort (the rewriter's own checks only)."""

    anchor: Candidate
    route: str
    cands: tuple[Candidate, ...] = ()
    edit: str | None = None

    # what the planter and the summary read of a target, the anchor's
    @property
    def role(self) -> str:
        return self.route

    @property
    def text(self) -> str:
        return self.anchor.text

    @property
    def lemma(self) -> str:
        return self.anchor.lemma

    @property
    def concreteness(self) -> float | None:
        return self.anchor.concreteness


def route(role: str) -> dict[str, bool]:
    """The paper's routing flags: exactly one of A, R, O is set."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return {r: r == role for r in ROLES}


def candidates(doc, lexicon: Lexicon) -> list[Candidate]:
    """Content-word candidates of a parsed caption, rated bigrams merged."""
    out: list[Candidate] = []
    toks = list(doc)  # one pass over the Doc; indexing a Doc re-creates Token objects
    lowers = [t.lower_ for t in toks]
    pos = [t.pos_ for t in toks]
    i, n = 0, len(toks)
    while i < n:
        tok = toks[i]
        phrase = _multiword_relation(lowers, i)
        if phrase:
            j = i + len(phrase.split())
            out.append(Candidate(i, j, doc[i:j].text, phrase, "ADP", "IN", "R", _phrase_rating(phrase, lexicon)))
            i = j
            continue
        if i + 1 < n and pos[i + 1] in ROLE_OF_POS and (pos[i] in ROLE_OF_POS or pos[i] == "ADV"):
            nxt = toks[i + 1]
            # "hot dogs" is rated through its lemma form "hot dog"; the head is the 2nd word.
            surface = f"{tok.text} {nxt.text}"
            lemma = f"{lowers[i]} {nxt.lemma_.lower()}"
            rating = lexicon.lookup(surface, lemma)
            if rating is not None:
                out.append(Candidate(i, i + 2, surface, lemma, pos[i + 1], nxt.tag_, ROLE_OF_POS[pos[i + 1]], rating))
                i += 2
                continue
        role = ROLE_OF_POS.get(pos[i])
        if role == "O" and lowers[i] in _COLOURS and tok.dep_ in ("compound", "amod", "nmod") and tok.head.i > i:
            role = "A"  # a colour the tagger calls a noun but that modifies one ("orange square") is an attribute
        if role is not None and any(c.isalnum() for c in tok.text):
            out.append(Candidate(i, i + 1, tok.text, tok.lemma_.lower(), pos[i], tok.tag_, role,
                                 lexicon.lookup(tok.text, tok.lemma_)))
        i += 1
    return out


def caption_rng(seed: int, caption_id: str, salt: str = "") -> random.Random:
    """A generator fixed by the seed and the caption's id, identical in every process."""
    digest = hashlib.blake2b(f"{seed}\x1f{caption_id}\x1f{salt}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "little"))


def parse_role_weights(spec: str | dict | None) -> dict[str, float] | None:
    """``"O=1,A=1,R=1"`` -> ``{"O": 1.0, "A": 1.0, "R": 1.0}``."""
    if spec is None or spec == "":
        return None
    if isinstance(spec, dict):
        items = spec.items()
    else:
        items = []
        for part in spec.split(","):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"role weights look like 'O=1,A=1,R=1', got {spec!r}")
            items.append((key, value))
    weights = {}
    for key, value in items:
        key = str(key).strip().upper()
        if key not in ROLES:
            raise ValueError(f"unknown role {key!r} in role weights; roles are A, R, O")
        weight = float(value)
        if weight < 0:
            raise ValueError(f"role weight for {key} must be >= 0, got {weight}")
        weights[key] = weight
    if not any(weights.values()):
        raise ValueError("at least one role weight must be positive")
    return weights


def _ranked(pool: list[Candidate], strategy: str, k: int) -> list[Candidate]:
    if strategy == "random":
        return list(pool)
    rated = [c for c in pool if c.concreteness is not None]
    # Ties keep sentence order, so the ranking depends on the caption alone.
    rated.sort(key=lambda c: c.concreteness, reverse=(strategy == "concrete"))
    return rated[:k]


def select_targets(cands: list[Candidate], strategy: str, k: int, rng: random.Random,
                   role_weights: dict[str, float] | None = None) -> list[Candidate]:
    """Candidates in the order they should be tried as the target.

    The first entry is the target drawn at random from the top-k (``concrete``), the
    bottom-k (``abstract``) or all candidates (``random``); the rest are the remaining
    members of that pool in random order, as fallbacks when a rewrite fails. With role
    weights, a role is drawn first among those the caption offers.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {STRATEGIES}")
    if role_weights:
        order: list[Candidate] = []
        roles = [r for r in ROLES if role_weights.get(r, 0) > 0 and any(c.role == r for c in cands)]
        while roles:
            role = rng.choices(roles, weights=[role_weights[r] for r in roles])[0]
            roles.remove(role)
            pool = _ranked([c for c in cands if c.role == role], strategy, k)
            rng.shuffle(pool)
            order.extend(pool)
        return order
    pool = _ranked(cands, strategy, k)
    rng.shuffle(pool)
    return pool


def _draw_order(rng: random.Random, weights: dict[str, float]) -> list[str]:
    """The roles of positive weight in a random order, each drawn by its weight among those left."""
    roles = [r for r in ROLES if weights.get(r, 0) > 0]
    order = []
    while roles:
        role = rng.choices(roles, weights=[weights[r] for r in roles])[0]
        roles.remove(role)
        order.append(role)
    return order


def anchor_routes(cands: list[Candidate], strategy: str, k: int, rng: random.Random,
                  role_weights: dict[str, float] | None = None) -> list[Routed | Candidate]:
    """What a caption tries with ``route="anchor"``, in order.

    The anchors are the caption's things (nouns), its top-k by concreteness (with the ablations
    ``abstract`` and ``random``, the bottom-k or random words of any role, as targets are); each
    anchor tries its routes in an order drawn by the role weights (:data:`ANCHOR_ROUTE_WEIGHTS`
    by default) before the next anchor is tried. A first pass asks each anchor's A and R routes
    for an exchange only (attributes, arguments): where the caption offers a plausible swap, it is
    made, since swaps teach what replacements do not (issue 28). A person's O route comes last: one gender or age
    for the other is the one object change people-heavy captions offer, and it teaches little
    (README, "What gender and age negatives teach"). After the anchors, the caption's other top-k
    candidates (adjectives, verbs, prepositions) follow as targets of their own role
    (``edit="target"``), as with ``route="target"``; a caption without a rated thing has only those.
    Then the caption's other things, each with its routes ("a woman getting dessert from a food
    truck": the woman, when the top-k things have no edit). Last, the anchors' A and R routes and those candidates are tried once more with the rewriter's
    own checks only (``edit="last"``): coverage before balance.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {STRATEGIES}")
    weights = role_weights or ANCHOR_ROUTE_WEIGHTS
    things = [c for c in cands if c.role == "O"]
    if strategy != "concrete":
        # the ablations: the anchor is any word of the bottom-k (abstract) or of all (random), tried in
        # the drawn order; a thing with its routes, any other word changing itself
        pool = _ranked(cands, strategy, k)
        rng.shuffle(pool)
        shared, order = tuple(cands), []
        for c in pool:
            if c.role == "O":
                routes = _draw_order(rng, weights)
                order += [Routed(c, r, shared, "swap") for r in routes if r != "O"]
                order += [Routed(c, r, shared) for r in routes]
            elif weights.get(c.role, 0) > 0:
                order.append(Routed(c, c.role, shared, "target"))
        return order + [Routed(c, c.role, shared, "last") for c in pool if c.role != "O"]
    else:
        anchors = _ranked(things, strategy, k)
        rng.shuffle(anchors)
    shared = tuple(cands)
    drawn = []
    for anchor in anchors:
        routes = _draw_order(rng, weights)
        if anchor.lemma in PERSON_CONTRASTS and "O" in routes:
            routes.remove("O")
            routes.append("O")
        drawn.append((anchor, routes))
    # the exchange pass: the top-k anchors, then the caption's other things by the strategy's order
    more = [c for c in _ranked(things, strategy, len(things)) if c not in anchors]
    swaps = [r for r in _draw_order(rng, weights) if r != "O"]
    order: list[Routed | Candidate] = [Routed(a, r, shared, "swap") for a, routes in drawn for r in routes if r != "O"]
    order += [Routed(a, r, shared, "swap") for a in more for r in swaps]
    order += [Routed(a, r, shared) for a, routes in drawn for r in routes]
    rest = _ranked([c for c in cands if c.role != "O" and weights.get(c.role, 0) > 0], strategy, k)
    rng.shuffle(rest)
    order += [Routed(c, c.role, shared, "target") for c in rest]
    # the caption's other things, each with its routes, before any edit that the checks held back
    for a in more:
        routes = _draw_order(rng, weights)
        if a.lemma in PERSON_CONTRASTS and "O" in routes:
            routes.remove("O")
            routes.append("O")
        order += [Routed(a, r, shared) for r in routes]
    # the last resort: what the checks above held back for quality or balance, without them
    order += [Routed(a, r, shared, "last") for a, routes in drawn for r in routes
              if r != "O" or a.lemma in PERSON_CONTRASTS]
    order += [Routed(a, "O", shared, "last") for a in more if a.lemma in PERSON_CONTRASTS and weights.get("O", 0) > 0]
    return order + [Routed(c, c.role, shared, "last") for c in rest]
