"""The common answer of every test in ``stats``: an estimate, its interval, and
one-sided p-values in both directions.

Verdicts need both directions (PASS rejects "the claim is false", FAIL rejects
"the claim is true"), so every test returns both p-values instead of one
two-sided number. The interval is two-sided at 1 - 2*alpha, so each bound is a
one-sided 1 - alpha bound, matching the one-sided tests at level alpha.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from behavtest.errors import InvalidArgument
from behavtest.stats.power import significant


class Outcome(str, enum.Enum):
    """What a check concluded."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"


def decide(p_claim: float, p_against: float, alpha: float) -> Outcome:
    """The one verdict rule: PASS when the data reject "the claim is false"
    (p_claim < alpha), FAIL when they reject "the claim is true"
    (p_against < alpha), INCONCLUSIVE otherwise. "Not significant" is never
    PASS; claims of no effect are equivalence tests, decided by this same rule
    on the TOST p-values."""
    if significant(p_claim, alpha):
        return Outcome.PASS
    if significant(p_against, alpha):
        return Outcome.FAIL
    return Outcome.INCONCLUSIVE


def check_alpha(alpha: float, what: str = "alpha") -> float:
    """``alpha`` as a float, if it is a one-sided level strictly between 0 and 0.5.

    Every test here is one-sided at ``alpha`` and reports a two-sided 1 - 2*alpha
    interval, so 0.5 and above would make that interval empty. Raises
    ``InvalidArgument`` (a ValueError) otherwise, NaN included.
    """
    value = float(alpha)
    if not 0.0 < value < 0.5:  # also rejects NaN
        raise InvalidArgument(
            f"{what}={alpha!r} is not a one-sided level in (0, 0.5); fix: use e.g. {what}=0.05"
        )
    return value


@dataclass(frozen=True)
class Inference:
    """Result of one test of ``estimate`` against ``null``.

    ``p_greater`` is the p-value for the alternative "true value > null",
    ``p_less`` for "true value < null". ``se`` and ``df`` (when the test has
    them) let callers word power ("n detects a gap of ..."); ``units`` is the
    number of independent units the test rests on (samples, clusters, pairs,
    models), which is what its power depends on.
    """

    estimate: float
    low: float
    high: float
    p_greater: float
    p_less: float
    method: str
    null: float = 0.0
    effect: str = "difference"  # what estimate is: rate, mean, difference, ratio, d
    se: float | None = None
    df: float | None = None
    units: int | None = None
    note: str | None = None
    effective_n: float | None = None  # samples' worth of information (clustered rates)

    def p_for(self, direction: str) -> float:
        """p-value for the alternative in ``direction`` ('greater' or 'less')."""
        if direction == "greater":
            return self.p_greater
        if direction == "less":
            return self.p_less
        raise ValueError(f"direction {direction!r} is not 'greater' or 'less'")
