"""Comparisons of a model ("x") with a baseline ("y"): unpaired rates, paired
rates, paired and unpaired means, and the power of t tests.

Why several tests rather than one: the design decides which test is valid and
which is powerful. Replies to *the same prompts* from the model and the
baseline are paired, and a paired test (McNemar, paired t, sign flip) removes
the prompt-to-prompt variation that an unpaired test counts as noise.
Independent samples need an unpaired test; of those, Fisher's test conditions
on the margins and is conservative, Barnard's unconditional test is exact and
usually more powerful. The permutation tests are exact whatever the score
distribution, which matters with the 5-20 prompts or seeds behaviour tests
usually have; the t tests are what power planning can be done for.

Every function returns both one-sided p-values for ``x - y`` against
``null`` (so equivalence tests can call them with ``null = +-margin``) and a
two-sided ``1 - 2*alpha`` interval whose bounds are one-sided ``1 - alpha``
bounds. Degenerate data (one unit, zero spread) never give NaN: the
functions' docstrings state what they return instead.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

from behavtest.stats.power import significance_cut
from behavtest.stats.result import Inference
from behavtest.stats.two_sample import fisher_pvalue, rate_difference_interval, restricted_mle

_NEWCOMBE = "Newcombe (1998) hybrid-score interval"
# Relative spread below which a set of differences counts as constant: float
# noise in x - y (0.3 - 0.1 != 0.2) must not turn "no spread" into a huge t.
_SPREAD_TOL = 1e-12


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha} must lie in (0, 0.5): it is the one-sided level")


def _check_counts(k: int, n: int, name: str) -> None:
    if n < 1:
        raise ValueError(f"{name}: n={n} must be >= 1")
    if not 0 <= k <= n:
        raise ValueError(f"{name}: k={k} must lie in [0, n={n}]")


def _floats(values: Sequence[float], name: str) -> list[float]:
    out = [float(v) for v in values]
    if not out:
        raise ValueError(f"{name} is empty: need at least one value")
    if any(math.isnan(v) or math.isinf(v) for v in out):
        raise ValueError(f"{name} contains NaN or infinite values")
    return out


def _constant(values: Sequence[float]) -> bool:
    lo, hi = min(values), max(values)
    return hi - lo <= _SPREAD_TOL * max(1.0, abs(lo), abs(hi))


def _no_spread_pvalues(estimate: float, null: float) -> tuple[float, float]:
    """p-values of a t test whose standard error is zero: the limit of the t test.

    The direction the data support (sign of estimate - null) gets p = 0
    (t = +-inf), the other p = 1; no shift gives p = 1 both ways. This is the
    convention of ``scores.mean_pvalue``. A shift within float noise
    (1e-12 relative) counts as none: 0.5 - 0.2 must not differ from 0.3.
    """
    shift = estimate - null
    if abs(shift) <= _SPREAD_TOL * max(1.0, abs(estimate), abs(null)):
        return 1.0, 1.0
    return (0.0, 1.0) if shift > 0 else (1.0, 0.0)


def _nan_to_one(p: Any) -> float:
    value = float(p)
    return 1.0 if math.isnan(value) else min(1.0, max(0.0, value))


# ---------------------------------------------------------------- unpaired rates


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
    see ``_farrington_manning``). It is asymptotic: with 20 per arm and
    null = 0.2 its worst-case size at alpha = 0.05 is 0.089 (when a rate is
    near 0; about 0.05 for rates near 0.3), and 0.064 with 50 per arm. The
    interval is Newcombe's hybrid score interval
    (``two_sample.rate_difference_interval``) at ``1 - 2*alpha``; it does not
    depend on ``null``, so near its bounds the interval and the score test
    can disagree. ``se`` is the unpooled Wald standard error, for power
    messages only.
    """
    _check_alpha(alpha)
    _check_counts(k1, n1, "x")
    _check_counts(k2, n2, "y")
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
        return _no_spread_pvalues(k1 / n1 - k2 / n2, null)
    z = diff / math.sqrt(var)
    return float(_st.norm.sf(z)), float(_st.norm.cdf(z))


