"""Targets the lexical rewriter leaves alone, read off the caption's parse.

Each guard names a way a one-word change makes a caption that is no good negative, whatever the
replacement: the word is one part of a name for one thing, it is mentioned twice, the change is
one no photo could show, or the new words would no longer fit their neighbours. The rewriter asks
them before it chooses a replacement (with ``same_kind``, the default); ConcretePlant then tries
the caption's next target.
"""

from __future__ import annotations

from .anchor import Candidate
from .kinds import KIND_OF, base

ABSTRACT_OBJECT = 3.0  # Brysbaert: "theory" 1.47, "fairness" 1.83, "front" 3.77, "table" 4.9
ANIMATE_KINDS = frozenset({"pet", "livestock", "wild animal", "bird"})
PEOPLE = frozenset({"person", "people", "man", "woman", "men", "women", "boy", "girl", "child", "children", "kid",
                    "lady", "guy", "baby", "player", "skier", "surfer", "skateboarder", "snowboarder", "rider",
                    "adult", "student", "worker", "chef", "cook", "officer", "tourist", "crowd", "family", "team",
                    "he", "she", "they", "someone", "somebody", "who"})
GROUPS = frozenset({"group", "couple", "pair", "herd", "flock", "bunch", "line", "row", "pack", "number"})
# verbs whose contrasts (sit/stand/lie/walk ...) only an animate subject can tell apart
POSTURE_VERBS = frozenset({"sit", "stand", "lie", "lay", "walk", "run", "rest", "lean", "pose", "wait", "hang"})
ANIMATE_ADJECTIVES = frozenset({"young", "elderly"})  # "a young bathroom"
GENDERED = frozenset({"he", "him", "his", "himself", "she", "her", "hers", "herself"})
# nouns a caption uses without an article in the singular ("eating pizza and salad") and never pluralises
MASS_NOUNS = frozenset({"bread", "rice", "pasta", "soup", "salad", "beef", "pork", "ham", "bacon", "steak", "milk",
                        "coffee", "tea", "wine", "beer", "juice", "soda", "lemonade", "sand", "snow", "grass", "dirt",
                        "mud", "gravel", "ice", "broccoli", "lettuce", "spinach", "corn", "celery", "asparagus",
                        "cereal", "toast", "cabbage", "cauliflower", "stew", "curry", "sushi", "fries", "noodle"})
# verbs that take no object: never the replacement of a verb that has one ("riding a skateboard" -> "walking")
INTRANSITIVE = frozenset({"walk", "run", "sit", "stand", "lie", "fall", "land", "swim", "float", "dive", "frown",
                          "cry", "smile", "sleep", "wait", "rest", "pose", "listen", "wave", "descend", "sled",
                          "paddle", "exit"})
# verbs that need an object: never the replacement of a verb without one ("jets flying" -> "holding")
TRANSITIVE = frozenset({"hold", "throw", "carry", "push", "pull", "drop", "kick", "catch", "miss", "grab", "serve",
                        "cut", "use", "drag", "tow", "chase", "feed", "pet", "follow", "lead", "ignore", "block",
                        "wash", "brush", "comb", "remove", "lick", "bite", "hug", "empty", "uncover", "cook"})


def in_compound(doc, target: Candidate) -> bool:
    """Whether the target is part of a noun compound it does not span ("steel" in "stainless steel
    stove", "fire" in "fire truck") or a noun modifying a participle ("horse" in "horse drawn
    cart"): replacing one part names another thing."""
    span = doc[target.start:target.end]
    root = span.root
    if root.dep_ in ("compound", "npadvmod") and not target.start <= root.head.i < target.end:
        return True
    return any(c.dep_ == "compound" and not target.start <= c.i < target.end for c in root.children)


def before_its_head(doc, target: Candidate) -> bool:
    """A noun right before the noun it modifies, however the parser labels it ("bathroom stall")."""
    root = doc[target.start:target.end].root
    return root.pos_ in ("NOUN", "PROPN") and root.head.i == target.end and root.head.pos_ == "NOUN"


def gendered_pronoun(doc) -> bool:
    """Whether the caption refers to a person by a gendered pronoun ("a man ... behind him"):
    changing the person's gender alone leaves the pronoun disagreeing."""
    return any(t.lower_ in GENDERED for t in doc)


def countable_options(doc, target: Candidate, options: list[str]) -> list[str]:
    """Replacements that keep the noun's grammar: no mass noun for a plural ("sausages" ->
    "breads"), only mass nouns for a bare singular ("eating pizza and salad" -> "noodle")."""
    root = doc[target.start:target.end].root
    if root.tag_ in ("NNS", "NNPS"):
        return [w for w in options if w not in MASS_NOUNS]
    bare = root.tag_ == "NN" and not any(c.dep_ in ("det", "nummod", "poss") for c in root.children)
    if bare and base(root.lemma_.lower()) in MASS_NOUNS:
        return [w for w in options if w in MASS_NOUNS]
    return options


