"""Each lexical guard's branches on real parses, with the exact answer worked out by hand.

Written for issue 31's mutation runs (group ``guards`` of bench/mutation.py): every guard is
asked on a caption that takes each of its branches, so a flipped comparison, a dropped word of
a tuple or a wrong index changes an answer here. The parses are spaCy's (en_core_web_sm); each
case says what the parser makes of the caption where the answer depends on it. Seconds to run."""

import pytest

from slipform.plant.core.anchor import Candidate
from slipform.plant.lexical import guards


@pytest.fixture(scope="module")
def parse(nlp):
    cache = {}

    def get(caption):
        if caption not in cache:
            cache[caption] = nlp(caption)
        return cache[caption]

    return get


def _target(doc, text, pos=None):
    """The candidate spanning the words ``text`` (the first occurrence), as the anchor module makes it."""
    words = text.split()
    for i in range(len(doc) - len(words) + 1):
        if [t.text for t in doc[i:i + len(words)]] == words:
            span = doc[i:i + len(words)]
            root = span.root
            return Candidate(i, i + len(words), span.text, " ".join(t.lemma_.lower() for t in span),
                             pos or root.pos_, root.tag_, "", None)
    raise AssertionError(f"{text!r} not in {doc.text!r}")


# -- in_compound: a noun inside a compound it does not span, or modifying a participle

@pytest.mark.parametrize("caption,word,want", [
    ("A stainless steel stove in a kitchen.", "steel", True),  # compound of "stove", outside the target
    ("A horse drawn cart on a road.", "horse", True),  # npadvmod of "drawn"
    ("A fire truck parked on a street.", "truck", True),  # its compound "fire" lies outside
    ("A fire truck parked on a street.", "fire truck", False),  # the target spans the compound
    ("A brown cat on a bed.", "bed", False),  # a pobj whose head lies outside: no compound
    ("A brown cat on a bed.", "cat", False),
])
def test_in_compound(parse, caption, word, want):
    doc = parse(caption)
    assert guards.in_compound(doc, _target(doc, word)) is want


# -- before_its_head: a noun right before the noun it modifies

@pytest.mark.parametrize("caption,word,want", [
    ("A bathroom stall with a toilet.", "bathroom", True),  # nsubj of "stall" (the parser's label)
    ("A Nike shoe and a Nike shirt.", "Nike", True),  # a name before its noun
    ("A brown cat on a bed.", "brown", False),  # an adjective
    ("A bunch of bananas.", "bunch", False),  # a noun that is its own head
    ("A dog catches a frisbee.", "dog", False),  # before a verb
])
def test_before_its_head(parse, caption, word, want):
    doc = parse(caption)
    assert guards.before_its_head(doc, _target(doc, word)) is want


# -- countable_options: the noun's grammar kept

OPTIONS = ["bread", "dog", "skis", "rice"]  # two mass nouns, a countable one, a plural-only one


@pytest.mark.parametrize("caption,word,want", [
    ("A lot of sheep in a field.", "sheep", []),  # invariant, number left open
    ("One sheep in a field.", "sheep", ["bread", "dog", "rice"]),  # "one" (nummod) says singular
    ("A sheep in a field.", "sheep", ["bread", "dog", "rice"]),  # "a" (det) says singular
    ("Sausages on a grill.", "Sausages", ["dog", "skis"]),  # a plural: no mass noun
    ("A boy on a skateboard.", "skateboard", ["bread", "dog", "rice"]),  # a singular: no plural-only noun
    ("Two girls eating pizza and salad.", "salad", ["bread", "rice"]),  # a bare mass noun: mass nouns only
    ("Two girls eating pizza and salad.", "pizza", ["bread", "dog", "rice"]),  # bare, not mass, no preposition
    ("Some salad on a plate.", "salad", ["bread", "dog", "rice"]),  # a mass noun with a determiner
    ("A man sleeping in bed.", "bed", []),  # the idiom "in bed"
    ("A man sleeping in his bed.", "bed", ["bread", "dog", "rice"]),  # poss: not bare
    ("A man sleeping in one bed.", "bed", ["bread", "dog", "rice"]),  # nummod: not bare
    ("A man sleeping in warm bed.", "bed", ["bread", "dog", "rice"]),  # an adjective: no idiom
    ("A cat sleeping in dog bed.", "bed", ["bread", "dog", "rice"]),  # a compound: no idiom
    ("A cat sleeping under blanket.", "blanket", ["bread", "dog", "rice"]),  # "under" makes no idiom
])
def test_countable_options(parse, caption, word, want):
    doc = parse(caption)
    assert guards.countable_options(doc, _target(doc, word), list(OPTIONS)) == want


