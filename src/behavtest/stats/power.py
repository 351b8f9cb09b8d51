"""Power and sample-size planning for the exact tests behavtest runs.

Power is computed *exactly* for the exact tests (binomial, Fisher) rather than
with the usual normal approximations, because behaviour rates sit near 0 and
the approximations are badly off there (far too few samples per arm against a
rate near 0; tests/test_stats.py checks the exact answers of docs/science/acrostic.md).
Normal approximations only seed the search.

Sample-size searches (``samples_for_rate``, ``samples_per_arm``) return the
*first* n whose exact power reaches the target. Exact power saw-tooths in n,
so bisection on it alone could stop at a later crossing; instead bisection
runs on the power of the randomized most powerful (unbiased) test, which is at
least the exact test's and never falls as n grows: no n below the first n
where it reaches the target can, and the exact power is scanned upward only
from there (a few percent of n). Seconds instead of one exact evaluation for
every n from 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_MAX_EXACT_N = 3000
_MAX_RATE_N = 999_999
_MAX_EXACT_GAP_N = 150  # above this, detectable-gap messages use the normal approximation


def significance_cut(alpha: float) -> float:
    """The p-value below which ``significant`` rejects: alpha less a relative 1e-9.
    Vectorised code compares whole arrays of p-values with it."""
    return alpha * (1.0 - 1e-9)


def significant(p: float, alpha: float) -> bool:
    """The one rejection rule used by verdicts *and* power: p strictly below alpha.

    A relative guard of 1e-9 makes p-values that equal alpha in exact
    arithmetic (e.g. 0.05 from one library, 0.04999999999999999 from another)
    count the same everywhere, so the planner never promises power at a tie
    that the verdict would not deliver.
    """
    return p < significance_cut(alpha)


def _critical_k(n: int, p0: float, alpha: float) -> int:
    """Smallest k whose one-sided 'greater' p-value P(X >= k | n, p0) is significant.

    scipy's ``isf`` seeds it; at tiny alpha (1e-300) it overshoots to n, so the
    walk goes down first while the count below is significant too."""
    from scipy import stats as _st
    k = max(0, int(_st.binom.isf(alpha, n, p0)) - 1)
    while k > 0 and significant(float(_st.binom.sf(k - 2, n, p0)), alpha):
        k -= 1
    while k <= n and not significant(float(_st.binom.sf(k - 1, n, p0)), alpha):
        k += 1
    return k


def binomial_power(n: int, p1: float, p0: float, alpha: float) -> float:
    """Power of the one-sided exact binomial test of rate p0 when the true rate is p1.

    Direction follows the alternative: p1 > p0 tests 'greater', p1 < p0 'less'.
    """
    from scipy import stats as _st
    if p1 < p0:
        return binomial_power(n, 1.0 - p1, 1.0 - p0, alpha)
    k = _critical_k(n, p0, alpha)
    if k > n:
        return 0.0
    return float(_st.binom.sf(k - 1, n, p1))


def randomized_binomial_power(n: int, p1: float, p0: float, alpha: float) -> float:
    """Power of the randomized UMP one-sided binomial test (p1 > p0): an upper bound on
    the power of *any* level-alpha test on n Bernoulli draws, sequential or not, and
    nondecreasing in n (the test on n + 1 draws may ignore one). 1.0 where floats
    cannot say (a valid, if useless, bound)."""
    from scipy import stats as _st
    k = int(_st.binom.isf(alpha, n, p0))  # roughly the critical count
    while k > 0 and _st.binom.sf(k - 1, n, p0) <= alpha:
        k -= 1
    while _st.binom.sf(k, n, p0) > alpha:
        k += 1
    # P0(X > k) <= alpha < P0(X >= k): reject above k, randomize at k
    mass = float(_st.binom.pmf(k, n, p0))
    if not mass > 0.0:
        return 1.0
    gamma = (alpha - float(_st.binom.sf(k, n, p0))) / mass
    power = float(_st.binom.sf(k, n, p1) + gamma * _st.binom.pmf(k, n, p1))
    return power if math.isfinite(power) else 1.0


Progress = Callable[[int, float], None]  # (n just evaluated, its exact power)


def first_n_with_power(
    exact: Callable[[int], float],
    bound: Callable[[int], float],
    target: float,
    start: float,
    floor: int,
    cap: int,
    progress: Progress | None = None,
) -> int | None:
    """The least n in [floor, cap] with ``exact(n) >= target``; None when none up to cap.

    ``bound(n)`` must be at least ``exact(n)`` and nondecreasing in n (the power
    of the randomized most powerful test). Bracket, by doubling or halving from
    ``start`` (a normal approximation), then bisect the first n where the bound
    reaches the target, less 1e-9 of float slack: below it the bound, and so
    the exact power, is under the target at every n (the bound never falls as
    n grows). From there the exact power is scanned upward, so the saw-tooth
    cannot hide an earlier n: the answer is the one a scan from ``floor`` finds.
    """
    reach = target - 1e-9
    n = floor if not math.isfinite(start) else int(min(max(floor, math.ceil(start)), cap))
    lo, hi = floor - 1, n  # bound(lo) < reach (lo below the floor counts as such)
    if bound(n) >= reach:
        while hi > floor:
            m = max(floor, hi // 2)
            if bound(m) < reach:
                lo = m
                break
            hi = m
    else:
        lo = n
        while True:
            if lo >= cap:
                return None
            hi = min(cap, 2 * lo)
            if bound(hi) >= reach:
                break
            lo = hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if bound(mid) >= reach else (mid, hi)
    for n in range(hi, cap + 1):
        power = exact(n)
        if progress is not None:
            progress(n, power)
        if power >= target:
            return n
    return None


def samples_for_rate(
    p1: float, p0: float, alpha: float = 0.05, power: float = 0.8,
    progress: Progress | None = None,
) -> int:
    """Smallest n whose one-sided exact binomial test of p0 reaches ``power`` at p1.

    Exact binomial power saw-tooths in n; this returns the first n that reaches
    the target, which is what a user asking "how many samples" needs (found by
    ``first_n_with_power``: bisection on the randomized test's power, then a
    short exact scan). More than a million samples raise ValueError.
    """
    from scipy import stats as _st
    if p1 == p0:
        raise ValueError("p1 equals p0: no sample size detects a zero effect")
    q1, q0 = (p1, p0) if p1 > p0 else (1.0 - p1, 1.0 - p0)
    h = 2.0 * (math.asin(math.sqrt(q1)) - math.asin(math.sqrt(q0)))
    start = ((_st.norm.isf(alpha) + _st.norm.ppf(power)) / h) ** 2
    n = first_n_with_power(
        lambda m: binomial_power(m, p1, p0, alpha),
        lambda m: randomized_binomial_power(m, q1, q0, alpha),
        power, start, 1, _MAX_RATE_N, progress,
    )
    if n is None:
        raise ValueError(f"more than a million samples needed to tell {p1:g} from {p0:g}; "
                         "fix: plan for a larger difference")
    return n


_TIE = 1e-7  # relative distance from the level within which scipy's own tail decides


def _scipy_boundary(n1: int, n2: int, level: float, strict: bool, t: np.ndarray) -> np.ndarray:
    """``_tail_boundary``'s cut for the totals ``t``, by bisection on scipy's tail
    (the number ``fisher_exact`` compares): for totals close to a tie."""
    import numpy as np
    from scipy import stats as _st
    a, b = np.maximum(0, t - n2), np.minimum(n1, t) + 1  # the cut lies in [a, b]
    while (rows := np.nonzero(a < b)[0]).size:
        mid = (a[rows] + b[rows]) // 2
        tail = _st.hypergeom.sf(mid - 1, n1 + n2, n1, t[rows])
        ok = tail < level if strict else tail <= level
        b[rows[ok]], a[rows[~ok]] = mid[ok], mid[~ok] + 1
    return np.asarray(a)


def _tail_boundary(
    n1: int, n2: int, level: float, strict: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per total t = k1 + k2 (0 .. n1 + n2) of a 2x2 table with n1 and n2 draws: the
    cut, the least k1 whose conditional tail P(K1 >= k1 | t) (hypergeometric) is
    below ``level`` (strict) or at most it, one past the largest k1 where none
    is; the tail at the cut; and P(K1 = cut - 1 | t) (0 where cut - 1 is impossible).

    Tails are summed here, in log space, over a window round the normal
    approximation (scipy's hypergeometric tail costs ~30 us a number, seconds
    for a search). Where a tail next to the cut lies within 1e-7 (relative) of
    the level, or the window misses the cut, scipy's tail decides, so the
    tables that reject are the ones ``fisher_exact`` rejects: the two numbers
    agree to far better than 1e-7, and ties (exactly alpha) go to scipy.
    """
    import numpy as np
    from scipy import stats as _st
    from scipy.special import gammaln
    total = n1 + n2
    t = np.arange(total + 1)
    lo, hi = np.maximum(0, t - n2), np.minimum(n1, t) + 1
    share = t / max(total, 1)
    sd = np.sqrt(share * (1.0 - share) * n1 * n2 / max(total - 1, 1))
    first = np.clip(np.ceil(share * n1 + float(_st.norm.isf(level)) * sd) - 3, lo, hi - 1)
    first = first.astype(np.int64)
    width = int(min(n1 + 1, 12 + np.ceil(14 * sd.max())))
    k = first[:, None] + np.arange(width)[None, :]
    inside = k < hi[:, None]
    k = np.where(inside, k, lo[:, None])
    log_fact = gammaln(np.arange(total + 1) + 1.0)
    tt = t[:, None]
    log_p = (log_fact[n1] - log_fact[k] - log_fact[n1 - k] + log_fact[n2] - log_fact[tt - k]
             - log_fact[n2 - tt + k])
    mass = np.where(inside, np.exp(log_p - (log_fact[total] - log_fact[t]
                                            - log_fact[total - t])[:, None]), 0.0)
    tails = np.cumsum(mass[:, ::-1], axis=1)[:, ::-1]  # up to the window's end
    end = first + width  # the mass past it falls (past the mode), so this bounds it:
    left = np.where(end < hi, mass[:, -1] * (hi - end), 0.0)
    mode = (t + 1) * (n1 + 1) // (total + 2)
    tails = np.hstack([tails, np.zeros((t.size, 1))])  # past the window: none or ~0
    hit = tails < level if strict else tails <= level
    col = np.argmax(hit, axis=1)
    rows = np.arange(t.size)
    doubt = (col == 0) | ((end < hi) & ((end - 1 < mode) | (left > 1e-3 * _TIE * level)))
    for at in (np.maximum(col - 1, 0), col):
        doubt |= np.abs(tails[rows, at] - level) <= _TIE * level
    if level < 1e-250:  # far below any alpha in use: floats near underflow
        doubt[:] = True
    cut = first + col
    tail_at = tails[rows, col]
    below = np.where(col > 0, mass[rows, np.maximum(col - 1, 0)], 0.0)
    if doubt.any():
        rows = np.nonzero(doubt)[0]
        cut[rows] = _scipy_boundary(n1, n2, level, strict, t[rows])
        tail_at[rows] = _st.hypergeom.sf(cut[rows] - 1, total, n1, t[rows])
        below[rows] = np.where(cut[rows] - 1 >= lo[rows],
                               _st.hypergeom.pmf(cut[rows] - 1, total, n1, t[rows]), 0.0)
    return cut, tail_at, below


