"""Calibration of behavtest's tests by simulation.

Two kinds of study. Suite-level (FWER, TOST, checkpoint series): data with
every null hypothesis TRUE at its boundary, and how often the test rejects; a
calibrated test rejects at most alpha of the time, ``ok`` allowing 3 binomial
standard errors of simulation noise. The first studies show why a suite needs
multiplicity correction: 20 all-null checks fail the suite ~64% of the time
uncorrected, ~alpha under Holm.

Per test type (one per test the harness picks from the data's shape, see
expect.py): type-I error at the null boundary AND power against the planner's
prediction (within max(3 points, 3 SE)); studies named e2e/... run the harness
end to end on the scripted test double. The section "every test type" below
says how.

Each study is registered in ``STUDIES``; append new ones (other test types)
there. Prints a table and writes bench/results/calibration.json.

    python bench/calibration.py [--reps 4000] [--type-reps 20000] [--e2e-reps 1000]
                                [--fwer-reps 10000] [--only NAME-PART]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import platform
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from planners import (
    arm_single_power,
    arm_value_power,
    beta_rates,
    clustered_difference_power,
    clustered_mean_power,
    clustered_rate_power,
)
from scipy import stats as sps
from sign_flip import sign_flip_power, sign_flip_test
from tost import binomial_tost, difference_tost_paired, difference_tost_welch, mean_tost

from behavtest import stats
from behavtest.checks.expect import Expectation, ExpectContext, current_context, expect
from behavtest.checks.group import GroupSamples, ModelGroup
from behavtest.providers.double import ScriptedProvider
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.scorers.base import Scorer
from behavtest.settings import RunSettings
from behavtest.stats.arms import arm_power, arm_vs_arm, arm_vs_single, arm_vs_value
from behavtest.stats.binomial import binomial_pvalue
from behavtest.stats.clustered import clustered_mean, korn_graubard_arrays
from behavtest.stats.equivalence import binomial_tost_power
from behavtest.stats.multiplicity import adjust
from behavtest.stats.paired import mcnemar_test, paired_t_test
from behavtest.stats.power import binomial_power, fisher_power, significant
from behavtest.stats.rao_scott import clustered_rate_difference, rao_scott_arrays
from behavtest.stats.series import mean_rate_test, peak_test, trend_test
from behavtest.stats.t_planning import t_power
from behavtest.stats.two_sample import score_pvalue_2indep
from behavtest.stats.unpaired import fisher_test
from behavtest.verdict import BehaviourFailed, Inconclusive, Outcome, Verdict

ALPHA = 0.05
SUITE_SIZE = 20
REPS = 4000  # per type-I study; --reps overrides
FWER_REPS = 10_000  # per FWER study; --fwer-reps overrides

Study = Callable[[np.random.Generator], dict[str, Any]]
STUDIES: list[tuple[str, Study]] = []


def study(name: str) -> Callable[[Study], Study]:
    def register(fn: Study) -> Study:
        STUDIES.append((name, fn))
        return fn
    return register


def rejection(hits: int, reps: int, alpha: float = ALPHA, **extra: Any) -> dict[str, Any]:
    """Summary of a type-I study: rate, its binomial SE, and rate <= alpha + 3 SE."""
    rate = hits / reps
    se = math.sqrt(alpha * (1 - alpha) / reps)
    return {"reps": reps, "alpha": alpha, "rate": rate, "se": se,
            "limit": alpha + 3 * se, "ok": rate <= alpha + 3 * se, **extra}


# ------------------------------------------------------------------ FWER of a suite


def _suite_fwer(pvals: np.ndarray, method: str) -> int:
    return sum(
        any(significant(a, ALPHA) for a in adjust(list(row), method)) for row in pvals
    )


def _fwer_study(method: str, kind: str) -> Study:
    def run(rng: np.random.Generator) -> dict[str, Any]:
        reps = FWER_REPS
        if kind == "independent":
            pvals = rng.uniform(size=(reps, SUITE_SIZE))
        elif kind == "binomial":  # exact tests at their boundary rate: discrete, conservative
            ks = rng.binomial(40, 0.2, size=(reps, SUITE_SIZE))
            pvals = sps.binom.sf(ks - 1, 40, 0.2)
        else:  # equicorrelated one-sided z-tests, rho = 0.5
            z = math.sqrt(0.5) * rng.standard_normal((reps, 1)) + math.sqrt(0.5) * (
                rng.standard_normal((reps, SUITE_SIZE))
            )
            pvals = sps.norm.sf(z)
        out = rejection(_suite_fwer(pvals, method), reps, tests=SUITE_SIZE, dependence=kind)
        if method == "none":
            # uncorrected is not supposed to hold alpha; report the theory instead
            out["ok"] = None
            if kind == "independent":
                out["theory"] = 1 - (1 - ALPHA) ** SUITE_SIZE
        return out
    return run


for _method in ("holm", "bh", "none"):
    for _kind in ("independent", "binomial", "correlated"):
        study(f"fwer/{_method}/{_kind}")(_fwer_study(_method, _kind))


# ------------------------------------------------------------------ equivalence (TOST)


def _by_unique(values: np.ndarray, decide: Callable[[Any], bool]) -> int:
    """Count of rows for which ``decide`` is true, calling it once per distinct row."""
    uniq, inv = np.unique(values, axis=0, return_inverse=True)
    dec = np.array([decide(u) for u in uniq])
    return int(dec[np.ravel(inv)].sum())


@study("tost/binomial/false-pass-at-margin")
def _binomial_tost_pass(rng: np.random.Generator) -> dict[str, Any]:
    n, low, high = 861, 0.45, 0.55
    ks = rng.binomial(n, low, size=(REPS, 1))
    hits = _by_unique(
        ks, lambda k: binomial_tost(int(k[0]), n, low, high).decision() is stats.Outcome.PASS
    )
    return rejection(hits, REPS, n=n, margin=[low, high], true=low)


@study("tost/binomial/false-fail-at-margin")
def _binomial_tost_fail(rng: np.random.Generator) -> dict[str, Any]:
    n, low, high = 861, 0.45, 0.55
    ks = rng.binomial(n, low, size=(REPS, 1))
    hits = _by_unique(
        ks, lambda k: binomial_tost(int(k[0]), n, low, high).decision() is stats.Outcome.FAIL
    )
    return rejection(hits, REPS, n=n, margin=[low, high], true=low)


@study("tost/binomial/power-vs-planner")
def _binomial_tost_power(rng: np.random.Generator) -> dict[str, Any]:
    n, low, high = 861, 0.45, 0.55
    ks = rng.binomial(n, 0.5, size=(REPS, 1))
    hits = _by_unique(
        ks, lambda k: binomial_tost(int(k[0]), n, low, high).decision() is stats.Outcome.PASS
    )
    planned = binomial_tost_power(n, 0.5, low, high, ALPHA)
    rate = hits / REPS
    return {"reps": REPS, "rate": rate, "planned": planned, "ok": abs(rate - planned) <= 0.03}


@study("tost/mean/false-pass-at-margin")
def _mean_tost(rng: np.random.Generator) -> dict[str, Any]:
    data = rng.normal(0.5, 1.0, size=(REPS, 20))
    hits = sum(mean_tost(list(r), -0.5, 0.5).decision() is stats.Outcome.PASS for r in data)
    return rejection(hits, REPS, n=20, margin=[-0.5, 0.5], true=0.5)


@study("tost/paired/false-pass-at-margin")
def _paired_tost(rng: np.random.Generator) -> dict[str, Any]:
    x = rng.normal(0.0, 1.0, size=(REPS, 25))
    y = x - 0.3 + rng.normal(0.0, 0.6, size=(REPS, 25))  # mean(x - y) = 0.3 = high
    hits = sum(
        difference_tost_paired(list(a), list(b), -0.3, 0.3).decision() is stats.Outcome.PASS
        for a, b in zip(x, y, strict=True)
    )
    return rejection(hits, REPS, n=25, margin=[-0.3, 0.3], true=0.3)


@study("tost/welch/false-pass-at-margin")
def _welch_tost(rng: np.random.Generator) -> dict[str, Any]:
    xs = rng.normal(-2.0, 1.0, size=(REPS, 40))
    ys = rng.normal(0.0, 3.0, size=(REPS, 12))
    hits = sum(
        difference_tost_welch(list(a), list(b), -2.0, 2.0).decision() is stats.Outcome.PASS
        for a, b in zip(xs, ys, strict=True)
    )
    return rejection(hits, REPS, n=[40, 12], sd=[1, 3], margin=[-2, 2], true=-2)


@study("tost/rate-difference/false-pass-at-margin")
def _rate_difference_tost(rng: np.random.Generator) -> dict[str, Any]:
    n, low, high = 200, -0.1, 0.1
    ks = np.column_stack([rng.binomial(n, 0.2, REPS), rng.binomial(n, 0.3, REPS)])

    def passes(k: np.ndarray) -> bool:
        k1, k2 = int(k[0]), int(k[1])
        p = max(score_pvalue_2indep(k1, n, k2, n, low, "greater"),
                score_pvalue_2indep(k1, n, k2, n, high, "less"))
        return significant(p, ALPHA)

    return rejection(_by_unique(ks, passes), REPS, n=n, rates=[0.2, 0.3], margin=[low, high])


# ------------------------------------------------------------------ checkpoint series


@study("series/peak/greater-all-at-threshold")
def _peak_greater(rng: np.random.Generator) -> dict[str, Any]:
    ks = rng.binomial(100, 0.1, size=(REPS, 5))
    hits = sum(significant(peak_test(list(r), [100] * 5, 0.1)[0].p_greater, ALPHA) for r in ks)
    return rejection(hits, REPS, n=100, rates=[0.1] * 5, threshold=0.1)


@study("series/peak/less-one-at-threshold")
def _peak_less(rng: np.random.Generator) -> dict[str, Any]:
    rates = [0.02, 0.02, 0.1, 0.02, 0.02]
    ks = rng.binomial(100, np.array(rates), size=(REPS, 5))
    hits = sum(significant(peak_test(list(r), [100] * 5, 0.1)[0].p_less, ALPHA) for r in ks)
    return rejection(hits, REPS, n=100, rates=rates, threshold=0.1)


@study("series/mean-rate/greater-heterogeneous")
def _mean_rate(rng: np.random.Generator) -> dict[str, Any]:
    rates = [0.02, 0.25, 0.1, 0.1, 0.03]  # mean 0.1
    ks = rng.binomial(100, np.array(rates), size=(REPS, 5))
    hits = sum(significant(mean_rate_test(list(r), [100] * 5, 0.1).p_greater, ALPHA) for r in ks)
    return rejection(hits, REPS, n=100, rates=rates, threshold=0.1)


def _trend_study(direction: str) -> Study:
    def run(rng: np.random.Generator) -> dict[str, Any]:
        ks = rng.binomial(100, 0.1, size=(REPS, 5))
        hits = sum(
            significant(trend_test(list(r), [100] * 5).p_for(direction), ALPHA) for r in ks
        )
        return rejection(hits, REPS, n=100, rates=[0.1] * 5, direction=direction)
    return run


study("series/trend/greater-flat")(_trend_study("greater"))
study("series/trend/less-flat")(_trend_study("less"))


# ------------------------------------------------------------------ every test type: size and power
#
# One study per test the harness can pick (expect.py's module docstring), each
# measuring both errors it promises:
#
# * type-I: the true value sits ON the null boundary (rate == threshold, equal
#   rates, zero mean difference), where a one-sided test rejects most often;
#   both one-sided claims there are false, so both are counted and the larger
#   is reported. Limit: alpha + 3 SE of simulation (SE at alpha).
# * power: a true effect, and the PASS rate against the planner's prediction.
#   Limit: max(0.03, 3 SE at the planned power), so 0.03 ("within 3 points")
#   at the bench's 20000 repetitions (1000 end to end: up to 0.047), wider and
#   stated in the fast tests.
#
# Studies named e2e/... run the harness end to end, as a user test does:
# ScriptedProvider -> ModelHandle (-> ModelGroup) -> Samples/GroupSamples ->
# expect(...).rate_at_least / .above. The others draw counts with numpy and
# apply the stats functions (vectorised copies are checked against the library
# function on their first rows, to 1e-9). Each study is fn(rng, reps) in
# CALIBRATIONS, so tests/test_calibration_suite.py runs the same code with
# fewer repetitions.

LEVEL = ALPHA * (1.0 - 1e-9)  # the `significant` rule, vectorised
TYPE_REPS = 20_000  # numpy studies are cheap: SE 0.0015 at alpha; --type-reps overrides
E2E_REPS = 1000  # end-to-end studies draw every reply through the double (~75 us each)
PROMPT = "Answer yes or no."
ICC_FLOOR = 0.1  # the harness's default --behav-icc: least ICC assumed for clustered rates
PROMPT_KEY = "[prompt {:02d}]"
YES = Scorer("yes", lambda text: text == "yes")

Calibration = Callable[[np.random.Generator, int], dict[str, Any]]
CALIBRATIONS: dict[str, Calibration] = {}


def calibration(name: str, end_to_end: bool = False) -> Callable[[Calibration], Calibration]:
    """Register fn(rng, reps) as a study run with TYPE_REPS (E2E_REPS end to end)."""
    def register(fn: Calibration) -> Calibration:
        CALIBRATIONS[name] = fn
        STUDIES.append((name, lambda rng: fn(rng, E2E_REPS if end_to_end else TYPE_REPS)))
        return fn
    return register


def calibrated(
    reps: int, false_pass: dict[str, float], power: float | None = None,
    planner: float | None = None, **extra: Any,
) -> dict[str, Any]:
    """Summary of a size-and-power study. ``false_pass``: claim -> PASS rate at
    the null boundary; ``power``: PASS rate under the alternative."""
    se = math.sqrt(ALPHA * (1 - ALPHA) / reps)
    type1 = max(false_pass.values())
    out: dict[str, Any] = {
        "reps": reps, "alpha": ALPHA, "type1": type1, "type1_by_claim": false_pass,
        "se": se, "limit": ALPHA + 3 * se,
    }
    ok = type1 <= ALPHA + 3 * se
    if power is not None and planner is not None:
        tol = max(0.03, 3 * math.sqrt(planner * (1 - planner) / reps))
        out.update(power=power, planner=planner, diff=abs(power - planner), tolerance=tol)
        ok = ok and abs(power - planner) <= tol
    out["ok"] = bool(ok)
    return {**out, **extra}


def _rej(p: Any) -> Any:
    return np.asarray(p) < LEVEL


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _check_rows(name: str, vectorised: np.ndarray, library: Callable[[int], float],
                rows: int = 25) -> None:
    """The vectorised p-values equal the library function's on the first rows."""
    for i in range(min(rows, len(vectorised))):
        want = library(i)
        if not _close(float(vectorised[i]), want):
            raise AssertionError(f"{name}: row {i}: vectorised {vectorised[i]} != {want}")


