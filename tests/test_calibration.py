"""Calibration: do the verdicts make the errors they promise, on the scripted double?

Every loop is deterministic: numpy generators are seeded, and ScriptedProvider
replies are a hash of each request's seed (itself derived from the run seed),
so every count below is the same on every run. Tolerances are still stated as
simulation error, so the claims stay honest if a seed is changed: a simulated
rate of an event of probability q over N independent draws has standard
deviation sqrt(q (1 - q) / N), and the checks allow three of those (a correct
implementation fails a 3-sigma one-sided check with probability ~0.13%).

Big loops draw counts with numpy and judge them with the stats functions under
the verdict rule (PASS iff p(claim) < alpha); ``test_expect_follows_the_*_rule``
checks that ``expect()`` applies exactly that rule, and one loop per kind of
check also runs end to end: ScriptedProvider -> ModelHandle -> expect().
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from behavtest import stats
from behavtest.checks.expect import Expectation, ExpectContext, current_context, expect
from behavtest.providers.base import to_messages
from behavtest.providers.double import ScriptedProvider
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle, Reply, Samples
from behavtest.scorers.base import Scorer
from behavtest.settings import GenerationSettings, RunSettings
from behavtest.stats.binomial import binomial_pvalue, clopper_pearson, one_sided_bounds
from behavtest.stats.power import binomial_power, fisher_power
from behavtest.stats.two_sample import fisher_pvalue
from behavtest.verdict import BehaviourFailed, Inconclusive, Outcome

ALPHA = 0.05
PROMPT = "Answer yes or no."
YES = Scorer("yes", lambda text: text == "yes")
DRAWS = 20_000  # simulated counts per configuration in the numpy loops
SEEDS = 400  # run seeds per end-to-end loop
BASELINE_SEED = 1_000_000  # baseline run seeds: BASELINE_SEED + s, never equal to a model seed

T = TypeVar("T")


def three_sigma(q: float, draws: int) -> float:
    """Three standard deviations of a simulated rate of an event of probability q."""
    return 3.0 * math.sqrt(q * (1.0 - q) / draws)


def _rng(*key: float) -> np.random.Generator:
    """A generator seeded from the configuration, so each case has its own stream."""
    return np.random.default_rng([round(1000 * x) for x in key])


@contextmanager
def _judging() -> Iterator[None]:
    """Checks judged at ALPHA and recorded nowhere: inside pytest the behavtest
    plugin installs a per-test context that would carry hundreds of verdicts
    into the run summary."""
    token = current_context.set(ExpectContext(alpha=ALPHA))
    try:
        yield
    finally:
        current_context.reset(token)


@pytest.fixture
def memoised_power_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """expect() calls min_detectable_rate / detectable_gap only to word the power
    line of a non-PASS verdict (after the outcome is decided). Memoising the same
    functions keeps every answer and computes it once per distinct input instead of
    once per seed (~30 ms per rate check; a bisection over exact Fisher power per
    comparison)."""
    for name in ("min_detectable_rate", "detectable_gap"):
        monkeypatch.setattr(stats, name, functools.lru_cache(maxsize=None)(getattr(stats, name)))


def _handle(
    rate: float, seed: int, *, label: str = "double/model", cache: SampleCache | None = None
) -> ModelHandle:
    provider = ScriptedProvider({"yes": rate, "no": 1.0 - rate}, label=label)
    return ModelHandle(
        spec=label,
        factory=lambda: provider,
        run=RunSettings(seed=seed),
        cache=cache if cache is not None else SampleCache(None, "off"),
    )


def _sample(rate: float, seed: int, n: int, label: str = "double/model") -> Samples:
    return _handle(rate, seed, label=label).sample(PROMPT, n=n)


def _outcome(check: Callable[[T], Expectation], arg: T) -> Outcome:
    """The outcome of ``check(arg)``, whether it returned or raised."""
    try:
        return check(arg).verdicts[-1].outcome
    except (BehaviourFailed, Inconclusive) as exc:
        return exc.verdict.outcome


def _yes_count(samples: Samples) -> int:
    return sum(text == "yes" for text in samples.texts)


def _samples_with(k: int, n: int, model: str = "double/model") -> Samples:
    """Samples holding exactly k "yes" replies out of n, without sampling."""
    replies = tuple(Reply("yes" if i < k else "no", 0, i, 1, "stop", False) for i in range(n))
    return Samples(model, (to_messages(PROMPT, None),), GenerationSettings(), replies)


# -- the verdict rule, from the stats functions ------------------------------------


def _rate_passes(n: int, t: float, direction: str) -> np.ndarray:
    """PASS for each k = 0..n: the one-sided exact test of the claim rejects at ALPHA."""
    return np.array([binomial_pvalue(k, n, t, direction) < ALPHA for k in range(n + 1)])


def _rate_fails(n: int, t: float, direction: str) -> np.ndarray:
    against = "less" if direction == "greater" else "greater"
    return _rate_passes(n, t, against) & ~_rate_passes(n, t, direction)


def _fisher_pass_rate(k1: np.ndarray, n1: int, k2: np.ndarray, n2: int, direction: str) -> float:
    """Share of simulated (k1, k2) pairs where the one-sided Fisher test rejects at ALPHA."""
    passes = functools.cache(lambda a, b: fisher_pvalue(a, n1, b, n2, direction) < ALPHA)
    return float(np.mean([passes(int(a), int(b)) for a, b in zip(k1, k2, strict=True)]))


def test_expect_follows_the_rate_rule(memoised_power_lines: None) -> None:
    """expect() gives PASS / FAIL / INCONCLUSIVE for every k exactly as the rule
    above, and PASS exactly when the one-sided bound clears the threshold."""
    n = 30
    with _judging():
        for t in (0.05, 0.3, 0.5, 0.8):
            for direction in ("greater", "less"):
                passes, fails = _rate_passes(n, t, direction), _rate_fails(n, t, direction)
                for k in range(n + 1):
                    e = expect(_samples_with(k, n), YES)
                    check = e.rate_at_least if direction == "greater" else e.rate_at_most
                    got = _outcome(check, t)
                    want = Outcome.INCONCLUSIVE
                    if passes[k] or fails[k]:
                        want = Outcome.PASS if passes[k] else Outcome.FAIL
                    assert got is want, (t, direction, k)
                    low, high = one_sided_bounds(k, n, ALPHA)
                    clears = low > t if direction == "greater" else high < t
                    assert clears == (got is Outcome.PASS), (t, direction, k)


def test_expect_follows_the_fisher_rule(memoised_power_lines: None) -> None:
    """expect().above / .below give PASS exactly when the one-sided Fisher p < ALPHA."""
    n1, n2 = 10, 12
    with _judging():
        for k1 in range(n1 + 1):
            for k2 in range(n2 + 1):
                base = _samples_with(k2, n2, "double/base")
                for direction in ("greater", "less"):
                    e = expect(_samples_with(k1, n1), YES)
                    check = e.above if direction == "greater" else e.below
                    got = _outcome(check, base)
                    want = fisher_pvalue(k1, n1, k2, n2, direction) < ALPHA
                    assert (got is Outcome.PASS) == want, (k1, k2, direction)


# -- coverage of the intervals ---------------------------------------------------------


@pytest.mark.parametrize("n", [20, 100])
@pytest.mark.parametrize("p", [0.02, 0.1, 0.3, 0.5])
def test_clopper_pearson_covers_at_the_nominal_level(p: float, n: int) -> None:
    """Simulated coverage of the two-sided 95% CP interval >= 0.95 - 3 sigma.
    CP is exact (coverage >= 0.95 for every p), so the simulated coverage has a
    standard deviation of at most sqrt(0.95 * 0.05 / DRAWS) (= 0.0015)."""
    ks = _rng(p, n).binomial(n, p, size=DRAWS)
    bounds = np.array([clopper_pearson(k, n, 0.95) for k in range(n + 1)])
    covered = (bounds[ks, 0] <= p) & (p <= bounds[ks, 1])
    assert covered.mean() >= 0.95 - three_sigma(0.95, DRAWS)


def _exact_coverage(
    n: int, grid: np.ndarray, interval: Callable[[int, int], tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Exact coverage at each p of the grid: sum over k of P(k) [p in interval(k)];
    also the coverage of the lower bound alone."""
    bounds = np.array([interval(k, n) for k in range(n + 1)])
    pmf = sps.binom.pmf(np.arange(n + 1)[None, :], n, grid[:, None])
    low_ok = bounds[None, :, 0] <= grid[:, None]
    both_ok = low_ok & (grid[:, None] <= bounds[None, :, 1])
    return (pmf * both_ok).sum(axis=1), (pmf * low_ok).sum(axis=1)


