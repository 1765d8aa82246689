"""The ``lexical`` backend: :class:`~slipform.plant.lexical.rewriter.LexicalRewriter` for a target
(``route="target"``), :mod:`slipform.plant.lexical.routes` for an anchor and its route (``"anchor"``)."""

from __future__ import annotations

from functools import cached_property

from ..core.anchor import Routed
from ..core.backend import Backend, Job, Proposal, register
from ..core.edit import apply_edits
from .rewriter import LexicalRewriter
from .routes import route_edit


@register("lexical")
class LexicalBackend(Backend):
    """Offline: :class:`LexicalRewriter` over the input's vocabulary and slot model."""

    routes = True

    @cached_property
    def rewriter(self) -> LexicalRewriter:
        plant, config = self.plant, self.plant.config
        return LexicalRewriter(plant.lexicon, plant.vocabulary, plant.vectors, config.band,
                               fallback=config.fallback_vocabulary, plausibility=config.plausibility,
                               min_plausibility=config.min_plausibility, same_kind=config.same_kind)

    def prepare(self) -> None:
        self.rewriter  # noqa: B018 - embeds the vocabulary

    def rewrite(self, jobs: list[Job]) -> list[Proposal | str]:
        rewriter = self.rewriter
        # embed every possible target in one batch instead of one word at a time
        rewriter.vectors.ensure({key for j in jobs for key in (j.target.lemma, j.target.text.lower())})
        out: list[Proposal | str] = []
        for job in jobs:
            t = job.target
            if isinstance(t, Routed):
                out.append(self._routed(job))
                continue
            rw = rewriter.rewrite(job.doc, t, job.rng)
            if rw is None:
                out.append("no replacement found")
                continue
            out.append(Proposal(apply_edits(job.doc, list(rw.edits)), t.text, t.role, t.concreteness,
                                rw.replacement, (rw.target_key, rw.replacement_key), rw.plausibility))
        return out

    def _routed(self, job: Job) -> Proposal | str:
        """A negative of ``route="anchor"`` (:mod:`slipform.plant.lexical.routes`)."""
        t = job.target
        made = route_edit(self.rewriter, job.doc, t, job.rng)
        if made is None:
            return "no edit on any route"
        rw = made.rewrite
        return Proposal(apply_edits(job.doc, list(rw.edits)), made.target, made.role, t.anchor.concreteness,
                        rw.replacement, (rw.target_key, rw.replacement_key), rw.plausibility, edit=made.edit,
                        anchor=t.anchor.text)
