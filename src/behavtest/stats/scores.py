"""Means of numeric scores (0-100 scales, probabilities) with t-based inference."""

from __future__ import annotations

import math
from collections.abc import Sequence

from behavtest.stats.binomial import Alternative


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval for the mean (scipy ``ttest_1samp(...).confidence_interval``).

    With one value, or zero spread, the interval is the point itself: there is
    no information about the spread, and the report says n.
    """
    from scipy import stats as _st
    if len(values) < 1:
        raise ValueError("need at least one value")
    mean = sum(values) / len(values)
    if len(values) < 2 or max(values) == min(values):
        return mean, mean
    ci = _st.ttest_1samp(list(values), 0.0).confidence_interval(confidence_level=confidence)
    return float(ci.low), float(ci.high)


def mean_pvalue(values: Sequence[float], mu0: float, alternative: Alternative) -> float:
    """One-sample t-test p-value for mean vs ``mu0`` (scipy ``ttest_1samp``)."""
    from scipy import stats as _st
    if len(values) < 2:
        return 1.0
    if max(values) == min(values):
        m = values[0]
        if alternative == "greater":
            return 0.0 if m > mu0 else 1.0
        if alternative == "less":
            return 0.0 if m < mu0 else 1.0
        return 0.0 if m != mu0 else 1.0
    p = float(_st.ttest_1samp(list(values), mu0, alternative=alternative).pvalue)
    return 1.0 if math.isnan(p) else p
