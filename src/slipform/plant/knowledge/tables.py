"""Built-in word lists for the lexical rewriter.

Attribute families keep an attribute change inside its kind (a colour becomes another
colour, a number another number); relation contrasts map a relation to one that states
something different about the same pair (on -> under, riding -> walking). The object list
is the fallback vocabulary used beside the input captions' own nouns: everyday things
that appear in image captions (COCO's 80 categories and their common neighbours).
"""

from __future__ import annotations

ATTRIBUTE_FAMILIES: dict[str, tuple[str, ...]] = {
    "colour": ("red", "blue", "green", "yellow", "black", "white", "brown", "orange", "pink",
               "purple", "gray", "grey", "silver", "golden", "tan", "beige"),
    "size": ("small", "large", "big", "little", "tiny", "huge", "giant", "tall", "short", "long"),
    "material": ("wooden", "metal", "plastic", "glass", "stone", "brick", "leather", "concrete",
                 "paper", "ceramic", "steel", "cardboard", "metallic"),
    "age": ("old", "new", "young", "ancient", "modern", "antique", "elderly"),
    "temperature": ("hot", "cold", "warm", "frozen", "icy"),
    "condition": ("empty", "full", "open", "closed", "clean", "dirty", "wet", "dry", "broken",
                  "messy", "tidy", "lit", "dark", "bright", "sunny", "cloudy", "snowy", "rainy"),
    "texture": ("striped", "checkered", "spotted", "dotted", "plaid", "fluffy", "furry", "shiny", "smooth",
                "rough"),
    "shape": ("round", "square", "rectangular", "circular", "triangular", "oval", "flat"),
    "number": ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "several",
               "many", "few"),
    "posture": ("sitting", "standing", "lying", "walking", "running", "sleeping", "parked"),
}
# Pairs whose swap is a clean contradiction; looked up before the family.
ATTRIBUTE_OPPOSITES = {
    "empty": "full", "open": "closed", "clean": "dirty", "wet": "dry", "old": "new",
    "young": "old", "hot": "cold", "big": "small", "large": "small", "tall": "short", "long": "short",
    "light": "dark", "bright": "dark", "sunny": "cloudy", "messy": "tidy", "full": "empty",
    "closed": "open", "dirty": "clean", "dry": "wet", "new": "old", "small": "large",
    "short": "tall", "dark": "bright", "cloudy": "sunny", "tidy": "messy", "cold": "hot",
    "little": "big", "tiny": "huge", "huge": "tiny", "elderly": "young",
}
DIGITS = {str(n): n for n in range(1, 21)}

