"""Numeric samples for the t-based tests: validation, spread, and what a t test
means when there is no spread.

Why a convention is needed: with zero standard error a t statistic is +-inf
or 0/0, and scipy returns NaN. Every test here instead takes the t test's
limit (``no_spread_pvalues``), so degenerate data give a verdict-ready
answer, never NaN. Float noise (0.3 - 0.1 != 0.2) must not turn "no spread"
into a huge t, hence the relative tolerance ``SPREAD_TOL``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SPREAD_TOL = 1e-12
"""Relative spread below which a set of values counts as constant."""


def finite_values(values: Sequence[float], name: str) -> list[float]:
    """``values`` as floats; ValueError if empty or not all finite."""
    out = [float(v) for v in values]
    if not out:
        raise ValueError(f"{name} is empty: need at least one value")
    if any(math.isnan(v) or math.isinf(v) for v in out):
        raise ValueError(f"{name} contains NaN or infinite values")
    return out


def is_constant(values: Sequence[float]) -> bool:
    """True when the values' range is within ``SPREAD_TOL`` of their size."""
    lo, hi = min(values), max(values)
    return hi - lo <= SPREAD_TOL * max(1.0, abs(lo), abs(hi))


def no_spread_pvalues(estimate: float, null: float) -> tuple[float, float]:
    """(p_greater, p_less) of a t test whose standard error is zero: the limit of the t test.

    The direction the data support (sign of estimate - null) gets p = 0
    (t = +-inf), the other p = 1; no shift gives p = 1 both ways. A shift
    within float noise (``SPREAD_TOL`` relative) counts as none: 0.5 - 0.2
    must not differ from 0.3.
    """
    shift = estimate - null
    if abs(shift) <= SPREAD_TOL * max(1.0, abs(estimate), abs(null)):
        return 1.0, 1.0
    return (0.0, 1.0) if shift > 0 else (1.0, 0.0)


def sample_sd(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1 denominator); needs at least 2 values."""
    m = len(values)
    mean = sum(values) / m
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (m - 1))
