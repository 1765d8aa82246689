"""Targets the lexical rewriter leaves alone, read off the caption's parse.

Each guard names a way a one-word change makes a caption that is no good negative, whatever the
replacement: the word is one part of a name for one thing, it is mentioned twice, the change is
one no photo could show, or the new words would no longer fit their neighbours. The rewriter asks
them before it chooses a replacement (with ``same_kind``, the default); ConcretePlant then tries
the caption's next target.
"""

from __future__ import annotations

from ..core.anchor import Candidate
from ..knowledge.kinds import KIND_OF, base

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


def _is(token, words: frozenset) -> bool:
    """Whether ``token`` is one of ``words`` in any case and number: the parser leaves a capitalised
    or upper-case plural as written ("BUNCHES", "Dresses" read as a name), so its lemma is no help."""
    forms = {token.lemma_.lower(), token.lower_}
    for low in tuple(forms):
        forms |= {low[: -len(cut)] + add for cut, add in (("ies", "y"), ("ves", "f"), ("es", ""), ("s", ""))
                  if low.endswith(cut)}
    return bool(forms & words)


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


# nouns with no singular ("a skis"): never the replacement of a singular
PLURAL_ONLY = frozenset({"skis", "chopsticks", "scissors", "jeans", "shorts", "pants", "trousers", "fries"})
# nouns whose plural is the singular ("a lot of sheep"): the caption may not say which it is
INVARIANT = frozenset({"sheep", "deer", "fish", "moose", "bison", "buffalo", "salmon", "shrimp"})
_IDIOM_PREPOSITIONS = frozenset({"in", "at", "by", "on", "to", "from", "into"})
_ONE = frozenset({"a", "an", "one", "this", "that", "each", "every", "another"})


def countable_options(doc, target: Candidate, options: list[str]) -> list[str]:
    """Replacements that keep the noun's grammar: no mass noun for a plural ("sausages" ->
    "breads"), only mass nouns for a bare singular ("eating pizza and salad" -> "noodle"), no
    plural-only noun for a singular ("a skateboard" -> "a skis"), nothing for a bare singular
    after a preposition ("in bed", "by train": the idiom belongs to the word) or for a noun whose
    number the caption leaves open ("a lot of sheep" -> "a lot of cow")."""
    root = doc[target.start:target.end].root
    key = base(root.lemma_.lower())
    dets = {c.lower_ for c in root.children if c.dep_ in ("det", "nummod")}
    if key in INVARIANT and not dets & _ONE:
        return []
    if root.tag_ in ("NNS", "NNPS"):
        return [w for w in options if w not in MASS_NOUNS]
    options = [w for w in options if w not in PLURAL_ONLY]
    bare = root.tag_ == "NN" and not any(c.dep_ in ("det", "nummod", "poss") for c in root.children)
    if bare and key in MASS_NOUNS:
        return [w for w in options if w in MASS_NOUNS]
    if bare and root.dep_ == "pobj" and root.head.lower_ in _IDIOM_PREPOSITIONS \
            and not any(c.dep_ in ("amod", "compound") for c in root.children):
        return []  # "in bed", "by train"
    return options


# things a photo of a room shows many of: another one named in the list may be there too
FURNISHING_KINDS = frozenset({"seat", "table", "storage", "appliance", "electronics", "bathroom fixture",
                              "soft furnishing", "light"})
ROOMS = frozenset({"room", "area", "space", "apartment", "home", "studio", "suite", "loft", "kitchen",
                   "bathroom", "bedroom", "living room", "office", "classroom", "garage", "hallway"})


# clothes a caption's man or boy is not photographed in ("a man in a black dress and white shorts")
FEMININE_CLOTHES = frozenset({"dress", "skirt", "blouse", "bikini", "handbag", "purse"})
MALE = frozenset({"man", "men", "boy", "boys", "guy", "guys", "he", "him", "his", "gentleman", "father",
                  "husband", "son", "brother", "king", "male"})
FEMALE = frozenset({"woman", "women", "girl", "girls", "lady", "ladies", "she", "her", "hers", "mother",
                    "wife", "daughter", "sister", "queen", "female", "bride"})