def test_countable_options_on_a_capitalised_plural(parse):
    doc = parse("Two Bananas On A Plate.")  # the parser reads a name in the plural: NNPS
    assert doc[1].tag_ == "NNPS"
    assert guards.countable_options(doc, _target(doc, "Bananas"), list(OPTIONS)) == ["dog", "skis"]


def test_countable_options_on_an_upper_case_plural(parse):
    doc = parse("DOGS ON A BENCH")  # the parser reads a name: NNP, not NNPS; a bare singular to it
    assert doc[0].tag_ == "NNP"
    assert guards.countable_options(doc, _target(doc, "DOGS"), list(OPTIONS)) == ["bread", "dog", "rice"]


# -- scale and colour

def test_scale_options():
    opts = ["bus", "bicycle", "dog", "canoe", "truck"]
    assert guards.scale_options("car", opts) == ["bus", "dog", "truck"]  # a motor vehicle's side, unrated words
    assert guards.scale_options("kayak", opts) == ["dog", "canoe"]
    assert guards.scale_options("dog", opts) == opts  # a word SCALE does not rate


@pytest.mark.parametrize("caption,word,want", [
    ("A brown cat on a bed.", "brown", ["white", "gray"]),  # an animal's colours
    ("A brown banana on a plate.", "brown", ["red", "yellow"]),  # a fruit's
    ("A red car on a road.", "red", ["white", "blue", "red", "gray", "yellow"]),  # any colour
])
def test_colour_options(parse, caption, word, want):
    doc = parse(caption)
    assert guards.colour_options(doc, _target(doc, word), ["white", "blue", "red", "gray", "yellow"]) == want


# -- rooms, fixtures, holders

@pytest.mark.parametrize("caption,word,want", [
    ("A room with a couch, chair and television.", "chair", True),  # a conjunct of the list
    ("A room with a couch, chair and television.", "television", True),  # the conjunct of a conjunct
    ("A room with a couch, chair and television.", "couch", True),  # the list's first item
    ("A room with a chair.", "chair", True),
    ("A living room with a couch and a table.", "table", True),
    ("A table with a couch and a chair.", "couch", False),  # a table is no room
    ("A desk with a lamp.", "lamp", False),
    ("A kitchen with a table and chairs.", "chairs", True),
    ("A room with a dog.", "dog", False),  # a dog is no furnishing
    ("A brown cat on a bed.", "bed", False),  # "on", not "with"
    ("A room behind a couch.", "couch", False),  # a room's, but "behind", not "with"
])
def test_in_room_inventory(parse, caption, word, want):
    doc = parse(caption)
    assert guards.in_room_inventory(doc, _target(doc, word)) is want


@pytest.mark.parametrize("caption,word,want", [
    ("A plate of cookies.", "plate", True),  # "of" and its object
    ("A pizza topped with cheese.", "pizza", True),  # the participle "topped"
    ("A plate filled with pastries.", "plate", True),
    ("A plate on a table.", "plate", False),  # a place, not contents
    ("A plate sitting on a table.", "plate", False),  # a participle, not of contents
    ("A full cup on a table.", "cup", True),  # "full" (amod)
    ("A bunch of bananas.", "bananas", True),  # a food in its measure
    ("A picture of bananas.", "bananas", False),  # no measure
    ("A bunch of people.", "people", False),  # a measure of no known kind
    ("A dog with a ball.", "dog", False),  # no holder
])
def test_holds_stated_contents(parse, caption, word, want):
    doc = parse(caption)
    assert guards.holds_stated_contents(doc, _target(doc, word)) is want


