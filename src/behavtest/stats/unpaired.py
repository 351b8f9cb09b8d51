"""Comparisons of a model ("x") with a baseline ("y") on independent samples:
rates by Fisher's exact test (Farrington-Manning for a nonzero margin), means
by Welch's t test.

Independent samples need an unpaired test (replies to the same prompts are
paired: ``paired``). Fisher's test conditions on the margins and is
conservative but exact, which is what a gate on rates near 0 needs; Welch's
test does not assume equal variances, which two different models do not
share.

Every function returns both one-sided p-values for ``x - y`` against
``null`` (so equivalence tests can call them with ``null = +-margin``) and a
two-sided ``1 - 2*alpha`` interval whose bounds are one-sided ``1 - alpha``
bounds. Degenerate data (one unit, zero spread) never give NaN: the
functions' docstrings state what they return instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

from behavtest.stats.binomial import check_counts
from behavtest.stats.result import Inference, check_alpha
from behavtest.stats.spread import finite_values, is_constant, no_spread_pvalues, sample_sd
from behavtest.stats.two_sample import fisher_pvalue, rate_difference_interval, restricted_mle

_NEWCOMBE = "Newcombe (1998) hybrid-score interval"


# ---------------------------------------------------------------- rates


def _wald_se(k1: int, n1: int, k2: int, n2: int) -> float:
    p1, p2 = k1 / n1, k2 / n2
    return math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)


def fisher_test(k1: int, n1: int, k2: int, n2: int, alpha: float, null: float = 0.0) -> Inference:
    """Unpaired rates: does rate x = k1/n1 differ from rate y = k2/n2 by more than ``null``?

    ``null == 0``: Fisher's exact test, one-sided both ways (scipy
    ``fisher_exact``, i.e. ``two_sample.fisher_pvalue``). Fisher's test only
    tests equality, so for ``null != 0`` (equivalence and non-inferiority
    margins) this uses the Farrington-Manning score test of
    ``rate_x - rate_y = null`` (Farrington & Manning 1990: the score test
    with the null-restricted maximum-likelihood rates, without Miettinen &
    Nurminen's N/(N-1) variance factor; computed here, not by statsmodels,
    see ``_farrington_manning``). It is asymptotic, so with small arms and a
    rate near 0 its size can exceed alpha. The interval is Newcombe's hybrid
    score interval (``two_sample.rate_difference_interval``) at
    ``1 - 2*alpha``; it does not depend on ``null``, so near its bounds the
    interval and the score test can disagree. ``se`` is the unpooled Wald
    standard error, for power messages only.
    """
    check_alpha(alpha)
    check_counts(k1, n1, "x")
    check_counts(k2, n2, "y")
    low, high = rate_difference_interval(k1, n1, k2, n2, 1.0 - 2.0 * alpha)
    if null == 0.0:
        p_greater = fisher_pvalue(k1, n1, k2, n2, "greater")
        p_less = fisher_pvalue(k1, n1, k2, n2, "less")
        method = f"Fisher's exact test (Fisher 1935; scipy fisher_exact); {_NEWCOMBE}"
    else:
        if not -1.0 < null < 1.0:
            raise ValueError(f"null={null} must lie in (-1, 1) for a difference of rates")
        p_greater, p_less = _farrington_manning(k1, n1, k2, n2, null)
        method = (
            "Farrington-Manning score test of the rate difference (Farrington & Manning 1990; "
            f"Fisher's test only tests a zero difference); {_NEWCOMBE}"
        )
    return Inference(
        estimate=k1 / n1 - k2 / n2,
        low=low,
        high=high,
        p_greater=p_greater,
        p_less=p_less,
        method=method,
        null=null,
        effect="difference",
        se=_wald_se(k1, n1, k2, n2),
        units=n1 + n2,
    )


def _farrington_manning(k1: int, n1: int, k2: int, n2: int, null: float) -> tuple[float, float]:
    """One-sided p-values (greater, less) of the Farrington-Manning (1990) score test.

    z = (k1/n1 - k2/n2 - null) / sqrt(p1(1-p1)/n1 + p2(1-p2)/n2) with (p1, p2)
    the maximum-likelihood rates under p1 - p2 = null; normal tails. Written
    here rather than taken from statsmodels ``test_proportions_2indep(...,
    method='score')`` because statsmodels <= 0.15 solves a wrong cubic for
    the restricted rates when value != 0 (statsmodels issue #10269: ``count0``
    where ``nobs0`` belongs), which gives wrong p-values and even negative
    "rates". Tested against a brute-force restricted likelihood.
    """
    from scipy import stats as _st

    p2 = restricted_mle(k1, n1, k2, n2, null)
    p1 = p2 + null
    var = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    diff = k1 / n1 - k2 / n2 - null
    if var <= 0.0:  # only possible for null in {-1, 0, 1}, which the caller excludes
        return no_spread_pvalues(k1 / n1 - k2 / n2, null)
    z = diff / math.sqrt(var)
    return float(_st.norm.sf(z)), float(_st.norm.cdf(z))


# ---------------------------------------------------------------- means


def _welch(
    xs: list[float], ys: list[float], null: float, alpha: float
) -> tuple[float, float, float, float, float | None, float | None]:
    """(p_greater, p_less, low, high, se, df) of Welch's test; conventions as ``welch_test``."""
    from scipy import stats as _st

    diff = sum(xs) / len(xs) - sum(ys) / len(ys)
    if len(xs) < 2 or len(ys) < 2:
        return 1.0, 1.0, -math.inf, math.inf, None, None
    if is_constant(xs) and is_constant(ys):
        return (*no_spread_pvalues(diff, null), diff, diff, 0.0, None)
    shifted = [v - null for v in xs]
    with warnings.catch_warnings():
        # one side without spread: scipy warns of "precision loss" computing its zero variance
        warnings.simplefilter("ignore", RuntimeWarning)
        p_greater = float(_st.ttest_ind(shifted, ys, equal_var=False, alternative="greater").pvalue)
        p_less = float(_st.ttest_ind(shifted, ys, equal_var=False, alternative="less").pvalue)
        res = _st.ttest_ind(xs, ys, equal_var=False)
        ci = res.confidence_interval(confidence_level=1.0 - 2.0 * alpha)
    se = math.sqrt(sample_sd(xs) ** 2 / len(xs) + sample_sd(ys) ** 2 / len(ys))
    return p_greater, p_less, float(ci.low), float(ci.high), se, float(res.df)


