"""Two independent samples of binary outcomes (model vs baseline): Fisher's
test, Newcombe's interval, and the score tests of a difference of rates.

The score tests (Farrington-Manning, Miettinen-Nurminen) need the maximum-
likelihood rates under the null difference; ``restricted_mle`` is the one
solver for all of them, because statsmodels' is wrong for a nonzero null.
"""

from __future__ import annotations

import math

from behavtest.stats.binomial import Alternative


def fisher_pvalue(k1: int, n1: int, k2: int, n2: int, alternative: Alternative) -> float:
    """Fisher's exact test of rate1 vs rate2 (scipy ``fisher_exact``).

    ``alternative='greater'`` tests rate1 > rate2. Fisher conditions on the
    margins, so it is conservative; it never exceeds its nominal level.
    """
    from scipy import stats as _st
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    return float(_st.fisher_exact(table, alternative=alternative).pvalue)


def rate_difference_interval(
    k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe hybrid-score interval for rate1 - rate2 (statsmodels, method 'newcomb').

    Newcombe's interval keeps near-nominal coverage at rates near 0 and 1,
    where the Wald interval collapses, which is where behaviour rates live.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep
    low, high = confint_proportions_2indep(
        k1, n1, k2, n2, method="newcomb", compare="diff", alpha=1.0 - confidence
    )
    return float(low), float(high)


def _loglik(k1: float, n1: float, k2: float, n2: float, delta: float, p2: float) -> float:
    """Binomial log-likelihood of both samples at rate2 = p2, rate1 = p2 + delta."""
    def term(k: float, m: float, p: float) -> float:
        out = 0.0
        if k:
            out += k * math.log(p) if p > 0 else -math.inf
        if m - k:
            out += (m - k) * math.log1p(-p) if p < 1 else -math.inf
        return out
    p1 = min(max(p2 + delta, 0.0), 1.0)
    return term(k1, n1, p1) + term(k2, n2, p2)


def restricted_mle(k1: float, n1: float, k2: float, n2: float, delta: float) -> float:
    """Restricted MLE of rate2 under rate1 - rate2 = delta.

    The score equation reduces to the cubic of Miettinen & Nurminen (1985,
    Stat. Med. 4:213, appendix): N x^3 + ((n1 + 2 n2) d - N - K) x^2 +
    ((n2 d - N - 2 k2) d + K) x + k2 d (1 - d) = 0. Its feasible real roots
    (numpy ``roots``) and the ends of the feasible range [max(0, -d),
    min(1, 1 - d)] (boundary solutions at counts of 0 or n) are compared by
    likelihood. Written here because statsmodels 0.14/0.15
    ``score_test_proportions_2indep`` has ``count0`` where ``nobs0`` belongs in
    the x coefficient (statsmodels issue #10269, open), so its score tests and
    intervals for ``value != 0`` are wrong, and NaN for some counts. One
    solver for every score test of a rate difference here: Farrington-Manning
    (``unpaired.fisher_test`` with a margin) and Miettinen-Nurminen
    (``score_z``, used by ``rao_scott.clustered_rate_difference`` on real-valued
    effective counts).
    """
    import numpy as np
    n, k = n1 + n2, k1 + k2
    coeffs = [
        float(n),
        (n1 + 2 * n2) * delta - n - k,
        (n2 * delta - n - 2 * k2) * delta + k,
        k2 * delta * (1 - delta),
    ]
    lo, hi = max(0.0, -delta), min(1.0, 1.0 - delta)
    cands = [lo, hi]
    for r in np.roots(coeffs):
        if abs(r.imag) <= 1e-7 * max(1.0, abs(r.real)) and lo - 1e-9 <= r.real <= hi + 1e-9:
            cands.append(min(max(float(r.real), lo), hi))
    return max(cands, key=lambda p2: _loglik(k1, n1, k2, n2, delta, p2))


def score_z(k1: float, n1: float, k2: float, n2: float, delta: float) -> float:
    """z of the Miettinen-Nurminen score test of rate1 - rate2 = delta.

    z = (p1_hat - p2_hat - delta) / se, se^2 = (N / (N - 1)) (q1 (1 - q1) / n1
    + q2 (1 - q2) / n2) at the restricted MLE (q1 = q2 + delta). se = 0 only
    when q1, q2 are both 0 or both 1 (delta = 0, every outcome 0 or every
    outcome 1): then the observed difference is 0 = delta and z is NaN.
    """
    q2 = restricted_mle(k1, n1, k2, n2, delta)
    q1 = min(max(q2 + delta, 0.0), 1.0)
    n = n1 + n2
    var = (q1 * (1 - q1) / n1 + q2 * (1 - q2) / n2) * n / (n - 1)
    num = k1 / n1 - k2 / n2 - delta
    if var <= 0.0:
        return math.nan if abs(num) < 1e-12 else math.copysign(math.inf, num)
    return num / math.sqrt(var)


def score_pvalue_2indep(
    k1: int, n1: int, k2: int, n2: int, delta: float, alternative: str
) -> float:
    """One-sided Miettinen-Nurminen score p-value for rate1 - rate2 vs ``delta``
    ('greater': rate1 - rate2 > delta, 'less': < delta).

    Equals statsmodels ``test_proportions_2indep(..., value=delta,
    method='score')`` where that is right (delta = 0) and a numerical
    restricted MLE elsewhere (tests). All outcomes 0 (or all 1) tested at
    delta = 0 support neither direction: p = 1.0 both ways (statsmodels: NaN).
    """
    from scipy.special import ndtr
    if alternative not in ("greater", "less"):
        raise ValueError(f"alternative {alternative!r} is not 'greater' or 'less'")
    z = score_z(k1, n1, k2, n2, delta)
    if math.isnan(z):
        return 1.0
    return float(ndtr(-z) if alternative == "greater" else ndtr(z))


def score_bound(k1: float, n1: float, k2: float, n2: float, alpha: float, side: str) -> float:
    """One-sided 1 - alpha bound for rate1 - rate2 from the score test: the
    ``delta`` at which the one-sided p-value equals alpha (brentq on z), or the
    end of [-1, 1] when no delta there is rejected. ``side``: 'lower' or 'upper'."""
    from scipy.optimize import brentq
    from scipy.special import ndtri
    zc = float(ndtri(1.0 - alpha))
    est = k1 / n1 - k2 / n2
    eps = 1e-12

    def z(d: float) -> float:  # z is 0 at the estimate, also where it is 0/0
        return 0.0 if d == est else score_z(k1, n1, k2, n2, d)

    if side == "lower":
        def f(d: float) -> float:
            return z(d) - zc
        a, b = -1.0 + eps, est
        if est <= a or f(a) <= 0:
            return -1.0
    else:
        def f(d: float) -> float:
            return z(d) + zc
        a, b = est, 1.0 - eps
        if est >= b or f(b) >= 0:
            return 1.0
    return float(brentq(f, a, b, xtol=1e-13, rtol=4 * 2.220446049250313e-16))
