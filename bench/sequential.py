"""Sequential vs fixed-n sampling on a simulated behaviour suite.

Twenty rate checks whose true rates are spread the way real behaviour suites
spread them. Each check is planned two ways at one-sided alpha = 0.05 and 80%
power at its design alternative p1:

* fixed n: ``samples_for_rate(p1, t, alpha, 0.8)`` draws, one exact binomial test
  (PASS if the claim's p < alpha, FAIL if the opposite p < alpha);
* sequential: budget ``budget_for_power(t, p1, alpha, 0.8, looks=5)``, 5 equally
  spaced looks, exact boundaries with O'Brien-Fleming-type alpha spending
  (``behavtest.stats.sequential``).

Everything is computed exactly (``operating_characteristics``) and cross-checked
by simulating the stopping procedure through ``decide``. Reported: type-I error
(both verdicts, at rate == threshold), power at p1, and mean samples per
*decided* check (PASS or FAIL): total expected samples over the suite divided by
the expected number of decided checks, i.e. what a decision costs.

The suite (kinds of check, effect size as Cohen's h of p1 vs threshold):

* 6 safety controls, "rate < 0.05" with p1 = 0.01 (h = 0.25, small: controls
  are designed to catch a rare behaviour, so the planned effect is small and n is
  large). Three with true rate 0 (the behaviour never happens: the common case
  for a control), three with true rate 0.01 (at the design alternative).
* 5 properties, "rate > 0.2" with p1 = 0.5 (h = 0.64, medium-large: the
  fine-tune either installed the behaviour or did not). Three at 0.5 (design
  alternative), two at 0.8 (a strong behaviour, far past the plan).
* 3 compliance checks, "rate > 0.8" with p1 = 0.95 (h = 0.48): two at 0.95,
  one at 0.99.
* 4 checks exactly at their threshold (two controls at 0.05, two properties
  at 0.2): the null, where both designs should rarely decide and neither may
  exceed alpha.
* 2 regressions, where the claim is false: a control that fires at 0.15, a
  property that appears at only 0.05. These should FAIL.

Where the savings can come from: group-sequential designs stop early when the
data are far past a boundary. At the design alternative an O'Brien-Fleming
design saves roughly 10-25% of fixed n, at the threshold nothing (both verdicts
must stay below alpha there, so neither boundary is crossed early), and only
checks far beyond their design alternative (true rate 0 for a control, 0.8 for
a property planned at 0.5) approach half. The suite's ratio is therefore
bounded by its mix; the JSON gives every check's numbers.

    .venv/bin/python bench/sequential.py

Writes bench/results/sequential.json.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

from behavtest.stats import binomial_power, samples_for_rate
from behavtest.stats.sequential import (
    SequentialDesign,
    budget_for_power,
    decide,
    design,
    operating_characteristics,
)

ALPHA, POWER, LOOKS = 0.05, 0.8, 5
SIM_RUNS = 4000
OUT = Path(__file__).resolve().parent / "results" / "sequential.json"


@dataclass(frozen=True)
class Check:
    name: str
    threshold: float
    p1: float  # design alternative
    true_rate: float

    @property
    def direction(self) -> str:
        return "greater" if self.p1 > self.threshold else "less"


def suite() -> list[Check]:
    checks: list[Check] = []
    checks += [Check(f"control-never-{i}", 0.05, 0.01, 0.0) for i in range(3)]
    checks += [Check(f"control-rare-{i}", 0.05, 0.01, 0.01) for i in range(3)]
    checks += [Check(f"property-{i}", 0.2, 0.5, 0.5) for i in range(3)]
    checks += [Check(f"property-strong-{i}", 0.2, 0.5, 0.8) for i in range(2)]
    checks += [Check(f"compliance-{i}", 0.8, 0.95, 0.95) for i in range(2)]
    checks += [Check("compliance-high", 0.8, 0.95, 0.99)]
    checks += [Check(f"control-at-threshold-{i}", 0.05, 0.01, 0.05) for i in range(2)]
    checks += [Check(f"property-at-threshold-{i}", 0.2, 0.5, 0.2) for i in range(2)]
    checks += [Check("control-regressed", 0.05, 0.01, 0.15)]
    checks += [Check("property-missing", 0.2, 0.5, 0.05)]
    assert len(checks) == 20
    return checks


def cohen_h(p1: float, p0: float) -> float:
    return abs(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0)))


def simulate(
    d: SequentialDesign, p: float, runs: int, rng: np.random.Generator
) -> dict[str, float]:
    """Run the stopping procedure through ``decide`` (vectorised over runs)."""
    steps = np.diff((0, *d.looks))
    counts = np.cumsum(rng.binomial(steps, p, size=(runs, len(steps))), axis=1)
    code = {"pass": 1, "fail": -1, None: 0}
    verdict = np.zeros(runs, dtype=int)
    used = np.full(runs, d.looks[-1])
    running = np.ones(runs, dtype=bool)
    for j, n in enumerate(d.looks):
        table = np.array([code[decide(d, j, x)] for x in range(n + 1)])
        v = table[counts[:, j]]
        stop = running & (v != 0)
        verdict[stop], used[stop] = v[stop], n
        running &= ~stop
    return {"pass": float(np.mean(verdict == 1)), "fail": float(np.mean(verdict == -1)),
            "mean_n": float(np.mean(used)), "sd_n": float(np.std(used, ddof=1))}


@dataclass(frozen=True)
class Outcome:
    """One check under one design: exact numbers, and the simulation beside them."""

    budget: int
    looks: tuple[int, ...]
    type1_pass: float  # P(PASS | rate == threshold)
    type1_fail: float  # P(FAIL | rate == threshold)
    power_at_p1: float
    p_pass: float  # at the true rate, likewise below
    p_fail: float
    p_decided: float
    mean_n: float
    sim: dict[str, float]
    sim_min_binom_p: float
    sim_mean_n_z: float


def evaluate(d: SequentialDesign, c: Check, rng: np.random.Generator) -> Outcome:
    p_pass, p_fail, mean_n = operating_characteristics(d, c.true_rate)
    t_pass, t_fail, _ = operating_characteristics(d, c.threshold)
    power = operating_characteristics(d, c.p1)[0]
    sim = simulate(d, c.true_rate, SIM_RUNS, rng)
    # agreement: exact binomial test of each simulated rate against the exact probability
    # (a normal z misleads for rare events: one PASS in 4000 runs at P = 1e-5 is z = 5)
    sim_p = min(
        float(binomtest(round(sim[k] * SIM_RUNS), SIM_RUNS, min(max(q, 1e-300), 1.0)).pvalue)
        for k, q in (("pass", p_pass), ("fail", p_fail))
    )
    # z for the mean n, sd floored at one sample: when no run stopped early the sample
    # sd is 0, yet a rare early stop (P = 1e-5) still moves the exact mean a little
    z_n = abs(sim["mean_n"] - mean_n) / (max(sim["sd_n"], 1.0) / math.sqrt(SIM_RUNS))
    return Outcome(d.looks[-1], d.looks, t_pass, t_fail, power, p_pass, p_fail,
                   p_pass + p_fail, mean_n, sim, sim_p, z_n)


@dataclass(frozen=True)
class Row:
    check: str
    direction: str
    threshold: float
    p1: float
    true_rate: float
    cohen_h: float
    fixed: Outcome
    sequential: Outcome


@dataclass(frozen=True)
class Summary:
    expected_samples: float  # over the 20 checks
    expected_decided: float  # expected number of checks that PASS or FAIL
    samples_per_decided: float
    max_type1: float
    min_power_at_p1: float

    @classmethod
    def of(cls, parts: list[Outcome]) -> Summary:
        total = sum(o.mean_n for o in parts)
        decided = sum(o.p_decided for o in parts)
        return cls(total, decided, total / decided,
                   max(max(o.type1_pass, o.type1_fail) for o in parts),
                   min(o.power_at_p1 for o in parts))


@dataclass(frozen=True)
class SuiteRun:
    looks: int
    checks: list[Row]
    fixed: Summary
    sequential: Summary
    ratio_samples_per_decided: float
    ratio_expected_samples: float
    sim_min_binom_p: float
    sim_max_mean_n_z: float


def run_suite(looks: int, rng: np.random.Generator) -> SuiteRun:
    rows: list[Row] = []
    plans: dict[tuple[float, float], tuple[int, int]] = {}
    for c in suite():
        key = (c.threshold, c.p1)
        if key not in plans:
            n_fixed = samples_for_rate(c.p1, c.threshold, ALPHA, POWER)
            plans[key] = n_fixed, budget_for_power(c.threshold, c.p1, ALPHA, POWER, looks)
        n_fixed, n_seq = plans[key]
        fixed = evaluate(design(c.threshold, n_fixed, ALPHA, c.direction, looks=1), c, rng)
        # the K = 1 design is the fixed-n exact test: its power is binomial_power's
        assert abs(fixed.power_at_p1 - binomial_power(n_fixed, c.p1, c.threshold, ALPHA)) < 1e-9
        seq = evaluate(design(c.threshold, n_seq, ALPHA, c.direction, looks=looks), c, rng)
        rows.append(Row(c.name, c.direction, c.threshold, c.p1, c.true_rate,
                        round(cohen_h(c.p1, c.threshold), 3), fixed, seq))
    f_sum = Summary.of([r.fixed for r in rows])
    s_sum = Summary.of([r.sequential for r in rows])
    outcomes = [o for r in rows for o in (r.fixed, r.sequential)]
    return SuiteRun(
        looks, rows, f_sum, s_sum,
        s_sum.samples_per_decided / f_sum.samples_per_decided,
        s_sum.expected_samples / f_sum.expected_samples,
        min(o.sim_min_binom_p for o in outcomes),
        max(o.sim_mean_n_z for o in outcomes),
    )


def main() -> None:
    t0 = time.perf_counter()
    rng = np.random.default_rng(20240611)
    run = run_suite(LOOKS, rng)
    sensitivity: dict[str, dict[str, float]] = {}
    for k in (2, 10, 20):  # the same suite with other numbers of looks
        other = run_suite(k, rng)
        sensitivity[str(k)] = {
            "ratio_samples_per_decided": other.ratio_samples_per_decided,
            "ratio_expected_samples": other.ratio_expected_samples,
            "max_type1": other.sequential.max_type1,
            "min_power_at_p1": other.sequential.min_power_at_p1,
        }
    ratio = run.ratio_samples_per_decided
    seconds = round(time.perf_counter() - t0, 1)
    result: dict[str, object] = {
        "alpha": ALPHA, "power": POWER, "sim_runs": SIM_RUNS,
        "spending": "Lan-DeMets O'Brien-Fleming-type, one-sided alpha",
        **asdict(run),
        "acceptance": {"target_ratio_at_most": 0.6, "ratio": ratio, "met": ratio <= 0.6},
        "sensitivity_by_looks": sensitivity,
        "seconds": seconds,
    }

    print(f"{'check':26} {'t':>5} {'p1':>5} {'true':>5} | {'n':>4} {'Pdec':>5} | "
          f"{'N':>4} {'E[n]':>6} {'Pdec':>5} | {'E[n] ratio':>10}")
    for r in run.checks:
        f, s = r.fixed, r.sequential
        print(f"{r.check:26} {r.threshold:5.2f} {r.p1:5.2f} {r.true_rate:5.2f} | "
              f"{f.budget:4d} {f.p_decided:5.3f} | {s.budget:4d} {s.mean_n:6.1f} "
              f"{s.p_decided:5.3f} | {s.mean_n / f.mean_n:10.3f}")
    for name, m in (("fixed", run.fixed), ("sequential", run.sequential)):
        print(f"{name:10}: expected samples {m.expected_samples:7.1f}, decided "
              f"{m.expected_decided:5.2f}/20, per decided {m.samples_per_decided:5.1f}, "
              f"max type-I {m.max_type1:.4f}, min power {m.min_power_at_p1:.3f}")
    print(f"samples per decided check, sequential/fixed: {ratio:.3f} "
          f"(target <= 0.60: {'met' if ratio <= 0.6 else 'NOT met'}); "
          f"expected samples ratio {run.ratio_expected_samples:.3f}")
    for looks, v in sensitivity.items():
        print(f"  K={looks:>2}: per-decided ratio {v['ratio_samples_per_decided']:.3f}, "
              f"max type-I {v['max_type1']:.4f}, min power {v['min_power_at_p1']:.3f}")
    print(f"simulation cross-check ({SIM_RUNS} runs per check and design, 80 rates): smallest "
          f"binomial-test p {run.sim_min_binom_p:.3f}, largest mean-n |z| "
          f"{run.sim_max_mean_n_z:.2f}; {seconds} s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
