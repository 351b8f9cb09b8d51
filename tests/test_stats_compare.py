"""behavtest.stats.unpaired, paired, t_planning, clustered and rao_scott against
scipy/statsmodels, against brute force, and by simulation (and bench/'s sign-flip
test and planners, which the calibration study uses).

Agreement tests name the library function they agree with (to 1e-9). Where the
modules compute something themselves (Tango's interval, Korn-Graubard), the
test recomputes it independently: a brute-force restricted likelihood for
Tango, statsmodels' cluster-robust OLS variance for Korn-Graubard. The
simulations use the verdict rule ``power.significant`` and allow 3 binomial
standard errors of noise.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import statsmodels.api as sm
from bench_modules import load as load_bench
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy import optimize as sopt
from scipy import stats as sps
from statsmodels.stats import proportion as smprop
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.power import TTestIndPower, TTestPower
from statsmodels.stats.proportion import confint_proportions_2indep

from behavtest.stats.clustered import clustered_mean, clustered_rate, korn_graubard_arrays
from behavtest.stats.paired import (
    _tango_z,
    mcnemar_test,
    paired_rate_difference_interval,
    paired_t_test,
)
from behavtest.stats.power import significant
from behavtest.stats.rao_scott import clustered_rate_difference
from behavtest.stats.t_planning import t_detectable, t_power
from behavtest.stats.two_sample import fisher_pvalue, restricted_mle
from behavtest.stats.unpaired import fisher_test, welch_test

# Kept in bench for the calibration study: the sign-flip test and the planners of
# tests the harness never plans with.
SIGN_FLIP = load_bench("sign_flip")
PLANNERS = load_bench("planners")
sign_flip_test = SIGN_FLIP.sign_flip_test
sign_flip_power = SIGN_FLIP.sign_flip_power
clustered_difference_power = PLANNERS.clustered_difference_power

TOL = 1e-9
PROPERTY = settings(max_examples=60, deadline=None)
FEW = settings(max_examples=20, deadline=None)
ALPHAS = st.sampled_from([0.01, 0.025, 0.05, 0.1])


def close(a: float, b: float, tol: float = TOL) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@st.composite
def two_counts(draw: st.DrawFn, max_n: int = 60) -> tuple[int, int, int, int]:
    n1, n2 = draw(st.integers(1, max_n)), draw(st.integers(1, max_n))
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


floats01 = st.floats(0.0, 1.0, allow_nan=False, width=32)
# Multiples of 1/8: sums and sign flips are exact in floating point, so ties in the
# permutation distribution are exact and a hand enumeration can count them without slack.
eighths = st.integers(0, 8).map(lambda i: i / 8)


@st.composite
def paired_values(
    draw: st.DrawFn, min_m: int = 2, max_m: int = 12, values: st.SearchStrategy[float] = floats01
) -> tuple[list[float], list[float]]:
    m = draw(st.integers(min_m, max_m))
    x = draw(st.lists(values, min_size=m, max_size=m))
    y = draw(st.lists(values, min_size=m, max_size=m))
    return x, y


# ------------------------------------------------------------------ fisher_test


@PROPERTY
@given(two_counts(), ALPHAS)
def test_fisher_null0_equals_scipy_fisher_exact_and_newcombe(
    c: tuple[int, int, int, int], alpha: float
) -> None:
    """null = 0: p-values = scipy fisher_exact (= two_sample.fisher_pvalue); interval =
    statsmodels confint_proportions_2indep(method='newcomb') at 1 - 2*alpha."""
    k1, n1, k2, n2 = c
    r = fisher_test(k1, n1, k2, n2, alpha)
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    assert close(r.p_greater, sps.fisher_exact(table, alternative="greater").pvalue)
    assert close(r.p_less, sps.fisher_exact(table, alternative="less").pvalue)
    assert r.p_greater == fisher_pvalue(k1, n1, k2, n2, "greater")
    low, high = confint_proportions_2indep(
        k1, n1, k2, n2, method="newcomb", compare="diff", alpha=2 * alpha
    )
    assert close(r.low, low) and close(r.high, high)
    assert close(r.estimate, k1 / n1 - k2 / n2)
    assert "Fisher" in r.method and r.null == 0.0


def _fm_at(k1: int, n1: int, k2: int, n2: int, null: float, p2: float) -> tuple[float, float]:
    """Farrington-Manning p-values (greater, less) with the restricted rates (p2 + null, p2)."""
    p1 = p2 + null
    z = (k1 / n1 - k2 / n2 - null) / math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return float(sps.norm.sf(z)), float(sps.norm.cdf(z))


def _fm_brute(k1: int, n1: int, k2: int, n2: int, null: float) -> tuple[float, float]:
    """Farrington-Manning by brute force: restricted MLE by numerical maximisation."""
    lo, hi = max(0.0, -null), min(1.0, 1.0 - null)  # range of p2 with p1 = p2 + null in [0, 1]

    def negloglik(p2: float) -> float:
        p1 = p2 + null
        return -float(sps.binom.logpmf(k1, n1, p1) + sps.binom.logpmf(k2, n2, p2))

    res = sopt.minimize_scalar(negloglik, bounds=(lo, hi), method="bounded",
                               options={"xatol": 1e-13})
    p2 = min((float(res.x), lo, hi), key=negloglik)  # the bounded search never hits an end
    return _fm_at(k1, n1, k2, n2, null, p2)


@PROPERTY
@given(two_counts(), st.sampled_from([-0.3, -0.1, -0.05, 0.05, 0.1, 0.3]))
def test_fisher_nonzero_null_is_farrington_manning(
    c: tuple[int, int, int, int], null: float
) -> None:
    """null != 0: the Farrington-Manning score test equals a brute-force version (restricted
    MLE by numerical maximisation) to 1e-7 (the optimiser's tolerance)."""
    k1, n1, k2, n2 = c
    r = fisher_test(k1, n1, k2, n2, 0.05, null=null)
    g, le = _fm_brute(k1, n1, k2, n2, null)
    assert math.isclose(r.p_greater, g, abs_tol=1e-7)
    assert math.isclose(r.p_less, le, abs_tol=1e-7)
    assert "Farrington-Manning" in r.method and r.null == null


# statsmodels solves its cubic for the restricted rate in closed form, which
# loses about half the digits where the root is double: over this test's whole
# domain its root is up to 2.1e-8 (~1.4 sqrt(machine eps)) from ours.
SM_ROOT_TOL = 1e-7


@PROPERTY
@given(st.integers(1, 60), st.integers(1, 60).flatmap(lambda n: st.tuples(st.integers(0, n),
       st.just(n))), st.sampled_from([-0.3, -0.1, 0.05, 0.2]))
@example(n2=10, kn1=(35, 53), null=-0.3)  # statsmodels' root 0.99999999534, ours exactly 1
def test_farrington_manning_equals_statsmodels_where_its_cubic_is_right(
    n2: int, kn1: tuple[int, int], null: float
) -> None:
    """statsmodels test_proportions_2indep(method='score', correction=False) when k2 ==
    n2: its cubic has count0 where nobs0 belongs (statsmodels issue #10269), and the two
    cubics coincide exactly then. (Elsewhere statsmodels <= 0.15 is wrong, so we compute
    FM.) The reference is only as precise as its root (``SM_ROOT_TOL``), so the
    p-values must agree to 1e-9 plus what its root error alone moves the p-value by:
    the Farrington-Manning p-value at statsmodels' root against that at ours."""
    k1, n1 = kn1
    r = fisher_test(k1, n1, n2, n2, 0.05, null=null)
    ours = restricted_mle(k1, n1, n2, n2, null)
    for side, (alt, p) in enumerate((("larger", r.p_greater), ("smaller", r.p_less))):
        with np.errstate(all="ignore"):
            ref = smprop.test_proportions_2indep(k1, n1, n2, n2, value=null, method="score",
                                                 compare="diff", alternative=alt,
                                                 correction=False)
        assume(not math.isnan(float(ref.pvalue)))
        theirs = float(ref.prop2_null)
        assert abs(theirs - ours) <= SM_ROOT_TOL
        root_error = abs(_fm_at(k1, n1, n2, n2, null, theirs)[side]
                         - _fm_at(k1, n1, n2, n2, null, ours)[side])
        assert close(p, float(ref.pvalue), TOL + root_error)


def test_farrington_manning_published_interval() -> None:
    """Fagerland, Lydersen & Laake (2015, SMMR 24:224) give the score interval without the
    N/(N-1) factor for 7/34 vs 1/34 as (0.028, 0.34): inverting our one-sided p-values at
    0.025 must reproduce that to the printed digits."""
    def p(null: float) -> tuple[float, float]:
        r = fisher_test(7, 34, 1, 34, 0.025, null=null)
        return r.p_greater, r.p_less

    assert p(0.0275)[0] < 0.025 < p(0.0285)[0]
    assert p(0.345)[1] < 0.025 < p(0.335)[1]


def test_rate_tests_reject_invalid_counts() -> None:
    with pytest.raises(ValueError, match="k=11"):
        fisher_test(11, 10, 0, 10, 0.05)
    with pytest.raises(ValueError, match="n=0"):
        fisher_test(0, 0, 0, 10, 0.05)
    with pytest.raises(ValueError, match="null"):
        fisher_test(1, 10, 0, 10, 0.05, null=1.0)
    with pytest.raises(ValueError, match="alpha"):
        fisher_test(1, 10, 0, 10, 0.5)


# ------------------------------------------------------------------ mcnemar_test


@st.composite
def pairs(draw: st.DrawFn, max_n: int = 60) -> tuple[list[bool], list[bool]]:
    n = draw(st.integers(1, max_n))
    x = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    y = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return x, y


@PROPERTY
@given(pairs(), ALPHAS)
def test_mcnemar_equals_binomtest_and_statsmodels_mcnemar(
    xy: tuple[list[bool], list[bool]], alpha: float
) -> None:
    """One-sided p = scipy binomtest(b, b+c, 1/2); the two-sided p built from them equals
    statsmodels mcnemar(exact=True)."""
    x, y = xy
    r = mcnemar_test(x, y, alpha)
    b = sum(xi and not yi for xi, yi in zip(x, y, strict=True))
    c = sum(yi and not xi for xi, yi in zip(x, y, strict=True))
    a = sum(xi and yi for xi, yi in zip(x, y, strict=True))
    d = len(x) - a - b - c
    if b + c:
        assert close(r.p_greater, sps.binomtest(b, b + c, 0.5, alternative="greater").pvalue)
        assert close(r.p_less, sps.binomtest(b, b + c, 0.5, alternative="less").pvalue)
    else:
        assert r.p_greater == r.p_less == 1.0
    two_sided = min(1.0, 2 * min(r.p_greater, r.p_less))
    assert close(two_sided, mcnemar([[a, b], [c, d]], exact=True).pvalue)
    assert close(r.estimate, (b - c) / len(x))
    assert -1.0 <= r.low <= r.estimate <= r.high <= 1.0
    assert r.units == len(x)


def test_mcnemar_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="null"):
        mcnemar_test([True], [False], 0.05, null=0.1)
    with pytest.raises(ValueError, match="pair up"):
        mcnemar_test([True, False], [False], 0.05)
    with pytest.raises(ValueError, match="booleans"):
        mcnemar_test([0.5], [1], 0.05)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="no pairs"):
        mcnemar_test([], [], 0.05)


