"""Small English morphology: enough to keep a rewritten caption grammatical.

Plural nouns stay plural, verbs keep their Penn tag (VBG, VBZ, VBD, VBN), ``a``/``an``
follows the next word's sound, and capitalisation follows the replaced word.
"""

from __future__ import annotations

import re

_IRREGULAR_PLURALS = {
    "man": "men", "woman": "women", "child": "children", "person": "people", "mouse": "mice",
    "foot": "feet", "tooth": "teeth", "goose": "geese", "ox": "oxen", "knife": "knives",
    "leaf": "leaves", "shelf": "shelves", "wolf": "wolves", "loaf": "loaves", "life": "lives",
    "wife": "wives", "half": "halves", "calf": "calves", "scarf": "scarves", "cactus": "cacti",
    "policeman": "policemen", "fireman": "firemen", "businessman": "businessmen",
}
_INVARIANT_PLURALS = {"sheep", "fish", "deer", "moose", "bison", "series", "species", "aircraft", "police",
                      "people", "scissors", "glasses", "pants", "jeans", "shorts", "clothes", "broccoli"}

# base: (past, past participle)
_IRREGULAR_VERBS = {
    "be": ("was", "been"), "have": ("had", "had"), "do": ("did", "done"), "go": ("went", "gone"),
    "ride": ("rode", "ridden"), "eat": ("ate", "eaten"), "sit": ("sat", "sat"), "stand": ("stood", "stood"),
    "run": ("ran", "run"), "hold": ("held", "held"), "throw": ("threw", "thrown"), "catch": ("caught", "caught"),
    "fly": ("flew", "flown"), "drive": ("drove", "driven"), "swim": ("swam", "swum"), "lie": ("lay", "lain"),
    "hang": ("hung", "hung"), "take": ("took", "taken"), "make": ("made", "made"), "see": ("saw", "seen"),
    "give": ("gave", "given"), "wear": ("wore", "worn"), "sleep": ("slept", "slept"), "feed": ("fed", "fed"),
    "lead": ("led", "led"), "hit": ("hit", "hit"), "put": ("put", "put"), "cut": ("cut", "cut"),
    "set": ("set", "set"), "build": ("built", "built"), "draw": ("drew", "drawn"), "drink": ("drank", "drunk"),
    "fall": ("fell", "fallen"), "get": ("got", "gotten"), "grow": ("grew", "grown"), "keep": ("kept", "kept"),
    "kneel": ("knelt", "knelt"), "lay": ("laid", "laid"), "leave": ("left", "left"), "read": ("read", "read"),
    "shake": ("shook", "shaken"), "shine": ("shone", "shone"), "sing": ("sang", "sung"), "sink": ("sank", "sunk"),
    "slide": ("slid", "slid"), "speak": ("spoke", "spoken"), "spin": ("spun", "spun"), "steal": ("stole", "stolen"),
    "stick": ("stuck", "stuck"), "swing": ("swung", "swung"), "teach": ("taught", "taught"),
    "tell": ("told", "told"), "think": ("thought", "thought"), "write": ("wrote", "written"),
    "bite": ("bit", "bitten"), "blow": ("blew", "blown"), "break": ("broke", "broken"),
    "bring": ("brought", "brought"), "buy": ("bought", "bought"), "come": ("came", "come"),
    "dig": ("dug", "dug"), "find": ("found", "found"), "freeze": ("froze", "frozen"), "hide": ("hid", "hidden"),
    "light": ("lit", "lit"), "meet": ("met", "met"), "pay": ("paid", "paid"), "rise": ("rose", "risen"),
    "sell": ("sold", "sold"), "send": ("sent", "sent"), "shoot": ("shot", "shot"), "sweep": ("swept", "swept"),
    "win": ("won", "won"), "wake": ("woke", "woken"),
}
_VOWELS = "aeiou"
# Words whose spelling and sound disagree about the article.
_AN_EXCEPTIONS = ("hour", "honest", "honor", "honour", "heir", "8", "11", "18")
_A_EXCEPTIONS = ("uni", "use", "usu", "uten", "euro", "one", "once", "ewe", "ukulele", "u-", "user")


def pluralize(noun: str) -> str:
    """Plural of a singular noun; for a multi-word noun only the last word changes."""
    if " " in noun:
        head, _, last = noun.rpartition(" ")
        return f"{head} {pluralize(last)}"
    low = noun.lower()
    if low in _INVARIANT_PLURALS:
        return noun
    if low in _IRREGULAR_PLURALS:
        return _match_case(noun, _IRREGULAR_PLURALS[low])
    if low.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if low.endswith("y") and len(low) > 1 and low[-2] not in _VOWELS:
        return noun[:-1] + "ies"
    return noun + "s"


def _double_final(verb: str) -> bool:
    # stop -> stopping, but open -> opening and eat -> eating
    one_syllable = len(re.findall(r"[aeiou]+", verb)) == 1
    return (one_syllable and len(verb) >= 3 and verb[-1] not in _VOWELS + "wxy"
            and verb[-2] in _VOWELS and verb[-3] not in _VOWELS)


def verb_form(base: str, tag: str) -> str:
    """Inflect a base verb (``ride``) for a Penn tag (``VBG`` -> ``riding``)."""
    if " " in base:  # phrasal: inflect the first word ("look at" -> "looking at")
        first, _, rest = base.partition(" ")
        return f"{verb_form(first, tag)} {rest}"
    if tag == "VBG":
        if base.endswith("ie"):
            return base[:-2] + "ying"
        if base.endswith("e") and base not in ("be", "see", "flee", "agree") and not base.endswith("ee"):
            return base[:-1] + "ing"
        return base + (base[-1] if _double_final(base) else "") + "ing"
    if tag == "VBZ":
        if base in ("be", "have"):
            return {"be": "is", "have": "has"}[base]
        if base.endswith(("s", "x", "z", "ch", "sh", "o")):
            return base + "es"
        if base.endswith("y") and base[-2:-1] not in tuple(_VOWELS):
            return base[:-1] + "ies"
        return base + "s"
    if tag in ("VBD", "VBN"):
        if base in _IRREGULAR_VERBS:
            return _IRREGULAR_VERBS[base][0 if tag == "VBD" else 1]
        if base.endswith("e"):
            return base + "d"
        if base.endswith("y") and base[-2:-1] not in tuple(_VOWELS):
            return base[:-1] + "ied"
        return base + (base[-1] if _double_final(base) else "") + "ed"
    return base


def all_verb_forms(base: str) -> dict[str, str]:
    """Every inflected form of ``base`` mapped back to its tag (``riding`` -> ``VBG``)."""
    forms = {base: "VB"}
    for tag in ("VBZ", "VBD", "VBN", "VBG"):
        forms.setdefault(verb_form(base, tag), tag)
    return forms


def article_for(word: str) -> str:
    """``a`` or ``an`` by the sound of ``word``'s start (spelling heuristics with exceptions)."""
    low = word.lower()
    if low.startswith(_AN_EXCEPTIONS):
        return "an"
    if low.startswith(_A_EXCEPTIONS):
        return "a"
    return "an" if low[:1] in tuple(_VOWELS) else "a"


def _match_case(template: str, word: str) -> str:
    if template[:1].isupper() and not word[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def match_case(template: str, word: str) -> str:
    """Capitalise ``word`` when ``template`` is capitalised; all-caps stays all-caps."""
    if len(template) > 1 and template.isupper():
        return word.upper()
    return _match_case(template, word)
