"""Tests whose unit is the model: arms of fine-tune seeds (docs/statistics.md).

Published self-awareness effects are means over 3-10 fine-tunes per arm, and
what generalises to the next fine-tune is the between-seed variation, not
the per-sample noise of one seed. So an arm is summarised by its per-model
rates and tested with Student/Welch t on them (the paper's analysis). A
mixed model (samples within seeds) would add little here: with every seed
sampled n times on the same prompts, the per-model mean is a sufficient
summary for the arm mean and the t test on it is exact under normality of
the seed means, which is what a mixed model would reduce to.

Two guards keep the t tests honest with rates:

* A per-model rate can never vary less across seeds than its own binomial
  sampling noise, so the between-model variance is floored at
  p(1-p)/n (otherwise 3 seeds that happen to tie look infinitely precise).
* When even that floor is zero (every model at 0 or every model at 1), the
  seeds agree exactly and the pooled exact binomial test is used.

Values without a floor (option probabilities, scale readings: one per model)
that do not vary at all follow the one rule for "no spread" of every t-based
test here, ``spread.no_spread_pvalues``: the t test's limit, p -> 0 in the
data's direction (and 1 when the mean sits on the null), with the relative
tolerance ``spread.SPREAD_TOL`` deciding what "does not vary" means.
"""


from __future__ import annotations

import math
from collections.abc import Sequence

from behavtest.stats.binomial import binomial_pvalue, one_sided_bounds
from behavtest.stats.power import significance_cut
from behavtest.stats.result import Inference, check_alpha
from behavtest.stats.spread import SPREAD_TOL, is_constant, no_spread_pvalues


def _t_sf(t: float, df: float) -> float:
    from scipy import stats as _st
    return float(_st.t.sf(t, df))


def _t_q(q: float, df: float) -> float:
    from scipy import stats as _st
    return float(_st.t.ppf(q, df))


def _mean_var(values: Sequence[float]) -> tuple[float, float]:
    m = sum(values) / len(values)
    v = sum((x - m) ** 2 for x in values) / (len(values) - 1)
    return m, v


def _floored_var(rates: Sequence[float], sizes: Sequence[int] | None) -> tuple[float, float]:
    """Mean and between-model variance of per-model rates, floored at the
    binomial sampling variance of one model's rate (when sizes are given)."""
    m, v = _mean_var(rates)
    if sizes is not None:
        n_bar = sum(sizes) / len(sizes)
        v = max(v, m * (1.0 - m) / n_bar)
    return m, v


def _from_t(
    estimate: float, null: float, se: float, df: float, alpha: float, method: str, units: int,
    effect: str, note: str | None = None,
) -> Inference:
    t = (estimate - null) / se
    half = _t_q(1.0 - alpha, df) * se
    return Inference(
        estimate=estimate,
        low=estimate - half,
        high=estimate + half,
        p_greater=_t_sf(t, df),
        p_less=_t_sf(-t, df),
        method=method,
        null=null,
        effect=effect,
        se=se,
        df=df,
        units=units,
        note=note,
    )


def arm_vs_value(
    rates: Sequence[float], null: float, alpha: float, sizes: Sequence[int] | None = None,
    successes: Sequence[int] | None = None,
) -> Inference:
    """Mean of per-model rates (or mean scores) against a fixed value.

    One-sample t on the per-model values with m-1 df (scipy ``ttest_1samp``
    when there is spread). ``sizes`` (samples per model) turn on the binomial
    variance floor; with ``successes`` too, zero spread falls back to the
    exact binomial test on the pooled counts.
    """
    m = len(rates)
    if m < 2:
        raise ValueError("an arm needs at least 2 models for a test over models")
    mean, var = _floored_var(rates, sizes)
    if var == 0.0 or (sizes is None and is_constant(rates)):
        if successes is not None and sizes is not None:
            k, n = sum(successes), sum(sizes)
            low, high = one_sided_bounds(k, n, alpha)
            return Inference(
                estimate=k / n, low=low, high=high,
                p_greater=binomial_pvalue(k, n, null, "greater"),
                p_less=binomial_pvalue(k, n, null, "less"),
                method="exact binomial test on pooled counts (every model at the same "
                "boundary rate, so there is no between-model spread)",
                null=null, effect="rate", units=m,
            )
        p_greater, p_less = no_spread_pvalues(mean, null)
        return Inference(
            estimate=mean, low=mean, high=mean, p_greater=p_greater, p_less=p_less,
            method=f"one-sample t over {m} models' means, at its limit: no spread",
            null=null, effect="mean", units=m, note="every model gave the same value",
        )
    return _from_t(
        mean, null, math.sqrt(var / m), m - 1, alpha,
        f"one-sample t over {m} models' means ({m - 1} df)", m, "mean",
    )


