"""Scores read off a model's probabilities, each with the mass it rests on.

A probability-based score is conditional: the probability of option A
*among the option labels*, or the expected value *among the complete numbers
0-100*. When most of the model's next-token probability is elsewhere (the
embedded model puts about 16% of it on "A" or "B" at all:
docs/science/small-models.md), the conditional score describes a minority of its answers. So
every reading carries its mass, ``expect`` reports it, and a check whose
readings rest on less than a stated share is INCONCLUSIVE with that reason
instead of a verdict (``expect(..., min_mass=...)``).

For a sampled fallback (an API without log-probabilities) the "mass" is the
share of replies that parsed: the same question, "how much of the model's
answering does this score describe?".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from behavtest.errors import InvalidArgument
from behavtest.scorers.choices import OptionProbabilities

# The default share of probability mass a score must rest on: a majority of
# the model's answers, so the score describes how the model usually answers
# (the run's --behav-min-mass, RunSettings.min_mass, defaults to the same).
MIN_MASS = 0.5

# The least reach an option-probability score must have to be judged at all:
# a reading that cannot leave 0.5 +- 0.1 whatever the model prefers (its answer
# at least 90% decided by the options' position) measures position, not
# preference. Against a baseline it would "differ" by wherever the baseline
# sits from 0.5: a model that always takes slot A reads 0.5 on every question,
# above a baseline at 0.08. Equivalences ask more: a reach of at least their
# margin (``reach_note``).
MIN_REACH = 0.1


@dataclass(frozen=True)
class Reading:
    """One question's score and the probability mass behind it."""

    prompt: str  # the question (or paraphrase) it was read from, for reports
    value: float
    mass: float
    method: str  # "label probability", "number probability", "sampled"
    # Option probabilities only: how far the reading can move from an even split
    # given how much of the answer the option's position decides
    # (``OptionProbabilities.reach``); None where position plays no part.
    reach: float | None = None