def _rejected(cut: np.ndarray, pm1: np.ndarray, pm2: np.ndarray) -> float:
    """P(K1 >= cut[K1 + K2]) for independent counts with pmfs ``pm1`` and ``pm2``.

    The cut rises with the total, so for each k1 the k2 that reject run from 0
    up to the last total whose cut is at most k1: one sum per k1 (a sum over
    every table where the cut does not rise, as floats might have it).
    """
    import numpy as np
    k1 = np.arange(pm1.size)
    if np.any(np.diff(cut) < 0):  # pragma: no cover (the tail rises with the total)
        weights = pm1[:, None] * pm2[None, :]
        return float(np.sum(weights[k1[:, None] >= cut[k1[:, None] + np.arange(pm2.size)]]))
    top = np.minimum(np.searchsorted(cut, k1, side="right") - 1 - k1, pm2.size - 1)
    below = np.cumsum(pm2)[np.maximum(top, 0)]
    return float(np.sum(np.where(top >= 0, pm1 * below, 0.0)))


def fisher_power(n1: int, n2: int, p1: float, p2: float, alpha: float) -> float:
    """Exact power of the one-sided Fisher test of rate1 > rate2 (n1, n2 per arm).

    Sums P(k1) P(k2) over every table whose conditional (hypergeometric)
    p-value is below alpha; the p-value is the same number scipy's
    ``fisher_exact(alternative='greater')`` returns. The tables that reject
    are, per total, those from a boundary k1 up (``_tail_boundary``).
    """
    import numpy as np
    from scipy import stats as _st
    if p1 < p2:
        return fisher_power(n2, n1, p2, p1, alpha)
    cut = _tail_boundary(n1, n2, significance_cut(alpha), strict=True)[0]
    return _rejected(cut, _st.binom.pmf(np.arange(n1 + 1), n1, p1),
                     _st.binom.pmf(np.arange(n2 + 1), n2, p2))