def _beta(rng: np.random.Generator, mean: float, var: float, size: Any) -> np.ndarray:
    """Beta draws with this mean and variance (a constant when var == 0)."""
    if var == 0.0:
        return np.full(size, mean)
    s = mean * (1 - mean) / var - 1.0  # a + b
    return np.asarray(rng.beta(mean * s, (1 - mean) * s, size=size))


def _cluster_rates(rng: np.random.Generator, mean: float, icc: float, size: Any) -> np.ndarray:
    """Per-prompt true rates whose replies have intra-cluster correlation icc:
    Var(rate) = icc * mean (1 - mean); the generator the planners simulate with."""
    return np.asarray(beta_rates(rng, mean, icc, size))


def _seed_rates(rng: np.random.Generator, mean: float, sd: float, size: Any) -> np.ndarray:
    """Per-seed true rates of an arm: mean and between-seed sd."""
    return _beta(rng, mean, sd * sd, size)


# -- the harness, end to end -------------------------------------------------------


@contextmanager
def _harness() -> Iterator[None]:
    """expect() judged at ALPHA and recorded nowhere (inside pytest the plugin's
    per-test context would collect every verdict), made cheap without changing
    any outcome: the exact bounds and p-values of integer counts are memoised
    (same answers, computed once per distinct input), and the three functions
    that only word the power of a non-PASS verdict after its outcome is
    decided (``t_detectable``, ``min_detectable_rate``, ``detectable_gap``:
    10-100 ms of root finding each, on different inputs every repetition)
    answer "unknown" here."""
    memoised = ("one_sided_bounds", "binomial_pvalue")
    wording = {"t_detectable": lambda *a, **k: math.nan,
               "min_detectable_rate": lambda *a, **k: None,
               "detectable_gap": lambda *a, **k: (None, True)}
    saved = {k: getattr(stats, k) for k in (*memoised, *wording)}
    for k in memoised:
        setattr(stats, k, functools.lru_cache(maxsize=None)(saved[k]))
    for k, fn in wording.items():
        setattr(stats, k, fn)
    token = current_context.set(ExpectContext(alpha=ALPHA, icc=ICC_FLOOR))
    try:
        yield
    finally:
        current_context.reset(token)
        for k, fn in saved.items():
            setattr(stats, k, fn)