GRID = np.linspace(0.001, 0.999, 999)


@pytest.mark.parametrize("n", [5, 20, 100])
def test_clopper_pearson_exact_coverage_is_never_below_nominal(n: int) -> None:
    """No simulation: coverage summed over k on a fine grid of true rates is >= 95%
    for the two-sided interval, and >= 1 - alpha for the one-sided lower bound the
    verdicts read (1e-9 allows rounding in the pmf sum)."""
    two_sided, _ = _exact_coverage(n, GRID, lambda k, m: clopper_pearson(k, m, 0.95))
    _, lower = _exact_coverage(n, GRID, lambda k, m: one_sided_bounds(k, m, ALPHA))
    assert two_sided.min() >= 0.95 - 1e-9
    assert lower.min() >= 1 - ALPHA - 1e-9


def _wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    low, high = proportion_confint(k, n, alpha=1.0 - confidence, method="wilson")
    return float(low), float(high)


def test_wilson_dips_below_nominal_coverage() -> None:
    """The binomial module's reason for Clopper-Pearson: Wilson's interval
    (statsmodels ``proportion_confint(method='wilson')``) does not hold 95% for
    every true rate (at n = 20 it drops below 0.93 somewhere on the grid)."""
    two_sided, _ = _exact_coverage(20, GRID, lambda k, m: _wilson(k, m, 0.95))
    assert two_sided.min() < 0.93