def randomized_fisher_power(n: int, p1: float, p2: float, alpha: float) -> float:
    """Power of the randomized UMPU conditional test of rate1 > rate2, n per arm:
    it rejects, per total, every k1 whose tail is at most alpha, and the k1
    just below with the chance that makes the conditional level alpha exactly.

    An upper bound on the exact Fisher test's power (its rejections are a subset),
    and nondecreasing in n (ignoring one draw per arm is a level-alpha unbiased
    test on n + 1 per arm, which the UMPU test beats): the bound
    ``samples_per_arm`` bisects on.
    """
    import numpy as np
    from scipy import stats as _st
    if p1 < p2:
        return randomized_fisher_power(n, p2, p1, alpha)
    cut, tail, below = _tail_boundary(n, n, alpha, strict=False)
    pm1, pm2 = _st.binom.pmf(np.arange(n + 1), n, p1), _st.binom.pmf(np.arange(n + 1), n, p2)
    full = _rejected(cut, pm1, pm2)
    t = np.arange(2 * n + 1)
    rows = np.nonzero(below > 0)[0]  # totals with a k1 to randomize at
    edge, tot = cut[rows] - 1, t[rows]
    gamma = np.clip((alpha - tail[rows]) / below[rows], 0.0, 1.0)
    power = float(full + np.sum(gamma * pm1[edge] * pm2[tot - edge]))
    return power if math.isfinite(power) else 1.0