def _prompts(m: int) -> list[str]:
    return [f"Answer yes or no. {PROMPT_KEY.format(j)}" for j in range(m)]


def _double(label: str, rates: float | Sequence[float] | np.ndarray, seed: int) -> ModelHandle:
    """A scripted model replying "yes" at ``rates`` (one rate, or one per prompt
    of ``_prompts``), drawing with run seed ``seed``."""
    def table(r: float) -> dict[str, float]:
        return {"yes": float(r), "no": 1.0 - float(r)}

    if isinstance(rates, (int, float)):
        provider = ScriptedProvider(table(rates), label=label)
    else:
        provider = ScriptedProvider(
            table(0.5), by_prompt={PROMPT_KEY.format(j): table(r) for j, r in enumerate(rates)},
            label=label,
        )
    return ModelHandle(spec=label, factory=lambda: provider, run=RunSettings(seed=seed),
                       cache=SampleCache(None, "off"))


def _verdict(check: Callable[[Any], Expectation], arg: Any) -> Verdict:
    """The verdict of ``check(arg)``, whether it returned or raised."""
    try:
        return check(arg).verdicts[-1]
    except (BehaviourFailed, Inconclusive) as exc:
        return exc.verdict


def _passes(check: Callable[[Any], Expectation], arg: Any) -> bool:
    return _verdict(check, arg).outcome is Outcome.PASS


# -- one prompt: exact binomial ------------------------------------------------------

BINOMIAL: dict[str, Any] = {"n": 50, "threshold": 0.3, "rate": 0.45}


