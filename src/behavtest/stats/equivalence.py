"""Equivalence tests: evidence that an effect is ABSENT ("at chance", "no conflation").

A non-significant difference is not evidence of no difference: with few
samples everything is non-significant. A claim of no effect has to name a
margin [low, high] of values that count as "no effect" and reject "the value
lies outside it". Schuirmann's two one-sided tests (TOST; Schuirmann 1987,
J. Pharmacokin. Biopharm. 15:657) do that: equivalence is claimed when both
"value <= low" and "value >= high" are rejected at alpha, i.e. when the
1 - 2*alpha interval lies inside [low, high]. Each one-sided test is a level
alpha test and the claim needs both (an intersection-union test, Berger 1982,
Technometrics 24:295), so no multiplicity correction is needed.

``tost`` turns the two one-sided tests into the two p-values of the verdict
rule (``result.decide``):

- PASS (within the margin): ``p_equivalent``, the larger of the two TOST
  p-values, is significant; equivalently the 1 - 2*alpha interval lies
  strictly inside (low, high).
- FAIL (outside the margin): ``p_outside`` is significant. It tests the null
  "low <= value <= high" against "value < low or value > high": the smaller
  of the p-values for "value < low" and "value > high", doubled (Bonferroni)
  and capped at 1. The doubling is needed, not just cautious: the two
  rejection events are disjoint, so without it the size is the SUM of two
  one-sided sizes, and with an unknown variance (the t versions) that sum
  reaches 2*alpha as the standard error grows relative to the margin.
  Equivalently FAIL means the 1 - alpha interval (each bound one-sided
  1 - alpha/2) lies wholly outside the margin.
- INCONCLUSIVE otherwise. Not significant is never PASS.

For rates from one sample the TOST is exact, and so are its power and the
sample size it needs (``binomial_tost_power``, ``samples_for_equivalence``).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from behavtest.stats.power import significance_cut
from behavtest.stats.result import Inference, check_alpha

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def tost_pvalues(
    p_above_low: float, p_below_high: float, p_below_low: float, p_above_high: float
) -> tuple[float, float]:
    """(p_equivalent, p_outside) from the one-sided p-values at the two margins.

    ``p_above_low`` and ``p_below_high`` are the TOST p-values (for "value >
    low" and "value < high"), ``p_below_low`` and ``p_above_high`` those of the
    opposite alternatives; see the module docstring for the two combinations.
    """
    return max(p_above_low, p_below_high), min(1.0, 2.0 * min(p_below_low, p_above_high))


def tost(lo: Inference, hi: Inference, low: float, high: float) -> Inference:
    """Two one-sided tests as one Inference of the claim "inside [low, high]".

    ``lo`` is a test of the value against ``low`` (its ``null``), ``hi`` the
    same test against ``high`` (``high`` itself only names the upper margin).
    ``p_greater`` carries ``p_equivalent`` and ``p_less`` ``p_outside``
    (``tost_pvalues``), so ``result.decide(p_greater, p_less, alpha)`` is the
    equivalence verdict. The interval is ``lo``'s
    1 - 2*alpha interval, so PASS holds exactly when it lies inside [low,
    high] for tests whose interval does not depend on the null.
    """
    p_eq, p_out = tost_pvalues(lo.p_greater, hi.p_less, lo.p_less, hi.p_greater)
    return replace(
        lo, p_greater=p_eq, p_less=p_out, method=f"TOST (two one-sided tests): {lo.method}",
        null=low, note=lo.note,
    )


def check_margin(low: float, high: float, lo_lim: float, hi_lim: float, what: str) -> None:
    """Raise ValueError unless low < high are finite and within [lo_lim, hi_lim]."""
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ValueError(f"margin low={low}, high={high}: need finite low < high")
    if low < lo_lim or high > hi_lim:
        raise ValueError(f"margin [{low}, {high}] must lie within [{lo_lim}, {hi_lim}] for {what}")


def _tost_power_many(
    ns: npt.NDArray[np.int64], p_true: float, low: float, high: float, alpha: float
) -> npt.NDArray[np.float64]:
    """Exact binomial TOST power at each n in ``ns`` (vectorised over n).

    The counts that pass form an interval kL..kH: kL is the smallest k with
    P(X >= k | low) significant, kH the largest with P(X <= k | high)
    significant (the ``significant`` rule, as in the verdict). Both start from
    scipy's quantile functions and are walked to the exact boundary.
    """
    import numpy as np
    from scipy import stats as _st
    cut = significance_cut(alpha)
    n = np.asarray(ns, dtype=np.int64)
    k_lo = np.clip(np.asarray(_st.binom.isf(alpha, n, low), dtype=np.int64) - 1, 0, n + 1)
    while True:  # up to the first significant k
        move = (k_lo <= n) & ~(_st.binom.sf(k_lo - 1, n, low) < cut)
        if not move.any():
            break
        k_lo = k_lo + move
    while True:  # down while the k below is significant too
        move = (k_lo > 0) & (_st.binom.sf(k_lo - 2, n, low) < cut)
        if not move.any():
            break
        k_lo = k_lo - move
    k_hi = np.clip(np.asarray(_st.binom.ppf(alpha, n, high), dtype=np.int64) + 1, -1, n)
    while True:
        move = (k_hi >= 0) & ~(_st.binom.cdf(k_hi, n, high) < cut)
        if not move.any():
            break
        k_hi = k_hi - move
    while True:
        move = (k_hi < n) & (_st.binom.cdf(k_hi + 1, n, high) < cut)
        if not move.any():
            break
        k_hi = k_hi + move
    power = _st.binom.cdf(k_hi, n, p_true) - _st.binom.cdf(k_lo - 1, n, p_true)
    return np.where(k_lo <= k_hi, np.maximum(power, 0.0), 0.0)


def binomial_tost_power(n: int, p_true: float, low: float, high: float, alpha: float) -> float:
    """Exact probability that the exact binomial TOST of ``low < rate < high``
    on n samples passes (both one-sided binomial tests significant) when the
    true rate is ``p_true``.

    The passing counts form an interval kL..kH, so the power is
    ``binom.cdf(kH) - binom.cdf(kL - 1)`` at ``p_true``; the tests compare it
    with a brute-force sum over every k of the TOST's decisions.
    """
    import numpy as np
    check_alpha(alpha)
    check_margin(low, high, 0.0, 1.0, "a rate")
    if n < 1:
        raise ValueError(f"n={n} must be >= 1")
    return float(_tost_power_many(np.array([n], dtype=np.int64), p_true, low, high, alpha)[0])


def samples_for_equivalence(
    p_true: float, low: float, high: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Smallest n at which the exact binomial TOST passes with probability
    >= ``power`` when the true rate is ``p_true`` (strictly inside the margin).

    Exact power saw-tooths in n, so after a doubling search finds an n with
    enough power, every smaller n is evaluated (vectorised) and the first that
    reaches the target is returned, as ``samples_for_rate`` does.
    """
    import numpy as np
    check_alpha(alpha)
    check_margin(low, high, 0.0, 1.0, "a rate")
    if not low < p_true < high:
        raise ValueError(
            f"p_true={p_true} is not strictly inside ({low}, {high}): "
            "no sample size shows equivalence"
        )
    if not 0.0 < power < 1.0:
        raise ValueError(f"power={power} must lie in (0, 1)")
    n_hi = 16
    while binomial_tost_power(n_hi, p_true, low, high, alpha) < power:
        n_hi *= 2
        if n_hi > 1 << 21:
            raise ValueError("more than two million samples needed")
    chunk = 4096
    for start in range(1, n_hi + 1, chunk):
        ns = np.arange(start, min(start + chunk, n_hi + 1), dtype=np.int64)
        ok = np.nonzero(_tost_power_many(ns, p_true, low, high, alpha) >= power)[0]
        if ok.size:
            return int(ns[ok[0]])
    return n_hi  # pragma: no cover (n_hi itself reaches the target)

