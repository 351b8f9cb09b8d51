"""What the HTML report reads of a verdict: the one place that knows its fields.

The report shows a check's two sides (the model's numbers and, for a
comparison, the baseline's), the difference a comparison tests, how the claim
was judged and corrected, and an equivalence check's margin. They are read
here into small records of this module, so a change in how a ``Verdict`` holds
them touches this module only.

Two of them the verdict does not hold, and are derived here:

- The baseline's interval. It is computed where it can be honestly: the exact
  1 - 2 alpha interval of k/n (Clopper-Pearson, the project's interval for a
  rate: ``stats.one_sided_bounds``) when both sides' samples are independent.
  A mean has none (the verdict keeps no spread for the baseline), nor do an
  arm or clustered samples, where k/n's interval would be too narrow.
- An equivalence check's margin. It is in the check's text only
  (:func:`equivalence`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from behavtest.verdict import Verdict

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


@dataclass(frozen=True)
class Judged:
    """How the claim was judged: the test, its level, both p-values, what it rests on."""

    method: str
    alpha: float
    p_value: float  # of the claim
    p_against: float  # of the opposite claim
    threshold: float | None
    units: int | None  # independent units the test rests on
    unit: str | None  # what they are: samples, prompts, pairs, models, checkpoints
    detectable: str | None  # what this n could have detected

    @property
    def confidence(self) -> str:
        """The level of every interval the verdict shows, 1 - 2 alpha, e.g. '90%'."""
        return f"{1.0 - 2.0 * self.alpha:.0%}"


@dataclass(frozen=True)
class Corrected:
    """The suite-level correction: its method and the adjusted p-values."""

    method: str | None
    p_adjusted: float
    p_against_adjusted: float


@dataclass(frozen=True)
class Equivalence:
    """An equivalence check's margin: [low, high] of the rate or mean, or, when
    ``of_difference``, of the difference model - baseline ([-m, +m])."""

    low: float
    high: float
    of_difference: bool


def judged(v: Verdict) -> Judged:
    return Judged(v.method, v.alpha, v.p_value, v.p_against, v.threshold, v.units, v.unit,
                  v.detectable)


def corrected(v: Verdict) -> Corrected | None:
    if v.p_adjusted is None:
        return None
    return Corrected(v.correction, v.p_adjusted,
                     1.0 if v.p_against_adjusted is None else v.p_against_adjusted)


def _independent(v: Verdict) -> bool:
    """Both sides' samples are independent (not an arm, not prompt clusters or
    pairs): then k/n has an exact interval of its own."""
    return v.unit in (None, "samples") and not v.members and not v.baseline_members


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
    interval: tuple[float, float] | None = (v.low, v.high)
    here = not (math.isfinite(v.low) and math.isfinite(v.high))
    if here:
        interval = _exact(v.k, v.n, v.alpha) if v.baseline is not None and _independent(
            v) else None
    return Side(v.model, v.k, v.n, v.rate, interval, v.members or (), v.parsed,
                here and interval is not None)


def baseline(v: Verdict) -> Side | None:
    """The baseline's side of a comparison; its interval derived (module docstring)."""
    if v.baseline is None or v.baseline_rate is None:
        return None
    interval = _exact(v.baseline_k, v.baseline_n, v.alpha) if _independent(v) else None
    return Side(v.baseline, v.baseline_k, v.baseline_n, v.baseline_rate, interval,
                v.baseline_members or (), exact_here=interval is not None)


def difference(v: Verdict) -> tuple[float, float, float] | None:
    """model - baseline and the interval the comparison tests."""
    if v.effect is None or v.effect_low is None or v.effect_high is None:
        return None
    return v.effect, v.effect_low, v.effect_high


_WITHIN = re.compile(r"within \[(?P<low>[^,\]]+), (?P<high>[^\]]+)\]")
_WITHIN_BASELINE = re.compile(r"within \+-(?P<margin>\S+) of baseline")


def equivalence(v: Verdict) -> Equivalence | None:
    """The margin of an equivalence check (TOST: ``checks.expect``'s ``within``,
    ``at_chance`` and ``same_as``). The verdict holds it as text only: its method
    starts with 'TOST' and its check reads 'within [low, high]' or 'within +-m
    of baseline', the numbers written with ``:g`` (6 significant digits), and it
    is read from there. None for any other check, and for a check text in no
    such form (no band is drawn rather than a guessed one)."""
    if not v.method.startswith("TOST"):
        return None
    try:
        if m := _WITHIN_BASELINE.search(v.check):
            margin = float(m["margin"])
            return Equivalence(-margin, margin, of_difference=True)
        if m := _WITHIN.search(v.check):
            return Equivalence(float(m["low"]), float(m["high"]), of_difference=False)
    except ValueError:
        pass
    return None
