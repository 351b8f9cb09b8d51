"""Several models as one unit of analysis: an arm of fine-tune seeds, or an
ordered series of training checkpoints.

Published self-awareness effects are measured over 3-10 fine-tunes per arm
(Betley et al., 2025; docs/statistics.md): per-sample p-values from one fine-tune say nothing
about the next seed. A :class:`ModelGroup` samples every member on the same
prompts and hands ``expect`` one :class:`Samples` per model, so checks can run
on per-model rates (the seed is the unit) and reports can show each model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from behavtest.errors import InvalidArgument
from behavtest.sampling.handle import ModelHandle, Prompt, Samples
from behavtest.scorers.base import Scorer
from behavtest.scorers.choices import ChoiceQuestion, OptionProbabilities
from behavtest.scorers.readings import Readings, per_model


@dataclass(frozen=True)
class GroupSamples(Sequence[Samples]):
    """One Samples per member model, in the group's order."""

    label: str
    members: tuple[Samples, ...]
    ordered: bool  # a checkpoint series (order matters) rather than an arm of seeds

    @overload
    def __getitem__(self, i: int) -> Samples: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Samples]: ...
    def __getitem__(self, i: int | slice) -> Samples | Sequence[Samples]:
        return self.members[i]

    def __len__(self) -> int:
        return len(self.members)

    def __iter__(self) -> Iterator[Samples]:
        return iter(self.members)


@dataclass
class ModelGroup:
    """Models tests see as one ``model`` (or ``baseline``, or ``checkpoints``)."""

    handles: tuple[ModelHandle, ...]
    ordered: bool = False

    def __post_init__(self) -> None:
        if not self.handles:
            raise InvalidArgument("a model group needs at least one model")

    @property
    def name(self) -> str:
        kind = "series" if self.ordered else "arm"
        return f"{kind} of {len(self.handles)}: " + ", ".join(h.spec for h in self.handles)

    def __len__(self) -> int:
        return len(self.handles)

    @property
    def budget(self) -> int:
        """The run's sample budget per test (``--behav-samples``), as for one model."""
        return self.handles[0].budget

    def sample(
        self,
        prompt: Prompt | None = None,
        *,
        prompts: Sequence[Prompt] | None = None,
        n: int | None = None,
        total: int | None = None,
        system: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        max_tokens: int | None = None,
        stop_for: Scorer[Any] | None = None,
        stop_after_lines: int | None = None,
        sequential: bool | None = None,
        prefill: str | Sequence[str] | None = None,
    ) -> GroupSamples:
        """``ModelHandle.sample`` on every member, same arguments. Sequential
        stopping does not apply to groups (the verdict rests on all members),
        so ``sequential`` is accepted and ignored."""
        return GroupSamples(
            self.name,
            tuple(
                h.sample(
                    prompt, prompts=prompts, n=n, total=total, system=system,
                    temperature=temperature, top_p=top_p, top_k=top_k, max_tokens=max_tokens,
                    stop_for=stop_for, stop_after_lines=stop_after_lines, sequential=False,
                    prefill=prefill,
                )
                for h in self.handles
            ),
            self.ordered,
        )

    def choice(
        self, question: ChoiceQuestion, *, system: str | None = None
    ) -> list[OptionProbabilities]:
        """Option probabilities of every member (each averaged over option orders)."""
        return [h.choice(question, system=system) for h in self.handles]

    def probability_of(
        self, option: str | Sequence[str], questions: Sequence[ChoiceQuestion], *,
        system: str | None = None,
    ) -> Readings:
        """``ModelHandle.probability_of`` on every member, one reading per model
        (its mean over the questions): the arm's unit is the model."""
        return per_model(self.name, [h.probability_of(option, questions, system=system)
                                     for h in self.handles])

    def scale(
        self, prompts: Sequence[Prompt], low: int = 0, high: int = 100, *,
        system: str | None = None, what: str = "scale", n: int = 100,
    ) -> Readings:
        """``ModelHandle.scale`` on every member, one reading per model."""
        return per_model(self.name, [h.scale(prompts, low, high, system=system, what=what, n=n)
                                     for h in self.handles])


Model = ModelHandle | ModelGroup
"""What the ``model`` and ``baseline`` fixtures hold: one model, or an arm of them."""