def _hedges_g(xs: list[float], ys: list[float]) -> float | None:
    """Hedges' g (Hedges 1981): pooled-SD standardised difference, exact small-sample factor."""
    nx, ny = len(xs), len(ys)
    df = nx + ny - 2
    if nx < 2 or ny < 2:
        return None
    pooled = math.sqrt(((nx - 1) * sample_sd(xs) ** 2 + (ny - 1) * sample_sd(ys) ** 2) / df)
    if pooled == 0.0:
        return None
    j = math.exp(math.lgamma(df / 2) - math.lgamma((df - 1) / 2)) / math.sqrt(df / 2)
    return j * (sum(xs) / nx - sum(ys) / ny) / pooled


def welch_test(
    x: Sequence[float], y: Sequence[float], alpha: float, null: float = 0.0
) -> Inference:
    """Unpaired means (e.g. per-seed means of two fine-tune arms): Welch's t test.

    Equals scipy ``ttest_ind(x - null, y, equal_var=False)``; interval from
    ``ttest_ind(x, y, equal_var=False).confidence_interval`` at
    ``1 - 2*alpha``; ``df`` is the Welch-Satterthwaite df. ``note`` gives
    Hedges' g. Fewer than 2 values on a side: p = 1 both ways, interval
    (-inf, inf). Zero spread on both sides: the t test's limit (p = 0 in the
    direction of the difference - null, 1 in the other; interval = the
    point). An empty side raises ValueError.
    """
    check_alpha(alpha)
    xs, ys = finite_values(x, "x"), finite_values(y, "y")
    p_greater, p_less, low, high, se, df = _welch(xs, ys, null, alpha)
    if len(xs) < 2 or len(ys) < 2:
        note = "fewer than 2 values on a side: no spread to test against"
    elif is_constant(xs) and is_constant(ys):
        note = "zero spread on both sides: zero standard error"
    else:
        g = _hedges_g(xs, ys)
        note = "Hedges' g undefined (zero pooled SD)" if g is None else f"Hedges' g = {g:.3g}"
    return Inference(
        estimate=sum(xs) / len(xs) - sum(ys) / len(ys),
        low=low,
        high=high,
        p_greater=p_greater,
        p_less=p_less,
        method="Welch's unequal-variance t test (Welch 1947; scipy ttest_ind(equal_var=False))",
        null=null,
        effect="difference",
        se=se,
        df=df,
        units=len(xs) + len(ys),
        note=note,
    )
