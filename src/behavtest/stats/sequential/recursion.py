"""The forward recursion of a group-sequential binomial design.

The distribution of the count at each look, over the paths that have not
stopped yet, is carried forward by convolution (the Armitage, McPherson & Rowe
1969 recursion; Jennison & Turnbull 2000 ch. 12). Design, operating
characteristics and p-values all go through ``sweep``, so the decision and the
p-value are computed from the very same floating-point numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from behavtest.stats.power import significant

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]


@dataclass
class Sweep:
    """What ``sweep`` computed, per look (internal orientation)."""

    upper: list[int]
    lower: list[int]
    cross_up: list[float]  # P(stop upward at look j)
    cross_low: list[float]
    cross_stop: list[float] = field(default_factory=list)  # P(futility stop at look j)
    tails: list[tuple[FloatArray, FloatArray]] = field(default_factory=list)
    dens: list[FloatArray] = field(default_factory=list)  # P(reach look j, X_j = x)


def _bisect(pred: Callable[[int], bool], hi: int) -> int:
    """Smallest x in [0, hi) with pred(x) true, for pred false...false true...true; hi if none."""
    lo = 0
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _boundaries(
    up_tail: FloatArray, low_tail: FloatArray, spent_up: float, spent_low: float, level: float
) -> tuple[int, int]:
    """Least extreme counts (c, f) whose cumulative crossing probability (spent before
    plus this look's tail) is `significant` at the spent level alpha(s_j). The tails
    are monotone in x, so bisection finds them."""
    n = len(up_tail) - 1
    c = _bisect(lambda x: significant(spent_up + float(up_tail[x]), level), n + 1)
    f = _bisect(lambda x: not significant(spent_low + float(low_tail[x]), level), n + 1) - 1
    return c, f


def sweep(
    looks: tuple[int, ...],
    p: float,
    *,
    bounds: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    stops: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    level: Callable[[float], float] | None = None,
    last: int | None = None,
    keep: bool = False,
) -> Sweep:
    """Forward recursion over the looks at true rate p ('greater' orientation).

    With ``bounds`` it follows them; without, it computes them under p (the
    design step, spending ``level(s)``). ``stops`` adds the futility intervals
    (paths inside them stop); without it the recursion is the non-binding
    reference the boundaries and stagewise p-values are computed under. It
    ends after look ``last`` (default: all looks); ``keep`` keeps each look's
    tails and density. Design, operating characteristics and p-values all go
    through this one function, so the decision and the p-value are computed
    from the very same floating-point numbers. At the first look the tails are
    scipy's ``binom.sf``/``binom.cdf`` (so K = 1 is scipy's binomial test);
    later ones are cumulative sums of the convolved density.
    """
    import numpy as np
    from scipy import stats as _st

    out = Sweep([], [], [], [])
    budget = looks[-1]
    dens: FloatArray = np.ones(1)
    prev = 0
    reach_lo, reach_hi = 0, 0  # counts of paths still running after the previous look
    for j, n in enumerate(looks):
        m = n - prev
        step = _st.binom.pmf(np.arange(m + 1), m, p)
        dens = np.convolve(dens, step)
        if j == 0:
            xs = np.arange(n + 1)
            up_tail = np.asarray(_st.binom.sf(xs - 1, n, p), dtype=float)
            low_tail = np.asarray(_st.binom.cdf(xs, n, p), dtype=float)
        else:
            up_tail = np.cumsum(dens[::-1])[::-1]
            low_tail = np.cumsum(dens)
        reach_hi += m
        if bounds is None:
            assert level is not None
            c, f = _boundaries(up_tail, low_tail, sum(out.cross_up), sum(out.cross_low),
                               level(n / budget))
            c = n + 1 if c > reach_hi else c  # only unreachable counts would pass
            f = -1 if f < reach_lo else f
        else:
            c, f = bounds[0][j], bounds[1][j]
        if keep:
            out.tails.append((up_tail, low_tail))
            out.dens.append(dens)
        out.upper.append(c)
        out.lower.append(f)
        out.cross_up.append(float(up_tail[c]) if c <= n else 0.0)
        out.cross_low.append(float(low_tail[f]) if f >= 0 else 0.0)
        if j == last:
            break
        dens = dens.copy()
        dens[max(c, 0):] = 0.0
        dens[: max(f + 1, 0)] = 0.0
        reach_lo, reach_hi = max(reach_lo, f + 1), min(reach_hi, c - 1)
        if stops is not None:
            a, b = stops[0][j], stops[1][j]
            out.cross_stop.append(float(dens[a:b + 1].sum()) if a <= b else 0.0)
            if a <= b:
                dens[a:b + 1] = 0.0
        prev = n
    return out