# -- type-I error: PASS when the claim is false -----------------------------------------


@pytest.mark.parametrize("n", [20, 100])
@pytest.mark.parametrize("p", [0.02, 0.1, 0.3, 0.5])
@pytest.mark.parametrize("direction", ["greater", "less"])
def test_rate_checks_at_the_boundary_pass_at_most_alpha(p: float, n: int, direction: str) -> None:
    """True rate == threshold, where the claim (rate above / below t) is false.
    Exactly: P(PASS) = sum over passing k of P(k) <= alpha (exact test, no
    tolerance but rounding). Simulated: the PASS rate <= alpha + 3 sigma, sigma
    taken at alpha (the largest the true size can be)."""
    passes = _rate_passes(n, p, direction)
    exact_size = sps.binom.pmf(np.arange(n + 1), n, p)[passes].sum()
    assert exact_size <= ALPHA + 1e-12
    ks = _rng(p, n, direction == "greater").binomial(n, p, size=DRAWS)
    assert passes[ks].mean() <= ALPHA + three_sigma(ALPHA, DRAWS)


@pytest.mark.parametrize("n", [20, 50])
@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_comparisons_with_equal_rates_pass_at_most_alpha(p: float, n: int) -> None:
    """Model and baseline with the same true rate: above() and below() each PASS
    at most alpha + 3 sigma of the time (Fisher is conservative)."""
    rng = _rng(p, n)
    k1, k2 = rng.binomial(n, p, size=DRAWS), rng.binomial(n, p, size=DRAWS)
    for direction in ("greater", "less"):
        assert _fisher_pass_rate(k1, n, k2, n, direction) <= ALPHA + three_sigma(ALPHA, DRAWS)


