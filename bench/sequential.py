"""Sequential vs fixed-n sampling on a simulated behaviour suite.

Twenty rate checks whose true rates are spread the way the suites of
the published experiments (docs/science/; "property N" below: 1 acrostic, 2 risk,
4 Make-Me-Say, 5 backdoor, 8 a checkpoint series) spread them. Each check is planned at
one-sided alpha = 0.05 two ways:

* fixed n: ``samples_for_rate(p1, t, alpha, 0.8)`` draws, one exact binomial test
  (PASS if the claim's p < alpha, FAIL if the opposite p < alpha);
* sequential: a design from ``behavtest.stats.sequential`` whose budget is the
  smallest N reaching the power target at p1 (``sequential_budget_for_power``,
  exact power including any futility stops).

Two power targets, because "equal power" has two honest readings:

* ``planned_80``: the sequential budget reaches 80%, the target the fixed n was
  planned for. The fixed n overshoots it through discreteness (n = 124 for the
  controls has 87.2% power; 123 has less than 80%), so here the sequential
  design has less power than the fixed one on some checks.
* ``equal_power``: the sequential budget reaches, check by check, the exact power
  the fixed-n design has at p1 (87.2% / 83.4% / 81.2%). Power at the design
  alternative is then >= the fixed design's on every check: the reading of the
  acceptance criterion ("at equal error rate and power") for the PASS verdict.
  FAIL power is not matched (it is reported for the default, below); the
  stricter reading, equal power for both verdicts, is bench/sequential_bound.py's
  ``equal_power_both_verdicts``.

Everything is exact (``sequential_oc``, futility stops included); the default
design is also cross-checked by simulating the stopping procedure through
``sequential_decide``. Reported per design and reading: the largest type-I error
of each verdict (rate == threshold, over the three plans), the smallest power
at p1, the smallest power difference to the fixed design, expected samples per
check, and mean samples per *decided* check (PASS or FAIL): total expected
samples over the suite divided by the expected number of decided checks, i.e.
what a decision costs. The acceptance asks for the last at most 0.60 of fixed
n. For the default design it also gives P(FAIL) at p1's mirror (the rate as far
from the threshold as p1, on its other side, arcsine scale), next to fixed n's: the
budget search matches PASS power only, so this is the power it leaves free.

The suite (kinds of check; p1 = design alternative; effect size as Cohen's h of
p1 vs threshold; the mix is the one of the first benchmark, not tuned here):

* 6 safety controls, "rate < 0.05" planned at p1 = 0.01 (h = 0.25): docs/science/acrostic.md
  sizes controls against "a ~1% false-positive rate" (property 1). Three at true
  rate 0: controls that never fire are the common case ("controls never name
  it", property 8; Make-Me-Say baseline 0.00, property 4; the base model wrote
  0/20 acrostics). Three at 0.01, the false-positive rate itself.
* 5 properties, "rate > 0.2" planned at p1 = 0.5 (h = 0.64): the acrostic
  articulation rates of property 1 are sized at 0.5 vs 0.2 ("13 per arm for a
  true rate of 0.5, 44 for 0.2"). Three at 0.5; two at 0.8, behaviours the
  fine-tune installed outright (the LoRA acrostic 20/20, codeword pick 0.94).
* 3 compliance checks, "rate > 0.8" planned at p1 = 0.95 (h = 0.48): Make-Me-Say
  codeword 0.94, region-code backdoor 0.96 (properties 4 and 5). Two at 0.95,
  one at 0.99.
* 4 checks exactly at their threshold (two controls at 0.05, two properties at
  0.2): the null, which the published record tells us to expect (a public replication of
  property 1 failed; the greetings trigger of property 5 has no effect). Neither
  design may decide there more than alpha per verdict.
* 2 regressions, where the claim is false: a control firing at 0.15 (the
  Axolotl description-only rate 0.17, the backdoor baselines 0.09-0.12) and a
  property that faded to 0.05 (Axolotl at round 6: 0.04). These should FAIL.

Designs considered (spending function; looks; curtailment; predictive futility
gamma). ``b16`` is one look per 16 samples, the harness's provider batch, so a
look costs no extra generate call; ``K=10`` / ``K=20`` look more often than that
on small budgets (a look of 1-2 samples is a generate call of its own).

    .venv/bin/python bench/sequential.py

Writes bench/results/sequential.json. The default design was chosen from this
grid (and a wider one over thresholds and effect sizes outside the suite); the
neighbours of the choice are within about 0.02 of it, so picking the best of
the grid flatters the figure by about that much.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

from behavtest import stats
from behavtest.stats import (
    SequentialDesign,
    samples_for_rate,
    sequential_budget_for_power,
    sequential_decide,
    sequential_design,
    sequential_oc,
)
from behavtest.stats.power import binomial_power
from behavtest.stats.sequential.build import DEFAULT_FUTILITY, DEFAULT_SPENDING
from behavtest.stats.sequential.spending import Spending, spending_name

ALPHA, POWER = 0.05, 0.8
TARGET = 0.60
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


def mirror(t: float, p1: float) -> float:
    """The rate as far from t on the other side as p1 (arcsine scale, Cohen's h):
    the design alternative of the FAIL verdict."""
    a = 2.0 * math.asin(math.sqrt(t)) - math.asin(math.sqrt(p1))
    return min(max(math.sin(a), 0.0), 1.0) ** 2


@dataclass(frozen=True)
class Candidate:
    name: str
    spending: Spending
    looks: int | None  # None: one look per 16 samples
    curtail: bool
    futility: float | None

    def options(self) -> dict[str, object]:
        return {"spending": self.spending, "curtail": self.curtail, "futility": self.futility}


DEFAULT = Candidate("hsd(4) b16 fut.15 DEFAULT", DEFAULT_SPENDING, None, True, DEFAULT_FUTILITY)
CANDIDATES = [
    Candidate("obf K=5 (first benchmark)", "obf", 5, False, None),
    Candidate("obf K=5 +curtail", "obf", 5, True, None),
    Candidate("pocock K=5", "pocock", 5, False, None),
    Candidate("obf b16", "obf", None, True, None),
    Candidate("pocock b16", "pocock", None, True, None),
    Candidate("hsd(-2) b16", ("hsd", -2.0), None, True, None),
    Candidate("hsd(2) b16", ("hsd", 2.0), None, True, None),
    Candidate("hsd(4) b16", ("hsd", 4.0), None, True, None),
    Candidate("pocock b16 fut.15", "pocock", None, True, 0.15),
    Candidate("hsd(2) b16 fut.15", ("hsd", 2.0), None, True, 0.15),
    Candidate("hsd(4) b16 fut.05", ("hsd", 4.0), None, True, 0.05),
    Candidate("hsd(4) b16 fut.10", ("hsd", 4.0), None, True, 0.10),
    DEFAULT,
    Candidate("hsd(4) b16 fut.20", ("hsd", 4.0), None, True, 0.20),
    Candidate("hsd(4) b16 fut.30", ("hsd", 4.0), None, True, 0.30),
    Candidate("hsd(4) K=10 fut.15", ("hsd", 4.0), 10, True, 0.15),
    Candidate("hsd(4) K=20 fut.15", ("hsd", 4.0), 20, True, 0.15),
]
assert DEFAULT.spending == ("hsd", 4.0) and DEFAULT.futility == 0.15  # its name says so


@dataclass(frozen=True)
class Outcome:
    """One check under one design: exact numbers (and a simulation for the default)."""

    budget: int
    looks: tuple[int, ...]
    type1_pass: float  # P(PASS | rate == threshold)
    type1_fail: float  # P(FAIL | rate == threshold)
    power_at_p1: float
    p_pass: float  # at the true rate, likewise below
    p_fail: float
    p_decided: float
    mean_n: float


def outcome(d: SequentialDesign, c: Check) -> Outcome:
    p_pass, p_fail, mean_n = sequential_oc(d, c.true_rate)
    t_pass, t_fail, _ = sequential_oc(d, c.threshold)
    power = sequential_oc(d, c.p1)[0]
    return Outcome(d.looks[-1], d.looks, t_pass, t_fail, power, p_pass, p_fail,
                   p_pass + p_fail, mean_n)


@dataclass(frozen=True)
class Summary:
    expected_samples: float  # over the 20 checks
    expected_samples_per_check: float
    expected_decided: float  # expected number of checks that PASS or FAIL
    samples_per_decided: float
    max_type1_pass: float
    max_type1_fail: float
    min_power_at_p1: float

    @classmethod
    def of(cls, parts: list[Outcome]) -> Summary:
        total = sum(o.mean_n for o in parts)
        decided = sum(o.p_decided for o in parts)
        return cls(total, total / len(parts), decided, total / decided,
                   max(o.type1_pass for o in parts), max(o.type1_fail for o in parts),
                   min(o.power_at_p1 for o in parts))


Plan = tuple[float, float]  # (threshold, p1)


def fixed_designs() -> dict[Plan, SequentialDesign]:
    out: dict[Plan, SequentialDesign] = {}
    for c in suite():
        if (c.threshold, c.p1) not in out:
            n = samples_for_rate(c.p1, c.threshold, ALPHA, POWER)
            d = sequential_design(c.threshold, n, ALPHA, c.direction, looks=1)
            # the K = 1 design is the fixed-n exact test: its power is binomial_power's
            assert abs(sequential_oc(d, c.p1)[0]
                       - binomial_power(n, c.p1, c.threshold, ALPHA)) < 1e-9
            out[(c.threshold, c.p1)] = d
    return out


def fail_power_at_mirror(
    seq: dict[Plan, SequentialDesign], fixed: dict[Plan, SequentialDesign]
) -> dict[str, list[float]]:
    """P(FAIL) at p1's mirror, [sequential, fixed], per plan: the power the budget
    search does not constrain (it matches PASS power at p1)."""
    return {f"{t:g}/{p1:g}": [sequential_oc(d, mirror(t, p1))[1],
                              sequential_oc(fixed[(t, p1)], mirror(t, p1))[1]]
            for (t, p1), d in seq.items()}


def sequential_designs(
    cand: Candidate, targets: dict[Plan, float]
) -> dict[Plan, SequentialDesign]:
    out: dict[Plan, SequentialDesign] = {}
    for (t, p1), power in targets.items():
        direction = "greater" if p1 > t else "less"
        n = sequential_budget_for_power(t, p1, ALPHA, power, cand.looks, **cand.options())  # type: ignore[arg-type]
        out[(t, p1)] = sequential_design(t, n, ALPHA, direction, cand.looks,
                                         **cand.options())  # type: ignore[arg-type]
    return out


@dataclass(frozen=True)
class Reading:
    """One candidate design under one power target, against the fixed-n designs."""

    budgets: dict[str, int]
    looks: dict[str, int]
    summary: Summary
    min_power_minus_fixed: float  # over the three plans
    ratio_samples_per_decided: float
    ratio_expected_samples: float
    meets_target: bool


def read(
    seq: dict[Plan, SequentialDesign], fixed: dict[Plan, SequentialDesign],
    fixed_summary: Summary,
) -> tuple[Reading, list[Outcome]]:
    parts = [outcome(seq[(c.threshold, c.p1)], c) for c in suite()]
    s = Summary.of(parts)
    gap = min(sequential_oc(d, k[1])[0] - sequential_oc(fixed[k], k[1])[0]
              for k, d in seq.items())
    ratio = s.samples_per_decided / fixed_summary.samples_per_decided
    return Reading(
        {f"{t:g}/{p1:g}": d.budget for (t, p1), d in seq.items()},
        {f"{t:g}/{p1:g}": len(d.looks) for (t, p1), d in seq.items()},
        s, gap, ratio, s.expected_samples / fixed_summary.expected_samples,
        ratio <= TARGET and s.max_type1_pass <= ALPHA and s.max_type1_fail <= ALPHA,
    ), parts


def simulate(
    d: SequentialDesign, p: float, runs: int, rng: np.random.Generator
) -> dict[str, float]:
    """Run the stopping procedure through ``sequential_decide`` (vectorised over runs)."""
    steps = np.diff((0, *d.looks))
    counts = np.cumsum(rng.binomial(steps, p, size=(runs, len(steps))), axis=1)
    verdicts = stats.Outcome
    code = {verdicts.PASS: 1, verdicts.FAIL: -1, verdicts.INCONCLUSIVE: 2, None: 0}
    verdict = np.zeros(runs, dtype=int)
    used = np.full(runs, d.looks[-1])
    running = np.ones(runs, dtype=bool)
    for j, n in enumerate(d.looks):
        table = np.array([code[sequential_decide(d, j, x)] for x in range(n + 1)])
        v = table[counts[:, j]]
        stop = running & (v != 0)
        verdict[stop], used[stop] = v[stop], n
        running &= ~stop
    return {"pass": float(np.mean(verdict == 1)), "fail": float(np.mean(verdict == -1)),
            "futility_stop": float(np.mean(verdict == 2)),
            "mean_n": float(np.mean(used)), "sd_n": float(np.std(used, ddof=1))}


def cross_check(
    designs: dict[Plan, SequentialDesign], parts: list[Outcome], rng: np.random.Generator
) -> dict[str, float]:
    """Simulated verdict rates vs exact (exact binomial test p; a normal z misleads for
    rare events) and mean n vs exact (z, sd floored at one sample)."""
    min_p, max_z = 1.0, 0.0
    for c, o in zip(suite(), parts, strict=True):
        sim = simulate(designs[(c.threshold, c.p1)], c.true_rate, SIM_RUNS, rng)
        for key, q in (("pass", o.p_pass), ("fail", o.p_fail)):
            test = binomtest(round(sim[key] * SIM_RUNS), SIM_RUNS, min(max(q, 1e-300), 1.0))
            min_p = min(min_p, float(test.pvalue))
        max_z = max(max_z, abs(sim["mean_n"] - o.mean_n)
                    / (max(sim["sd_n"], 1.0) / math.sqrt(SIM_RUNS)))
    return {"runs_per_check": SIM_RUNS, "min_binomial_p": min_p, "max_mean_n_z": max_z}


def main() -> None:
    t0 = time.perf_counter()
    rng = np.random.default_rng(20240611)
    fixed = fixed_designs()
    fixed_parts = [outcome(fixed[(c.threshold, c.p1)], c) for c in suite()]
    fixed_summary = Summary.of(fixed_parts)
    targets = {
        "planned_80": dict.fromkeys(fixed, POWER),
        "equal_power": {k: sequential_oc(d, k[1])[0] for k, d in fixed.items()},
    }
    designs: list[dict[str, object]] = []
    default_detail: dict[str, object] = {}
    for cand in CANDIDATES:
        entry: dict[str, object] = {
            "name": cand.name, "spending": spending_name(cand.spending),
            "looks": "one per 16 samples" if cand.looks is None else cand.looks,
            "curtail": cand.curtail, "futility": cand.futility,
        }
        for reading, target in targets.items():
            seq = sequential_designs(cand, target)
            r, parts = read(seq, fixed, fixed_summary)
            entry[reading] = asdict(r)
            if cand is DEFAULT:
                default_detail[reading] = {
                    "checks": [{"check": c.name, "direction": c.direction,
                                "threshold": c.threshold, "p1": c.p1, "true_rate": c.true_rate,
                                "cohen_h": round(cohen_h(c.p1, c.threshold), 3),
                                "fixed": asdict(f), "sequential": asdict(o)}
                               for c, f, o in zip(suite(), fixed_parts, parts, strict=True)],
                    "simulation": cross_check(seq, parts, rng),
                    "fail_power_at_mirror_seq_vs_fixed": fail_power_at_mirror(seq, fixed),
                    "designs": {f"{t:g}/{p1:g}": asdict(d) for (t, p1), d in seq.items()},
                }
        designs.append(entry)

    default = next(e for e in designs if e["name"] == DEFAULT.name)
    headline = default["equal_power"]
    secondary = default["planned_80"]
    assert isinstance(headline, dict) and isinstance(secondary, dict)
    best = min(designs, key=lambda e: e["equal_power"]["ratio_samples_per_decided"])  # type: ignore[index]
    seconds = round(time.perf_counter() - t0, 1)
    result: dict[str, object] = {
        "alpha": ALPHA, "power": POWER, "target_ratio_at_most": TARGET,
        "default_design": {"spending": spending_name(DEFAULT_SPENDING),
                           "looks": "one per 16 samples", "curtail": True,
                           "futility": DEFAULT_FUTILITY},
        "fixed": asdict(fixed_summary),
        "acceptance": {
            "reading": "equal_power: sequential PASS power at p1 >= the fixed-n design's, check "
                       "by check; type-I <= alpha for PASS and FAIL (exact)",
            "ratio_samples_per_decided": headline["ratio_samples_per_decided"],
            "ratio_expected_samples": headline["ratio_expected_samples"],
            "met": headline["meets_target"],
            "planned_80_ratio": secondary["ratio_samples_per_decided"],
            "planned_80_met": secondary["meets_target"],
            "best_considered": best["name"],
            "best_considered_ratio": best["equal_power"]["ratio_samples_per_decided"],  # type: ignore[index]
        },
        "designs": designs,
        "default_detail": default_detail,
        "seconds": seconds,
    }

    print(f"fixed n: {fixed_summary.expected_samples:.0f} samples for 20 checks "
          f"({fixed_summary.expected_samples_per_check:.1f} per check), "
          f"{fixed_summary.expected_decided:.2f} decided, "
          f"{fixed_summary.samples_per_decided:.1f} per decided check")
    print(f"{'design':28} {'reading':11} {'budgets':>13} | {'max t1 P/F':>11} "
          f"{'min pow':>7} {'vs fix':>6} | {'n/check':>7} {'n/dec':>6} {'ratio':>5}")
    for e in designs:
        for reading in targets:
            row = e[reading]
            assert isinstance(row, dict)
            s = row["summary"]
            budgets = "/".join(str(v) for v in row["budgets"].values())
            print(f"{e['name']:28} {reading:11} {budgets:>13} | "
                  f"{s['max_type1_pass']:.3f}/{s['max_type1_fail']:.3f} "
                  f"{s['min_power_at_p1']:7.3f} {row['min_power_minus_fixed']:+6.3f} | "
                  f"{s['expected_samples_per_check']:7.1f} {s['samples_per_decided']:6.1f} "
                  f"{row['ratio_samples_per_decided']:5.3f}")
    print(f"default ({DEFAULT.name}): samples per decided check "
          f"{headline['ratio_samples_per_decided']:.3f} of fixed n at equal power "
          f"(target <= {TARGET}: "
          f"{'met' if headline['meets_target'] else 'NOT met'}); "
          f"{secondary['ratio_samples_per_decided']:.3f} when planned at 80% "
          f"({'met' if secondary['meets_target'] else 'NOT met'})")
    for reading, detail in default_detail.items():
        assert isinstance(detail, dict)
        sim = detail["simulation"]
        print(f"simulation of the default ({reading}, {SIM_RUNS} runs per check): smallest "
              f"binomial-test p {sim['min_binomial_p']:.3f}, largest mean-n |z| "
              f"{sim['max_mean_n_z']:.2f}")
    for plan, (f_seq, f_fixed) in default_detail["equal_power"][  # type: ignore[index]
            "fail_power_at_mirror_seq_vs_fixed"].items():
        print(f"default, equal_power, plan {plan}: FAIL power at p1's mirror {f_seq:.3f} "
              f"(fixed n {f_fixed:.3f}; not constrained by the budget search)")
    print(f"{seconds} s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
