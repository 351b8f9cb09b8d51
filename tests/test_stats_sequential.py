"""behavtest.stats.sequential: exact error rates, K = 1 against scipy, and the
recursion against brute-force enumeration and simulation of the stopping rule.

The recursion is behavtest's own code (nothing in scipy/statsmodels computes
group-sequential binomial designs), so it is checked three independent ways:
K = 1 must be scipy's exact binomial test and Clopper-Pearson interval; for
small budgets every Bernoulli sequence is enumerated and run through
``decide``; for realistic budgets the stopping procedure is simulated.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from behavtest.stats.power import significant
from behavtest.stats.sequential import (
    SequentialDesign,
    budget_for_power,
    decide,
    design,
    operating_characteristics,
    sequential_inference,
    stagewise_interval,
    stagewise_pvalues,
)

TOL = 1e-9
DIRECTIONS = ("greater", "less")
PROPERTY = settings(max_examples=60, deadline=None)


def _claim_alt(direction: str) -> str:
    return direction


def _against_alt(direction: str) -> str:
    return "less" if direction == "greater" else "greater"


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
    d = design(t, n, 0.05, direction, looks=1)
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
    d = design(0.3, n, alpha, direction, looks=1)
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
    """K = 1 decide() == comparing scipy ``binomtest`` p-values to alpha with ``significant``."""
    alpha = 0.05
    d = design(t, n, alpha, direction, looks=1)
    for k in range(n + 1):
        p_claim = sps.binomtest(k, n, t, alternative=_claim_alt(direction)).pvalue
        p_against = sps.binomtest(k, n, t, alternative=_against_alt(direction)).pvalue
        want = ("pass" if significant(p_claim, alpha)
                else "fail" if significant(p_against, alpha) else None)
        assert decide(d, 0, k) == want, (k, p_claim, p_against)


# --- exact error rates --------------------------------------------------------------

GRID_T = (0.01, 0.05, 0.2, 0.5, 0.8)
GRID_N = (20, 100, 400)
GRID_K = (1, 2, 5, 10)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("k", GRID_K)
def test_error_rates_at_threshold_at_most_alpha(direction: str, k: int) -> None:
    """Exact P(PASS | p = t) <= alpha and P(FAIL | p = t) <= alpha over the grid."""
    for t, n, alpha in itertools.product(GRID_T, GRID_N, (0.05, 0.01)):
        d = design(t, n, alpha, direction, looks=k)
        p_pass, p_fail, en = operating_characteristics(d, t)
        assert p_pass <= alpha and p_fail <= alpha, (t, n, alpha, p_pass, p_fail)
        assert d.looks[0] <= en <= n


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("k", GRID_K)
def test_operating_characteristics_monotone_in_rate(direction: str, k: int) -> None:
    """P(PASS) rises and P(FAIL) falls as the true rate moves to the claim's side."""
    sign = 1.0 if direction == "greater" else -1.0
    for t, n in itertools.product(GRID_T, (20, 100)):
        d = design(t, n, 0.05, direction, looks=k)
        rates = np.linspace(0.0, 1.0, 41)[:: int(sign)]
        oc = [operating_characteristics(d, float(p)) for p in rates]
        pas = np.array([o[0] for o in oc])
        fai = np.array([o[1] for o in oc])
        assert np.all(np.diff(pas) >= -1e-12), (t, n)
        assert np.all(np.diff(fai) <= 1e-12), (t, n)


def test_all_probabilities_sum_to_one() -> None:
    """P(PASS) + P(FAIL) + P(INCONCLUSIVE) = 1, with P(INCONCLUSIVE) from the last look."""
    d = design(0.2, 100, 0.05, "greater", looks=5)
    for p in (0.0, 0.1, 0.2, 0.35, 1.0):
        p_pass, p_fail, _ = operating_characteristics(d, p)
        assert 0.0 <= p_pass + p_fail <= 1.0 + 1e-12


# --- against brute-force enumeration of every Bernoulli sequence ------------------------


def _enumerate(d: SequentialDesign, p: float) -> dict[tuple[int, int], float]:
    """Probability of each stopping point (look, successes), by running every 0/1
    sequence of length budget through ``decide``."""
    out: dict[tuple[int, int], float] = {}
    n_total = d.looks[-1]
    for seq in itertools.product((0, 1), repeat=n_total):
        prob = math.prod(p if s else 1.0 - p for s in seq)
        for j, n in enumerate(d.looks):
            x = sum(seq[:n])
            if decide(d, j, x) is not None or j == len(d.looks) - 1:
                out[(j, x)] = out.get((j, x), 0.0) + prob
                break
    return out