def _tango_brute_z(delta: float, b: int, c: int, n: int) -> float:
    """Tango's score statistic with the restricted MLE found numerically.

    Under p12 - p21 = delta with p21 = q, the profile log-likelihood of the
    paired table is b log(q + delta) + c log q + (n - b - c) log(1 - 2q - delta)
    (the concordant cells share the remaining mass). Maximised by a bounded
    scalar search, not by Tango's closed-form quadratic root.
    """
    lo, hi = max(0.0, -delta), (1.0 - delta) / 2.0
    conc = n - b - c

    def neg(q: float) -> float:
        out = 0.0
        for count, prob in ((b, q + delta), (c, q), (conc, 1 - 2 * q - delta)):
            if count:
                out -= count * math.log(max(prob, 1e-300))
        return out

    q = float(sopt.minimize_scalar(neg, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-14}).x)
    var = n * (2 * q + delta * (1 - delta))
    return (b - c - n * delta) / math.sqrt(var)


def _tango_brute_interval(b: int, c: int, n: int, confidence: float) -> tuple[float, float]:
    z = float(sps.norm.isf((1 - confidence) / 2))
    est = (b - c) / n
    eps = 1e-9
    low = -1.0 if c == n else sopt.brentq(
        lambda d: _tango_brute_z(d, b, c, n) - z, -1 + eps, est - eps if est > -1 + 2 * eps else est
    )
    high = 1.0 if b == n else sopt.brentq(
        lambda d: _tango_brute_z(d, b, c, n) + z, est + eps if est < 1 - 2 * eps else est, 1 - eps
    )
    return float(low), float(high)


