"""Rates and means when replies come in clusters (samples of the same prompt
or paraphrase).

Why: 10 paraphrases x 10 samples are not 100 independent draws. Replies to one
paraphrase share whatever that wording does to the model, so their outcomes
are correlated, and a binomial test on the pooled counts treats the
correlation as information it does not have: with an intra-cluster
correlation of 0.1-0.3 it passes claims that are false far more often than
alpha (``tests/test_stats_compare.py`` measures this). The tests here use the
cluster-robust ("ultimate cluster") variance, whose information grows with
the number of clusters m, not with the number of replies, and take their
degrees of freedom from m - 1.

Rates use Korn & Graubard's (1998) effective-sample-size Clopper-Pearson
interval, which keeps the exact binomial's good behaviour near 0 and 1 (where
behaviour rates live and Wald intervals fail) and reduces to it with one
cluster. Means use the cluster-robust t test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from behavtest.stats.compare import _check_alpha, _constant, _no_spread_pvalues
from behavtest.stats.power import significance_cut
from behavtest.stats.result import Inference

_KG = (
    "Korn-Graubard effective-sample-size Clopper-Pearson (Korn & Graubard 1998, "
    "Survey Methodology 24:193-201; R survey svyciprop(method='beta'))"
)


def _cluster_variance(k: Any, n: Any, icc: float) -> tuple[Any, Any, Any, Any, Any]:
    """Per row of (R, m) per-cluster counts ``k`` of sizes ``n``: the total N, the
    pooled rate p, the ultimate-cluster (with-replacement) variance v of the
    ratio estimator, m/(m-1) sum_j (k_j - p n_j)^2 / N^2 (svymean's variance,
    and the CR1 variance of OLS on a constant: statsmodels' small-sample factor
    (N-1)/(N-K) is 1 when K = 1), the least-clustering floor on the effective
    sample size, N / (1 + (N/m - 1) icc) (Kish's design effect at the assumed
    least intra-cluster correlation; see ``clustered_rate``), and where v says
    nothing about clustering (p at 0 or 1, or no spread). One cluster: v is the
    binomial variance and the floor is N."""
    import numpy as np

    m = k.shape[-1]
    total = n.sum(axis=-1)
    p = k.sum(axis=-1) / total
    if m < 2:
        return total, p, p * (1 - p) / total, total, np.zeros(p.shape, dtype=bool)
    resid = k - p[..., None] * n
    v = m / (m - 1) * np.sum(resid**2, axis=-1) / total**2
    n_floor = total / (1.0 + (total / m - 1.0) * icc)
    return total, p, v, n_floor, (p <= 0) | (p >= 1) | ~(v > 0)


def _kg_arrays(k: Any, n: Any, null: float, alpha: float, icc: float = 0.0) -> dict[str, Any]:
    """Korn-Graubard inference for many data sets at once (rows), vectorised with numpy.

    ``k`` and ``n`` are (R, m) arrays of per-cluster successes and sizes
    (every size >= 1). Used by ``clustered_rate`` (R = 1) and by the
    calibration simulations, so both run the same code.
    """
    import numpy as np
    from scipy import special as _sp
    from scipy import stats as _st

    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    m = k.shape[-1]
    total, p, v, n_floor, degenerate = _cluster_variance(k, n, icc)
    if m >= 2:
        factor = (_st.t.ppf(alpha, total - 1) / _st.t.ppf(alpha, m - 1)) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            n_kg = p * (1 - p) / v * factor
        n_eff = np.where(degenerate, n_floor, np.minimum(np.minimum(n_kg, total), n_floor))
    else:
        n_eff = total
    k_eff = p * n_eff
    has_k = k_eff > 0
    has_rest = k_eff < n_eff
    a_lo = np.where(has_k, k_eff, 1.0)  # placeholders where the tail is trivially 1
    b_hi = np.where(has_rest, n_eff - k_eff, 1.0)
    # P(X >= k) and P(X <= k) for X ~ Bin(n, null), continued to real k and n
    # by the regularised incomplete beta function; the interval bounds are
    # the matching beta quantiles, so p < alpha exactly when a bound excludes null.
    p_greater = np.where(has_k, _sp.betainc(a_lo, n_eff - k_eff + 1, null), 1.0)
    p_less = np.where(has_rest, _sp.betainc(b_hi, k_eff + 1, 1 - null), 1.0)
    low = np.where(has_k, _st.beta.ppf(alpha, a_lo, n_eff - k_eff + 1), 0.0)
    high = np.where(has_rest, _st.beta.ppf(1 - alpha, k_eff + 1, b_hi), 1.0)
    return {
        "p": p, "v": v, "n": total, "n_eff": n_eff, "k_eff": k_eff,
        "p_greater": p_greater, "p_less": p_less, "low": low, "high": high,
    }


def clustered_rate(
    k: Sequence[int], n: Sequence[int], null: float, alpha: float, icc: float = 0.0
) -> Inference:
    """Rate from clustered binary outcomes: ``k[j]`` successes of ``n[j]`` replies in cluster j.

    Korn & Graubard (1998), as R survey's ``svyciprop(method="beta")``:
    p = sum k / sum n; v = m/(m-1) * sum_j (k_j - p n_j)^2 / (sum n)^2 (the
    cluster-robust variance; equals statsmodels OLS on a constant with
    ``cov_type='cluster'``); n_eff = p(1-p)/v * (t_{N-1,alpha} /
    t_{m-1,alpha})^2 (svyciprop's degrees-of-freedom factor, N = sum n),
    then capped at N, so clustering can only cost information (svyciprop
    does not cap). Conventions: n_eff = N when p is 0 or 1 or v == 0, and
    with one cluster, which then is exactly the exact binomial test and
    Clopper-Pearson interval (scipy ``binomtest``). With k_eff = p n_eff:
    interval = Clopper-Pearson with real-valued counts, ``beta.ppf(alpha,
    k_eff, n_eff - k_eff + 1)`` and ``beta.ppf(1 - alpha, k_eff + 1, n_eff -
    k_eff)``; ``p_greater`` = P(X >= k_eff) = ``betainc(k_eff, n_eff - k_eff
    + 1, null)``, ``p_less`` = P(X <= k_eff), so each p-value is below alpha
    exactly when the matching bound excludes ``null``. Clusters with no
    replies are dropped. ``se`` = sqrt(v), ``df`` = m - 1, ``units`` = m.

    ``icc`` > 0 states the least intra-cluster correlation assumed: the
    design effect is never taken below 1 + (mean cluster size - 1) * icc
    (Kish 1965). Why: with rare behaviours and few clusters the data often
    hold no information about clustering at all (every cluster at 0, so v =
    0), and the convention n_eff = N then passes false "rate < t" claims far
    too often (27% at 5 clusters, true ICC 0.3; the strict xfail test in
    tests/test_stats_compare.py). The harness passes its ``--behav-icc``
    (default 0.1); 0 gives the published method unchanged.
    """
    _check_alpha(alpha)
    if not 0.0 <= null <= 1.0:
        raise ValueError(f"null={null} must lie in [0, 1] for a rate")
    if not 0.0 <= icc <= 1.0:
        raise ValueError(f"icc={icc} must lie in [0, 1]")
    ks, ns = list(k), list(n)
    if len(ks) != len(ns):
        raise ValueError(f"k has {len(ks)} clusters, n {len(ns)}")
    for kj, nj in zip(ks, ns, strict=True):
        if int(kj) != kj or int(nj) != nj:
            raise ValueError(f"counts must be integers (got k={kj}, n={nj})")
        if nj < 0 or not 0 <= kj <= nj:
            raise ValueError(f"need 0 <= k <= n in every cluster (got k={kj}, n={nj})")
    pairs = [(int(kj), int(nj)) for kj, nj in zip(ks, ns, strict=True) if nj > 0]
    if not pairs:
        raise ValueError("no replies: every cluster is empty")
    m = len(pairs)
    r = _kg_arrays([[kj for kj, _ in pairs]], [[nj for _, nj in pairs]], null, alpha, icc)
    p, v = float(r["p"][0]), float(r["v"][0])
    total, n_eff = int(r["n"][0]), float(r["n_eff"][0])
    if m == 1:
        note = "one cluster: exact binomial test, no clustering correction possible"
    else:
        srs = p * (1 - p) / total
        deff = f"{v / srs:.3g}" if srs > 0 else "undefined (rate 0 or 1)"
        floor = total / (1.0 + (total / m - 1.0) * icc)
        if n_eff >= total:
            how = "= all replies (rate 0 or 1, or no spread, or capped)"
        elif icc > 0 and n_eff >= floor - 1e-9:
            how = f"the floor for an assumed intra-cluster correlation of at least {icc:g}"
        else:
            how = "after the m-1 df factor"
        note = (
            f"{m} clusters; design effect {deff}; effective sample size "
            f"{n_eff:.1f} of {total} replies ({how})"
        )
    return Inference(
        estimate=p,
        low=float(r["low"][0]),
        high=float(r["high"][0]),
        p_greater=float(r["p_greater"][0]),
        p_less=float(r["p_less"][0]),
        method=_KG if m > 1 else "exact binomial test, Clopper-Pearson interval (scipy binomtest)",
        null=null,
        effect="rate",
        se=math.sqrt(v),
        df=float(m - 1) if m > 1 else None,
        units=m,
        note=note,
        effective_n=n_eff,
    )


_RAO_SCOTT = (
    "Rao-Scott design-effect-adjusted score test of two clustered rates (Rao & Scott 1992, "
    "Biometrics 48:577-585; Miettinen-Nurminen score on effective counts, t reference on "
    "Welch-Satterthwaite df over the prompts)"
)


def _rao_scott_side(k: Any, n: Any, icc: float) -> tuple[Any, Any, Any]:
    """Rows of one side of ``clustered_rate_difference``: (rate, effective n, df).

    n_eff = p(1-p)/v, the design effect estimated from the clusters (as in
    ``clustered_rate``, without Korn-Graubard's df factor: the df enter the t
    reference instead), capped at N and at the ``icc`` floor, on m - 1 df. A
    side of one prompt cannot show how prompts vary, and the other side's
    prompts are different ones, so its design effect is the assumed
    1 + (N - 1) icc, taken as known (infinite df)."""
    import numpy as np

    m = k.shape[-1]
    total, p, v, n_floor, degenerate = _cluster_variance(k, n, icc)
    if m == 1:
        return p, total / (1.0 + (total - 1.0) * icc), np.full(p.shape, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(degenerate, n_floor,
                         np.minimum(np.minimum(p * (1 - p) / v, total), n_floor))
    return p, n_eff, np.full(p.shape, float(m - 1))


def _rao_scott_arrays(kx: Any, nx: Any, ky: Any, ny: Any, icc: float) -> dict[str, Any]:
    """``clustered_rate_difference`` at null 0 for many data sets at once (rows of
    per-cluster counts and sizes), vectorised: used by the function itself, by
    its planner and by the calibration bench, so all three run the same code.
    At null 0 the Miettinen-Nurminen restricted MLE is the pooled rate, so z =
    (px - py) / sqrt(q (1 - q) (1/nx + 1/ny) N / (N - 1)), N = nx + ny."""
    import numpy as np
    from scipy import stats as _st

    px, nx_eff, dfx = _rao_scott_side(np.asarray(kx, float), np.asarray(nx, float), icc)
    py, ny_eff, dfy = _rao_scott_side(np.asarray(ky, float), np.asarray(ny, float), icc)
    vx, vy = px * (1 - px) / nx_eff, py * (1 - py) / ny_eff
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = vx * vx / dfx + vy * vy / dfy
        df = np.where(spread > 0, (vx + vy) ** 2 / spread,
                      np.where(np.isfinite(dfx + dfy), dfx + dfy, np.inf))
        big_n = nx_eff + ny_eff
        q = (px * nx_eff + py * ny_eff) / big_n
        z = (px - py) / np.sqrt(q * (1 - q) * (1 / nx_eff + 1 / ny_eff) * big_n / (big_n - 1))
    flat = np.isnan(z)  # every reply 0, or every reply 1, on both sides
    zz = np.where(flat, 0.0, z)
    return {
        "px": px, "py": py, "nx_eff": nx_eff, "ny_eff": ny_eff, "vx": vx, "vy": vy, "df": df,
        "z": z, "p_greater": np.where(flat, 1.0, _st.t.sf(zz, df)),
        "p_less": np.where(flat, 1.0, _st.t.cdf(zz, df)),
    }


def _cluster_rows(k: Sequence[int], n: Sequence[int], side: str) -> tuple[list[int], list[int]]:
    ks, ns = list(k), list(n)
    if len(ks) != len(ns):
        raise ValueError(f"{side}: k has {len(ks)} clusters, n {len(ns)}")
    for kj, nj in zip(ks, ns, strict=True):
        if int(kj) != kj or int(nj) != nj or nj < 0 or not 0 <= kj <= nj:
            raise ValueError(f"{side}: need integer counts 0 <= k <= n (got k={kj}, n={nj})")
    pairs = [(int(kj), int(nj)) for kj, nj in zip(ks, ns, strict=True) if nj > 0]
    if not pairs:
        raise ValueError(f"{side}: no replies, every cluster is empty")
    return [kj for kj, _ in pairs], [nj for _, nj in pairs]


def clustered_rate_difference(
    kx: Sequence[int], nx: Sequence[int], ky: Sequence[int], ny: Sequence[int],
    alpha: float, null: float = 0.0, icc: float = 0.0,
) -> Inference:
    """rate_x - rate_y against ``null`` when each side's replies come in
    clusters of its own (model and baseline asked *different* prompts), from
    per-cluster successes ``k`` of ``n`` replies.

    Rao & Scott's (1992) adjustment: each side's counts are divided by its
    design effect, estimated from its clusters (``clustered_rate``'s
    ultimate-cluster variance, floored at the assumed least intra-cluster
    correlation ``icc``; a side of one prompt gets the assumed design effect
    1 + (N - 1) icc, since nothing on it shows how prompts vary), and the
    ordinary two-sample test runs on the effective counts: here the
    Miettinen-Nurminen score test (the Farrington-Manning score with the
    N/(N-1) factor; ``equivalence.score_pvalue_2indep`` with real-valued
    counts), referred to Student's t on the Welch-Satterthwaite df of the two
    sides' variances, m - 1 df for a side of m prompts. The interval inverts
    the same one-sided tests, so ``low > null`` exactly when p_greater <
    alpha.

    Why not Welch's t on per-prompt rates, the textbook answer: per-prompt
    rates of a behaviour are skewed (most prompts near 0, a few high), and a
    one-sided t on skewed means with few prompts is not level alpha: 0.07 at 8
    vs 12 prompts at rate 0.3 and 0.12 at rate 0.1 (measured; skewness-
    corrected t (Johnson 1978, Hall 1992), Hsu's df, the bootstrap-t and a
    studentized permutation test gave 0.055-0.064 at the first). The score
    test's variance comes from the pooled rate, not from the prompts' spread,
    so it does not share the t test's correlation between the mean and its
    standard error. bench/calibration.py measures its size and power; the
    designs it misses (strong clustering, ICC 0.3, at a rare rate: 0.078; one
    prompt against several: 0.057) are strict xfails in
    tests/test_calibration_suite.py. ``units`` is the number
    of prompts, ``effective_n`` the two effective sample sizes added. Every
    reply 0 (or every reply 1) on both sides with null = 0: p = 1 both ways.
    """
    import numpy as np
    from scipy import stats as _st
    from scipy.special import ndtr

    from behavtest.stats.equivalence import _score_bound, _score_z

    _check_alpha(alpha)
    if not -1.0 < null < 1.0:
        raise ValueError(f"null={null} must lie in (-1, 1) for a difference of rates")
    if not 0.0 <= icc <= 1.0:
        raise ValueError(f"icc={icc} must lie in [0, 1]")
    kx_, nx_ = _cluster_rows(kx, nx, "x")
    ky_, ny_ = _cluster_rows(ky, ny, "y")
    r = _rao_scott_arrays(np.array([kx_]), np.array([nx_]), np.array([ky_]), np.array([ny_]),
                          icc)
    px, py = float(r["px"][0]), float(r["py"][0])
    nx_eff, ny_eff, df = float(r["nx_eff"][0]), float(r["ny_eff"][0]), float(r["df"][0])
    if null == 0.0:
        p_greater, p_less = float(r["p_greater"][0]), float(r["p_less"][0])
    else:
        z = _score_z(px * nx_eff, nx_eff, py * ny_eff, ny_eff, null)
        p_greater, p_less = ((1.0, 1.0) if math.isnan(z)
                             else (float(_st.t.sf(z, df)), float(_st.t.cdf(z, df))))
    # the bound where z reaches the t critical value = the score bound at the normal
    # level that has that critical value
    level = float(ndtr(-_st.t.isf(alpha, df)))
    low = _score_bound(px * nx_eff, nx_eff, py * ny_eff, ny_eff, level, "lower")
    high = _score_bound(px * nx_eff, nx_eff, py * ny_eff, ny_eff, level, "upper")
    return Inference(
        estimate=px - py, low=low, high=high, p_greater=p_greater, p_less=p_less,
        method=_RAO_SCOTT, null=null, effect="difference",
        se=math.sqrt(float(r["vx"][0]) + float(r["vy"][0])), df=df,
        units=len(kx_) + len(ky_),
        note=(f"{len(kx_)} vs {len(ky_)} prompts; effective sample sizes {nx_eff:.1f} of "
              f"{sum(nx_)} and {ny_eff:.1f} of {sum(ny_)} replies (design effects from the "
              f"prompts, at least that of an intra-cluster correlation of {icc:g})"
              + ("; a side of one prompt cannot show how prompts vary: its design effect is "
                 "the assumed one, so ask both models the same prompts"
                 if 1 in (len(kx_), len(ky_)) else "")),
        effective_n=nx_eff + ny_eff,
    )


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
    (``_rao_scott_arrays``). Why not a formula: the effective sample sizes
    are estimated and then floored, and the normal/noncentral-t
    approximation with Kish's design effect overstated the power by 0.03-0.09
    on the calibration designs.
    """
    import numpy as np

    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha} must lie in (0, 0.5): it is the one-sided level")
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
        kx = rng.binomial(per_x, _beta_rates(rng, rate_x, rho_x, (r, clusters_x)))
        ky = rng.binomial(per_y, _beta_rates(rng, rate_y, rho_y, (r, clusters_y)))
        out = _rao_scott_arrays(kx, np.full(kx.shape, per_x), ky, np.full(ky.shape, per_y),
                                icc)
        hits += int(np.sum(out["p_" + side] < significance_cut(alpha)))
    return hits / reps


