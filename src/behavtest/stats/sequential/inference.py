"""p-values and intervals after a group-sequential stop, by the stagewise
ordering (Armitage; Fairbanks & Madsen 1982; Jennison & Turnbull 2000, 8.4).

Earlier stops are more extreme, ties in look are ordered by count. That
p-value depends only on looks up to the stop, agrees with the decision
(p < alpha exactly when the boundary was crossed), and is the ordinary exact
binomial p-value when K = 1. Intervals invert it in the rate, giving
Clopper-Pearson when K = 1. With futility regions the design's own outcomes
also include the early INCONCLUSIVE stops; the reported p-value is then the
larger of the stagewise p-value above and the exact tail probability, under
the design *with* its futility stops, of an ordering that ranks every PASS
first (stagewise), then every INCONCLUSIVE outcome (by its stagewise p-value
at the threshold), then every FAIL. The second is an exact p-value of the
procedure actually run at every rate, so the intervals keep their coverage;
the first keeps the decision and the p-value in agreement. At PASS and FAIL
stops (in the verdict's direction) the two coincide with the plain stagewise
value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from behavtest.stats.result import Inference, Outcome
from behavtest.stats.sequential.design import (
    Plan,
    SequentialDesign,
    check_look,
    sequential_decide,
    to_plan,
)
from behavtest.stats.sequential.recursion import sweep
from behavtest.stats.sequential.spending import spending_name

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    BoolArray = NDArray[np.bool_]


def _stagewise(plan: Plan, look: int, x: int, p: float) -> tuple[float, float]:
    """(P_p(stop more extreme upward), P_p(... downward)) than (look, x) in the stagewise
    order of the non-binding design (futility stops ignored)."""
    sw = sweep(plan.looks, p, bounds=(plan.upper, plan.lower), last=look, keep=True)
    up_tail, low_tail = sw.tails[look]
    up = sum(sw.cross_up[:look]) + float(up_tail[x])
    down = sum(sw.cross_low[:look]) + float(low_tail[x])
    return min(1.0, up), min(1.0, down)


@dataclass(frozen=True)
class _Keys:
    """Stagewise p-values at the threshold of every count at every look: the fixed
    order of the INCONCLUSIVE outcomes in the ordering of the actual design."""

    claim: tuple[FloatArray, ...]
    against: tuple[FloatArray, ...]


def _keys(plan: Plan) -> _Keys:
    sw = sweep(plan.looks, plan.p0, bounds=(plan.upper, plan.lower), keep=True)
    claim = tuple(sum(sw.cross_up[:j]) + t[0] for j, t in enumerate(sw.tails))
    against = tuple(sum(sw.cross_low[:j]) + t[1] for j, t in enumerate(sw.tails))
    return _Keys(claim, against)


def _actual(plan: Plan, keys: _Keys, look: int, x: int, p: float) -> tuple[float, float]:
    """Exact tail probabilities at rate p, under the design *with* its futility stops, of
    the ordering PASS (stagewise) > INCONCLUSIVE (by stagewise p at the threshold) >
    FAIL (reverse stagewise), and its mirror image for the other direction."""
    import numpy as np
    sw = sweep(plan.looks, p, bounds=(plan.upper, plan.lower),
               stops=(plan.stop_lo, plan.stop_hi), keep=True)
    k = len(plan.looks)
    up = [float(sw.dens[j][plan.upper[j]:].sum()) for j in range(k)]
    down = [float(sw.dens[j][: max(plan.lower[j] + 1, 0)].sum()) for j in range(k)]
    mid_mass: list[FloatArray] = []
    mids: list[BoolArray] = []
    for j in range(k):
        xs = np.arange(plan.looks[j] + 1)
        inside = (xs > plan.lower[j]) & (xs < plan.upper[j])
        if j < k - 1:
            inside &= (xs >= plan.stop_lo[j]) & (xs <= plan.stop_hi[j])
        mids.append(inside)
        mid_mass.append(np.where(inside, sw.dens[j], 0.0))
    dens = sw.dens[look]
    kind = "pass" if x >= plan.upper[look] else "fail" if x <= plan.lower[look] else "mid"
    total_mid = sum(float(m.sum()) for m in mid_mass)

    def mid_upto(key: tuple[FloatArray, ...], bound: float) -> float:
        return sum(float(m[kj <= bound].sum()) for m, kj in zip(mid_mass, key, strict=True))

    if kind == "pass":
        claim = sum(up[:look]) + float(dens[x:].sum())
        against = (sum(down) + total_mid + sum(up[look + 1:])
                   + float(dens[plan.upper[look]: x + 1].sum()))
    elif kind == "fail":
        claim = (sum(up) + total_mid + sum(down[look + 1:])
                 + float(dens[x: plan.lower[look] + 1].sum()))
        against = sum(down[:look]) + float(dens[: x + 1].sum())
    else:
        claim = sum(up) + mid_upto(keys.claim, float(keys.claim[look][x]))
        against = sum(down) + mid_upto(keys.against, float(keys.against[look][x]))
    return min(1.0, claim), min(1.0, against)


def _pvalues(plan: Plan, keys: _Keys | None, look: int, x: int, p: float) -> tuple[float, float]:
    a, b = _stagewise(plan, look, x, p)
    if keys is None:
        return a, b
    c, d = _actual(plan, keys, look, x, p)
    return max(a, c), max(b, d)


def _oriented(d: SequentialDesign, look: int, successes: int) -> tuple[Plan, int]:
    plan = to_plan(d)
    check_look(d, look, successes)
    return plan, (d.looks[look] - successes if plan.flip else successes)


def stagewise_pvalues(d: SequentialDesign, look: int, successes: int) -> tuple[float, float]:
    """(p_claim, p_against) for a stop at ``look`` (0-based) with ``successes``.

    Stagewise (Armitage / Fairbanks-Madsen) ordering, Jennison & Turnbull 8.4:
    p_claim = P_t(PASS at an earlier look) + P_t(reach this look with a count
    at least as favourable to the claim); p_against likewise towards FAIL; t is
    the threshold, and "reach" ignores futility stops (the non-binding design
    the boundaries were computed under). For a design from
    ``sequential_design``, ``significant(p_claim, alpha)`` holds exactly when
    this look's PASS boundary is crossed (and p_against for FAIL). With K = 1 these are scipy
    ``binomtest`` p-values (alternative 'greater'/'less').

    A design with futility stops (``d.stops_early``) reports the larger of that
    value and the exact tail probability, under the design with its stops, of
    the ordering PASS > INCONCLUSIVE > FAIL (module docstring): the same value
    at PASS and FAIL stops in the verdict's direction; at an INCONCLUSIVE stop
    (futility or budget spent) both p-values are >= alpha, and each is a valid
    p-value of the procedure actually run. At a count where the design would not
    have stopped (or that it cannot reach) the same formulas are returned, but
    they are then not the p-values of a stop of this design.
    """
    plan, x = _oriented(d, look, successes)
    return _pvalues(plan, _keys(plan) if plan.stops_early else None, look, x, plan.p0)


def _invert(f: Callable[[float], float], target: float) -> float:
    """Root in [0, 1] of the increasing function f(p) = target (edge values clamp)."""
    from scipy.optimize import brentq
    g0, g1 = f(0.0) - target, f(1.0) - target
    if g0 >= 0.0:
        return 0.0
    if g1 <= 0.0:
        return 1.0
    return float(brentq(lambda q: f(q) - target, 0.0, 1.0, xtol=1e-15, rtol=1e-15, maxiter=200))


def stagewise_interval(d: SequentialDesign, look: int, successes: int) -> tuple[float, float]:
    """One-sided (1 - alpha) lower and upper bounds on the rate after a stop.

    Each bound is the rate at which the p-value of ``stagewise_pvalues`` (as a
    function of the true rate, which it increases with; scipy ``brentq`` finds
    the root) equals alpha, so ``low > threshold`` agrees with a PASS for
    'greater'. With K = 1 this is Clopper-Pearson at 1 - 2*alpha (scipy
    ``binomtest(...).proportion_ci('exact')``).
    """
    plan, x = _oriented(d, look, successes)
    keys = _keys(plan) if plan.stops_early else None
    lo = _invert(lambda q: _pvalues(plan, keys, look, x, q)[0], d.alpha)
    hi = 1.0 - _invert(lambda q: _pvalues(plan, keys, look, x, 1.0 - q)[1], d.alpha)
    return (1.0 - hi, 1.0 - lo) if plan.flip else (lo, hi)


def method(d: SequentialDesign) -> str:
    """The method line for reports: spending, futility, citations."""
    early = (f"predictive-probability futility stop below {d.futility:g} (Lee & Liu 2008)"
             if d.futility else "no futility stop")
    cite = "Hwang, Shih & DeCani 1990" if isinstance(d.spending, tuple) else "Lan & DeMets 1983"
    return (
        f"group-sequential exact binomial, {len(d.looks)} looks, {spending_name(d.spending)} "
        f"({cite}; Jennison & Turnbull 2000 ch. 7, 12), {early}, stagewise-ordering p-value "
        "and interval (Jennison & Turnbull 8.4)"
    )


def sequential_inference(d: SequentialDesign, look: int, successes: int) -> Inference:
    """The stop at (look, successes) as an ``Inference`` against the threshold.

    p_greater / p_less are the stagewise p-values; low / high the stagewise
    bounds. The estimate is the plain k/n, which is biased after an early stop
    (stopping when the count is extreme exaggerates it); the interval is not.
    """
    p_claim, p_against = stagewise_pvalues(d, look, successes)
    low, high = stagewise_interval(d, look, successes)
    n = d.looks[look]
    p_greater, p_less = (p_claim, p_against) if d.direction == "greater" else (
        p_against, p_claim)
    why = ("; stopped early: neither verdict was still likely (futility)"
           if sequential_decide(d, look, successes) is Outcome.INCONCLUSIVE else "")
    return Inference(
        estimate=successes / n, low=low, high=high, p_greater=p_greater, p_less=p_less,
        method=method(d), null=d.threshold, effect="rate", units=n,
        note=f"look {look + 1} of {len(d.looks)}{why}; estimate k/n is biased after an "
        "early stop",
    )