def repeated(doc, target: Candidate) -> bool:
    """Whether the target's noun is mentioned again and one mention refers to the other ("a dog ...
    the dog watching it"): changing one mention makes two animals of one. Two indefinite
    mentions are two things ("a red square above a blue square") and may change apart."""
    key = base(target.lemma)
    mentions = [t for t in doc if t.pos_ in ("NOUN", "PROPN") and base(t.lemma_.lower()) == key]
    if len(mentions) < 2:
        return False
    return any(c.dep_ in ("det", "poss") and c.lower_ in _DEFINITE for t in mentions for c in t.children)


_DEFINITE = frozenset({"the", "this", "that", "these", "those", "its", "his", "her", "their", "my", "our", "your"})


def abstract_object(doc, target: Candidate, lexicon) -> bool:
    """Whether a preposition's object is an abstract noun ("in fairness", "in theory"): no photo
    shows where fairness is."""
    if target.pos == "VERB":
        return False
    for child in doc[target.end - 1].children:
        if child.dep_ == "pobj":
            rating = lexicon.rating(child.lemma_.lower()) or lexicon.rating(child.lower_)
            return rating is not None and rating < ABSTRACT_OBJECT
    return False


def subject(doc, target: Candidate):
    """The token a verb's subject is: its ``nsubj``, or the noun a participle modifies."""
    verb = doc[target.start:target.end].root
    for child in verb.children:
        if child.dep_ in ("nsubj", "nsubjpass"):
            return child
    if verb.dep_ in ("acl", "relcl") and verb.head.pos_ in ("NOUN", "PROPN"):
        return verb.head
    return None


def _kind(token) -> str | None:
    """The kind of thing a token names (:data:`slipform.plant.kinds.KIND_OF`), or None."""
    return None if token is None else KIND_OF.get(base(token.lemma_.lower()))


def inanimate(token) -> bool:
    """A noun of a known kind that is no animal (a plate, a bus, a teddy bear); people and words
    outside the table are not known to be inanimate."""
    kind = _kind(token)
    return kind is not None and kind not in ANIMATE_KINDS


def animate(token) -> bool:
    """A person or an animal: a person word, an animal kind, or a group of them ("a group of kids")."""
    if token is None:
        return False
    low = token.lemma_.lower()
    if low in PEOPLE or token.lower_ in PEOPLE or _kind(token) in ANIMATE_KINDS:
        return True
    if low in GROUPS:
        for prep in token.children:
            if prep.lower_ == "of":
                return any(animate(o) for o in prep.children if o.dep_ == "pobj")
    return False


# what only hands do: never the verb of an animal ("two zebras eat hay" -> "hold hay")
HANDS = frozenset({"hold", "cook", "cut", "throw", "carry", "use", "serve", "prepare", "wash", "brush", "comb",
                   "drive", "push", "pull", "grab", "drop", "pour", "spill", "buy", "sell", "remove", "pet", "feed"})
# contrasts a place in the sentence rules out ("flying in the sky" -> "landing in the sky")
PLACE_CLASHES = {"land": frozenset({"sky", "air", "clouds", "cloud"})}


def verb_options(doc, target: Candidate, options: list[str]) -> list[str]:
    """Contrasts that fit the verb's subject and its places: no hands for an animal, no landing
    in the sky, no intransitive verb for a verb with an object and no transitive one without."""
    verb = doc[target.start:target.end].root
    has_object = any(c.dep_ == "dobj" for c in verb.children)
    options = [w for w in options if w not in (INTRANSITIVE if has_object else TRANSITIVE)]
    if _kind(subject(doc, target)) in ANIMATE_KINDS:
        options = [w for w in options if w not in HANDS]
    places = {t.lemma_.lower() for t in doc}  # the parse may hang "in the air" anywhere
    return [w for w in options if not PLACE_CLASHES.get(w, frozenset()) & places]


def verb_unchangeable(doc, target: Candidate, verb_base: str) -> bool:
    """A posture or motion verb of anything not known to be a person or an animal ("a plate sits on
    a table": it lies there as well), a verb with a complement that fits it only ("a bird sits
    perched" -> "lies perched"), or a participle used as an adjective ("a parked car" -> "a driven car")."""
    verb = doc[target.start:target.end].root
    if verb.dep_ == "amod" or any(c.dep_ in ("xcomp", "acomp", "oprd") for c in verb.children):
        return True
    return verb_base in POSTURE_VERBS and not animate(subject(doc, target))


def animate_only(word: str, doc, target: Candidate) -> bool:
    """Whether ``word`` ("young") describes a living thing and the target's noun is a thing."""
    return word in ANIMATE_ADJECTIVES and inanimate(doc[target.start:target.end].root.head)
