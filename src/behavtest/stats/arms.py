"""Tests whose unit is the model: arms of fine-tune seeds (science.md, lesson 1).

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
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from behavtest.stats.result import Inference


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
    from behavtest.stats.binomial import binomial_pvalue, one_sided_bounds
    m = len(rates)
    if m < 2:
        raise ValueError("an arm needs at least 2 models for a test over models")
    mean, var = _floored_var(rates, sizes)
    if var == 0.0:
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
        return Inference(
            estimate=mean, low=mean, high=mean, p_greater=1.0, p_less=1.0,
            method="no spread between models: no test possible", null=null, effect="mean",
            units=m, note="every model gave the same value",
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
    if se2 == 0.0:
        return Inference(
            estimate=diff, low=diff, high=diff, p_greater=1.0, p_less=1.0,
            method=method + "; no spread in either arm: no test possible", null=null,
            units=units, note="no spread",
        )
    parts = [s for s in ((sx2, dfx), (sy2, dfy)) if s[0] > 0]
    df = se2**2 / sum(s**2 / d for s, d in parts)
    return _from_t(diff, null, math.sqrt(se2), df, alpha, method + f" ({df:.1f} df)", units,
                   "difference")