def arm_vs_arm(
    x: Sequence[float], y: Sequence[float], alpha: float, null: float = 0.0,
    x_sizes: Sequence[int] | None = None, y_sizes: Sequence[int] | None = None,
) -> Inference:
    """Welch t on per-model values of two arms (each >= 2 models), Welch-
    Satterthwaite df; the same number scipy ``ttest_ind(equal_var=False)``
    gives when no variance floor applies."""
    if len(x) < 2 or len(y) < 2:
        raise ValueError("Welch's test needs at least 2 models per arm")
    mx, vx = _floored_var(x, x_sizes)
    my, vy = _floored_var(y, y_sizes)
    return _welch(mx, vx / len(x), len(x) - 1, my, vy / len(y), len(y) - 1, null, alpha,
                  f"Welch t on per-model means ({len(x)} vs {len(y)} models)", len(x) + len(y))


def arm_vs_single(
    x: Sequence[float], k: int, n: int, alpha: float, null: float = 0.0,
    x_sizes: Sequence[int] | None = None,
) -> Inference:
    """An arm of >= 2 models against ONE model (typically the untuned base).

    The base model has no seeds: its rate is a fixed quantity estimated with
    binomial noise p(1-p)/n. The difference is tested with Welch's t using
    that variance for the single model and the between-model variance for
    the arm, with Welch-Satterthwaite df (the single model contributes n-1).
    """
    if len(x) < 2:
        raise ValueError("the arm needs at least 2 models")
    mx, vx = _floored_var(x, x_sizes)
    p = k / n
    return _welch(mx, vx / len(x), len(x) - 1, p, p * (1.0 - p) / n, n - 1, null, alpha,
                  f"Welch t: {len(x)} models' means vs one model's rate (binomial variance)",
                  len(x) + 1)


def _welch(
    mx: float, sx2: float, dfx: float, my: float, sy2: float, dfy: float, null: float,
    alpha: float, method: str, units: int,
) -> Inference:
    se2 = sx2 + sy2
    diff = mx - my
    if se2 <= (SPREAD_TOL * max(1.0, abs(mx), abs(my))) ** 2:
        p_greater, p_less = no_spread_pvalues(diff, null)
        return Inference(
            estimate=diff, low=diff, high=diff, p_greater=p_greater, p_less=p_less,
            method=method + ", at its limit: no spread in either arm", null=null,
            effect="difference", units=units, note="no spread",
        )
    parts = [s for s in ((sx2, dfx), (sy2, dfy)) if s[0] > 0]
    df = se2**2 / sum(s**2 / d for s, d in parts)
    return _from_t(diff, null, math.sqrt(se2), df, alpha, method + f" ({df:.1f} df)", units,
                   "difference")


# ---------------------------------------------------------------- planners
#
# The tests above are t tests on per-model rates, but not plain ones: each
# arm's variance is floored at the binomial variance of one model's rate, and
# Welch's df come from the estimated variances. Both cost power that the
# noncentral t with the true variances does not see (bench/calibration.py
# measures how much). So the planner (and bench/planners.py's for the other arm
# tests) takes the expectation of the power over the sampling distribution of
# each arm's variance estimate: with normal per-model rates, the arm mean is
# N(mu, var/m) independent of the sample variance var * chi2_{m-1}/(m-1),
# and given the variances the test rejects when the mean difference exceeds
# t_{alpha, df} * se, a normal tail. The expectation is a midpoint rule on
# _GRID quantiles of each chi-square (tests/test_calibration_suite.py checks it
# against scipy ``nct`` when no floor binds).

_GRID = 256