def barnard_test(k1: int, n1: int, k2: int, n2: int, alpha: float) -> Inference:
    """Unpaired rates, exact unconditional test of rate x = rate y (scipy ``barnard_exact``).

    scipy's table has one column per sample: ``[[k1, k2], [n1-k1, n2-k2]]``;
    ``alternative='greater'`` is rate x > rate y. Barnard's test does not
    condition on the total number of successes, so it is usually more
    powerful than Fisher's while still exact (its p-value is maximised over
    the unknown common rate; scipy does that maximisation numerically).
    Interval: Newcombe's, as in ``fisher_test``.
    """
    from scipy import stats as _st

    _check_alpha(alpha)
    _check_counts(k1, n1, "x")
    _check_counts(k2, n2, "y")
    table = [[k1, k2], [n1 - k1, n2 - k2]]
    p_greater = _nan_to_one(_st.barnard_exact(table, alternative="greater").pvalue)
    p_less = _nan_to_one(_st.barnard_exact(table, alternative="less").pvalue)
    low, high = rate_difference_interval(k1, n1, k2, n2, 1.0 - 2.0 * alpha)
    return Inference(
        estimate=k1 / n1 - k2 / n2,
        low=low,
        high=high,
        p_greater=p_greater,
        p_less=p_less,
        method=(
            "Barnard's exact unconditional test (Barnard 1945; pooled Wald statistic, "
            f"scipy barnard_exact); {_NEWCOMBE}"
        ),
        effect="difference",
        se=_wald_se(k1, n1, k2, n2),
        units=n1 + n2,
    )


# ---------------------------------------------------------------- paired rates


def _tango_z(delta: float, b: int, c: int, n: int) -> float:
    """Tango's (1998) score statistic for H0: p_b - p_c = delta (b = x-only, c = y-only pairs).

    The restricted MLE of the y-only cell probability is the root of
    A q^2 + B q + C = 0 (Tango 1998); the root is taken in the form
    without cancellation.
    """
    a_ = 2.0 * n
    b_ = -b - c + (2.0 * n - b + c) * delta
    c_ = -c * delta * (1.0 - delta)
    disc = math.sqrt(max(b_ * b_ - 4.0 * a_ * c_, 0.0))
    q = -2.0 * c_ / (b_ + disc) if b_ > 0 else (disc - b_) / (2.0 * a_)
    var = n * (2.0 * q + delta * (1.0 - delta))
    num = b - c - n * delta
    if var <= 0.0:
        return 0.0 if num == 0 else math.copysign(math.inf, num)
    return num / math.sqrt(var)


