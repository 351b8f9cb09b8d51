"""behavtest.stats against scipy/statsmodels and against brute force.

Where behavtest delegates to a library, the test compares with the library
(and, where a second library computes the same thing, with that one too, so a
wrong argument order or a confidence/alpha mix-up cannot hide). Where it
computes something itself (exact power, sample sizes), the test recomputes it
by brute force from scipy's exact tests, using the verdict rule of
``behavtest.checks.expect``: a one-sided check passes when its p-value is < alpha.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from behavtest.errors import InvalidArgument
from behavtest.stats.binomial import (
    Alternative,
    binomial_pvalue,
    clopper_pearson,
    one_sided_bounds,
)
from behavtest.stats.power import (
    binomial_power,
    detectable_gap,
    fisher_power,
    min_detectable_rate,
    samples_for_rate,
    samples_per_arm,
)
from behavtest.stats.result import check_alpha
from behavtest.stats.two_sample import fisher_pvalue, rate_difference_interval

TOL = 1e-9  # agreement with the reference libraries (the module docstring's promise)
ALTERNATIVES: tuple[Alternative, ...] = ("greater", "less", "two-sided")
PROPERTY = settings(max_examples=80, deadline=None)
SLOW_PROPERTY = settings(max_examples=30, deadline=None)  # each example does O(n) scipy calls


@st.composite
def counts(draw: st.DrawFn, max_n: int = 400) -> tuple[int, int]:
    n = draw(st.integers(1, max_n))
    return draw(st.integers(0, n)), n


confidences = st.floats(0.5, 0.999)
# Rates in [0, 1], but clear of the tiniest doubles: scipy's binom.pmf (and so
# binomtest) raises OverflowError at p = 2.2e-308 (the smallest normal double),
# which is no rate anyone tests.
rates = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(1e-9, 1.0 - 1e-9))
inner_rates = st.floats(0.01, 0.99)
alphas = st.sampled_from([0.1, 0.05, 0.025, 0.01])


def _brute_binomial_power(n: int, p1: float, p0: float, alpha: float) -> float:
    """P(one-sided exact binomial test of p0 passes | true rate p1), summing over k."""
    alternative = "less" if p1 < p0 else "greater"
    return sum(
        sps.binom.pmf(k, n, p1)
        for k in range(n + 1)
        if sps.binomtest(k, n, p0, alternative=alternative).pvalue < alpha
    )


def _has_tie(n: int, p0: float, alpha: float, alternative: str) -> bool:
    """Some k has a p-value equal to alpha up to rounding: < and <= disagree there."""
    return any(
        math.isclose(sps.binomtest(k, n, p0, alternative=alternative).pvalue, alpha, rel_tol=1e-9)
        for k in range(n + 1)
    )


def _brute_fisher_power(n1: int, n2: int, p1: float, p2: float, alpha: float) -> float:
    """P(one-sided Fisher test passes), summing over all (n1+1)(n2+1) tables."""
    alternative = "less" if p1 < p2 else "greater"
    total = 0.0
    for k1 in range(n1 + 1):
        for k2 in range(n2 + 1):
            table = [[k1, n1 - k1], [k2, n2 - k2]]
            if sps.fisher_exact(table, alternative=alternative).pvalue < alpha:
                total += sps.binom.pmf(k1, n1, p1) * sps.binom.pmf(k2, n2, p2)
    return total


# -- one-sample intervals and tests ----------------------------------------


@PROPERTY
@given(counts(), confidences)
def test_clopper_pearson_matches_scipy_and_statsmodels(kn: tuple[int, int], conf: float) -> None:
    """Same thing in both libraries: scipy ``binomtest(k, n).proportion_ci(method='exact')``
    and statsmodels ``proportion_confint(method='beta')`` are both Clopper-Pearson."""
    k, n = kn
    low, high = clopper_pearson(k, n, conf)
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=conf, method="exact")
    sm_low, sm_high = proportion_confint(k, n, alpha=1 - conf, method="beta")
    assert low == pytest.approx(ci.low, abs=TOL)
    assert high == pytest.approx(ci.high, abs=TOL)
    assert low == pytest.approx(sm_low, abs=TOL)
    assert high == pytest.approx(sm_high, abs=TOL)
    assert 0.0 <= low <= k / n <= high <= 1.0


@PROPERTY
@given(counts(), rates, st.sampled_from(ALTERNATIVES))
def test_binomial_pvalue_matches_scipy(
    kn: tuple[int, int], p0: float, alternative: Alternative
) -> None:
    """Same thing: scipy ``binomtest(k, n, p0, alternative).pvalue``."""
    k, n = kn
    expected = sps.binomtest(k, n, p0, alternative=alternative).pvalue
    assert binomial_pvalue(k, n, p0, alternative) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.7, -0.05, math.nan])
def test_check_alpha_names_the_value_and_the_fix(alpha: float) -> None:
    """One rule for every test's level: strictly between 0 and 0.5 (a one-sided level
    whose 1 - 2 alpha interval is not empty), InvalidArgument (a ValueError) otherwise."""
    with pytest.raises(InvalidArgument, match=r"level=.*\(0, 0\.5\); fix: use e\.g\. level=0\.05"):
        check_alpha(alpha, "level")
    with pytest.raises(ValueError, match="alpha="):
        check_alpha(alpha)
    assert check_alpha(0.05) == 0.05 and check_alpha(0.49) == 0.49


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (0, 0)])
def test_counts_are_validated(k: int, n: int) -> None:
    with pytest.raises(ValueError):
        clopper_pearson(k, n)
    with pytest.raises(ValueError):
        binomial_pvalue(k, n, 0.5, "greater")


@PROPERTY
@given(counts(), alphas)
def test_one_sided_bounds_are_a_two_sided_interval_at_twice_alpha(
    kn: tuple[int, int], alpha: float
) -> None:
    """Each exact one-sided (1 - alpha) bound is a side of the (1 - 2 alpha) CP interval."""
    k, n = kn
    assert one_sided_bounds(k, n, alpha) == clopper_pearson(k, n, 1 - 2 * alpha)


@settings(max_examples=300, deadline=None)
@given(counts(), rates, st.floats(0.001, 0.25))
def test_one_sided_bounds_dual_to_binomial_test(
    kn: tuple[int, int], t: float, alpha: float
) -> None:
    """Test/interval duality the verdicts rely on: lower > t iff the exact test of
    p <= t rejects at alpha, and upper < t iff the test of p >= t rejects.
    Exact ties (bound or p-value within 1e-12 of t or alpha) are excluded: there the
    answer is decided by rounding, not by the statistics."""
    k, n = kn
    low, high = one_sided_bounds(k, n, alpha)
    p_up = binomial_pvalue(k, n, t, "greater")
    p_down = binomial_pvalue(k, n, t, "less")
    assume(abs(low - t) > 1e-12 and abs(p_up - alpha) > 1e-12)
    assume(abs(high - t) > 1e-12 and abs(p_down - alpha) > 1e-12)
    assert (low > t) == (p_up < alpha)
    assert (high < t) == (p_down < alpha)


# -- two samples -------------------------------------------------------------


@PROPERTY
@given(counts(200), counts(200), st.sampled_from(ALTERNATIVES))
def test_fisher_pvalue_matches_scipy(
    kn1: tuple[int, int], kn2: tuple[int, int], alternative: Alternative
) -> None:
    """Same thing: scipy ``fisher_exact([[k1, n1-k1], [k2, n2-k2]], alternative)``."""
    (k1, n1), (k2, n2) = kn1, kn2
    expected = sps.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative=alternative).pvalue
    got = fisher_pvalue(k1, n1, k2, n2, alternative)
    assert got == pytest.approx(expected, abs=TOL)


@PROPERTY
@given(counts(200), counts(200), confidences)
def test_rate_difference_interval_matches_statsmodels(
    kn1: tuple[int, int], kn2: tuple[int, int], conf: float
) -> None:
    """Same thing: statsmodels ``confint_proportions_2indep(method='newcomb')``."""
    (k1, n1), (k2, n2) = kn1, kn2
    low, high = rate_difference_interval(k1, n1, k2, n2, conf)
    expected = confint_proportions_2indep(
        k1, n1, k2, n2, method="newcomb", compare="diff", alpha=1 - conf
    )
    assert (low, high) == pytest.approx(tuple(expected), abs=TOL)
    assert low <= k1 / n1 - k2 / n2 <= high


# -- power and sample sizes ------------------------------------------------------


@pytest.mark.parametrize(
    ("n1", "n2", "p1", "p2"),
    [
        (5, 5, 0.9, 0.1),
        (6, 9, 0.7, 0.2),
        (8, 8, 0.5, 0.01),
        (10, 7, 0.6, 0.3),
        (12, 12, 0.4, 0.05),
        (12, 5, 0.3, 0.3),  # no effect: the power is the size of the test
        (7, 11, 0.1, 0.6),  # p1 < p2: the 'less' direction
        (9, 12, 0.05, 0.5),
    ],
)
@pytest.mark.parametrize("alpha", [0.05, 0.025])
def test_fisher_power_matches_brute_force(
    n1: int, n2: int, p1: float, p2: float, alpha: float
) -> None:
    """Brute force: sum P(k1) P(k2) over every table whose scipy
    ``fisher_exact`` one-sided p-value (direction of the effect) is below alpha.
    (No table in this grid has a p-value tied with alpha; ties are tested below.)"""
    got = fisher_power(n1, n2, p1, p2, alpha)
    assert got == pytest.approx(_brute_fisher_power(n1, n2, p1, p2, alpha), abs=TOL)
    if p1 == p2:
        assert got <= alpha  # Fisher is conservative: its size never exceeds alpha


@SLOW_PROPERTY
@given(st.integers(1, 120), inner_rates, rates, alphas)
def test_binomial_power_matches_brute_force(n: int, p0: float, p1: float, alpha: float) -> None:
    """Brute force: sum P(k | p1) over every k whose scipy ``binomtest`` p-value
    (one-sided, in the direction of p1 vs p0) is below alpha. p-values tied with
    alpha are excluded here and tested separately below."""
    assume(not _has_tie(n, p0, alpha, "less" if p1 < p0 else "greater"))
    got = binomial_power(n, p1, p0, alpha)
    assert got == pytest.approx(_brute_binomial_power(n, p1, p0, alpha), abs=TOL)


def test_binomial_power_at_a_tie_matches_the_verdict_rule() -> None:
    """With n=1, threshold 0.05, alpha 0.05, k=1 has p-value exactly 0.05, which
    ``expect`` does not count as a pass, so the true power is 0 for every p1."""
    assert binomial_pvalue(1, 1, 0.05, "greater") == 0.05
    assert binomial_power(1, 0.99, 0.05, 0.05) == pytest.approx(
        _brute_binomial_power(1, 0.99, 0.05, 0.05), abs=TOL
    )


def test_fisher_power_at_a_tie_matches_the_verdict_rule() -> None:
    """Table [[3, 5], [0, 8]] has one-sided Fisher p-value exactly C(8,3)/C(16,3) = 0.1."""
    assert fisher_power(8, 8, 0.6, 0.1, 0.1) == pytest.approx(
        _brute_fisher_power(8, 8, 0.6, 0.1, 0.1), abs=TOL
    )


@SLOW_PROPERTY
@given(inner_rates, inner_rates, alphas)
def test_samples_for_rate_is_the_first_n_with_the_power(p1: float, p0: float, alpha: float) -> None:
    """n reaches 80% power and no smaller n does (stronger than checking n - 1:
    exact power saw-tooths in n, and the docstring promises the *first* n)."""
    assume(abs(p1 - p0) >= 0.15)
    n = samples_for_rate(p1, p0, alpha)
    assert binomial_power(n, p1, p0, alpha) >= 0.8
    assert all(binomial_power(m, p1, p0, alpha) < 0.8 for m in range(1, n))


def test_samples_for_rate_refuses_a_zero_effect() -> None:
    with pytest.raises(ValueError):
        samples_for_rate(0.3, 0.3)


@pytest.mark.parametrize(("p1", "expected"), [(0.5, 13), (0.2, 44)])
def test_samples_per_arm_matches_science_notes(p1: float, expected: int) -> None:
    """docs/science/acrostic.md: against a 1% false-positive rate, a two-sided Fisher test at
    0.05 with 80% power needs 13 per arm for a true rate of 0.5 and 44 for 0.2;
    behavtest's one-sided test at alpha 0.025 gives the same numbers."""
    assert samples_per_arm(p1, 0.01, alpha=0.025) == (expected, True)