PREPOSITION_CONTRASTS: dict[str, tuple[str, ...]] = {
    "on": ("under", "beside", "behind"), "onto": ("under", "behind"), "under": ("on", "above"),
    "above": ("below", "under"), "below": ("above", "on"), "beneath": ("above", "on"),
    "over": ("under", "below"), "underneath": ("on", "above"), "in": ("outside", "behind", "near"),
    "inside": ("outside", "behind"), "outside": ("inside",), "into": ("out of", "behind"),
    "with": ("without",), "without": ("with",), "behind": ("in front of", "beside"),
    "beside": ("behind", "on"), "near": ("far from", "behind"), "next to": ("far from", "behind"),
    "by": ("behind", "far from"), "at": ("behind", "near"), "across": ("along", "beside"),
    "along": ("across",), "through": ("around", "over"), "around": ("through", "under"),
    "toward": ("away from",), "towards": ("away from",), "up": ("down",), "down": ("up",),
    "from": ("into", "toward"), "to": ("from",), "between": ("beside", "behind"),
    "against": ("away from", "beside"), "atop": ("under", "beside"), "off": ("on",),
    "out": ("in",), "before": ("after",), "after": ("before",), "left": ("right",), "right": ("left",),
    "among": ("beside", "behind"), "in front of": ("behind",), "on top of": ("under", "beside"),
    "across from": ("beside", "behind"), "close to": ("far from",), "far from": ("next to", "near"),
    "away from": ("toward",), "out of": ("into",),
    "to the left of": ("to the right of", "above", "below"), "to the right of": ("to the left of", "above", "below"),
    "on the left of": ("on the right of",), "on the right of": ("on the left of",),
    "left of": ("right of",), "right of": ("left of",),
}
# verbs as base forms; the inflector restores the tense
VERB_CONTRASTS: dict[str, tuple[str, ...]] = {
    "ride": ("walk", "push", "carry"), "walk": ("ride", "run", "sit"), "run": ("walk", "sit", "stand"),
    "sit": ("stand", "lie", "walk"), "stand": ("sit", "lie", "walk"), "lie": ("sit", "stand"),
    "lay": ("stand", "sit"), "hold": ("throw", "drop", "kick"), "throw": ("catch", "hold", "kick"),
    "catch": ("throw", "drop", "miss"), "eat": ("hold", "cook", "cut"), "drink": ("pour", "spill"),
    "carry": ("drop", "drag", "push"), "push": ("pull", "carry"), "pull": ("push", "carry"),
    "open": ("close",), "close": ("open",), "enter": ("leave", "exit"), "leave": ("enter",),
    "look": ("point", "smile"), "watch": ("ignore", "chase"), "fly": ("land", "hold"),
    "swim": ("float", "dive"), "surf": ("swim", "paddle"), "ski": ("walk", "sled"),
    "skate": ("walk", "sit"), "play": ("watch", "hold"), "wear": ("hold", "carry", "remove"),
    "park": ("drive", "tow"), "drive": ("park", "push"), "cut": ("eat", "serve"),
    "feed": ("chase", "pet"), "chase": ("follow", "feed"), "follow": ("lead", "chase"),
    "lead": ("follow",), "hang": ("lie", "stand"), "fill": ("empty",), "cover": ("uncover",),
    "kick": ("catch", "throw"), "hit": ("miss", "catch"), "climb": ("descend", "jump"),
    "jump": ("fall", "land"), "smile": ("frown",), "laugh": ("cry",), "sleep": ("sit", "eat"),
    "cook": ("eat", "serve"), "use": ("drop", "carry"), "talk": ("listen", "wave"),
    "brush": ("wash", "comb"), "wash": ("dry", "brush"), "grab": ("drop", "throw"),
    "sell": ("buy",), "buy": ("sell",), "cross": ("block", "follow"), "wait": ("run", "walk"),
    "rest": ("run", "walk"), "lean": ("stand", "sit"), "pose": ("run", "sit"),
    "graze": ("run", "sleep"), "fill up": ("empty",), "approach": ("leave",), "bite": ("lick", "hold"),
    "lick": ("bite",), "pet": ("feed", "chase"), "hug": ("push",), "show": ("hide",), "hide": ("show",),
    "dress": ("undress",), "prepare": ("eat", "serve"), "serve": ("eat", "prepare"),
}
RELATION_CONTRASTS = {**PREPOSITION_CONTRASTS, **VERB_CONTRASTS}
# Contrasts that many relations share (the table's "behind" answers twelve of them; "with" has one
# answer): with route="anchor", a route draws one with this probability and otherwise gives way to
# the anchor's next route, so that no one word makes more than about 3% of the negatives
# (bench/plant_balance.py measures it).
SHARED_CONTRASTS: dict[str, float] = {"behind": 0.08, "without": 0.12, "beside": 0.15, "near": 0.25, "outside": 0.5,
                                      "under": 0.35, "in front of": 0.6, "far from": 0.6,
                                      # one gender for the other (README: what gender and age negatives teach)
                                      "woman": 0.45, "man": 0.7, "women": 0.7, "men": 0.7}
# Relations whose two arguments may exchange places (route R, lexical/routes/exchange.py): the places that
# say which thing is where *beside* the other, and those that say which is higher. Symmetric ones
# ("next to", "near", "with") make no negative when exchanged; containment and support ("in", "on")
# rarely make a plausible one ("a table on a cat").
SIDE_PLACES = frozenset({"behind", "in front of", "to the left of", "to the right of", "left of", "right of",
                         "on the left of", "on the right of", "ahead of", "past"})
HEIGHT_PLACES = frozenset({"above", "below", "over", "under", "beneath", "underneath", "on top of", "atop", "on"})
# verbs that say the same when their subject and object exchange ("a man hugging a woman")
SYMMETRIC_VERBS = frozenset({"meet", "hug", "kiss", "fight", "marry", "face", "greet", "wrestle", "race", "touch",
                             "play", "talk", "share", "join", "pass", "match", "resemble", "cuddle", "embrace"})
