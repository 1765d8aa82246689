"""The offline rewriter: replace the target with a related word that makes the caption false.

A good hard negative is *related but not the same*: "some chicken" -> "some beef", not
-> "some hen" (nearly a synonym, still true) and not -> "some sky" (too easy). Objects
and unlisted attributes and verbs draw from a vocabulary of the same role, keep the words
whose MiniLM cosine to the target falls in a band (default 0.30-0.75: below it the word is
unrelated, above it a synonym or hypernym: bike/bicycle 0.92, dog/animal 0.82), and
prefer those whose concreteness is closest to the target's. Attributes stay in their
family (colour <-> colour, number <-> number); relations take a contrasting relation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

from ...lexicon import Lexicon
from ...text.inflect import all_verb_forms, pluralize, verb_form
from ..core.anchor import Candidate
from ..core.edit import Edit, same_stem
from ..knowledge.context import shipped_context
from ..knowledge.embed import WordVectors
from ..knowledge.kinds import KIND_OF, KINDS, PERSON_CONTRASTS, same_kind
from ..knowledge.plausibility import slot_features
from ..knowledge.relations import adjective_slots, noun_slots, shipped_relations, verb_slots
from ..knowledge.tables import (
    ATTRIBUTE_FAMILIES,
    ATTRIBUTE_OPPOSITES,
    DIGITS,
    GENERIC_NOUNS,
    NOUN_SYNONYMS,
    PREPOSITION_CONTRASTS,
    RELATION_CONTRASTS,
    VERB_CONTRASTS,
)
from ..knowledge.vocabulary import Vocabulary
from .guards import (
    PLURAL_ONLY,
    abstract_object,
    animate_only,
    before_its_head,
    clothing_options,
    colour_options,
    countable_options,
    fixture_in_bathroom,
    gendered_pronoun,
    holds_stated_contents,
    in_compound,
    in_room_inventory,
    person_options,
    repeated,
    repeats_a_part,
    scale_options,
    verb_options,
    verb_unchangeable,
)

_FAMILY_OF = {w: name for name, members in ATTRIBUTE_FAMILIES.items() for w in members}
_NOUN_SYNONYMS_OF = {w: group for group in NOUN_SYNONYMS for w in group}
_SYNONYM_SETS = ({"gray", "grey", "silver"}, {"big", "large", "huge", "giant"}, {"small", "little", "tiny"},
                 {"several", "many"}, {"old", "ancient", "antique", "elderly"},
                 {"tan", "brown", "beige"}, {"golden", "yellow"})
_VERB_BASE = {form: base for base in VERB_CONTRASTS for form in all_verb_forms(base)}
_NUMBER_WORDS = ATTRIBUTE_FAMILIES["number"][:9]  # two..ten
_PLURAL_TAGS = ("NNS", "NNPS")
MAGNITUDES = frozenset({"small", "large", "big", "little", "tiny", "huge", "giant"})  # size, not tall/long
MAX_CONCRETENESS_GAP = 1.5  # replacements rated within this many points of the target
_OLD_SHORTLIST, _OLD_POOL = 15, 5  # without plausibility: the 15 most similar, 5 closest in concreteness


@lru_cache(maxsize=1 << 16)
def _looks_alike(a: str, b: str) -> bool:
    """Near-spellings (dessert/desert) that MiniLM's subwords rate as related."""
    if 2 * min(len(a), len(b)) < 0.8 * (len(a) + len(b)):  # the ratio's bound from the lengths alone
        return False
    return SequenceMatcher(None, a, b).ratio() >= 0.8


def _letter_counts(word: str) -> np.ndarray:
    counts = np.zeros(27, dtype=np.int16)
    for ch in word:
        counts[ord(ch) - 97 if "a" <= ch <= "z" else 26] += 1
    return counts


def _maybe_alike(letters: np.ndarray, lengths: np.ndarray, word: str) -> np.ndarray:
    """Which rows could be near-spellings of ``word``: difflib's ratio is at most twice the shared
    letters over the summed lengths, so rows below 0.8 by that bound need no difflib call."""
    shared = np.minimum(letters, _letter_counts(word)).sum(axis=1)
    return 2 * shared >= 0.8 * (lengths + len(word))


