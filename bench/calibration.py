"""Calibration of behavtest's suite-level tests by simulation.

Every study simulates data with every null hypothesis TRUE (at its boundary,
where type-I error is largest) and reports how often the test rejects. A
calibrated test rejects at most alpha of the time; ``ok`` allows 3 binomial
standard errors of simulation noise. The first studies show why a suite needs
multiplicity correction: 20 all-null checks fail the suite ~64% of the time
uncorrected, ~alpha under Holm.

Each study is a function ``rng -> dict`` registered in ``STUDIES``; append new
ones (other test types) there. Prints a table and writes
bench/results/calibration.json.

    python bench/calibration.py [--reps 4000] [--fwer-reps 10000]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as sps

from behavtest.stats.equivalence import (
    binomial_tost,
    binomial_tost_power,
    difference_tost_paired,
    difference_tost_welch,
    mean_tost,
    score_pvalue_2indep,
)
from behavtest.stats.multiplicity import adjust
from behavtest.stats.power import significant
from behavtest.stats.series import mean_rate_test, peak_test, trend_test

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
    hits = _by_unique(ks, lambda k: binomial_tost(int(k[0]), n, low, high).decision() == "pass")
    return rejection(hits, REPS, n=n, margin=[low, high], true=low)


@study("tost/binomial/false-fail-at-margin")
def _binomial_tost_fail(rng: np.random.Generator) -> dict[str, Any]:
    n, low, high = 861, 0.45, 0.55
    ks = rng.binomial(n, low, size=(REPS, 1))
    hits = _by_unique(ks, lambda k: binomial_tost(int(k[0]), n, low, high).decision() == "fail")
    return rejection(hits, REPS, n=n, margin=[low, high], true=low)


@study("tost/binomial/power-vs-planner")
def _binomial_tost_power(rng: np.random.Generator) -> dict[str, Any]:
    n, low, high = 861, 0.45, 0.55
    ks = rng.binomial(n, 0.5, size=(REPS, 1))
    hits = _by_unique(ks, lambda k: binomial_tost(int(k[0]), n, low, high).decision() == "pass")
    planned = binomial_tost_power(n, 0.5, low, high, ALPHA)
    rate = hits / REPS
    return {"reps": REPS, "rate": rate, "planned": planned, "ok": abs(rate - planned) <= 0.03}


@study("tost/mean/false-pass-at-margin")
def _mean_tost(rng: np.random.Generator) -> dict[str, Any]:
    data = rng.normal(0.5, 1.0, size=(REPS, 20))
    hits = sum(mean_tost(list(r), -0.5, 0.5).decision() == "pass" for r in data)
    return rejection(hits, REPS, n=20, margin=[-0.5, 0.5], true=0.5)


@study("tost/paired/false-pass-at-margin")
def _paired_tost(rng: np.random.Generator) -> dict[str, Any]:
    x = rng.normal(0.0, 1.0, size=(REPS, 25))
    y = x - 0.3 + rng.normal(0.0, 0.6, size=(REPS, 25))  # mean(x - y) = 0.3 = high
    hits = sum(
        difference_tost_paired(list(a), list(b), -0.3, 0.3).decision() == "pass"
        for a, b in zip(x, y, strict=True)
    )
    return rejection(hits, REPS, n=25, margin=[-0.3, 0.3], true=0.3)


@study("tost/welch/false-pass-at-margin")
def _welch_tost(rng: np.random.Generator) -> dict[str, Any]:
    xs = rng.normal(-2.0, 1.0, size=(REPS, 40))
    ys = rng.normal(0.0, 3.0, size=(REPS, 12))
    hits = sum(
        difference_tost_welch(list(a), list(b), -2.0, 2.0).decision() == "pass"
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


# ------------------------------------------------------------------ main


def main() -> None:
    global REPS, FWER_REPS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--fwer-reps", type=int, default=FWER_REPS)
    ap.add_argument("--only", default="", help="run studies whose name contains this")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "calibration.json"))
    args = ap.parse_args()
    REPS, FWER_REPS = args.reps, args.fwer_reps
    results = []
    start = time.perf_counter()
    print(f"{'study':45} {'rate':>7} {'limit':>7}  ok    seconds")
    for name, fn in STUDIES:
        if args.only not in name:
            continue
        rng = np.random.default_rng(zlib.crc32(name.encode()))  # stable seed per study
        t0 = time.perf_counter()
        res = {"name": name, **fn(rng)}
        res["seconds"] = round(time.perf_counter() - t0, 2)
        results.append(res)
        limit = res.get("limit", res.get("planned"))
        lim = f"{limit:7.4f}" if isinstance(limit, float) else " " * 7
        print(f"{name:45} {res['rate']:7.4f} {lim}  {str(res['ok']):5} {res['seconds']:7.2f}")
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
