"""One-sample binomial inference: exact intervals and exact tests.

Clopper-Pearson is the default interval because it is exact (coverage is at
least nominal for every true rate), which is what a CI gate needs; Wilson is
offered because it is shorter on average, at the price of dipping below
nominal coverage for some rates.
"""

from __future__ import annotations

from typing import Literal

Alternative = Literal["greater", "less", "two-sided"]


def _check_counts(k: int, n: int) -> None:
    if n < 1:
        raise ValueError(f"n={n} must be >= 1")
    if not 0 <= k <= n:
        raise ValueError(f"k={k} must lie in [0, n={n}]")


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided interval (scipy ``binomtest(...).proportion_ci('exact')``)."""
    from scipy import stats as _st
    _check_counts(k, n)
    ci = _st.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (statsmodels ``proportion_confint(method='wilson')``)."""
    from statsmodels.stats.proportion import proportion_confint
    _check_counts(k, n)
    low, high = proportion_confint(k, n, alpha=1.0 - confidence, method="wilson")
    return float(low), float(high)


def one_sided_bounds(
    k: int, n: int, alpha: float, method: Literal["exact", "wilson"] = "exact"
) -> tuple[float, float]:
    """Lower and upper one-sided (1 - alpha) bounds, i.e. a two-sided 1 - 2*alpha interval.

    With the exact method, ``lower > t`` holds exactly when the one-sided
    binomial test of ``p <= t`` rejects at ``alpha`` (test/interval duality), so
    verdicts read off the interval and off the p-value always agree.
    """
    if method == "exact":
        return clopper_pearson(k, n, 1.0 - 2.0 * alpha)
    return wilson(k, n, 1.0 - 2.0 * alpha)


def binomial_pvalue(k: int, n: int, p0: float, alternative: Alternative) -> float:
    """Exact binomial test p-value (scipy ``binomtest``)."""
    from scipy import stats as _st
    _check_counts(k, n)
    return float(_st.binomtest(k, n, p0, alternative=alternative).pvalue)
