"""Paired comparisons of a model ("x") with a baseline ("y"): replies to *the
same prompts*, pair i being x and y on prompt i.

Why paired tests: the pairing removes the prompt-to-prompt variation that an
unpaired test counts as noise, so the same data show smaller differences.
Binary outcomes with one reply per prompt use the exact McNemar test with
Tango's score interval; per-prompt rates or scores use the paired t test,
which is what power planning can be done for (``t_planning``).

Both return one-sided p-values for ``x - y`` against ``null`` and a
``1 - 2*alpha`` interval whose bounds are one-sided ``1 - alpha`` bounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from behavtest.stats.result import Inference, check_alpha
from behavtest.stats.spread import finite_values, is_constant, no_spread_pvalues, sample_sd

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

    check_alpha(alpha)
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


def one_sample_t(d: list[float], null: float, alpha: float) -> tuple[float, float, float, float]:
    """(p_greater, p_less, low, high) of the one-sample t test of the differences ``d``
    (the conventions of ``paired_t_test``)."""
    from scipy import stats as _st

    m = len(d)
    mean = sum(d) / m
    if m < 2:
        return 1.0, 1.0, -math.inf, math.inf
    if is_constant(d):
        return (*no_spread_pvalues(mean, null), mean, mean)
    p_greater = float(_st.ttest_1samp(d, null, alternative="greater").pvalue)
    p_less = float(_st.ttest_1samp(d, null, alternative="less").pvalue)
    ci = _st.ttest_1samp(d, 0.0).confidence_interval(confidence_level=1.0 - 2.0 * alpha)
    return p_greater, p_less, float(ci.low), float(ci.high)


def paired_differences(x: Sequence[float], y: Sequence[float]) -> list[float]:
    """x[i] - y[i], after checking that both are finite, non-empty and pair up."""
    xs, ys = finite_values(x, "x"), finite_values(y, "y")
    if len(xs) != len(ys):
        raise ValueError(f"x has {len(xs)} values, y {len(ys)}: paired data must pair up")
    return [a - b for a, b in zip(xs, ys, strict=True)]


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
    check_alpha(alpha)
    d = paired_differences(x, y)
    m = len(d)
    mean = sum(d) / m
    p_greater, p_less, low, high = one_sample_t(d, null, alpha)
    se: float | None = None
    if m < 2:
        note = "1 pair: no spread to test against"
    elif is_constant(d):
        se, note = 0.0, "all differences are equal: zero standard error"
    else:
        sd = sample_sd(d)
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