def _synonyms(word: str) -> set[str]:
    for group in _SYNONYM_SETS:
        if word in group:
            return group
    return {word}


@dataclass(frozen=True)
class Rewrite:
    edits: tuple[Edit, ...]
    replacement: str
    target_key: str
    replacement_key: str
    plausibility: float | None = None


class LexicalRewriter:
    """Rewrite one target of a parsed caption; ``None`` when no good replacement exists.

    Every role first narrows the replacements by its own rules (similarity band and
    concreteness for objects, the family for attributes, the contrast table for relations),
    then ranks what is left by plausibility in the target's slot and draws one of the
    ``pool`` most plausible.
    """

    def __init__(self, lexicon: Lexicon, vocabulary: Vocabulary, vectors: WordVectors,
                 band: tuple[float, float] = (0.30, 0.75), pool: int = 3, shortlist: int = 40,
                 fallback: bool = True, min_plausibility: float | None = None, plausibility: bool = True,
                 same_kind: bool = True):
        """``fallback=False`` keeps every replacement inside the input's own vocabulary (a closed
        world such as :mod:`slipform.world`): objects from its nouns, family members from its
        adjectives. ``plausibility=False`` ignores the slot model when choosing (the ablation)."""
        self.lexicon, self.vectors, self.band = lexicon, vectors, band
        self.pool, self.shortlist = pool, shortlist
        self.min_plausibility, self.use_plausibility = min_plausibility, plausibility
        self.slots = vocabulary.slots
        self.same_kind = same_kind
        self._nouns_in_domain = None if fallback else set(vocabulary.nouns)
        # the shipped context prior speaks of photos; a closed world (fallback=False) has its own rules
        self._context = shipped_context() if fallback and same_kind else None
        # which things fill which grammatical slots: the shipped prior blended with the input's own
        self._relations = shipped_relations().blended(vocabulary.relations) if fallback and same_kind else None
        vocab = vocabulary.merged(fallback)
        self._in_domain = None if fallback else set(vocabulary.adjectives)
        vocab.nouns = [w for w in vocab.nouns if w not in GENERIC_NOUNS]
        table_words = {w for ws in RELATION_CONTRASTS.values() for w in ws} | set(RELATION_CONTRASTS)
        vectors.ensure([*vocab.nouns, *vocab.adjectives, *vocab.verbs, *table_words, *_FAMILY_OF, *KIND_OF,
                        *PERSON_CONTRASTS])
        self._by_role = {"n": vocab.nouns, "a": vocab.adjectives, "v": vocab.verbs}
        self._matrix = {k: vectors.matrix(ws) for k, ws in self._by_role.items()}
        self._conc = {k: np.array([self.lexicon.rating(w) or np.nan for w in ws]) for k, ws in self._by_role.items()}
        self._band_cache: dict[tuple, list[int]] = {}
        self._letters = {k: np.stack([_letter_counts(w) for w in ws]) if ws else np.zeros((0, 27), np.int16)
                         for k, ws in self._by_role.items()}
        self._lengths = {k: np.array([len(w) for w in ws]) for k, ws in self._by_role.items()}

    def _choose(self, options: list[str], features, rng: random.Random,
                unranked_pool: int | None = None) -> tuple[str, float] | None:
        """One of the ``pool`` most plausible ``options`` (given best-first by the role's own rule).

        Without plausibility (the ablation, and closed worlds where every combination is equally
        plausible by construction): one of the first ``unranked_pool`` options, all by default."""
        if not options:
            return None
        scores = self.slots.score_many(features, options)
        order = list(range(len(options)))
        if self.use_plausibility:
            order.sort(key=lambda i: -scores[i])  # stable: equal scores keep the role's order
        if self.min_plausibility is not None:
            order = [i for i in order if scores[i] >= self.min_plausibility]
        if not order:
            return None
        i = rng.choice(order[: self.pool if self.use_plausibility else unranked_pool])
        return options[i], round(scores[i], 3)

    def _kin(self, key: str, avoid: frozenset) -> list[str]:
        """Same-kind replacements of noun ``key`` (:mod:`slipform.plant.knowledge.kinds`), the most similar
        first by MiniLM; in a closed world only the input's own nouns."""
        kin = [w for w in same_kind(key) if w not in avoid and not set(w.split()) & avoid]
        if self._nouns_in_domain is not None:
            kin = [w for w in kin if w in self._nouns_in_domain]
        if len(kin) > 1:
            self.vectors.ensure([key, *kin])
            sims = self.vectors.matrix(kin) @ self.vectors.vector(key)
            kin = [kin[i] for i in np.argsort(-sims, kind="stable")]
        return kin

    # -- neighbours in the similarity band
    def _band(self, key: str, kind: str, concreteness: float | None) -> list[int]:
        """Indices of the words of ``kind`` that may replace ``key`` wherever it stands, the most
        similar first: inside the similarity band, within the concreteness gap, not a synonym, not
        the key's stem or a near-spelling of it. Cached per key (targets repeat across captions)."""
        cache_key = (key, kind, concreteness)
        hit = self._band_cache.get(cache_key)
        if hit is not None:
            return hit
        synonyms = _NOUN_SYNONYMS_OF.get(key, frozenset())
        words = self._by_role[kind]
        out: list[int] = []
        if words:
            sims = self._matrix[kind] @ self.vectors.vector(key)
            lo, hi = self.band
            parts = set(key.split())
            inside = np.flatnonzero((sims >= lo) & (sims <= hi))
            conc = self._conc[kind]
            if concreteness is not None and self.use_plausibility:
                gap = np.abs(conc[inside] - concreteness)
                inside = inside[~(gap > MAX_CONCRETENESS_GAP)]  # unrated words (NaN) stay
            inside = inside[np.argsort(-sims[inside], kind="stable")]
            alike = _maybe_alike(self._letters[kind][inside], self._lengths[kind][inside], key)
            limit = (self.shortlist if self.use_plausibility else _OLD_SHORTLIST) + 25
            for i, maybe in zip(inside, alike):
                word = words[i]
                if word in synonyms or parts & set(word.split()) or any(same_stem(word, p) for p in parts) \
                        or (maybe and _looks_alike(word, key)):
                    continue
                out.append(int(i))
                if len(out) == limit:  # enough for any caption's own exclusions
                    break
        if len(self._band_cache) > 50_000:
            self._band_cache.clear()
        self._band_cache[cache_key] = out
        return out

    def _neighbours(self, key: str, kind: str, concreteness: float | None,
                    avoid: frozenset = frozenset(), near: tuple[str, ...] = ()) -> list[str]:
        """Words of ``kind`` in the similarity band of ``key`` (:meth:`_band`), the most similar
        first, without ``avoid`` (the caption's words) or near-spellings of the words ``near`` the
        target ("wooden wood"); a concrete word is not replaced by an abstract one ("heart" ->
        "reason"): that negative would change what the caption claims, not what an image shows.
        """
        words, conc = self._by_role[kind], self._conc[kind]
        size = self.shortlist if self.use_plausibility else _OLD_SHORTLIST
        band = self._band(key, kind, concreteness)
        maybe = np.zeros(len(band), dtype=bool)
        for w in near:
            maybe |= _maybe_alike(self._letters[kind][band], self._lengths[kind][band], w)
        ranked = []
        for i, check in zip(band, maybe):
            word = words[i]
            if word in avoid or (check and any(_looks_alike(word, w) for w in near)):
                continue
            ranked.append(i)
            if len(ranked) == size:
                break
        if not self.use_plausibility and concreteness is not None:
            # the ablation (the ranking before plausibility): of the 15 most similar, those within the
            # concreteness gap, closest in concreteness first
            ranked = [i for i in ranked if np.isnan(conc[i]) or abs(conc[i] - concreteness) <= MAX_CONCRETENESS_GAP]
            ranked.sort(key=lambda i: 9.0 if np.isnan(conc[i]) else abs(conc[i] - concreteness))
        return [words[i] for i in ranked]

    def rewrite(self, doc, target: Candidate, rng: random.Random) -> Rewrite | None:
        if self.same_kind and target.role in ("O", "A") and in_compound(doc, target):
            return None  # "stainless steel stove" -> "stainless dog stove": the compound is one thing
        if self.same_kind and target.role == "O" and (repeated(doc, target) or before_its_head(doc, target)
                                                      or repeats_a_part(doc, target)):
            return None  # "a dog ... the dog": one mention changed makes two animals; "bathroom stall"
        if self.same_kind and target.role == "O" and (in_room_inventory(doc, target)
                                                      or holds_stated_contents(doc, target)
                                                      or fixture_in_bathroom(doc, target)):
            return None  # "a room with a couch and television" -> "laptop": likely there too; "a cup of pastries"
        if self.same_kind and target.lemma.lower() in PERSON_CONTRASTS and gendered_pronoun(doc):
            return None  # "a man ... behind him" -> "a woman ... behind him"
        # a word the caption already has would make a duplicate ("brick wall" -> "wall wall")
        avoid = frozenset(w for t in doc for w in (t.lower_, t.lemma_.lower()))
        features = slot_features(doc, target.start, target.end)
        if target.role == "O":
            near = tuple(doc[i].lower_ for i in (target.start - 1, target.end) if 0 <= i < len(doc))
            return self._object(doc, target, features, rng, avoid, near)
        if target.role == "A":
            return self._attribute(doc, target, features, rng, avoid)
        if self.same_kind and target.role == "R" and abstract_object(doc, target, self.lexicon):
            return None  # "in fairness" -> "behind fairness": no photo shows where fairness is
        return self._relation(doc, target, features, rng, avoid)

    def _object(self, doc, t: Candidate, features, rng, avoid, near) -> Rewrite | None:
        key = t.lemma if t.lemma.replace(" ", "").isalpha() else t.text.lower()
        if self.same_kind:
            options = scale_options(key, clothing_options(doc, countable_options(doc, t, self._kin(key, avoid))))
            if key in PERSON_CONTRASTS:  # "a young woman ... wearing a short skirt" never becomes "a young man"
                options = person_options(doc, options)
            if self._context is not None:  # "a man on skis in the snow" never becomes "... in the dirt"
                options = self._context.fitting(key, options, doc.text)
            if self._relations is not None:  # "flying a kite" never becomes "flying a volleyball"
                peers = KINDS.get(KIND_OF.get(key, ""))  # a person's contrasts: every word of the slot
                persons = [w for w in options if w in PERSON_CONTRASTS.get(key, ())]
                options = persons + self._relations.familiar([w for w in options if w not in persons], peers)
                options = self._relations.attested(noun_slots(doc[t.start:t.end].root), key, options, peers)
            chosen = self._choose(options, features, rng)
        else:
            chosen = self._choose(self._neighbours(key, "n", t.concreteness, avoid, near), features, rng, _OLD_POOL)
        if chosen is None:
            return None
        new, score = chosen
        surface = pluralize(new) if t.tag in _PLURAL_TAGS and new not in PLURAL_ONLY else new
        return Rewrite((Edit(t.start, t.end, surface),), surface, key, new, score)

    def _attribute(self, doc, t: Candidate, features, rng, avoid) -> Rewrite | None:
        low = t.text.lower()
        if t.pos == "NUM":
            return self._number(doc, t, rng)
        if low in ATTRIBUTE_OPPOSITES and (self._in_domain is None or ATTRIBUTE_OPPOSITES[low] in self._in_domain):
            new = ATTRIBUTE_OPPOSITES[low]  # the one clean contradiction: no draw, only the minimum
            score = round(self.slots.score(features, new), 3)
            ok = self.min_plausibility is None or score >= self.min_plausibility
            chosen = (new, score) if ok else None
        elif low in _FAMILY_OF:
            options = [w for w in ATTRIBUTE_FAMILIES[_FAMILY_OF[low]] if w not in _synonyms(low)]
            if self.same_kind:  # "a modern bathroom" never becomes "a young bathroom"
                options = [w for w in options if not animate_only(w, doc, t)]
                if _FAMILY_OF[low] == "colour":  # "a brown cat" never becomes "a blue cat"
                    options = colour_options(doc, t, options)
                elif low in MAGNITUDES:  # "a giant rock" is no "long rock": another dimension
                    options = [w for w in options if w in MAGNITUDES]
            if self._relations is not None and doc[t.start].dep_ == "amod":  # "a wooden fence" -> no "glass fence"
                options = self._relations.attested(adjective_slots(doc[t.start]), low, options,
                                                   ATTRIBUTE_FAMILIES[_FAMILY_OF[low]])
            if self.use_plausibility:  # "a red and white bus" never becomes "a white and white bus"
                options = [w for w in options if w not in avoid]
            if self._in_domain is not None:
                options = [w for w in options if w in self._in_domain]
            chosen = self._choose(options, features, rng)
        elif self.same_kind:
            return None  # an adjective of no known family: no replacement is known to be of its kind
        else:
            chosen = self._choose(self._neighbours(t.lemma, "a", t.concreteness, avoid), features, rng, _OLD_POOL)
        if chosen is None:
            return None
        new, score = chosen
        return Rewrite((Edit(t.start, t.end, new),), new, low, new, score)

    def _number(self, doc, t: Candidate, rng) -> Rewrite | None:
        low = t.text.lower()
        edits = []
        if low in DIGITS:
            n = DIGITS[low]
            choices = [m for m in range(max(2, n - 2), n + 4) if m != n] if n > 1 else [2, 3]
            new = str(rng.choice(choices))
        elif low in _NUMBER_WORDS:
            new = rng.choice([w for w in _NUMBER_WORDS if w != low])
        elif low == "one":
            new = rng.choice(_NUMBER_WORDS[:3])
        else:
            return None
        if low in ("one", "1"):  # the counted noun becomes plural: "one dog" -> "two dogs"
            head = doc[t.start].head
            if head.i > t.start and head.tag_ == "NN":
                edits.append(Edit(head.i, head.i + 1, pluralize(head.text)))
        return Rewrite((Edit(t.start, t.end, new), *edits), new, low, new)

    def _relation(self, doc, t: Candidate, features, rng, avoid) -> Rewrite | None:
        low = t.text.lower()
        if t.pos == "VERB":
            base = _VERB_BASE.get(low, t.lemma)
            if self.same_kind and verb_unchangeable(doc, t, base):
                return None  # "a plate sits on a table" -> "lies": as true; "sits perched" -> "lies perched"
            if base in VERB_CONTRASTS and not self.use_plausibility:
                chosen = self._choose(list(VERB_CONTRASTS[base]), features, rng)
            elif base in VERB_CONTRASTS and self.same_kind:
                # only the table's contrasts: a related verb of the input is often one the subject
                # could be doing as well ("sitting" -> "flushing"), or one it cannot do
                options = [w for w in VERB_CONTRASTS[base] if w not in avoid]
                options = verb_options(doc, t, options)
                if self._relations is not None:  # "brushing his teeth" never becomes "combing his teeth"
                    options = self._relations.attested(verb_slots(doc[t.start:t.end].root), base, options)
                chosen = self._choose(options, features, rng)
            elif base in VERB_CONTRASTS:
                # the table's contrasts are safe but few ("holding" -> throw, drop, kick): related
                # verbs of the input join them, and the slot decides ("holding a phone" -> "using")
                table = [w for w in VERB_CONTRASTS[base] if w not in avoid]
                related = [w for w in self._neighbours(base, "v", t.concreteness, avoid) if w not in table]
                chosen = self._choose(table + related, features, rng)
            elif self.same_kind:
                return None
            else:
                chosen = self._choose(self._neighbours(base, "v", t.concreteness, avoid), features, rng, _OLD_POOL)
            if chosen is None:
                return None
            new, score = chosen
            surface = verb_form(new, t.tag) if t.tag.startswith("VB") else new
            return Rewrite((Edit(t.start, t.end, surface),), surface, base, new, score)
        if low not in PREPOSITION_CONTRASTS or (self.same_kind and doc[t.start].dep_ == "prt"):
            return None  # "holding up food" -> "holding down food": a particle, not a place
        chosen = self._choose(list(PREPOSITION_CONTRASTS[low]), features, rng)
        if chosen is None:
            return None
        new, score = chosen
        return Rewrite((Edit(t.start, t.end, new),), new, low, new, score)