@calibration("binomial/one-prompt")
def _binomial(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    n, t, p1 = BINOMIAL["n"], BINOMIAL["threshold"], BINOMIAL["rate"]
    ks = np.arange(n + 1)
    passes = {d: _rej([binomial_pvalue(int(k), n, t, d) for k in ks]) for d in ("greater", "less")}
    null = rng.binomial(n, t, size=reps)
    alt = rng.binomial(n, p1, size=reps)
    exact = {d: float(sps.binom.pmf(ks, n, t)[passes[d]].sum()) for d in passes}
    return calibrated(
        reps, {f"rate_at_least({t})": float(passes["greater"][null].mean()),
               f"rate_at_most({t})": float(passes["less"][null].mean())},
        float(passes["greater"][alt].mean()), binomial_power(n, p1, t, ALPHA),
        design=BINOMIAL, exact_type1=exact, planner_name="binomial_power",
    )


@calibration("e2e/binomial/one-prompt", end_to_end=True)
def _binomial_e2e(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    n, t, p1 = BINOMIAL["n"], BINOMIAL["threshold"], BINOMIAL["rate"]
    seed0 = int(rng.integers(2**31))
    least = most = power = 0
    methods: set[str] = set()
    with _harness():
        for r in range(reps):
            null = _double("double/at-threshold", t, seed0 + r).sample(PROMPT, n=n)
            least += _passes(expect(null, YES).rate_at_least, t)
            most += _passes(expect(null, YES).rate_at_most, t)
            alt = _double("double/above", p1, seed0 + r).sample(PROMPT, n=n)
            v = _verdict(expect(alt, YES).rate_at_least, t)
            power += v.outcome is Outcome.PASS
            methods.add(v.test.method)
    return calibrated(
        reps, {f"rate_at_least({t})": least / reps, f"rate_at_most({t})": most / reps},
        power / reps, binomial_power(n, p1, t, ALPHA), design=BINOMIAL,
        planner_name="binomial_power", methods=sorted(methods),
    )


# -- one prompt each, against a baseline: Fisher -------------------------------------

FISHER: dict[str, Any] = {"n": 40, "baseline": 0.3, "rate": 0.6}


@calibration("fisher/one-prompt-vs-baseline")
def _fisher(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    n, p0, p1 = FISHER["n"], FISHER["baseline"], FISHER["rate"]
    pv = functools.cache(lambda a, b, d: fisher_test(a, n, b, n, ALPHA).p_for(d))

    def rate(kx: np.ndarray, ky: np.ndarray, d: str) -> float:
        return float(np.mean([pv(int(a), int(b), d) < LEVEL for a, b in zip(kx, ky, strict=True)]))

    x0, y0 = rng.binomial(n, p0, size=reps), rng.binomial(n, p0, size=reps)
    x1, y1 = rng.binomial(n, p1, size=reps), rng.binomial(n, p0, size=reps)
    return calibrated(
        reps, {"above": rate(x0, y0, "greater"), "below": rate(x0, y0, "less")},
        rate(x1, y1, "greater"), fisher_power(n, n, p1, p0, ALPHA), design=FISHER,
        planner_name="fisher_power",
    )


# -- paired prompts, one reply each: McNemar -----------------------------------------

MCNEMAR: dict[str, Any] = {"prompts": 40, "baseline_rates": [0.2, 0.6], "shift": 0.2}


def mcnemar_power(
    px: Sequence[float] | np.ndarray, py: Sequence[float] | np.ndarray, alpha: float,
    direction: str = "greater",
) -> float:
    """Exact power of the one-sided exact McNemar test (``mcnemar_test``) when
    pair i is discordant "x only" with probability px_i (1 - py_i) and "y
    only" with (1 - px_i) py_i, independently over pairs: the joint law of
    the discordant counts (b, c) by dynamic programming over the pairs, summed
    over the (b, c) whose conditional binomial p-value is significant. With
    identical pairs this is the textbook sum over the number of discordant
    pairs, b | b + c ~ Bin(b + c, p10 / (p10 + p01))."""
    m = len(px)
    dist = np.zeros((m + 1, m + 1))
    dist[0, 0] = 1.0
    for a, b in zip(px, py, strict=True):
        only_x, only_y = a * (1 - b), (1 - a) * b
        new = dist * (1 - only_x - only_y)
        new[1:, :] += dist[:-1, :] * only_x
        new[:, 1:] += dist[:, :-1] * only_y
        dist = new
    xs, ys = np.indices(dist.shape)
    d = xs + ys
    if direction == "greater":
        p = np.where(d > 0, sps.binom.sf(xs - 1, np.maximum(d, 1), 0.5), 1.0)
    else:
        p = np.where(d > 0, sps.binom.cdf(xs, np.maximum(d, 1), 0.5), 1.0)
    return float(dist[p < alpha * (1.0 - 1e-9)].sum())


def _mcnemar_rates() -> tuple[np.ndarray, np.ndarray]:
    lo, hi = MCNEMAR["baseline_rates"]
    base = np.linspace(lo, hi, MCNEMAR["prompts"])
    return base, base + MCNEMAR["shift"]


def _mcnemar_p(x: np.ndarray, y: np.ndarray, direction: str) -> np.ndarray:
    b = np.sum(x & ~y, axis=-1)
    c = np.sum(~x & y, axis=-1)
    d = np.maximum(b + c, 1)
    p = sps.binom.sf(b - 1, d, 0.5) if direction == "greater" else sps.binom.cdf(b, d, 0.5)
    return np.where(b + c > 0, p, 1.0)


@calibration("mcnemar/paired-prompts-one-reply")
def _mcnemar(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    base, shifted = _mcnemar_rates()
    m = len(base)
    y0, x0 = rng.random((reps, m)) < base, rng.random((reps, m)) < base
    y1, x1 = rng.random((reps, m)) < base, rng.random((reps, m)) < shifted
    p0 = {d: _mcnemar_p(x0, y0, d) for d in ("greater", "less")}
    _check_rows("mcnemar", p0["greater"],
                lambda i: mcnemar_test(list(x0[i]), list(y0[i]), ALPHA).p_greater)
    return calibrated(
        reps, {"above": float(_rej(p0["greater"]).mean()), "below": float(_rej(p0["less"]).mean())},
        float(_rej(_mcnemar_p(x1, y1, "greater")).mean()), mcnemar_power(shifted, base, ALPHA),
        design=MCNEMAR, exact_type1=mcnemar_power(base, base, ALPHA),
        planner_name="exact McNemar power (sum over discordant counts)",
    )


@calibration("e2e/mcnemar/paired-prompts-one-reply", end_to_end=True)
def _mcnemar_e2e(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    base, shifted = _mcnemar_rates()
    prompts = _prompts(len(base))
    seed0 = int(rng.integers(2**31))
    above = below = power = 0
    methods: set[str] = set()
    with _harness():
        for r in range(reps):
            y = _double("double/baseline", base, seed0 + r).sample(prompts=prompts, n=1)
            x0 = _double("double/same", base, seed0 + r).sample(prompts=prompts, n=1)
            above += _passes(expect(x0, YES).above, y)
            below += _passes(expect(x0, YES).below, y)
            x1 = _double("double/shifted", shifted, seed0 + r).sample(prompts=prompts, n=1)
            v = _verdict(expect(x1, YES).above, y)
            power += v.outcome is Outcome.PASS
            methods.add(v.test.method)
    return calibrated(reps, {"above": above / reps, "below": below / reps}, power / reps,
                      mcnemar_power(shifted, base, ALPHA), design=MCNEMAR,
                      planner_name="exact McNemar power (sum over discordant counts)",
                      methods=sorted(methods))


# -- paired prompts, several replies each: paired t / sign flip ----------------------

PAIRED: dict[str, Any] = {"prompts": 10, "per_prompt": 10, "baseline_rates": [0.2, 0.6],
                          "shift": 0.1, "shift_sd": 0.05}
PAIRED_E2E: dict[str, Any] = {**PAIRED, "prompts": 8, "per_prompt": 8, "shift": 0.12}


def _paired_rates(rng: np.random.Generator, design: dict[str, Any], shift: float,
                  reps: int) -> tuple[np.ndarray, np.ndarray]:
    """Baseline per-prompt rates (fixed, evenly spaced) and the model's: the
    baseline's plus a per-prompt change drawn N(shift, shift_sd) (fine-tuning
    moves prompts by different amounts); rows are repetitions."""
    lo, hi = design["baseline_rates"]
    base = np.linspace(lo, hi, design["prompts"])
    change = shift + design["shift_sd"] * rng.standard_normal((reps, design["prompts"]))
    return base, np.clip(base + change, 0.0, 1.0)


def _paired_planner(design: dict[str, Any], shift: float) -> float:
    """t_power for the paired t test on per-prompt rate differences: per-prompt
    difference variance = sd^2 + E[p_x(1 - p_x)]/n + p_y(1 - p_y)/n (law of
    total variance, averaged over prompts), m - 1 df."""
    lo, hi = design["baseline_rates"]
    base = np.linspace(lo, hi, design["prompts"])
    n, sd, m = design["per_prompt"], design["shift_sd"], design["prompts"]
    px = base + shift
    var = sd**2 + float(np.mean(px * (1 - px) - sd**2 + base * (1 - base))) / n
    return t_power(shift, math.sqrt(var / m), m - 1, ALPHA)


def _paired_t_p(d: np.ndarray, direction: str) -> np.ndarray:
    """paired_t_test's one-sided p (scipy ttest_1samp; the zero-spread limit)."""
    m = d.shape[-1]
    mean = d.mean(axis=-1)
    sd = d.std(axis=-1, ddof=1)
    flat = np.ptp(d, axis=-1) <= 1e-12 * np.maximum(1.0, np.abs(d).max(axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / (sd / math.sqrt(m))
    p = sps.t.sf(t, m - 1) if direction == "greater" else sps.t.cdf(t, m - 1)
    limit = np.where(mean > 1e-12 if direction == "greater" else mean < -1e-12, 0.0, 1.0)
    return np.where(flat, limit, p)


def _paired_counts(rng: np.random.Generator, shift: float, reps: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    n = PAIRED["per_prompt"]
    base, px = _paired_rates(rng, PAIRED, shift, reps)
    return rng.binomial(n, px) / n, rng.binomial(n, np.broadcast_to(base, px.shape)) / n


@calibration("paired-t/paired-prompts")
def _paired_t(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    x0, y0 = _paired_counts(rng, 0.0, reps)
    x1, y1 = _paired_counts(rng, PAIRED["shift"], reps)
    p0 = {d: _paired_t_p(x0 - y0, d) for d in ("greater", "less")}
    _check_rows("paired t", p0["greater"],
                lambda i: paired_t_test(list(x0[i]), list(y0[i]), ALPHA).p_greater)
    return calibrated(
        reps, {"above": float(_rej(p0["greater"]).mean()), "below": float(_rej(p0["less"]).mean())},
        float(_rej(_paired_t_p(x1 - y1, "greater")).mean()),
        _paired_planner(PAIRED, PAIRED["shift"]), design=PAIRED,
        planner_name="t_power (per-prompt differences, m - 1 df)",
    )


def _sign_flip_p(d: np.ndarray, direction: str) -> np.ndarray:
    """sign_flip_test's exact p (all 2**m sign patterns) for differences of
    rates with a common denominator n: the sums are taken on the integer
    count differences, so ties are exact ties (scipy detects them with a
    relative tolerance, which is 0 when the observed mean is 0)."""
    n = PAIRED["per_prompt"]
    counts = np.round(d * n)
    m = d.shape[-1]
    signs = 1.0 - 2.0 * ((np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1)
    null = counts @ signs.T  # exact: small integers in float64
    obs = counts.sum(axis=-1)[:, None]
    hits = null >= obs if direction == "greater" else null <= obs
    return np.asarray(hits.mean(axis=-1))


@calibration("sign-flip/paired-prompts")
def _sign_flip(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    x0, y0 = _paired_counts(rng, 0.0, reps)
    x1, y1 = _paired_counts(rng, PAIRED["shift"], reps)
    p0 = {d: _sign_flip_p(x0 - y0, d) for d in ("greater", "less")}
    for i in range(10):  # scipy's p where the observed mean is not 0 (see _sign_flip_p)
        if abs(float(np.sum(x0[i] - y0[i]))) > 1e-9:
            want = sign_flip_test(list(x0[i]), list(y0[i]), ALPHA).p_greater
            if not _close(float(p0["greater"][i]), want):
                raise AssertionError(f"sign flip: row {i}: {p0['greater'][i]} != {want}")
    return calibrated(
        reps, {"greater": float(_rej(p0["greater"]).mean()),
               "less": float(_rej(p0["less"]).mean())},
        float(_rej(_sign_flip_p(x1 - y1, "greater")).mean()),
        sign_flip_power(np.linspace(*PAIRED["baseline_rates"], PAIRED["prompts"]),
                        PAIRED["shift"], PAIRED["per_prompt"], ALPHA,
                        shift_sd=PAIRED["shift_sd"], reps=20_000),
        design=PAIRED, planner_name="sign_flip_power (simulation, own seed; t_power, the "
        f"paired t's, says {_paired_planner(PAIRED, PAIRED['shift']):.3f})",
        note="not chosen by expect(); kept in bench/sign_flip.py for comparison",
    )


@calibration("e2e/paired-t/paired-prompts", end_to_end=True)
def _paired_t_e2e(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    design, n = PAIRED_E2E, PAIRED_E2E["per_prompt"]
    prompts = _prompts(design["prompts"])
    seed0 = int(rng.integers(2**31))
    above = below = power = 0
    methods: set[str] = set()
    with _harness():
        for r in range(reps):
            base, same = _paired_rates(rng, design, 0.0, 1)
            _, shifted = _paired_rates(rng, design, design["shift"], 1)
            y = _double("double/baseline", base, seed0 + r).sample(prompts=prompts, n=n)
            x0 = _double("double/same", same[0], seed0 + r).sample(prompts=prompts, n=n)
            above += _passes(expect(x0, YES).above, y)
            below += _passes(expect(x0, YES).below, y)
            x1 = _double("double/shifted", shifted[0], seed0 + r).sample(prompts=prompts, n=n)
            v = _verdict(expect(x1, YES).above, y)
            power += v.outcome is Outcome.PASS
            methods.add(v.test.method)
    return calibrated(reps, {"above": above / reps, "below": below / reps}, power / reps,
                      _paired_planner(design, design["shift"]), design=design,
                      planner_name="t_power (per-prompt differences, m - 1 df)",
                      methods=sorted(methods))


# -- different prompts on each side: Rao-Scott score test on effective counts --------
# (Welch's t on per-prompt rates, used here before, passed the false claim 0.070 of
# the time on RAO_SCOTT's design and 0.12 at rate 0.1: skewed prompt rates.)

RAO_SCOTT: dict[str, Any] = {"prompts": [8, 12], "per_prompt": [20, 20], "icc": [0.15, 0.05],
                             "baseline": 0.3, "rate": 0.45, "icc_floor": ICC_FLOOR}
# where the icc floor's assumption or the number of prompts runs out (measured, marked)
RAO_SCOTT_RARE: dict[str, Any] = {**RAO_SCOTT, "icc": [0.3, 0.3], "baseline": 0.1,
                                  "rate": 0.25}
RAO_SCOTT_ONE: dict[str, Any] = {**RAO_SCOTT, "prompts": [1, 8], "per_prompt": [60, 10],
                                 "icc": [0.1, 0.1], "rate": 0.5}


def _rao_scott_study(design: dict[str, Any]) -> Calibration:
    def run(rng: np.random.Generator, reps: int) -> dict[str, Any]:
        (mx, my), (nx, ny), (ix, iy) = design["prompts"], design["per_prompt"], design["icc"]
        p0, p1, floor = design["baseline"], design["rate"], design["icc_floor"]

        def counts(mean: float, icc: float, m: int, n: int) -> np.ndarray:
            return np.asarray(rng.binomial(n, _cluster_rates(rng, mean, icc, (reps, m))))

        def test(kx: np.ndarray, ky: np.ndarray) -> dict[str, Any]:
            return rao_scott_arrays(kx, np.full(kx.shape, nx), ky, np.full(ky.shape, ny), floor)

        x0, y0, x1 = counts(p0, ix, mx, nx), counts(p0, iy, my, ny), counts(p1, ix, mx, nx)
        null = test(x0, y0)
        _check_rows("rao-scott", null["p_greater"], lambda i: clustered_rate_difference(
            list(x0[i]), [nx] * mx, list(y0[i]), [ny] * my, ALPHA, icc=floor).p_greater)
        return calibrated(
            reps, {"above": float(_rej(null["p_greater"]).mean()),
                   "below": float(_rej(null["p_less"]).mean())},
            float(_rej(test(x1, counts(p0, iy, my, ny))["p_greater"]).mean()),
            clustered_difference_power(p1, p0, mx, nx, my, ny, ALPHA, icc=floor,
                                       true_icc_x=ix, true_icc_y=iy),
            design=design, planner_name="clustered_difference_power (simulation, own seed)",
        )
    return run


calibration("rao-scott/prompt-rates-unpaired")(_rao_scott_study(RAO_SCOTT))
calibration("rao-scott/rare-rate/true-icc-0.3")(_rao_scott_study(RAO_SCOTT_RARE))
calibration("rao-scott/one-prompt-vs-prompts")(_rao_scott_study(RAO_SCOTT_ONE))


# -- several prompts (clusters): Korn-Graubard rate with the icc floor ---------------

KG: dict[str, Any] = {"prompts": 10, "per_prompt": 20, "threshold": 0.3, "rate": 0.42,
                      "icc_floor": ICC_FLOOR}
KG_E2E: dict[str, Any] = {**KG, "prompts": 8, "per_prompt": 10, "rate": 0.48}


def _kg_study(true_icc: float, design: dict[str, Any] = KG, claim: str = "greater"
              ) -> Calibration:
    def run(rng: np.random.Generator, reps: int) -> dict[str, Any]:
        m, n, t, p1 = design["prompts"], design["per_prompt"], design["threshold"], design["rate"]
        floor = design["icc_floor"]
        sizes = np.full((reps, m), n)

        def kg(rate: float) -> dict[str, Any]:
            k = rng.binomial(n, _cluster_rates(rng, rate, true_icc, (reps, m)))
            return korn_graubard_arrays(k, sizes, t, ALPHA, icc=floor)

        null, alt = kg(t), kg(p1)
        side = "p_greater" if claim == "greater" else "p_less"
        return calibrated(
            reps, {f"rate_at_least({t})": float(_rej(null["p_greater"]).mean()),
                   f"rate_at_most({t})": float(_rej(null["p_less"]).mean())},
            float(_rej(alt[side]).mean()),
            clustered_rate_power(p1, t, m, n, ALPHA, icc=floor, true_icc=true_icc,
                                 direction=claim),
            design={**design, "true_icc": true_icc},
            planner_name="clustered_rate_power",
            planned_type1={d: clustered_rate_power(t, t, m, n, ALPHA, icc=floor,
                                                   true_icc=true_icc, direction=d)
                           for d in ("greater", "less")},
        )
    return run


for _icc in (0.0, 0.05, 0.1, 0.3):
    calibration(f"korn-graubard/prompts/true-icc-{_icc:g}")(_kg_study(_icc))

KG_RARE: dict[str, Any] = {"prompts": 10, "per_prompt": 20, "threshold": 0.1, "rate": 0.04,
                           "icc_floor": ICC_FLOOR}
calibration("korn-graubard/rare-rate-at-most/true-icc-0.3")(_kg_study(0.3, KG_RARE, "less"))
calibration("korn-graubard/rare-rate-at-most/true-icc-0.1")(_kg_study(0.1, KG_RARE, "less"))


@calibration("e2e/korn-graubard/prompts/true-icc-0.1", end_to_end=True)
def _kg_e2e(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    d = KG_E2E
    m, n, t, p1, icc = d["prompts"], d["per_prompt"], d["threshold"], d["rate"], ICC_FLOOR
    prompts = _prompts(m)
    seed0 = int(rng.integers(2**31))
    least = most = power = 0
    methods: set[str] = set()
    with _harness():
        for r in range(reps):
            null = _double("double/at-threshold", _cluster_rates(rng, t, icc, m), seed0 + r)
            s0 = null.sample(prompts=prompts, n=n)
            least += _passes(expect(s0, YES).rate_at_least, t)
            most += _passes(expect(s0, YES).rate_at_most, t)
            alt = _double("double/above", _cluster_rates(rng, p1, icc, m), seed0 + r)
            v = _verdict(expect(alt.sample(prompts=prompts, n=n), YES).rate_at_least, t)
            power += v.outcome is Outcome.PASS
            methods.add(v.test.method)
    return calibrated(
        reps, {f"rate_at_least({t})": least / reps, f"rate_at_most({t})": most / reps},
        power / reps, clustered_rate_power(p1, t, m, n, ALPHA, icc=ICC_FLOOR, true_icc=icc),
        design={**d, "true_icc": icc}, planner_name="clustered_rate_power",
        methods=sorted(methods),
    )


# -- several prompts, numeric scores: cluster-robust mean ----------------------------

CMEAN: dict[str, Any] = {"clusters": 8, "per_cluster": 15, "type1_sizes": [10, 20],
                         "between_sd": 0.3, "within_sd": 1.0, "effect": 0.3}


def _cr1_p(values: np.ndarray, mask: np.ndarray, direction: str) -> np.ndarray:
    """clustered_mean's one-sided p for null 0 (CR1 variance, m - 1 df), rows of
    (clusters x slots) with ``mask`` marking the values present."""
    m = values.shape[1]
    y = np.where(mask, values, 0.0)
    total = mask.sum(axis=(1, 2))
    mean = y.sum(axis=(1, 2)) / total
    sums = y.sum(axis=2) - mask.sum(axis=2) * mean[:, None]
    se = np.sqrt(m / (m - 1) * np.sum(sums**2, axis=1) / total**2)
    t = mean / se
    return np.asarray(sps.t.sf(t, m - 1) if direction == "greater" else sps.t.cdf(t, m - 1))


@calibration("cluster-robust-mean/prompts")
def _cluster_mean(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    m, n, (lo, hi) = CMEAN["clusters"], CMEAN["per_cluster"], CMEAN["type1_sizes"]
    b, w, eff = CMEAN["between_sd"], CMEAN["within_sd"], CMEAN["effect"]

    def draw(mean: float, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        slots = int(sizes.max())
        vals = (mean + b * rng.standard_normal((reps, m, 1))
                + w * rng.standard_normal((reps, m, slots)))
        return vals, np.arange(slots)[None, None, :] < sizes[:, :, None]

    v0, k0 = draw(0.0, rng.integers(lo, hi + 1, size=(reps, m)))
    g0 = _cr1_p(v0, k0, "greater")
    _check_rows("cluster-robust mean", g0, lambda i: clustered_mean(
        [list(v0[i, j][k0[i, j]]) for j in range(m)], 0.0, ALPHA).p_greater)
    v1, k1 = draw(eff, np.full((reps, m), n))
    return calibrated(
        reps, {"mean_at_least(0)": float(_rej(g0).mean()),
               "mean_at_most(0)": float(_rej(_cr1_p(v0, k0, "less")).mean())},
        float(_rej(_cr1_p(v1, k1, "greater")).mean()),
        clustered_mean_power(eff, b, w, m, n, ALPHA), design=CMEAN,
        planner_name="clustered_mean_power",
        note="type-I with unequal cluster sizes (10-20), power with 15 per cluster",
    )


# -- arms of fine-tune seeds ---------------------------------------------------------

ARM_VALUE: dict[str, Any] = {"models": 5, "per_model": 50, "between_sd": 0.08, "value": 0.3,
                             "rate": 0.42}
ARMS: dict[str, Any] = {"models": [5, 5], "per_model": 50, "between_sd": 0.08, "baseline": 0.3,
                        "rate": 0.45}
ARMS_FLAT: dict[str, Any] = {"models": [4, 4], "per_model": 50, "between_sd": 0.0,
                             "baseline": 0.3, "rate": 0.4}
ARMS_E2E: dict[str, Any] = {"models": [4, 4], "per_model": 20, "between_sd": 0.1,
                            "baseline": 0.3, "rate": 0.5}
ARM_SINGLE: dict[str, Any] = {"models": 5, "per_model": 50, "between_sd": 0.08, "single_n": 200,
                              "baseline": 0.3, "rate": 0.42}


def _arm_rates(rng: np.random.Generator, mean: float, sd: float, models: int, n: int,
               reps: int) -> np.ndarray:
    """Observed per-model rates: seed rates around the arm mean, then n samples each."""
    return rng.binomial(n, _seed_rates(rng, mean, sd, (reps, models))) / n


def _floored(rates: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Arm mean and between-model variance floored at mean(1 - mean)/n (arms._floored_var)."""
    mean = rates.mean(axis=1)
    return mean, np.maximum(rates.var(axis=1, ddof=1), mean * (1 - mean) / n)


def _welch_p(diff: np.ndarray, sx2: np.ndarray, dfx: float, sy2: np.ndarray, dfy: float,
             direction: str) -> np.ndarray:
    """arms._welch's one-sided p (Welch-Satterthwaite df; every variance > 0 here)."""
    se2 = sx2 + sy2
    df = se2**2 / (sx2**2 / dfx + sy2**2 / dfy)
    t = diff / np.sqrt(se2)
    return np.asarray(sps.t.sf(t, df) if direction == "greater" else sps.t.cdf(t, df))


@calibration("arm-vs-value/seeds")
def _arm_value(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    m, n, sd, v, p1 = (ARM_VALUE[k] for k in ("models", "per_model", "between_sd", "value",
                                              "rate"))

    def p(rates: np.ndarray, d: str) -> np.ndarray:
        mean, var = _floored(rates, n)
        t = (mean - v) / np.sqrt(var / m)
        return np.asarray(sps.t.sf(t, m - 1) if d == "greater" else sps.t.cdf(t, m - 1))

    r0 = _arm_rates(rng, v, sd, m, n, reps)
    g0 = p(r0, "greater")
    _check_rows("arm_vs_value", g0, lambda i: arm_vs_value(
        list(r0[i]), v, ALPHA, sizes=[n] * m, successes=[round(x * n) for x in r0[i]]).p_greater)
    r1 = _arm_rates(rng, p1, sd, m, n, reps)
    return calibrated(
        reps, {f"rate_at_least({v})": float(_rej(g0).mean()),
               f"rate_at_most({v})": float(_rej(p(r0, "less")).mean())},
        float(_rej(p(r1, "greater")).mean()), arm_value_power(p1, v, sd, m, n, ALPHA),
        design=ARM_VALUE, planner_name="arm_value_power",
        naive_planner=t_power(p1 - v, math.sqrt((sd**2 * (1 - 1 / n) + p1 * (1 - p1) / n) / m),
                              m - 1, ALPHA),
    )


def _arms_study(design: dict[str, Any]) -> Calibration:
    def run(rng: np.random.Generator, reps: int) -> dict[str, Any]:
        (mx, my), n, sd = design["models"], design["per_model"], design["between_sd"]
        p0, p1 = design["baseline"], design["rate"]

        def p(x: np.ndarray, y: np.ndarray, d: str) -> np.ndarray:
            (ax, vx), (ay, vy) = _floored(x, n), _floored(y, n)
            return _welch_p(ax - ay, vx / mx, mx - 1, vy / my, my - 1, d)

        x0, y0 = _arm_rates(rng, p0, sd, mx, n, reps), _arm_rates(rng, p0, sd, my, n, reps)
        g0 = p(x0, y0, "greater")
        _check_rows("arm_vs_arm", g0, lambda i: arm_vs_arm(
            list(x0[i]), list(y0[i]), ALPHA, x_sizes=[n] * mx, y_sizes=[n] * my).p_greater)
        x1, y1 = _arm_rates(rng, p1, sd, mx, n, reps), _arm_rates(rng, p0, sd, my, n, reps)
        vx1 = sd**2 * (1 - 1 / n) + p1 * (1 - p1) / n
        vy1 = sd**2 * (1 - 1 / n) + p0 * (1 - p0) / n
        se2 = vx1 / mx + vy1 / my
        df = se2**2 / ((vx1 / mx) ** 2 / (mx - 1) + (vy1 / my) ** 2 / (my - 1))
        return calibrated(
            reps, {"above": float(_rej(g0).mean()), "below": float(_rej(p(x0, y0, "less")).mean())},
            float(_rej(p(x1, y1, "greater")).mean()), arm_power(p1, p0, sd, mx, my, n, ALPHA),
            design=design, planner_name="arm_power",
            naive_planner=t_power(p1 - p0, math.sqrt(se2), df, ALPHA),
        )
    return run


calibration("arm-vs-arm/seeds")(_arms_study(ARMS))
calibration("arm-vs-arm/seeds-without-spread")(_arms_study(ARMS_FLAT))


@calibration("e2e/arm-vs-arm/seeds", end_to_end=True)
def _arms_e2e(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    d = ARMS_E2E
    (mx, my), n, sd, p0, p1 = d["models"], d["per_model"], d["between_sd"], d["baseline"], d["rate"]
    seed0 = int(rng.integers(2**31))

    def arm(label: str, mean: float, models: int, r: int) -> GroupSamples:
        seeds = _seed_rates(rng, mean, sd, models)
        return ModelGroup(tuple(
            _double(f"double/{label}-seed{i}", float(s), seed0 + r) for i, s in enumerate(seeds)
        )).sample(PROMPT, n=n)

    above = below = power = 0
    methods: set[str] = set()
    with _harness():
        for r in range(reps):
            y = arm("baseline", p0, my, r)
            x0 = arm("same", p0, mx, r)
            above += _passes(expect(x0, YES).above, y)
            below += _passes(expect(x0, YES).below, y)
            v = _verdict(expect(arm("tuned", p1, mx, r), YES).above, y)
            power += v.outcome is Outcome.PASS
            methods.add(v.test.method.split(" (")[0])
    return calibrated(reps, {"above": above / reps, "below": below / reps}, power / reps,
                      arm_power(p1, p0, sd, mx, my, n, ALPHA), design=d, planner_name="arm_power",
                      methods=sorted(methods))


@calibration("arm-vs-single/seeds-vs-base")
def _arm_single(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    d = ARM_SINGLE
    m, n, sd, ns, p0, p1 = (d[k] for k in ("models", "per_model", "between_sd", "single_n",
                                           "baseline", "rate"))

    def p(x: np.ndarray, k: np.ndarray, direction: str) -> np.ndarray:
        ax, vx = _floored(x, n)
        ps = k / ns
        return _welch_p(ax - ps, vx / m, m - 1, ps * (1 - ps) / ns, ns - 1, direction)

    x0, k0 = _arm_rates(rng, p0, sd, m, n, reps), rng.binomial(ns, p0, size=reps)
    g0 = p(x0, k0, "greater")
    _check_rows("arm_vs_single", g0, lambda i: arm_vs_single(
        list(x0[i]), int(k0[i]), ns, ALPHA, x_sizes=[n] * m).p_greater)
    x1, k1 = _arm_rates(rng, p1, sd, m, n, reps), rng.binomial(ns, p0, size=reps)
    return calibrated(
        reps, {"above": float(_rej(g0).mean()), "below": float(_rej(p(x0, k0, "less")).mean())},
        float(_rej(p(x1, k1, "greater")).mean()),
        arm_single_power(p1, p0, sd, m, n, ns, ALPHA), design=d, planner_name="arm_single_power",
    )


# -- a suite of every test type under Holm ------------------------------------------


@calibration("fwer/holm/suite-of-test-types")
def _fwer_mixed(rng: np.random.Generator, reps: int) -> dict[str, Any]:
    """20 checks, two of each of ten test types above, every claim false at its
    null boundary ("greater" side); the suite fails when any Holm-adjusted
    p-value is significant. The types' p-values are independent here."""
    reps = max(reps // 2, 1)  # 20 columns of p-values per repetition
    cols: list[np.ndarray] = []
    n, t = BINOMIAL["n"], BINOMIAL["threshold"]
    table = np.array([binomial_pvalue(k, n, t, "greater") for k in range(n + 1)])
    fn = FISHER["n"]
    fisher = functools.cache(lambda a, b: fisher_test(a, fn, b, fn, ALPHA).p_greater)
    base, _ = _mcnemar_rates()
    (wx, wy), (wnx, wny), (ix, iy) = (RAO_SCOTT["prompts"], RAO_SCOTT["per_prompt"],
                                      RAO_SCOTT["icc"])
    km, kn = KG["prompts"], KG["per_prompt"]
    av = ARM_VALUE
    (ax, ay), an, asd = ARMS["models"], ARMS["per_model"], ARMS["between_sd"]
    for _ in range(2):
        cols.append(table[rng.binomial(n, t, size=reps)])
        kx, ky = rng.binomial(fn, FISHER["baseline"], (2, reps))
        cols.append(np.array([fisher(int(a), int(b)) for a, b in zip(kx, ky, strict=True)]))
        cols.append(_mcnemar_p(rng.random((reps, len(base))) < base,
                               rng.random((reps, len(base))) < base, "greater"))
        x, y = _paired_counts(rng, 0.0, reps)
        cols.append(_paired_t_p(x - y, "greater"))
        cols.append(_sign_flip_p(x - y, "greater"))
        wxk = rng.binomial(wnx, _cluster_rates(rng, RAO_SCOTT["baseline"], ix, (reps, wx)))
        wyk = rng.binomial(wny, _cluster_rates(rng, RAO_SCOTT["baseline"], iy, (reps, wy)))
        cols.append(rao_scott_arrays(wxk, np.full(wxk.shape, wnx), wyk, np.full(wyk.shape, wny),
                                     RAO_SCOTT["icc_floor"])["p_greater"])
        k = rng.binomial(kn, _cluster_rates(rng, KG["threshold"], KG["icc_floor"], (reps, km)))
        cols.append(korn_graubard_arrays(k, np.full((reps, km), kn), KG["threshold"], ALPHA,
                                         icc=KG["icc_floor"])["p_greater"])
        v = rng.normal(size=(reps, 8, 1)) * 0.3 + rng.normal(size=(reps, 8, 15))
        cols.append(_cr1_p(v, np.ones_like(v, dtype=bool), "greater"))
        r = _arm_rates(rng, av["value"], av["between_sd"], av["models"], av["per_model"], reps)
        mean, var = _floored(r, av["per_model"])
        cols.append(sps.t.sf((mean - av["value"]) / np.sqrt(var / av["models"]),
                             av["models"] - 1))
        xa = _arm_rates(rng, ARMS["baseline"], asd, ax, an, reps)
        ya = _arm_rates(rng, ARMS["baseline"], asd, ay, an, reps)
        (mx, vx), (my, vy) = _floored(xa, an), _floored(ya, an)
        cols.append(_welch_p(mx - my, vx / ax, ax - 1, vy / ay, ay - 1, "greater"))
    pvals = np.column_stack(cols)
    assert pvals.shape[1] == SUITE_SIZE
    errors = _suite_fwer(pvals, "holm")
    return calibrated(reps, {"suite fails": errors / reps}, tests=SUITE_SIZE,
                      types=["binomial", "fisher", "mcnemar", "paired t", "sign flip",
                             "rao-scott (prompt rates)", "korn-graubard", "cluster-robust mean",
                             "arm vs value", "arm vs arm"])


# ------------------------------------------------------------------ main


def _row(name: str, res: dict[str, Any]) -> str:
    """One table line: name, type-I, limit, power, planner, |diff|, ok, seconds."""
    def f(x: Any) -> str:
        return f"{x:7.4f}" if isinstance(x, float) else " " * 7

    type1 = res.get("type1", res.get("rate") if "limit" in res else None)
    power = res.get("power", res.get("rate") if "planned" in res else None)
    planner = res.get("planner", res.get("planned"))
    diff = res.get("diff", abs(power - planner) if power is not None and planner else None)
    return (f"{name:48} {f(type1)} {f(res.get('limit'))} {f(power)} {f(planner)} {f(diff)}  "
            f"{str(res['ok']):5} {res['seconds']:7.2f}")


def main() -> None:
    global REPS, TYPE_REPS, E2E_REPS, FWER_REPS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--type-reps", type=int, default=TYPE_REPS)
    ap.add_argument("--e2e-reps", type=int, default=E2E_REPS)
    ap.add_argument("--fwer-reps", type=int, default=FWER_REPS)
    ap.add_argument("--only", default="", help="run studies whose name contains this")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "calibration.json"))
    args = ap.parse_args()
    REPS, TYPE_REPS, E2E_REPS = args.reps, args.type_reps, args.e2e_reps
    FWER_REPS = args.fwer_reps
    results = []
    start = time.perf_counter()
    print(f"{'study':48} {'type-I':>7} {'limit':>7} {'power':>7} {'planner':>7} {'|diff|':>7}"
          f"  ok    seconds")
    for name, fn in STUDIES:
        if args.only not in name:
            continue
        rng = np.random.default_rng(zlib.crc32(name.encode()))  # stable seed per study
        t0 = time.perf_counter()
        res = {"name": name, **fn(rng)}
        res["seconds"] = round(time.perf_counter() - t0, 2)
        results.append(res)
        print(_row(name, res), flush=True)
    out = {
        "alpha": ALPHA,
        "suite_size": SUITE_SIZE,
        "python": platform.python_version(),
        "total_seconds": round(time.perf_counter() - start, 1),
        "studies": results,
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(f"wrote {path} ({out['total_seconds']} s)")


if __name__ == "__main__":
    main()
