"""Group-sequential exact binomial tests: sample in batches, stop once decided.

A rate check has three verdicts: PASS rejects "the claim is false" at one-sided
level alpha, FAIL rejects "the claim is true" at alpha, INCONCLUSIVE spends the
budget without either. Drawing a fixed n wastes samples on checks that are
settled after a fraction of it (a control that never fires, a property far
above its threshold) and on checks that are going nowhere (a rate sitting at
its threshold). Here the budget N is drawn in K batches ("looks") fixed in
advance; sampling stops at the first look whose count crosses a boundary or
falls in a futility region. Fixed looks keep cached reruns deterministic:
samples 0..n_j-1 are always the same samples, so a replay reaches the same
decisions.

Why this method:

* Both error rates are largest at true rate == threshold (the binomial family
  has monotone likelihood ratio), so both boundaries are computed under
  p = threshold, and every guarantee below holds for all true rates.
* Boundaries are *exact* for binomial data: the distribution of the count at
  each look, over the paths that have not stopped yet, is carried forward by
  convolution (the Armitage, McPherson & Rowe 1969 recursion; Jennison &
  Turnbull 2000, "Group Sequential Methods", ch. 12). No normal approximation,
  which matters at the rates near 0 and 1 where behaviours live.
* alpha is spent by a Lan-DeMets spending function alpha(s) of the information
  fraction s = n_j / N (Lan & DeMets 1983, Biometrika 70:659-663; Jennison &
  Turnbull ch. 7.2): ``'obf'``, the O'Brien-Fleming type 2 - 2*Phi(z_{1-alpha/2}
  / sqrt(s)); ``'pocock'``, the Pocock type alpha*ln(1 + (e-1)s); or
  ``('hsd', g)``, the Hwang, Shih & DeCani (1990, Stat Med 9:1439-1445) family
  alpha*(1 - exp(-g s))/(1 - exp(-g)) (g = -4 is OBF-like, 1 Pocock-like; g > 1
  front-loads alpha). The default, HSD g = 4, is front-loaded because the
  checks that can stop early need alpha early: a control that never fires
  (0 of n) cannot PASS "rate < 0.05" before 0.95^n < alpha(s), i.e. n >= 59
  whatever the design, and OBF spending delays that to about the 4th of 5
  looks. The price is a larger budget for the same power (``budget_for_power``
  accounts for it).
* Discreteness: the boundary at look j is the least extreme count whose
  *cumulative* crossing probability (through look j, under p = threshold) is
  significant against alpha(s_j) (the ``significant`` rule of
  ``behavtest.stats.power``). Alpha that discreteness left unspent at earlier
  looks is carried forward (the increment allowed at look j is alpha(s_j) minus
  what was actually spent before). At the last look alpha(1) = alpha, so each
  error rate is below alpha exactly. The PASS and FAIL boundaries come from one
  recursion: paths stopped at either are removed before the next look.
* Early INCONCLUSIVE stops ("futility"), which only ever lower both error
  rates because the boundaries above are computed as if they did not exist
  (non-binding futility, Jennison & Turnbull ch. 10):
  - deterministic curtailment (``curtail=True``): stop when no later look can
    reach PASS or FAIL whatever the remaining samples are. Changes no error
    rate and no power, only the samples spent.
  - stochastic curtailment by predictive probability (``futility=gamma``):
    stop when the predictive probability of reaching PASS or FAIL at a later
    look is below gamma, given the count so far and a Jeffreys Beta(1/2, 1/2)
    prior on the rate (Spiegelhalter, Freedman & Blackburn 1986, Control Clin
    Trials 7:8-17; Lee & Liu 2008, Clin Trials 5:93-106, for single-arm
    binomial designs; Jennison & Turnbull 10.3). Future counts are then
    beta-binomial, so one exact backward recursion over the looks gives it for
    every count. It lowers power, so ``budget_for_power`` plans the budget
    *with* the futility rule (exact power, including the stops) and the power
    target still holds. Conditional power under the current estimate k/n
    ("current trend", Lan, Simon & Halperin 1982, Sequential Analysis
    1:207-219) was evaluated too and dropped: no better at gamma <= 0.1, and
    erratic above (at small n the plug-in rate is 0 or 1, so unlucky early
    counts of checks at their design alternative are stopped; at gamma = 0.2
    the budget needed to restore the power cost more samples than fixed n).
  A futility region is one interval of counts per look (``stop_at``), fixed in
  advance like the boundaries, and never contains a count whose stagewise
  p-value is significant.
* After a stop, p-values use the stagewise (Armitage; Fairbanks & Madsen 1982)
  ordering (Jennison & Turnbull 8.4): earlier stops are more extreme, ties in
  look are ordered by count. That p-value depends only on looks up to the
  stop, agrees with the decision (p < alpha exactly when the boundary was
  crossed), and is the ordinary exact binomial p-value when K = 1. Intervals
  invert it in the rate, giving Clopper-Pearson when K = 1. With futility
  regions the design's own outcomes also include the early INCONCLUSIVE
  stops; the reported p-value is then the larger of the stagewise p-value
  above and the exact tail probability, under the design *with* its futility
  stops, of an ordering that ranks every PASS first (stagewise), then every
  INCONCLUSIVE outcome (by its stagewise p-value at the threshold), then every
  FAIL. The second is an exact p-value of the procedure actually run at every
  rate, so the intervals keep their coverage; the first keeps the decision
  and the p-value in agreement. At PASS and FAIL stops (in the verdict's
  direction) the two coincide with the plain stagewise value.

Defaults (``design`` and ``budget_for_power`` share them, so the harness, which
only knows the budget, rebuilds the planned design): one look per 16 samples
(the harness's provider batch, so looking costs no extra generate call), HSD
g = 4 spending, curtailment, predictive futility gamma = 0.15. On the
benchmark suite (``bench/sequential.py``, which compares every option above)
this spends 0.70 of fixed n's samples per decided check at equal PASS power
and exact error rates (0.64 when both are planned to 80% power); looking every
1-2 samples (K = 20 on small budgets) gets 0.62, at the cost of generate calls.
Either way an early INCONCLUSIVE rests on fewer samples than a fixed-n one, so
its interval is wider. The budget search matches PASS power only; FAIL power at
the alternative's mirror is reported by the bench (a little below fixed n's on
two of its three plans). ``bench/sequential_bound.py`` computes exactly (a
linear program over all stopping rules) the least ratio any design could reach
on that suite, even one tuned to its true rates: with equal power for both
verdicts 0.635 looking every 16 samples and 0.602 every 8, so 0.60 is out of
reach at about this look spacing; with PASS power alone 0.587 every 16.

Nothing here exists in scipy or statsmodels (statsmodels has no
group-sequential designs), so the recursions are written out; the tests check
them against scipy's binomial test (K = 1), against brute-force enumeration
of every Bernoulli sequence, against simulation of the stopping procedure, and
their error rates and interval coverage over grids of designs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from behavtest.stats.power import significance_cut, significant
from behavtest.stats.result import Inference

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    BoolArray = NDArray[np.bool_]

Spending = str | tuple[str, float]
"""'obf' | 'pocock' | ('hsd', gamma): the alpha-spending function."""

_MAX_BUDGET = 200_000
BATCH = 16
"""Default samples per look: the harness draws a model's replies in provider batches of
16 (``--behav-batch``), so one look per batch costs no extra generate calls."""
DEFAULT_SPENDING: Spending = ("hsd", 4.0)
DEFAULT_FUTILITY: float | None = 0.15
_PRIOR = (0.5, 0.5)  # Jeffreys
_EMPTY = (0, -1)  # an empty futility interval (internal orientation)


@dataclass(frozen=True)
class SequentialDesign:
    """Boundaries of a group-sequential test of a rate against ``threshold``.

    ``looks`` are the cumulative sample sizes at which the count is checked
    (the last is the budget). At look j (0-based), for ``direction='greater'``
    (claim: the rate is above the threshold) PASS if successes >= ``pass_at[j]``
    and FAIL if successes <= ``fail_at[j]``; for ``'less'`` PASS if successes
    <= ``pass_at[j]`` and FAIL if successes >= ``fail_at[j]``. None means no
    count that can occur at that look (given the stops at earlier looks)
    passes (fails) there. ``stop_at[j] = (lo, hi)`` stops INCONCLUSIVE early
    (futility, see the module docstring) if lo <= successes <= hi; None, or an
    empty ``stop_at``, means no early INCONCLUSIVE stop (always None at the last
    look, where INCONCLUSIVE is simply the budget running out). ``spending`` and
    ``futility`` record how the design was made.
    """

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
        """False when no outcome can ever PASS (budget too small for this alpha)."""
        return any(c is not None for c in self.pass_at)

    @property
    def can_fail(self) -> bool:
        """False when no outcome can ever FAIL."""
        return any(f is not None for f in self.fail_at)

    @property
    def stops_early(self) -> bool:
        """True when some count stops INCONCLUSIVE before the last look."""
        return any(s is not None for s in self.stop_at)


# --- internal 'greater' orientation -------------------------------------------------
# 'less' is the mirror image: count n - X, threshold 1 - t. Internally a design is
# (looks, p0, upper, lower, stop_lo, stop_hi): stop upward (PASS) at look j if
# x >= upper[j], downward (FAIL) if x <= lower[j], INCONCLUSIVE if stop_lo[j] <= x <=
# stop_hi[j]; upper[j] = n_j + 1 / lower[j] = -1 / stop_lo > stop_hi mean "never".


@dataclass(frozen=True)
class _Plan:
    looks: tuple[int, ...]
    p0: float
    upper: tuple[int, ...]
    lower: tuple[int, ...]
    stop_lo: tuple[int, ...]
    stop_hi: tuple[int, ...]
    flip: bool

    @property
    def stops_early(self) -> bool:
        return any(a <= b for a, b in zip(self.stop_lo, self.stop_hi, strict=True))


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
    if len(d.pass_at) != len(looks) or len(d.fail_at) != len(looks):
        raise ValueError("pass_at and fail_at need one entry per look")
    stop_at = d.stop_at or (None,) * len(looks)
    if len(stop_at) != len(looks):
        raise ValueError("stop_at needs one entry per look (or none at all)")
    if stop_at[-1] is not None:
        raise ValueError("stop_at must be None at the last look: the budget ends there")
    flip = d.direction == "less"
    upper: list[int] = []
    lower: list[int] = []
    s_lo: list[int] = []
    s_hi: list[int] = []
    for n, c, f, s in zip(looks, d.pass_at, d.fail_at, stop_at, strict=True):
        if flip:
            upper.append(n + 1 if c is None else n - c)
            lower.append(-1 if f is None else n - f)
        else:
            upper.append(n + 1 if c is None else c)
            lower.append(-1 if f is None else f)
        if upper[-1] <= lower[-1]:
            raise ValueError(f"PASS and FAIL regions overlap at look n={n}")
        a, b = _EMPTY if s is None else ((n - s[1], n - s[0]) if flip else s)
        if a <= b and not lower[-1] < a <= b < upper[-1]:
            raise ValueError(
                f"stop_at {s} at look n={n} must lie strictly between the FAIL and PASS "
                "regions"
            )
        s_lo.append(a)
        s_hi.append(b)
    return _Plan(looks, 1.0 - d.threshold if flip else d.threshold, tuple(upper),
                 tuple(lower), tuple(s_lo), tuple(s_hi), flip)


# --- alpha spending -------------------------------------------------------------------


def _spending_function(spending: Spending) -> Callable[[float, float], float]:
    """alpha(s) as a function of (alpha, s): nondecreasing in s, alpha(1) = alpha."""
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
    if (isinstance(spending, tuple) and len(spending) == 2 and spending[0] == "hsd"
            and isinstance(spending[1], int | float) and math.isfinite(spending[1])):
        g = float(spending[1])

        def hsd(alpha: float, s: float) -> float:
            if s >= 1.0:
                return alpha
            if g == 0.0:
                return alpha * s
            return min(alpha, alpha * math.expm1(-g * s) / math.expm1(-g))
        return hsd
    raise ValueError(f"spending {spending!r} is not 'obf', 'pocock' or ('hsd', gamma)")


def spending_name(spending: Spending) -> str:
    """Human-readable name of a spending function (for methods and reports)."""
    _spending_function(spending)  # validates
    if spending == "obf":
        return "Lan-DeMets O'Brien-Fleming-type spending"
    if spending == "pocock":
        return "Lan-DeMets Pocock-type spending"
    assert isinstance(spending, tuple)
    return f"Hwang-Shih-DeCani spending (gamma={spending[1]:g})"


# --- the forward recursion ------------------------------------------------------------


@dataclass
class _Sweep:
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


def _sweep(
    looks: tuple[int, ...],
    p: float,
    *,
    bounds: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    stops: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    level: Callable[[float], float] | None = None,
    last: int | None = None,
    keep: bool = False,
) -> _Sweep:
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

    out = _Sweep([], [], [], [])
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


# --- futility -----------------------------------------------------------------------------


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
    """The longest run of True as (first, last); _EMPTY if none (first run wins ties)."""
    best, start = _EMPTY, -1
    for x, v in enumerate([*flags.tolist(), False]):
        if v and start < 0:
            start = x
        elif not v and start >= 0:
            if x - 1 - start > best[1] - best[0]:
                best = (start, x - 1)
            start = -1
    return best


def _futility_regions(
    looks: tuple[int, ...], sw: _Sweep, alpha: float, futility: float | None, curtail: bool
) -> list[tuple[int, int]]:
    """Futility interval per look (internal orientation) from the non-binding design
    ``sw`` (computed under the threshold with ``keep``): counts strictly between the
    boundaries where no later verdict is reachable (curtail) or its predictive
    probability is below ``futility``, minus counts whose stagewise p-value (either
    direction) is significant; the longest run of such counts (a sub-interval of a
    valid futility set is still a valid, pre-specified rule)."""
    import numpy as np
    k = len(looks)
    regions = [_EMPTY] * k
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


# --- design -------------------------------------------------------------------------------


def _equal_looks(budget: int, k: int) -> tuple[int, ...]:
    if k < 1:
        raise ValueError(f"looks={k} must be >= 1")
    return tuple(sorted({-(-budget * j // k) for j in range(1, k + 1)}))


def default_looks(budget: int) -> int:
    """One look per ``BATCH`` samples: K = ceil(budget / 16), equally spaced."""
    return max(1, -(-budget // BATCH))


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
) -> SequentialDesign:
    """Exact group-sequential design for "rate > threshold" ('greater') or "< threshold".

    ``looks`` is the number K of equally spaced looks (n_j = ceil(budget*j/K);
    repeats, when budget < K, are dropped), the cumulative sizes themselves
    (strictly increasing, ending at ``budget``), or None: one look per 16
    samples (``default_looks``), so each look is at most one provider batch.
    Both boundaries are computed under rate == threshold with ``spending``
    ('obf', 'pocock' or ('hsd', gamma)) of the one-sided alpha (module
    docstring). ``curtail`` adds deterministic curtailment, ``futility=gamma``
    the predictive-probability futility stop (None: none); both are
    non-binding, so they never raise an error rate. A budget too small for any
    PASS gives all ``pass_at`` None (``SequentialDesign.can_pass``). K = 1 is
    the fixed-n one-sided exact binomial test (scipy ``binomtest``) with the
    ``significant`` rule.
    """
    _check_direction(direction)
    _check_threshold_alpha(threshold, alpha)
    if budget < 1:
        raise ValueError(f"budget={budget} must be >= 1")
    if futility is not None and not 0.0 <= futility < 1.0:
        raise ValueError(f"futility={futility} must lie in [0, 1) (or be None)")
    if looks is None:
        ns = _equal_looks(budget, default_looks(budget))
    elif isinstance(looks, int):
        ns = _equal_looks(budget, looks)
    else:
        ns = _check_looks(looks)
        if ns[-1] != budget:
            raise ValueError(f"the last look {ns[-1]} must equal the budget {budget}")
    spend = _spending_function(spending)
    flip = direction == "less"
    sw = _sweep(ns, 1.0 - threshold if flip else threshold,
                level=lambda s: spend(alpha, s), keep=True)
    regions = _futility_regions(ns, sw, alpha, futility, curtail)
    pass_at: list[int | None] = []
    fail_at: list[int | None] = []
    stop_at: list[tuple[int, int] | None] = []
    for n, c, f, (a, b) in zip(ns, sw.upper, sw.lower, regions, strict=True):
        pass_at.append(None if c > n else (n - c if flip else c))
        fail_at.append(None if f < 0 else (n - f if flip else f))
        stop_at.append(None if a > b else ((n - b, n - a) if flip else (a, b)))
    return SequentialDesign(
        threshold, alpha, direction, ns, tuple(pass_at), tuple(fail_at),
        tuple(stop_at) if any(s is not None for s in stop_at) else (), spending, futility,
    )


def _check_look(d: SequentialDesign, look: int, successes: int) -> None:
    if not 0 <= look < len(d.looks):
        raise ValueError(f"look={look} must index the design's {len(d.looks)} looks (0-based)")
    if not 0 <= successes <= d.looks[look]:
        raise ValueError(f"successes={successes} must lie in [0, n={d.looks[look]}]")


def decide(d: SequentialDesign, look: int, successes: int) -> str | None:
    """Verdict at look ``look`` (0-based) with ``successes`` among the first looks[look].

    Returns 'pass', 'fail', 'stop' (INCONCLUSIVE now: a futility or
    curtailment stop, see ``SequentialDesign.stop_at``) or None: keep sampling,
    or, at the last look, INCONCLUSIVE (the budget is spent). Anything but None
    ends sampling; 'stop' and None at the last look are both INCONCLUSIVE,
    and their p-values (``stagewise_pvalues``) are never significant.
    """
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
    """Exact (P(PASS), P(FAIL), expected samples drawn) when the true rate is p,
    futility and curtailment stops included."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p={p} must lie in [0, 1]")
    plan = _to_plan(d)
    sw = _sweep(plan.looks, 1.0 - p if plan.flip else p, bounds=(plan.upper, plan.lower),
                stops=(plan.stop_lo, plan.stop_hi))
    ended = [u + v + s for u, v, s in zip(sw.cross_up, sw.cross_low, sw.cross_stop,
                                          strict=True)][:-1]  # looks before the last
    reach_last = max(0.0, 1.0 - sum(ended))
    expected_n = sum(n * s for n, s in zip(plan.looks, ended, strict=False))
    expected_n += plan.looks[-1] * reach_last
    return min(1.0, sum(sw.cross_up)), min(1.0, sum(sw.cross_low)), expected_n


