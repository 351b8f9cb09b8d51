"""Equivalence tests: evidence that an effect is ABSENT ("at chance", "no conflation").

A non-significant difference is not evidence of no difference: with few
samples everything is non-significant. A claim of no effect has to name a
margin [low, high] of values that count as "no effect" and reject "the value
lies outside it". Schuirmann's two one-sided tests (TOST; Schuirmann 1987,
J. Pharmacokin. Biopharm. 15:657) do that: equivalence is claimed when both
"value <= low" and "value >= high" are rejected at alpha, i.e. when the
1 - 2*alpha interval lies inside [low, high]. Each one-sided test is a level
alpha test and the claim needs both (an intersection-union test, Berger 1982,
Technometrics 24:295), so no multiplicity correction is needed.

Every function returns an ``Equivalence`` with three outcomes:

- PASS (within the margin): ``significant(p_equivalent, alpha)``, where
  ``p_equivalent`` is the larger of the two TOST p-values; equivalently the
  1 - 2*alpha interval lies strictly inside (low, high).
- FAIL (outside the margin): ``significant(p_outside, alpha)``.
  ``p_outside`` tests the null "low <= value <= high" against "value < low or
  value > high": it is the smaller of the p-values for "value < low" and
  "value > high", doubled (Bonferroni) and capped at 1. The doubling is
  needed, not just cautious: the two rejection events are disjoint, so
  without it the size is the SUM of two one-sided sizes, and with an unknown
  variance (the t versions) that sum reaches 2*alpha as the standard error
  grows relative to the margin. Equivalently FAIL means the 1 - alpha
  interval (each bound one-sided 1 - alpha/2) lies wholly outside the margin.
- INCONCLUSIVE otherwise. Not significant is never PASS.

``inference`` keeps the usual ``Inference`` contract: estimate, the
1 - 2*alpha interval, and one-sided p-values against the CENTRE of the
margin (for a margin around chance, the ordinary "different from chance"
tests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from behavtest.stats.power import significance_cut, significant
from behavtest.stats.result import Inference
from behavtest.stats.two_sample import restricted_mle

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Decision = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class Equivalence:
    """Result of a TOST equivalence test of ``low < value < high``.

    ``p_above_low`` and ``p_below_high`` are the two one-sided TOST p-values
    (for "value > low" and "value < high"); ``p_equivalent`` is their maximum.
    ``p_outside`` is the Bonferroni-doubled evidence that the value lies
    outside the margin (see the module docstring). ``alpha`` is the level the
    interval in ``inference`` was computed at.
    """

    inference: Inference
    p_equivalent: float
    p_outside: float
    low: float
    high: float
    method: str
    alpha: float
    p_above_low: float
    p_below_high: float

    def decision(self) -> Decision:
        """'pass' (within the margin), 'fail' (outside it) or 'inconclusive'."""
        if significant(self.p_equivalent, self.alpha):
            return "pass"
        if significant(self.p_outside, self.alpha):
            return "fail"
        return "inconclusive"


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha} must lie in (0, 0.5)")


def _check_margin(low: float, high: float, lo_lim: float, hi_lim: float, what: str) -> None:
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ValueError(f"margin low={low}, high={high}: need finite low < high")
    if low < lo_lim or high > hi_lim:
        raise ValueError(f"margin [{low}, {high}] must lie within [{lo_lim}, {hi_lim}] for {what}")


def _outside(p_below_low: float, p_above_high: float) -> float:
    return min(1.0, 2.0 * min(p_below_low, p_above_high))


def _finite_values(values: Sequence[float], name: str) -> list[float]:
    xs = [float(v) for v in values]
    if not all(math.isfinite(v) for v in xs):
        raise ValueError(f"{name} contains a NaN or infinite value")
    return xs


def _equivalence(
    inference: Inference,
    p_above_low: float,
    p_below_high: float,
    p_below_low: float,
    p_above_high: float,
    low: float,
    high: float,
    alpha: float,
) -> Equivalence:
    return Equivalence(
        inference=inference,
        p_equivalent=max(p_above_low, p_below_high),
        p_outside=_outside(p_below_low, p_above_high),
        low=low,
        high=high,
        method=inference.method,
        alpha=alpha,
        p_above_low=p_above_low,
        p_below_high=p_below_high,
    )


# --------------------------------------------------------------------------- binomial


def binomial_tost(k: int, n: int, low: float, high: float, alpha: float = 0.05) -> Equivalence:
    """Exact binomial TOST of ``low < rate < high``.

    The one-sided p-values are scipy ``binomtest(k, n, margin, alternative=...)``
    at each margin; the interval is Clopper-Pearson at 1 - 2*alpha (scipy
    ``proportion_ci(method='exact')``), which is dual to those tests: PASS
    exactly when the interval lies inside (low, high). ``inference`` tests
    against the centre of the margin with the same exact test.
    """
    from scipy import stats as _st

    from behavtest.stats.binomial import _check_counts, one_sided_bounds
    _check_counts(k, n)
    _check_alpha(alpha)
    _check_margin(low, high, 0.0, 1.0, "a rate")

    def p(p0: float, alternative: str) -> float:
        return float(_st.binomtest(k, n, p0, alternative=alternative).pvalue)

    mid = (low + high) / 2
    lo, hi = one_sided_bounds(k, n, alpha)
    inf = Inference(
        estimate=k / n,
        low=lo,
        high=hi,
        p_greater=p(mid, "greater"),
        p_less=p(mid, "less"),
        method=(
            "exact binomial TOST (Schuirmann 1987; scipy binomtest) with "
            "Clopper-Pearson interval"
        ),
        null=mid,
        effect="rate",
        se=math.sqrt(k * (n - k) / n) / n,
        units=n,
    )
    return _equivalence(
        inf, p(low, "greater"), p(high, "less"), p(low, "less"), p(high, "greater"),
        low, high, alpha,
    )


def _tost_power_many(
    ns: npt.NDArray[np.int64], p_true: float, low: float, high: float, alpha: float
) -> npt.NDArray[np.float64]:
    """Exact binomial TOST power at each n in ``ns`` (vectorised over n).

    The counts that pass form an interval kL..kH: kL is the smallest k with
    P(X >= k | low) significant, kH the largest with P(X <= k | high)
    significant (the ``significant`` rule, as in the verdict). Both start from
    scipy's quantile functions and are walked to the exact boundary.
    """
    import numpy as np
    from scipy import stats as _st
    cut = significance_cut(alpha)
    n = np.asarray(ns, dtype=np.int64)
    k_lo = np.clip(np.asarray(_st.binom.isf(alpha, n, low), dtype=np.int64) - 1, 0, n + 1)
    while True:  # up to the first significant k
        move = (k_lo <= n) & ~(_st.binom.sf(k_lo - 1, n, low) < cut)
        if not move.any():
            break
        k_lo = k_lo + move
    while True:  # down while the k below is significant too
        move = (k_lo > 0) & (_st.binom.sf(k_lo - 2, n, low) < cut)
        if not move.any():
            break
        k_lo = k_lo - move
    k_hi = np.clip(np.asarray(_st.binom.ppf(alpha, n, high), dtype=np.int64) + 1, -1, n)
    while True:
        move = (k_hi >= 0) & ~(_st.binom.cdf(k_hi, n, high) < cut)
        if not move.any():
            break
        k_hi = k_hi - move
    while True:
        move = (k_hi < n) & (_st.binom.cdf(k_hi + 1, n, high) < cut)
        if not move.any():
            break
        k_hi = k_hi + move
    power = _st.binom.cdf(k_hi, n, p_true) - _st.binom.cdf(k_lo - 1, n, p_true)
    return np.where(k_lo <= k_hi, np.maximum(power, 0.0), 0.0)


def binomial_tost_power(n: int, p_true: float, low: float, high: float, alpha: float) -> float:
    """Exact probability that ``binomial_tost`` passes (both exact one-sided
    tests significant) when the true rate is ``p_true``.

    The passing counts form an interval kL..kH, so the power is
    ``binom.cdf(kH) - binom.cdf(kL - 1)`` at ``p_true``; the tests compare it
    with a brute-force sum over every k of ``binomial_tost`` decisions.
    """
    import numpy as np
    _check_alpha(alpha)
    _check_margin(low, high, 0.0, 1.0, "a rate")
    if n < 1:
        raise ValueError(f"n={n} must be >= 1")
    return float(_tost_power_many(np.array([n], dtype=np.int64), p_true, low, high, alpha)[0])


def samples_for_equivalence(
    p_true: float, low: float, high: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Smallest n at which the exact binomial TOST passes with probability
    >= ``power`` when the true rate is ``p_true`` (strictly inside the margin).

    Exact power saw-tooths in n, so after a doubling search finds an n with
    enough power, every smaller n is evaluated (vectorised) and the first that
    reaches the target is returned, as ``samples_for_rate`` does.
    """
    import numpy as np
    _check_alpha(alpha)
    _check_margin(low, high, 0.0, 1.0, "a rate")
    if not low < p_true < high:
        raise ValueError(
            f"p_true={p_true} is not strictly inside ({low}, {high}): "
            "no sample size shows equivalence"
        )
    if not 0.0 < power < 1.0:
        raise ValueError(f"power={power} must lie in (0, 1)")
    n_hi = 16
    while binomial_tost_power(n_hi, p_true, low, high, alpha) < power:
        n_hi *= 2
        if n_hi > 1 << 21:
            raise ValueError("more than two million samples needed")
    chunk = 4096
    for start in range(1, n_hi + 1, chunk):
        ns = np.arange(start, min(start + chunk, n_hi + 1), dtype=np.int64)
        ok = np.nonzero(_tost_power_many(ns, p_true, low, high, alpha) >= power)[0]
        if ok.size:
            return int(ns[ok[0]])
    return n_hi  # pragma: no cover (n_hi itself reaches the target)


