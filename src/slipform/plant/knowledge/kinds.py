"""What kind of thing a noun names: the table that keeps an object change inside its kind.

A good object negative replaces a thing by another thing *of the same kind* that the photo does
not show: a horse by a cow, a pizza by a sandwich, a bus by a truck. Words of another kind make
absurd captions ("an old man reading a sandwich", "a cart full of beach"), and a word more
general or more specific than the target can stay true (giraffe -> animal, people -> women).

Why a curated table and not a taxonomy: WordNet is the obvious source, but no wheel on the
package index ships its data for offline use (``nltk`` downloads it at run time), and its senses
need disambiguation that a caption gives no help with ("glass" the material, the cup, the pane;
"chicken" the bird, the meat). Caption vocabulary is small and skewed: COCO's 80 categories and
their neighbours cover most objects people photograph. So the kinds are a table this module
owns and tests/test_kinds.py checks (every word in one kind only; no synonym of the target in
its kind; every kind has enough members to draw from). Kinds are narrow on purpose ("farm
animal", "wild animal", "bird"): replacements should be plausible in the same photo's slot, and
the slot model and the language-model scorer rank within a kind, never across kinds.

A noun outside the table is not an object target: ConcretePlant tries the caption's next
candidate instead, and the summary counts the rejection ("object of unknown kind").

``PERSON_CONTRASTS`` are the only person changes: one gender or age for another, never a word
that may name the same person (person -> man, people -> women, player -> man).
"""

from __future__ import annotations

KINDS: dict[str, tuple[str, ...]] = {
    "pet": ("dog", "cat", "rabbit", "hamster"),
    "livestock": ("horse", "cow", "sheep", "goat", "pig", "donkey"),
    "wild animal": ("elephant", "bear", "zebra", "giraffe", "lion", "tiger", "deer", "monkey", "polar bear",
                    "rhino", "kangaroo"),
    "bird": ("duck", "goose", "pigeon", "seagull", "parrot", "owl", "swan", "crow", "chicken"),
    "fast food": ("pizza", "sandwich", "hot dog", "burger", "hamburger", "taco", "burrito", "sub"),
    "baked good": ("donut", "doughnut", "cake", "cookie", "muffin", "bagel", "pie", "cupcake", "croissant",
                   "pastry", "bread"),
    "breakfast": ("pancake", "waffle", "omelet", "cereal", "toast"),
    "fruit": ("banana", "apple", "orange", "grape", "strawberry", "lemon", "pear", "peach", "cherry",
              "pineapple", "watermelon", "lime", "kiwi", "mango", "blueberry"),
    "vegetable": ("broccoli", "carrot", "tomato", "onion", "potato", "lettuce", "cucumber", "corn",
                  "mushroom", "cauliflower", "celery", "zucchini", "cabbage", "asparagus", "spinach"),
    "meat": ("beef", "pork", "ham", "bacon", "sausage", "steak", "shrimp", "salmon"),
    "dish": ("salad", "soup", "pasta", "rice", "noodle", "sushi", "fries", "stew", "curry"),
    "drink": ("coffee", "tea", "wine", "beer", "juice", "milk", "soda", "lemonade"),
    "road vehicle": ("car", "truck", "bus", "motorcycle", "bicycle", "scooter", "tractor", "van"),
    "aircraft": ("airplane", "helicopter", "jet", "glider"),
    "watercraft": ("ship", "canoe", "kayak", "sailboat", "ferry", "yacht", "raft"),
    "seat": ("chair", "couch", "bench", "stool", "armchair", "recliner", "bed"),
    "table": ("table", "desk", "counter", "nightstand"),
    "storage": ("shelf", "cabinet", "dresser", "bookshelf", "drawer", "cupboard"),
    "appliance": ("oven", "microwave", "refrigerator", "toaster", "dishwasher", "blender", "stove"),
    "tableware": ("plate", "bowl", "cup", "tray", "saucer", "platter"),
    "cutlery": ("fork", "knife", "spoon", "chopsticks", "spatula"),
    "vessel": ("bottle", "jar", "vase", "pitcher", "can", "teapot", "kettle", "wine glass"),
    "cookware": ("pan", "pot", "skillet", "wok"),
    "electronics": ("laptop", "computer", "keyboard", "phone", "television", "monitor", "remote", "camera",
                    "tablet", "cell phone"),
    "top": ("shirt", "jacket", "coat", "sweater", "dress", "vest", "hoodie", "suit", "uniform", "blouse"),
    "headwear": ("hat", "helmet", "beanie", "bandana", "crown", "hood"),
    "neckwear": ("tie", "scarf", "necklace"),
    "legwear": ("jeans", "shorts", "skirt", "pants", "trousers"),
    "footwear": ("shoe", "boot", "sneaker", "sandal", "slipper"),
    "bag": ("backpack", "handbag", "suitcase", "purse", "briefcase"),
    "ball game gear": ("frisbee", "ball", "kite", "baseball", "football", "soccer ball", "basketball",
                       "tennis ball", "volleyball"),
    "board": ("skateboard", "surfboard", "snowboard", "skis", "sled"),
    "bat": ("bat", "racket", "baseball bat", "tennis racket", "golf club", "hockey stick", "paddle"),
    "bathroom fixture": ("toilet", "bathtub", "shower", "sink", "urinal"),
    "street fixture": ("traffic light", "stop sign", "fire hydrant", "parking meter", "street sign",
                       "lamp post", "mailbox", "street light"),
    "room": ("kitchen", "bathroom", "bedroom", "living room", "office", "classroom", "garage", "hallway"),
    "building": ("house", "church", "tower", "barn", "skyscraper", "castle", "cabin", "hotel", "station",
                 "shop", "restaurant", "store"),
    "landscape": ("beach", "field", "forest", "mountain", "hill", "desert", "meadow", "pasture", "valley",
                  "park", "farm", "jungle"),
    "body of water": ("ocean", "lake", "river", "pond", "pool", "stream", "harbor", "bay"),
    "ground": ("snow", "sand", "grass", "dirt", "mud", "gravel", "ice"),
    "way": ("street", "road", "sidewalk", "highway", "path", "trail", "bridge"),
    "plant": ("tree", "bush", "palm tree", "hedge", "cactus", "shrub"),
    "flower": ("rose", "tulip", "daisy", "sunflower", "lily", "orchid"),
    "toy": ("teddy bear", "doll", "toy car", "stuffed animal", "puppet", "balloon"),
    "soft furnishing": ("pillow", "blanket", "rug", "curtain", "towel", "sheet", "cushion", "mat"),
    "barrier": ("fence", "gate", "railing", "net"),  # no wall: "wall mounted", "on the wall" -> "railing"
    "container": ("box", "basket", "bucket", "crate", "bin", "barrel"),
    "light": ("lamp", "candle", "lantern", "chandelier", "flashlight"),
    "instrument": ("guitar", "piano", "violin", "drum", "trumpet", "flute", "cello"),
    "shape": ("circle", "square", "triangle", "star", "heart", "cross", "diamond", "rectangle", "hexagon"),
    "hand tool": ("scissors", "hammer", "screwdriver", "wrench", "shovel", "broom", "saw"),
    "grooming": ("toothbrush", "comb", "hair drier", "razor"),
}

