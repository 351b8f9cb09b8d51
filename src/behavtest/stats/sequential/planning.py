"""What a design will do: exact operating characteristics, and the budget a
power target needs.
"""

from __future__ import annotations

from behavtest.stats.power import randomized_binomial_power as _randomized_power
from behavtest.stats.sequential.build import DEFAULT_FUTILITY, DEFAULT_SPENDING, sequential_design
from behavtest.stats.sequential.design import SequentialDesign, check_threshold_alpha, to_plan
from behavtest.stats.sequential.recursion import sweep
from behavtest.stats.sequential.spending import Spending

_MAX_BUDGET = 200_000


def sequential_oc(d: SequentialDesign, p: float) -> tuple[float, float, float]:
    """Exact (P(PASS), P(FAIL), expected samples drawn) when the true rate is p,
    futility and curtailment stops included."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p={p} must lie in [0, 1]")
    plan = to_plan(d)
    sw = sweep(plan.looks, 1.0 - p if plan.flip else p, bounds=(plan.upper, plan.lower),
               stops=(plan.stop_lo, plan.stop_hi))
    ended = [u + v + s for u, v, s in zip(sw.cross_up, sw.cross_low, sw.cross_stop,
                                          strict=True)][:-1]  # looks before the last
    reach_last = max(0.0, 1.0 - sum(ended))
    expected_n = sum(n * s for n, s in zip(plan.looks, ended, strict=False))
    expected_n += plan.looks[-1] * reach_last
    return min(1.0, sum(sw.cross_up)), min(1.0, sum(sw.cross_low)), expected_n


def sequential_budget_for_power(
    threshold: float,
    p1: float,
    alpha: float,
    power: float,
    looks: int | None = None,
    *,
    spending: Spending = DEFAULT_SPENDING,
    futility: float | None = DEFAULT_FUTILITY,
    curtail: bool = True,
) -> int:
    """Smallest budget N whose design (``sequential_design(..., looks, spending=,
    futility=, curtail=)``, the same defaults) PASSes with probability >= ``power`` when the
    true rate is p1 (direction: p1's side of the threshold). The power is exact
    and includes the futility stops.

    Exact power saw-tooths in N, so this scans N upward, starting where the
    randomized most-powerful fixed-n test first reaches the power: no level-alpha
    test on fewer draws can, so no smaller N is skipped. ``looks`` is a number
    of looks or None (one per 16 samples), not sizes: sizes would fix the budget.
    """
    check_threshold_alpha(threshold, alpha)
    if p1 == threshold:
        raise ValueError("p1 equals the threshold: no budget detects a zero effect")
    if not 0.0 <= p1 <= 1.0 or not 0.0 < power < 1.0:
        raise ValueError("p1 must lie in [0, 1] and power in (0, 1)")
    if looks is not None and not isinstance(looks, int):
        raise ValueError("sequential_budget_for_power takes a number of looks (or None), not sizes")
    direction = "greater" if p1 > threshold else "less"
    q1, q0 = (p1, threshold) if direction == "greater" else (1.0 - p1, 1.0 - threshold)
    target = power - 1e-9  # float slack: the bound must not overshoot
    hi = 1
    while _randomized_power(hi, q1, q0, alpha) < target:
        hi *= 2
        if hi > 4 * _MAX_BUDGET:
            raise ValueError(f"more than {_MAX_BUDGET} samples needed")
    lo = hi // 2 + 1 if hi > 1 else 1
    while lo < hi:  # randomized power is nondecreasing in n
        mid = (lo + hi) // 2
        if _randomized_power(mid, q1, q0, alpha) >= target:
            hi = mid
        else:
            lo = mid + 1
    for budget in range(lo, _MAX_BUDGET + 1):
        d = sequential_design(threshold, budget, alpha, direction, looks, spending=spending,
                              futility=futility, curtail=curtail)
        if sequential_oc(d, p1)[0] >= power:
            return budget
    raise ValueError(f"more than {_MAX_BUDGET} samples needed")  # pragma: no cover


def sequential_detectable(d: SequentialDesign, power: float) -> float | None:
    """The true rate the design passes with probability ``power`` (bisection on its
    exact operating characteristic), or None when no true rate reaches it."""
    edge = 1.0 if d.direction == "greater" else 0.0
    if sequential_oc(d, edge)[0] < power:
        return None
    lo, hi = d.threshold, edge
    for _ in range(30):
        mid = (lo + hi) / 2
        if sequential_oc(d, mid)[0] >= power:
            hi = mid
        else:
            lo = mid
    return hi