def test_rate_checks_at_the_boundary_end_to_end(memoised_power_lines: None) -> None:
    """SEEDS runs of the double at rate 0.3, n = 40 each, checked against t = 0.3.
    At p == t both one-sided nulls hold, so PASS (a false claim accepted) and FAIL
    (a true 'at least' / 'at most' rejected) each happen <= alpha + 3 sigma."""
    p, n = 0.3, 40
    tally: Counter[tuple[str, Outcome]] = Counter()
    yes = 0
    with _judging():
        for seed in range(SEEDS):
            samples = _sample(p, seed, n)
            yes += _yes_count(samples)
            tally["least", _outcome(expect(samples, YES).rate_at_least, p)] += 1
            tally["most", _outcome(expect(samples, YES).rate_at_most, p)] += 1
    # the double itself: SEEDS * n replies, "yes" at rate p
    assert abs(yes / (SEEDS * n) - p) <= three_sigma(p, SEEDS * n)
    bound = ALPHA + three_sigma(ALPHA, SEEDS)
    for check in ("least", "most"):
        assert tally[check, Outcome.PASS] / SEEDS <= bound, tally
        assert tally[check, Outcome.FAIL] / SEEDS <= bound, tally


def test_comparison_with_equal_rates_end_to_end(memoised_power_lines: None) -> None:
    """SEEDS runs of two doubles with the same rate (0.3, n = 30 each, different
    run seeds so their draws are independent): above() and below() each PASS
    <= alpha + 3 sigma of the time."""
    p, n = 0.3, 30
    tally: Counter[tuple[str, Outcome]] = Counter()
    with _judging():
        for seed in range(SEEDS):
            model = _sample(p, seed, n)
            base = _sample(p, BASELINE_SEED + seed, n, label="double/baseline")
            tally["above", _outcome(expect(model, YES).above, base)] += 1
            tally["below", _outcome(expect(model, YES).below, base)] += 1
    bound = ALPHA + three_sigma(ALPHA, SEEDS)
    assert tally["above", Outcome.PASS] / SEEDS <= bound, tally
    assert tally["below", Outcome.PASS] / SEEDS <= bound, tally


# -- power: PASS rate when the claim is true, against the planner ------------------------


@pytest.mark.parametrize(
    ("n", "p", "t", "direction"),
    [
        (50, 0.5, 0.3, "greater"),
        (100, 0.3, 0.2, "greater"),
        (20, 0.6, 0.2, "greater"),
        (100, 0.1, 0.2, "less"),
        (60, 0.02, 0.1, "less"),
    ],
)
def test_rate_pass_rate_matches_binomial_power(n: int, p: float, t: float, direction: str) -> None:
    """Simulated PASS rate within 3 sigma (sigma at the predicted power) of
    binomial_power: the planner predicts what the verdicts do."""
    predicted = binomial_power(n, p, t, ALPHA)
    ks = _rng(p, n, t).binomial(n, p, size=DRAWS)
    assert abs(_rate_passes(n, t, direction)[ks].mean() - predicted) <= three_sigma(
        predicted, DRAWS
    )


@pytest.mark.parametrize(
    ("n", "p1", "p2", "direction"),
    [(20, 0.7, 0.2, "greater"), (30, 0.6, 0.2, "greater"), (25, 0.1, 0.5, "less")],
)
def test_fisher_pass_rate_matches_fisher_power(
    n: int, p1: float, p2: float, direction: str
) -> None:
    """Simulated above()/below() PASS rate within 3 sigma of fisher_power."""
    predicted = fisher_power(n, n, p1, p2, ALPHA)
    rng = _rng(p1, p2, n)
    k1, k2 = rng.binomial(n, p1, size=DRAWS), rng.binomial(n, p2, size=DRAWS)
    assert abs(_fisher_pass_rate(k1, n, k2, n, direction) - predicted) <= three_sigma(
        predicted, DRAWS
    )