# One gender or age for the other: the only person changes that a photo of the original refutes.
PERSON_CONTRASTS: dict[str, tuple[str, ...]] = {
    "man": ("woman",), "woman": ("man",), "men": ("women",), "women": ("men",),
    "boy": ("girl",), "girl": ("boy",), "lady": ("man",), "gentleman": ("woman",), "guy": ("woman",),
    "child": ("man", "woman"), "kid": ("man", "woman"), "father": ("mother",), "mother": ("father",),
    "king": ("queen",), "queen": ("king",), "husband": ("wife",), "wife": ("husband",),
    "brother": ("sister",), "sister": ("brother",), "son": ("daughter",), "daughter": ("son",),
    "skier": ("snowboarder",), "snowboarder": ("skier",),
}

# Pairs in one kind that a photo of one can still fit (the replacement names the same thing for
# many readers): never swapped for each other.
CONFUSABLE: frozenset[frozenset[str]] = frozenset(frozenset(p) for p in (
    ("car", "van"), ("truck", "van"), ("bus", "van"), ("jet", "airplane"), ("boat", "ship"), ("boat", "sailboat"),
    ("boat", "yacht"), ("boat", "canoe"), ("boat", "kayak"), ("boat", "ferry"), ("boat", "raft"),
    ("train", "trolley"), ("train", "tram"), ("ship", "ferry"), ("sailboat", "yacht"), ("canoe", "kayak"), ("donut", "doughnut"),
    ("burger", "hamburger"), ("sandwich", "sub"), ("couch", "armchair"), ("chair", "armchair"), ("chair", "recliner"),
    ("shelf", "bookshelf"), ("table", "desk"), ("table", "nightstand"), ("cup", "saucer"), ("plate", "platter"),
    ("tray", "platter"), ("pot", "kettle"), ("pan", "skillet"), ("pan", "wok"), ("bottle", "wine glass"),
    ("phone", "cell phone"), ("computer", "laptop"), ("computer", "monitor"), ("television", "monitor"),
    ("laptop", "tablet"), ("jacket", "coat"), ("jacket", "hoodie"), ("sweater", "hoodie"), ("shirt", "blouse"),
    ("suit", "uniform"), ("jeans", "pants"), ("pants", "trousers"), ("jeans", "trousers"), ("shoe", "sneaker"),
    ("boot", "shoe"), ("hat", "beanie"), ("hat", "crown"), ("hood", "hoodie"), ("handbag", "purse"),
    ("ball", "soccer ball"), ("ball", "football"), ("ball", "basketball"), ("ball", "tennis ball"),
    ("ball", "baseball"), ("ball", "volleyball"), ("football", "soccer ball"), ("bat", "baseball bat"),
    ("racket", "tennis racket"), ("paddle", "racket"), ("bathtub", "shower"), ("street sign", "stop sign"),
    ("lamp post", "street light"), ("shop", "store"), ("shop", "restaurant"), ("store", "restaurant"),
    ("house", "cabin"), ("hill", "mountain"), ("field", "meadow"), ("field", "pasture"), ("meadow", "pasture"),
    ("field", "farm"), ("pasture", "farm"), ("park", "field"), ("forest", "jungle"), ("ocean", "bay"),
    ("ocean", "harbor"), ("harbor", "bay"), ("lake", "pond"), ("river", "stream"), ("dirt", "mud"),
    ("sand", "dirt"), ("dirt", "gravel"), ("snow", "ice"), ("street", "road"), ("road", "highway"),
    ("path", "trail"), ("street", "sidewalk"), ("track", "trail"), ("bush", "shrub"), ("bush", "hedge"),
    ("shrub", "hedge"), ("tree", "palm tree"), ("laptop", "keyboard"), ("computer", "keyboard"),
    ("suit", "shirt"), ("uniform", "shirt"), ("suit", "tie"), ("suit", "coat"), ("computer", "monitor"), ("television", "monitor"), ("shoe", "slipper"),
    ("teddy bear", "stuffed animal"), ("doll", "stuffed animal"), ("toy car", "stuffed animal"),
    ("pillow", "cushion"), ("blanket", "sheet"), ("rug", "mat"), ("towel", "mat"), ("box", "crate"),
    ("bin", "bucket"), ("bin", "box"), ("lamp", "lantern"), ("lamp", "chandelier"), ("clock", "watch"),
    ("brush", "toothbrush"), ("brush", "comb"), ("square", "rectangle"), ("square", "diamond"),
    ("rectangle", "diamond"), ("cake", "cupcake"), ("cake", "pie"), ("muffin", "cupcake"), ("bread", "toast"),
    ("bread", "bagel"), ("pastry", "croissant"), ("pastry", "pie"), ("pastry", "donut"), ("pastry", "doughnut"),
    ("pastry", "muffin"), ("pastry", "cupcake"), ("pastry", "cake"), ("cookie", "pastry"), ("steak", "beef"),
    ("ham", "pork"), ("bacon", "pork"), ("sausage", "pork"), ("noodle", "pasta"), ("stew", "soup"),
    ("curry", "stew"), ("soda", "lemonade"), ("juice", "lemonade"), ("tomato", "cherry"), ("lemon", "lime"),
    ("tangerine", "orange"), ("pool", "pond"), ("station", "tower"), ("restaurant", "hotel"),
    ("subway", "train"), ("tram", "trolley"), ("train", "tram"), ("motorcycle", "scooter"),
    ("bicycle", "scooter"), ("sink", "bathtub"), ("oven", "stove"), ("microwave", "oven"), ("toaster", "oven"),
    ("duck", "goose"), ("goose", "swan"), ("seagull", "pigeon"), ("crow", "pigeon"), ("bear", "polar bear"),
))

