"""Where data enters ``expect``: its shape decided once.

``expect`` takes replies sampled from one model (``Samples``), a sequential
budget of them, the samples of an arm or a checkpoint series
(``GroupSamples``), probability-based ``Readings``, or plain numbers. Each
asks for different handling: a scorer or none, clusters by prompt or one unit
per value, a probability mass the scores rest on. This module tells them apart
once and hands ``expect`` an :class:`Entered`, so no check asks again what its
data are.

It is also where a judged check is decided once: a scorer that carries an LLM
judge's agreement with a labelled set (``checks.judge.JudgedScorer``) hands it
to :class:`Entered`, every verdict on the data carries it, and a judge below
its floor makes each of them INCONCLUSIVE through :meth:`Entered.unjudged`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from behavtest.checks.group import GroupSamples
from behavtest.checks.scored import Scored, score_readings, score_samples, score_values
from behavtest.errors import InvalidArgument
from behavtest.sampling.handle import Samples, SequentialSamples
from behavtest.scorers.base import reads_lines
from behavtest.scorers.readings import Readings, mass_note, reach_note
from behavtest.verdict import JudgeAgreement

__all__ = ["Data", "Entered", "enter"]

Data = Samples | GroupSamples | Readings | Sequence[float]
Score = Callable[[str], Any]


@dataclass(frozen=True)
class Entered:
    """The data of one ``expect``, with what its shape implies.

    ``scored`` is the data scored (for a sequential budget: None until a check
    needs all of it, see :meth:`full`); ``group`` each model's scored data
    when the data came from several (an arm, a series: ``ordered``);
    ``readings`` the probability-based readings they are, if they are;
    ``sequential`` the budget a one-prompt rate check may draw in looks;
    ``judge`` the judge's agreement with its labelled set when the scorer is an
    LLM judge's."""

    scored: Scored | None
    group: tuple[Scored, ...] | None = None
    ordered: bool = False
    readings: Readings | None = None
    sequential: SequentialSamples | None = None
    judge: JudgeAgreement | None = None

    @property
    def what(self) -> str | None:
        """What the readings measure (their label when no scorer names them)."""
        return None if self.readings is None else self.readings.what

    @property
    def mass(self) -> float | None:
        """The least probability mass the readings rest on (None: not readings)."""
        return None if self.readings is None else self.readings.mass

    @property
    def bounds(self) -> tuple[float, float] | None:
        """Where the readings' mean can lie (None: a rate's [0, 1] or unbounded)."""
        return None if self.readings is None else self.readings.bounds

    def unjudged(self, min_mass: float) -> str | None:
        """Why no check on these data can be judged (None: it can): readings on
        too little mass or reach, or a judge whose agreement with its labelled
        set is below its floor (``JudgeAgreement.shortfall``)."""
        notes = [] if self.judge is None else [self.judge.shortfall()]
        if self.readings is not None:
            notes += [mass_note(self.readings, min_mass), reach_note(self.readings)]
        return "; ".join(n for n in notes if n) or None

    @property
    def arm(self) -> tuple[tuple[str, float, int], ...] | None:
        """An arm's readings are one per model: each model's value, so the verdict
        speaks for those seeds."""
        r = self.readings
        if r is None or r.unit != "models":
            return None
        return tuple((x.prompt, x.value, 1) for x in r.readings)

    def full(self, scorer: Score | None) -> Scored:
        """The scored data, all of it (a sequential budget drawn in full)."""
        if self.scored is not None:
            return self.scored
        assert self.sequential is not None and scorer is not None
        return score_samples(self.sequential.full(), scorer)


def enter(data: Data, scorer: Score | None, name: str) -> Entered:
    """Decide the data's shape, check it against the scorer, and score it (a
    sequential budget is checked now and scored when read); a judge's scorer
    brings its agreement with labels."""
    judge = getattr(scorer, "agreement", None)
    entered = _shape(data, scorer, name)
    return replace(entered, judge=judge) if isinstance(judge, JudgeAgreement) else entered


def _shape(data: Data, scorer: Score | None, name: str) -> Entered:
    """The data's shape, checked and scored."""
    if isinstance(data, SequentialSamples):
        check_samples(data, scorer, name)
        return Entered(None, sequential=data)
    if isinstance(data, GroupSamples):
        if not data.members:
            raise InvalidArgument("the model group has no samples")
        group = tuple(_one(m, scorer, name) for m in data.members)
        first = group[0]
        if any(u.binary != first.binary for u in group):
            raise InvalidArgument("the group's models were scored differently")
        pooled = tuple(c for u in group for c in u.clusters)
        scored = Scored(data.label, first.binary, pooled, sum(u.n for u in group),
                        sum(u.parsed for u in group))
        return Entered(scored, group, data.ordered)
    readings = data if isinstance(data, Readings) else None
    return Entered(_one(data, scorer, name), readings=readings)


def _one(data: Any, scorer: Score | None, name: str) -> Scored:
    """One model's data, scored."""
    if isinstance(data, Samples):
        check_samples(data, scorer, name)
        if len(data) == 0:
            raise InvalidArgument("no samples to judge; fix: sample with n >= 1")
        assert scorer is not None
        return score_samples(data, scorer)
    if isinstance(data, Readings):
        if scorer is not None:
            raise InvalidArgument("readings are already scores; fix: expect(readings)")
        return score_readings(data)
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence):
        raise InvalidArgument(
            f"expect() takes model.sample(...) results or a list of numbers, got "
            f"{type(data).__name__}"
        )
    if len(data) == 0:
        raise InvalidArgument("no values to judge; fix: pass at least one value")
    if scorer is not None:
        raise InvalidArgument("a scorer applies to samples, not to plain values")
    return score_values(data, name)


def check_samples(data: Samples, scorer: Score | None, name: str) -> None:
    """Replies can be judged by this scorer: there are some, a scorer is given,
    and it reads no more of a reply than was sampled."""
    if len(data.prompts) == 0:
        raise InvalidArgument("no samples to judge; fix: sample with n >= 1")
    if scorer is None:
        raise InvalidArgument("expect(samples) needs a scorer; fix: expect(samples, scorer)")
    cut, reads = data.settings.stop_after_lines, reads_lines(scorer)
    if cut and (reads is None or reads > cut):
        what = "the whole reply" if reads is None else f"{reads} lines"
        raise InvalidArgument(
            f"these replies were cut after {cut} lines, but scorer {name!r} "
            f"reads {what}; fix: sample with stop_for=<this scorer> (or without a cut)"
        )
