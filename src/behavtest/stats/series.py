"""Properties of an ORDERED series of checkpoints (training rounds).

A behaviour that rises and then fades over training (0.17, 0.37, 0.20, 0.10,
0.04) is missed by a test of the final checkpoint alone. Three questions, each
with its own test over per-checkpoint successes ``ks`` out of ``ns``:

- ``peak_test``: did SOME checkpoint exceed the threshold? The claim is a
  union over checkpoints, so its evidence is the smallest exact one-sided
  p-value times K (Bonferroni; Holm's 1979 step-down rejects the global null
  exactly when this does). The opposite claim, "EVERY checkpoint stayed at or
  below the threshold", is an intersection of K claims, and an intersection-
  union test (Berger 1982, Technometrics 24:295) rejects its null at level
  alpha when every per-checkpoint test does: p = the largest p, no correction.
- ``mean_rate_test``: was the rate high on average over the checkpoints (area
  under the curve, equal weights)?
- ``trend_test``: did the rate rise (or fall) linearly with training step?
  Cochran-Armitage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from behavtest.stats.result import Inference, check_alpha

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def _check_series(
    ks: Sequence[int], ns: Sequence[int], alpha: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    import numpy as np
    if len(ks) != len(ns):
        raise ValueError(f"{len(ks)} success counts but {len(ns)} sample sizes: lengths must match")
    if len(ks) == 0:
        raise ValueError("need at least one checkpoint")
    for k, n in zip(ks, ns, strict=True):
        if int(n) != n or int(k) != k:
            raise ValueError(f"counts must be integers, got k={k}, n={n}")
        if n < 1:
            raise ValueError(f"n={n} must be >= 1")
        if not 0 <= k <= n:
            raise ValueError(f"k={k} must lie in [0, n={n}]")
    check_alpha(alpha)
    return np.asarray(ks, dtype=np.int64), np.asarray(ns, dtype=np.int64)


def _check_threshold(threshold: float) -> None:
    if not 0.0 <= threshold <= 1.0:  # also rejects NaN
        raise ValueError(f"threshold={threshold} must lie in [0, 1]")


def _cp_lower(
    k: npt.NDArray[np.int64], n: npt.NDArray[np.int64], a: float
) -> npt.NDArray[np.float64]:
    """One-sided (1 - a) Clopper-Pearson lower bounds, vectorised: the a-quantile
    of Beta(k, n - k + 1), 0 at k = 0 (the lower end of scipy
    ``binomtest(k, n).proportion_ci(1 - 2a, 'exact')``)."""
    import numpy as np
    from scipy.special import betaincinv
    with np.errstate(all="ignore"):
        q = betaincinv(np.maximum(k, 1), n - k + 1, a)
    return np.where(k == 0, 0.0, q)


def _cp_upper(
    k: npt.NDArray[np.int64], n: npt.NDArray[np.int64], a: float
) -> npt.NDArray[np.float64]:
    """One-sided (1 - a) Clopper-Pearson upper bounds, vectorised."""
    return 1.0 - _cp_lower(n - k, n, a)


def peak_test(
    ks: Sequence[int], ns: Sequence[int], threshold: float, alpha: float = 0.05
) -> tuple[Inference, int]:
    """Test "some checkpoint's rate exceeds ``threshold``"; returns (inference, peak index).

    Per checkpoint the exact one-sided binomial p-values are scipy
    ``binom.sf(k - 1, n, t)`` ('greater') and ``binom.cdf(k, n, t)`` ('less'),
    the numbers ``binomtest`` returns. ``p_greater = min(1, K * min_i p_i)``
    (Bonferroni union-intersection); ``p_less = max_i p_i`` (intersection-
    union, Berger 1982: evidence that EVERY checkpoint is below the threshold).

    ``estimate`` is the highest observed rate (at the returned index; first on
    ties), which overstates the true peak (winner's curse). The interval is
    for the true maximum rate and is dual to the two tests: its lower end is
    the largest one-sided (1 - alpha/K) Clopper-Pearson lower bound (all K
    lower bounds hold together with probability >= 1 - alpha, and the max rate
    is at least each of them); its upper end is the largest unadjusted (1 -
    alpha) upper bound (it fails only if the checkpoint with the true maximum
    fails its own bound, probability <= alpha). So ``low > threshold`` exactly
    when ``p_greater`` is significant and ``high < threshold`` exactly when
    ``p_less`` is.
    """
    import numpy as np
    from scipy import stats as _st
    k, n = _check_series(ks, ns, alpha)
    _check_threshold(threshold)
    m = k.size
    p_up = _st.binom.sf(k - 1, n, threshold)
    p_down = _st.binom.cdf(k, n, threshold)
    rates = k / n
    peak = int(np.argmax(rates))
    inf = Inference(
        estimate=float(rates[peak]),
        low=float(np.max(_cp_lower(k, n, alpha / m))),
        high=float(np.max(_cp_upper(k, n, alpha))),
        p_greater=float(min(1.0, m * float(np.min(p_up)))),
        p_less=float(np.max(p_down)),
        method=(
            "peak over checkpoints: exact binomial tests, Bonferroni min-p for 'some "
            "checkpoint above' (Holm 1979), intersection-union max-p for 'all below' "
            "(Berger 1982)"
        ),
        null=threshold,
        effect="rate",
        units=int(n.sum()),
        note="estimate is the highest observed rate: biased upward (winner's curse)",
    )
    return inf, peak


def mean_rate_test(
    ks: Sequence[int], ns: Sequence[int], threshold: float, alpha: float = 0.05
) -> Inference:
    """Test the mean of the per-checkpoint rates (equal weights) against ``threshold``.

    With equal sample sizes the mean of the rates is the pooled rate, and
    the pooled count is Poisson-binomial (rates differ by checkpoint). Its
    tails beyond about one unit from the mean are bounded by those of the
    binomial with the same mean (Hoeffding 1956, Ann. Math. Stat. 27:713,
    Theorem 4), so the exact binomial test of the pooled counts (scipy
    ``binomtest(sum(ks), sum(ns), threshold)``) and its Clopper-Pearson
    interval are valid, and conservative when rates differ; the tests check
    the exact size under heterogeneous rates by convolution.

    Unequal sample sizes raise ValueError: the equal-weight mean then has no
    exact test here, and the pooled rate would weight checkpoints by n.
    """
    import numpy as np
    from scipy import stats as _st
    k, n = _check_series(ks, ns, alpha)
    _check_threshold(threshold)
    if int(n.min()) != int(n.max()):
        raise ValueError(
            f"mean_rate_test weights checkpoints equally and needs the same sample size at "
            f"every checkpoint (got ns={[int(v) for v in n]}); draw the same number of "
            f"samples per checkpoint or drop the extra ones"
        )
    kk, nn = int(k.sum()), int(n.sum())
    kp, np_ = np.array([kk], dtype=np.int64), np.array([nn], dtype=np.int64)
    return Inference(
        estimate=kk / nn,
        low=float(_cp_lower(kp, np_, alpha)[0]),
        high=float(_cp_upper(kp, np_, alpha)[0]),
        p_greater=float(_st.binom.sf(kk - 1, nn, threshold)),
        p_less=float(_st.binom.cdf(kk, nn, threshold)),
        method=(
            "mean rate over checkpoints: exact binomial test of pooled counts, valid "
            "for unequal rates (Hoeffding 1956), Clopper-Pearson interval"
        ),
        null=threshold,
        effect="rate",
        se=math.sqrt(kk * (nn - kk) / nn) / nn,
        units=nn,
    )


def trend_test(
    ks: Sequence[int],
    ns: Sequence[int],
    scores: Sequence[float] | None = None,
    alpha: float = 0.05,
) -> Inference:
    """Cochran-Armitage test for a linear trend in the rate over checkpoints.

    ``scores`` are the checkpoints' positions (default 0..K-1; pass training
    steps to weight by distance). With s_bar = sum(n s) / N, Sxx = sum(n (s -
    s_bar)^2) and pooled rate p, z = sum(k (s - s_bar)) / sqrt(p (1 - p) Sxx)
    (Cochran 1954, Biometrics 10:417; Armitage 1955, Biometrics 11:375);
    ``p_greater`` = P(Z > z) is evidence the rate rises, ``p_less`` that it
    falls. The classic z equals statsmodels ``Table(table, shift_zeros=False)
    .test_ordinal_association(scores, [0, 1]).zscore`` times sqrt(N / (N - 1))
    (statsmodels uses the exact permutation variance, N - 1 denominator).

    ``estimate`` is the n-weighted least-squares slope of the rate per unit of
    score, b = sum(k (s - s_bar)) / Sxx, so z = b / se with se = sqrt(p (1 - p)
    / Sxx); the interval b -+ z_(1-alpha) se is the test-based interval
    (Miettinen 1976, Am. J. Epidemiol. 103:226), exactly dual to the one-sided
    tests at slope 0. Under a true linear trend with symmetric scores and equal
    ns, the null variance overstates the true one (p(1-p) is concave), so
    the interval is conservative there. All outcomes 0 (or all 1): no
    direction supported, p = 1 both ways and the interval is [0, 0].
    """
    import numpy as np
    from scipy.special import ndtr, ndtri
    k, n = _check_series(ks, ns, alpha)
    if k.size < 2:
        raise ValueError("a trend needs at least 2 checkpoints")
    s = np.arange(k.size, dtype=float) if scores is None else np.asarray(scores, dtype=float)
    if s.shape != (k.size,):
        raise ValueError(f"{s.size} scores for {k.size} checkpoints: lengths must match")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain a NaN or infinite value")
    big_n = int(n.sum())
    d = s - float(np.dot(n, s)) / big_n
    sxx = float(np.dot(n, d * d))
    if not sxx > 0.0:
        raise ValueError("all checkpoints have the same score: no trend can be estimated")
    pbar = int(k.sum()) / big_n
    slope = float(np.dot(k, d)) / sxx
    method = (
        "Cochran-Armitage trend test (Cochran 1954, Armitage 1955); n-weighted "
        "least-squares slope with test-based interval (Miettinen 1976)"
    )
    if pbar in (0.0, 1.0):
        return Inference(
            estimate=0.0, low=0.0, high=0.0, p_greater=1.0, p_less=1.0, method=method,
            null=0.0, effect="slope", se=0.0, units=big_n,
            note="every outcome is the same: no trend is estimable",
        )
    se = math.sqrt(pbar * (1.0 - pbar) / sxx)
    z = slope / se
    half = float(ndtri(1.0 - alpha)) * se
    return Inference(
        estimate=slope,
        low=slope - half,
        high=slope + half,
        p_greater=float(ndtr(-z)),
        p_less=float(ndtr(z)),
        method=method,
        null=0.0,
        effect="slope",
        se=se,
        units=big_n,
    )