def _normal_per_arm(p1: float, p2: float, alpha: float, power: float) -> float:
    """The arcsine-normal per-arm n (NaN where statsmodels' solver fails, at 0 vs 1)."""
    import warnings

    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize
    h = abs(proportion_effectsize(p1, p2))
    with warnings.catch_warnings():  # its solver warns before it returns NaN
        warnings.simplefilter("ignore")
        return float(NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power,
                                                  alternative="larger"))


def samples_per_arm(
    p1: float, p2: float, alpha: float = 0.05, power: float = 0.8,
    progress: Progress | None = None,
) -> tuple[int, bool]:
    """Per-arm n for a one-sided Fisher test of p1 vs p2; returns (n, exact).

    Exact up to 3000 per arm: the first n (at least 2) whose exact Fisher power
    reaches ``power`` (``first_n_with_power`` with ``randomized_fisher_power``
    as the bound). Beyond that the arcsine-normal approximation is returned and
    flagged (exact=False). ``progress`` hears of each exact evaluation.
    """
    if p1 == p2:
        raise ValueError("the two rates are equal: no sample size detects a zero effect")
    approx = _normal_per_arm(p1, p2, alpha, power)
    if approx > _MAX_EXACT_N:
        return math.ceil(approx), False
    n = first_n_with_power(
        lambda m: fisher_power(m, m, p1, p2, alpha),
        lambda m: randomized_fisher_power(m, p1, p2, alpha),
        power, approx, 2, _MAX_EXACT_N, progress,
    )
    if n is not None:
        return n, True
    if not math.isfinite(approx):  # statsmodels' solver fails (alpha 1e-300)
        raise ValueError(f"more than {_MAX_EXACT_N} samples per model needed to tell {p1:g} "
                         f"from {p2:g} at alpha {alpha:g}, and the normal approximation has no "
                         "answer there; fix: plan for a larger difference or alpha")
    return math.ceil(approx), False


def detectable_gap(
    n: int, base_rate: float, alpha: float, power: float = 0.8, direction: str = "greater"
) -> tuple[float | None, bool]:
    """Smallest rate gap from ``base_rate`` that a one-sided Fisher test with n per
    arm detects with ``power``; returns (gap or None, exact).

    Exact (bisection on exact Fisher power, 14 steps: 3 decimals) up to 150
    per arm; above that the exact power costs seconds per evaluation, so the
    arcsine-normal approximation answers and is flagged (exact=False).
    """
    from statsmodels.stats.power import NormalIndPower
    sign = 1.0 if direction == "greater" else -1.0
    room = (1.0 - base_rate) if direction == "greater" else base_rate
    if room <= 0:
        return None, True
    if n > _MAX_EXACT_GAP_N:
        h = float(
            NormalIndPower().solve_power(
                nobs1=n, ratio=1.0, alpha=alpha, power=power, alternative="larger"
            )
        )
        phi = 2 * math.asin(math.sqrt(base_rate)) + sign * h
        if not 0.0 <= phi <= math.pi:
            return None, False
        return abs(math.sin(phi / 2) ** 2 - base_rate), False
    if fisher_power(n, n, base_rate + sign * room, base_rate, alpha) < power:
        return None, True
    lo, hi = 0.0, room
    for _ in range(14):
        mid = (lo + hi) / 2
        ok = fisher_power(n, n, base_rate + sign * mid, base_rate, alpha) >= power
        lo, hi = (lo, mid) if ok else (mid, hi)
    return hi, True


def min_detectable_rate(
    n: int, threshold: float, alpha: float, power: float = 0.8, direction: str = "greater"
) -> float | None:
    """The true rate that the one-sided exact test at this n detects with ``power``.

    ``direction='greater'``: smallest rate above the threshold; ``'less'``:
    largest rate below it. None if no rate in [0, 1] is detectable at this n.
    """
    if direction == "less":
        r = min_detectable_rate(n, 1.0 - threshold, alpha, power, "greater")
        return None if r is None else 1.0 - r
    if binomial_power(n, 1.0, threshold, alpha) < power:
        return None
    lo, hi = threshold, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if binomial_power(n, mid, threshold, alpha) >= power:
            hi = mid
        else:
            lo = mid
    return hi