SMALL_DESIGNS = [
    (0.3, 12, 0.1, "greater", 4),
    (0.3, 12, 0.1, "less", 3),
    (0.15, 11, 0.2, "less", (2, 5, 11)),
    (0.6, 10, 0.25, "greater", 5),
]


@pytest.mark.parametrize("spec", SMALL_DESIGNS)
def test_operating_characteristics_equal_enumeration(
    spec: tuple[float, int, float, str, int | tuple[int, ...]],
) -> None:
    """Exact OC (recursion) equal brute-force enumeration of all 2^N sequences (1e-12)."""
    t, n, alpha, direction, looks = spec
    d = design(t, n, alpha, direction, looks=looks)
    assert d.can_pass and d.can_fail  # else the test would check nothing
    for p in (t, 0.1, 0.5, 0.9):
        stops = _enumerate(d, p)
        want_pass = sum(v for (j, x), v in stops.items() if decide(d, j, x) == "pass")
        want_fail = sum(v for (j, x), v in stops.items() if decide(d, j, x) == "fail")
        want_n = sum(d.looks[j] * v for (j, _), v in stops.items())
        got = operating_characteristics(d, p)
        assert got == pytest.approx((want_pass, want_fail, want_n), abs=1e-12)


def _more_extreme_up(a: tuple[int, int], b: tuple[int, int], d: SequentialDesign) -> bool:
    """Stagewise ordering, towards the claim: is stopping point a at least as extreme as b?"""
    (ja, xa), (jb, xb) = a, b
    sign = 1 if d.direction == "greater" else -1
    if ja < jb:
        return decide(d, ja, xa) == "pass"
    if ja > jb:  # a later stop is more extreme than an early FAIL, less than an early PASS
        return decide(d, jb, xb) == "fail"
    return sign * xa >= sign * xb


@pytest.mark.parametrize("spec", SMALL_DESIGNS)
def test_stagewise_pvalues_equal_enumeration(
    spec: tuple[float, int, float, str, int | tuple[int, ...]],
) -> None:
    """Stagewise p-values equal the ordering's tail probability summed over every
    enumerated stopping point (1e-12), and agree with the decisions."""
    t, n, alpha, direction, looks = spec
    d = design(t, n, alpha, direction, looks=looks)
    stops = _enumerate(d, t)
    flipped = SequentialDesign(t, alpha, "less" if direction == "greater" else "greater",
                               d.looks, d.fail_at, d.pass_at)  # same regions, roles swapped
    for point in stops:
        want_claim = sum(v for q, v in stops.items() if _more_extreme_up(q, point, d))
        want_against = sum(v for q, v in stops.items() if _more_extreme_up(q, point, flipped))
        p_claim, p_against = stagewise_pvalues(d, *point)
        assert (p_claim, p_against) == pytest.approx((want_claim, want_against), abs=1e-12)
        verdict = decide(d, *point)
        assert significant(p_claim, alpha) == (verdict == "pass"), point
        assert significant(p_against, alpha) == (verdict == "fail"), point


# --- decisions, p-values and intervals agree on realistic designs ------------------------


def _stopping_points(d: SequentialDesign) -> list[tuple[int, int]]:
    """Every (look, count) where the procedure can stop, found by following which
    counts are still running after each look (independently of the recursion)."""
    points: list[tuple[int, int]] = []
    running, prev = {0}, 0
    for j, n in enumerate(d.looks):
        reach = {y + i for y in running for i in range(n - prev + 1)}
        last = j == len(d.looks) - 1
        points += [(j, x) for x in sorted(reach) if last or decide(d, j, x) is not None]
        running, prev = {x for x in reach if decide(d, j, x) is None}, n
    return points