def _beta_rates(rng: Any, mean: float, icc: float, size: Any) -> Any:
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


def clustered_mean(
    values_by_cluster: Sequence[Sequence[float]], null: float, alpha: float
) -> Inference:
    """Mean of scores (e.g. probabilities) that come in clusters: cluster-robust t test.

    Estimate = the mean of all values. With m >= 2 clusters, se^2 = m/(m-1)
    * sum_g (sum_{i in g} (y_i - mean))^2 / N^2 and t = (mean - null)/se on
    m - 1 df: equals statsmodels ``OLS(y, 1).fit(cov_type='cluster',
    cov_kwds={'groups': g}, use_t=True)``, whose t df for a cluster
    covariance is also m - 1. With one cluster: scipy ``ttest_1samp`` on its
    values (iid, N - 1 df). Fewer than 2 values in all, p = 1 both ways and
    interval (-inf, inf); zero standard error, the t test's limit (p = 0 in
    the direction of mean - null, 1 in the other; interval = the point).
    Empty clusters are dropped.
    """
    from scipy import stats as _st

    _check_alpha(alpha)
    clusters = [[float(v) for v in c] for c in values_by_cluster]
    clusters = [c for c in clusters if c]
    if not clusters:
        raise ValueError("no values: every cluster is empty")
    if any(math.isnan(v) or math.isinf(v) for c in clusters for v in c):
        raise ValueError("values contain NaN or infinite entries")
    flat = [v for c in clusters for v in c]
    m, total = len(clusters), len(flat)
    mean = sum(flat) / total
    note = f"{m} clusters, {total} values"
    if m == 1:
        method = "one-sample t test (one cluster, no clustering correction; scipy ttest_1samp)"
        df: float | None = float(total - 1) if total >= 2 else None
        if total < 2:
            return Inference(mean, -math.inf, math.inf, 1.0, 1.0, method, null, "mean",
                             None, None, 1, "1 value: no spread to test against")
        if _constant(flat):
            pg, pl = _no_spread_pvalues(mean, null)
            return Inference(mean, mean, mean, pg, pl, method, null, "mean", 0.0, df, 1,
                             "all values equal: zero standard error")
        res_g = _st.ttest_1samp(flat, null, alternative="greater")
        res_l = _st.ttest_1samp(flat, null, alternative="less")
        ci = _st.ttest_1samp(flat, 0.0).confidence_interval(confidence_level=1 - 2 * alpha)
        se = math.sqrt(sum((v - mean) ** 2 for v in flat) / (total - 1) / total)
        return Inference(mean, float(ci.low), float(ci.high), float(res_g.pvalue),
                         float(res_l.pvalue), method, null, "mean", se, df, 1, note)
    sums = [sum(v - mean for v in c) for c in clusters]
    var = m / (m - 1) * sum(s * s for s in sums) / total**2
    se = math.sqrt(var)
    df = float(m - 1)
    method = "cluster-robust (CR1) t test on m - 1 df (Liang & Zeger 1986; statsmodels OLS)"
    scale = max(1.0, abs(mean), max(abs(v) for v in flat))
    if se <= 1e-12 * scale:
        pg, pl = _no_spread_pvalues(mean, null)
        return Inference(mean, mean, mean, pg, pl, method, null, "mean", 0.0, df, m,
                         note + "; zero cluster-robust standard error")
    t = (mean - null) / se
    half = float(_st.t.isf(alpha, df)) * se
    return Inference(
        estimate=mean,
        low=mean - half,
        high=mean + half,
        p_greater=float(_st.t.sf(t, df)),
        p_less=float(_st.t.cdf(t, df)),
        method=method,
        null=null,
        effect="mean",
        se=se,
        df=df,
        units=m,
        note=note,
    )


