"""Power planners for the harness's tests that the harness itself never plans
with: bench/calibration.py checks each against a simulation of the test it
plans for (and tests/test_calibration_suite.py checks them exactly where that
is possible), so the calibration can state power as well as size.

Each planner runs, or reproduces exactly, the rule of the test it plans for
in ``behavtest.stats``: the Korn-Graubard clustered rate, the Rao-Scott
difference of clustered rates, the cluster-robust mean, and the t tests on
arms of models.

Imported as a sibling module by the bench scripts (``python bench/<x>.py``
puts bench/ on the path).
"""

from __future__ import annotations

import math
from typing import Any

from behavtest.stats.arms import check_plan, expected_t_power, model_rate_var
from behavtest.stats.power import significance_cut
from behavtest.stats.rao_scott import rao_scott_arrays
from behavtest.stats.result import check_alpha
from behavtest.stats.t_planning import t_power

# ---------------------------------------------------------------- arms of models


def arm_value_power(
    rate: float, value: float, between_sd: float, models: int, n_per_model: int, alpha: float
) -> float:
    """Planned power of ``arm_vs_value`` (one-sided one-sample t over ``models``
    per-model rates, m - 1 df, in the direction of rate - value) when the
    arm's true mean rate is ``rate``, seeds' true rates vary with sd
    ``between_sd``, and each model is sampled ``n_per_model`` times.

    One model's observed rate has variance var = sd^2 (1 - 1/n) + rate(1 -
    rate)/n. Without the binomial floor the answer is the noncentral t power
    (``t_planning.t_power(rate - value, sqrt(var/m), m - 1, alpha)``); with it,
    the expectation over the sample variance (``arms.expected_t_power``), flooring at
    rate(1 - rate)/n (the floor at the true rate; the test floors at the
    observed mean rate). At rate == value this is the planned size, at most
    alpha: the floor makes the test conservative.
    """
    check_plan(alpha, between_sd, n_per_model, rate, value)
    if models < 2:
        raise ValueError("an arm needs at least 2 models")
    var = model_rate_var(rate, between_sd, n_per_model)
    floor = rate * (1.0 - rate) / n_per_model
    return expected_t_power(rate - value, [(var / models, models - 1, floor / models)], alpha)


def arm_single_power(
    rate_x: float, rate_single: float, between_sd: float, models_x: int, n_per_model: int,
    n_single: int, alpha: float, null: float = 0.0,
) -> float:
    """Planned power of ``arm_vs_single``: as ``arms.arm_power``, with the single
    model's variance rate(1 - rate)/n_single (it has no seeds), estimated on
    n_single - 1 df as the test does, and no floor on that side."""
    check_plan(alpha, between_sd, n_per_model, rate_x, rate_single)
    if models_x < 2:
        raise ValueError("the arm needs at least 2 models")
    if n_single < 2:
        raise ValueError(f"n_single={n_single} must be >= 2")
    sides = [
        (model_rate_var(rate_x, between_sd, n_per_model) / models_x, models_x - 1,
         rate_x * (1.0 - rate_x) / n_per_model / models_x),
        (rate_single * (1.0 - rate_single) / n_single, n_single - 1, 0.0),
    ]
    return expected_t_power(rate_x - rate_single - null, sides, alpha)


# ---------------------------------------------------------------- clustered rates

_DP_STATES = 4_000_000  # (pooled count, sum of squared counts) states of the exact planner