KIND_OF: dict[str, str] = {w: kind for kind, words in KINDS.items() for w in words}

# How big a thing of each kind is, coarsely: two things may exchange places beside each other
# ("a car behind a truck" -> "a truck behind a car") only on one scale ("a cup behind a bus" is
# no photo). Kinds of places (rooms, landscapes, ground, ways, water, buildings) have no scale:
# they are settings, never exchanged with a thing in them.
SCALES: dict[str, tuple[str, ...]] = {
    "handheld": ("fast food", "baked good", "breakfast", "fruit", "vegetable", "meat", "dish", "drink", "tableware",
                 "cutlery", "vessel", "cookware", "electronics", "bag", "ball game gear", "bat", "toy", "grooming",
                 "hand tool", "flower", "container"),
    "worn": ("top", "headwear", "neckwear", "legwear", "footwear"),
    "furniture": ("seat", "table", "storage", "appliance", "bathroom fixture", "soft furnishing", "light",
                  "instrument", "board"),
    "vehicle": ("road vehicle", "aircraft", "watercraft"),
    "fixture": ("street fixture", "barrier"),
    "shape": ("shape",),
}
SCALE_OF: dict[str, str] = {kind: scale for scale, kinds in SCALES.items() for kind in kinds}
# Kinds whose things a caption may exchange wherever they stand ("a desk with two monitors and a
# laptop" -> "two laptops and a monitor"): things used alike, so that each fits the other's place.
# Food only within a list ("two donuts and a muffin"; never "a sandwich has carrots" -> "a carrot
# has sandwiches"), clothes never a dress or a skirt ("a girl in a dress and a man in a tie").
EXCHANGE_GROUPS: dict[str, tuple[str, ...]] = {
    "dishes": ("tableware", "vessel"),
    "food": ("fast food", "baked good", "breakfast", "fruit", "vegetable", "meat", "dish"),
    "clothes": ("top", "headwear", "neckwear", "legwear", "footwear"),
    "vehicles": ("road vehicle",),
    "shapes": ("shape",),
    **{kind: (kind,) for kind in ("electronics", "appliance", "table", "storage", "ball game gear", "board", "bat", "bag", "toy", "soft furnishing", "container",
                                  "instrument", "cutlery", "drink", "aircraft", "watercraft")},
}
EXCHANGE_GROUP_OF: dict[str, str] = {kind: g for g, kinds in EXCHANGE_GROUPS.items() for kind in kinds}