# --- p-values and intervals ---------------------------------------------------------------


def _stagewise(plan: _Plan, look: int, x: int, p: float) -> tuple[float, float]:
    """(P_p(stop more extreme upward), P_p(... downward)) than (look, x) in the stagewise
    order of the non-binding design (futility stops ignored)."""
    sw = _sweep(plan.looks, p, bounds=(plan.upper, plan.lower), last=look, keep=True)
    up_tail, low_tail = sw.tails[look]
    up = sum(sw.cross_up[:look]) + float(up_tail[x])
    down = sum(sw.cross_low[:look]) + float(low_tail[x])
    return min(1.0, up), min(1.0, down)


@dataclass(frozen=True)
class _Keys:
    """Stagewise p-values at the threshold of every count at every look: the fixed
    order of the INCONCLUSIVE outcomes in the ordering of the actual design."""

    claim: tuple[FloatArray, ...]
    against: tuple[FloatArray, ...]


def _keys(plan: _Plan) -> _Keys:
    sw = _sweep(plan.looks, plan.p0, bounds=(plan.upper, plan.lower), keep=True)
    claim = tuple(sum(sw.cross_up[:j]) + t[0] for j, t in enumerate(sw.tails))
    against = tuple(sum(sw.cross_low[:j]) + t[1] for j, t in enumerate(sw.tails))
    return _Keys(claim, against)


