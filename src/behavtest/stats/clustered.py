"""Rates and means when replies come in clusters (samples of the same prompt
or paraphrase).

Why: 10 paraphrases x 10 samples are not 100 independent draws. Replies to one
paraphrase share whatever that wording does to the model, so their outcomes
are correlated, and a binomial test on the pooled counts treats the
correlation as information it does not have: it passes claims that are false
far more often than alpha (``tests/test_stats_compare.py`` measures this). The
tests here use the cluster-robust ("ultimate cluster") variance, whose
information grows with the number of clusters m, not with the number of
replies, and take their degrees of freedom from m - 1.

Rates use Korn & Graubard's (1998) effective-sample-size Clopper-Pearson
interval, which keeps the exact binomial's good behaviour near 0 and 1 (where
behaviour rates live and Wald intervals fail) and reduces to it with one
cluster. Means use the cluster-robust t test. Two sides of *different*
clusters are compared in ``rao_scott``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from behavtest.stats.result import Inference, check_alpha
from behavtest.stats.spread import is_constant, no_spread_pvalues

_KG = (
    "Korn-Graubard effective-sample-size Clopper-Pearson (Korn & Graubard 1998, "
    "Survey Methodology 24:193-201; R survey svyciprop(method='beta'))"
)


def cluster_variance(k: Any, n: Any, icc: float) -> tuple[Any, Any, Any, Any, Any]:
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


def korn_graubard_arrays(
    k: Any, n: Any, null: float, alpha: float, icc: float = 0.0
) -> dict[str, Any]:
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
    total, p, v, n_floor, degenerate = cluster_variance(k, n, icc)
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


def _nonempty_clusters(k: Sequence[int], n: Sequence[int]) -> list[tuple[int, int]]:
    """(k_j, n_j) of every cluster with replies, each checked: integers, 0 <= k <= n."""
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
    return pairs


def _rate_note(m: int, p: float, v: float, total: int, n_eff: float, icc: float) -> str:
    """What a clustered rate's verdict says about its clusters and effective n."""
    if m == 1:
        return "one cluster: exact binomial test, no clustering correction possible"
    srs = p * (1 - p) / total
    deff = f"{v / srs:.3g}" if srs > 0 else "undefined (rate 0 or 1)"
    floor = total / (1.0 + (total / m - 1.0) * icc)
    if n_eff >= total:
        how = "= all replies (rate 0 or 1, or no spread, or capped)"
    elif icc > 0 and n_eff >= floor - 1e-9:
        how = f"the floor for an assumed intra-cluster correlation of at least {icc:g}"
    else:
        how = "after the m-1 df factor"
    return (f"{m} clusters; design effect {deff}; effective sample size "
            f"{n_eff:.1f} of {total} replies ({how})")


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
    too often (the strict xfail test in tests/test_stats_compare.py measures
    it). The harness passes its ``--behav-icc``; 0 gives the published method
    unchanged.
    """
    check_alpha(alpha)
    if not 0.0 <= null <= 1.0:
        raise ValueError(f"null={null} must lie in [0, 1] for a rate")
    if not 0.0 <= icc <= 1.0:
        raise ValueError(f"icc={icc} must lie in [0, 1]")
    pairs = _nonempty_clusters(k, n)
    m = len(pairs)
    r = korn_graubard_arrays([[kj for kj, _ in pairs]], [[nj for _, nj in pairs]], null, alpha,
                             icc)
    p, v = float(r["p"][0]), float(r["v"][0])
    total, n_eff = int(r["n"][0]), float(r["n_eff"][0])
    note = _rate_note(m, p, v, total, n_eff, icc)
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


def _one_cluster_mean(flat: list[float], mean: float, null: float, alpha: float) -> Inference:
    """One cluster: scipy's one-sample t test on its values (iid, N - 1 df)."""
    from scipy import stats as _st

    total = len(flat)
    method = "one-sample t test (one cluster, no clustering correction; scipy ttest_1samp)"
    df: float | None = float(total - 1) if total >= 2 else None
    if total < 2:
        return Inference(mean, -math.inf, math.inf, 1.0, 1.0, method, null, "mean",
                         None, None, 1, "1 value: no spread to test against")
    if is_constant(flat):
        pg, pl = no_spread_pvalues(mean, null)
        return Inference(mean, mean, mean, pg, pl, method, null, "mean", 0.0, df, 1,
                         "all values equal: zero standard error")
    res_g = _st.ttest_1samp(flat, null, alternative="greater")
    res_l = _st.ttest_1samp(flat, null, alternative="less")
    ci = _st.ttest_1samp(flat, 0.0).confidence_interval(confidence_level=1 - 2 * alpha)
    se = math.sqrt(sum((v - mean) ** 2 for v in flat) / (total - 1) / total)
    return Inference(mean, float(ci.low), float(ci.high), float(res_g.pvalue),
                     float(res_l.pvalue), method, null, "mean", se, df, 1,
                     f"1 clusters, {total} values")


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

    check_alpha(alpha)
    clusters = [[float(v) for v in c] for c in values_by_cluster]
    clusters = [c for c in clusters if c]
    if not clusters:
        raise ValueError("no values: every cluster is empty")
    if any(math.isnan(v) or math.isinf(v) for c in clusters for v in c):
        raise ValueError("values contain NaN or infinite entries")
    flat = [v for c in clusters for v in c]
    m, total = len(clusters), len(flat)
    mean = sum(flat) / total
    if m == 1:
        return _one_cluster_mean(flat, mean, null, alpha)
    note = f"{m} clusters, {total} values"
    sums = [sum(v - mean for v in c) for c in clusters]
    var = m / (m - 1) * sum(s * s for s in sums) / total**2
    se = math.sqrt(var)
    df = float(m - 1)
    method = "cluster-robust (CR1) t test on m - 1 df (Liang & Zeger 1986; statsmodels OLS)"
    scale = max(1.0, abs(mean), max(abs(v) for v in flat))
    if se <= 1e-12 * scale:
        pg, pl = no_spread_pvalues(mean, null)
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