# --------------------------------------------------------------------------- means


def _degenerate_mean(
    estimate: float, low: float, high: float, alpha: float, method: str, n: int, effect: str,
    note: str,
) -> Equivalence:
    """No spread information (n < 2 or zero variance): no direction is supported,
    every p-value is 1 and the interval is unbounded, so the verdict is
    INCONCLUSIVE (t statistics would be +-inf or NaN)."""
    inf = Inference(
        estimate=estimate, low=-math.inf, high=math.inf, p_greater=1.0, p_less=1.0,
        method=method, null=(low + high) / 2, effect=effect, units=n, note=note,
    )
    return _equivalence(inf, 1.0, 1.0, 1.0, 1.0, low, high, alpha)


def mean_tost(
    values: Sequence[float], low: float, high: float, alpha: float = 0.05
) -> Equivalence:
    """One-sample t TOST of ``low < mean < high``.

    Equals statsmodels ``DescrStatsW(values).ttost_mean(low, high)``; the
    interval is ``tconfint_mean(alpha=2*alpha)`` (dual to the two t-tests).
    Fewer than 2 values or zero variance: every p-value 1 (INCONCLUSIVE), see
    ``_degenerate_mean``.
    """
    xs = _finite_values(values, "values")
    _check_alpha(alpha)
    _check_margin(low, high, -math.inf, math.inf, "a mean")
    if not xs:
        raise ValueError("need at least one value")
    return _mean_tost(xs, low, high, alpha, "one-sample t TOST (Schuirmann 1987; statsmodels "
                      "ttost_mean)", "mean")