def test_samples_per_arm_agrees_with_two_sided_fisher_brute_force() -> None:
    """Brute force with scipy's two-sided ``fisher_exact`` at 0.05: 13 per arm is
    the first n with 80% power for 0.5 vs 0.01 (the science notes' number)."""

    def power(n: int) -> float:
        return sum(
            sps.binom.pmf(a, n, 0.5) * sps.binom.pmf(b, n, 0.01)
            for a in range(n + 1)
            for b in range(n + 1)
            if sps.fisher_exact([[a, n - a], [b, n - b]]).pvalue < 0.05
        )

    assert power(12) < 0.8 <= power(13)


@pytest.mark.parametrize(
    ("p1", "p2", "alpha"),
    [(0.5, 0.01, 0.05), (0.3, 0.1, 0.05), (0.9, 0.5, 0.025), (0.02, 0.3, 0.05), (0.6, 0.3, 0.1)],
)
def test_samples_per_arm_is_the_first_n_with_the_power(p1: float, p2: float, alpha: float) -> None:
    """The exact search returns the first per-arm n reaching 80% Fisher power."""
    n, exact = samples_per_arm(p1, p2, alpha)
    assert exact
    assert fisher_power(n, n, p1, p2, alpha) >= 0.8
    assert all(fisher_power(m, m, p1, p2, alpha) < 0.8 for m in range(2, n))


