"""A finished run as every renderer takes it: the one result type.

The terminal summary, the Markdown summary and the HTML report show the same
run; they take a :class:`RunResult` (what was run, every verdict after the
suite's correction, the snapshot comparisons, the run's throughput), built
once by ``Session.result()``, and never the live session with its handles,
caches and engines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from behavtest.verdict import Outcome, Verdict

if TYPE_CHECKING:
    from behavtest.snapshots.run import SnapshotRun

__all__ = ["Record", "RunResult", "counts", "preconditions_not_met"]


@dataclass
class Record:
    """One verdict of one test, as the summary shows it."""

    nodeid: str
    verdict: Verdict


def counts(records: Iterable[Record]) -> dict[Outcome, int]:
    """Verdicts of the properties themselves (preconditions are counted apart)."""
    c = {o: 0 for o in Outcome}
    for r in records:
        if not r.verdict.is_precondition:
            c[r.verdict.final_outcome] += 1
    return c


def preconditions_not_met(records: Iterable[Record]) -> int:
    return sum(1 for r in records if r.verdict.is_precondition and not r.verdict.passed)


@dataclass(frozen=True)
class RunResult:
    """What a finished run shows. ``model``/``baseline`` name them as reports do
    (an arm: its members); ``header`` is the run's settings in words; ``dtype``
    what the model computed in (None: not the harness's to choose); ``totals``
    the samples drawn and cached, tokens and API use over every process;
    ``training`` the model's training as its card records it."""

    model: str
    baseline: str | None
    header: tuple[str, ...]
    records: tuple[Record, ...]
    correction: str = "holm"
    family_mode: str = "suite"
    dtype: str | None = None
    totals: Mapping[str, Any] = field(default_factory=dict)
    engine_tokens: int = 0
    engine_seconds: float = 0.0
    snapshots: SnapshotRun | None = None
    training: str | None = None  # the model's training in words (None: unknown)

    @property
    def judged(self) -> list[Record]:
        """The records of properties (not preconditions)."""
        return [r for r in self.records if not r.verdict.is_precondition]

    def in_order(self) -> list[Record]:
        """Records in the order every report shows them: by test id, then as recorded."""
        return sorted(self.records, key=lambda r: r.nodeid)

    def counts(self) -> dict[Outcome, int]:
        return counts(self.records)

    def preconditions_not_met(self) -> int:
        return preconditions_not_met(self.records)
