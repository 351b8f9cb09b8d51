"""Suite-level statistics: multiplicity correction, equivalence (TOST) and
checkpoint-series tests.

Where behavtest delegates to scipy/statsmodels, the test compares with the
library to 1e-9 and says which function in its name or docstring. Where it
computes something itself (Holm, the Miettinen-Nurminen restricted MLE, exact
TOST power, the series tests), the test recomputes it independently: brute
force over every outcome, a numerical root of the likelihood equation, an
exact convolution, or a seeded vectorised simulation. Simulations check
type-I error <= alpha + 3 binomial standard errors and power within 0.03 of
the planner.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from bench_modules import load as load_bench
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from scipy.optimize import brentq
from statsmodels.stats.contingency_tables import Table
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import test_proportions_2indep as sm_score_test
from statsmodels.stats.weightstats import DescrStatsW, ttost_ind, ttost_paired

from behavtest.stats.binomial import binomial_pvalue, clopper_pearson, one_sided_bounds
from behavtest.stats.equivalence import binomial_tost_power, samples_for_equivalence, tost
from behavtest.stats.multiplicity import adjust, adjust_families
from behavtest.stats.power import significant
from behavtest.stats.result import Inference, Outcome, decide
from behavtest.stats.series import mean_rate_test, peak_test, trend_test
from behavtest.stats.two_sample import score_bound, score_pvalue_2indep

# TOST from the raw data, kept in bench for the calibration study (the harness
# builds its TOST from the tests it picks, with ``tost``).
TOST = load_bench("tost")
Equivalence = TOST.Equivalence
binomial_tost = TOST.binomial_tost
difference_tost_paired = TOST.difference_tost_paired
difference_tost_welch = TOST.difference_tost_welch
mean_tost = TOST.mean_tost

TOL = 1e-9
ALPHA = 0.05
PROPERTY = settings(max_examples=60, deadline=None)


def _allowance(alpha: float, reps: int) -> float:
    """alpha + 3 binomial standard errors of a simulated rejection rate."""
    return alpha + 3.0 * math.sqrt(alpha * (1.0 - alpha) / reps)


def _pass_rate_by_k(
    ks: np.ndarray, decide: Callable[[int], bool]
) -> float:
    """Share of simulated counts for which ``decide`` is true, calling the real
    function once per distinct count (the decision depends only on k)."""
    uniq, inv = np.unique(ks, return_inverse=True)
    dec = np.array([decide(int(k)) for k in uniq])
    return float(dec[inv].mean())


# ============================================================== multiplicity

pvalue_lists = st.lists(
    st.one_of(st.sampled_from([0.0, 1e-6, 0.01, 0.05, 0.5, 1.0]), st.floats(0.0, 1.0)),
    min_size=0,
    max_size=30,
)


@pytest.mark.parametrize(("method", "sm_method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjust_agrees_with_statsmodels_multipletests(method: str, sm_method: str) -> None:
    """``adjust`` equals statsmodels ``multipletests(p, method=...)[1]`` (ties, 0, 1 included)."""
    rng = np.random.default_rng(1)
    cases = [rng.uniform(size=m) ** 3 for m in (1, 2, 5, 20, 100)]
    cases += [np.array([0.01, 0.01, 0.04, 0.04, 0.5, 1.0, 0.0]), np.array([0.3] * 6)]
    for ps in cases:
        ours = adjust(list(ps), method)
        ref = multipletests(ps, method=sm_method)[1]
        np.testing.assert_allclose(ours, ref, rtol=TOL, atol=TOL)


def test_adjust_none_empty_and_invalid() -> None:
    assert adjust([0.2, 0.01], "none") == [0.2, 0.01]
    assert adjust([], "holm") == [] and adjust([], "bh") == [] and adjust([], "none") == []
    assert adjust_families([], [], "holm") == []
    with pytest.raises(ValueError, match="not one of"):
        adjust([0.1], "bonferroni")
    with pytest.raises(ValueError, match="not in"):
        adjust([0.1, 1.2], "holm")
    with pytest.raises(ValueError, match="not in"):
        adjust([math.nan], "bh")
    with pytest.raises(ValueError, match="lengths must match"):
        adjust_families([0.1, 0.2], ["a"], "holm")


@PROPERTY
@given(pvalue_lists, st.sampled_from(["holm", "bh", "none"]))
def test_adjust_properties(ps: list[float], method: str) -> None:
    """Adjusted >= raw, <= 1, same order as the raw p-values, same length."""
    adj = adjust(ps, method)
    assert len(adj) == len(ps)
    for p, a in zip(ps, adj, strict=True):
        assert p - 1e-15 <= a <= 1.0
    for i in range(len(ps)):
        for j in range(len(ps)):
            if ps[i] <= ps[j]:
                assert adj[i] <= adj[j] + 1e-15


@PROPERTY
@given(
    st.lists(st.tuples(st.floats(0.0, 1.0), st.sampled_from("abc")), max_size=25),
    st.sampled_from(["holm", "bh"]),
    st.randoms(use_true_random=False),
)
def test_adjust_families_per_family_and_order_free(
    items: list[tuple[float, str]], method: str, rnd: object
) -> None:
    """Each family is adjusted on its own (= ``adjust`` of that family), and a
    shuffled input gives every item the same adjusted value."""
    ps = [p for p, _ in items]
    fams = [f for _, f in items]
    adj = adjust_families(ps, fams, method)
    for fam in set(fams):
        idx = [i for i, f in enumerate(fams) if f == fam]
        alone = adjust([ps[i] for i in idx], method)
        assert [adj[i] for i in idx] == pytest.approx(alone, rel=TOL, abs=1e-15)
    perm = list(range(len(items)))
    rnd.shuffle(perm)  # type: ignore[attr-defined]
    adj2 = adjust_families([ps[i] for i in perm], [fams[i] for i in perm], method)
    for pos, i in enumerate(perm):
        assert adj2[pos] == adj[i]  # exactly equal: deterministic


def _fwer(pvals: np.ndarray, method: str) -> float:
    """Share of suites (rows) with at least one rejection after ``adjust``."""
    hits = 0
    for row in pvals:
        if any(significant(a, ALPHA) for a in adjust(list(row), method)):
            hits += 1
    return hits / pvals.shape[0]


def test_fwer_holm_independent_exact_binomial_at_boundary() -> None:
    """20 one-sided exact binomial tests, every null true AT its boundary rate
    (n=40, rate 0.2 = threshold): Holm's FWER <= alpha + 3SE."""
    reps, m, n, p0 = 4000, 20, 40, 0.2
    rng = np.random.default_rng(11)
    ks = rng.binomial(n, p0, size=(reps, m))
    pvals = sps.binom.sf(ks - 1, n, p0)
    assert _fwer(pvals, "holm") <= _allowance(ALPHA, reps)