def clothing_options(doc, options: list[str]) -> list[str]:
    """A dress or a skirt only for a caption about a woman or a girl ("soccer players in
    uniforms" -> "in dresses" is odd; "a man in a dress" odder)."""
    if not any(_is(t, FEMALE) for t in doc):
        return [w for w in options if w not in FEMININE_CLOTHES]
    return options


def person_options(doc, options: list[str]) -> list[str]:
    """No man or boy for a woman the caption dresses in a skirt or a dress."""
    if any(_is(t, FEMININE_CLOTHES) for t in doc):
        return [w for w in options if w not in MALE]
    return options


# things of one kind that differ in scale: a replacement stays on its side ("waiting for a bus at a
# stop" -> "a bicycle"; "people mingle on a yacht" -> "a canoe")
SCALE = {**{w: "two-wheeler" for w in ("motorcycle", "bicycle", "scooter")},
         **{w: "motor vehicle" for w in ("car", "truck", "bus", "tractor", "van")},
         **{w: "ship" for w in ("ship", "ferry", "yacht")},
         **{w: "small boat" for w in ("canoe", "kayak", "raft", "sailboat")}}


def scale_options(key: str, options: list[str]) -> list[str]:
    """The options on the target's side of :data:`SCALE` (all of them for a word it does not rate)."""
    side = SCALE.get(key)
    return options if side is None else [w for w in options if SCALE.get(w, side) == side]


BATHROOM_WORDS = frozenset({"bathroom", "restroom", "stall", "lavatory", "vanity", "washroom"})


def fixture_in_bathroom(doc, target: Candidate) -> bool:
    """A bathroom fixture in a caption about a bathroom or naming another fixture: a bathroom's
    photo holds a toilet and a sink both ("a vanity, window and a toilet" -> "a sink")."""
    root = doc[target.start:target.end].root
    if _kind(root) != "bathroom fixture":
        return False
    others = [t for t in doc if not target.start <= t.i < target.end]
    return any(_is(t, BATHROOM_WORDS) or _kind(t) == "bathroom fixture" for t in others)


def in_room_inventory(doc, target: Candidate) -> bool:
    """A furnishing in a room's list of contents ("a room with a couch, chair and television"):
    the room probably holds the replacement as well ("... and laptop"), so no photo refutes it."""
    root = doc[target.start:target.end].root
    if _kind(root) not in FURNISHING_KINDS:
        return False
    first = root
    while first.dep_ == "conj" and first.head.i != first.i:
        first = first.head
    if first.dep_ != "pobj" or first.head.lower_ != "with":
        return False
    owner = first.head.head
    names = {owner.lemma_.lower(), *(f"{c.lemma_.lower()} {owner.lemma_.lower()}" for c in owner.children)}
    return bool(names & ROOMS)


# kinds whose contents or toppings a caption states ("a plate filled with pastries", "a pizza with
# bacon"): the container or the dish is the one that holds them ("a cup filled with pastries")
HOLDER_KINDS = frozenset({"tableware", "vessel", "container", "cookware", "fast food", "baked good",
                          "breakfast", "dish", "bag"})
_CONTENTS = frozenset({"filled", "full", "topped", "containing", "covered", "loaded", "stuffed", "holding"})
# measures that only some foods come in ("bunches of bananas" -> "bunches of apples")
FOOD_MEASURES = frozenset({"bunch", "loaf", "stalk", "ear", "head", "clove", "scoop", "wedge", "rack", "stick"})


def holds_stated_contents(doc, target: Candidate) -> bool:
    """A container or dish whose contents or toppings the caption names, or a food counted in a
    measure that fits it only: the replacement would not hold or come in them."""
    root = doc[target.start:target.end].root
    kind = _kind(root)
    if kind in HOLDER_KINDS:
        for child in root.children:
            if child.dep_ == "prep" and child.lower_ in ("of", "with") and any(c.dep_ == "pobj" for c in child.children):
                return True
            if child.dep_ in ("acl", "amod") and child.lower_ in _CONTENTS:
                return True
    head = root.head
    return (kind is not None and root.dep_ == "pobj" and head.lower_ == "of"
            and _is(head.head, FOOD_MEASURES))