@FEW
@given(st.integers(1, 80).flatmap(
    lambda n: st.tuples(st.integers(0, n), st.integers(0, n), st.just(n))
), st.sampled_from([0.8, 0.9, 0.95]))
def test_tango_interval_equals_brute_force_restricted_mle(
    bcn: tuple[int, int, int], confidence: float
) -> None:
    """Tango's closed-form restricted MLE + root finding = numerical MLE + root finding (1e-6)."""
    b, c, n = bcn
    assume(b + c <= n and 0 < b + c < n)
    low, high = paired_rate_difference_interval(b, c, n, confidence)
    blow, bhigh = _tango_brute_interval(b, c, n, confidence)
    assert math.isclose(low, blow, abs_tol=1e-6) and math.isclose(high, bhigh, abs_tol=1e-6)


def test_tango_published_example_and_mcnemar_reduction() -> None:
    """Bentur et al. (2009) airway data (n12=1, n21=7, N=21): Fagerland, Lydersen & Laake
    (2014) report Tango's 95% interval as -0.517 to -0.026. At delta = 0 the score
    statistic is McNemar's (b - c)/sqrt(b + c)."""
    low, high = paired_rate_difference_interval(1, 7, 21, 0.95)
    assert round(low, 3) == -0.517 and round(high, 3) == -0.026
    for b, c, n in ((1, 7, 21), (12, 3, 40), (5, 5, 10)):
        assert close(_tango_z(0.0, b, c, n), (b - c) / math.sqrt(b + c))


def test_tango_edges_stay_in_range() -> None:
    assert paired_rate_difference_interval(10, 0, 10)[1] == 1.0
    assert paired_rate_difference_interval(0, 10, 10)[0] == -1.0
    low, high = paired_rate_difference_interval(0, 0, 10, 0.9)  # no discordant pair
    z2 = sps.norm.isf(0.05) ** 2
    assert close(high, z2 / (10 + z2), 1e-9) and close(low, -high, 1e-9)  # |d| = z^2/(n+z^2)


# ------------------------------------------------------------------ paired t and sign flip


@PROPERTY
@given(paired_values(), ALPHAS, st.sampled_from([0.0, 0.1, -0.05]))
def test_paired_t_equals_scipy_ttest_rel(
    xy: tuple[list[float], list[float]], alpha: float, null: float
) -> None:
    """p-values = scipy ttest_rel(x - null, y); interval = ttest_rel(x, y).confidence_interval."""
    x, y = xy
    d = [a - b for a, b in zip(x, y, strict=True)]
    assume(max(d) - min(d) > 1e-6)
    r = paired_t_test(x, y, alpha, null=null)
    xs = np.asarray(x) - null
    assert close(r.p_greater, sps.ttest_rel(xs, y, alternative="greater").pvalue)
    assert close(r.p_less, sps.ttest_rel(xs, y, alternative="less").pvalue)
    ci = sps.ttest_rel(x, y).confidence_interval(confidence_level=1 - 2 * alpha)
    assert close(r.low, ci.low) and close(r.high, ci.high)
    assert r.df == len(x) - 1 and r.units == len(x)
    dz = np.mean(d) / np.std(d, ddof=1)
    assert r.note == f"Cohen's d_z = {dz:.3g}"


def test_paired_t_degenerate_inputs() -> None:
    one = paired_t_test([0.5], [0.2], 0.05)
    assert (one.p_greater, one.p_less) == (1.0, 1.0) and one.low == -math.inf
    same = paired_t_test([0.3, 0.5, 0.7], [0.1, 0.3, 0.5], 0.05)  # every difference 0.2 (+-float)
    assert (same.p_greater, same.p_less) == (0.0, 1.0) and same.se == 0.0
    tie = paired_t_test([0.3, 0.5], [0.3, 0.5], 0.05)
    assert (tie.p_greater, tie.p_less) == (1.0, 1.0)
    with pytest.raises(ValueError, match="pair up"):
        paired_t_test([1.0, 2.0], [1.0], 0.05)
    with pytest.raises(ValueError, match="empty"):
        paired_t_test([], [], 0.05)