def test_fwer_holm_positively_correlated() -> None:
    """20 one-sided z-tests with equicorrelated (rho=0.5) statistics, all nulls
    true: Holm's FWER <= alpha + 3SE (Holm holds under any dependence)."""
    reps, m, rho = 4000, 20, 0.5
    rng = np.random.default_rng(12)
    z = math.sqrt(rho) * rng.standard_normal((reps, 1)) + math.sqrt(1 - rho) * rng.standard_normal(
        (reps, m)
    )
    pvals = sps.norm.sf(z)
    assert _fwer(pvals, "holm") <= _allowance(ALPHA, reps)
    assert _fwer(pvals, "bh") <= _allowance(ALPHA, reps)  # all-null BH: FDR = FWER


def test_fwer_uncorrected_independent_is_064() -> None:
    """Without correction, 20 independent continuous all-null tests fail a suite
    with probability 1 - 0.95**20 = 0.64; Holm brings it to alpha."""
    reps, m = 4000, 20
    rng = np.random.default_rng(13)
    pvals = rng.uniform(size=(reps, m))
    expected = 1 - (1 - ALPHA) ** m
    se = math.sqrt(expected * (1 - expected) / reps)
    assert abs(_fwer(pvals, "none") - expected) <= 3 * se
    assert _fwer(pvals, "holm") <= _allowance(ALPHA, reps)


# ============================================================== equivalence

margins = st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)).filter(lambda t: t[0] < t[1])


@st.composite
def counts(draw: st.DrawFn, max_n: int = 300) -> tuple[int, int]:
    n = draw(st.integers(1, max_n))
    return draw(st.integers(0, n)), n


def test_binomial_tost_agrees_with_scipy_binomtest() -> None:
    """The TOST p-values are scipy ``binomtest`` one-sided p-values at each margin;
    the interval is Clopper-Pearson at 1 - 2 alpha; the inference is vs the centre."""
    for k, n, low, high in [(430, 861, 0.45, 0.55), (3, 50, 0.0, 0.1), (50, 50, 0.9, 1.0)]:
        e = binomial_tost(k, n, low, high, ALPHA)
        p_lo = sps.binomtest(k, n, low, alternative="greater").pvalue
        p_hi = sps.binomtest(k, n, high, alternative="less").pvalue
        assert e.p_above_low == pytest.approx(p_lo, rel=TOL, abs=TOL)
        assert e.p_below_high == pytest.approx(p_hi, rel=TOL, abs=TOL)
        assert e.p_equivalent == pytest.approx(max(p_lo, p_hi), rel=TOL, abs=TOL)
        out = 2 * min(
            sps.binomtest(k, n, low, alternative="less").pvalue,
            sps.binomtest(k, n, high, alternative="greater").pvalue,
        )
        assert e.p_outside == pytest.approx(min(1.0, out), rel=TOL, abs=TOL)
        ci = clopper_pearson(k, n, 1 - 2 * ALPHA)
        assert (e.inference.low, e.inference.high) == pytest.approx(ci, abs=TOL)
        mid = (low + high) / 2
        assert e.inference.p_greater == pytest.approx(
            sps.binomtest(k, n, mid, alternative="greater").pvalue, rel=TOL, abs=TOL
        )
        assert e.inference.null == mid and e.inference.estimate == k / n


