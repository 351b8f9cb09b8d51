"""What the HTML report reads of a verdict: the one place that knows its fields.

The report shows a check's two sides (the model's numbers and, for a
comparison, the baseline's), the difference a comparison tests, how the claim
was judged and corrected, and an equivalence check's margin. They are read
here into small records of this module, so a change in how a ``Verdict`` holds
them touches this module only.

One of them the verdict does not hold, and is derived here: the baseline's
interval. It is computed where it can be honestly: the exact 1 - 2 alpha
interval of k/n (Clopper-Pearson, the project's interval for a rate:
``stats.one_sided_bounds``) when both sides' samples are independent. A mean
has none (the verdict keeps no spread for the baseline), nor do an arm or
clustered samples, where k/n's interval would be too narrow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from behavtest.verdict import Correction, Test, Verdict

__all__ = ["Equivalence", "Judged", "Side", "baseline", "corrected", "difference",
           "equivalence", "judged", "model"]

Member = tuple[str, float, int]
"""(model, rate or mean, n) of one model of an arm."""


@dataclass(frozen=True)
class Side:
    """One side of a check: the model's (or the baseline's) numbers and the
    interval of its rate or mean (None when it has no honest one)."""

    name: str
    k: int | None  # successes; None for a mean of scores
    n: int | None
    rate: float  # the rate, or the mean
    interval: tuple[float, float] | None
    members: tuple[Member, ...] = ()  # an arm: each model's rate and n
    parsed: int | None = None  # replies the scorer could parse (None: all)
    exact_here: bool = False  # the interval is k/n's exact one, computed here

    @property
    def what(self) -> str:
        return "rate" if self.k is not None else "mean"

    def counts(self) -> str:
        """'k/n = rate' for rates, 'mean of n = m' for means."""
        if self.k is None:
            return f"mean of {self.n} = {self.rate:.3f}"
        return f"{self.k}/{self.n} = {self.rate:.3f}"


Judged = Test
"""How the claim was judged: the verdict's own part."""

Corrected = Correction
"""The suite-level correction: the verdict's own part."""


@dataclass(frozen=True)
class Equivalence:
    """An equivalence check's margin: [low, high] of the rate or mean, or, when
    ``of_difference``, of the difference model - baseline ([-m, +m])."""

    low: float
    high: float
    of_difference: bool


def judged(v: Verdict) -> Judged:
    return v.test


def corrected(v: Verdict) -> Corrected | None:
    return v.correction


def _independent(v: Verdict) -> bool:
    """Both sides' samples are independent (not an arm, not prompt clusters or
    pairs): then k/n has an exact interval of its own."""
    return v.test.unit in (None, "samples") and not v.measured.members and not (
        v.baseline is not None and v.baseline.members)


def _exact(k: int | None, n: int | None, alpha: float) -> tuple[float, float] | None:
    if k is None or not n:
        return None
    from behavtest.stats import one_sided_bounds

    return one_sided_bounds(k, n, alpha)


def model(v: Verdict) -> Side:
    """The model's side. Every verdict carries the model's own interval, a
    comparison's too (the difference's is :func:`difference`), except a
    comparison on one value (nan): then k/n's exact interval when the samples
    are independent, else none."""
    m = v.measured
    interval: tuple[float, float] | None = (m.low, m.high)
    here = not (math.isfinite(m.low) and math.isfinite(m.high))
    if here:
        interval = _exact(m.k, m.n, v.test.alpha) if v.baseline is not None and _independent(
            v) else None
    return Side(m.model, m.k, m.n, m.rate, interval, m.members or (), m.parsed,
                here and interval is not None)


def baseline(v: Verdict) -> Side | None:
    """The baseline's side of a comparison; its interval derived (module docstring)."""
    b = v.baseline
    if b is None:
        return None
    interval = _exact(b.k, b.n, v.test.alpha) if _independent(v) else None
    return Side(b.model, b.k, b.n, b.rate, interval, b.members or (),
                exact_here=interval is not None)


def difference(v: Verdict) -> tuple[float, float, float] | None:
    """model - baseline and the interval the comparison tests."""
    d = v.difference
    return None if d is None else (d.estimate, d.low, d.high)


def equivalence(v: Verdict) -> Equivalence | None:
    """The margin of an equivalence check (TOST: ``checks.expect``'s ``within``,
    ``at_chance`` and ``same_as``), as the verdict's test carries it: of the
    difference when the check compares with a baseline. None for any other
    check."""
    if v.test.band is None:
        return None
    low, high = v.test.band
    return Equivalence(low, high, of_difference=v.baseline is not None)