def _mean(a: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(a, axis=axis)


@FEW
@given(paired_values(min_m=1, max_m=9, values=eighths), st.sampled_from([0.0, 0.125]))
def test_sign_flip_exact_equals_hand_enumeration_and_scipy(
    xy: tuple[list[float], list[float]], null: float
) -> None:
    """Exact case (2**m <= resamples): the p-value is the share of the 2**m sign patterns
    whose sum is at least (at most) the observed one; and = scipy permutation_test."""
    x, y = xy
    r = sign_flip_test(x, y, 0.05, null=null)
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float) - null
    signs = np.array(list(itertools.product([1.0, -1.0], repeat=len(d))))
    sums = (signs * d).sum(axis=1)
    assert r.p_greater == float(np.mean(sums >= d.sum()))
    assert r.p_less == float(np.mean(sums <= d.sum()))
    if len(d) == 1:
        return  # scipy needs two observations; the function enumerates +-d itself
    for alt, p in (("greater", r.p_greater), ("less", r.p_less)):
        ref = sps.permutation_test((d,), _mean, permutation_type="samples", vectorized=True,
                                   n_resamples=20_000, alternative=alt)
        assert close(p, ref.pvalue)


def test_sign_flip_monte_carlo_is_seeded_scipy() -> None:
    """2**m > resamples: Monte Carlo = scipy permutation_test with default_rng(seed)."""
    rng = np.random.default_rng(3)
    x, y = rng.random(16), rng.random(16) * 0.8
    r = sign_flip_test(list(x), list(y), 0.05, resamples=999, seed=7)
    ref = sps.permutation_test((x - y,), _mean, permutation_type="samples", vectorized=True,
                               n_resamples=999, alternative="greater",
                               rng=np.random.default_rng(7))
    assert close(r.p_greater, ref.pvalue)
    assert r.p_greater == sign_flip_test(list(x), list(y), 0.05, resamples=999, seed=7).p_greater
    assert "Monte Carlo" in (r.note or "") and "0.001" in (r.note or "")
    exact = sign_flip_test(list(x), list(y), 0.05, resamples=2**16)
    assert abs(r.p_greater - exact.p_greater) < 4 * math.sqrt(0.25 / 999) + 1 / 1000


def test_sign_flip_states_smallest_p_and_uses_t_interval() -> None:
    x, y = [0.9, 0.8, 0.7, 0.9, 0.6], [0.1, 0.2, 0.3, 0.1, 0.2]
    r = sign_flip_test(x, y, 0.05)
    assert r.p_greater == 1 / 32  # the smallest possible with 5 pairs
    assert "0.0312" in (r.note or "")
    t = paired_t_test(x, y, 0.05)
    assert (r.low, r.high) == (t.low, t.high)


# ------------------------------------------------------------------ unpaired means


@st.composite
def two_samples(draw: st.DrawFn, max_n: int = 10) -> tuple[list[float], list[float]]:
    x = draw(st.lists(floats01, min_size=2, max_size=max_n))
    y = draw(st.lists(floats01, min_size=2, max_size=max_n))
    return x, y


@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")  # scipy, one flat side
@PROPERTY
@given(two_samples(), ALPHAS, st.sampled_from([0.0, 0.1, -0.2]))
def test_welch_equals_scipy_ttest_ind(
    xy: tuple[list[float], list[float]], alpha: float, null: float
) -> None:
    """p-values = scipy ttest_ind(x - null, y, equal_var=False); interval from its
    confidence_interval; df = Welch-Satterthwaite df."""
    x, y = xy
    assume(np.ptp(x) > 1e-6 or np.ptp(y) > 1e-6)
    r = welch_test(x, y, alpha, null=null)
    xs = np.asarray(x) - null
    assert close(r.p_greater, sps.ttest_ind(xs, y, equal_var=False, alternative="greater").pvalue)
    assert close(r.p_less, sps.ttest_ind(xs, y, equal_var=False, alternative="less").pvalue)
    res = sps.ttest_ind(x, y, equal_var=False)
    ci = res.confidence_interval(confidence_level=1 - 2 * alpha)
    assert close(r.low, ci.low) and close(r.high, ci.high)
    assert r.df is not None and close(r.df, float(res.df))


def test_welch_hedges_g_against_textbook_formula() -> None:
    """Hedges' g with the exact J = Gamma(df/2)/(sqrt(df/2) Gamma((df-1)/2)) (Hedges 1981);
    within 1e-3 of the usual approximation J = 1 - 3/(4 df - 1)."""
    x, y = [0.9, 0.7, 0.8, 0.95], [0.5, 0.6, 0.4, 0.55, 0.5]
    df = len(x) + len(y) - 2
    sp = math.sqrt(((len(x) - 1) * np.var(x, ddof=1) + (len(y) - 1) * np.var(y, ddof=1)) / df)
    d = (np.mean(x) - np.mean(y)) / sp
    j = math.gamma(df / 2) / (math.sqrt(df / 2) * math.gamma((df - 1) / 2))
    assert welch_test(x, y, 0.05).note == f"Hedges' g = {j * d:.3g}"
    assert abs(j - (1 - 3 / (4 * df - 1))) < 1e-3


def test_welch_degenerate_inputs() -> None:
    one = welch_test([0.5], [0.1, 0.2], 0.05)
    assert (one.p_greater, one.p_less) == (1.0, 1.0)
    assert (one.low, one.high) == (-math.inf, math.inf)
    flat = welch_test([0.5, 0.5], [0.2, 0.2, 0.2], 0.05)
    assert (flat.p_greater, flat.p_less) == (0.0, 1.0) and flat.low == flat.high
    assert close(flat.low, 0.3)
    flat_null = welch_test([0.5, 0.5], [0.2, 0.2, 0.2], 0.05, null=0.3)  # 0.5 - 0.2 != 0.3 in
    assert (flat_null.p_greater, flat_null.p_less) == (1.0, 1.0)  # floats: no spurious p = 0
    half = welch_test([0.5, 0.5], [0.2, 0.3, 0.1], 0.05)  # one side without spread: fine
    assert not math.isnan(half.p_greater) and 0.0 < half.p_greater < 1.0
    with pytest.raises(ValueError, match="empty"):
        welch_test([], [0.1, 0.2], 0.05)