def _actual(plan: _Plan, keys: _Keys, look: int, x: int, p: float) -> tuple[float, float]:
    """Exact tail probabilities at rate p, under the design *with* its futility stops, of
    the ordering PASS (stagewise) > INCONCLUSIVE (by stagewise p at the threshold) >
    FAIL (reverse stagewise), and its mirror image for the other direction."""
    import numpy as np
    sw = _sweep(plan.looks, p, bounds=(plan.upper, plan.lower),
                stops=(plan.stop_lo, plan.stop_hi), keep=True)
    k = len(plan.looks)
    up = [float(sw.dens[j][plan.upper[j]:].sum()) for j in range(k)]
    down = [float(sw.dens[j][: max(plan.lower[j] + 1, 0)].sum()) for j in range(k)]
    mid_mass: list[FloatArray] = []
    mids: list[BoolArray] = []
    for j in range(k):
        xs = np.arange(plan.looks[j] + 1)
        inside = (xs > plan.lower[j]) & (xs < plan.upper[j])
        if j < k - 1:
            inside &= (xs >= plan.stop_lo[j]) & (xs <= plan.stop_hi[j])
        mids.append(inside)
        mid_mass.append(np.where(inside, sw.dens[j], 0.0))
    dens = sw.dens[look]
    kind = "pass" if x >= plan.upper[look] else "fail" if x <= plan.lower[look] else "mid"
    total_mid = sum(float(m.sum()) for m in mid_mass)

    def mid_upto(key: tuple[FloatArray, ...], bound: float) -> float:
        return sum(float(m[kj <= bound].sum()) for m, kj in zip(mid_mass, key, strict=True))

    if kind == "pass":
        claim = sum(up[:look]) + float(dens[x:].sum())
        against = (sum(down) + total_mid + sum(up[look + 1:])
                   + float(dens[plan.upper[look]: x + 1].sum()))
    elif kind == "fail":
        claim = (sum(up) + total_mid + sum(down[look + 1:])
                 + float(dens[x: plan.lower[look] + 1].sum()))
        against = sum(down[:look]) + float(dens[: x + 1].sum())
    else:
        claim = sum(up) + mid_upto(keys.claim, float(keys.claim[look][x]))
        against = sum(down) + mid_upto(keys.against, float(keys.against[look][x]))
    return min(1.0, claim), min(1.0, against)