# Multi-word relations merged into one candidate before anchor selection.
MULTIWORD_RELATIONS = tuple(w for w in PREPOSITION_CONTRASTS if " " in w)

OBJECT_FALLBACK: tuple[str, ...] = (
    "person", "man", "woman", "boy", "girl", "child", "baby", "bicycle", "car", "motorcycle",
    "airplane", "bus", "train", "truck", "boat", "traffic light", "fire hydrant", "stop sign",
    "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear",
    "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis",
    "snowboard", "ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana",
    "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake",
    "chair", "couch", "potted plant", "bed", "dining table", "toilet", "television", "laptop",
    "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
    "table", "plate", "street", "road", "building", "tree", "grass", "field", "beach", "ocean",
    "water", "sky", "wall", "window", "door", "kitchen", "room", "desk", "shirt", "hat", "chicken",
    "beef", "pork", "fish", "rice", "bread", "cheese", "egg", "tomato", "onion", "potato",
    "lamp", "sofa", "pillow", "blanket", "box", "basket", "bag", "plane", "bike", "van", "taxi",
    "sidewalk", "fence", "pole", "sign", "tower", "bridge", "river", "lake", "mountain", "hill",
    "snow", "sand", "rock", "flower", "bush", "leaf", "duck", "goose", "sheep", "goat", "pig",
    "monkey", "lion", "tiger", "deer", "cup", "mug", "glass", "jar", "pan", "pot", "stove",
    "counter", "shelf", "cabinet", "mirror", "towel", "bathtub", "shower", "curtain", "rug",
)

# Category words that are hypernyms of many caption objects (giraffe -> animal, chicken -> meat):
# replacing an object with its category keeps the caption true, so they are never replacements.
# A built-in list stands in for WordNet, which is not available offline.
GENERIC_NOUNS = frozenset((
    "animal", "animals", "creature", "pet", "wildlife", "livestock", "mammal", "beast", "vehicle",
    "transportation", "transport", "food", "meal", "dish", "snack", "dessert", "meat", "produce",
    "fruit", "vegetable", "drink", "beverage", "object", "thing", "item", "stuff", "furniture",
    "appliance", "device", "equipment", "gear", "machine", "tool", "utensil", "container", "clothing",
    "clothes", "garment", "outfit", "toy", "instrument", "plant", "person", "people", "human",
    "individual", "someone", "somebody", "building", "structure", "place", "area", "location",
    "bird", "fish", "insect", "tree", "flower", "accessory", "electronics", "gadget", "decoration",
    "ingredient", "cuisine", "sport", "game", "artwork", "scene", "view", "image", "picture", "photo",
))

# Groups of caption nouns that name the same thing; a swap inside a group keeps the caption true.
NOUN_SYNONYMS: tuple[frozenset, ...] = tuple(frozenset(g) for g in (
    ("man", "guy", "gentleman", "male", "dude", "fellow"), ("woman", "lady", "female", "gal"),
    ("child", "kid", "youngster"), ("boy", "lad"), ("girl", "lass"), ("person", "individual", "someone"),
    ("couch", "sofa"), ("bike", "bicycle"), ("tv", "television"), ("motorcycle", "motorbike"),
    ("plane", "airplane", "aeroplane", "aircraft", "jet", "airliner"), ("automobile", "car"),
    ("phone", "cellphone", "cell phone", "smartphone", "mobile"), ("photo", "picture", "photograph", "image"),
    ("rock", "stone"), ("dog", "puppy", "pup", "doggy"), ("cat", "kitten", "kitty"), ("road", "street"),
    ("laptop", "notebook"), ("bathroom", "restroom", "washroom"), ("doughnut", "donut"), ("taxi", "cab"),
    ("pasta", "noodles"), ("sea", "ocean"), ("glasses", "spectacles", "eyeglasses"), ("hat", "cap"),
    ("sidewalk", "pavement"), ("fridge", "refrigerator"), ("oven", "stove"), ("kid", "child"),
    ("racket", "racquet"), ("cup", "mug"), ("people", "persons", "folks"), ("teddy bear", "teddy"),
))
