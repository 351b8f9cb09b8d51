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

A verdict on an ordered checkpoint series (:func:`series`) is also read per
checkpoint, in training order: each checkpoint's k/n with its exact 95%
interval (Clopper-Pearson, ``stats.clopper_pearson``: one checkpoint's
samples are independent draws), for the plot of the rate over rounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from behavtest.verdict import Correction, Measured, Test, Verdict

__all__ = ["SERIES_LEVEL", "Checkpoint", "Equivalence", "Judged", "Series", "Side",
           "baseline", "corrected", "difference", "equivalence", "judged", "model", "series"]

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


SERIES_LEVEL = 0.95
"""The level of each checkpoint's own interval in the series plot."""

@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint of a series: its spec, k/n (k None for a mean), its rate or
    mean and, for a rate, the exact 95% interval of k/n."""

    name: str
    k: int | None
    n: int
    rate: float
    interval: tuple[float, float] | None

    def counts(self) -> str:
        if self.k is None:
            return f"mean of {self.n} = {self.rate:.3f}"
        low, high = self.interval or (math.nan, math.nan)
        return f"{self.k}/{self.n} = {self.rate:.3f} [{low:.3f}, {high:.3f}]"


@dataclass(frozen=True)
class Series:
    """A verdict's checkpoint series, in training order: the model's side
    (``name``: the series' own), and a comparison's baseline either as a
    control series of its own (``control``, one model per position) or, when
    it is one model or an arm of another length, as one ``level``."""

    name: str
    checkpoints: tuple[Checkpoint, ...]
    control: tuple[Checkpoint, ...] = ()
    control_name: str | None = None
    # Where each control checkpoint stands among the series' (0-based); () when
    # they line up one to one. A control without the series' first rounds (the
    # abduction control has no descriptions round) stands beside its namesakes.
    control_at: tuple[int, ...] = ()
    level: float | None = None  # the baseline's rate, drawn across the rounds


def _checkpoint(name: str, rate: float, n: int, k: int | None) -> Checkpoint:
    if k is None or not n:
        return Checkpoint(name, None, n, rate, None)
    from behavtest.stats.binomial import clopper_pearson

    return Checkpoint(name, k, n, k / n, clopper_pearson(k, n, SERIES_LEVEL))


def _points(side: Measured, v: Verdict, own: bool) -> tuple[Checkpoint, ...]:
    """Each member's point; k from the evidence's counts when it has them (the
    model's side), else rate * n (what ``Measured.members`` keeps)."""
    counts = {}
    if own and v.evidence is not None and v.evidence.members:
        counts = {i: round(sum(x for c in cs for x in c))
                  for i, (_, cs) in enumerate(v.evidence.members)}
    binary = side.k is not None
    return tuple(_checkpoint(name, rate, n, counts.get(i, round(rate * n)) if binary else None)
                 for i, (name, rate, n) in enumerate(side.members or ()))


def series(v: Verdict) -> Series | None:
    """The verdict's checkpoint series (None when it was not measured on one):
    a series claim's, or a comparison's whose model side is an ordered group
    (``Measured.ordered``)."""
    m = v.measured
    if not m.members or not m.ordered:
        return None
    points, b = _points(m, v, own=True), v.baseline
    if b is None:
        return Series(m.model, points)
    if b.members and len(b.members) == len(points):
        return Series(m.model, points, _points(b, v, own=False), b.model)
    at = _namesakes([c.name for c in points], [name for name, _, _ in b.members or ()])
    if at:
        return Series(m.model, points, _points(b, v, own=False), b.model, control_at=at)
    return Series(m.model, points, control_name=b.model, level=b.rate)


def short_name(spec: str) -> str:
    """A checkpoint's last path part (``hf/./runs/ckpt-100`` -> ``ckpt-100``)."""
    return spec.rstrip("/").rsplit("/", 1)[-1] or spec


def _namesakes(series: list[str], control: list[str]) -> tuple[int, ...]:
    """The series position of each control checkpoint by short name (``round-3``
    beside ``round-3``), in order and each name once; () when they do not all
    have one."""
    mine, theirs = [short_name(n) for n in series], [short_name(n) for n in control]
    if len(set(mine)) < len(mine) or len(set(theirs)) < len(theirs):
        return ()
    at = tuple(mine.index(n) for n in theirs if n in mine)
    return at if len(at) == len(theirs) and list(at) == sorted(at) else ()