def _by_suffix(low: str) -> str | None:
    """The table word a regular plural comes from ("cherries" -> "cherry", "shelves" -> "shelf"), or None."""
    for cut, add in (("ies", "y"), ("ves", "f"), ("es", ""), ("s", "")):
        if low.endswith(cut) and (low[: -len(cut)] + add) in KIND_OF:
            return low[: -len(cut)] + add
    return None


# the plurals the rewriter itself writes (slipform.text.inflect) that the suffix rules do not read back;
# tests/test_mut_plant_knowledge_more.py checks every table word's plural against base
_IRREGULAR_OF: dict[str, str] = {"geese": "goose", "knives": "knife", "cacti": "cactus"}


def base(word: str) -> str:
    """The table's form of a noun as a caption may inflect it ("dogs" -> "dog", "geese" -> "goose",
    "women" -> "women")."""
    low = word.lower()
    if low in KIND_OF or low in PERSON_CONTRASTS:
        return low
    return _IRREGULAR_OF.get(low) or _by_suffix(low) or low


def kind_of(lemma: str) -> str | None:
    """The kind a noun lemma names, or None for a noun outside the table."""
    return KIND_OF.get(lemma)


def same_kind(lemma: str) -> tuple[str, ...]:
    """The words that may replace ``lemma``: its kind's other members, confusable ones excluded
    (for a person, its :data:`PERSON_CONTRASTS`)."""
    if lemma in PERSON_CONTRASTS:
        return PERSON_CONTRASTS[lemma]
    kind = KIND_OF.get(lemma)
    if kind is None:
        return ()
    return tuple(w for w in KINDS[kind] if w != lemma and frozenset((w, lemma)) not in CONFUSABLE)


def is_object_change(old: str, new: str) -> str | None:
    """Why replacing noun ``old`` by ``new`` is not a same-kind change, or None when it is."""
    old, new = base(old), base(new)
    if old in PERSON_CONTRASTS:
        return None if new in PERSON_CONTRASTS[old] else "person changed to a word that may name the same person"
    if KIND_OF.get(old) is None:
        return "object of unknown kind"
    if KIND_OF.get(new) != KIND_OF[old]:
        return "object replaced by another kind of thing"
    if frozenset((old, new)) in CONFUSABLE:
        return "replacement a photo of the original may still show"
    return None