def _mean_tost(
    xs: list[float], low: float, high: float, alpha: float, method: str, effect: str
) -> Equivalence:
    import numpy as np
    from statsmodels.stats.weightstats import DescrStatsW
    n = len(xs)
    mean = sum(xs) / n
    if n < 2 or max(xs) == min(xs):
        return _degenerate_mean(mean, low, high, alpha, method, n, effect,
                                "fewer than 2 values or zero variance: no spread information")
    d = DescrStatsW(np.asarray(xs, dtype=float))
    _, (_, p_lo, _), (_, p_hi, _) = d.ttost_mean(low, high)
    mid = (low + high) / 2
    ci_lo, ci_hi = d.tconfint_mean(alpha=2 * alpha)
    inf = Inference(
        estimate=float(d.mean),
        low=float(ci_lo),
        high=float(ci_hi),
        p_greater=float(d.ttest_mean(mid, alternative="larger")[1]),
        p_less=float(d.ttest_mean(mid, alternative="smaller")[1]),
        method=method,
        null=mid,
        effect=effect,
        se=float(d.std_mean),
        df=float(n - 1),
        units=n,
    )
    return _equivalence(
        inf,
        float(p_lo),
        float(p_hi),
        float(d.ttest_mean(low, alternative="smaller")[1]),
        float(d.ttest_mean(high, alternative="larger")[1]),
        low, high, alpha,
    )


