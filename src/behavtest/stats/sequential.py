"""DRAFT (module docstring rewritten at the end)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from behavtest.stats.power import significant
from behavtest.stats.result import Inference

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    BoolArray = NDArray[np.bool_]

Spending = str | tuple[str, float]

_MAX_BUDGET = 200_000
BATCH = 16
MAX_LOOKS = 20
DEFAULT_SPENDING: Spending = "pocock"
DEFAULT_FUTILITY: float | None = 0.1
JEFFREYS = (0.5, 0.5)


@dataclass(frozen=True)
class SequentialDesign:
    threshold: float
    alpha: float
    direction: str  # 'greater' | 'less'
    looks: tuple[int, ...]
    pass_at: tuple[int | None, ...]
    fail_at: tuple[int | None, ...]
    stop_at: tuple[tuple[int, int] | None, ...] = ()
    spending: Spending = "obf"
    futility: float | None = None

    @property
    def budget(self) -> int:
        return self.looks[-1]

    @property
    def can_pass(self) -> bool:
        return any(c is not None for c in self.pass_at)

    @property
    def can_fail(self) -> bool:
        return any(f is not None for f in self.fail_at)


@dataclass(frozen=True)
class _Plan:
    looks: tuple[int, ...]
    p0: float
    upper: tuple[int, ...]
    lower: tuple[int, ...]
    stop_lo: tuple[int, ...]
    stop_hi: tuple[int, ...]
    flip: bool


def _check_direction(direction: str) -> None:
    if direction not in ("greater", "less"):
        raise ValueError(f"direction {direction!r} is not 'greater' or 'less'")


def _check_threshold_alpha(threshold: float, alpha: float) -> None:
    if not 0.0 < threshold < 1.0:
        raise ValueError(
            f"threshold={threshold} must lie strictly between 0 and 1: a rate cannot be "
            "shown to exceed 1 or fall below 0, so no test is possible"
        )
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha} must lie in (0, 0.5)")


def _check_looks(looks: Sequence[int]) -> tuple[int, ...]:
    out = tuple(int(n) for n in looks)
    if not out:
        raise ValueError("need at least one look")
    if out[0] < 1 or any(b <= a for a, b in zip(out, out[1:], strict=False)):
        raise ValueError(f"looks {out} must be positive and strictly increasing")
    return out


def _to_plan(d: SequentialDesign) -> _Plan:
    _check_direction(d.direction)
    _check_threshold_alpha(d.threshold, d.alpha)
    looks = _check_looks(d.looks)
    k = len(looks)
    if len(d.pass_at) != k or len(d.fail_at) != k:
        raise ValueError("pass_at and fail_at need one entry per look")
    stop_at = d.stop_at or (None,) * k
    if len(stop_at) != k:
        raise ValueError("stop_at needs one entry per look (or none at all)")
    if stop_at[-1] is not None:
        raise ValueError("stop_at at the last look must be None: the budget ends there anyway")
    flip = d.direction == "less"
    upper: list[int] = []
    lower: list[int] = []
    lo_: list[int] = []
    hi_: list[int] = []
    for n, c, f, s in zip(looks, d.pass_at, d.fail_at, stop_at, strict=True):
        if flip:
            upper.append(n + 1 if c is None else n - c)
            lower.append(-1 if f is None else n - f)
        else:
            upper.append(n + 1 if c is None else c)
            lower.append(-1 if f is None else f)
        if upper[-1] <= lower[-1]:
            raise ValueError(f"PASS and FAIL regions overlap at look n={n}")
        if s is None:
            lo_.append(0)
            hi_.append(-1)
        else:
            a, b = (n - s[1], n - s[0]) if flip else (s[0], s[1])
            if not lower[-1] < a <= b < upper[-1]:
                raise ValueError(f"stop_at {s} at look n={n} must lie strictly between the "
                                 "FAIL and PASS regions")
            lo_.append(a)
            hi_.append(b)
    return _Plan(looks, 1.0 - d.threshold if flip else d.threshold, tuple(upper),
                 tuple(lower), tuple(lo_), tuple(hi_), flip)


# --- spending functions ---------------------------------------------------------------


def spending_function(spending: Spending) -> Callable[[float, float], float]:
    """alpha(s) for information fraction s in [0, 1] (alpha(1) = alpha)."""
    if spending == "obf":
        def obf(alpha: float, s: float) -> float:
            from scipy import stats as _st
            if s >= 1.0:
                return alpha
            return min(alpha, float(2.0 * _st.norm.sf(_st.norm.isf(alpha / 2.0) / math.sqrt(s))))
        return obf
    if spending == "pocock":
        def pocock(alpha: float, s: float) -> float:
            return alpha if s >= 1.0 else min(alpha, alpha * math.log1p((math.e - 1.0) * s))
        return pocock
    if isinstance(spending, tuple) and len(spending) == 2 and spending[0] == "hsd":
        g = float(spending[1])

        def hsd(alpha: float, s: float) -> float:
            if s >= 1.0:
                return alpha
            if g == 0.0:
                return alpha * s
            return min(alpha, alpha * math.expm1(-g * s) / math.expm1(-g))
        return hsd
    raise ValueError(f"spending {spending!r} is not 'obf', 'pocock' or ('hsd', gamma)")


def _spending_name(spending: Spending) -> str:
    if spending == "obf":
        return "Lan-DeMets O'Brien-Fleming-type"
    if spending == "pocock":
        return "Lan-DeMets Pocock-type"
    assert isinstance(spending, tuple)
    return f"Hwang-Shih-DeCani (gamma={spending[1]:g})"


# --- the forward recursion ------------------------------------------------------------


@dataclass
class _Sweep:
    upper: list[int]
    lower: list[int]
    cross_up: list[float]
    cross_low: list[float]
    cross_stop: list[float] = field(default_factory=list)
    up_tail: FloatArray | None = None
    low_tail: FloatArray | None = None
    tails: list[tuple[FloatArray, FloatArray]] = field(default_factory=list)


def _bisect(pred: Callable[[int], bool], hi: int) -> int:
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
    n = len(up_tail) - 1
    c = _bisect(lambda x: significant(spent_up + float(up_tail[x]), level), n + 1)
    f = _bisect(lambda x: not significant(spent_low + float(low_tail[x]), level), n + 1) - 1
    return c, f


def _sweep(
    looks: tuple[int, ...],
    p: float,
    *,
    bounds: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    stops: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    level: Callable[[float], float] | None = None,
    stop: int | None = None,
    keep_tails: bool = False,
) -> _Sweep:
    import numpy as np
    from scipy import stats as _st

    out = _Sweep([], [], [], [])
    budget = looks[-1]
    dens: FloatArray = np.ones(1)
    prev = 0
    reach_lo, reach_hi = 0, 0
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
        spent_up, spent_low = sum(out.cross_up), sum(out.cross_low)
        if bounds is None:
            assert level is not None
            c, f = _boundaries(up_tail, low_tail, spent_up, spent_low, level(n / budget))
            c = n + 1 if c > reach_hi else c
            f = -1 if f < reach_lo else f
        else:
            c, f = bounds[0][j], bounds[1][j]
        if keep_tails:
            out.tails.append((up_tail, low_tail))
        if stop == j:
            out.up_tail, out.low_tail = up_tail, low_tail
        out.upper.append(c)
        out.lower.append(f)
        out.cross_up.append(float(up_tail[c]) if c <= n else 0.0)
        out.cross_low.append(float(low_tail[f]) if f >= 0 else 0.0)
        if stop == j:
            break
        dens = dens.copy()
        dens[max(c, 0):] = 0.0
        dens[: max(f + 1, 0)] = 0.0
        if stops is not None:
            a, b = stops[0][j], stops[1][j]
            out.cross_stop.append(float(dens[a:b + 1].sum()) if a <= b else 0.0)
            if a <= b:
                dens[a:b + 1] = 0.0
        reach_lo, reach_hi = max(reach_lo, f + 1), min(reach_hi, c - 1)
        prev = n
    return out


# --- futility ----------------------------------------------------------------------------


def _window_any(flags: BoolArray, width: int, size: int) -> BoolArray:
    """out[x] = any(flags[x : x + width]) for x = 0..size-1."""
    import numpy as np
    c = np.concatenate(([0], np.cumsum(flags.astype(np.int64))))
    x = np.arange(size)
    hi = np.minimum(x + width, len(flags))
    return np.asarray(c[hi] - c[x] > 0)


def _reachable_later(
    looks: tuple[int, ...], upper: Sequence[int], lower: Sequence[int]
) -> list[tuple[BoolArray, BoolArray]]:
    """For each look j < K-1 and count x: can a PASS (FAIL) still occur at a later look,
    for some continuation of the samples? Exact boolean backward recursion."""
    import numpy as np
    k = len(looks)
    xs = np.arange(looks[-1] + 1)
    rp = xs >= upper[-1]
    rf = xs <= lower[-1]
    out: list[tuple[BoolArray, BoolArray]] = [(rp, rf)] * k
    for j in range(k - 2, -1, -1):
        n, m = looks[j], looks[j + 1] - looks[j]
        later_p = _window_any(rp, m + 1, n + 1)
        later_f = _window_any(rf, m + 1, n + 1)
        out[j] = (later_p, later_f)
        xs = np.arange(n + 1)
        cont = (xs > lower[j]) & (xs < upper[j])
        rp = (xs >= upper[j]) | (cont & later_p)
        rf = (xs <= lower[j]) | (cont & later_f)
    return out


def _predictive_later(
    looks: tuple[int, ...], upper: Sequence[int], lower: Sequence[int],
    prior: tuple[float, float],
) -> list[tuple[FloatArray, FloatArray]]:
    """Predictive probability (Beta prior, beta-binomial increments) of PASS / FAIL at a
    later look given count x at look j, ignoring futility at later looks."""
    import numpy as np
    from scipy import stats as _st
    k = len(looks)
    xs = np.arange(looks[-1] + 1)
    g = (xs >= upper[-1]).astype(float)
    h = (xs <= lower[-1]).astype(float)
    out: list[tuple[FloatArray, FloatArray]] = [(g, h)] * k
    a0, b0 = prior
    for j in range(k - 2, -1, -1):
        n, m = looks[j], looks[j + 1] - looks[j]
        x = np.arange(n + 1)[:, None]
        z = np.arange(m + 1)[None, :]
        t = _st.betabinom.pmf(z, m, a0 + x, b0 + n - x)
        idx = x + z
        cpp = np.asarray((t * g[idx]).sum(axis=1))
        cpf = np.asarray((t * h[idx]).sum(axis=1))
        out[j] = (cpp, cpf)
        xs = np.arange(n + 1)
        g = np.where(xs >= upper[j], 1.0, np.where(xs <= lower[j], 0.0, cpp))
        h = np.where(xs <= lower[j], 1.0, np.where(xs >= upper[j], 0.0, cpf))
    return out


def _trend_later(
    looks: tuple[int, ...], upper: Sequence[int], lower: Sequence[int]
) -> list[tuple[FloatArray, FloatArray]]:
    """Conditional probability of a later PASS / FAIL under the current estimate x/n_j."""
    import numpy as np
    from scipy import stats as _st
    k = len(looks)
    out: list[tuple[FloatArray, FloatArray]] = []
    for j in range(k - 1):
        n = looks[j]
        q = np.arange(n + 1) / n
        dens = np.eye(n + 1)
        cpp = np.zeros(n + 1)
        cpf = np.zeros(n + 1)
        prev = n
        for i in range(j + 1, k):
            m = looks[i] - prev
            kern = _st.binom.pmf(np.arange(m + 1)[None, :], m, q[:, None])
            new = np.zeros((n + 1, looks[i] + 1))
            for r in range(n + 1):
                new[r] = np.convolve(dens[r], kern[r])
            c, f = upper[i], lower[i]
            if c <= looks[i]:
                cpp += new[:, c:].sum(axis=1)
                new[:, c:] = 0.0
            if f >= 0:
                cpf += new[:, : f + 1].sum(axis=1)
                new[:, : f + 1] = 0.0
            dens = new
            prev = looks[i]
        out.append((cpp, cpf))
    out.append((np.zeros(1), np.zeros(1)))
    return out


def _longest_run(flags: BoolArray) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    start = None
    for x, v in enumerate([*flags.tolist(), False]):
        if v and start is None:
            start = x
        elif not v and start is not None:
            if best is None or x - 1 - start > best[1] - best[0]:
                best = (start, x - 1)
            start = None
    return best


def _stop_regions(
    looks: tuple[int, ...], sw: _Sweep, futility: float | None, curtail: bool,
    rule: str = "predictive", prior: tuple[float, float] = JEFFREYS,
) -> list[tuple[int, int] | None]:
    import numpy as np
    k = len(looks)
    regions: list[tuple[int, int] | None] = [None] * k
    if k == 1 or (futility is None and not curtail):
        return regions
    reach = _reachable_later(looks, sw.upper, sw.lower)
    cps = None
    if futility is not None:
        if rule == "predictive":
            cps = _predictive_later(looks, sw.upper, sw.lower, prior)
        elif rule == "trend":
            cps = _trend_later(looks, sw.upper, sw.lower)
        else:
            raise ValueError(rule)
    for j in range(k - 1):
        n = looks[j]
        xs = np.arange(n + 1)
        up_tail, low_tail = sw.tails[j]
        sp_up, sp_low = sum(sw.cross_up[:j]), sum(sw.cross_low[:j])
        quiet = np.array([
            not significant(sp_up + float(up_tail[x]), 1.0) for x in range(0)
        ])  # placeholder
        del quiet
        p_claim = sp_up + up_tail
        p_against = sp_low + low_tail
        alpha_ok = np.array([
            not significant(float(a), _ALPHA_HOLDER[0]) and not significant(float(b),
                                                                             _ALPHA_HOLDER[0])
            for a, b in zip(p_claim, p_against, strict=True)
        ])
        cont = (xs > sw.lower[j]) & (xs < sw.upper[j])
        flags = np.zeros(n + 1, dtype=bool)
        if curtail:
            flags |= ~(reach[j][0] | reach[j][1])
        if cps is not None and futility is not None:
            flags |= cps[j][0] + cps[j][1] < futility
        regions[j] = _longest_run(flags & cont & alpha_ok)
    return regions


_ALPHA_HOLDER = [0.05]


def _auto_looks(budget: int) -> int:
    return max(1, min(MAX_LOOKS, -(-budget // BATCH)))


def _equal_looks(budget: int, k: int) -> tuple[int, ...]:
    if k < 1:
        raise ValueError(f"looks={k} must be >= 1")
    return tuple(sorted({-(-budget * j // k) for j in range(1, k + 1)}))


def design(
    threshold: float,
    budget: int,
    alpha: float,
    direction: str,
    looks: int | Sequence[int] | None = None,
    *,
    spending: Spending = DEFAULT_SPENDING,
    futility: float | None = DEFAULT_FUTILITY,
    curtail: bool = True,
    rule: str = "predictive",
) -> SequentialDesign:
    _check_direction(direction)
    _check_threshold_alpha(threshold, alpha)
    if budget < 1:
        raise ValueError(f"budget={budget} must be >= 1")
    if looks is None:
        ns = _equal_looks(budget, _auto_looks(budget))
    elif isinstance(looks, int):
        ns = _equal_looks(budget, looks)
    else:
        ns = _check_looks(looks)
        if ns[-1] != budget:
            raise ValueError(f"the last look {ns[-1]} must equal the budget {budget}")
    if futility is not None and not 0.0 <= futility < 1.0:
        raise ValueError(f"futility={futility} must lie in [0, 1)")
    spend = spending_function(spending)
    flip = direction == "less"
    sw = _sweep(ns, 1.0 - threshold if flip else threshold,
                level=lambda s: spend(alpha, s), keep_tails=True)
    _ALPHA_HOLDER[0] = alpha
    regions = _stop_regions(ns, sw, futility, curtail, rule)
    pass_at: list[int | None] = []
    fail_at: list[int | None] = []
    stop_at: list[tuple[int, int] | None] = []
    for n, c, f, r in zip(ns, sw.upper, sw.lower, regions, strict=True):
        pass_at.append(None if c > n else (n - c if flip else c))
        fail_at.append(None if f < 0 else (n - f if flip else f))
        stop_at.append(None if r is None else ((n - r[1], n - r[0]) if flip else r))
    return SequentialDesign(threshold, alpha, direction, ns, tuple(pass_at), tuple(fail_at),
                            tuple(stop_at), spending, futility)


def _check_look(d: SequentialDesign, look: int, successes: int) -> None:
    if not 0 <= look < len(d.looks):
        raise ValueError(f"look={look} must index the design's {len(d.looks)} looks (0-based)")
    if not 0 <= successes <= d.looks[look]:
        raise ValueError(f"successes={successes} must lie in [0, n={d.looks[look]}]")


def decide(d: SequentialDesign, look: int, successes: int) -> str | None:
    _check_look(d, look, successes)
    c, f = d.pass_at[look], d.fail_at[look]
    if d.direction == "greater":
        if c is not None and successes >= c:
            return "pass"
        if f is not None and successes <= f:
            return "fail"
    else:
        if c is not None and successes <= c:
            return "pass"
        if f is not None and successes >= f:
            return "fail"
    s = d.stop_at[look] if d.stop_at else None
    if s is not None and s[0] <= successes <= s[1]:
        return "stop"
    return None


def operating_characteristics(d: SequentialDesign, p: float) -> tuple[float, float, float]:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p={p} must lie in [0, 1]")
    plan = _to_plan(d)
    sw = _sweep(plan.looks, 1.0 - p if plan.flip else p, bounds=(plan.upper, plan.lower),
                stops=(plan.stop_lo, plan.stop_hi))
    stops = [u + v + s for u, v, s in zip(sw.cross_up, sw.cross_low, sw.cross_stop,
                                          strict=False)]
    reach_last = max(0.0, 1.0 - sum(stops[:-1]))
    expected_n = sum(n * s for n, s in zip(plan.looks[:-1], stops[:-1], strict=True))
    expected_n += plan.looks[-1] * reach_last
    return min(1.0, sum(sw.cross_up)), min(1.0, sum(sw.cross_low)), expected_n


def _stagewise(plan: _Plan, look: int, x: int, p: float) -> tuple[float, float]:
    sw = _sweep(plan.looks, p, bounds=(plan.upper, plan.lower), stop=look)
    assert sw.up_tail is not None and sw.low_tail is not None
    up = sum(sw.cross_up[:look]) + float(sw.up_tail[x])
    down = sum(sw.cross_low[:look]) + float(sw.low_tail[x])
    return min(1.0, up), min(1.0, down)


def _oriented(d: SequentialDesign, look: int, successes: int) -> tuple[_Plan, int]:
    plan = _to_plan(d)
    _check_look(d, look, successes)
    return plan, (d.looks[look] - successes if plan.flip else successes)


def stagewise_pvalues(d: SequentialDesign, look: int, successes: int) -> tuple[float, float]:
    plan, x = _oriented(d, look, successes)
    return _stagewise(plan, look, x, plan.p0)


def _invert(f: Callable[[float], float], target: float) -> float:
    from scipy.optimize import brentq
    g0, g1 = f(0.0) - target, f(1.0) - target
    if g0 >= 0.0:
        return 0.0
    if g1 <= 0.0:
        return 1.0
    return float(brentq(lambda q: f(q) - target, 0.0, 1.0, xtol=1e-15, rtol=1e-15, maxiter=200))


def stagewise_interval(d: SequentialDesign, look: int, successes: int) -> tuple[float, float]:
    plan, x = _oriented(d, look, successes)
    lo = _invert(lambda q: _stagewise(plan, look, x, q)[0], d.alpha)
    hi = 1.0 - _invert(lambda q: _stagewise(plan, look, x, 1.0 - q)[1], d.alpha)
    return (1.0 - hi, 1.0 - lo) if plan.flip else (lo, hi)


METHOD = "group-sequential exact binomial"


def sequential_inference(d: SequentialDesign, look: int, successes: int) -> Inference:
    p_claim, p_against = stagewise_pvalues(d, look, successes)
    low, high = stagewise_interval(d, look, successes)
    n = d.looks[look]
    p_greater, p_less = (p_claim, p_against) if d.direction == "greater" else (
        p_against, p_claim)
    return Inference(
        estimate=successes / n, low=low, high=high, p_greater=p_greater, p_less=p_less,
        method=METHOD, null=d.threshold, effect="rate", units=n,
        note=f"look {look + 1} of {len(d.looks)}; estimate k/n is biased after an early stop",
    )


def _randomized_power(n: int, p1: float, p0: float, alpha: float) -> float:
    from scipy import stats as _st
    k = int(_st.binom.isf(alpha, n, p0))
    while k > 0 and _st.binom.sf(k - 1, n, p0) <= alpha:
        k -= 1
    while _st.binom.sf(k, n, p0) > alpha:
        k += 1
    gamma = (alpha - _st.binom.sf(k, n, p0)) / _st.binom.pmf(k, n, p0)
    return float(_st.binom.sf(k, n, p1) + gamma * _st.binom.pmf(k, n, p1))


def budget_for_power(
    threshold: float, p1: float, alpha: float, power: float,
    looks: int | Sequence[int] | None = None, **kw: object,
) -> int:
    _check_threshold_alpha(threshold, alpha)
    if p1 == threshold:
        raise ValueError("p1 equals the threshold: no budget detects a zero effect")
    if not 0.0 <= p1 <= 1.0 or not 0.0 < power < 1.0:
        raise ValueError("p1 must lie in [0, 1] and power in (0, 1)")
    direction = "greater" if p1 > threshold else "less"
    q1, q0 = (p1, threshold) if direction == "greater" else (1.0 - p1, 1.0 - threshold)
    target = power - 1e-9
    hi = 1
    while _randomized_power(hi, q1, q0, alpha) < target:
        hi *= 2
        if hi > 4 * _MAX_BUDGET:
            raise ValueError(f"more than {_MAX_BUDGET} samples needed")
    lo = hi // 2 + 1 if hi > 1 else 1
    while lo < hi:
        mid = (lo + hi) // 2
        if _randomized_power(mid, q1, q0, alpha) >= target:
            hi = mid
        else:
            lo = mid + 1
    for budget in range(lo, _MAX_BUDGET + 1):
        d = design(threshold, budget, alpha, direction, looks, **kw)  # type: ignore[arg-type]
        if operating_characteristics(d, p1)[0] >= power:
            return budget
    raise ValueError(f"more than {_MAX_BUDGET} samples needed")  # pragma: no cover