def repeated(doc, target: Candidate) -> bool:
    """Whether the target's noun is mentioned again and one mention refers to the other ("a dog ...
    the dog watching it") or names a part of it ("horse reins ... horses"): changing one mention
    makes two animals of one. Two indefinite mentions are two things ("a red square above a blue
    square") and may change apart."""
    key = base(target.lemma)
    mentions = [t for t in doc if t.pos_ in ("NOUN", "PROPN") and base(t.lemma_.lower()) == key]
    if len(mentions) < 2:
        return False
    if any(t.dep_ == "compound" and not target.start <= t.i < target.end for t in mentions):
        return True  # "horse reins connected to 2 horses" -> "... to 2 sheep"
    return any(c.dep_ in ("det", "poss") and c.lower_ in _DEFINITE for t in mentions for c in t.children)


def repeats_a_part(doc, target: Candidate) -> bool:
    """A two-word target one of whose words the caption says again ("a tennis racket ... swing
    his racket"; "a tennis player ... a tennis ball"): the other mention ties the thing down."""
    if target.end - target.start < 2:
        return False
    words = {base(doc[i].lemma_.lower()) for i in range(target.start, target.end)}
    return any(base(t.lemma_.lower()) in words for t in doc if not target.start <= t.i < target.end
               and t.pos_ in ("NOUN", "PROPN"))


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
    """The token a verb's subject is: its ``nsubj`` (a relative pronoun's noun for "a zebra that
    is ..."), the noun a participle modifies, or the subject of the verb it depends on ("a dog is
    running and catching", "a zebra that is bent over eating grass")."""
    tok = doc[target.start:target.end].root
    for _ in range(6):
        for child in tok.children:
            if child.dep_ in ("nsubj", "nsubjpass"):
                if child.lower_ in RELATIVE_PRONOUNS and child.head.dep_ == "relcl":
                    return child.head.head
                return child
        if tok.dep_ in ("acl", "relcl") and tok.head.pos_ in ("NOUN", "PROPN"):
            return tok.head
        if tok.dep_ not in ("conj", "advcl", "xcomp", "pcomp", "prep", "acomp") or tok.head.i == tok.i:
            return None
        tok = tok.head
    return None


# a relative clause's pronoun, never the thing its verb is said of ("a zebra that is ...": the zebra)
RELATIVE_PRONOUNS = frozenset({"that", "which", "who", "whom"})


def _kind(token) -> str | None:
    """The kind of thing a token names (:data:`slipform.plant.knowledge.kinds.KIND_OF`), or None."""
    return None if token is None else KIND_OF.get(base(token.lemma_.lower()))


def inanimate(token) -> bool:
    """A noun of a known kind that is no animal (a plate, a bus, a teddy bear); people and words
    outside the table are not known to be inanimate."""
    kind = _kind(token)
    return kind is not None and kind not in ANIMATE_KINDS


def animal(token) -> bool:
    """An animal of the kinds table, or a group of them ("a couple of sheep")."""
    if token is None:
        return False
    if _kind(token) in ANIMATE_KINDS:
        return True
    if _is(token, GROUPS):
        return any(animal(o) for prep in token.children if prep.lower_ == "of"
                   for o in prep.children if o.dep_ == "pobj")
    return False


def animate(token) -> bool:
    """A person or an animal: a person word, an animal kind, or a group of them ("a group of kids")."""
    if token is None:
        return False
    if _is(token, PEOPLE) or _kind(token) in ANIMATE_KINDS:
        return True
    if _is(token, GROUPS):
        for prep in token.children:
            if prep.lower_ == "of":
                return any(animate(o) for o in prep.children if o.dep_ == "pobj")
    return False


# what only hands do: never the verb of an animal ("two zebras eat hay" -> "hold hay")
HANDS = frozenset({"hold", "cook", "cut", "throw", "carry", "use", "serve", "prepare", "wash", "brush", "comb",
                   "drive", "push", "pull", "grab", "drop", "pour", "spill", "buy", "sell", "remove", "pet", "feed",
                   "ride", "read", "write"})