def test_samples_per_arm_falls_back_to_the_normal_approximation_for_tiny_effects() -> None:
    n, exact = samples_per_arm(0.51, 0.5)
    assert not exact
    assert n > 3000


@pytest.mark.parametrize(
    ("n", "threshold", "alpha", "direction"),
    [
        (100, 0.2, 0.05, "greater"),
        (20, 0.5, 0.05, "greater"),
        (50, 0.01, 0.025, "greater"),
        (300, 0.9, 0.05, "greater"),
        (100, 0.2, 0.05, "less"),
        (40, 0.5, 0.01, "less"),
        (200, 0.05, 0.05, "less"),
    ],
)
def test_min_detectable_rate_is_where_power_reaches_80_percent(
    n: int, threshold: float, alpha: float, direction: str
) -> None:
    """Power at the returned rate is >= 0.8, and 1e-9 closer to the threshold it is < 0.8."""
    r = min_detectable_rate(n, threshold, alpha, 0.8, direction)
    assert r is not None
    step = 1e-9 if direction == "greater" else -1e-9
    assert (r > threshold) == (direction == "greater")
    assert binomial_power(n, r, threshold, alpha) >= 0.8
    assert binomial_power(n, r - step, threshold, alpha) < 0.8


@pytest.mark.parametrize(("n", "threshold", "direction"), [(1, 0.5, "greater"), (3, 0.5, "less")])
def test_min_detectable_rate_is_none_when_no_rate_is_detectable(
    n: int, threshold: float, direction: str
) -> None:
    """n=1 at 0.5: even k=n has p-value 0.5, so no true rate passes (power 0 at rate 1)."""
    assert min_detectable_rate(n, threshold, 0.05, 0.8, direction) is None


def test_detectable_gap_is_exact_up_to_150_and_flagged_beyond() -> None:
    """The gap reaches the power (exact Fisher) and a gap 0.01 smaller does not;
    beyond 150 per arm the normal approximation answers and says so."""
    gap, exact = detectable_gap(100, 0.1, 0.05)
    assert exact and gap is not None
    assert fisher_power(100, 100, 0.1 + gap, 0.1, 0.05) >= 0.8
    assert fisher_power(100, 100, 0.1 + gap - 0.01, 0.1, 0.05) < 0.8
    gap_down, _ = detectable_gap(100, 0.3, 0.05, direction="less")
    assert gap_down is not None and fisher_power(100, 100, 0.3, 0.3 - gap_down, 0.05) >= 0.8
    big, exact_big = detectable_gap(1000, 0.1, 0.05)
    assert not exact_big and big is not None and 0.0 < big < gap
    assert detectable_gap(100, 1.0, 0.05) == (None, True)