@PROPERTY
@given(counts(), margins, st.sampled_from([0.1, 0.05, 0.01]))
def test_binomial_tost_interval_duality(kn: tuple[int, int], margin: tuple[float, float],
                                        alpha: float) -> None:
    """PASS iff the 1 - 2 alpha Clopper-Pearson interval lies inside (low, high);
    FAIL iff the 1 - alpha interval lies wholly outside; never both."""
    k, n = kn
    low, high = margin
    e = binomial_tost(k, n, low, high, alpha)
    ci_lo, ci_hi = one_sided_bounds(k, n, alpha)
    assert significant(e.p_equivalent, alpha) == (low < ci_lo and ci_hi < high)
    o_lo, o_hi = one_sided_bounds(k, n, alpha / 2)
    assert significant(e.p_outside, alpha) == (o_hi < low or o_lo > high)
    assert e.decision() in (Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE)
    assert not (significant(e.p_equivalent, alpha) and significant(e.p_outside, alpha))


def _binomial_inference(k: int, n: int, null: float) -> Inference:
    """What the harness's one-prompt rate test returns (``selection.against_value``)."""
    low, high = one_sided_bounds(k, n, ALPHA)
    return Inference(
        estimate=k / n, low=low, high=high,
        p_greater=binomial_pvalue(k, n, null, "greater"),
        p_less=binomial_pvalue(k, n, null, "less"),
        method="exact binomial test", null=null, effect="rate", units=n,
    )


def test_tost_of_the_harness_tests_is_the_binomial_tost() -> None:
    """``tost`` over the exact binomial tests at the two margins (what ``within()``
    runs on one prompt) gives the binomial TOST's p-values and verdict, the
    Clopper-Pearson interval, and the margin's low end as null."""
    for k, n, low, high in [(430, 861, 0.45, 0.55), (3, 50, 0.0, 0.1), (50, 50, 0.9, 1.0),
                            (20, 40, 0.1, 0.3), (5, 30, 0.2, 0.4)]:
        e = binomial_tost(k, n, low, high, ALPHA)
        t = tost(_binomial_inference(k, n, low), _binomial_inference(k, n, high), low, high)
        assert (t.p_greater, t.p_less) == (e.p_equivalent, e.p_outside)
        assert decide(t.p_greater, t.p_less, ALPHA) is e.decision()
        assert (t.low, t.high) == (e.inference.low, e.inference.high)
        assert t.null == low and t.method.startswith("TOST (two one-sided tests): ")


