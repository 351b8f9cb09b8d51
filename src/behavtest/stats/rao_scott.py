"""The difference of two rates when each side's replies come in clusters of its
own (model and baseline asked *different* prompts): Rao & Scott's design-effect
adjustment of the two-sample score test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from behavtest.stats.clustered import cluster_variance
from behavtest.stats.result import Inference, check_alpha
from behavtest.stats.two_sample import score_bound, score_z

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
    total, p, v, n_floor, degenerate = cluster_variance(k, n, icc)
    if m == 1:
        return p, total / (1.0 + (total - 1.0) * icc), np.full(p.shape, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(degenerate, n_floor,
                         np.minimum(np.minimum(p * (1 - p) / v, total), n_floor))
    return p, n_eff, np.full(p.shape, float(m - 1))


def rao_scott_arrays(kx: Any, nx: Any, ky: Any, ny: Any, icc: float) -> dict[str, Any]:
    """``clustered_rate_difference`` at null 0 for many data sets at once (rows of
    per-cluster counts and sizes), vectorised: used by the function itself and
    by the calibration bench (its simulations and its planner), so all run the
    same code.
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
    N/(N-1) factor; ``two_sample.score_z`` with real-valued counts), referred
    to Student's t on the Welch-Satterthwaite df of the two sides' variances,
    m - 1 df for a side of m prompts. The interval inverts
    the same one-sided tests, so ``low > null`` exactly when p_greater <
    alpha.

    Why not Welch's t on per-prompt rates, the textbook answer: per-prompt
    rates of a behaviour are skewed (most prompts near 0, a few high), and a
    one-sided t on skewed means with few prompts is not level alpha; neither
    were the repairs tried (skewness-corrected t (Johnson 1978, Hall 1992),
    Hsu's df, the bootstrap-t, a studentized permutation test). The score
    test's variance comes from the pooled rate, not from the prompts' spread,
    so it does not share the t test's correlation between the mean and its
    standard error. bench/calibration.py measures its size and power; the
    designs it misses (strong clustering at a rare rate; one prompt against
    several) are strict xfails in tests/test_calibration_suite.py. ``units``
    is the number of prompts, ``effective_n`` the two effective sample sizes
    added. Every reply 0 (or every reply 1) on both sides with null = 0: p = 1
    both ways.
    """
    import numpy as np
    from scipy import stats as _st
    from scipy.special import ndtr

    check_alpha(alpha)
    if not -1.0 < null < 1.0:
        raise ValueError(f"null={null} must lie in (-1, 1) for a difference of rates")
    if not 0.0 <= icc <= 1.0:
        raise ValueError(f"icc={icc} must lie in [0, 1]")
    kx_, nx_ = _cluster_rows(kx, nx, "x")
    ky_, ny_ = _cluster_rows(ky, ny, "y")
    r = rao_scott_arrays(np.array([kx_]), np.array([nx_]), np.array([ky_]), np.array([ny_]),
                         icc)
    px, py = float(r["px"][0]), float(r["py"][0])
    nx_eff, ny_eff, df = float(r["nx_eff"][0]), float(r["ny_eff"][0]), float(r["df"][0])
    if null == 0.0:
        p_greater, p_less = float(r["p_greater"][0]), float(r["p_less"][0])
    else:
        z = score_z(px * nx_eff, nx_eff, py * ny_eff, ny_eff, null)
        p_greater, p_less = ((1.0, 1.0) if math.isnan(z)
                             else (float(_st.t.sf(z, df)), float(_st.t.cdf(z, df))))
    # the bound where z reaches the t critical value = the score bound at the normal
    # level that has that critical value
    level = float(ndtr(-_st.t.isf(alpha, df)))
    low = score_bound(px * nx_eff, nx_eff, py * ny_eff, ny_eff, level, "lower")
    high = score_bound(px * nx_eff, nx_eff, py * ny_eff, ny_eff, level, "upper")
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