@pytest.mark.parametrize("t", [0.05, 0.2, 0.8])
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("k", [2, 5, 10])
def test_pvalue_agrees_with_decision_at_every_stop(t: float, direction: str, k: int) -> None:
    """At every stopping point: significant(p_claim) iff PASS, significant(p_against) iff FAIL."""
    d = design(t, 150, 0.05, direction, looks=k)
    for j, x in _stopping_points(d):
        verdict = decide(d, j, x)
        p_claim, p_against = stagewise_pvalues(d, j, x)
        assert significant(p_claim, d.alpha) == (verdict == "pass"), (j, x, p_claim)
        assert significant(p_against, d.alpha) == (verdict == "fail"), (j, x, p_against)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_interval_agrees_with_decision(direction: str) -> None:
    """The stagewise bound on the claim's side clears the threshold iff PASS."""
    t, alpha = 0.2, 0.05
    d = design(t, 120, alpha, direction, looks=4)
    points = _stopping_points(d)
    edges = [(j, x) for j, x in points  # the counts on either side of each boundary
             if any(0 <= y <= d.looks[j] and decide(d, j, y) != decide(d, j, x)
                    for y in (x - 1, x + 1))]
    for j, x in sorted(set(edges + points[::6])):
        verdict = decide(d, j, x)
        low, high = stagewise_interval(d, j, x)
        assert 0.0 <= low <= high <= 1.0
        cleared = low > t if direction == "greater" else high < t
        assert cleared == (verdict == "pass"), (j, x, low, high)
        refuted = high < t if direction == "greater" else low > t
        assert refuted == (verdict == "fail"), (j, x, low, high)


def test_stagewise_pvalue_increasing_in_rate() -> None:
    """P_p(stop at least as extreme as (j, x)) rises with p: the interval's root is unique."""
    from behavtest.stats.sequential import _stagewise, _to_plan

    d = design(0.3, 100, 0.05, "greater", looks=5)
    plan = _to_plan(d)
    rates = np.linspace(0.0, 1.0, 101)
    for j, x in [(0, 10), (1, 17), (2, 20), (4, 30), (4, 40)]:
        up = [_stagewise(plan, j, x, float(p))[0] for p in rates]
        down = [_stagewise(plan, j, x, float(p))[1] for p in rates]
        assert np.all(np.diff(up) >= -1e-12) and np.all(np.diff(down) <= 1e-12)


def test_sequential_inference_bundles_the_pieces() -> None:
    """``sequential_inference`` reports the stagewise p-values and interval, by direction."""
    for direction in DIRECTIONS:
        d = design(0.2, 100, 0.05, direction, looks=5)
        x = 30 if direction == "greater" else 5
        inf = sequential_inference(d, 2, x)
        p_claim, p_against = stagewise_pvalues(d, 2, x)
        assert inf.p_for(direction) == p_claim
        assert inf.p_for("less" if direction == "greater" else "greater") == p_against
        assert (inf.low, inf.high) == stagewise_interval(d, 2, x)
        assert inf.estimate == x / 60 and inf.units == 60 and inf.null == 0.2


# --- simulation of the actual stopping procedure -----------------------------------------


def _simulate(d: SequentialDesign, p: float, runs: int, seed: int) -> np.ndarray:
    """Run the procedure ``runs`` times through ``decide``: returns (verdict code, n) rows,
    verdict 1 = pass, -1 = fail, 0 = inconclusive."""
    rng = np.random.default_rng(seed)
    steps = np.diff((0, *d.looks))
    counts = np.cumsum(rng.binomial(steps, p, size=(runs, len(steps))), axis=1)
    table = {(j, x): decide(d, j, x) for j, n in enumerate(d.looks) for x in range(n + 1)}
    code = {"pass": 1, "fail": -1, None: 0}
    out = np.zeros((runs, 2), dtype=int)
    last = len(d.looks) - 1
    for r in range(runs):
        for j in range(len(d.looks)):
            v = table[(j, int(counts[r, j]))]
            if v is not None or j == last:
                out[r] = (code[v], d.looks[j])
                break
    return out


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
    """Simulated PASS/FAIL rates and mean n (through ``decide``) agree with the exact
    operating characteristics within 3 SE, at the threshold (type-I) and at p1 (power);
    the simulated type-I error is <= alpha + 3 SE and the simulated power is within
    0.03 of the planner's prediction (``budget_for_power`` promises >= 80%)."""
    alpha, runs = 0.05, 20_000
    budget = budget_for_power(t, p1, alpha, 0.8, looks=5)
    d = design(t, budget, alpha, direction, looks=5)
    for i, p in enumerate((t, p1)):
        sim = _simulate(d, p, runs, seed=1000 + i)
        exact = operating_characteristics(d, p)
        passed, failed = (sim[:, 0] == 1).astype(float), (sim[:, 0] == -1).astype(float)
        for sample, q in ((passed, exact[0]), (failed, exact[1])):
            assert _within_3se(sample, q, math.sqrt(q * (1 - q))), (p, sample.mean(), exact)
        assert _within_3se(sim[:, 1].astype(float), exact[2]), (p, sim[:, 1].mean(), exact)
        if p == t:
            se = math.sqrt(alpha * (1 - alpha) / runs)
            assert passed.mean() <= alpha + 3 * se and failed.mean() <= alpha + 3 * se
        else:
            # the planner promises >= 80%; its prediction is the exact power at this N
            assert exact[0] >= 0.8 and abs(passed.mean() - exact[0]) <= 0.03