def difference_tost_paired(
    x: Sequence[float], y: Sequence[float], low: float, high: float, alpha: float = 0.05
) -> Equivalence:
    """Paired t TOST of ``low < mean(x - y) < high`` (statsmodels
    ``ttost_paired(x, y, low, high)``): the one-sample TOST of the differences.
    """
    xs = _finite_values(x, "x")
    ys = _finite_values(y, "y")
    _check_alpha(alpha)
    _check_margin(low, high, -math.inf, math.inf, "a mean difference")
    if len(xs) != len(ys):
        raise ValueError(f"paired samples differ in length: {len(xs)} vs {len(ys)}")
    if not xs:
        raise ValueError("need at least one pair")
    diffs = [a - b for a, b in zip(xs, ys, strict=True)]
    return _mean_tost(diffs, low, high, alpha, "paired t TOST (Schuirmann 1987; statsmodels "
                      "ttost_paired)", "difference")


def difference_tost_welch(
    x: Sequence[float], y: Sequence[float], low: float, high: float, alpha: float = 0.05
) -> Equivalence:
    """Welch t TOST of ``low < mean(x) - mean(y) < high`` (statsmodels
    ``ttost_ind(x, y, low, high, usevar='unequal')``); interval
    ``CompareMeans.tconfint_diff(alpha=2*alpha, usevar='unequal')``.

    Needs 2+ values per sample; zero variance in both samples gives every
    p-value 1 (INCONCLUSIVE).
    """
    import numpy as np
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttost_ind
    xs = _finite_values(x, "x")
    ys = _finite_values(y, "y")
    _check_alpha(alpha)
    _check_margin(low, high, -math.inf, math.inf, "a mean difference")
    if len(xs) < 1 or len(ys) < 1:
        raise ValueError("need at least one value in each sample")
    method = "Welch t TOST (Schuirmann 1987; statsmodels ttost_ind, usevar='unequal')"
    est = sum(xs) / len(xs) - sum(ys) / len(ys)
    n = len(xs) + len(ys)
    if len(xs) < 2 or len(ys) < 2:
        return _degenerate_mean(est, low, high, alpha, method, n, "difference",
                                "a sample has fewer than 2 values: its variance is unknown")
    if max(xs) == min(xs) and max(ys) == min(ys):
        return _degenerate_mean(est, low, high, alpha, method, n, "difference",
                                "zero variance in both samples: no spread information")
    xa, ya = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    _, (_, p_lo, _), (_, p_hi, _) = ttost_ind(xa, ya, low, high, usevar="unequal")
    cm = CompareMeans(DescrStatsW(xa), DescrStatsW(ya))
    mid = (low + high) / 2

    def p(value: float, alternative: str) -> float:
        return float(cm.ttest_ind(alternative=alternative, usevar="unequal", value=value)[1])

    ci_lo, ci_hi = cm.tconfint_diff(alpha=2 * alpha, usevar="unequal")
    df = float(cm.ttest_ind(usevar="unequal")[2])
    inf = Inference(
        estimate=est,
        low=float(ci_lo),
        high=float(ci_hi),
        p_greater=p(mid, "larger"),
        p_less=p(mid, "smaller"),
        method=method,
        null=mid,
        effect="difference",
        se=float(cm.std_meandiff_separatevar),
        df=df,
        units=n,
    )
    return _equivalence(
        inf, float(p_lo), float(p_hi), p(low, "smaller"), p(high, "larger"), low, high, alpha
    )