def paired_rate_difference_interval(
    b: int, c: int, n: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Tango's (1998, Stat Med 17:891-908) score interval for a paired difference of rates.

    ``b`` pairs where only x succeeded, ``c`` where only y did, ``n`` pairs
    in all; the interval is for (b - c)/n's expectation. It inverts the score
    test (at delta = 0 that test is McNemar's z = (b - c)/sqrt(b + c)), stays
    in [-1, 1] and is recommended by Fagerland, Lydersen & Laake (2014, Stat
    Med 33:2850-2875). No library computes it; the tests check it against a
    brute-force restricted maximum likelihood. Bounds by ``scipy brentq`` on
    the monotone score statistic.
    """
    from scipy import optimize as _opt
    from scipy import stats as _st

    if n < 1 or b < 0 or c < 0 or b + c > n:
        raise ValueError(f"need 0 <= b, c and b + c <= n >= 1 (got b={b}, c={c}, n={n})")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence} must lie in (0, 1)")
    z = float(_st.norm.isf((1.0 - confidence) / 2.0))
    est = (b - c) / n

    def score(delta: float) -> float:
        return max(-1e12, min(1e12, _tango_z(delta, b, c, n)))

    # Z falls from +inf at -1 through 0 at the estimate to -inf at 1, except
    # that all pairs discordant one way puts the estimate at that end.
    low = -1.0 if c == n else float(_opt.brentq(lambda d: score(d) - z, -1.0, est, xtol=1e-14))
    high = 1.0 if b == n else float(_opt.brentq(lambda d: score(d) + z, est, 1.0, xtol=1e-14))
    return low, high


def _binary(values: Sequence[bool], name: str) -> list[bool]:
    out: list[bool] = []
    for v in values:
        if v not in (0, 1):  # True == 1, False == 0
            raise ValueError(f"{name} must hold booleans (or 0/1), got {v!r}")
        out.append(bool(v))
    return out


def mcnemar_test(
    pairs_x: Sequence[bool], pairs_y: Sequence[bool], alpha: float, null: float = 0.0
) -> Inference:
    """Paired binary outcomes (pair i = x and y on the same prompt): exact McNemar test.

    Conditions on the b + c discordant pairs (b: only x succeeded, c: only
    y did): ``p_greater = P(Bin(b+c, 1/2) >= b)`` (scipy ``binomtest``); the
    two-sided version equals statsmodels ``mcnemar(exact=True)``. No
    discordant pair gives p = 1 both ways. Estimate (b - c)/n, the difference
    of the paired rates; interval ``paired_rate_difference_interval`` (Tango's
    score interval). Only ``null == 0`` is supported.
    """
    from scipy import stats as _st

    _check_alpha(alpha)
    if null != 0.0:
        raise ValueError("mcnemar_test tests a zero difference only (null must be 0)")
    xs, ys = _binary(pairs_x, "pairs_x"), _binary(pairs_y, "pairs_y")
    if len(xs) != len(ys):
        raise ValueError(f"pairs_x has {len(xs)} outcomes, pairs_y {len(ys)}: they must pair up")
    n = len(xs)
    if n == 0:
        raise ValueError("no pairs")
    b = sum(1 for xi, yi in zip(xs, ys, strict=True) if xi and not yi)
    c = sum(1 for xi, yi in zip(xs, ys, strict=True) if yi and not xi)
    if b + c == 0:
        p_greater = p_less = 1.0
    else:
        p_greater = float(_st.binomtest(b, b + c, 0.5, alternative="greater").pvalue)
        p_less = float(_st.binomtest(b, b + c, 0.5, alternative="less").pvalue)
    low, high = paired_rate_difference_interval(b, c, n, 1.0 - 2.0 * alpha)
    est = (b - c) / n
    return Inference(
        estimate=est,
        low=low,
        high=high,
        p_greater=p_greater,
        p_less=p_less,
        method=(
            "exact McNemar test on discordant pairs (McNemar 1947; scipy binomtest); "
            "Tango (1998) score interval"
        ),
        effect="difference",
        se=math.sqrt(max(b + c - n * est * est, 0.0)) / n,
        units=n,
        note=f"{b} pairs only x succeeded, {c} only y; {n - b - c} concordant",
    )


# ---------------------------------------------------------------- paired means


def _paired_t(d: list[float], null: float, alpha: float) -> tuple[float, float, float, float]:
    """(p_greater, p_less, low, high) of the one-sample t test of the differences."""
    from scipy import stats as _st

    m = len(d)
    mean = sum(d) / m
    if m < 2:
        return 1.0, 1.0, -math.inf, math.inf
    if _constant(d):
        return (*_no_spread_pvalues(mean, null), mean, mean)
    p_greater = float(_st.ttest_1samp(d, null, alternative="greater").pvalue)
    p_less = float(_st.ttest_1samp(d, null, alternative="less").pvalue)
    ci = _st.ttest_1samp(d, 0.0).confidence_interval(confidence_level=1.0 - 2.0 * alpha)
    return p_greater, p_less, float(ci.low), float(ci.high)


def _differences(x: Sequence[float], y: Sequence[float]) -> list[float]:
    xs, ys = _floats(x, "x"), _floats(y, "y")
    if len(xs) != len(ys):
        raise ValueError(f"x has {len(xs)} values, y {len(ys)}: paired data must pair up")
    return [a - b for a, b in zip(xs, ys, strict=True)]


def _sd(values: Sequence[float]) -> float:
    m = len(values)
    mean = sum(values) / m
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (m - 1))


def paired_t_test(
    x: Sequence[float], y: Sequence[float], alpha: float, null: float = 0.0
) -> Inference:
    """Paired means (x[i], y[i] measured on the same unit, e.g. per-prompt rates): paired t test.

    Equals scipy ``ttest_rel(x - null, y)`` (i.e. ``ttest_1samp(x - y,
    null)``); interval from ``ttest_rel(x, y).confidence_interval`` at
    ``1 - 2*alpha``. ``note`` gives Cohen's d_z = mean(d)/sd(d). Fewer than
    2 pairs: p = 1 both ways and the interval is (-inf, inf). All
    differences equal: the t test's limit (p = 0 in the direction of
    mean - null, 1 in the other; interval = the point).
    """
    _check_alpha(alpha)
    d = _differences(x, y)
    m = len(d)
    mean = sum(d) / m
    p_greater, p_less, low, high = _paired_t(d, null, alpha)
    se: float | None = None
    if m < 2:
        note = "1 pair: no spread to test against"
    elif _constant(d):
        se, note = 0.0, "all differences are equal: zero standard error"
    else:
        sd = _sd(d)
        se, note = sd / math.sqrt(m), f"Cohen's d_z = {mean / sd:.3g}"
    return Inference(
        estimate=mean,
        low=low,
        high=high,
        p_greater=p_greater,
        p_less=p_less,
        method="paired t test (Student 1908; scipy ttest_rel)",
        null=null,
        effect="difference",
        se=se,
        df=float(m - 1) if m >= 2 else None,
        units=m,
        note=note,
    )


def _mean_stat(a: Any, axis: int = -1) -> Any:
    import numpy as np

    return np.mean(a, axis=axis)


def _mean_diff_stat(a: Any, b: Any, axis: int = -1) -> Any:
    import numpy as np

    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def sign_flip_test(
    x: Sequence[float],
    y: Sequence[float],
    alpha: float,
    null: float = 0.0,
    resamples: int = 20_000,
    seed: int = 0,
) -> Inference:
    """Paired permutation (sign-flip) test of the mean difference (scipy ``permutation_test``).

    Under H0 each difference ``x[i] - y[i] - null`` is as likely positive as
    negative, so its sign is flipped at random: scipy
    ``permutation_test((d - null,), mean, permutation_type='samples')``.
    Exact (all 2**m sign patterns) when 2**m <= ``resamples``, otherwise
    Monte Carlo with ``np.random.default_rng(seed)``, so results repeat.
    Valid for any distribution of differences symmetric under H0; with m
    pairs the smallest p is 1/2**m (0.031 for 5 prompts), stated in
    ``note``. Interval: the paired t interval (as ``paired_t_test``), since
    the permutation test has no interval of its own.
    """
    import numpy as np
    from scipy import stats as _st

    _check_alpha(alpha)
    if resamples < 1:
        raise ValueError(f"resamples={resamples} must be >= 1")
    d = _differences(x, y)
    m = len(d)
    shifted = np.asarray(d) - null
    pvals: list[float] = []
    if m == 1:  # scipy needs 2 observations; the two sign patterns are +-d
        s = float(shifted[0])
        pvals = [0.5 if s > 0 else 1.0, 0.5 if s < 0 else 1.0]
    for alternative in ("greater", "less") if m > 1 else ():
        res = _st.permutation_test(
            (shifted,), _mean_stat, permutation_type="samples", vectorized=True,
            n_resamples=resamples, alternative=alternative, rng=np.random.default_rng(seed),
        )
        pvals.append(_nan_to_one(res.pvalue))
    exact = 2**m <= resamples
    zeros = int(np.sum(shifted == 0.0))
    if exact:
        smallest = 2.0**zeros / 2.0**m
        how = f"exact over all 2**{m} sign patterns; smallest possible one-sided p = {smallest:.3g}"
        if zeros:
            how += f" ({zeros} differences equal null)"
    else:
        how = (
            f"Monte Carlo, {resamples} sign patterns (seed {seed}); "
            f"smallest possible one-sided p = {1.0 / (resamples + 1):.3g}"
        )
    _, _, low, high = _paired_t(d, null, alpha)
    return Inference(
        estimate=sum(d) / m,
        low=low,
        high=high,
        p_greater=pvals[0],
        p_less=pvals[1],
        method=(
            "paired sign-flip permutation test of the mean difference (Fisher 1935; "
            "scipy permutation_test); paired t interval"
        ),
        null=null,
        effect="difference",
        se=_sd(d) / math.sqrt(m) if m >= 2 else None,
        df=float(m - 1) if m >= 2 else None,
        units=m,
        note=how,
    )


# ---------------------------------------------------------------- unpaired means


def _welch(
    xs: list[float], ys: list[float], null: float, alpha: float
) -> tuple[float, float, float, float, float | None, float | None]:
    """(p_greater, p_less, low, high, se, df) of Welch's test; conventions as ``welch_test``."""
    from scipy import stats as _st

    diff = sum(xs) / len(xs) - sum(ys) / len(ys)
    if len(xs) < 2 or len(ys) < 2:
        return 1.0, 1.0, -math.inf, math.inf, None, None
    if _constant(xs) and _constant(ys):
        return (*_no_spread_pvalues(diff, null), diff, diff, 0.0, None)
    shifted = [v - null for v in xs]
    with warnings.catch_warnings():
        # one side without spread: scipy warns of "precision loss" computing its zero variance
        warnings.simplefilter("ignore", RuntimeWarning)
        p_greater = float(_st.ttest_ind(shifted, ys, equal_var=False, alternative="greater").pvalue)
        p_less = float(_st.ttest_ind(shifted, ys, equal_var=False, alternative="less").pvalue)
        res = _st.ttest_ind(xs, ys, equal_var=False)
        ci = res.confidence_interval(confidence_level=1.0 - 2.0 * alpha)
    se = math.sqrt(_sd(xs) ** 2 / len(xs) + _sd(ys) ** 2 / len(ys))
    return p_greater, p_less, float(ci.low), float(ci.high), se, float(res.df)


def _hedges_g(xs: list[float], ys: list[float]) -> float | None:
    """Hedges' g (Hedges 1981): pooled-SD standardised difference, exact small-sample factor."""
    nx, ny = len(xs), len(ys)
    df = nx + ny - 2
    if nx < 2 or ny < 2:
        return None
    pooled = math.sqrt(((nx - 1) * _sd(xs) ** 2 + (ny - 1) * _sd(ys) ** 2) / df)
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
    _check_alpha(alpha)
    xs, ys = _floats(x, "x"), _floats(y, "y")
    p_greater, p_less, low, high, se, df = _welch(xs, ys, null, alpha)
    if len(xs) < 2 or len(ys) < 2:
        note = "fewer than 2 values on a side: no spread to test against"
    elif _constant(xs) and _constant(ys):
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


def permutation_test_independent(
    x: Sequence[float],
    y: Sequence[float],
    alpha: float,
    null: float = 0.0,
    resamples: int = 20_000,
    seed: int = 0,
) -> Inference:
    """Unpaired permutation test of the mean difference (scipy ``permutation_test``).

    Tests the shift model "x - null and y have the same distribution" by
    re-splitting the pooled values: scipy ``permutation_test((x - null, y),
    mean(a) - mean(b), permutation_type='independent')``. Exact over all
    C(nx+ny, nx) splits when that is <= ``resamples``, otherwise Monte Carlo
    with ``np.random.default_rng(seed)``. ``note`` states the smallest
    possible p. Interval: Welch's (as ``welch_test``).
    """
    import numpy as np
    from scipy import stats as _st

    _check_alpha(alpha)
    if resamples < 1:
        raise ValueError(f"resamples={resamples} must be >= 1")
    xs, ys = _floats(x, "x"), _floats(y, "y")
    shifted = np.asarray(xs) - null
    pvals: list[float] = []
    if min(len(xs), len(ys)) < 2:  # scipy needs 2 per sample; enumerate the n splits here
        pooled = np.concatenate([shifted, ys])
        obs = float(_mean_diff_stat(shifted, np.asarray(ys)))
        stats_ = np.array([
            float(_mean_diff_stat(pooled[list(idx)], np.delete(pooled, list(idx))))
            for idx in itertools.combinations(range(len(pooled)), len(xs))
        ])
        gamma = abs(obs) * 100 * float(np.finfo(float).eps)  # scipy's tie tolerance
        pvals = [float(np.mean(stats_ >= obs - gamma)), float(np.mean(stats_ <= obs + gamma))]
    for alternative in ("greater", "less") if not pvals else ():
        res = _st.permutation_test(
            (shifted, np.asarray(ys)), _mean_diff_stat, permutation_type="independent",
            vectorized=True, n_resamples=resamples, alternative=alternative,
            rng=np.random.default_rng(seed),
        )
        pvals.append(_nan_to_one(res.pvalue))
    splits = math.comb(len(xs) + len(ys), len(xs))
    if splits <= resamples:
        how = f"exact over all {splits} splits; smallest possible one-sided p = {1 / splits:.3g}"
    else:
        how = (
            f"Monte Carlo, {resamples} splits (seed {seed}); "
            f"smallest possible one-sided p = {1.0 / (resamples + 1):.3g}"
        )
    _, _, low, high, se, df = _welch(xs, ys, null, alpha)
    return Inference(
        estimate=sum(xs) / len(xs) - sum(ys) / len(ys),
        low=low,
        high=high,
        p_greater=pvals[0],
        p_less=pvals[1],
        method=(
            "two-sample permutation test of the mean difference (Pitman 1937; "
            "scipy permutation_test); Welch interval"
        ),
        null=null,
        effect="difference",
        se=se,
        df=df,
        units=len(xs) + len(ys),
        note=how,
    )


# ---------------------------------------------------------------- t-test power


def _check_t_args(se: float, df: float, alpha: float) -> None:
    _check_alpha(alpha)
    if not se > 0.0:
        raise ValueError(f"se={se} must be > 0")
    if not df > 0.0:
        raise ValueError(f"df={df} must be > 0")


def sign_flip_power(
    baseline_rates: Sequence[float], shift: float, per_prompt: int, alpha: float,
    shift_sd: float = 0.0, reps: int = 4000, resamples: int = 20_000,
) -> float:
    """Planned power of ``sign_flip_test`` on per-prompt rates ('greater': the
    model above the baseline) with one prompt per entry of ``baseline_rates``
    (the baseline's true rate on it), the model's true rate on each prompt
    the baseline's plus N(``shift``, ``shift_sd``) (clipped to [0, 1]), and
    ``per_prompt`` replies per prompt and model.

    By simulation (``reps`` data sets, fixed seed), running the test's own
    rule: exact over all 2**m sign patterns when 2**m <= ``resamples``,
    otherwise ``resamples`` random patterns with scipy's (count + 1) /
    (resamples + 1). Why not ``t_power``: rate differences are discrete and
    tie, so the permutation test's size sits well below alpha (0.034 at 10
    prompts x 10 replies) and the paired t test's planner overstated its
    power by 0.07 (bench/calibration.py).
    """
    import numpy as np

    _check_alpha(alpha)
    base = np.asarray([float(r) for r in baseline_rates])
    m = len(base)
    if m < 1 or per_prompt < 1 or reps < 1:
        raise ValueError("need at least one prompt, one reply per prompt and one repetition")
    if np.any((base < 0) | (base > 1)):
        raise ValueError("baseline_rates must lie in [0, 1]")
    rng = np.random.default_rng(20_240_611)
    if 2**m <= resamples:
        patterns = (np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1
        exact = True
    else:
        patterns = rng.integers(0, 2, size=(resamples, m))
        exact = False
    signs = 1.0 - 2.0 * patterns
    hits = 0
    chunk = max(1, 2_000_000 // len(signs))
    for start in range(0, reps, chunk):
        r = min(chunk, reps - start)
        rates = np.clip(base + shift + shift_sd * rng.standard_normal((r, m)), 0.0, 1.0)
        d = (rng.binomial(per_prompt, rates)
             - rng.binomial(per_prompt, np.broadcast_to(base, rates.shape))).astype(float)
        # integer count differences: sign-flipped sums are exact, so ties are exact ties
        flipped = d @ signs.T
        at_least = (flipped >= d.sum(axis=1)[:, None]).sum(axis=1)
        p = at_least / len(signs) if exact else (at_least + 1) / (resamples + 1)
        hits += int(np.sum(p < significance_cut(alpha)))
    return hits / reps


def t_power(effect: float, se: float, df: float, alpha: float) -> float:
    """Power of the one-sided t test at level ``alpha`` when the true effect is ``effect``.

    The test is taken in the direction of ``effect``: T = estimate/se is
    noncentral t with ``df`` degrees of freedom and noncentrality
    |effect|/se, and the test rejects when its p-value is significant
    (``power.significant``), i.e. T > t.isf(alpha*(1 - 1e-9), df). Power =
    scipy ``nct.sf``; for a one-sample test with se = sd/sqrt(n), df = n - 1
    this is statsmodels ``TTestPower().power(effect/sd, n, alpha,
    alternative='larger')``. ``df = inf`` gives the z test.
    """
    from scipy import stats as _st

    _check_t_args(se, df, alpha)
    level = significance_cut(alpha)
    nc = abs(effect) / se
    if math.isinf(df):
        return float(_st.norm.sf(_st.norm.isf(level) - nc))
    return float(_st.nct.sf(_st.t.isf(level, df), df, nc))


def t_detectable(se: float, df: float, alpha: float, power: float = 0.8) -> float:
    """Smallest true effect the one-sided t test (``se``, ``df``, ``alpha``) detects with ``power``.

    Inverts ``t_power`` (exact noncentral t, scipy ``nct``) by bracketing
    and scipy ``brentq`` to 1e-12 relative. For power at or below the level
    the answer is 0 (a zero effect is "detected" at rate alpha).
    """
    from scipy import optimize as _opt

    _check_t_args(se, df, alpha)
    if not 0.0 < power < 1.0:
        raise ValueError(f"power={power} must lie in (0, 1)")
    if power <= t_power(0.0, se, df, alpha):
        return 0.0
    hi = se
    while t_power(hi, se, df, alpha) < power:
        hi *= 2.0
    return float(
        _opt.brentq(lambda e: t_power(e, se, df, alpha) - power, 0.0, hi, xtol=1e-14 * hi,
                    rtol=1e-12)
    )
