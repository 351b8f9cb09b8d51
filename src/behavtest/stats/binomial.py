"""One-sample binomial inference: the exact test and the Clopper-Pearson interval.

Clopper-Pearson because it is exact (coverage is at least nominal for every
true rate), which is what a CI gate needs; shorter intervals such as Wilson's
dip below nominal coverage for some rates (tests/test_calibration.py shows it).
"""

from __future__ import annotations

from typing import Literal

Alternative = Literal["greater", "less", "two-sided"]


def check_counts(k: int, n: int, what: str | None = None) -> None:
    """Raise ValueError unless 0 <= k <= n and n >= 1; ``what`` names the sample."""
    where = f"{what}: " if what else ""
    if n < 1:
        raise ValueError(f"{where}n={n} must be >= 1")
    if not 0 <= k <= n:
        raise ValueError(f"{where}k={k} must lie in [0, n={n}]")


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided interval (scipy ``binomtest(...).proportion_ci('exact')``)."""
    from scipy import stats as _st
    check_counts(k, n)
    ci = _st.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def one_sided_bounds(k: int, n: int, alpha: float) -> tuple[float, float]:
    """Lower and upper one-sided (1 - alpha) bounds, i.e. a two-sided 1 - 2*alpha
    Clopper-Pearson interval.

    ``lower > t`` holds exactly when the one-sided binomial test of ``p <= t``
    rejects at ``alpha`` (test/interval duality), so verdicts read off the
    interval and off the p-value always agree.
    """
    return clopper_pearson(k, n, 1.0 - 2.0 * alpha)


def binomial_pvalue(k: int, n: int, p0: float, alternative: Alternative) -> float:
    """Exact binomial test p-value (scipy ``binomtest``)."""
    from scipy import stats as _st
    check_counts(k, n)
    return float(_st.binomtest(k, n, p0, alternative=alternative).pvalue)
