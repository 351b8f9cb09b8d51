"""Snapshots of a checkpoint series: stored in order, compared checkpoint by checkpoint.

A verdict on an ordered checkpoint series (the ``checkpoints`` fixture,
``--behav-checkpoints a b c``) is stored like an arm's, each checkpoint's
counts under its spec, but as a list in training order (``per_checkpoint``),
so the order survives and two checkpoints of one spec stay two. An arm's
models are exchangeable and compared as one mean over seeds; a series' are
not: a peak that moved from round 1 to round 3 leaves the series' mean where
it was. So a series is compared with its stored one position by position,
each checkpoint by the two-sample test a single model gets
(``selection.against_baseline``), and the series has changed when one
checkpoint has, Bonferroni over the checkpoints (the smallest p times their
number); the difference shown is that checkpoint's, with its simultaneous
interval (level alpha / checkpoints). "Same" within a margin needs every
checkpoint inside it (the largest TOST p-value: an intersection-union test,
no correction needed). Two series of different lengths are not comparable,
and neither is a series with an arm or a single model.

Which verdicts are on a series: those whose model side was an ordered
checkpoint group (``Measured.ordered``): the series claims
(``peak_at_least``, ``area_at_least``, ``trend``) and comparisons whose
model side is a series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from behavtest.checks import selection
from behavtest.checks.scored import Scored
from behavtest.stats import Inference
from behavtest.verdict import Clusters, Verdict


def is_series(v: Verdict) -> bool:
    """The verdict was measured on an ordered checkpoint series (module docstring)."""
    members = v.evidence.members if v.evidence is not None else v.measured.members
    return bool(members) and v.measured.ordered


def length_mismatch(now: int, was: int) -> str | None:
    """Why two series cannot be compared by position (None: same length)."""
    if now == was:
        return None
    return (f"a series of {now} checkpoints vs a stored one of {was}; fix: rerun with the "
            f"same {was} checkpoints (--behav-checkpoints), or record the new series with "
            "--behav-snapshot-update")


@dataclass(frozen=True)
class SeriesChange:
    """A series against its stored one: the Bonferroni p of a change, and the
    checkpoint that moved most (its difference now - was and interval)."""

    p: float
    estimate: float
    low: float
    high: float
    method: str
    reason: str


def change_p(inf: Inference, allow: str | None) -> float:
    """The p of a change now - was: two-sided, or against the direction not
    allowed (``allow`` "up": only a fall counts). One rule for a single model
    (``store.compare``) and each checkpoint of a series."""
    if allow == "up":
        return inf.p_less
    if allow == "down":
        return inf.p_greater
    return min(1.0, 2 * min(inf.p_greater, inf.p_less))


def _counts(u: Scored) -> str:
    return f"{u.k}/{u.n}" if u.binary else f"{u.mean:.3f}"


def compare(now: Sequence[Scored], was: Sequence[Scored], alpha: float, icc: float,
            allow: str | None = None) -> SeriesChange:
    """Checkpoint i now against checkpoint i as stored (same length: see
    :func:`length_mismatch`), two-sided or against the direction not allowed."""
    size = len(now)
    infs = [selection.against_baseline(x, None, y, None, 0.0, alpha / size, icc).inference
            for x, y in zip(now, was, strict=True)]
    ps = [change_p(inf, allow) for inf in infs]
    at = min(range(size), key=ps.__getitem__)
    inf = infs[at]
    reason = (f"checkpoint {at + 1} of {size} ({now[at].model}) moved most: was "
              f"{_counts(was[at])}, now {_counts(now[at])}")
    return SeriesChange(min(1.0, size * ps[at]), inf.estimate, inf.low, inf.high,
                        f"per checkpoint, Bonferroni over {size}: {inf.method}", reason)


def p_same(now: Sequence[Scored], was: Sequence[Scored], margin: float, alpha: float,
           icc: float) -> float:
    """TOST p-value of "every checkpoint within +-margin of its stored one"."""
    worst = 0.0
    for x, y in zip(now, was, strict=True):
        lo = selection.against_baseline(x, None, y, None, -margin, alpha, icc).inference
        hi = selection.against_baseline(x, None, y, None, margin, alpha, icc).inference
        worst = max(worst, selection.tost(lo, hi, -margin, margin).p_greater)
    return worst


def per_checkpoint(members: tuple[tuple[str, Clusters], ...], binary: bool) -> str:
    """'1. a 17/100, 2. b 37/100': each checkpoint's counts, in order."""
    def one(clusters: Clusters) -> str:
        values = [x for c in clusters for x in c]
        if binary:
            return f"{int(round(sum(values)))}/{len(values)}"
        return f"mean {sum(values) / len(values):.3f}" if values else "no values"

    return ", ".join(f"{i}. {m} {one(c)}" for i, (m, c) in enumerate(members, 1))
