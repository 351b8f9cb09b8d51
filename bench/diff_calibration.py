"""Calibration of ``behavtest diff`` by simulation: false "changed" rows and power.

Two snapshot folders are built the way the plugin builds them (an ``Entry``
from a ``Verdict`` with its ``Evidence``), from binomial draws at known true
rates: 20 behaviours, one prompt each, n = 100 replies per behaviour and
model. Both folders go through ``behavtest.snapshots.diff.rows`` exactly as the command
runs them (Fisher's test on one prompt, two-sided at alpha, Holm over all
comparisons as one family).

* ``false_change``: every behaviour unchanged (A and B at the same true rate,
  20 rates from 0 to 0.95): the share of runs with at least one "changed" row
  (the family-wise error rate), which Holm keeps <= alpha.
* ``power``: one behaviour changed, 0.30 -> 0.50, alone (a family of one) and
  inside the 20-behaviour suite (19 unchanged). The planner is
  ``behavtest.stats.power.fisher_power``, the exact power of the *one-sided*
  Fisher test; the diff's test is two-sided (p = 2 min(p_greater, p_less)), so
  it is planned at alpha / 2, and in the suite at alpha / 2 / 20 (Holm's first
  step, Bonferroni's level: Holm's power is at least that, and hardly more
  when the other 19 are unchanged). Also given: the exact power of the diff's
  own rule, every (k_a, k_b) table with probability >= 1e-12 run through
  ``diff.rows`` and weighted by its probability.
* ``false_same``: with ``--margin 0.15`` and a true difference of exactly the
  margin (0.30 -> 0.45): how often the row says "same" (the TOST's size,
  Farrington-Manning score tests, asymptotic; reported, not required).

Acceptance: false_change <= alpha (with 3 binomial SE of simulation noise
allowed in ``ok``), and the simulated power within 0.03 of the planner.

    python bench/diff_calibration.py [--reps 2000] [--seed 20261201]

writes bench/results/diff_calibration.json. tests/test_diff.py runs a smaller
version of the same functions.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from behavtest.snapshots import diff
from behavtest.snapshots.store import Entry
from behavtest.stats import one_sided_bounds
from behavtest.stats.power import fisher_power
from behavtest.verdict import Evidence, Measured, Outcome, Test, Verdict

N = 100
ALPHA = 0.05
RATES = (0.0, 0.01, 0.02, 0.05, 0.05, 0.1, 0.1, 0.15, 0.2, 0.25,
         0.3, 0.3, 0.4, 0.5, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
CHANGE = (0.30, 0.50)
MARGIN = 0.15


def key(i: int) -> str:
    return f"behaviors/test_b{i:02d}.py::test_b{i:02d} :: rate >= 0.1"


@functools.cache
def entry(i: int, k: int, n: int = N, model: str = "m") -> Entry:
    """Behaviour i's stored measurement: k of n replies on its one prompt."""
    low, high = one_sided_bounds(k, n, ALPHA)
    v = Verdict(
        check="rate >= 0.1", outcome=Outcome.PASS, scorer="says yes",
        measured=Measured(model, k, n, k / n, low, high),
        test=Test("exact binomial test", ALPHA, 0.5, 0.5),
        evidence=Evidence(binary=True, clusters=((1.0,) * k + (0.0,) * (n - k),),
                          prompts=f"prompt-{i}", settings=(("max_tokens", 8),), seed=0,
                          fingerprint=model, scorer_version="1", examples=("yes", "no")),
    )
    return Entry.of(key(i).split(" :: ")[0], v)


def folder(ks: Sequence[int], model: str) -> dict[str, Entry]:
    return {key(i): entry(i, int(k), N, model) for i, k in enumerate(ks)}


def draw(rng: np.random.Generator, rates: Sequence[float], reps: int) -> np.ndarray:
    return rng.binomial(N, np.asarray(rates, dtype=float), size=(reps, len(rates)))


def false_change(reps: int, seed: int, alpha: float = ALPHA,
                 correction: str = "holm") -> dict[str, Any]:
    """Runs (of ``reps``) with any "changed" row when no behaviour changed."""
    rng = np.random.default_rng(seed)
    ka, kb = draw(rng, RATES, reps), draw(rng, RATES, reps)
    runs = rows_changed = 0
    for r in range(reps):
        table = diff.rows(folder(ka[r], "a"), folder(kb[r], "b"), alpha, correction)
        changed = sum(row.changed for row in table)
        runs += changed > 0
        rows_changed += changed
    rate = runs / reps
    se = math.sqrt(alpha * (1 - alpha) / reps)
    return {"behaviours": len(RATES), "n": N, "correction": correction, "reps": reps,
            "false_change_runs": runs, "family_wise_rate": rate,
            "false_rows_per_run": rows_changed / reps, "alpha": alpha,
            "ok": rate <= alpha + 3 * se}