def test_binomial_tost_power_equals_brute_force() -> None:
    """``binomial_tost_power`` = sum of binomial pmf over every k at which both
    scipy ``binomtest`` one-sided p-values are significant (and so
    ``binomial_tost`` decides 'pass', checked on a sample of k)."""
    for n, pt, low, high in [
        (100, 0.1, 0.0, 0.2), (100, 0.02, 0.0, 0.05), (300, 0.5, 0.4, 0.6),
        (200, 0.97, 0.9, 1.0), (7, 0.5, 0.1, 0.9), (20, 0.5, 0.45, 0.55),
    ]:
        passing = [
            k for k in range(n + 1)
            if significant(sps.binomtest(k, n, low, alternative="greater").pvalue, ALPHA)
            and significant(sps.binomtest(k, n, high, alternative="less").pvalue, ALPHA)
        ]
        brute = float(sum(sps.binom.pmf(k, n, pt) for k in passing))
        assert binomial_tost_power(n, pt, low, high, ALPHA) == pytest.approx(brute, abs=1e-12)
        for k in range(0, n + 1, max(1, n // 15)):
            passed = binomial_tost(k, n, low, high, ALPHA).decision() is Outcome.PASS
            assert passed == (k in passing)


def test_samples_for_equivalence_at_chance() -> None:
    """Rate at chance (0.5) within +-0.05, alpha 0.05, power 0.8: 861 samples
    (docs/science/index.md, self-recognition); the first n reaching the target."""
    n = samples_for_equivalence(0.5, 0.45, 0.55, ALPHA, 0.8)
    assert n == 861
    assert binomial_tost_power(n, 0.5, 0.45, 0.55, ALPHA) >= 0.8
    assert binomial_tost_power(n - 1, 0.5, 0.45, 0.55, ALPHA) < 0.8
    with pytest.raises(ValueError, match="strictly inside"):
        samples_for_equivalence(0.45, 0.45, 0.55)


def test_binomial_tost_simulation_false_pass_and_power() -> None:
    """At a margin (true rate 0.45 or 0.55) PASS <= alpha + 3SE and FAIL (truth
    inside the closed margin) <= alpha + 3SE; at 0.5, the simulated pass rate
    is within 0.03 of ``binomial_tost_power``."""
    reps, n, low, high = 4000, 861, 0.45, 0.55
    rng = np.random.default_rng(21)
    cache: dict[int, Outcome] = {}

    def decision(k: int) -> Outcome:
        if k not in cache:
            cache[k] = binomial_tost(k, n, low, high, ALPHA).decision()
        return cache[k]

    for p_true in (low, high):
        ks = rng.binomial(n, p_true, size=reps)
        assert _pass_rate_by_k(ks, lambda k: decision(k) is Outcome.PASS) <= _allowance(ALPHA, reps)
        assert _pass_rate_by_k(ks, lambda k: decision(k) is Outcome.FAIL) <= _allowance(ALPHA, reps)
    ks = rng.binomial(n, 0.5, size=reps)
    planned = binomial_tost_power(n, 0.5, low, high, ALPHA)
    assert abs(_pass_rate_by_k(ks, lambda k: decision(k) is Outcome.PASS) - planned) <= 0.03


def test_mean_tost_agrees_with_statsmodels_and_scipy() -> None:
    """p-values equal statsmodels ``DescrStatsW(values).ttost_mean(low, high)``
    (and scipy ``ttest_1samp`` one-sided); interval ``tconfint_mean(2 alpha)``."""
    rng = np.random.default_rng(3)
    for size, mu in ((5, 0.0), (30, 0.3), (200, -0.1)):
        x = rng.normal(mu, 1.0, size)
        e = mean_tost(list(x), -0.5, 0.5, ALPHA)
        pv, (_, p1, _), (_, p2, _) = DescrStatsW(x).ttost_mean(-0.5, 0.5)
        assert e.p_equivalent == pytest.approx(pv, rel=TOL, abs=TOL)
        assert e.p_above_low == pytest.approx(p1, rel=TOL, abs=TOL)
        assert e.p_below_high == pytest.approx(p2, rel=TOL, abs=TOL)
        assert e.p_above_low == pytest.approx(
            sps.ttest_1samp(x, -0.5, alternative="greater").pvalue, rel=TOL, abs=TOL
        )
        lo, hi = DescrStatsW(x).tconfint_mean(alpha=2 * ALPHA)
        assert (e.inference.low, e.inference.high) == pytest.approx((lo, hi), rel=TOL)
        assert e.inference.p_less == pytest.approx(
            sps.ttest_1samp(x, 0.0, alternative="less").pvalue, rel=TOL, abs=TOL
        )
        assert significant(e.p_equivalent, ALPHA) == (lo > -0.5 and hi < 0.5)


def test_paired_and_welch_tost_agree_with_statsmodels() -> None:
    """Paired: statsmodels ``ttost_paired``; Welch: ``ttost_ind(usevar='unequal')``,
    interval ``CompareMeans.tconfint_diff(usevar='unequal')`` (duality checked)."""
    rng = np.random.default_rng(4)
    x = rng.normal(0.1, 1.0, 25)
    y = x + rng.normal(0.0, 0.5, 25)
    e = difference_tost_paired(list(x), list(y), -0.4, 0.4, ALPHA)
    pv, (_, p1, _), (_, p2, _) = ttost_paired(x, y, -0.4, 0.4)
    assert (e.p_equivalent, e.p_above_low, e.p_below_high) == pytest.approx(
        (pv, p1, p2), rel=TOL, abs=TOL
    )
    y2 = rng.normal(0.0, 3.0, 12)
    w = difference_tost_welch(list(x), list(y2), -1.5, 1.5, ALPHA)
    pv, (_, p1, df1), (_, p2, _) = ttost_ind(x, y2, -1.5, 1.5, usevar="unequal")
    assert (w.p_equivalent, w.p_above_low, w.p_below_high) == pytest.approx(
        (pv, p1, p2), rel=TOL, abs=TOL
    )
    assert w.inference.df == pytest.approx(df1, rel=TOL)
    lo, hi = w.inference.low, w.inference.high
    assert significant(w.p_equivalent, ALPHA) == (lo > -1.5 and hi < 1.5)
    # the interval is the 1 - 2 alpha Welch interval: its ends give p = alpha exactly
    assert sps.t.sf((w.inference.estimate - lo) / w.inference.se, df1) == pytest.approx(ALPHA)


def test_equivalence_degenerate_inputs() -> None:
    """No spread information: every p-value 1, INCONCLUSIVE, no NaN; invalid input raises."""
    for e in (
        mean_tost([0.5], 0.0, 1.0),
        mean_tost([0.5, 0.5, 0.5], 0.0, 1.0),
        difference_tost_paired([1.0, 2.0], [1.0, 2.0], -0.1, 0.1),
        difference_tost_welch([1.0, 1.0], [2.0, 2.0], -0.1, 0.1),
        difference_tost_welch([1.0], [2.0, 3.0], -0.1, 0.1),
    ):
        assert isinstance(e, Equivalence)
        assert e.p_equivalent == e.p_outside == 1.0
        assert e.inference.p_greater == e.inference.p_less == 1.0
        assert e.decision() is Outcome.INCONCLUSIVE
    # every outcome 0 on both sides: the score test at delta = 0 is 0/0, p = 1 both ways
    assert score_pvalue_2indep(0, 50, 0, 50, 0.0, "greater") == 1.0
    assert score_pvalue_2indep(0, 50, 0, 50, 0.0, "less") == 1.0
    assert not any(math.isnan(score_pvalue_2indep(0, 50, 0, 50, d, alt))
                   for d in (-0.1, 0.1) for alt in ("greater", "less"))
    with pytest.raises(ValueError, match="at least one value"):
        mean_tost([], 0.0, 1.0)
    with pytest.raises(ValueError, match="differ in length"):
        difference_tost_paired([1.0], [1.0, 2.0], -1, 1)
    with pytest.raises(ValueError, match="low < high"):
        binomial_tost(3, 10, 0.5, 0.4)
    with pytest.raises(ValueError, match="within"):
        binomial_tost(3, 10, -0.1, 0.4)
    with pytest.raises(ValueError, match="must lie in"):
        binomial_tost(11, 10, 0.1, 0.4)
    with pytest.raises(ValueError, match="NaN"):
        mean_tost([1.0, math.nan], 0.0, 1.0)


def test_mean_tost_simulation_false_pass() -> None:
    """True mean exactly at a margin (n=20): one-sample t TOST PASS <= alpha + 3SE."""
    reps = 2000
    rng = np.random.default_rng(22)
    data = rng.normal(0.5, 1.0, size=(reps, 20))
    passes = sum(mean_tost(list(row), -0.5, 0.5, ALPHA).decision() is Outcome.PASS for row in data)
    assert passes / reps <= _allowance(ALPHA, reps)


def test_welch_tost_simulation_false_pass() -> None:
    """True difference exactly at the lower margin, unequal variances (1 vs 9)
    and sizes (40 vs 12), margin wide enough that the upper test almost always
    rejects: Welch TOST PASS <= alpha + 3SE."""
    reps = 2000
    rng = np.random.default_rng(23)
    xs = rng.normal(-2.0, 1.0, size=(reps, 40))
    ys = rng.normal(0.0, 3.0, size=(reps, 12))
    passes = sum(
        difference_tost_welch(list(a), list(b), -2.0, 2.0, ALPHA).decision() is Outcome.PASS
        for a, b in zip(xs, ys, strict=True)
    )
    assert passes / reps <= _allowance(ALPHA, reps)


def _score_p_numeric(k1: int, n1: int, k2: int, n2: int, delta: float, alt: str) -> float:
    """Independent Miettinen-Nurminen score p-value: the restricted MLE as the
    root (scipy brentq) of the likelihood equation in rate2, for 0 < k < n."""
    def score(p2: float) -> float:
        p1 = p2 + delta
        return k1 / p1 - (n1 - k1) / (1 - p1) + k2 / p2 - (n2 - k2) / (1 - p2)
    lo, hi = max(0.0, -delta), min(1.0, 1.0 - delta)
    q2 = brentq(score, lo + 1e-13, hi - 1e-13, xtol=1e-15, rtol=1e-15)
    q1 = q2 + delta
    n = n1 + n2
    se = math.sqrt((q1 * (1 - q1) / n1 + q2 * (1 - q2) / n2) * n / (n - 1))
    z = (k1 / n1 - k2 / n2 - delta) / se
    return float(sps.norm.sf(z) if alt == "greater" else sps.norm.cdf(z))


def test_score_pvalue_agrees_with_numerical_restricted_mle() -> None:
    """The Miettinen-Nurminen score p-value equals an independent computation
    with a numerically solved restricted MLE, for deltas across (-1, 1)."""
    for k1, n1, k2, n2 in [(30, 100, 20, 100), (7, 34, 1, 34), (1, 5, 2, 3), (180, 200, 5, 60)]:
        for delta in (-0.9, -0.5, -0.1, -0.02, 0.03, 0.1, 0.5, 0.9):
            for alt in ("greater", "less"):
                ours = score_pvalue_2indep(k1, n1, k2, n2, delta, alt)
                ref = _score_p_numeric(k1, n1, k2, n2, delta, alt)
                assert ours == pytest.approx(ref, rel=1e-9, abs=1e-12), (k1, n1, k2, n2, delta)


def test_score_pvalue_agrees_with_statsmodels_where_its_mle_is_right() -> None:
    """Equals statsmodels ``test_proportions_2indep(method='score')`` wherever
    statsmodels' restricted MLE solves the likelihood equation: always at
    delta = 0, and (until statsmodels issue #10269 is fixed) only by luck
    elsewhere; the test checks delta = 0 agreement for every table and records
    that the bug still makes statsmodels wrong at delta != 0."""
    disagree = 0
    for k1, n1, k2, n2 in [(30, 100, 20, 100), (7, 34, 1, 34), (1, 5, 2, 3), (0, 10, 4, 12)]:
        for delta in (0.0, -0.1, 0.2):
            r = sm_score_test(k1, n1, k2, n2, value=delta, method="score",
                                        alternative="larger", return_results=True)
            ours = score_pvalue_2indep(k1, n1, k2, n2, delta, "greater")
            if delta == 0.0:
                assert ours == pytest.approx(float(r.pvalue), rel=TOL, abs=TOL)
            elif not math.isclose(ours, float(r.pvalue), rel_tol=1e-6):
                disagree += 1
    assert disagree > 0, "statsmodels #10269 fixed? then delegate to tost_proportions_2indep"


@PROPERTY
@given(counts(80), counts(80), margins.map(lambda m: (2 * m[0] - 1, 2 * m[1] - 1)))
def test_score_tost_interval_duality(
    a: tuple[int, int], b: tuple[int, int], margin: tuple[float, float]
) -> None:
    """The score TOST of ``low < rate1 - rate2 < high`` passes iff the inverted-score
    1 - 2 alpha interval (``score_bound``, as ``clustered_rate_difference`` uses it)
    lies inside (low, high)."""
    (k1, n1), (k2, n2) = a, b
    low, high = margin
    if n1 + n2 < 3 or low <= -1 or high >= 1:
        return
    lo = score_bound(k1, n1, k2, n2, ALPHA, "lower")
    hi = score_bound(k1, n1, k2, n2, ALPHA, "upper")
    if min(abs(lo - low), abs(hi - high)) < 1e-9:
        return  # a tie up to root-finding tolerance
    p_equivalent = max(score_pvalue_2indep(k1, n1, k2, n2, low, "greater"),
                       score_pvalue_2indep(k1, n1, k2, n2, high, "less"))
    assert significant(p_equivalent, ALPHA) == (low < lo and hi < high)
    assert -1.0 <= lo <= k1 / n1 - k2 / n2 <= hi <= 1.0


def test_score_tost_exact_size_at_margin() -> None:
    """Exact size (sum over every pair of counts) of PASS when the true
    difference sits on a margin, n = 200 per arm: <= alpha. The score test is
    asymptotic, so this is checked, not assumed."""
    n = 200
    for p1, p2 in ((0.2, 0.3), (0.4, 0.3)):
        w1 = sps.binom.pmf(np.arange(n + 1), n, p1)
        w2 = sps.binom.pmf(np.arange(n + 1), n, p2)
        k1s = np.nonzero(w1 > 1e-9)[0]
        k2s = np.nonzero(w2 > 1e-9)[0]
        size = 0.0
        for k1 in k1s:
            for k2 in k2s:
                pe = max(score_pvalue_2indep(int(k1), n, int(k2), n, -0.1, "greater"),
                         score_pvalue_2indep(int(k1), n, int(k2), n, 0.1, "less"))
                if significant(pe, ALPHA):
                    size += w1[k1] * w2[k2]
        assert size <= ALPHA + 1e-6


# ============================================================== series

RISE_AND_FADE = (0.17, 0.37, 0.2, 0.1, 0.04)  # like Imran et al.'s (2025) Axolotl series


def test_peak_test_agrees_with_binomtest_and_clopper_pearson() -> None:
    """p_greater = min(1, K min p) and p_less = max p over scipy ``binomtest``
    one-sided p-values; the interval ends are Clopper-Pearson bounds
    (``clopper_pearson``) at alpha/K (lower) and alpha (upper)."""
    ks, ns, t = [12, 30, 5, 0, 9], [100, 120, 40, 10, 100], 0.15
    inf, peak = peak_test(ks, ns, t, ALPHA)
    K = len(ks)
    pairs = list(zip(ks, ns, strict=True))
    pg = [sps.binomtest(k, n, t, alternative="greater").pvalue for k, n in pairs]
    pl = [sps.binomtest(k, n, t, alternative="less").pvalue for k, n in pairs]
    assert inf.p_greater == pytest.approx(min(1.0, K * min(pg)), rel=TOL, abs=TOL)
    assert inf.p_less == pytest.approx(max(pl), rel=TOL, abs=TOL)
    lows = [clopper_pearson(k, n, 1 - 2 * ALPHA / K)[0] for k, n in pairs]
    highs = [clopper_pearson(k, n, 1 - 2 * ALPHA)[1] for k, n in pairs]
    assert inf.low == pytest.approx(max(lows), abs=TOL)
    assert inf.high == pytest.approx(max(highs), abs=TOL)
    assert peak == 1 and inf.estimate == 0.25


@PROPERTY
@given(st.lists(counts(150), min_size=1, max_size=6), st.floats(0.0, 1.0))
def test_peak_test_interval_duality(series: list[tuple[int, int]], t: float) -> None:
    """low > threshold iff p_greater is significant; high < threshold iff p_less is."""
    ks = [k for k, _ in series]
    ns = [n for _, n in series]
    inf, peak = peak_test(ks, ns, t, ALPHA)
    assert significant(inf.p_greater, ALPHA) == (inf.low > t)
    assert significant(inf.p_less, ALPHA) == (inf.high < t)
    assert inf.low <= inf.estimate <= inf.high
    assert inf.estimate == max(k / n for k, n in series) == ks[peak] / ns[peak]


def test_peak_test_type_one_error() -> None:
    """All five checkpoints at the threshold: 'some checkpoint above' rejects
    <= alpha + 3SE. One checkpoint at the threshold and the rest far below:
    'every checkpoint below' rejects <= alpha + 3SE."""
    reps, n, t = 4000, 100, 0.1
    rng = np.random.default_rng(31)
    ks = rng.binomial(n, t, size=(reps, 5))
    rej = sum(significant(peak_test(list(row), [n] * 5, t)[0].p_greater, ALPHA) for row in ks)
    assert rej / reps <= _allowance(ALPHA, reps)
    ks = rng.binomial(n, np.array([0.02, 0.02, t, 0.02, 0.02]), size=(reps, 5))
    rej = sum(significant(peak_test(list(row), [n] * 5, t)[0].p_less, ALPHA) for row in ks)
    assert rej / reps <= _allowance(ALPHA, reps)


def _poisson_binomial_pmf(rates: np.ndarray, n: int) -> np.ndarray:
    pmf = np.array([1.0])
    for r in rates:
        pmf = np.convolve(pmf, sps.binom.pmf(np.arange(n + 1), n, r))
    return pmf


def test_mean_rate_test_exact_size_heterogeneous_rates() -> None:
    """Exact size by convolution (Poisson-binomial pooled count) of both
    one-sided tests when the MEAN rate equals the threshold but the rates
    differ: <= alpha for 300 random rate profiles (Hoeffding 1956)."""
    rng = np.random.default_rng(32)
    checked = 0
    for t in (0.02, 0.1, 0.3, 0.5):
        for n in (5, 20, 100):
            for K in (2, 5):
                for _ in range(13):
                    rates = t * K * rng.dirichlet(np.ones(K) * 0.5)
                    if rates.max() > 1.0:
                        continue
                    pmf = _poisson_binomial_pmf(rates, n)
                    kk = np.arange(K * n + 1)
                    rej_g = sps.binom.sf(kk - 1, K * n, t) < ALPHA * (1 - 1e-9)
                    rej_l = sps.binom.cdf(kk, K * n, t) < ALPHA * (1 - 1e-9)
                    assert pmf[rej_g].sum() <= ALPHA + 1e-12, (t, n, rates)
                    assert pmf[rej_l].sum() <= ALPHA + 1e-12, (t, n, rates)
                    checked += 1
    assert checked > 250
    # the function applies exactly that rule
    inf = mean_rate_test([3, 9, 0], [20, 20, 20], 0.1)
    assert inf.p_greater == pytest.approx(
        sps.binomtest(12, 60, 0.1, alternative="greater").pvalue, rel=TOL
    )
    assert (inf.low, inf.high) == pytest.approx(clopper_pearson(12, 60, 1 - 2 * ALPHA), abs=TOL)


def test_mean_rate_test_simulated_type_one_error_and_unequal_ns() -> None:
    """Heterogeneous rates with mean 0.1 (and a flat series at 0.1): rejection of
    'mean > 0.1' <= alpha + 3SE. Unequal sample sizes raise ValueError."""
    reps, n, t = 4000, 100, 0.1
    rng = np.random.default_rng(33)
    for rates in (np.array([0.02, 0.25, 0.1, 0.1, 0.03]), np.full(5, t)):
        ks = rng.binomial(n, rates, size=(reps, 5))
        rej = sum(significant(mean_rate_test(list(row), [n] * 5, t).p_greater, ALPHA)
                  for row in ks)
        assert rej / reps <= _allowance(ALPHA, reps)
    with pytest.raises(ValueError, match="same sample size"):
        mean_rate_test([1, 2], [10, 20], 0.1)


def test_trend_z_relation_to_statsmodels_linear_by_linear() -> None:
    """Classic Cochran-Armitage z = statsmodels ``Table(table, shift_zeros=False)
    .test_ordinal_association(scores, [0, 1]).zscore * sqrt(N / (N - 1))``."""
    cases = [
        ([17, 37, 20, 10, 4], [100] * 5, None),
        ([0, 3, 9, 14], [30, 25, 40, 33], None),
        ([5, 5, 8, 20, 1], [50, 60, 70, 80, 90], [0.0, 100.0, 300.0, 700.0, 1500.0]),
    ]
    for ks, ns, scores in cases:
        inf = trend_test(ks, ns, scores, ALPHA)
        s = np.arange(len(ks), dtype=float) if scores is None else np.asarray(scores)
        table = np.column_stack([np.subtract(ns, ks), ks])
        r = Table(table, shift_zeros=False).test_ordinal_association(
            row_scores=s, col_scores=np.array([0.0, 1.0])
        )
        big_n = sum(ns)
        z_ca = r.zscore * math.sqrt(big_n / (big_n - 1))
        assert inf.p_greater == pytest.approx(sps.norm.sf(z_ca), rel=TOL, abs=TOL)
        assert inf.p_less == pytest.approx(sps.norm.cdf(z_ca), rel=TOL, abs=TOL)
        assert inf.estimate / inf.se == pytest.approx(z_ca, rel=TOL)
        # slope = n-weighted least squares of the rates on the scores
        slope = np.polyfit(s, np.divide(ks, ns), 1, w=np.sqrt(ns))[0]
        assert inf.estimate == pytest.approx(slope, rel=1e-9)
        # duality with the one-sided tests at slope 0
        assert significant(inf.p_greater, ALPHA) == (inf.low > 0)
        assert significant(inf.p_less, ALPHA) == (inf.high < 0)


def test_trend_test_type_one_error_and_degenerate() -> None:
    """Flat series (rate 0.1, n=100, 5 checkpoints): each one-sided direction
    rejects <= alpha + 3SE. All-zero outcomes: p = 1 both ways; invalid input raises."""
    reps = 4000
    rng = np.random.default_rng(34)
    ks = rng.binomial(100, 0.1, size=(reps, 5))
    infs = [trend_test(list(row), [100] * 5) for row in ks]
    assert sum(significant(i.p_greater, ALPHA) for i in infs) / reps <= _allowance(ALPHA, reps)
    assert sum(significant(i.p_less, ALPHA) for i in infs) / reps <= _allowance(ALPHA, reps)
    z = trend_test([0, 0, 0], [10, 10, 10])
    assert (z.p_greater, z.p_less, z.estimate) == (1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="at least 2"):
        trend_test([1], [10])
    with pytest.raises(ValueError, match="same score"):
        trend_test([1, 2], [10, 10], [1.0, 1.0])
    with pytest.raises(ValueError, match="lengths must match"):
        trend_test([1, 2], [10, 10], [1.0, 2.0, 3.0])


def test_trend_interval_coverage_linear_trend() -> None:
    """Under a true linear trend (0.1 -> 0.3 over 5 checkpoints, n=100) the
    test-based interval's lower and upper bounds each fail <= alpha + 3SE."""
    reps = 4000
    rates = np.linspace(0.1, 0.3, 5)
    true_slope = 0.05
    rng = np.random.default_rng(35)
    ks = rng.binomial(100, rates, size=(reps, 5))
    infs = [trend_test(list(row), [100] * 5) for row in ks]
    assert sum(i.low > true_slope for i in infs) / reps <= _allowance(ALPHA, reps)
    assert sum(i.high < true_slope for i in infs) / reps <= _allowance(ALPHA, reps)


def test_rise_and_fade_detected_by_peak_and_mean_not_by_last_checkpoint() -> None:
    """Axolotl series (0.17, 0.37, 0.2, 0.1, 0.04), n=100 each, claim 'exceeds
    0.1': peak_test and mean_rate_test detect it at the expected counts and in
    >= 95% of simulated runs; the last checkpoint alone does not."""
    n, t = 100, 0.1
    ks = [round(r * n) for r in RISE_AND_FADE]
    inf, peak = peak_test(ks, [n] * 5, t)
    assert significant(inf.p_greater, ALPHA) and peak == 1
    assert significant(mean_rate_test(ks, [n] * 5, t).p_greater, ALPHA)
    assert not significant(sps.binomtest(ks[-1], n, t, alternative="greater").pvalue, ALPHA)
    reps = 1000
    rng = np.random.default_rng(36)
    sims = rng.binomial(n, np.array(RISE_AND_FADE), size=(reps, 5))
    peak_power = np.mean([significant(peak_test(list(r), [n] * 5, t)[0].p_greater, ALPHA)
                          for r in sims])
    mean_power = np.mean([significant(mean_rate_test(list(r), [n] * 5, t).p_greater, ALPHA)
                          for r in sims])
    last_power = np.mean(sps.binom.sf(sims[:, -1] - 1, n, t) < ALPHA)
    assert peak_power >= 0.95 and mean_power >= 0.95 and last_power < 0.01


def test_series_invalid_input() -> None:
    with pytest.raises(ValueError, match="lengths must match"):
        peak_test([1, 2], [10], 0.1)
    with pytest.raises(ValueError, match="at least one checkpoint"):
        peak_test([], [], 0.1)
    with pytest.raises(ValueError, match="must lie in"):
        peak_test([11], [10], 0.1)
    with pytest.raises(ValueError, match="threshold"):
        mean_rate_test([1], [10], 1.5)