# ------------------------------------------------------------------ t power


@pytest.mark.parametrize("n", [3, 5, 10, 30])
@pytest.mark.parametrize("d", [0.2, 0.5, 1.0])
def test_t_power_equals_statsmodels(n: int, d: float) -> None:
    """One-sample: statsmodels TTestPower (se = 1/sqrt(n), df = n - 1). Two-sample:
    TTestIndPower (se = sqrt(1/n1 + 1/n2), df = n1 + n2 - 2)."""
    assert close(t_power(d, 1 / math.sqrt(n), n - 1, 0.05),
                 TTestPower().power(d, n, 0.05, alternative="larger"))
    n2 = 2 * n
    assert close(t_power(-d, math.sqrt(1 / n + 1 / n2), n + n2 - 2, 0.05),
                 TTestIndPower().power(d, n, 0.05, ratio=2.0, alternative="larger"))


@pytest.mark.parametrize("n", [3, 5, 10, 30])
@pytest.mark.parametrize("power", [0.5, 0.8, 0.95])
def test_t_detectable_inverts_t_power(n: int, power: float) -> None:
    """t_power(t_detectable(...)) = power to 1e-9; within 1e-5 of statsmodels
    TTestPower.solve_power (whose own root-finder stops at about that tolerance)."""
    se, df = 1 / math.sqrt(n), n - 1
    e = t_detectable(se, df, 0.05, power)
    assert close(t_power(e, se, df, 0.05), power)
    ref = TTestPower().solve_power(nobs=n, alpha=0.05, power=power, alternative="larger")
    assert math.isclose(e, float(ref), abs_tol=1e-5)
    assert t_detectable(se, df, 0.05, 0.04) == 0.0
    assert close(t_power(1.0, 0.5, math.inf, 0.05), sps.norm.sf(sps.norm.isf(0.05) - 2.0), 1e-8)


def test_paired_t_type1_and_power_match_planner() -> None:
    """Simulation (normal differences, n = 10, 4000 reps): type-I <= alpha + 3 SE at
    effect 0, and power within 0.03 of t_power at the effect t_detectable promises 80% for.
    The vectorised p-values are checked against paired_t_test on the first 30 reps."""
    rng = np.random.default_rng(11)
    reps, n, alpha = 4000, 10, 0.05
    se = 1 / math.sqrt(n)
    effect = t_detectable(se, n - 1, alpha, 0.8)
    for true, target in ((0.0, None), (effect, t_power(effect, se, n - 1, alpha))):
        d = rng.normal(true, 1.0, size=(reps, n))
        t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(n))
        p = sps.t.sf(t, n - 1)
        for i in range(30):
            assert close(paired_t_test(list(d[i]), [0.0] * n, alpha).p_greater, float(p[i]))
        rate = float(np.mean(p < alpha * (1 - 1e-9)))
        if target is None:
            assert rate <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / reps)
        else:
            assert abs(rate - target) <= 0.03


def test_welch_type1_unequal_variances() -> None:
    """Simulation: Welch keeps alpha (+3 SE) with unequal sizes and variances (5 values with
    SD 2 vs 12 with SD 0.5; 20000 reps). Welch's df is an approximation: its true size here
    is about 0.051 (200000-rep check), inside the allowance."""
    rng = np.random.default_rng(12)
    reps, alpha = 20_000, 0.05
    x, y = rng.normal(0, 2.0, size=(reps, 5)), rng.normal(0, 0.5, size=(reps, 12))
    p = sps.ttest_ind(x, y, axis=1, equal_var=False, alternative="greater").pvalue
    assert close(welch_test(list(x[0]), list(y[0]), alpha).p_greater, float(p[0]))
    assert np.mean(p < alpha * (1 - 1e-9)) <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / reps)


# ------------------------------------------------------------------ clustered_rate


@st.composite
def clusters(draw: st.DrawFn, min_m: int = 1, max_m: int = 8) -> tuple[list[int], list[int]]:
    m = draw(st.integers(min_m, max_m))
    n = draw(st.lists(st.integers(1, 25), min_size=m, max_size=m))
    k = [draw(st.integers(0, nj)) for nj in n]
    return k, n


def _cr1_variance(k: list[int], n: list[int]) -> float:
    """statsmodels OLS of the 0/1 outcomes on a constant, cov_type='cluster' (CR1)."""
    y = np.concatenate([np.r_[np.ones(kj), np.zeros(nj - kj)] for kj, nj in zip(k, n, strict=True)])
    g = np.repeat(np.arange(len(n)), n)
    res = sm.OLS(y, np.ones_like(y)).fit(cov_type="cluster", cov_kwds={"groups": g})
    return float(res.cov_params()[0, 0])


