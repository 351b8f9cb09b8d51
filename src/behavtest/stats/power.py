"""Power and sample-size planning for the exact tests behavtest runs.

Power is computed *exactly* for the exact tests (binomial, Fisher) rather than
with the usual normal approximations, because behaviour rates sit near 0 and
the approximations are badly off there (far too few samples per arm against a
rate near 0; tests/test_stats.py checks the exact answers against science.md's).
Normal approximations only seed the search.
"""

from __future__ import annotations

import math

_MAX_EXACT_N = 3000
_MAX_EXACT_GAP_N = 150  # above this, detectable-gap messages use the normal approximation


def significance_cut(alpha: float) -> float:
    """The p-value below which ``significant`` rejects: alpha less a relative 1e-9.
    Vectorised code compares whole arrays of p-values with it."""
    return alpha * (1.0 - 1e-9)


def significant(p: float, alpha: float) -> bool:
    """The one rejection rule used by verdicts *and* power: p strictly below alpha.

    A relative guard of 1e-9 makes p-values that equal alpha in exact
    arithmetic (e.g. 0.05 from one library, 0.04999999999999999 from another)
    count the same everywhere, so the planner never promises power at a tie
    that the verdict would not deliver.
    """
    return p < significance_cut(alpha)


def _critical_k(n: int, p0: float, alpha: float) -> int:
    """Smallest k whose one-sided 'greater' p-value P(X >= k | n, p0) is significant."""
    from scipy import stats as _st
    k = max(0, int(_st.binom.isf(alpha, n, p0)) - 1)
    while k <= n and not significant(float(_st.binom.sf(k - 1, n, p0)), alpha):
        k += 1
    return k


def binomial_power(n: int, p1: float, p0: float, alpha: float) -> float:
    """Power of the one-sided exact binomial test of rate p0 when the true rate is p1.

    Direction follows the alternative: p1 > p0 tests 'greater', p1 < p0 'less'.
    """
    from scipy import stats as _st
    if p1 < p0:
        return binomial_power(n, 1.0 - p1, 1.0 - p0, alpha)
    k = _critical_k(n, p0, alpha)
    if k > n:
        return 0.0
    return float(_st.binom.sf(k - 1, n, p1))


def samples_for_rate(p1: float, p0: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Smallest n whose one-sided exact binomial test of p0 reaches ``power`` at p1.

    Exact binomial power saw-tooths in n; this returns the first n that reaches
    the target, which is what a user asking "how many samples" needs.
    """
    if p1 == p0:
        raise ValueError("p1 equals p0: no sample size detects a zero effect")
    for n in range(1, 1_000_000):
        if binomial_power(n, p1, p0, alpha) >= power:
            return n
    raise ValueError("more than a million samples needed")  # pragma: no cover


def fisher_power(n1: int, n2: int, p1: float, p2: float, alpha: float) -> float:
    """Exact power of the one-sided Fisher test of rate1 > rate2 (n1, n2 per arm).

    Sums P(k1) P(k2) over every table whose conditional (hypergeometric)
    p-value is below alpha; the p-value is the same number scipy's
    ``fisher_exact(alternative='greater')`` returns.
    """
    import numpy as np
    from scipy import stats as _st
    if p1 < p2:
        return fisher_power(n2, n1, p2, p1, alpha)
    k1 = np.arange(n1 + 1)[:, None]
    k2 = np.arange(n2 + 1)[None, :]
    total = k1 + k2
    pvals = _st.hypergeom.sf(k1 - 1, n1 + n2, n1, total)
    weights = _st.binom.pmf(k1, n1, p1) * _st.binom.pmf(k2, n2, p2)
    return float(np.sum(weights[pvals < significance_cut(alpha)]))


def _normal_per_arm(p1: float, p2: float, alpha: float, power: float) -> float:
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize
    h = abs(proportion_effectsize(p1, p2))
    return float(
        NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, alternative="larger")
    )


def samples_per_arm(
    p1: float, p2: float, alpha: float = 0.05, power: float = 0.8
) -> tuple[int, bool]:
    """Per-arm n for a one-sided Fisher test of p1 vs p2; returns (n, exact).

    Exact search up to 3000 per arm; beyond that the arcsine-normal
    approximation is returned and flagged (exact=False).
    """
    if p1 == p2:
        raise ValueError("the two rates are equal: no sample size detects a zero effect")
    approx = _normal_per_arm(p1, p2, alpha, power)
    if approx > _MAX_EXACT_N:
        return math.ceil(approx), False
    n = max(2, int(approx * 0.8))
    # The normal approximation can overestimate for exact tests at small n
    # only rarely; walk down while the smaller n still has the power.
    while n > 2 and fisher_power(n - 1, n - 1, p1, p2, alpha) >= power:
        n -= 1
    while fisher_power(n, n, p1, p2, alpha) < power:
        n += 1
        if n > _MAX_EXACT_N:
            return math.ceil(approx), False
    return n, True


def detectable_gap(
    n: int, base_rate: float, alpha: float, power: float = 0.8, direction: str = "greater"
) -> tuple[float | None, bool]:
    """Smallest rate gap from ``base_rate`` that a one-sided Fisher test with n per
    arm detects with ``power``; returns (gap or None, exact).

    Exact (bisection on exact Fisher power, 14 steps: 3 decimals) up to 150
    per arm; above that the exact power costs seconds per evaluation, so the
    arcsine-normal approximation answers and is flagged (exact=False).
    """
    from statsmodels.stats.power import NormalIndPower
    sign = 1.0 if direction == "greater" else -1.0
    room = (1.0 - base_rate) if direction == "greater" else base_rate
    if room <= 0:
        return None, True
    if n > _MAX_EXACT_GAP_N:
        h = float(
            NormalIndPower().solve_power(
                nobs1=n, ratio=1.0, alpha=alpha, power=power, alternative="larger"
            )
        )
        phi = 2 * math.asin(math.sqrt(base_rate)) + sign * h
        if not 0.0 <= phi <= math.pi:
            return None, False
        return abs(math.sin(phi / 2) ** 2 - base_rate), False
    if fisher_power(n, n, base_rate + sign * room, base_rate, alpha) < power:
        return None, True
    lo, hi = 0.0, room
    for _ in range(14):
        mid = (lo + hi) / 2
        ok = fisher_power(n, n, base_rate + sign * mid, base_rate, alpha) >= power
        lo, hi = (lo, mid) if ok else (mid, hi)
    return hi, True


def min_detectable_rate(
    n: int, threshold: float, alpha: float, power: float = 0.8, direction: str = "greater"
) -> float | None:
    """The true rate that the one-sided exact test at this n detects with ``power``.

    ``direction='greater'``: smallest rate above the threshold; ``'less'``:
    largest rate below it. None if no rate in [0, 1] is detectable at this n.
    """
    if direction == "less":
        r = min_detectable_rate(n, 1.0 - threshold, alpha, power, "greater")
        return None if r is None else 1.0 - r
    if binomial_power(n, 1.0, threshold, alpha) < power:
        return None
    lo, hi = threshold, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if binomial_power(n, mid, threshold, alpha) >= power:
            hi = mid
        else:
            lo = mid
    return hi
