"""Early INCONCLUSIVE stops ("futility") of a group-sequential design.

Both kinds only ever lower both error rates, because the boundaries are
computed as if they did not exist (non-binding futility, Jennison & Turnbull
2000 ch. 10): deterministic curtailment (no later look can reach PASS or FAIL
whatever the remaining samples are) and stochastic curtailment by predictive
probability (Spiegelhalter, Freedman & Blackburn 1986, Control Clin Trials
7:8-17; Lee & Liu 2008, Clin Trials 5:93-106).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from behavtest.stats.power import significance_cut
from behavtest.stats.sequential.design import EMPTY
from behavtest.stats.sequential.recursion import Sweep

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    BoolArray = NDArray[np.bool_]

_PRIOR = (0.5, 0.5)  # Jeffreys


def _window_any(flags: BoolArray, width: int, size: int) -> BoolArray:
    """out[x] = any(flags[x : x + width]) for x = 0..size-1."""
    import numpy as np
    csum = np.concatenate(([0], np.cumsum(flags.astype(np.int64))))
    x = np.arange(size)
    return np.asarray(csum[np.minimum(x + width, len(flags))] - csum[x] > 0)


def _reachable_later(
    looks: tuple[int, ...], upper: Sequence[int], lower: Sequence[int]
) -> list[BoolArray]:
    """For each look j < K-1: can PASS or FAIL still happen at a later look from count x,
    for some continuation of the samples? Exact boolean backward recursion (a path
    that crosses a boundary at an intermediate look has reached a verdict)."""
    import numpy as np
    k = len(looks)
    xs = np.arange(looks[-1] + 1)
    verdict_ahead = (xs >= upper[-1]) | (xs <= lower[-1])
    out: list[BoolArray] = [verdict_ahead] * k
    for j in range(k - 2, -1, -1):
        n, m = looks[j], looks[j + 1] - looks[j]
        later = _window_any(verdict_ahead, m + 1, n + 1)
        out[j] = later
        xs = np.arange(n + 1)
        verdict_ahead = (xs >= upper[j]) | (xs <= lower[j]) | later
    return out


def _predictive_later(
    looks: tuple[int, ...], upper: Sequence[int], lower: Sequence[int]
) -> list[FloatArray]:
    """For each look j < K-1 and count x: the predictive probability (Jeffreys prior,
    so future counts are beta-binomial) of PASS or FAIL at a later look, later
    futility stops ignored (non-binding). The posterior after x of n is
    Beta(1/2 + x, 1/2 + n - x) whatever the path, so the predictive process is Markov
    in the count and one backward recursion covers every (j, x)."""
    import numpy as np
    from scipy import special

    k = len(looks)
    xs = np.arange(looks[-1] + 1)
    value = ((xs >= upper[-1]) | (xs <= lower[-1])).astype(float)  # P(verdict | arrive)
    out: list[FloatArray] = [value] * k
    a0, b0 = _PRIOR
    for j in range(k - 2, -1, -1):
        n, m = looks[j], looks[j + 1] - looks[j]
        x = np.arange(n + 1)[:, None]
        z = np.arange(m + 1)[None, :]
        # beta-binomial pmf C(m, z) B(a + z, b + m - z) / B(a, b), a = a0 + x, b = b0 + n - x
        # (scipy.stats.betabinom.pmf's formula, without its per-call overhead)
        log_choose = special.gammaln(m + 1) - special.gammaln(z + 1) - special.gammaln(m - z + 1)
        kernel = np.exp(log_choose + special.betaln(a0 + x + z, b0 + n - x + m - z)
                        - special.betaln(a0 + x, b0 + n - x))
        later = np.asarray((kernel * value[x + z]).sum(axis=1), dtype=float)
        out[j] = later
        xs = np.arange(n + 1)
        value = np.where((xs >= upper[j]) | (xs <= lower[j]), 1.0, later)
    return out


def _longest_run(flags: BoolArray) -> tuple[int, int]:
    """The longest run of True as (first, last); EMPTY if none (first run wins ties)."""
    best, start = EMPTY, -1
    for x, v in enumerate([*flags.tolist(), False]):
        if v and start < 0:
            start = x
        elif not v and start >= 0:
            if x - 1 - start > best[1] - best[0]:
                best = (start, x - 1)
            start = -1
    return best


def futility_regions(
    looks: tuple[int, ...], sw: Sweep, alpha: float, futility: float | None, curtail: bool
) -> list[tuple[int, int]]:
    """Futility interval per look (internal orientation) from the non-binding design
    ``sw`` (computed under the threshold with ``keep``): counts strictly between the
    boundaries where no later verdict is reachable (curtail) or its predictive
    probability is below ``futility``, minus counts whose stagewise p-value (either
    direction) is significant; the longest run of such counts (a sub-interval of a
    valid futility set is still a valid, pre-specified rule)."""
    import numpy as np
    k = len(looks)
    regions = [EMPTY] * k
    if k == 1 or (futility is None and not curtail):
        return regions
    reach = _reachable_later(looks, sw.upper, sw.lower)
    predictive = _predictive_later(looks, sw.upper, sw.lower) if futility else None
    for j in range(k - 1):
        xs = np.arange(looks[j] + 1)
        up_tail, low_tail = sw.tails[j]
        p_claim = sum(sw.cross_up[:j]) + up_tail
        p_against = sum(sw.cross_low[:j]) + low_tail
        level = significance_cut(alpha)
        quiet = (p_claim >= level) & (p_against >= level)
        flags = np.zeros(len(xs), dtype=bool)
        if curtail:
            flags |= ~reach[j]
        if predictive is not None and futility is not None:
            flags |= predictive[j] < futility
        regions[j] = _longest_run(flags & quiet & (xs > sw.lower[j]) & (xs < sw.upper[j]))
    return regions