@PROPERTY
@given(clusters(min_m=2), ALPHAS, st.floats(0.01, 0.99))
def test_clustered_rate_is_korn_graubard_with_statsmodels_cr1_variance(
    kn: tuple[list[int], list[int]], alpha: float, null: float
) -> None:
    """v = statsmodels OLS cluster-robust (CR1) variance to 1e-9; the rest recomputed from
    R survey's svyciprop(method='beta') formula with that variance (+ the cap at N)."""
    k, n = kn
    r = clustered_rate(k, n, null, alpha)
    v = _cr1_variance(k, n)
    big_n, m = sum(n), len(n)
    p = sum(k) / big_n
    assert r.se is not None and close(r.se**2, v)
    if 0 < p < 1 and v > 1e-15:
        n_eff = p * (1 - p) / v * (sps.t.ppf(alpha, big_n - 1) / sps.t.ppf(alpha, m - 1)) ** 2
        n_eff = min(n_eff, big_n)
    else:
        n_eff = big_n
    k_eff = p * n_eff
    low = sps.beta.ppf(alpha, k_eff, n_eff - k_eff + 1) if k_eff > 0 else 0.0
    high = sps.beta.ppf(1 - alpha, k_eff + 1, n_eff - k_eff) if k_eff < n_eff else 1.0
    assert close(r.low, low, 1e-8) and close(r.high, high, 1e-8)
    p_greater = sps.beta.cdf(null, k_eff, n_eff - k_eff + 1) if k_eff > 0 else 1.0
    assert close(r.p_greater, p_greater, 1e-8)
    assert r.units == m and r.df == m - 1 and close(r.estimate, p)


@PROPERTY
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       ALPHAS, st.floats(0.01, 0.99))
def test_clustered_rate_one_cluster_is_exact_binomial(
    kn: tuple[int, int], alpha: float, null: float
) -> None:
    """m = 1: p-values = scipy binomtest, interval = its Clopper-Pearson at 1 - 2*alpha."""
    k, n = kn
    r = clustered_rate([k], [n], null, alpha)
    assert close(r.p_greater, sps.binomtest(k, n, null, alternative="greater").pvalue)
    assert close(r.p_less, sps.binomtest(k, n, null, alternative="less").pvalue)
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=1 - 2 * alpha, method="exact")
    assert close(r.low, ci.low) and close(r.high, ci.high)


@PROPERTY
@given(clusters(), ALPHAS, st.floats(0.0, 1.0))
def test_clustered_rate_pvalue_interval_duality(
    kn: tuple[list[int], list[int]], alpha: float, null: float
) -> None:
    """p_greater is significant exactly when the lower bound exceeds null, p_less exactly
    when the upper bound is below it (away from a 1e-7 band around the tie)."""
    k, n = kn
    r = clustered_rate(k, n, null, alpha)
    for p, excluded in ((r.p_greater, r.low > null), (r.p_less, r.high < null)):
        if abs(p - alpha) > 1e-7:
            assert significant(p, alpha) == excluded
    assert 0.0 <= r.low <= r.estimate <= r.high <= 1.0


def test_clustered_rate_conventions() -> None:
    """No spread between clusters, or a rate of 0: n_eff = N, i.e. the pooled exact test.
    Empty clusters are dropped; invalid counts raise."""
    same = clustered_rate([5, 5, 5], [10, 10, 10], 0.3, 0.05)
    assert close(same.p_greater, sps.binomtest(15, 30, 0.3, alternative="greater").pvalue)
    zero = clustered_rate([0, 0, 0, 0], [10, 12, 8, 10], 0.1, 0.05)
    assert close(zero.p_less, sps.binomtest(0, 40, 0.1, alternative="less").pvalue)
    assert zero.p_greater == 1.0
    dropped = clustered_rate([3, 0, 4], [10, 0, 12], 0.2, 0.05)
    assert dropped == clustered_rate([3, 4], [10, 12], 0.2, 0.05)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        clustered_rate([11], [10], 0.2, 0.05)
    with pytest.raises(ValueError, match="clusters"):
        clustered_rate([1, 2], [10], 0.2, 0.05)
    with pytest.raises(ValueError, match="empty"):
        clustered_rate([0], [0], 0.2, 0.05)


