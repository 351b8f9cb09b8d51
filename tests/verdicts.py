"""Verdicts for tests, built from the flat numbers a test states (a test double's
results): the parts a real check assembles (``Measured``, ``Test``, ...) are
filled in one place, so a change of the verdict's shape touches this file."""

from __future__ import annotations

import math
from typing import Any

from behavtest.verdict import Difference, Evidence, Measured, Outcome, Test, Verdict


def make_verdict(
    *, check: str = "rate >= 0.1", outcome: Outcome = Outcome.PASS, scorer: str = "says yes",
    model: str = "double/m", k: int | None = None, n: int = 100, rate: float | None = None,
    low: float = 0.0, high: float = 1.0, parsed: int | None = None,
    members: tuple[tuple[str, float, int], ...] | None = None, mass: float | None = None,
    alpha: float = 0.05, p_value: float = 0.5, p_against: float = 0.5,
    method: str = "exact binomial test", threshold: float | None = None,
    units: int | None = None, unit: str | None = None, detectable: str | None = None,
    band: tuple[float, float] | None = None,
    baseline: str | None = None, baseline_k: int | None = None, baseline_n: int = 100,
    baseline_rate: float | None = None,
    baseline_members: tuple[tuple[str, float, int], ...] | None = None,
    baseline_mass: float | None = None, effect: float | None = None,
    effect_low: float = math.nan, effect_high: float = math.nan,
    family: str | None = None, evidence: Evidence | None = None, note: str | None = None,
) -> Verdict:
    rate = (k / n if k is not None else 0.0) if rate is None else rate
    other = None
    if baseline is not None:
        b_rate = (baseline_k / baseline_n if baseline_k is not None else 0.0
                  ) if baseline_rate is None else baseline_rate
        other = Measured(baseline, baseline_k, baseline_n, b_rate, members=baseline_members,
                         mass=baseline_mass)
    extra: dict[str, Any] = {}
    if effect is not None:
        extra["difference"] = Difference(effect, effect_low, effect_high)
    return Verdict(
        check=check, outcome=outcome, scorer=scorer,
        measured=Measured(model, k, n, rate, low, high, parsed, members, mass),
        test=Test(method, alpha, p_value, p_against, threshold, units, unit, detectable,
                  band),
        baseline=other, family=family, evidence=evidence, note=note, **extra,
    )


def passing_verdict(**changes: Any) -> Verdict:
    """The report tests' starting point: a PASS of "rate >= 0.5" at 80/100 (exact
    interval), with ``changes`` applied (any argument of :func:`make_verdict`)."""
    base: dict[str, Any] = dict(
        check="rate >= 0.5", outcome=Outcome.PASS, scorer="says yes", model="double/yes=0.8",
        k=80, n=100, rate=0.8, low=0.72, high=0.87, alpha=0.05, p_value=1e-9,
        p_against=1.0, method="exact binomial (Clopper-Pearson)", threshold=0.5,
        units=100, unit="samples",
    )
    base.update(changes)
    return make_verdict(**base)


def measured_rate(
    k: int, n: int, *, check: str = "rate >= 0.1", low: float = 0.0, high: float = 1.0,
    p_value: float = 0.5, p_against: float = 0.5, method: str = "exact binomial test",
    prompts: str = "p1", scorer_version: str = "1", examples: tuple[str, ...] = (),
) -> Verdict:
    """A verdict on k of n replies of ``double/m`` with the evidence a snapshot
    stores of it (one prompt's 0/1 values, its settings and hashes)."""
    return make_verdict(
        check=check, k=k, n=n, low=low, high=high, p_value=p_value, p_against=p_against,
        method=method,
        evidence=Evidence(binary=True, clusters=((1.0,) * k + (0.0,) * (n - k),),
                          prompts=prompts, settings=(("max_tokens", 8),), seed=0,
                          fingerprint="double/m", scorer_version=scorer_version,
                          examples=examples),
    )
