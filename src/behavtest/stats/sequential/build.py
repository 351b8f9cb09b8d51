"""Building a design: ``sequential_design`` computes the boundaries of an exact
group-sequential test for a budget, under the spending function, and adds the
futility stops.
"""

from __future__ import annotations

from collections.abc import Sequence

from behavtest.stats.sequential.design import (
    SequentialDesign,
    check_direction,
    check_looks,
    check_threshold_alpha,
)
from behavtest.stats.sequential.futility import futility_regions
from behavtest.stats.sequential.recursion import sweep
from behavtest.stats.sequential.spending import Spending, spending_function

BATCH = 16
"""Default samples per look: the harness draws a model's replies in provider batches of
16 (``--behav-batch``), so one look per batch costs no extra generate calls."""
DEFAULT_SPENDING: Spending = ("hsd", 4.0)
DEFAULT_FUTILITY: float | None = 0.15


def _equal_looks(budget: int, k: int) -> tuple[int, ...]:
    if k < 1:
        raise ValueError(f"looks={k} must be >= 1")
    return tuple(sorted({-(-budget * j // k) for j in range(1, k + 1)}))


def default_looks(budget: int) -> int:
    """One look per ``BATCH`` samples: K = ceil(budget / 16), equally spaced."""
    return max(1, -(-budget // BATCH))


def sequential_design(
    threshold: float,
    budget: int,
    alpha: float,
    direction: str,
    looks: int | Sequence[int] | None = None,
    *,
    spending: Spending = DEFAULT_SPENDING,
    futility: float | None = DEFAULT_FUTILITY,
    curtail: bool = True,
) -> SequentialDesign:
    """Exact group-sequential design for "rate > threshold" ('greater') or "< threshold".

    ``looks`` is the number K of equally spaced looks (n_j = ceil(budget*j/K);
    repeats, when budget < K, are dropped), the cumulative sizes themselves
    (strictly increasing, ending at ``budget``), or None: one look per 16
    samples (``default_looks``), so each look is at most one provider batch.
    Both boundaries are computed under rate == threshold with ``spending``
    ('obf', 'pocock' or ('hsd', gamma)) of the one-sided alpha (the
    ``behavtest.stats.sequential`` docstring). ``curtail`` adds deterministic
    curtailment, ``futility=gamma`` the predictive-probability futility stop
    (None: none); both are
    non-binding, so they never raise an error rate. A budget too small for any
    PASS gives all ``pass_at`` None (``SequentialDesign.can_pass``). K = 1 is
    the fixed-n one-sided exact binomial test (scipy ``binomtest``) with the
    ``significant`` rule.
    """
    check_direction(direction)
    check_threshold_alpha(threshold, alpha)
    if budget < 1:
        raise ValueError(f"budget={budget} must be >= 1")
    if futility is not None and not 0.0 <= futility < 1.0:
        raise ValueError(f"futility={futility} must lie in [0, 1) (or be None)")
    if looks is None:
        ns = _equal_looks(budget, default_looks(budget))
    elif isinstance(looks, int):
        ns = _equal_looks(budget, looks)
    else:
        ns = check_looks(looks)
        if ns[-1] != budget:
            raise ValueError(f"the last look {ns[-1]} must equal the budget {budget}")
    spend = spending_function(spending)
    flip = direction == "less"
    sw = sweep(ns, 1.0 - threshold if flip else threshold,
               level=lambda s: spend(alpha, s), keep=True)
    regions = futility_regions(ns, sw, alpha, futility, curtail)
    pass_at: list[int | None] = []
    fail_at: list[int | None] = []
    stop_at: list[tuple[int, int] | None] = []
    for n, c, f, (a, b) in zip(ns, sw.upper, sw.lower, regions, strict=True):
        pass_at.append(None if c > n else (n - c if flip else c))
        fail_at.append(None if f < 0 else (n - f if flip else f))
        stop_at.append(None if a > b else ((n - b, n - a) if flip else (a, b)))
    return SequentialDesign(
        threshold, alpha, direction, ns, tuple(pass_at), tuple(fail_at),
        tuple(stop_at) if any(s is not None for s in stop_at) else (), spending, futility,
    )

