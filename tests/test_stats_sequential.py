"""behavtest.stats.sequential (the package): exact error rates, K = 1 against scipy, and the
recursions against brute-force enumeration and simulation of the stopping rule.

The recursions are behavtest's own code (nothing in scipy/statsmodels computes
group-sequential binomial designs), so they are checked independently: K = 1
must be scipy's exact binomial test and Clopper-Pearson interval; for small
budgets every Bernoulli sequence is enumerated and run through
``sequential_decide``
(operating characteristics, both p-value orderings, interval coverage,
curtailment); the predictive probability is checked against scipy ``quad``
over the Beta posterior; for realistic budgets the stopping procedure is
simulated.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special
from scipy import stats as sps

from behavtest.stats.power import samples_for_rate, significant
from behavtest.stats.result import Outcome
from behavtest.stats.sequential.build import (
    DEFAULT_FUTILITY,
    DEFAULT_SPENDING,
    default_looks,
    sequential_design,
)
from behavtest.stats.sequential.design import Plan, SequentialDesign, sequential_decide, to_plan
from behavtest.stats.sequential.futility import _predictive_later, _reachable_later
from behavtest.stats.sequential.inference import (
    _Keys,
    _keys,
    _pvalues,
    _stagewise,
    sequential_inference,
    stagewise_interval,
    stagewise_pvalues,
)
from behavtest.stats.sequential.planning import sequential_budget_for_power, sequential_oc
from behavtest.stats.sequential.spending import spending_function, spending_name

TOL = 1e-9
DIRECTIONS = ("greater", "less")
PROPERTY = settings(max_examples=60, deadline=None)
NO_EARLY = {"futility": None, "curtail": False}  # the plain group-sequential design
SPENDINGS = ("obf", "pocock", ("hsd", -2.0), ("hsd", 1.0), ("hsd", 4.0))


def _claim_alt(direction: str) -> str:
    return direction


def _against_alt(direction: str) -> str:
    return "less" if direction == "greater" else "greater"


def _non_binding(d: SequentialDesign) -> SequentialDesign:
    """The same boundaries without the futility stops."""
    return dataclasses.replace(d, stop_at=())


# --- K = 1 is the fixed-n exact binomial test -------------------------------------


@PROPERTY
@given(
    n=st.integers(1, 300),
    frac=st.floats(0.0, 1.0),
    t=st.floats(0.005, 0.995),
    direction=st.sampled_from(DIRECTIONS),
)
def test_k1_pvalues_agree_with_scipy_binomtest(
    n: int, frac: float, t: float, direction: str
) -> None:
    """K = 1 stagewise p-values equal scipy ``binomtest`` one-sided p-values (1e-9)."""
    k = round(frac * n)
    d = sequential_design(t, n, 0.05, direction, looks=1)
    p_claim, p_against = stagewise_pvalues(d, 0, k)
    assert p_claim == pytest.approx(
        sps.binomtest(k, n, t, alternative=_claim_alt(direction)).pvalue, rel=TOL, abs=TOL)
    assert p_against == pytest.approx(
        sps.binomtest(k, n, t, alternative=_against_alt(direction)).pvalue, rel=TOL, abs=TOL)


@pytest.mark.parametrize("n", [1, 7, 25, 250])
@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.1])
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_k1_interval_agrees_with_scipy_clopper_pearson(
    n: int, alpha: float, direction: str
) -> None:
    """K = 1 stagewise bounds equal scipy ``binomtest(k, n).proportion_ci('exact')`` at
    1 - 2*alpha (1e-9), for every k up to n = 25 and the edges and middle beyond."""
    d = sequential_design(0.3, n, alpha, direction, looks=1)
    ks = range(n + 1) if n <= 25 else sorted({0, 1, n // 3, n // 2, n - 1, n})
    for k in ks:
        ci = sps.binomtest(k, n).proportion_ci(confidence_level=1 - 2 * alpha, method="exact")
        low, high = stagewise_interval(d, 0, k)
        assert low == pytest.approx(ci.low, abs=TOL)
        assert high == pytest.approx(ci.high, abs=TOL)


@pytest.mark.parametrize("t", [0.01, 0.05, 0.2, 0.5, 0.8])
@pytest.mark.parametrize("n", [5, 20, 100, 400])
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_k1_decisions_equal_binomtest_with_significant_rule(
    t: float, n: int, direction: str
) -> None:
    """K = 1 sequential_decide() == comparing scipy ``binomtest`` p-values to alpha with
    ``significant``."""
    alpha = 0.05
    d = sequential_design(t, n, alpha, direction, looks=1)
    assert not d.stops_early  # one look: nothing to stop early at
    for k in range(n + 1):
        p_claim = sps.binomtest(k, n, t, alternative=_claim_alt(direction)).pvalue
        p_against = sps.binomtest(k, n, t, alternative=_against_alt(direction)).pvalue
        want = (Outcome.PASS if significant(p_claim, alpha)
                else Outcome.FAIL if significant(p_against, alpha) else None)
        assert sequential_decide(d, 0, k) is want, (k, p_claim, p_against)


# --- spending functions --------------------------------------------------------------------


def test_spending_functions_match_their_formulas() -> None:
    """alpha(s) of each family equals its closed form (scipy ``norm`` for OBF), is
    nondecreasing, and reaches alpha at s = 1; HSD gamma = 0 is linear."""
    alpha = 0.05
    z = sps.norm.isf(alpha / 2)
    forms = {
        "obf": lambda s: 2 * sps.norm.sf(z / math.sqrt(s)),
        "pocock": lambda s: alpha * math.log(1 + (math.e - 1) * s),
        ("hsd", 4.0): lambda s: alpha * (1 - math.exp(-4 * s)) / (1 - math.exp(-4)),
        ("hsd", -2.0): lambda s: alpha * (1 - math.exp(2 * s)) / (1 - math.exp(2)),
        ("hsd", 0.0): lambda s: alpha * s,
    }
    for spending, form in forms.items():
        f = spending_function(spending)  # type: ignore[arg-type]
        grid = np.linspace(0.01, 1.0, 100)
        values = [f(alpha, float(s)) for s in grid]
        assert values == pytest.approx([form(float(s)) for s in grid], rel=1e-12)
        assert np.all(np.diff(values) >= 0) and values[-1] == alpha
        assert spending_name(spending)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="spending"):
        sequential_design(0.2, 50, 0.05, "greater", spending="linear")
    with pytest.raises(ValueError, match="spending"):
        sequential_design(0.2, 50, 0.05, "greater", spending=("hsd", math.nan))


# --- exact error rates --------------------------------------------------------------

GRID_T = (0.01, 0.05, 0.2, 0.5, 0.8)
GRID_N = (20, 100, 400)
GRID_K: tuple[int | None, ...] = (1, 2, 5, 10, None)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("k", GRID_K)
def test_error_rates_at_threshold_at_most_alpha(direction: str, k: int | None) -> None:
    """Exact P(PASS | p = t) <= alpha and P(FAIL | p = t) <= alpha over the grid, for the
    default design (futility and curtailment on) and the plain one, every spending."""
    for t, n, alpha in itertools.product(GRID_T, GRID_N, (0.05, 0.01)):
        variants = [{}, NO_EARLY] + [{"spending": s} for s in SPENDINGS[:3]]
        for kw in variants:
            d = sequential_design(t, n, alpha, direction, looks=k, **kw)
            p_pass, p_fail, en = sequential_oc(d, t)
            assert p_pass <= alpha and p_fail <= alpha, (t, n, alpha, kw, p_pass, p_fail)
            assert d.looks[0] <= en <= n


@PROPERTY
@given(
    t=st.floats(0.01, 0.99),
    n=st.integers(1, 300),
    k=st.one_of(st.none(), st.integers(1, 12)),
    spending=st.sampled_from(SPENDINGS),
    futility=st.one_of(st.none(), st.floats(0.0, 0.5)),
    alpha=st.sampled_from((0.01, 0.05, 0.1)),
    direction=st.sampled_from(DIRECTIONS),
)
def test_any_design_keeps_both_error_rates(
    t: float, n: int, k: int | None, spending: str | tuple[str, float],
    futility: float | None, alpha: float, direction: str,
) -> None:
    """Any threshold, budget, looks, spending and futility: exact P(PASS | t) and
    P(FAIL | t) are <= alpha, E[n] lies between the first look and the budget, and the
    futility intervals sit strictly inside the continuation region."""
    d = sequential_design(t, n, alpha, direction, k, spending=spending, futility=futility)
    p_pass, p_fail, en = sequential_oc(d, t)
    assert p_pass <= alpha and p_fail <= alpha
    assert d.looks[0] - 1e-9 <= en <= n + 1e-9
    plan = to_plan(d)  # validates stop_at against the boundaries
    assert all(a > b for a, b in zip(plan.stop_lo[-1:], plan.stop_hi[-1:], strict=True))


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("k", GRID_K)
def test_operating_characteristics_monotone_in_rate(direction: str, k: int | None) -> None:
    """P(PASS) rises and P(FAIL) falls as the true rate moves to the claim's side,
    futility stops included."""
    sign = 1.0 if direction == "greater" else -1.0
    for t, n in itertools.product(GRID_T, (20, 100)):
        d = sequential_design(t, n, 0.05, direction, looks=k)
        rates = np.linspace(0.0, 1.0, 41)[:: int(sign)]
        oc = [sequential_oc(d, float(p)) for p in rates]
        pas = np.array([o[0] for o in oc])
        fai = np.array([o[1] for o in oc])
        assert np.all(np.diff(pas) >= -1e-12), (t, n)
        assert np.all(np.diff(fai) <= 1e-12), (t, n)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("spending", SPENDINGS)
def test_futility_is_non_binding_and_curtailment_free(
    direction: str, spending: str | tuple[str, float]
) -> None:
    """Futility stops leave the PASS/FAIL boundaries unchanged and can only lower
    P(PASS), P(FAIL) and E[n] at every rate; curtailment alone leaves P(PASS) and
    P(FAIL) exactly unchanged (1e-12) and lowers E[n]."""
    for t, n, k in itertools.product((0.05, 0.2, 0.8), (30, 150), (5, None)):
        plain = sequential_design(t, n, 0.05, direction, k, spending=spending, futility=None,
                                  curtail=False)
        curtailed = sequential_design(t, n, 0.05, direction, k, spending=spending, futility=None)
        full = sequential_design(t, n, 0.05, direction, k, spending=spending, futility=0.2)
        for d in (curtailed, full):
            assert (d.pass_at, d.fail_at) == (plain.pass_at, plain.fail_at)
        for p in np.linspace(0.0, 1.0, 21):
            a = sequential_oc(plain, float(p))
            b = sequential_oc(curtailed, float(p))
            c = sequential_oc(full, float(p))
            assert b[:2] == pytest.approx(a[:2], abs=1e-12)
            assert b[2] <= a[2] + 1e-9 and c[2] <= b[2] + 1e-9
            assert c[0] <= a[0] + 1e-12 and c[1] <= a[1] + 1e-12


def test_futility_stops_somewhere_and_respects_the_rules() -> None:
    """Default designs do stop early; every futility interval lies strictly between the
    FAIL and PASS regions, is None at the last look, and none of its counts has a
    significant stagewise p-value."""
    count = 0
    for t, n, direction in itertools.product((0.05, 0.2, 0.8), (40, 150), DIRECTIONS):
        d = sequential_design(t, n, 0.05, direction)
        count += d.stops_early
        assert d.stop_at == () or d.stop_at[-1] is None
        plan = to_plan(d)
        for j, (a, b) in enumerate(zip(plan.stop_lo, plan.stop_hi, strict=True)):
            for x in range(a, b + 1):
                assert plan.lower[j] < x < plan.upper[j]
                p_claim, p_against = _stagewise(plan, j, x, plan.p0)
                assert not significant(p_claim, 0.05) and not significant(p_against, 0.05)
    assert count >= 8


# --- against brute-force enumeration of every Bernoulli sequence ------------------------


def _word(verdict: Outcome | None) -> str:
    """A stop's verdict as the enumeration's word ('' while the procedure runs on)."""
    return "" if verdict is None else verdict.value.lower()


class Paths:
    """Every 0/1 sequence of length budget, its counts at the looks, and where the
    procedure (run through ``sequential_decide``) stops on it: PASS, FAIL, or
    INCONCLUSIVE (a futility stop, or the budget spent)."""

    def __init__(self, d: SequentialDesign) -> None:
        self.d = d
        budget = d.looks[-1]
        seqs = np.array(list(itertools.product((0, 1), repeat=budget)), dtype=np.int64)
        self.ones = seqs.sum(axis=1)
        self.counts = np.cumsum(seqs, axis=1)[:, [n - 1 for n in d.looks]]
        self.look, self.verdict = self._stops(d)
        self.x = self.counts[np.arange(len(seqs)), self.look]

    def _stops(self, d: SequentialDesign) -> tuple[np.ndarray, np.ndarray]:
        rows = len(self.counts)
        look = np.full(rows, len(d.looks) - 1)
        verdict = np.array([""] * rows, dtype=object)
        running = np.ones(rows, dtype=bool)
        for j, n in enumerate(d.looks):
            table = np.array([_word(sequential_decide(d, j, x)) for x in range(n + 1)],
                             dtype=object)
            v = table[self.counts[:, j]]
            stop = running & (v != "")
            look[stop], verdict[stop] = j, v[stop]
            running &= ~stop
        verdict[running] = "inconclusive"
        return look, verdict

    def prob(self, p: float) -> np.ndarray:
        return np.asarray(p ** self.ones * (1 - p) ** (self.d.looks[-1] - self.ones))


Spec = tuple[float, int, float, str, int | tuple[int, ...]]
SMALL_DESIGNS: list[Spec] = [
    (0.3, 12, 0.1, "greater", 4),
    (0.3, 12, 0.1, "less", 3),
    (0.15, 11, 0.2, "less", (2, 5, 11)),
    (0.6, 10, 0.25, "greater", 5),
    (0.3, 14, 0.1, "greater", 4),
    (0.3, 14, 0.2, "less", 3),
]


def _small(spec: tuple[float, int, float, str, int | tuple[int, ...]], **kw: object
           ) -> SequentialDesign:
    t, n, alpha, direction, looks = spec
    d = sequential_design(t, n, alpha, direction, looks=looks, **kw)  # type: ignore[arg-type]
    assert d.can_pass and d.can_fail  # else the test would check little
    return d


@pytest.mark.parametrize("spec", SMALL_DESIGNS)
@pytest.mark.parametrize("early", [True, False])
def test_operating_characteristics_equal_enumeration(
    spec: tuple[float, int, float, str, int | tuple[int, ...]], early: bool
) -> None:
    """Exact OC (recursion) equal brute-force enumeration of all 2^N sequences (1e-12),
    with and without futility stops."""
    d = _small(spec) if early else _small(spec, **NO_EARLY)
    paths = Paths(d)
    for p in (spec[0], 0.1, 0.5, 0.9):
        w = paths.prob(p)
        want = (w[paths.verdict == "pass"].sum(), w[paths.verdict == "fail"].sum(),
                (w * np.array(d.looks)[paths.look]).sum())
        assert sequential_oc(d, p) == pytest.approx(want, abs=1e-12)


def test_small_designs_include_futility_stops() -> None:
    """The enumeration tests above exercise real futility stops."""
    assert sum(_small(s).stops_early for s in SMALL_DESIGNS) >= 5


def _nb_stagewise(nb: Paths, j: int, x: int, p: float) -> tuple[float, float]:
    """Stagewise p-values of (j, x) in the non-binding design, by enumeration:
    P(PASS before j) + P(reach j, count at least as favourable), each direction."""
    w = nb.prob(p)
    sign = 1 if nb.d.direction == "greater" else -1
    reached = nb.look >= j
    c = sign * nb.counts[:, j]
    claim = ((nb.look < j) & (nb.verdict == "pass")) | (reached & (c >= sign * x))
    against = ((nb.look < j) & (nb.verdict == "fail")) | (reached & (c <= sign * x))
    return float(w[claim].sum()), float(w[against].sum())


def _actual_ordering(paths: Paths, nb: Paths, j: int, x: int, p: float, t: float
                     ) -> tuple[float, float]:
    """Tail probabilities, under the design with its futility stops, of the ordering
    PASS (stagewise) > INCONCLUSIVE (by non-binding stagewise p at t) > FAIL (reverse
    stagewise), by enumeration; and the mirror ordering for the other direction."""
    w = paths.prob(p)
    sign = 1 if paths.d.direction == "greater" else -1
    kind = _word(sequential_decide(paths.d, j, x))
    kind = kind if kind in ("pass", "fail") else "mid"
    vk = np.where(np.isin(paths.verdict, ["pass", "fail"]), paths.verdict, "mid")
    keys = {pt: _nb_stagewise(nb, *pt, t)
            for pt in set(zip(paths.look.tolist(), paths.x.tolist(), strict=True))}
    key_here = _nb_stagewise(nb, j, x, t)
    out = []
    for side, first, last in ((0, "pass", "fail"), (1, "fail", "pass")):
        s = sign if side == 0 else -sign
        key = np.array([keys[pt][side] for pt in zip(paths.look.tolist(), paths.x.tolist(),
                                                      strict=True)])
        here_or_beyond = (paths.look < j) | ((paths.look == j) & (s * paths.x >= s * x))
        later_or_beyond = (paths.look > j) | ((paths.look == j) & (s * paths.x >= s * x))
        if kind == first:
            more = (vk == first) & here_or_beyond
        elif kind == "mid":
            more = (vk == first) | ((vk == "mid") & (key <= key_here[side]))
        else:
            more = (vk != last) | later_or_beyond
        out.append(float(w[more].sum()))
    return out[0], out[1]


@pytest.mark.parametrize("spec", SMALL_DESIGNS)
def test_pvalues_equal_enumeration(
    spec: tuple[float, int, float, str, int | tuple[int, ...]],
) -> None:
    """At every stopping point, ``stagewise_pvalues`` equal (1e-12) the definition computed
    by enumeration: the non-binding stagewise tail, and with futility stops the larger
    of it and the actual design's PASS > INCONCLUSIVE > FAIL tail; and they agree
    with the decisions (significant iff PASS / FAIL; a futility stop never)."""
    t, alpha = spec[0], spec[2]
    for d in (_small(spec, **NO_EARLY), _small(spec)):
        paths, nb = Paths(d), Paths(_non_binding(d))
        for j, x in sorted(set(zip(paths.look.tolist(), paths.x.tolist(), strict=True))):
            want = _nb_stagewise(nb, j, x, t)
            if d.stops_early:
                actual = _actual_ordering(paths, nb, j, x, t, t)
                want = (max(want[0], actual[0]), max(want[1], actual[1]))
            got = stagewise_pvalues(d, j, x)
            assert got == pytest.approx(want, abs=1e-12), (j, x)
            verdict = sequential_decide(d, j, x)
            assert significant(got[0], alpha) == (verdict is Outcome.PASS), (j, x, got)
            assert significant(got[1], alpha) == (verdict is Outcome.FAIL), (j, x, got)


@pytest.mark.parametrize("spec", SMALL_DESIGNS)
def test_interval_coverage_exact_by_enumeration(
    spec: tuple[float, int, float, str, int | tuple[int, ...]],
) -> None:
    """Each one-sided bound misses the true rate with probability <= alpha at every rate
    on a grid (exact: stopping points enumerated, probabilities summed), with futility
    stops: P_q(p_claim(q) < alpha) <= alpha, and the same for ``stagewise_interval``
    itself at a few rates."""
    alpha = spec[2]
    d = _small(spec)
    plan = to_plan(d)
    paths = Paths(d)
    points = sorted(set(zip(paths.look.tolist(), paths.x.tolist(), strict=True)))
    keys = _keys_of(plan)
    for q in np.linspace(0.02, 0.98, 25):
        qq = 1 - q if plan.flip else q
        w = paths.prob(float(q))
        pv = {(j, x): _pvalues(plan, keys, j,
                               d.looks[j] - x if plan.flip else x, float(qq))
              for j, x in points}
        low_miss = sum(float(w[(paths.look == j) & (paths.x == x)].sum())
                       for (j, x), (pc, pa) in pv.items()
                       if (pc if not plan.flip else pa) < alpha)
        high_miss = sum(float(w[(paths.look == j) & (paths.x == x)].sum())
                        for (j, x), (pc, pa) in pv.items()
                        if (pa if not plan.flip else pc) < alpha)
        assert low_miss <= alpha + 1e-12 and high_miss <= alpha + 1e-12, (q, low_miss, high_miss)
    bounds = {pt: stagewise_interval(d, *pt) for pt in points}
    for q in (0.1, spec[0], 0.45, 0.8):
        w = paths.prob(q)
        for side in (0, 1):  # the lower bound above q, the upper bound below q
            miss = sum(float(w[(paths.look == j) & (paths.x == x)].sum())
                       for (j, x), b in bounds.items() if (b[0] > q if side == 0 else b[1] < q))
            assert miss <= alpha + 1e-9, (q, side, miss)


def _keys_of(plan: Plan) -> _Keys | None:
    """The INCONCLUSIVE ordering keys ``stagewise_pvalues`` uses (None: no futility)."""
    return _keys(plan) if plan.stops_early else None


@pytest.mark.parametrize("spec", SMALL_DESIGNS)
def test_curtailment_equals_enumeration_of_continuations(
    spec: tuple[float, int, float, str, int | tuple[int, ...]],
) -> None:
    """'Some later look can still reach PASS or FAIL' (boolean recursion) equals trying
    every continuation of the samples."""
    d = _small(spec, **NO_EARLY)
    plan = to_plan(d)
    reach = _reachable_later(plan.looks, plan.upper, plan.lower)
    for j in range(len(plan.looks) - 1):
        rest = plan.looks[-1] - plan.looks[j]
        for x in range(plan.lower[j] + 1, plan.upper[j]):
            want = False
            for seq in itertools.product((0, 1), repeat=rest):
                cum = x + np.cumsum(seq)
                for i in range(j + 1, len(plan.looks)):
                    y = int(cum[plan.looks[i] - plan.looks[j] - 1])
                    if y >= plan.upper[i] or y <= plan.lower[i]:
                        want = True
                        break
                if want:
                    break
            assert bool(reach[j][x]) == want, (j, x)


@pytest.mark.parametrize("spec", SMALL_DESIGNS[:4])
def test_predictive_probability_equals_posterior_integral(
    spec: tuple[float, int, float, str, int | tuple[int, ...]],
) -> None:
    """The predictive probability of a later verdict (beta-binomial recursion) equals the
    integral over the Jeffreys posterior Beta(1/2 + x, 1/2 + n - x) of the conditional
    probability computed by enumerating the continuations (scipy ``quad`` with the
    Beta weight, ``weight='alg'``), 1e-9."""
    d = _small(spec, **NO_EARLY)
    plan = to_plan(d)
    pred = _predictive_later(plan.looks, plan.upper, plan.lower)
    for j in range(len(plan.looks) - 1):
        n, rest = plan.looks[j], plan.looks[-1] - plan.looks[j]
        seqs = np.array(list(itertools.product((0, 1), repeat=rest)))
        ones = seqs.sum(axis=1)
        for x in range(plan.lower[j] + 1, plan.upper[j]):
            hit = np.zeros(len(seqs), dtype=bool)
            running = np.ones(len(seqs), dtype=bool)
            for i in range(j + 1, len(plan.looks)):
                y = x + seqs[:, : plan.looks[i] - n].sum(axis=1)
                crossed = running & ((y >= plan.upper[i]) | (y <= plan.lower[i]))
                hit |= crossed
                running &= ~crossed

            def cp(q: float, k: np.ndarray = ones[hit], m: int = rest) -> float:
                return float((q ** k * (1 - q) ** (m - k)).sum())

            a, b = 0.5 + x, 0.5 + n - x  # posterior q^(a-1) (1-q)^(b-1) / B(a, b)
            want = integrate.quad(cp, 0, 1, weight="alg", wvar=(a - 1, b - 1),
                                  epsabs=1e-13, epsrel=1e-12)[0] / special.beta(a, b)
            assert pred[j][x] == pytest.approx(want, abs=1e-9), (j, x)


# --- decisions, p-values and intervals agree on realistic designs ------------------------


def _stopping_points(d: SequentialDesign) -> list[tuple[int, int]]:
    """Every (look, count) where the procedure can stop, found by following which
    counts are still running after each look (independently of the recursion)."""
    points: list[tuple[int, int]] = []
    running, prev = {0}, 0
    for j, n in enumerate(d.looks):
        reach = {y + i for y in running for i in range(n - prev + 1)}
        last = j == len(d.looks) - 1
        points += [(j, x) for x in sorted(reach) if last or sequential_decide(d, j, x) is not None]
        running, prev = {x for x in reach if sequential_decide(d, j, x) is None}, n
    return points


@pytest.mark.parametrize("t", [0.05, 0.2, 0.8])
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("k", [2, 5, None])
def test_pvalue_agrees_with_decision_at_every_stop(
    t: float, direction: str, k: int | None
) -> None:
    """At every stopping point: significant(p_claim) iff PASS, significant(p_against) iff
    FAIL; futility stops (INCONCLUSIVE) and the spent budget are significant in neither."""
    d = sequential_design(t, 150, 0.05, direction, looks=k)
    kinds = set()
    for j, x in _stopping_points(d):
        verdict = sequential_decide(d, j, x)
        kinds.add(verdict)
        p_claim, p_against = stagewise_pvalues(d, j, x)
        assert significant(p_claim, d.alpha) == (verdict is Outcome.PASS), (j, x, p_claim)
        assert significant(p_against, d.alpha) == (verdict is Outcome.FAIL), (j, x, p_against)
    assert {Outcome.PASS, Outcome.FAIL} <= kinds


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_interval_agrees_with_decision(direction: str) -> None:
    """The stagewise bound on the claim's side clears the threshold iff PASS (futility
    stops included)."""
    t, alpha = 0.2, 0.05
    d = sequential_design(t, 120, alpha, direction, looks=4)
    assert d.stops_early
    points = _stopping_points(d)
    edges = [(j, x) for j, x in points  # the counts on either side of each boundary
             if any(0 <= y <= d.looks[j]
                    and sequential_decide(d, j, y) != sequential_decide(d, j, x)
                    for y in (x - 1, x + 1))]
    for j, x in sorted(set(edges + points[::6])):
        verdict = sequential_decide(d, j, x)
        low, high = stagewise_interval(d, j, x)
        assert 0.0 <= low <= high <= 1.0
        cleared = low > t if direction == "greater" else high < t
        assert cleared == (verdict is Outcome.PASS), (j, x, low, high)
        refuted = high < t if direction == "greater" else low > t
        assert refuted == (verdict is Outcome.FAIL), (j, x, low, high)


@pytest.mark.parametrize("futility", [None, DEFAULT_FUTILITY])
def test_pvalues_increasing_in_rate(futility: float | None) -> None:
    """The p-values the intervals invert are monotone in the true rate (so each bound is
    the unique root), with and without futility stops."""
    d = sequential_design(0.3, 100, 0.05, "greater", looks=5, futility=futility)
    plan = to_plan(d)
    keys = _keys_of(plan)
    rates = np.linspace(0.0, 1.0, 101)
    points = [(0, 10), (1, 17), (2, 20), (4, 30), (4, 40)]
    if plan.stops_early:
        points += [(j, plan.stop_lo[j]) for j in range(4) if plan.stop_lo[j] <= plan.stop_hi[j]]
    for j, x in points:
        pv = [_pvalues(plan, keys, j, x, float(p)) for p in rates]
        up = [a for a, _ in pv]
        down = [b for _, b in pv]
        assert np.all(np.diff(up) >= -1e-12) and np.all(np.diff(down) <= 1e-12), (j, x)


def test_sequential_inference_bundles_the_pieces() -> None:
    """``sequential_inference`` reports the stagewise p-values and interval, by direction,
    and says when it stopped for futility."""
    for direction in DIRECTIONS:
        d = sequential_design(0.2, 100, 0.05, direction, looks=5)
        x = 30 if direction == "greater" else 5
        inf = sequential_inference(d, 2, x)
        p_claim, p_against = stagewise_pvalues(d, 2, x)
        assert inf.p_for(direction) == p_claim
        assert inf.p_for("less" if direction == "greater" else "greater") == p_against
        assert (inf.low, inf.high) == stagewise_interval(d, 2, x)
        assert inf.estimate == x / 60 and inf.units == 60 and inf.null == 0.2
        assert "Hwang-Shih-DeCani" in inf.method and "futility" in inf.method
    d = sequential_design(0.2, 100, 0.05, "greater", looks=5)
    j = next(i for i, s in enumerate(d.stop_at) if s is not None)
    stop = d.stop_at[j]
    assert stop is not None
    inf = sequential_inference(d, j, stop[0])
    assert sequential_decide(d, j, stop[0]) is Outcome.INCONCLUSIVE
    assert "futility" in (inf.note or "")
    assert inf.low <= 0.2 <= inf.high


# --- simulation of the actual stopping procedure -----------------------------------------

CODE = {Outcome.PASS: 1, Outcome.FAIL: -1, Outcome.INCONCLUSIVE: 2, None: 0}


def _simulate(d: SequentialDesign, p: float, runs: int, seed: int) -> np.ndarray:
    """Run the procedure ``runs`` times through ``sequential_decide`` (vectorised):
    (verdict code, n) rows, verdict 1 = pass, -1 = fail, 0 = inconclusive."""
    rng = np.random.default_rng(seed)
    steps = np.diff((0, *d.looks))
    counts = np.cumsum(rng.binomial(steps, p, size=(runs, len(steps))), axis=1)
    verdict = np.zeros(runs, dtype=int)
    used = np.full(runs, d.looks[-1])
    running = np.ones(runs, dtype=bool)
    for j, n in enumerate(d.looks):
        table = np.array([CODE[sequential_decide(d, j, x)] for x in range(n + 1)])
        v = table[counts[:, j]]
        stop = running & (v != 0)
        verdict[stop], used[stop] = v[stop], n
        running &= ~stop
    verdict[verdict == 2] = 0  # a futility stop is INCONCLUSIVE
    return np.column_stack([verdict, used])


def _within_3se(sample: np.ndarray, exact: float, sd: float | None = None) -> bool:
    """|simulated mean - exact| <= 3 SE; sd defaults to the sample's (pass the exact
    Bernoulli sd for proportions, so a rare event that never occurs is not a zero-SE miss)."""
    sd = float(sample.std(ddof=1)) if sd is None else sd
    return abs(float(sample.mean()) - exact) <= 3 * sd / math.sqrt(len(sample)) + 1e-12


@pytest.mark.parametrize(
    ("t", "p1", "direction"),
    [(0.2, 0.5, "greater"), (0.05, 0.01, "less"), (0.8, 0.95, "greater"), (0.5, 0.4, "less")],
)
def test_simulated_procedure_matches_exact_and_planner(t: float, p1: float, direction: str) -> None:
    """Default design (futility on): simulated PASS/FAIL rates and mean n (through
    ``sequential_decide``) agree with the exact operating characteristics within 3 SE, at the
    threshold (type-I) and at p1 (power); the simulated type-I errors are <= alpha +
    3 SE and the simulated power is within 0.03 of the planner's prediction
    (``sequential_budget_for_power`` promises >= 80%, futility stops included)."""
    alpha, runs = 0.05, 20_000
    budget = sequential_budget_for_power(t, p1, alpha, 0.8)
    d = sequential_design(t, budget, alpha, direction)
    assert d.stops_early
    for i, p in enumerate((t, p1)):
        sim = _simulate(d, p, runs, seed=1000 + i)
        exact = sequential_oc(d, p)
        passed, failed = (sim[:, 0] == 1).astype(float), (sim[:, 0] == -1).astype(float)
        for sample, q in ((passed, exact[0]), (failed, exact[1])):
            assert _within_3se(sample, q, math.sqrt(q * (1 - q))), (p, sample.mean(), exact)
        assert _within_3se(sim[:, 1].astype(float), exact[2]), (p, sim[:, 1].mean(), exact)
        if p == t:
            se = math.sqrt(alpha * (1 - alpha) / runs)
            assert passed.mean() <= alpha + 3 * se and failed.mean() <= alpha + 3 * se
        else:
            assert exact[0] >= 0.8 and abs(passed.mean() - exact[0]) <= 0.03


# --- sequential_budget_for_power --------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "p1"), [(0.2, 0.5), (0.5, 0.8), (0.3, 0.05), (0.05, 0.0), (0.8, 0.95)]
)
def test_budget_for_power_is_smallest(t: float, p1: float) -> None:
    """The returned N reaches the power with the default design (futility included) and
    no smaller N does (brute-force scan from 1)."""
    alpha, power = 0.05, 0.8
    direction = "greater" if p1 > t else "less"
    n = sequential_budget_for_power(t, p1, alpha, power)
    assert sequential_oc(sequential_design(t, n, alpha, direction), p1)[0] >= power
    for m in range(1, n):
        assert sequential_oc(sequential_design(t, m, alpha, direction), p1)[0] < power, m


def test_budget_for_power_k1_is_samples_for_rate() -> None:
    """With one look the planner is the fixed-n one: ``samples_for_rate``."""
    for t, p1 in [(0.2, 0.5), (0.05, 0.01), (0.8, 0.95), (0.5, 0.3)]:
        fixed_n = samples_for_rate(p1, t, 0.05, 0.8)
        assert sequential_budget_for_power(t, p1, 0.05, 0.8, looks=1) == fixed_n


def test_budget_for_power_passes_options_through() -> None:
    """The planner's design is ``sequential_design`` with the same options (the harness rebuilds it
    from the budget alone, so the defaults must agree)."""
    for kw in ({}, NO_EARLY, {"spending": "obf", "futility": None}):
        n = sequential_budget_for_power(0.2, 0.5, 0.05, 0.8, **kw)
        d = sequential_design(0.2, n, 0.05, "greater", **kw)
        assert sequential_oc(d, 0.5)[0] >= 0.8


# --- defaults, edge cases -----------------------------------------------------------------


def test_default_design_is_one_look_per_batch() -> None:
    """Default: one look per 16 samples, DEFAULT_SPENDING, DEFAULT_FUTILITY, curtailment."""
    for n in (1, 16, 17, 100, 181):
        d = sequential_design(0.2, n, 0.05, "greater")
        assert len(d.looks) == default_looks(n) == math.ceil(n / 16)
        assert max(np.diff((0, *d.looks))) <= 16
        assert d.spending == DEFAULT_SPENDING and d.futility == DEFAULT_FUTILITY
        assert d == sequential_design(0.2, n, 0.05, "greater", looks=math.ceil(n / 16))


@pytest.mark.parametrize("t", [0.0, 1.0, -0.1, 1.5])
def test_threshold_at_the_edge_raises(t: float) -> None:
    with pytest.raises(ValueError, match="no test is possible"):
        sequential_design(t, 100, 0.05, "greater")
    with pytest.raises(ValueError, match="no test is possible"):
        sequential_budget_for_power(t, 0.5, 0.05, 0.8)


def test_invalid_inputs_raise() -> None:
    with pytest.raises(ValueError, match="direction"):
        sequential_design(0.2, 100, 0.05, "two-sided")
    with pytest.raises(ValueError, match="alpha"):
        sequential_design(0.2, 100, 0.6, "greater")
    with pytest.raises(ValueError, match="budget"):
        sequential_design(0.2, 0, 0.05, "greater")
    with pytest.raises(ValueError, match="looks"):
        sequential_design(0.2, 100, 0.05, "greater", looks=0)
    with pytest.raises(ValueError, match="increasing"):
        sequential_design(0.2, 100, 0.05, "greater", looks=(50, 40, 100))
    with pytest.raises(ValueError, match="budget"):
        sequential_design(0.2, 100, 0.05, "greater", looks=(50, 90))
    with pytest.raises(ValueError, match="futility"):
        sequential_design(0.2, 100, 0.05, "greater", futility=1.0)
    d = sequential_design(0.2, 100, 0.05, "greater")
    with pytest.raises(ValueError, match="successes"):
        sequential_decide(d, 0, 21)
    with pytest.raises(ValueError, match="successes"):
        stagewise_pvalues(d, 0, -1)
    with pytest.raises(ValueError, match="look"):
        sequential_decide(d, 7, 0)
    with pytest.raises(ValueError, match="zero effect"):
        sequential_budget_for_power(0.2, 0.2, 0.05, 0.8)
    with pytest.raises(ValueError, match="number of looks"):
        sequential_budget_for_power(0.2, 0.5, 0.05, 0.8, looks=(5, 10))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="overlap"):
        sequential_oc(
            SequentialDesign(0.2, 0.05, "greater", (10,), (3,), (5,)), 0.2)
    with pytest.raises(ValueError, match="strictly between"):
        sequential_oc(
            SequentialDesign(0.2, 0.05, "greater", (5, 10), (4, 5), (0, 1), ((0, 2), None)), 0.2)
    with pytest.raises(ValueError, match="last look"):
        sequential_oc(
            SequentialDesign(0.2, 0.05, "greater", (5, 10), (4, 5), (0, 1), (None, (2, 3))), 0.2)


def test_tiny_budget_exposes_that_it_cannot_pass() -> None:
    """A budget too small for any PASS gives all pass_at None, and P(PASS) = 0."""
    d = sequential_design(0.05, 3, 0.05, "less", looks=5)
    assert d.looks == (1, 2, 3)  # repeated looks dropped
    assert not d.can_pass and all(c is None for c in d.pass_at)
    assert sequential_oc(d, 0.0)[0] == 0.0
    assert sequential_decide(d, 2, 0) is None
    d1 = sequential_design(0.5, 4, 0.05, "greater", looks=1)  # P(X = 4) = 1/16 > 0.05
    assert not d1.can_pass


def test_pvalues_never_nan_and_in_range() -> None:
    """Extreme thresholds and counts give finite p-values in [0, 1] and ordered bounds."""
    for t in (1e-6, 0.01, 0.99, 1 - 1e-6):
        for direction in DIRECTIONS:
            d = sequential_design(t, 200, 0.05, direction, looks=5)
            for j, n in enumerate(d.looks):
                for x in (0, 1, n // 2, n - 1, n):
                    pc, pa = stagewise_pvalues(d, j, x)
                    assert 0.0 <= pc <= 1.0 and 0.0 <= pa <= 1.0
            low, high = stagewise_interval(d, 4, 100)
            assert 0.0 <= low <= high <= 1.0