def model_rate_var(rate: float, between_sd: float, n: int) -> float:
    """Variance of one model's observed rate k/n when its true rate varies
    across seeds with mean ``rate`` and sd ``between_sd``: Var(E[k/n | r]) +
    E[Var(k/n | r)] = sd^2 + (rate(1-rate) - sd^2)/n (law of total variance)."""
    return between_sd**2 * (1.0 - 1.0 / n) + rate * (1.0 - rate) / n


def check_plan(alpha: float, between_sd: float, n_per_model: int, *rates: float) -> None:
    """Raise ValueError unless the arguments of an arm planner describe a possible design."""
    check_alpha(alpha)
    if between_sd < 0:
        raise ValueError(f"between_sd={between_sd} must be >= 0")
    if n_per_model < 1:
        raise ValueError(f"n_per_model={n_per_model} must be >= 1")
    for r in rates:
        if not 0.0 <= r <= 1.0:
            raise ValueError(f"rate {r} must lie in [0, 1]")
    if between_sd**2 > max(r * (1.0 - r) for r in rates) + 1e-12:
        raise ValueError(
            f"between_sd={between_sd} is impossible: rates in [0, 1] with mean "
            f"{max(rates, key=lambda r: r * (1 - r)):g} vary by at most sqrt(rate(1 - rate))"
        )


def expected_t_power(
    effect: float, sides: Sequence[tuple[float, float, float]], alpha: float
) -> float:
    """Power of a one-sided (Welch) t test, in the direction of ``effect``,
    averaged over the sampling distribution of its variance estimates.

    ``sides``: for each independent mean in the difference, (true variance of
    that mean, df of its variance estimate, floor on the estimated variance of
    the mean). Each estimate is var * chi2_df / df, floored; se^2 is their sum
    and df the Welch-Satterthwaite df of the estimates (the test's own df for
    one side). Power given the estimates = P(N(|effect|, sum var) > t * se).
    """
    import numpy as np
    from scipy import stats as _st

    total = sum(v for v, _, _ in sides)
    if total <= 0.0:
        return 1.0 if effect != 0.0 else 0.0
    u = (np.arange(_GRID) + 0.5) / _GRID
    est = []
    for i, (var, df, floor) in enumerate(sides):
        shape = [1] * len(sides)
        shape[i] = _GRID
        s = var * _st.chi2.ppf(u, df) / df
        est.append((np.maximum(s, floor).reshape(shape), df))
    se2 = sum(e for e, _ in est)
    welch_df = se2**2 / sum(e**2 / df for e, df in est)
    crit = _st.t.isf(significance_cut(alpha), welch_df)
    z = (abs(effect) - crit * np.sqrt(se2)) / math.sqrt(total)
    return float(np.mean(_st.norm.cdf(z)))


def arm_power(
    rate_x: float, rate_y: float, between_sd: float, models_x: int, models_y: int,
    n_per_model: int, alpha: float, null: float = 0.0,
) -> float:
    """Planned power of ``arm_vs_arm`` (one-sided Welch t on per-model rates, in
    the direction of rate_x - rate_y - null) when seeds' true rates vary with
    sd ``between_sd`` around each arm's mean and every model is sampled
    ``n_per_model`` times.

    Each arm's per-model variance is sd^2 (1 - 1/n) + rate(1 - rate)/n
    (between-seed sd plus binomial noise); se^2 = var_x/m_x + var_y/m_y. The
    noncentral t with Welch-Satterthwaite df from these true variances
    (``t_planning.t_power``) overstates the power of the test as run
    (bench/calibration.py), because the test floors each arm's variance at the
    binomial one and takes its df from the estimated variances; so this
    returns the expectation of the power over both variance estimates (see the
    comment above), which bench/calibration.py checks against simulation.
    """
    check_plan(alpha, between_sd, n_per_model, rate_x, rate_y)
    if models_x < 2 or models_y < 2:
        raise ValueError("Welch's test needs at least 2 models per arm")
    sides = [
        (model_rate_var(r, between_sd, n_per_model) / m, m - 1, r * (1.0 - r) / n_per_model / m)
        for r, m in ((rate_x, models_x), (rate_y, models_y))
    ]
    return expected_t_power(rate_x - rate_y - null, sides, alpha)
