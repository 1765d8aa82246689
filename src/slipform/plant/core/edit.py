"""Applying token-level edits to a parsed caption, and measuring how much a negative changed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...text.inflect import article_for, match_case, pluralize
from ..knowledge.tables import MULTIWORD_RELATIONS


@dataclass(frozen=True)
class Edit:
    """Replace tokens ``start:end`` of the parsed caption with ``text``."""

    start: int
    end: int
    text: str


def apply_edits(doc, edits: list[Edit]) -> str:
    """The caption with ``edits`` applied; ``a``/``an`` before an edit is made to agree.

    Built from the caption's text by character offsets, touching only the tokens next to an
    edit (creating a spaCy Token per word costs more than the rest of the rewrite)."""
    text, pieces, pos = doc.text, [], 0
    for e in sorted(edits, key=lambda e: e.start):
        first, last = doc[e.start], doc[e.end - 1]
        new = match_case(first.text, e.text)
        if e.start > 0:
            art = doc[e.start - 1]
            if art.idx >= pos and art.lower_ in ("a", "an"):
                pieces += [text[pos:art.idx], match_case(art.text, article_for(new))]
                pos = art.idx + len(art.text)
        pieces += [text[pos:first.idx], new]
        pos = last.idx + len(last.text)
    pieces.append(text[pos:])
    return "".join(pieces)


_WORD = re.compile(r"[\w'-]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def word_edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance over words."""
    prev = list(range(len(b) + 1))
    for i, wa in enumerate(a, 1):
        cur = [i]
        for j, wb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (wa != wb)))
        prev = cur
    return prev[-1]


_SUFFIXES = {"", "s", "es", "e", "y", "ies", "d", "ed", "ing"}


def same_stem(a: str, b: str) -> bool:
    """Inflectional variants of one word (dog/dogs, ride/riding, baby/babies)."""
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    if k < 3:
        return False
    sa, sb = a[k:], b[k:]
    if a[k - 1] == b[k - 1] and len(sa) >= 3 and sa[0] == a[k - 1]:  # stop/stopping
        sa = sa[1:]
    if len(sb) >= 3 and sb[0] == b[k - 1]:
        sb = sb[1:]
    return sa in _SUFFIXES and sb in _SUFFIXES


def changed_spans(caption: str, negative: str) -> list[tuple[list[str], list[str]]]:
    """Contiguous word spans that differ, ignoring a/an and pure inflection changes.

    Returns pairs (old words, new words); a swap of two words gives two spans.
    """
    import difflib

    a, b = words(caption), words(negative)
    spans = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        old, new = a[i1:i2], b[j1:j2]
        if {*old, *new} <= {"a", "an"}:
            continue
        if len(old) == len(new) and all(same_stem(x, y) or {x, y} <= {"a", "an"} for x, y in zip(old, new)):
            continue
        spans.append((old, new))
    return spans


def is_single_change(caption: str, negative: str) -> bool:
    """One word or a two-word expression replaced (inflection and a/an aside)."""
    spans = changed_spans(caption, negative)
    if len(spans) != 1:
        return False
    old = [w for w in spans[0][0] if w not in ("a", "an")]
    return 1 <= len(old) <= 2 or " ".join(old) in MULTIWORD_RELATIONS


def _same_words(a: list[str], b: list[str]) -> bool:
    """One span's words as another's, inflection aside ("dogs" for "dog")."""
    return len(a) == len(b) >= 1 and all(x == y or same_stem(x, y) or pluralize(x) == y or pluralize(y) == x
                                         for x, y in zip(a, b))


def is_swap(caption: str, negative: str, longest: int = 3) -> bool:
    """Words of the caption rearranged, in two places: past the common start and end, the caption
    reads X M Y and the negative Y M X -- an exchange ("two dogs chasing a cat" -> "two cats
    chasing a dog") -- or X M and M X, or M Y and Y M -- a move ("a red car next to a truck" -> "a
    car next to a red truck"). X and Y are up to ``longest`` words; inflection and a/an aside. The
    negative keeps the caption's multiset of words; anything else that changes two places is not
    a swap."""
    a = [w for w in words(caption) if w not in ("a", "an")]
    b = [w for w in words(negative) if w not in ("a", "an")]
    if len(a) != len(b):
        return False
    start = 0
    while start < len(a) and _same_words(a[start:start + 1], b[start:start + 1]):
        start += 1
    end = len(a)
    while end > start and _same_words(a[end - 1:end], b[end - 1:end]):
        end -= 1
    mid_a, mid_b = a[start:end], b[start:end]
    for nx in range(longest + 1):
        for ny in range(longest + 1):
            if not 0 < nx + ny < len(mid_a) and not (nx and ny and nx + ny == len(mid_a)):
                continue
            x, m, y = mid_a[:nx], mid_a[nx:len(mid_a) - ny], mid_a[len(mid_a) - ny:]
            y2, m2, x2 = mid_b[:ny], mid_b[ny:len(mid_b) - nx], mid_b[len(mid_b) - nx:]
            moved = (x or y) if not (x and y) else None  # one part moves past M
            if moved is not None and not m:
                continue
            if (moved is not None or not _same_words(x, y)) and _same(x, x2) and _same(y, y2) and m == m2:
                return True
    return False


def _same(a: list[str], b: list[str]) -> bool:
    return (not a and not b) or _same_words(a, b)
