"""What a planting backend is, and the registry that names them.

A backend turns *jobs* (a caption, its parse, one target to change) into *proposals* (a
negative caption and what changed), or into the reason it could not. ConcretePlant owns the
one per-caption loop: it asks the backend for each caption's targets, sends jobs in rounds
(one target per missing negative), checks what comes back, and records it. Backends:

- ``lexical`` (:mod:`slipform.plant.lexical.backend`): related, plausible words and the routes
  around a concrete anchor, offline;
- ``negclip`` (:mod:`slipform.plant.backends.swap`): NegCLIP's swaps of two parts of the caption;
- ``hf`` and ``openai`` (:mod:`slipform.plant.backends.llm`): an instruction-tuned LLM rewrites.

Adding one is one module that subclasses :class:`Backend` under ``@register("name")``
(and, for a built-in, its module name in ``_BUILTIN``).
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from ...text.io import Caption


class Planter(Protocol):
    """What a backend uses of the planter that owns it (:class:`slipform.plant.core.planter.ConcretePlant`),
    named here so that this module imports nothing of the planter's: ``config`` is its
    ``PlantConfig``; ``lexicon``, ``vectors``, ``vocabulary`` and ``slots`` are loaded lazily."""

    config: Any
    lexicon: Any
    vectors: Any
    vocabulary: Any
    slots: Any

    def targets(self, item: Caption, doc) -> list: ...

    def no_target_reason(self, doc) -> str: ...


@dataclass(frozen=True)
class Job:
    """Change ``target`` of one caption; ``rng`` is the caption's own, shared by its jobs."""

    index: int
    item: Caption
    doc: Any
    target: Any
    rng: random.Random


@dataclass(frozen=True)
class Proposal:
    """A negative and what it changed; ``keys`` are the words whose MiniLM similarity is recorded."""

    negative: str
    target: str
    role: str
    concreteness: float | None
    replacement: str
    keys: tuple[str, str]
    plausibility: float | None = None
    extra: dict = field(default_factory=dict)
    edit: str = "replace"  # "replace": one word or expression changed; "swap": two exchange places
    anchor: str | None = None  # the thing the route changed something about (``route="anchor"``)


class Backend:
    """One way of writing negatives. Subclasses override :meth:`rewrite`, and may override the rest."""

    name: ClassVar[str] = ""
    #: read the input's vocabulary and slot model before planting (replacements, plausibility)
    needs_vocabulary: ClassVar[bool] = True
    #: its negatives change one place of the caption (checked by :mod:`slipform.plant.core.verify`)
    one_change: ClassVar[bool] = True
    #: it edits around an anchor (``PlantConfig(route="anchor")`` hands it :class:`Routed` jobs);
    #: a backend without routes gets the target reading, whatever the config says
    routes: ClassVar[bool] = False

    def __init__(self, plant: Planter):
        self.plant = plant

    @classmethod
    def check(cls, config: Any) -> None:
        """Raise ValueError when ``config`` (a ``PlantConfig``) lacks what this backend needs."""

    def targets(self, item: Caption, doc) -> list:
        """What to change in this caption, best first: by default the concreteness-selected candidates."""
        return self.plant.targets(item, doc)

    def no_target_reason(self, doc) -> str:
        return self.plant.no_target_reason(doc)

    def queue(self, targets: list, need: int) -> list:
        """The order in which a caption's targets are tried until it has ``need`` negatives:
        by default each once, the next after a failure."""
        return list(targets)

    def prepare(self) -> None:
        """Load what the first chunk would otherwise wait for (called once per worker)."""

    def rewrite(self, jobs: list[Job]) -> list[Proposal | str]:
        """One proposal, or the reason there is none, per job."""
        raise NotImplementedError


_REGISTRY: dict[str, type[Backend]] = {}
_BUILTIN = ("lexical.backend", "backends.swap", "backends.llm")  # modules under slipform.plant that register backends


def register(name: str):
    """Class decorator: make a :class:`Backend` available as ``PlantConfig(backend=name)``."""
    def wrap(cls: type[Backend]) -> type[Backend]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls
    return wrap


def _load_builtin() -> None:
    for module in _BUILTIN:
        importlib.import_module(f"slipform.plant.{module}")


def backend_names() -> tuple[str, ...]:
    _load_builtin()
    return tuple(_REGISTRY)


def get_backend(name: str) -> type[Backend]:
    """The backend class registered as ``name``; a ValueError lists the known ones."""
    if name not in _REGISTRY:
        _load_builtin()
    if name not in _REGISTRY:
        raise ValueError(f"unknown backend {name!r}; choose from {', '.join(backend_names())}")
    return _REGISTRY[name]