@pytest.mark.parametrize(
    ("n", "p", "t", "direction", "seeds"),
    [
        (100, 0.5, 0.2, "greater", 200),  # power ~1: a sanity check
        (50, 0.5, 0.3, "greater", SEEDS),  # power 0.90
        (50, 0.05, 0.2, "less", SEEDS),  # power 0.96
    ],
)
def test_rate_power_end_to_end(
    n: int, p: float, t: float, direction: str, seeds: int, memoised_power_lines: None
) -> None:
    """End to end, the PASS rate is within 5 points of binomial_power. The cases
    are chosen so that 5 points is at least 3 sigma at the predicted power."""
    predicted = binomial_power(n, p, t, ALPHA)
    assert three_sigma(predicted, seeds) <= 0.05
    passes = 0
    with _judging():
        for seed in range(seeds):
            e = expect(_sample(p, seed, n), YES)
            check = e.rate_at_least if direction == "greater" else e.rate_at_most
            passes += _outcome(check, t) is Outcome.PASS
    assert abs(passes / seeds - predicted) <= 0.05


def test_comparison_power_end_to_end(memoised_power_lines: None) -> None:
    """End to end, above() with 0.7 vs 0.2 at n = 20 per model PASSes within 5
    points of fisher_power (0.91; 3 sigma over SEEDS runs is 0.043)."""
    n, p1, p2 = 20, 0.7, 0.2
    predicted = fisher_power(n, n, p1, p2, ALPHA)
    assert three_sigma(predicted, SEEDS) <= 0.05
    passes = 0
    with _judging():
        for seed in range(SEEDS):
            model = _sample(p1, seed, n)
            base = _sample(p2, BASELINE_SEED + seed, n, label="double/baseline")
            passes += _outcome(expect(model, YES).above, base) is Outcome.PASS
    assert abs(passes / SEEDS - predicted) <= 0.05


# -- caching ------------------------------------------------------------------------------


def test_cache_draws_only_new_indices_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite"
    first = _handle(0.3, 7, cache=SampleCache(path, "use"))
    ten = first.sample(PROMPT, n=10)
    provider = first.provider
    assert isinstance(provider, ScriptedProvider)
    assert (provider.calls, first.stats.drawn, first.stats.cached) == (10, 10, 0)

    twenty = first.sample(PROMPT, n=20)  # indices 0-9 replay, 10-19 are new
    assert (provider.calls, first.stats.drawn, first.stats.cached) == (20, 20, 10)
    assert twenty.texts[:10] == ten.texts
    assert [r.cached for r in twenty] == [True] * 10 + [False] * 10
    assert [r.index for r in twenty] == list(range(20))
    first.cache.close()

    # a new process: same cache file, same run seed -> everything replays
    second = _handle(0.3, 7, cache=SampleCache(path, "use"))
    replay = second.sample(PROMPT, n=20)
    assert isinstance(second.provider, ScriptedProvider)
    assert (second.provider.calls, second.stats.drawn, second.stats.cached) == (0, 0, 20)
    assert replay.texts == twenty.texts
    assert all(r.cached for r in replay)
    second.cache.close()

    # another run seed -> new sample seeds, nothing to replay
    third = _handle(0.3, 8, cache=SampleCache(path, "use"))
    other = third.sample(PROMPT, n=20)
    assert isinstance(third.provider, ScriptedProvider)
    assert (third.provider.calls, third.stats.drawn, third.stats.cached) == (20, 20, 0)
    assert other.texts != twenty.texts
    third.cache.close()

    # another model (fingerprint) with the same seed -> its own samples
    fourth = _handle(0.3, 7, label="double/other", cache=SampleCache(path, "use"))
    fourth.sample(PROMPT, n=20)
    assert (fourth.stats.drawn, fourth.stats.cached) == (20, 0)
    fourth.cache.close()


def test_without_a_cache_every_sample_is_drawn_again() -> None:
    handle = _handle(0.3, 7)
    a, b = handle.sample(PROMPT, n=10), handle.sample(PROMPT, n=10)
    assert isinstance(handle.provider, ScriptedProvider)
    assert (handle.provider.calls, handle.stats.drawn, handle.stats.cached) == (20, 20, 0)
    assert a.texts == b.texts  # same seeds give the same replies even without a cache