def _kg_rejects(big_k: Any, s2: Any, m: int, n: int, null: float, alpha: float, icc: float,
                side: str) -> Any:
    """The Korn-Graubard decision of ``clustered.korn_graubard_arrays`` for m clusters of n
    replies, from the pooled count K and S2 = sum of squared cluster counts
    (with equal sizes the cluster-robust variance is m/(m-1) sum (k_j - K/m)^2
    / N^2 = (m S2 - K^2) / ((m-1) N^2)): True where p(claim) < alpha."""
    import numpy as np
    from scipy import special as _sp
    from scipy import stats as _st

    total = m * n
    p = big_k / total
    v = (m * s2 - big_k * big_k) / ((m - 1) * total * total)
    factor = (_st.t.ppf(alpha, total - 1) / _st.t.ppf(alpha, m - 1)) ** 2
    n_floor = total / (1.0 + (n - 1) * icc)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_kg = p * (1 - p) / v * factor
    degenerate = (p <= 0) | (p >= 1) | ~(v > 0)
    n_eff = np.where(degenerate, n_floor, np.minimum(np.minimum(n_kg, total), n_floor))
    k_eff = p * n_eff
    if side == "greater":
        a, b, x = k_eff, n_eff - k_eff + 1, null
    else:
        a, b, x = n_eff - k_eff, k_eff + 1, 1 - null
    with np.errstate(divide="ignore", invalid="ignore"):
        pval = np.where(a > 0, _sp.betainc(np.maximum(a, 1e-300), b, x), 1.0)
    return pval < significance_cut(alpha)


def clustered_rate_power(
    rate: float, null: float, clusters: int, per_cluster: int, alpha: float, icc: float = 0.1,
    true_icc: float | None = None, direction: str | None = None,
) -> float:
    """Planned power of ``clustered.clustered_rate`` (Korn-Graubard with the
    harness's icc floor ``icc``) with ``clusters`` prompts of ``per_cluster``
    replies each, when the mean rate is ``rate`` and the prompts' true rates
    vary with intra-cluster correlation ``true_icc`` (default ``icc``): Beta
    distributed, so each prompt's count is beta-binomial (binomial at 0).
    ``direction`` defaults to the side of ``rate`` against ``null``
    ('greater' at equality: the planned size).

    No library computes this. With equal cluster sizes the test's decision
    is a function of the pooled count K and S2 = sum of squared cluster
    counts, and for each K it is monotone in S2 (more spread, fewer effective
    samples), so the power is exact: the joint law of (K, S2) by dynamic
    programming over the clusters, keeping only the S2 that can still reject
    (counts where every S2 rejects take K's marginal law, an m-fold
    convolution of the beta-binomial pmf). When that would need more than
    4 million states (large designs with a claim far from the rate, e.g. 25
    prompts x 40 replies), an approximation answers instead: the sample
    variance of the cluster rates given K as a chi-square on m - 1 df with
    its conditional mean linear in K (slope from the third central moment of
    a cluster's rate). Against simulation of ``clustered.korn_graubard_arrays`` (20000
    repetitions each): the exact path agrees within simulation error (0.007)
    at true ICC 0-0.3, rates 0.02-0.5, 5-20 prompts; the approximation within
    0.015 on designs of 10-30 prompts x 40-100 replies, though on small
    designs (where it is not used) it is up to 0.07 off for rare rates with
    ICC 0.3.
    """
    import numpy as np
    from scipy import stats as _st

    check_alpha(alpha)
    rho = icc if true_icc is None else true_icc
    for name, val in (("rate", rate), ("null", null), ("icc", icc), ("true_icc", rho)):
        if not 0.0 <= val <= 1.0:
            raise ValueError(f"{name}={val} must lie in [0, 1]")
    if clusters < 2 or per_cluster < 1:
        raise ValueError("need clusters >= 2 and per_cluster >= 1")
    side = direction or ("less" if rate < null else "greater")
    if side not in ("greater", "less"):
        raise ValueError(f"direction {direction!r} is not 'greater' or 'less'")
    m, n = clusters, per_cluster
    total = m * n
    ks = np.arange(n + 1)
    if rho == 0.0 or rate in (0.0, 1.0):
        pmf = _st.binom.pmf(ks, n, rate)
    else:
        s = (1.0 - rho) / rho  # a + b of the Beta: icc = 1 / (a + b + 1)
        pmf = _st.betabinom.pmf(ks, n, rate * s, (1.0 - rate) * s)
    marginal = np.ones(1)
    for _ in range(m):
        marginal = np.convolve(marginal, pmf)
    big_k = np.arange(total + 1)
    q, r = np.divmod(big_k, m)
    s2_min = (m - r) * q * q + r * (q + 1) ** 2  # counts as even as possible
    q, r = np.divmod(big_k, n)
    s2_max = q * n * n + r * r  # counts as concentrated as possible
    # largest S2 that still rejects, per K (bisection; the decision is monotone in S2)
    # invariant: rejects at S2 = lo (lo = s2_min - 1: nowhere yet), not at hi
    top = _kg_rejects(big_k, s2_max, m, n, null, alpha, icc, side)
    lo = np.where(top, s2_max, s2_min - 1)
    hi = s2_max.copy()
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        ok = _kg_rejects(big_k, mid, m, n, null, alpha, icc, side)
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    s_star = lo  # < s2_min: never rejects; == s2_max: always rejects
    always = s_star >= s2_max
    partial = (s_star >= s2_min) & ~always
    power = float(marginal[always].sum())
    if not partial.any():
        return min(1.0, power)
    cap = int(s_star[partial].max())
    if (total + 1) * (cap + 1) > _DP_STATES:
        return min(1.0, power + _kg_power_approx(
            pmf, partial, s_star, marginal, m, n, null, alpha, icc, side))
    dist = np.zeros((total + 1, cap + 1))
    dist[0, 0] = 1.0
    live = [int(k) for k in ks if pmf[k] > 1e-300]
    for j in range(m):
        kmax, smax = j * n, min(cap, j * n * n)
        src = dist[: kmax + 1, : smax + 1].copy()
        dist[: kmax + 1, : smax + 1] = 0.0
        for k in live:
            width = min(smax + 1, cap + 1 - k * k)
            if width > 0:
                dist[k : k + kmax + 1, k * k : k * k + width] += pmf[k] * src[:, :width]
    below = np.arange(cap + 1)[None, :] <= s_star[:, None]
    power += float(dist[partial][below[partial]].sum())
    return min(1.0, power)


