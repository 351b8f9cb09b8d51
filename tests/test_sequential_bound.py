"""bench/sequential_bound.py's backward induction is the exact minimum over stopping rules.

The bench's "EXCLUDED" verdicts rest on two facts: ``solve`` returns the least
Lagrangian over *every* stopping rule of its look spacing (so the dual function
is computed exactly), and weak duality (so the dual is below every feasible
rule's cost). Both are checked here by brute force on plans small enough to
enumerate every deterministic rule (each (n, x) node: continue, PASS, FAIL or
stop), with ``characteristics`` (a forward pass, independent of the backward
one) as the oracle.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def bound_module() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))  # the bench imports its sibling sequential.py
    try:
        import sequential_bound

        yield sequential_bound
    finally:
        sys.path.remove(str(BENCH))


def _all_rules(nmax: int, step: int, *, draw_first: bool = False) -> Iterator[list[np.ndarray]]:
    """Every deterministic rule (``draw_first``: only those that draw at n = 0)."""
    looks = list(range(0, nmax + 1, step))
    per_node = [range(4) if n < nmax else range(1, 4) for n in looks for _ in range(n + 1)]
    if draw_first:
        per_node[0] = range(0, 1)
    for actions in itertools.product(*per_node):
        rule, i = [], 0
        for n in looks:
            rule.append(np.array(actions[i:i + n + 1]))
            i += n + 1
        yield rule


Characteristics = dict[float, tuple[float, float, float]]


def _characteristics(b: ModuleType, plan: Any, rule: list[np.ndarray], step: int
                     ) -> Characteristics:
    return {q: b.characteristics(rule, q, step) for q in plan.rates}


def _objective(plan: Any, oc: Characteristics, r: float) -> float:
    """T - r D over the plan's weights."""
    return sum(w * (oc[q][2] - r * (oc[q][0] + oc[q][1]))
               for q, w in zip(plan.rates, plan.weights, strict=True))


def _lagrangian(plan: Any, oc: Characteristics, r: float, lam: np.ndarray,
                p2: float | None) -> float:
    """``solve``'s Lagrangian (without its constant terms), from a forward pass."""
    t, p1 = plan.t, plan.p1
    value = _objective(plan, oc, r) + lam[0] * oc[t][0] + lam[1] * oc[t][1] - lam[2] * oc[p1][0]
    return value - (0.0 if p2 is None else lam[3] * oc[p2][1])


@pytest.mark.parametrize(("nmax", "step"), [(2, 1), (2, 2), (4, 4)])
def test_solve_is_the_least_lagrangian_over_every_rule(
    bound_module: ModuleType, nmax: int, step: int
) -> None:
    b = bound_module
    p2 = 0.55
    plan = b.Plan("toy", 0.3, 0.1, (0.0, 0.1, 0.3, p2), (2.0, 1.0, 1.0, 0.0), nmax)
    ocs = [_characteristics(b, plan, q, step) for q in _all_rules(nmax, step)]
    rng = np.random.default_rng(7)
    for _ in range(4):
        lam = rng.uniform(0.0, 5.0, 4)
        r = float(rng.uniform(0.0, 3.0))
        for fail in (None, p2):
            value, rule = b.solve(plan, r, lam, step, fail)
            assert value == pytest.approx(min(_lagrangian(plan, oc, r, lam, fail) for oc in ocs),
                                          abs=1e-9)
            # the rule it returns attains the value (forward pass)
            mine = _characteristics(b, plan, rule, step)
            assert _lagrangian(plan, mine, r, lam, fail) == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize(("t", "p1", "nmax", "step", "fail_power"),
                         [(0.8, 0.1, 2, 1, None), (0.5, 0.1, 5, 5, None), (0.5, 0.1, 5, 5, 0.2)])
def test_the_dual_bound_is_below_every_feasible_rule(
    bound_module: ModuleType, t: float, p1: float, nmax: int, step: int,
    fail_power: float | None,
) -> None:
    """Weak duality, with and without the FAIL power constraint: the bound is at most
    the least cost over the feasible rules found by enumeration, and the best
    feasible rule the search reports costs at least that."""
    b = bound_module
    p2 = b._mirror(t, p1)
    plan = b.Plan("toy", t, p1, (0.0, p1, t, p2), (2.0, 1.0, 1.0, 0.0), nmax)
    r, power = 1.0, 0.3
    feasible = []
    for rule in _all_rules(nmax, step):
        oc = _characteristics(b, plan, rule, step)
        if (oc[t][0] <= b.ALPHA and oc[t][1] <= b.ALPHA and oc[p1][0] >= power
                and (fail_power is None or oc[p2][1] >= fail_power)):
            feasible.append(_objective(plan, oc, r))
    assert feasible, "the toy constraints must leave some rule"
    got = b.bound(plan, r, power, step, fail_power)
    assert got.dual <= min(feasible) + 1e-9
    assert got.best_feasible is not None
    t_sum, d_sum = got.best_feasible
    assert t_sum - r * d_sum >= min(feasible) - 1e-9


@pytest.mark.parametrize(("t", "p1", "nmax", "step", "fail_power"),
                         [(0.8, 0.1, 2, 1, None), (0.5, 0.1, 5, 5, None), (0.5, 0.1, 5, 5, 0.2),
                          (0.6, 0.1, 4, 2, None)])
def test_the_exact_lp_lies_between_every_dual_value_and_every_deterministic_rule(
    bound_module: ModuleType, t: float, p1: float, nmax: int, step: int,
    fail_power: float | None,
) -> None:
    """``exact`` solves over randomized rules: at most the least cost of the feasible
    deterministic rules (enumerated), at least the Lagrangian dual at any
    multipliers (weak duality, with ``solve`` computing it), and its T and D give
    its value."""
    b = bound_module
    p2 = b._mirror(t, p1)
    plan = b.Plan("toy", t, p1, (0.0, p1, t, p2), (2.0, 1.0, 1.0, 0.0), nmax)
    r, power = 1.0, 0.3
    got = b.exact(plan, r, power, step, fail_power)
    assert got.value == pytest.approx(got.t_sum - r * got.d_sum, abs=1e-7)
    deterministic = []
    for rule in _all_rules(nmax, step, draw_first=True):  # a subset suffices for an upper bound
        oc = _characteristics(b, plan, rule, step)
        if (oc[t][0] <= b.ALPHA and oc[t][1] <= b.ALPHA and oc[p1][0] >= power
                and (fail_power is None or oc[p2][1] >= fail_power)):
            deterministic.append(_objective(plan, oc, r))
    assert got.value <= min(deterministic) + 1e-7
    rng = np.random.default_rng(11)
    for _ in range(20):
        lam = rng.uniform(0.0, 50.0, 4)
        if fail_power is None:
            lam[3] = 0.0
        value, _ = b.solve(plan, r, lam, step, None if fail_power is None else p2)
        dual = (value - (lam[0] + lam[1]) * b.ALPHA + lam[2] * power
                + lam[3] * (fail_power or 0.0))
        assert dual <= got.value + 1e-7