# -- mentions

@pytest.mark.parametrize("caption,word,want", [
    ("A dog and a dog.", "dog", False),  # two indefinite mentions: two dogs
    ("A dog and its dog.", "dog", True),  # a possessive refers back
    ("A dog and the dog.", "dog", True),
    ("A cat and a cat toy.", "cat", True),  # the other mention is a compound: a part of the thing
])
def test_repeated(parse, caption, word, want):
    doc = parse(caption)
    assert guards.repeated(doc, _target(doc, word)) is want


def test_repeated_from_the_compound_mention_and_not_by_another_noun(parse):
    doc = parse("A cat and a cat toy.")
    assert doc[4].dep_ == "compound"
    assert not guards.repeated(doc, Candidate(4, 5, "cat", "cat", "NOUN", "NN", "", None))  # the other is no part
    doc = parse("A dog on the couch.")
    assert not guards.repeated(doc, _target(doc, "dog"))  # "the" belongs to the couch


@pytest.mark.parametrize("caption,word,want", [
    ("A tennis racket and a tennis ball.", "tennis racket", True),
    ("A tennis racket on a court.", "tennis racket", False),  # nothing else said twice
    ("A tennis racket and a tennis ball.", "racket", False),  # a one-word target
    ("A cat and a cat toy.", "cat", False),  # one word: the other guards decide
    ("A court with a tennis racket on the court.", "tennis racket", False),  # a word before the target
    ("A Nike shoe and a Nike shirt.", "Nike shoe", True),  # said again as a name
])
def test_repeats_a_part(parse, caption, word, want):
    doc = parse(caption)
    assert guards.repeats_a_part(doc, _target(doc, word)) is want


# -- relations and verbs

@pytest.mark.parametrize("caption,word,pos,want", [
    ("A man in theory.", "in", "ADP", True),  # "theory" rated 1.47
    ("A man in theories.", "in", "ADP", True),  # rated by its lemma only
    ("A man stands in front of a building.", "in", "ADP", False),  # "front" rated 3.77
    ("A man in a zorblax.", "in", "ADP", False),  # not rated
    ("A man looks at the theory.", "looks", "VERB", False),  # a verb is never asked
    ("A dog and a cat.", "and", "CCONJ", False),  # no object at all
])
def test_abstract_object(parse, lexicon, caption, word, pos, want):
    doc = parse(caption)
    assert guards.abstract_object(doc, _target(doc, word, pos), lexicon) is want


@pytest.mark.parametrize("caption,word,subject", [
    ("A bench where a dog sits.", "sits", "dog"),  # a relative clause's own subject, not its noun
    ("A man sleeping in bed.", "sleeping", "man"),  # the noun a participle modifies
    ("A dog is called Rex.", "called", "dog"),  # a passive subject
    ("A man stands by a bus while waiting for it.", "waiting", "man"),  # through an adverbial clause
    ("A dog sits after catching a frisbee.", "catching", "dog"),  # through "after" (pcomp, prep)
])
def test_subject(parse, caption, word, subject):
    doc = parse(caption)
    assert guards.subject(doc, _target(doc, word)).text == subject


@pytest.mark.parametrize("caption,word,options,want", [
    # an object: no intransitive verb; an animal subject: no verb of hands
    ("A dog catches a frisbee.", "catches", ["walk", "hold", "kick", "chase"], ["kick", "chase"]),
    # no object: no transitive verb; no landing in the sky; a jet is no animal: "ride" stays
    ("A jet flying in the sky.", "flying", ["land", "hold", "float", "ride"], ["float", "ride"]),
    # a path: nothing that stays put
    ("A dog walking through a marsh.", "walking", ["sit", "run", "hold", "swim"], ["run", "swim"]),
    ("A horse standing in the field.", "standing", ["sit", "lie", "walk", "land"], ["sit", "lie", "walk", "land"]),
])
def test_verb_options(parse, caption, word, options, want):
    doc = parse(caption)
    assert guards.verb_options(doc, _target(doc, word), options) == want


