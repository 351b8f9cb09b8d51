"""Claims over an ordered checkpoint series: a peak, the area under the curve, a trend.

A property may rise and fade over training (cross-context abduction peaks
after one round and declines), so the last checkpoint alone would miss it.
Each function here states one claim's test over the series' per-checkpoint
counts and returns it as a :class:`SeriesClaim`, which ``Expectation``
records like any other check (``expect.py`` keeps the verdict machinery;
this module only the series' statistics).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from behavtest import stats
from behavtest.checks import selection
from behavtest.checks.scored import Scored
from behavtest.checks.selection import POWER
from behavtest.errors import InvalidArgument
from behavtest.settings import check_rate


@dataclass(frozen=True)
class SeriesClaim:
    """A series claim's test, ready to be recorded as a verdict."""

    check: str
    direction: str
    inference: stats.Inference
    power: Callable[[], str]
    extra: dict[str, Any] = field(default_factory=dict)


def series_counts(
    group: tuple[Scored, ...] | None, ordered: bool, binary: bool
) -> tuple[list[int], list[int]]:
    """Successes and samples per checkpoint, or a one-line error naming the fix."""
    if group is None or not ordered:
        raise InvalidArgument(
            "series checks need an ordered checkpoint series; fix: sample the "
            "`checkpoints` fixture (--behav-checkpoints)"
        )
    if not binary:
        raise InvalidArgument("series checks take a boolean scorer (rates)")
    return [u.k for u in group], [u.n for u in group]


def _pooled_note(group: tuple[Scored, ...]) -> str | None:
    if any(len(u.clusters) > 1 for u in group):
        return "each checkpoint's prompts are pooled (series tests count samples)"
    return None


def peak(group: tuple[Scored, ...], ks: list[int], ns: list[int], threshold: float,
         alpha: float) -> SeriesClaim:
    """At some checkpoint the rate exceeds ``threshold``: Bonferroni over checkpoints."""
    t = check_rate(threshold)
    inf, at = stats.peak_test(ks, ns, t, alpha)

    def power() -> str:
        r = stats.min_detectable_rate(ns[at], t, alpha / len(ns), POWER)
        if r is None:
            return f"n={ns[at]} per checkpoint can never pass after Bonferroni"
        return (
            f"n={ns[at]} per checkpoint detects a peak rate of at least {r:.3f} "
            f"with {POWER:.0%} power (Bonferroni over {len(ns)})"
        )

    pooled = _pooled_note(group)
    note = f"peak at checkpoint {at + 1}: {group[at].model}" + (f"; {pooled}" if pooled else "")
    return SeriesClaim(f"peak rate >= {t:g}", "greater", inf, power,
                       {"threshold": t, "rate": inf.estimate, "note": note})


def area(group: tuple[Scored, ...], ks: list[int], ns: list[int], threshold: float,
         alpha: float) -> SeriesClaim:
    """The mean rate over the series (equal weights) exceeds ``threshold``."""
    t = check_rate(threshold)
    inf = stats.mean_rate_test(ks, ns, t, alpha)

    def power() -> str:
        return selection.rate_power(sum(ns), t, alpha, "greater") + " (pooled over the series)"

    return SeriesClaim(f"mean rate over series >= {t:g}", "greater", inf, power,
                       {"threshold": t, "rate": inf.estimate, "note": _pooled_note(group)})


def trend(group: tuple[Scored, ...], ks: list[int], ns: list[int], direction: str,
          alpha: float) -> SeriesClaim:
    """The rate rises or falls along the series: Cochran-Armitage."""
    if direction not in ("increasing", "decreasing"):
        raise InvalidArgument(f"trend({direction!r}): use 'increasing' or 'decreasing'")
    inf = stats.trend_test(ks, ns, alpha=alpha)
    side = "greater" if direction == "increasing" else "less"
    return SeriesClaim(
        f"rate {direction} over series", side, inf,
        lambda: selection.t_power_note(inf, "checkpoints", alpha)(side),
        {"note": _pooled_note(group)},
    )
