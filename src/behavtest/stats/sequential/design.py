"""What a group-sequential design is: its looks and boundaries
(``SequentialDesign``), and the verdict they give at a look
(``sequential_decide``).

Internally every design is read in the 'greater' orientation (``Plan``):
'less' is the mirror image, count n - X against threshold 1 - t.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from behavtest.stats.result import Outcome, check_alpha
from behavtest.stats.sequential.spending import Spending

EMPTY = (0, -1)
"""An empty futility interval (internal orientation)."""


@dataclass(frozen=True)
class SequentialDesign:
    """Boundaries of a group-sequential test of a rate against ``threshold``.

    ``looks`` are the cumulative sample sizes at which the count is checked
    (the last is the budget). At look j (0-based), for ``direction='greater'``
    (claim: the rate is above the threshold) PASS if successes >= ``pass_at[j]``
    and FAIL if successes <= ``fail_at[j]``; for ``'less'`` PASS if successes
    <= ``pass_at[j]`` and FAIL if successes >= ``fail_at[j]``. None means no
    count that can occur at that look (given the stops at earlier looks)
    passes (fails) there. ``stop_at[j] = (lo, hi)`` stops INCONCLUSIVE early
    (futility, see ``futility``) if lo <= successes <= hi; None, or an
    empty ``stop_at``, means no early INCONCLUSIVE stop (always None at the last
    look, where INCONCLUSIVE is simply the budget running out). ``spending`` and
    ``futility`` record how the design was made.
    """

    threshold: float
    alpha: float
    direction: str  # 'greater' | 'less'
    looks: tuple[int, ...]
    pass_at: tuple[int | None, ...]
    fail_at: tuple[int | None, ...]
    stop_at: tuple[tuple[int, int] | None, ...] = ()
    spending: Spending = "obf"
    futility: float | None = None

    @property
    def budget(self) -> int:
        return self.looks[-1]

    @property
    def can_pass(self) -> bool:
        """False when no outcome can ever PASS (budget too small for this alpha)."""
        return any(c is not None for c in self.pass_at)

    @property
    def can_fail(self) -> bool:
        """False when no outcome can ever FAIL."""
        return any(f is not None for f in self.fail_at)

    @property
    def stops_early(self) -> bool:
        """True when some count stops INCONCLUSIVE before the last look."""
        return any(s is not None for s in self.stop_at)


# --- internal 'greater' orientation -------------------------------------------------
# 'less' is the mirror image: count n - X, threshold 1 - t. Internally a design is
# (looks, p0, upper, lower, stop_lo, stop_hi): stop upward (PASS) at look j if
# x >= upper[j], downward (FAIL) if x <= lower[j], INCONCLUSIVE if stop_lo[j] <= x <=
# stop_hi[j]; upper[j] = n_j + 1 / lower[j] = -1 / stop_lo > stop_hi mean "never".


@dataclass(frozen=True)
class Plan:
    looks: tuple[int, ...]
    p0: float
    upper: tuple[int, ...]
    lower: tuple[int, ...]
    stop_lo: tuple[int, ...]
    stop_hi: tuple[int, ...]
    flip: bool

    @property
    def stops_early(self) -> bool:
        return any(a <= b for a, b in zip(self.stop_lo, self.stop_hi, strict=True))


def check_direction(direction: str) -> None:
    if direction not in ("greater", "less"):
        raise ValueError(f"direction {direction!r} is not 'greater' or 'less'")


def check_threshold_alpha(threshold: float, alpha: float) -> None:
    if not 0.0 < threshold < 1.0:
        raise ValueError(
            f"threshold={threshold} must lie strictly between 0 and 1: a rate cannot be "
            "shown to exceed 1 or fall below 0, so no test is possible"
        )
    check_alpha(alpha)


def check_looks(looks: Sequence[int]) -> tuple[int, ...]:
    out = tuple(int(n) for n in looks)
    if not out:
        raise ValueError("need at least one look")
    if out[0] < 1 or any(b <= a for a, b in zip(out, out[1:], strict=False)):
        raise ValueError(f"looks {out} must be positive and strictly increasing")
    return out


def to_plan(d: SequentialDesign) -> Plan:
    check_direction(d.direction)
    check_threshold_alpha(d.threshold, d.alpha)
    looks = check_looks(d.looks)
    if len(d.pass_at) != len(looks) or len(d.fail_at) != len(looks):
        raise ValueError("pass_at and fail_at need one entry per look")
    stop_at = d.stop_at or (None,) * len(looks)
    if len(stop_at) != len(looks):
        raise ValueError("stop_at needs one entry per look (or none at all)")
    if stop_at[-1] is not None:
        raise ValueError("stop_at must be None at the last look: the budget ends there")
    flip = d.direction == "less"
    upper: list[int] = []
    lower: list[int] = []
    s_lo: list[int] = []
    s_hi: list[int] = []
    for n, c, f, s in zip(looks, d.pass_at, d.fail_at, stop_at, strict=True):
        if flip:
            upper.append(n + 1 if c is None else n - c)
            lower.append(-1 if f is None else n - f)
        else:
            upper.append(n + 1 if c is None else c)
            lower.append(-1 if f is None else f)
        if upper[-1] <= lower[-1]:
            raise ValueError(f"PASS and FAIL regions overlap at look n={n}")
        a, b = EMPTY if s is None else ((n - s[1], n - s[0]) if flip else s)
        if a <= b and not lower[-1] < a <= b < upper[-1]:
            raise ValueError(
                f"stop_at {s} at look n={n} must lie strictly between the FAIL and PASS "
                "regions"
            )
        s_lo.append(a)
        s_hi.append(b)
    return Plan(looks, 1.0 - d.threshold if flip else d.threshold, tuple(upper),
                tuple(lower), tuple(s_lo), tuple(s_hi), flip)


def check_look(d: SequentialDesign, look: int, successes: int) -> None:
    if not 0 <= look < len(d.looks):
        raise ValueError(f"look={look} must index the design's {len(d.looks)} looks (0-based)")
    if not 0 <= successes <= d.looks[look]:
        raise ValueError(f"successes={successes} must lie in [0, n={d.looks[look]}]")


def sequential_decide(d: SequentialDesign, look: int, successes: int) -> Outcome | None:
    """Verdict at look ``look`` (0-based) with ``successes`` among the first looks[look].

    Returns PASS or FAIL when a boundary is crossed, INCONCLUSIVE for an early
    stop (a futility or curtailment stop, see ``SequentialDesign.stop_at``), or
    None: keep sampling, or, at the last look, INCONCLUSIVE (the budget is
    spent). Anything but None ends sampling. This reads the design's
    boundaries, which is what the procedure runs; for a design from
    ``sequential_design`` a crossing is exactly ``result.decide`` on the
    stagewise p-values (``inference.stagewise_pvalues``), and those p-values
    are never significant at an INCONCLUSIVE stop.
    """
    check_look(d, look, successes)
    c, f = d.pass_at[look], d.fail_at[look]
    if d.direction == "greater":
        if c is not None and successes >= c:
            return Outcome.PASS
        if f is not None and successes <= f:
            return Outcome.FAIL
    else:
        if c is not None and successes <= c:
            return Outcome.PASS
        if f is not None and successes >= f:
            return Outcome.FAIL
    s = d.stop_at[look] if d.stop_at else None
    if s is not None and s[0] <= successes <= s[1]:
        return Outcome.INCONCLUSIVE
    return None