def _pvalues(plan: _Plan, keys: _Keys | None, look: int, x: int, p: float) -> tuple[float, float]:
    a, b = _stagewise(plan, look, x, p)
    if keys is None:
        return a, b
    c, d = _actual(plan, keys, look, x, p)
    return max(a, c), max(b, d)


def _oriented(d: SequentialDesign, look: int, successes: int) -> tuple[_Plan, int]:
    plan = _to_plan(d)
    _check_look(d, look, successes)
    return plan, (d.looks[look] - successes if plan.flip else successes)


def stagewise_pvalues(d: SequentialDesign, look: int, successes: int) -> tuple[float, float]:
    """(p_claim, p_against) for a stop at ``look`` (0-based) with ``successes``.

    Stagewise (Armitage / Fairbanks-Madsen) ordering, Jennison & Turnbull 8.4:
    p_claim = P_t(PASS at an earlier look) + P_t(reach this look with a count
    at least as favourable to the claim); p_against likewise towards FAIL; t is
    the threshold, and "reach" ignores futility stops (the non-binding design
    the boundaries were computed under). For a design from ``design``,
    ``significant(p_claim, alpha)`` holds exactly when this look's PASS boundary
    is crossed (and p_against for FAIL). With K = 1 these are scipy
    ``binomtest`` p-values (alternative 'greater'/'less').

    A design with futility stops (``d.stops_early``) reports the larger of that
    value and the exact tail probability, under the design with its stops, of
    the ordering PASS > INCONCLUSIVE > FAIL (module docstring): the same value
    at PASS and FAIL stops in the verdict's direction; at an INCONCLUSIVE stop
    (futility or budget spent) both p-values are >= alpha, and each is a valid
    p-value of the procedure actually run. At a count where the design would not
    have stopped (or that it cannot reach) the same formulas are returned, but
    they are then not the p-values of a stop of this design.
    """
    plan, x = _oriented(d, look, successes)
    return _pvalues(plan, _keys(plan) if plan.stops_early else None, look, x, plan.p0)


