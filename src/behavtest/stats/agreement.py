"""Agreement of a rater with known labels: Cohen's kappa with its interval.

What: :func:`cohens_kappa` compares one rater's answers (an LLM judge's
majorities) with labels decided by a rule, over the same items, and returns
kappa, its 95% interval, the raw share that agreed and the count of items the
rater gave no answer for.

Why kappa and not accuracy: on a labelled set that is half "yes", a judge
that answers "yes" to everything is right half the time; kappa subtracts the
agreement its answer shares would give by chance, so that judge scores 0.

A missing answer (an unparseable or tied majority) is a third category the
labels never take: it counts as disagreement and adds nothing to the chance
agreement, so a judge cannot gain by abstaining. statsmodels
``cohens_kappa`` computes kappa and its asymptotic standard error on the
3x3 table; the interval is its Wald interval (kappa +- 1.96 se), cut to
[-1, 1]. At perfect agreement that interval is a single point (the asymptotic
variance is 0), so a floor on the lower bound asks for a set large enough
that one disagreement would still clear it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from behavtest.errors import InvalidArgument

__all__ = ["Kappa", "cohens_kappa"]

LEVEL = 0.95  # of the interval: the level statsmodels reports for kappa


@dataclass(frozen=True)
class Kappa:
    """Cohen's kappa of a rater against labels, with its 95% interval."""

    kappa: float  # nan when chance agreement is 1 (both sides always the same answer)
    low: float
    high: float
    n: int  # labelled items
    accuracy: float  # share of items where the rater gave the label
    unanswered: int  # items with no answer from the rater (counted as disagreement)


def cohens_kappa(answers: Sequence[bool | None], labels: Sequence[bool]) -> Kappa:
    """Kappa of ``answers`` (None: no answer) against ``labels``, item by item."""
    if len(answers) != len(labels):
        raise InvalidArgument(
            f"{len(answers)} answers for {len(labels)} labels; fix: one answer per label")
    if not labels:
        raise InvalidArgument("no labelled items; fix: give at least one")
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

    column = {True: 0, False: 1, None: 2}
    table = np.zeros((3, 3))
    for a, lab in zip(answers, labels, strict=True):
        table[column[a], column[bool(lab)]] += 1
    n = len(labels)
    agree = float(np.trace(table))
    unanswered = int(table[2].sum())
    chance = float(table.sum(axis=1) @ table.sum(axis=0)) / n**2
    if math.isclose(chance, 1.0):
        return Kappa(math.nan, math.nan, math.nan, n, agree / n, unanswered)
    with np.errstate(invalid="ignore", divide="ignore"):  # its z test at se0 = 0
        res = sm_kappa(table)
    kappa, se = float(res.kappa), float(res.std_kappa)
    from scipy.stats import norm

    z = float(norm.isf((1 - LEVEL) / 2))
    low, high = max(-1.0, kappa - z * se), min(1.0, kappa + z * se)
    return Kappa(kappa, low, high, n, agree / n, unanswered)
