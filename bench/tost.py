"""Equivalence (TOST) tests computed from the raw data, one per kind of data:
exact binomial, one-sample t, paired t and Welch t.

The harness builds its equivalence verdicts from the tests it picks for the
data (``behavtest.stats.tost`` over two one-sided tests); bench/calibration.py
uses these direct versions, which agree with the harness's tests on the same
data, to measure the size and power of TOST cheaply, and the tests check them
against statsmodels. The TOST rule itself (``tost_pvalues``) and the verdict rule
(``decide``) are the library's.

Imported as a sibling module by the bench scripts (``python bench/<x>.py``
puts bench/ on the path).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from behavtest.stats.binomial import check_counts, one_sided_bounds
from behavtest.stats.equivalence import check_margin, tost_pvalues
from behavtest.stats.result import Inference, Outcome, check_alpha, decide


@dataclass(frozen=True)
class Equivalence:
    """Result of a TOST equivalence test of ``low < value < high``.

    ``p_above_low`` and ``p_below_high`` are the two one-sided TOST p-values
    (for "value > low" and "value < high"); ``p_equivalent`` is their maximum.
    ``p_outside`` is the Bonferroni-doubled evidence that the value lies
    outside the margin (``behavtest.stats.equivalence``). ``alpha`` is the
    level the interval in ``inference`` was computed at. ``inference`` keeps
    the usual ``Inference`` contract: estimate, the 1 - 2*alpha interval, and
    one-sided p-values against the CENTRE of the margin.
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

    def decision(self) -> Outcome:
        """PASS (within the margin), FAIL (outside it) or INCONCLUSIVE."""
        return decide(self.p_equivalent, self.p_outside, self.alpha)


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
    p_equivalent, p_outside = tost_pvalues(p_above_low, p_below_high, p_below_low, p_above_high)
    return Equivalence(
        inference=inference,
        p_equivalent=p_equivalent,
        p_outside=p_outside,
        low=low,
        high=high,
        method=inference.method,
        alpha=alpha,
        p_above_low=p_above_low,
        p_below_high=p_below_high,
    )


def binomial_tost(k: int, n: int, low: float, high: float, alpha: float = 0.05) -> Equivalence:
    """Exact binomial TOST of ``low < rate < high``.

    The one-sided p-values are scipy ``binomtest(k, n, margin, alternative=...)``
    at each margin; the interval is Clopper-Pearson at 1 - 2*alpha (scipy
    ``proportion_ci(method='exact')``), which is dual to those tests: PASS
    exactly when the interval lies inside (low, high). ``inference`` tests
    against the centre of the margin with the same exact test.
    """
    from scipy import stats as _st

    check_counts(k, n)
    check_alpha(alpha)
    check_margin(low, high, 0.0, 1.0, "a rate")

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
    check_alpha(alpha)
    check_margin(low, high, -math.inf, math.inf, "a mean")
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
    check_alpha(alpha)
    check_margin(low, high, -math.inf, math.inf, "a mean difference")
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
    check_alpha(alpha)
    check_margin(low, high, -math.inf, math.inf, "a mean difference")
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