def _invert(f: Callable[[float], float], target: float) -> float:
    """Root in [0, 1] of the increasing function f(p) = target (edge values clamp)."""
    from scipy.optimize import brentq
    g0, g1 = f(0.0) - target, f(1.0) - target
    if g0 >= 0.0:
        return 0.0
    if g1 <= 0.0:
        return 1.0
    return float(brentq(lambda q: f(q) - target, 0.0, 1.0, xtol=1e-15, rtol=1e-15, maxiter=200))


def stagewise_interval(d: SequentialDesign, look: int, successes: int) -> tuple[float, float]:
    """One-sided (1 - alpha) lower and upper bounds on the rate after a stop.

    Each bound is the rate at which the p-value of ``stagewise_pvalues`` (as a
    function of the true rate, which it increases with; scipy ``brentq`` finds
    the root) equals alpha, so ``low > threshold`` agrees with a PASS for
    'greater'. With K = 1 this is Clopper-Pearson at 1 - 2*alpha (scipy
    ``binomtest(...).proportion_ci('exact')``).
    """
    plan, x = _oriented(d, look, successes)
    keys = _keys(plan) if plan.stops_early else None
    lo = _invert(lambda q: _pvalues(plan, keys, look, x, q)[0], d.alpha)
    hi = 1.0 - _invert(lambda q: _pvalues(plan, keys, look, x, 1.0 - q)[1], d.alpha)
    return (1.0 - hi, 1.0 - lo) if plan.flip else (lo, hi)