@pytest.mark.parametrize("caption,word,verb_base,want", [
    ("A dog runs quickly.", "runs", "run", True),  # a manner adverb after the verb
    ("A dog quickly runs.", "runs", "run", False),  # before the verb: not read as its manner
    ("A dog runs early.", "runs", "run", False),  # "-ly" but no manner
    ("A dog runs only.", "runs", "run", False),
    ("A dog jumps to catch a frisbee.", "jumps", "jump", True),  # the parser makes "to catch" an xcomp
    ("A man is standing by the bus to board it.", "standing", "stand", True),  # a purpose (advcl + "to")
    ("A man is standing by the bus as it leaves.", "standing", "stand", False),  # a clause, no purpose
    ("A man is standing by the bus while he is waiting.", "standing", "stand", False),  # an aux, not "to"
    ("A man paints the fence white.", "paints", "paint", True),  # an object predicate (oprd)
    ("A dog stands up.", "stands", "stand", True),  # a particle
    ("A horse standing in the field.", "standing", "stand", False),  # an animal may change posture
    ("A plate sits on a table.", "sits", "sit", True),  # a thing may not
    ("A plate falls off a table.", "falls", "fall", False),  # not a posture verb
])
def test_verb_unchangeable(parse, caption, word, verb_base, want):
    doc = parse(caption)
    assert guards.verb_unchangeable(doc, _target(doc, word), verb_base) is want


# -- living things

@pytest.mark.parametrize("caption,word,adjective,want", [
    ("A modern bathroom.", "modern", "young", True),  # a bathroom is a thing
    ("A modern bathroom.", "modern", "red", False),  # not an adjective of the living
    ("A happy dog.", "happy", "young", False),  # a dog is alive
    ("A happy man.", "happy", "elderly", False),  # a person is no thing of the table
])
def test_animate_only(parse, caption, word, adjective, want):
    doc = parse(caption)
    assert guards.animate_only(adjective, doc, _target(doc, word)) is want


def test_inanimate_and_the_kind_of_nothing(parse):
    doc = parse("A man feeds a dog from a plate.")
    assert [guards.inanimate(t) for t in doc if t.pos_ == "NOUN"] == [False, False, True]
    assert guards._kind(None) is None and not guards.animal(None) and not guards.animate(None)
    assert guards._kind(doc[4]) == "pet" and guards._kind(doc[7]) == "tableware"


@pytest.mark.parametrize("caption,word,want", [
    ("A couple of sheep in a field.", "couple", True),  # a group of animals
    ("A couple of chairs in a room.", "couple", False),  # a group of things
    ("A couple of people on a bench.", "couple", False),  # people: animate, not animals
    ("Two cats on a bench.", "cats", True),
])
def test_animal(parse, caption, word, want):
    doc = parse(caption)
    assert guards.animal(doc[_target(doc, word).start]) is want


@pytest.mark.parametrize("caption,word,want", [
    ("A couple of people on a bench.", "couple", True),
    ("A couple of chairs in a room.", "couple", False),
    ("A line of cars on a road.", "line", False),
    ("Someone on a bench.", "Someone", True),
    ("A plate on a bench.", "plate", False),
])
def test_animate(parse, caption, word, want):
    doc = parse(caption)
    assert guards.animate(doc[_target(doc, word).start]) is want


@pytest.mark.parametrize("word,words,want", [
    # the parser leaves each of these plurals unlemmatised: only the suffix rule finds the singular
    ("PUPPIES", frozenset({"puppy"}), True),
    ("SHELVES", frozenset({"shelf"}), True), ("BUNCHES", guards.GROUPS, True), ("BOYS", frozenset({"boy"}), True),
    ("CATS", frozenset({"dog"}), False),
])
def test_is_reads_any_case_and_number(parse, word, words, want):
    doc = parse(f"{word} HERE")
    assert doc[0].lemma_.lower() not in words  # not found by the lemma
    assert guards._is(doc[0], words) is want