def _simulate(null: float, icc: float, m: int, reps: int, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
    """Cluster rates ~ Beta with mean `null` and intra-cluster correlation `icc`; 10-20
    replies per cluster. Returns per-cluster (k, n), shape (reps, m)."""
    s = (1 - icc) / icc  # a + b of the Beta: icc = 1/(a + b + 1)
    rates = rng.beta(null * s, (1 - null) * s, size=(reps, m))
    n = rng.integers(10, 21, size=(reps, m))
    return rng.binomial(n, rates), n


SETTINGS = [(icc, m, null) for icc in (0.1, 0.3) for m in (5, 10, 20) for null in (0.05, 0.2, 0.5)]


def test_clustered_rate_false_pass_rate_by_simulation() -> None:
    """Calibration: with the true mean rate = null, p_greater is significant in at most
    alpha + 3 SE of 6000 replications, in every setting (ICC 0.1 and 0.3; 5, 10, 20
    clusters; null 0.05, 0.2, 0.5). The naive binomial test on pooled counts, in the same
    data, passes false claims in more than 10% (twice alpha) of replications everywhere.
    The vectorised core is checked against clustered_rate on a few replications."""
    rng = np.random.default_rng(2024)
    reps, alpha = 6000, 0.05
    bound = alpha + 3 * math.sqrt(alpha * (1 - alpha) / reps)
    for icc, m, null in SETTINGS:
        k, n = _simulate(null, icc, m, reps, rng)
        r = korn_graubard_arrays(k, n, null, alpha)
        for i in range(3):
            one = clustered_rate(list(k[i]), list(n[i]), null, alpha)
            assert close(one.p_greater, float(r["p_greater"][i]), 1e-12)
        false_pass = float(np.mean(r["p_greater"] < alpha * (1 - 1e-9)))
        naive = float(np.mean(sps.binom.sf(k.sum(1) - 1, n.sum(1), null) < alpha * (1 - 1e-9)))
        assert false_pass <= bound, (icc, m, null, false_pass)
        assert naive > 2 * alpha, (icc, m, null, naive)


@pytest.mark.xfail(strict=True, reason=(
    "known limitation reported to the lead: Korn-Graubard's LOWER tail is anti-conservative "
    "for rare rates with strong clustering (e.g. null 0.05, ICC 0.3: p_less significant in "
    "~27% of replications at m=5, ~20% at m=10, ~12% at m=20), partly from the n_eff = N "
    "convention when no cluster has a success"
))
def test_clustered_rate_lower_tail_for_rare_rates() -> None:
    rng = np.random.default_rng(2025)
    reps, alpha = 6000, 0.05
    bound = alpha + 3 * math.sqrt(alpha * (1 - alpha) / reps)
    for m in (5, 10, 20):
        k, n = _simulate(0.05, 0.3, m, reps, rng)
        r = korn_graubard_arrays(k, n, 0.05, alpha)
        assert float(np.mean(r["p_less"] < alpha * (1 - 1e-9))) <= bound


# ------------------------------------------------------------------ clustered_mean


@st.composite
def score_clusters(draw: st.DrawFn, min_m: int = 2, max_m: int = 8) -> list[list[float]]:
    m = draw(st.integers(min_m, max_m))
    return [draw(st.lists(floats01, min_size=1, max_size=8)) for _ in range(m)]


@PROPERTY
@given(score_clusters(), ALPHAS, st.floats(0.0, 1.0))
def test_clustered_mean_equals_statsmodels_cluster_ols(
    vals: list[list[float]], alpha: float, null: float
) -> None:
    """statsmodels OLS(y, 1).fit(cov_type='cluster', use_t=True): same bse, t on
    df_resid_inference = m - 1, and conf_int(2*alpha)."""
    y = np.concatenate([np.asarray(c, dtype=float) for c in vals])
    g = np.repeat(np.arange(len(vals)), [len(c) for c in vals])
    res = sm.OLS(y, np.ones_like(y)).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    bse = float(res.bse[0])
    assume(bse > 1e-6)
    r = clustered_mean(vals, null, alpha)
    assert r.se is not None and close(r.se, bse)
    assert r.df == res.df_resid_inference == len(vals) - 1
    t = (float(res.params[0]) - null) / bse
    assert close(r.p_greater, float(sps.t.sf(t, r.df)))
    assert close(r.p_less, float(sps.t.cdf(t, r.df)))
    lo, hi = res.conf_int(alpha=2 * alpha)[0]
    assert close(r.low, lo) and close(r.high, hi)
    if null == 0.0:
        assert close(min(1.0, 2 * min(r.p_greater, r.p_less)), float(res.pvalues[0]))


@PROPERTY
@given(st.lists(floats01, min_size=2, max_size=20), ALPHAS, st.floats(0.0, 1.0))
def test_clustered_mean_one_cluster_is_ttest_1samp(
    vals: list[float], alpha: float, null: float
) -> None:
    """m = 1: scipy ttest_1samp on the values, interval from its confidence_interval."""
    assume(np.ptp(vals) > 1e-6)
    r = clustered_mean([vals], null, alpha)
    assert close(r.p_greater, sps.ttest_1samp(vals, null, alternative="greater").pvalue)
    assert close(r.p_less, sps.ttest_1samp(vals, null, alternative="less").pvalue)
    ci = sps.ttest_1samp(vals, 0.0).confidence_interval(confidence_level=1 - 2 * alpha)
    assert close(r.low, ci.low) and close(r.high, ci.high)


def test_clustered_mean_degenerate_inputs() -> None:
    one = clustered_mean([[0.4]], 0.3, 0.05)
    assert (one.p_greater, one.p_less) == (1.0, 1.0)
    flat = clustered_mean([[0.4, 0.4], [0.4]], 0.3, 0.05)
    assert (flat.p_greater, flat.p_less) == (0.0, 1.0) and flat.se == 0.0
    assert clustered_mean([[0.1, 0.3], [], [0.5]], 0.3, 0.05) == clustered_mean(
        [[0.1, 0.3], [0.5]], 0.3, 0.05
    )
    with pytest.raises(ValueError, match="empty"):
        clustered_mean([[], []], 0.3, 0.05)


def test_clustered_mean_type1_by_simulation() -> None:
    """Scores = cluster effect (ICC 0.3) + noise, 5 and 10 clusters of 10-20 values, 3000
    reps each: the cluster-robust t test keeps alpha + 3 SE in both directions."""
    rng = np.random.default_rng(7)
    reps, alpha = 3000, 0.05
    bound = alpha + 3 * math.sqrt(alpha * (1 - alpha) / reps)
    for m in (5, 10):
        pg, pl = [], []
        for _ in range(reps):
            sizes = rng.integers(10, 21, size=m)
            effects = rng.normal(0, math.sqrt(0.3), size=m)
            vals = [list(e + rng.normal(0, math.sqrt(0.7), size=s))
                    for e, s in zip(effects, sizes, strict=True)]
            r = clustered_mean(vals, 0.0, alpha)
            pg.append(r.p_greater)
            pl.append(r.p_less)
        assert np.mean(np.asarray(pg) < alpha * (1 - 1e-9)) <= bound
        assert np.mean(np.asarray(pl) < alpha * (1 - 1e-9)) <= bound


# -- Rao-Scott: two sides of different prompts -----------------------------------------


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # statsmodels' ratio
@given(st.integers(1, 80), st.integers(1, 80), st.data())
@settings(max_examples=60, deadline=None)
def test_rao_scott_without_clustering_is_statsmodels_score_test(n1: int, n2: int,
                                                                  data: st.DataObject) -> None:
    """One prompt a side and icc = 0: no design effect and no df to estimate, so the
    p-values are statsmodels ``test_proportions_2indep(method='score')``'s (at
    value 0, where statsmodels is right: see two_sample.restricted_mle)."""
    k1, k2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    assume(0 < k1 + k2 < n1 + n2)
    inf = clustered_rate_difference([k1], [n1], [k2], [n2], 0.05, icc=0.0)
    for side, alt in (("greater", "larger"), ("less", "smaller")):
        want = smprop.test_proportions_2indep(k1, n1, k2, n2, value=0, method="score",
                                              compare="diff", alternative=alt,
                                              correction=True).pvalue
        assert inf.p_for(side) == pytest.approx(want, abs=1e-9)


@given(st.lists(st.integers(0, 10), min_size=1, max_size=6),
       st.lists(st.integers(0, 10), min_size=1, max_size=6),
       st.sampled_from([-0.2, -0.05, 0.0, 0.1]), st.sampled_from([0.0, 0.1, 0.3]))
@settings(max_examples=80, deadline=None)
def test_rao_scott_interval_agrees_with_its_p_values(kx: list[int], ky: list[int],
                                                     null: float, icc: float) -> None:
    """low > null exactly when p_greater < alpha (and high < null with p_less)."""
    inf = clustered_rate_difference(kx, [10] * len(kx), ky, [10] * len(ky), 0.05, null=null,
                                    icc=icc)
    assume(min(abs(inf.low - null), abs(inf.high - null)) > 1e-7)  # not at the edge
    assert (inf.low > null) == (inf.p_greater < 0.05)
    assert (inf.high < null) == (inf.p_less < 0.05)
    assert inf.low <= inf.estimate <= inf.high


def test_rao_scott_design_effects_shrink_the_evidence() -> None:
    """The same pooled counts spread unevenly over prompts are weaker evidence than
    spread evenly, and a larger assumed icc weakens both."""
    even = clustered_rate_difference([6, 6, 6, 6], [10] * 4, [3, 3, 3, 3], [10] * 4, 0.05,
                                     icc=0.0)
    uneven = clustered_rate_difference([10, 10, 4, 0], [10] * 4, [3, 3, 3, 3], [10] * 4,
                                       0.05, icc=0.0)
    floored = clustered_rate_difference([6, 6, 6, 6], [10] * 4, [3, 3, 3, 3], [10] * 4,
                                        0.05, icc=0.3)
    assert even.estimate == uneven.estimate == floored.estimate == pytest.approx(0.3)
    assert even.p_greater < uneven.p_greater and even.p_greater < floored.p_greater
    assert uneven.effective_n is not None and uneven.effective_n < 80


def test_rao_scott_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="integer counts"):
        clustered_rate_difference([3, 11], [10, 10], [1], [10], 0.05)
    with pytest.raises(ValueError, match="no replies"):
        clustered_rate_difference([0], [0], [1], [10], 0.05)
    with pytest.raises(ValueError, match="icc"):
        clustered_rate_difference([1], [10], [1], [10], 0.05, icc=1.5)