# -- planners ------------------------------------------------------------------------

_DP_STATES = 4_000_000  # (pooled count, sum of squared counts) states of the exact planner


def _kg_rejects(big_k: Any, s2: Any, m: int, n: int, null: float, alpha: float, icc: float,
                side: str) -> Any:
    """The Korn-Graubard decision of ``clustered._kg_arrays`` for m clusters of n
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
    a cluster's rate). Against simulation of ``clustered._kg_arrays`` (20000
    repetitions each): the exact path agrees within simulation error (0.007)
    at true ICC 0-0.3, rates 0.02-0.5, 5-20 prompts; the approximation within
    0.015 on designs of 10-30 prompts x 40-100 replies, though on small
    designs (where it is not used) it is up to 0.07 off for rare rates with
    ICC 0.3.
    """
    import numpy as np
    from scipy import stats as _st

    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha} must lie in (0, 0.5): it is the one-sided level")
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


def clustered_mean_power(
    effect: float, between_sd: float, within_sd: float, clusters: int, per_cluster: int,
    alpha: float,
) -> float:
    """Planned power of ``clustered.clustered_mean`` (cluster-robust t, m - 1
    df) for a true mean ``effect`` away from the null, with cluster effects of
    sd ``between_sd`` and within-cluster sd ``within_sd``, ``clusters``
    clusters of ``per_cluster`` values each. With equal cluster sizes the CR1
    t statistic is the one-sample t on the cluster means, so for normal data
    this is exact: noncentral t (``compare.t_power``) with se^2 = (between^2 +
    within^2 / n) / m.
    """
    from behavtest.stats.compare import t_power

    if clusters < 2 or per_cluster < 1:
        raise ValueError("need clusters >= 2 and per_cluster >= 1")
    if between_sd < 0 or within_sd < 0:
        raise ValueError("standard deviations must be >= 0")
    var = (between_sd**2 + within_sd**2 / per_cluster) / clusters
    if var <= 0.0:
        return 1.0 if effect != 0.0 else 0.0
    return t_power(effect, math.sqrt(var), clusters - 1, alpha)