# prepositions of a path, and the verbs of staying put that cannot take one
MOTION = frozenset({"through", "across", "along", "into", "toward", "towards", "past", "around", "onto", "down", "up"})
STILL = frozenset({"sit", "stand", "lie", "lay", "rest", "wait", "sleep", "pose", "lean"})
# contrasts a place in the sentence rules out ("flying in the sky" -> "landing in the sky")
PLACE_CLASHES = {"land": frozenset({"sky", "air", "clouds", "cloud"})}


def verb_options(doc, target: Candidate, options: list[str]) -> list[str]:
    """Contrasts that fit the verb's subject and its places: no hands for an animal, no landing
    in the sky, no staying still along a path ("sitting through a marsh"), no intransitive verb
    for a verb with an object and no transitive one without."""
    verb = doc[target.start:target.end].root
    has_object = any(c.dep_ == "dobj" for c in verb.children)
    options = [w for w in options if w not in (INTRANSITIVE if has_object else TRANSITIVE)]
    if animal(subject(doc, target)):
        options = [w for w in options if w not in HANDS]
    if any(c.dep_ == "prep" and c.lower_ in MOTION for c in verb.children):  # "walking through a marsh"
        options = [w for w in options if w not in STILL]
    places = {t.lemma_.lower() for t in doc}  # the parse may hang "in the air" anywhere
    return [w for w in options if not PLACE_CLASHES.get(w, frozenset()) & places]


def verb_unchangeable(doc, target: Candidate, verb_base: str) -> bool:
    """A posture or motion verb of anything not known to be a person or an animal ("a plate sits on
    a table": it lies there as well), a verb with a complement that fits it only ("a bird sits
    perched" -> "lies perched"), a participle used as an adjective ("a parked car" -> "a driven car"),
    a verb with a manner adverb that fits it only ("smile brightly" -> "frown brightly") or with
    a purpose ("jumping to catch a frisbee" -> "falling to catch a frisbee")."""
    verb = doc[target.start:target.end].root
    if verb.dep_ == "amod" or any(c.dep_ in ("xcomp", "acomp", "oprd", "prt") for c in verb.children):
        return True  # "standing up" -> "lying up": a particle belongs to its verb
    # after the verb: "Apparently, a cross ..." is about the sentence, not the manner
    if any(c.dep_ == "advmod" and c.i > verb.i and c.lower_.endswith("ly") and c.lower_ not in _NOT_MANNER
           for c in verb.children):
        return True
    if any(c.dep_ == "advcl" and any(a.lower_ == "to" and a.dep_ == "aux" for a in c.children) for c in verb.children):
        return True
    return verb_base in POSTURE_VERBS and not animate(subject(doc, target))


_NOT_MANNER = frozenset({"only", "early", "nearly", "really", "fairly", "likely", "mostly", "partly", "family"})


def animate_only(word: str, doc, target: Candidate) -> bool:
    """Whether ``word`` ("young") describes a living thing and the target's noun is a thing."""
    return word in ANIMATE_ADJECTIVES and inanimate(doc[target.start:target.end].root.head)


# the colours a kind of thing comes in, where it is not every colour ("a blue cat", "white bananas")
NATURAL_COLOURS = {
    **dict.fromkeys(ANIMATE_KINDS, frozenset({"black", "white", "brown", "gray", "grey", "tan", "golden", "beige"})),
    **dict.fromkeys(("fruit", "vegetable"), frozenset({"green", "yellow", "red", "orange", "brown", "purple"})),
    "ground": frozenset({"white", "brown", "green", "black", "gray", "grey", "tan", "beige", "golden"}),
    "plant": frozenset({"green", "brown", "yellow", "orange", "red"}),
}


def colour_options(doc, target: Candidate, options: list[str]) -> list[str]:
    """The colours the described thing comes in (all for a thing of no listed kind)."""
    fits = NATURAL_COLOURS.get(_kind(doc[target.start:target.end].root.head))
    return options if fits is None else [w for w in options if w in fits]