# --------------------------------------------------------------------------- rate difference


def _score_z(k1: float, n1: float, k2: float, n2: float, delta: float) -> float:
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
    z = _score_z(k1, n1, k2, n2, delta)
    if math.isnan(z):
        return 1.0
    return float(ndtr(-z) if alternative == "greater" else ndtr(z))


def _score_bound(k1: float, n1: float, k2: float, n2: float, alpha: float, side: str) -> float:
    """One-sided 1 - alpha bound for rate1 - rate2 from the score test: the
    ``delta`` at which the one-sided p-value equals alpha (brentq on z), or the
    end of [-1, 1] when no delta there is rejected."""
    from scipy.optimize import brentq
    from scipy.special import ndtri
    zc = float(ndtri(1.0 - alpha))
    est = k1 / n1 - k2 / n2
    eps = 1e-12

    def z(d: float) -> float:  # z is 0 at the estimate, also where it is 0/0
        return 0.0 if d == est else _score_z(k1, n1, k2, n2, d)

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


def rate_difference_tost(
    k1: int, n1: int, k2: int, n2: int, low: float, high: float, alpha: float = 0.05
) -> Equivalence:
    """TOST of ``low < rate1 - rate2 < high`` with two one-sided Miettinen-
    Nurminen score tests (the Farrington-Manning score test with the N/(N-1)
    variance factor; statsmodels' default ``correction=True``).

    This is what statsmodels ``tost_proportions_2indep(..., method='score')``
    computes, with the restricted MLE fixed (see ``two_sample.restricted_mle``); the
    interval inverts the same one-sided score tests, so PASS exactly when it
    lies inside (low, high). The score test is asymptotic: for small samples
    its size can exceed alpha slightly (see the tests' simulations).
    """
    from behavtest.stats.binomial import _check_counts
    _check_counts(k1, n1)
    _check_counts(k2, n2)
    if n1 + n2 < 3:
        raise ValueError("need at least 3 samples in total")
    _check_alpha(alpha)
    _check_margin(low, high, -1.0, 1.0, "a rate difference")
    if low <= -1.0 or high >= 1.0:
        raise ValueError(f"margin [{low}, {high}] must lie strictly inside (-1, 1)")
    mid = (low + high) / 2
    p1, p2 = k1 / n1, k2 / n2

    def p(delta: float, alternative: str) -> float:
        return score_pvalue_2indep(k1, n1, k2, n2, delta, alternative)

    inf = Inference(
        estimate=p1 - p2,
        low=_score_bound(k1, n1, k2, n2, alpha, "lower"),
        high=_score_bound(k1, n1, k2, n2, alpha, "upper"),
        p_greater=p(mid, "greater"),
        p_less=p(mid, "less"),
        method=(
            "TOST with Miettinen-Nurminen score tests (Schuirmann 1987; Miettinen & "
            "Nurminen 1985) and score interval"
        ),
        null=mid,
        effect="difference",
        se=math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2),
        units=n1 + n2,
    )
    return _equivalence(
        inf, p(low, "greater"), p(high, "less"), p(low, "less"), p(high, "greater"),
        low, high, alpha,
    )