# --- budget_for_power -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "p1"), [(0.2, 0.5), (0.5, 0.8), (0.3, 0.05), (0.05, 0.0), (0.8, 0.95)]
)
def test_budget_for_power_is_smallest(t: float, p1: float) -> None:
    """The returned N reaches the power and no smaller N does (brute-force scan from 1)."""
    alpha, power = 0.05, 0.8
    direction = "greater" if p1 > t else "less"
    n = budget_for_power(t, p1, alpha, power, looks=5)
    assert operating_characteristics(design(t, n, alpha, direction), p1)[0] >= power
    for m in range(1, n):
        assert operating_characteristics(design(t, m, alpha, direction), p1)[0] < power, m


def test_budget_for_power_k1_is_samples_for_rate() -> None:
    """With one look the planner is the fixed-n one: ``samples_for_rate``."""
    from behavtest.stats import samples_for_rate

    for t, p1 in [(0.2, 0.5), (0.05, 0.01), (0.8, 0.95), (0.5, 0.3)]:
        assert budget_for_power(t, p1, 0.05, 0.8, looks=1) == samples_for_rate(p1, t, 0.05, 0.8)


# --- edge cases ---------------------------------------------------------------------------


@pytest.mark.parametrize("t", [0.0, 1.0, -0.1, 1.5])
def test_threshold_at_the_edge_raises(t: float) -> None:
    with pytest.raises(ValueError, match="no test is possible"):
        design(t, 100, 0.05, "greater")
    with pytest.raises(ValueError, match="no test is possible"):
        budget_for_power(t, 0.5, 0.05, 0.8)


def test_invalid_inputs_raise() -> None:
    with pytest.raises(ValueError, match="direction"):
        design(0.2, 100, 0.05, "two-sided")
    with pytest.raises(ValueError, match="alpha"):
        design(0.2, 100, 0.6, "greater")
    with pytest.raises(ValueError, match="budget"):
        design(0.2, 0, 0.05, "greater")
    with pytest.raises(ValueError, match="looks"):
        design(0.2, 100, 0.05, "greater", looks=0)
    with pytest.raises(ValueError, match="increasing"):
        design(0.2, 100, 0.05, "greater", looks=(50, 40, 100))
    with pytest.raises(ValueError, match="budget"):
        design(0.2, 100, 0.05, "greater", looks=(50, 90))
    d = design(0.2, 100, 0.05, "greater")
    with pytest.raises(ValueError, match="successes"):
        decide(d, 0, 21)
    with pytest.raises(ValueError, match="successes"):
        stagewise_pvalues(d, 0, -1)
    with pytest.raises(ValueError, match="look"):
        decide(d, 5, 0)
    with pytest.raises(ValueError, match="zero effect"):
        budget_for_power(0.2, 0.2, 0.05, 0.8)
    with pytest.raises(ValueError, match="overlap"):
        operating_characteristics(
            SequentialDesign(0.2, 0.05, "greater", (10,), (3,), (5,)), 0.2)


def test_tiny_budget_exposes_that_it_cannot_pass() -> None:
    """A budget too small for any PASS gives all pass_at None, and P(PASS) = 0."""
    d = design(0.05, 3, 0.05, "less", looks=5)
    assert d.looks == (1, 2, 3)  # repeated looks dropped
    assert not d.can_pass and all(c is None for c in d.pass_at)
    assert operating_characteristics(d, 0.0)[0] == 0.0
    assert decide(d, 2, 0) is None
    d1 = design(0.5, 4, 0.05, "greater", looks=1)  # P(X = 4) = 1/16 > 0.05
    assert not d1.can_pass


def test_pvalues_never_nan_and_in_range() -> None:
    """Extreme thresholds and counts give finite p-values in [0, 1] and ordered bounds."""
    for t in (1e-6, 0.01, 0.99, 1 - 1e-6):
        for direction in DIRECTIONS:
            d = design(t, 200, 0.05, direction, looks=5)
            for j, n in enumerate(d.looks):
                for x in (0, 1, n // 2, n - 1, n):
                    pc, pa = stagewise_pvalues(d, j, x)
                    assert 0.0 <= pc <= 1.0 and 0.0 <= pa <= 1.0
            low, high = stagewise_interval(d, 4, 100)
            assert 0.0 <= low <= high <= 1.0