@dataclass(frozen=True)
class Readings(Sequence[float]):
    """One model's readings over paraphrases: the values ``expect`` judges."""

    model: str
    what: str  # e.g. "P(Risk)", "risk scale / 100"
    readings: tuple[Reading, ...]
    # The values a reading can take: probabilities and scale fractions lie in [0, 1].
    # A verdict's interval for the model is cut to it (the true mean lies inside, so
    # the cut keeps the coverage); None for values without known bounds.
    bounds: tuple[float, float] | None = (0.0, 1.0)
    unit: str = "prompts"  # what one reading is: a question, or a model of an arm

    def __post_init__(self) -> None:
        if not self.readings:
            raise InvalidArgument(f"no readings of {self.what}; fix: ask at least one question")
        if self.bounds is not None:
            low, high = self.bounds
            outside = [r.value for r in self.readings if not low <= r.value <= high]
            if outside:
                raise InvalidArgument(
                    f"readings of {self.what} outside their bounds [{low}, {high}]: "
                    f"{outside[0]}; fix: pass Readings(..., bounds=(low, high)), or None")

    @overload
    def __getitem__(self, i: int) -> float: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[float]: ...
    def __getitem__(self, i: int | slice) -> float | Sequence[float]:
        return self.values[i]

    def __len__(self) -> int:
        return len(self.readings)

    def __iter__(self) -> Iterator[float]:
        return iter(self.values)

    @property
    def values(self) -> list[float]:
        return [r.value for r in self.readings]

    @property
    def mass(self) -> float:
        """The mean mass over readings."""
        return sum(r.mass for r in self.readings) / len(self.readings)

    @property
    def method(self) -> str:
        return ", ".join(sorted({r.method for r in self.readings}))

    def per_item(self, askings: int) -> Readings:
        """Every ``askings`` consecutive readings as one, their mean: the unit when
        one item was asked several ways (a lottery in two label styles). Readings
        of one item are not independent, so a test over all of them would count
        askings as items and understate its standard error (a check at its margin
        then passed 4 times in 20 instead of at most once). An arm's readings
        (one per model) are returned as they are."""
        if self.unit == "models" or askings == 1:
            return self
        if askings < 1 or len(self.readings) % askings:
            raise InvalidArgument(f"{len(self.readings)} readings of {self.what} do not "
                                  f"split into items of {askings}")
        items = [self.readings[i:i + askings] for i in range(0, len(self.readings), askings)]
        return Readings(self.model, self.what, tuple(
            Reading(group[0].prompt, _mean([r.value for r in group]),
                    _mean([r.mass for r in group]), group[0].method,
                    None if any(r.reach is None for r in group)
                    else _mean([r.reach or 0.0 for r in group]))
            for group in items
        ), self.bounds, self.unit)

    def reaches(self) -> Readings:
        """Each reading's reach as readings of their own, to show before an
        equivalence that the instrument can move on this model:
        ``expect(r.reaches()).rate_at_least(margin)`` (in a precondition)."""
        if any(r.reach is None for r in self.readings):
            raise InvalidArgument(f"{self.what} has readings without a reach (only option "
                                  "probabilities have one); fix: ask choice questions")
        return Readings(self.model, f"reach of {self.what}", tuple(
            Reading(r.prompt, r.reach or 0.0, r.mass, r.method) for r in self.readings
        ), (0.0, 1.0), self.unit)

    @property
    def reach(self) -> float | None:
        """The mean reach over the readings that have one (None: none has)."""
        reaches = [r.reach for r in self.readings if r.reach is not None]
        return sum(reaches) / len(reaches) if reaches else None


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def option_readings(
    model: str, probabilities: Sequence[OptionProbabilities], option: str | Sequence[str],
    prompts: Sequence[str] | None = None,
) -> Readings:
    """P(option) from each question (averaged over its orders), as readings;
    ``option`` is one option's text for all, or one per question."""
    n = len(probabilities)
    if prompts is not None and len(prompts) != n:
        raise InvalidArgument(f"{len(prompts)} prompts for {n} questions")
    options = [option] * n if isinstance(option, str) else list(option)
    if len(options) != n:
        raise InvalidArgument(f"{len(options)} options for {n} questions; fix: one per question")
    what = f"P({option})" if isinstance(option, str) else "P(the option asked)"
    return Readings(model, what, tuple(
        Reading(prompts[i] if prompts else f"question {i + 1}", p.probability(o), p.mass,
                "label probability", p.reach)
        for i, (p, o) in enumerate(zip(probabilities, options, strict=True))
    ))


def per_model(name: str, members: Sequence[Readings]) -> Readings:
    """An arm's readings: one per model, its mean over questions (docs/statistics.md,
    "What a verdict is about": across fine-tune seeds the model is the unit)."""
    if not members:
        raise InvalidArgument(f"the arm {name} has no models")
    return Readings(name, members[0].what, tuple(
        Reading(m.model, sum(m.values) / len(m), m.mass, m.method, m.reach) for m in members
    ), members[0].bounds, "models")


def reach_note(readings: Readings, margin: float = MIN_REACH) -> str | None:
    """Why a check on these readings cannot be judged (None: it can): the position
    of the options decides so much of the answer that the order-averaged reading
    cannot move by ``margin`` from an even split, so it reads position, not
    preference. Every check asks MIN_REACH; an equivalence ("the same",
    "within", "does not move") asks its margin, since below it "the same" would
    hold whatever the model prefers."""
    reach = readings.reach
    if reach is None or reach >= margin:
        return None
    return (
        f"{readings.model}'s {readings.what} is decided by the options' position: "
        f"averaged over orders it can move at most +-{reach:.3f} from an even split, "
        f"under the {margin:g} required (the instrument cannot move on this model)"
    )


def mass_note(readings: Readings, min_mass: float) -> str | None:
    """Why a check on these readings cannot be judged (None: it can)."""
    if readings.mass >= min_mass:
        return None
    return (
        f"{readings.model}'s {readings.what} rests on {readings.mass:.1%} of its answers "
        f"({readings.method}), under the {min_mass:.0%} required: the score describes a "
        "minority of how it answers"
    )