def power(reps: int, seed: int, suite: bool, alpha: float = ALPHA) -> dict[str, Any]:
    """How often the changed behaviour's row says "changed up"."""
    rng = np.random.default_rng(seed)
    before = (CHANGE[0], *RATES[1:]) if suite else (CHANGE[0],)
    after = (CHANGE[1], *RATES[1:]) if suite else (CHANGE[1],)
    ka, kb = draw(rng, before, reps), draw(rng, after, reps)
    hits = false_others = 0
    for r in range(reps):
        table = diff.rows(folder(ka[r], "a"), folder(kb[r], "b"), alpha, "holm")
        verdicts = {row.key: row.verdict for row in table}
        hits += verdicts[key(0)] == "changed up"
        false_others += any(row.changed for row in table if row.key != key(0))
    family = len(before)
    planned = fisher_power(N, N, CHANGE[1], CHANGE[0], alpha / 2 / family)
    simulated = hits / reps
    out = {"change": list(CHANGE), "n": N, "behaviours": family, "reps": reps,
           "simulated": simulated, "planned": planned,
           "planned_as": f"fisher_power(n, n, {CHANGE[1]}, {CHANGE[0]}, alpha / 2"
                         + (f" / {family})" if family > 1 else ")"),
           "difference": simulated - planned, "ok": abs(simulated - planned) <= 0.03,
           "se": math.sqrt(simulated * (1 - simulated) / reps)}
    if suite:
        out["runs_with_a_false_change_among_the_others"] = false_others / reps
    else:
        out["exact_power_of_the_diff_rule"] = exact_power(alpha)
    return out


def exact_power(alpha: float = ALPHA, tail: float = 1e-12) -> float:
    """P("changed up") for the lone changed behaviour, by enumerating the tables."""
    from scipy import stats as _st
    pa = _st.binom.pmf(np.arange(N + 1), N, CHANGE[0])
    pb = _st.binom.pmf(np.arange(N + 1), N, CHANGE[1])
    total = 0.0
    for i in np.nonzero(pa >= tail)[0]:
        for j in np.nonzero(pb >= tail)[0]:
            table = diff.rows({key(0): entry(0, int(i))}, {key(0): entry(0, int(j))}, alpha)
            if table[0].verdict == "changed up":
                total += float(pa[i] * pb[j])
    return total


def false_same(reps: int, seed: int, alpha: float = ALPHA) -> dict[str, Any]:
    """How often a difference of exactly the margin is called "same"."""
    rng = np.random.default_rng(seed)
    a, b = CHANGE[0], round(CHANGE[0] + MARGIN, 10)
    ka, kb = draw(rng, (a,), reps), draw(rng, (b,), reps)
    same = sum(
        diff.rows(folder(ka[r], "a"), folder(kb[r], "b"), alpha, "holm", margin=MARGIN)[0]
        .verdict == "same" for r in range(reps)
    )
    return {"rates": [a, b], "margin": MARGIN, "n": N, "reps": reps, "false_same": same / reps,
            "alpha": alpha, "se": math.sqrt(alpha * (1 - alpha) / reps)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" /
                                         "diff_calibration.json"))
    args = ap.parse_args()
    start = time.time()
    out: dict[str, Any] = {
        "false_change": false_change(args.reps, args.seed),
        "power_alone": power(args.reps, args.seed + 1, suite=False),
        "power_in_suite": power(args.reps, args.seed + 2, suite=True),
        "false_same": false_same(args.reps, args.seed + 3),
    }
    out["acceptance"] = all(out[k]["ok"] for k in ("false_change", "power_alone",
                                                   "power_in_suite"))
    out |= {"seed": args.seed, "seconds": round(time.time() - start, 1),
            "python": platform.python_version(),
            "command": "python bench/diff_calibration.py"
                       + (f" --reps {args.reps}" if args.reps != 2000 else "")}
    fc, pa, ps, fs = (out[k] for k in ("false_change", "power_alone", "power_in_suite",
                                       "false_same"))
    print(f"false 'changed' runs, 20 unchanged behaviours, Holm: {fc['family_wise_rate']:.4f} "
          f"(alpha {fc['alpha']})")
    for name, p in (("alone", pa), ("in a 20-behaviour suite", ps)):
        print(f"power {CHANGE[0]} -> {CHANGE[1]} at n={N}, {name}: simulated "
              f"{p['simulated']:.3f} vs planned {p['planned']:.3f} ({p['planned_as']})")
    print(f"exact power of the diff rule, alone: {pa['exact_power_of_the_diff_rule']:.4f}")
    print(f"false 'same' at a difference of exactly the margin {MARGIN}: "
          f"{fs['false_same']:.4f}")
    print(f"acceptance: {out['acceptance']} ({out['seconds']} s)")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