def method(d: SequentialDesign) -> str:
    """The method line for reports: spending, futility, citations."""
    early = (f"predictive-probability futility stop below {d.futility:g} (Lee & Liu 2008)"
             if d.futility else "no futility stop")
    cite = "Hwang, Shih & DeCani 1990" if isinstance(d.spending, tuple) else "Lan & DeMets 1983"
    return (
        f"group-sequential exact binomial, {len(d.looks)} looks, {spending_name(d.spending)} "
        f"({cite}; Jennison & Turnbull 2000 ch. 7, 12), {early}, stagewise-ordering p-value "
        "and interval (Jennison & Turnbull 8.4)"
    )


def sequential_inference(d: SequentialDesign, look: int, successes: int) -> Inference:
    """The stop at (look, successes) as an ``Inference`` against the threshold.

    p_greater / p_less are the stagewise p-values; low / high the stagewise
    bounds. The estimate is the plain k/n, which is biased after an early stop
    (stopping when the count is extreme exaggerates it); the interval is not.
    """
    p_claim, p_against = stagewise_pvalues(d, look, successes)
    low, high = stagewise_interval(d, look, successes)
    n = d.looks[look]
    p_greater, p_less = (p_claim, p_against) if d.direction == "greater" else (
        p_against, p_claim)
    why = ("; stopped early: neither verdict was still likely (futility)"
           if decide(d, look, successes) == "stop" else "")
    return Inference(
        estimate=successes / n, low=low, high=high, p_greater=p_greater, p_less=p_less,
        method=method(d), null=d.threshold, effect="rate", units=n,
        note=f"look {look + 1} of {len(d.looks)}{why}; estimate k/n is biased after an "
        "early stop",
    )