def test_rao_scott_planner_size_and_monotone_power() -> None:
    """At equal rates the planner's PASS rate is the test's size (<= alpha + 3 SE
    at icc = the floor); power grows with the gap and with prompts."""
    size = clustered_difference_power(0.3, 0.3, 8, 20, 12, 20, 0.05, reps=20_000)
    assert size <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 20_000)
    small = clustered_difference_power(0.4, 0.3, 8, 20, 12, 20, 0.05, reps=4000)
    large = clustered_difference_power(0.5, 0.3, 8, 20, 12, 20, 0.05, reps=4000)
    more = clustered_difference_power(0.5, 0.3, 16, 20, 24, 20, 0.05, reps=4000)
    assert small < large < more


def test_sign_flip_planner_knows_the_permutation_floor_and_ties() -> None:
    """Four prompts: the smallest one-sided p is 1/16 > 0.05, so no shift has power;
    with 10 prompts the size at no shift stays <= alpha and power rises with the shift."""
    assert sign_flip_power([0.3] * 4, 0.6, 50, 0.05, reps=500) == 0.0
    base = list(np.linspace(0.2, 0.6, 10))
    size = sign_flip_power(base, 0.0, 10, 0.05, shift_sd=0.05, reps=20_000)
    assert size <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 20_000)
    assert (sign_flip_power(base, 0.05, 10, 0.05, reps=2000)
            < sign_flip_power(base, 0.15, 10, 0.05, reps=2000))


def test_sign_flip_planner_agrees_with_scipy_permutation_tests() -> None:
    """Power from the planner vs an independent simulation that runs
    ``sign_flip_test`` (scipy permutation_test) on 400 data sets of the same
    design: within 3 simulation SEs."""
    rng = np.random.default_rng(11)
    base = np.linspace(0.2, 0.5, 6)
    hits = 0
    for _ in range(400):
        x = rng.binomial(10, np.clip(base + 0.25, 0, 1)) / 10
        y = rng.binomial(10, base) / 10
        hits += sign_flip_test(list(x), list(y), 0.05).p_greater < 0.05
    planned = sign_flip_power(base, 0.25, 10, 0.05, reps=20_000)
    assert abs(hits / 400 - planned) <= 3 * math.sqrt(planned * (1 - planned) / 400) + 0.01


# -- arms without spread: the one rule (stats.spread.no_spread_pvalues) ---------------------


@given(value=st.floats(0.0, 1.0), null=st.floats(-0.5, 0.5), m=st.integers(2, 6))
def test_arms_without_spread_follow_the_t_tests_limit_like_every_t_test(
    value: float, null: float, m: int
) -> None:
    """Every seed reading the same (readings, no binomial floor): p -> 0 in the data's
    direction, 1 against it, 1 both ways on the null; the same answer
    ``stats.spread.no_spread_pvalues`` gives every other t-based test."""
    from behavtest.stats.arms import arm_vs_arm, arm_vs_value
    from behavtest.stats.spread import no_spread_pvalues

    one = arm_vs_value([value] * m, null, 0.05)
    assert (one.p_greater, one.p_less) == no_spread_pvalues(value, null)
    two = arm_vs_arm([value] * m, [0.3] * m, 0.05, null=null)
    assert (two.p_greater, two.p_less) == no_spread_pvalues(value - 0.3, null)