def _kg_power_approx(
    pmf: Any, partial: Any, s_star: Any, marginal: Any, m: int, n: int, null: float,
    alpha: float, icc: float, side: str,
) -> float:
    """P(K partial, S2 <= s*(K)) when the exact recursion is too large: S2's
    spread given K as (its conditional mean) x chi2_{m-1}/(m-1), the
    conditional mean from a linear regression of the sample variance of the
    cluster rates on their mean (slope: third over second central moment)."""
    import numpy as np
    from scipy import stats as _st

    x = np.arange(n + 1) / n
    mu = float(np.sum(pmf * x))
    var = float(np.sum(pmf * (x - mu) ** 2))
    third = float(np.sum(pmf * (x - mu) ** 3))
    big_k = np.arange(len(marginal))
    p_hat = big_k / (m * n)
    scale = np.maximum(1.0 + third / var**2 * (p_hat - mu), 0.05) * var if var > 0 else 0 * p_hat
    # sample variance of cluster rates <= s*: S2 = n^2 (sum x_j^2) and
    # (m - 1) s_x^2 = sum x_j^2 - m xbar^2
    sx2_star = (s_star / n**2 - m * p_hat**2) / (m - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = np.where(scale > 0, _st.chi2.cdf((m - 1) * sx2_star / scale, m - 1), 1.0)
    return float(np.sum(marginal[partial] * cdf[partial]))


def clustered_difference_power(
    rate_x: float, rate_y: float, clusters_x: int, per_x: int, clusters_y: int, per_y: int,
    alpha: float, icc: float = 0.1, true_icc_x: float | None = None,
    true_icc_y: float | None = None, direction: str | None = None, reps: int = 20_000,
) -> float:
    """Planned power of ``clustered_rate_difference`` (null 0) with ``clusters_x``
    prompts of ``per_x`` replies against ``clusters_y`` of ``per_y``, true mean
    rates ``rate_x``, ``rate_y``, and prompts whose true rates vary with
    intra-cluster correlation ``true_icc_*`` (default: the assumed floor
    ``icc``): Beta distributed, so each prompt's count is beta-binomial.
    ``direction`` defaults to the side of rate_x against rate_y ('greater' at
    equality: the planned size).

    By simulation (``reps`` data sets, fixed seed, so the answer repeats; SE
    at most 0.0035 at the default), running the test itself
    (``rao_scott_arrays``). Why not a formula: the effective sample sizes
    are estimated and then floored, and the normal/noncentral-t
    approximation with Kish's design effect overstated the power by 0.03-0.09
    on the calibration designs.
    """
    import numpy as np

    check_alpha(alpha)
    rho_x = icc if true_icc_x is None else true_icc_x
    rho_y = icc if true_icc_y is None else true_icc_y
    for name, val in (("rate_x", rate_x), ("rate_y", rate_y), ("icc", icc),
                      ("true_icc_x", rho_x), ("true_icc_y", rho_y)):
        if not 0.0 <= val <= 1.0:
            raise ValueError(f"{name}={val} must lie in [0, 1]")
    if min(clusters_x, clusters_y, per_x, per_y) < 1:
        raise ValueError("need at least one prompt with one reply on each side")
    side = direction or ("less" if rate_x < rate_y else "greater")
    if side not in ("greater", "less"):
        raise ValueError(f"direction {direction!r} is not 'greater' or 'less'")
    rng = np.random.default_rng(20_240_611)
    hits = 0
    for start in range(0, reps, 5000):
        r = min(5000, reps - start)
        kx = rng.binomial(per_x, beta_rates(rng, rate_x, rho_x, (r, clusters_x)))
        ky = rng.binomial(per_y, beta_rates(rng, rate_y, rho_y, (r, clusters_y)))
        out = rao_scott_arrays(kx, np.full(kx.shape, per_x), ky, np.full(ky.shape, per_y),
                               icc)
        hits += int(np.sum(out["p_" + side] < significance_cut(alpha)))
    return hits / reps


def beta_rates(rng: Any, mean: float, icc: float, size: Any) -> Any:
    """Per-prompt true rates with mean ``mean`` whose replies have intra-cluster
    correlation ``icc``: Beta(mean s, (1 - mean) s), s = (1 - icc) / icc, so
    Var(rate) = icc mean (1 - mean); constant at icc 0 or a rate of 0 or 1."""
    import numpy as np

    if icc <= 0.0 or mean in (0.0, 1.0):
        return np.full(size, mean)
    if icc >= 1.0:  # every prompt all-or-nothing
        return rng.binomial(1, mean, size).astype(float)
    s = (1.0 - icc) / icc
    return rng.beta(mean * s, (1.0 - mean) * s, size)


# ---------------------------------------------------------------- clustered means


def clustered_mean_power(
    effect: float, between_sd: float, within_sd: float, clusters: int, per_cluster: int,
    alpha: float,
) -> float:
    """Planned power of ``clustered.clustered_mean`` (cluster-robust t, m - 1
    df) for a true mean ``effect`` away from the null, with cluster effects of
    sd ``between_sd`` and within-cluster sd ``within_sd``, ``clusters``
    clusters of ``per_cluster`` values each. With equal cluster sizes the CR1
    t statistic is the one-sample t on the cluster means, so for normal data
    this is exact: noncentral t (``t_planning.t_power``) with se^2 = (between^2 +
    within^2 / n) / m.
    """
    if clusters < 2 or per_cluster < 1:
        raise ValueError("need clusters >= 2 and per_cluster >= 1")
    if between_sd < 0 or within_sd < 0:
        raise ValueError("standard deviations must be >= 0")
    var = (between_sd**2 + within_sd**2 / per_cluster) / clusters
    if var <= 0.0:
        return 1.0 if effect != 0.0 else 0.0
    return t_power(effect, math.sqrt(var), clusters - 1, alpha)