# --- planning -----------------------------------------------------------------------------


def _randomized_power(n: int, p1: float, p0: float, alpha: float) -> float:
    """Power of the randomized UMP one-sided binomial test (p1 > p0): an upper bound on
    the power of *any* level-alpha test on n Bernoulli draws, sequential or not."""
    from scipy import stats as _st
    k = int(_st.binom.isf(alpha, n, p0))  # roughly the critical count
    while k > 0 and _st.binom.sf(k - 1, n, p0) <= alpha:
        k -= 1
    while _st.binom.sf(k, n, p0) > alpha:
        k += 1
    # P0(X > k) <= alpha < P0(X >= k): reject above k, randomize at k
    gamma = (alpha - _st.binom.sf(k, n, p0)) / _st.binom.pmf(k, n, p0)
    return float(_st.binom.sf(k, n, p1) + gamma * _st.binom.pmf(k, n, p1))


def budget_for_power(
    threshold: float,
    p1: float,
    alpha: float,
    power: float,
    looks: int | None = None,
    *,
    spending: Spending = DEFAULT_SPENDING,
    futility: float | None = DEFAULT_FUTILITY,
    curtail: bool = True,
) -> int:
    """Smallest budget N whose design (``design(..., looks, spending=, futility=,
    curtail=)``, the same defaults) PASSes with probability >= ``power`` when the
    true rate is p1 (direction: p1's side of the threshold). The power is exact
    and includes the futility stops.

    Exact power saw-tooths in N, so this scans N upward, starting where the
    randomized most-powerful fixed-n test first reaches the power: no level-alpha
    test on fewer draws can, so no smaller N is skipped. ``looks`` is a number
    of looks or None (one per 16 samples), not sizes: sizes would fix the budget.
    """
    _check_threshold_alpha(threshold, alpha)
    if p1 == threshold:
        raise ValueError("p1 equals the threshold: no budget detects a zero effect")
    if not 0.0 <= p1 <= 1.0 or not 0.0 < power < 1.0:
        raise ValueError("p1 must lie in [0, 1] and power in (0, 1)")
    if looks is not None and not isinstance(looks, int):
        raise ValueError("budget_for_power takes a number of looks (or None), not sizes")
    direction = "greater" if p1 > threshold else "less"
    q1, q0 = (p1, threshold) if direction == "greater" else (1.0 - p1, 1.0 - threshold)
    target = power - 1e-9  # float slack: the bound must not overshoot
    hi = 1
    while _randomized_power(hi, q1, q0, alpha) < target:
        hi *= 2
        if hi > 4 * _MAX_BUDGET:
            raise ValueError(f"more than {_MAX_BUDGET} samples needed")
    lo = hi // 2 + 1 if hi > 1 else 1
    while lo < hi:  # randomized power is nondecreasing in n
        mid = (lo + hi) // 2
        if _randomized_power(mid, q1, q0, alpha) >= target:
            hi = mid
        else:
            lo = mid + 1
    for budget in range(lo, _MAX_BUDGET + 1):
        d = design(threshold, budget, alpha, direction, looks, spending=spending,
                   futility=futility, curtail=curtail)
        if operating_characteristics(d, p1)[0] >= power:
            return budget
    raise ValueError(f"more than {_MAX_BUDGET} samples needed")  # pragma: no cover
