"""Verdicts: PASS, FAIL or INCONCLUSIVE, always with the numbers behind them.

A verdict is plain data (JSON-able through ``to_dict``), so reports, xdist
transport and JUnit properties all carry the same numbers as the assertion
message a user reads.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any


class Outcome(str, enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"


def _fmt_p(p: float) -> str:
    return f"{p:.3g}" if p >= 1e-3 else f"{p:.1e}"


@dataclass(frozen=True)
class Verdict:
    """One statistical check and its result."""

    check: str  # e.g. "rate >= 0.2", "rate above baseline"
    outcome: Outcome
    scorer: str
    model: str
    k: int
    n: int
    rate: float
    low: float  # interval for the rate (or mean)
    high: float
    alpha: float
    p_value: float  # p-value of the claim (small = claim supported)
    p_against: float  # p-value of the opposite claim (small = claim refuted)
    method: str
    threshold: float | None = None
    parsed: int | None = None  # replies the scorer could parse (None: all)
    baseline: str | None = None
    baseline_k: int | None = None
    baseline_n: int | None = None
    baseline_rate: float | None = None
    effect: float | None = None  # model - baseline
    effect_low: float | None = None
    effect_high: float | None = None
    detectable: str | None = None  # what this n could have detected
    note: str | None = None

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    @property
    def is_precondition(self) -> bool:
        return self.check.startswith("precondition: ")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["outcome"] = self.outcome.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        return cls(**{**d, "outcome": Outcome(d["outcome"])})

    def summary(self) -> str:
        """One line: outcome, check, k/n, rate and interval, p."""
        s = (
            f"{self.outcome.value} {self.check} [{self.scorer}]: {self.k}/{self.n} = "
            f"{self.rate:.3f} [{self.low:.3f}, {self.high:.3f}], p={_fmt_p(self.p_value)}"
        )
        if self.baseline_rate is not None:
            s += f"; baseline {self.baseline_k}/{self.baseline_n} = {self.baseline_rate:.3f}"
        return s

    def explain(self) -> str:
        """The full multi-line message shown when a check fails or is inconclusive."""
        lines = [f"{self.outcome.value}: {self.check}  (scorer: {self.scorer})"]
        parsed = ""
        if self.parsed is not None and self.parsed != self.n:
            parsed = f" ({self.parsed} parsed)"
        lines.append(
            f"  model {self.model}: {self.k}/{self.n}{parsed} = {self.rate:.3f}, "
            f"interval [{self.low:.3f}, {self.high:.3f}]"
        )
        if self.baseline is not None:
            lines.append(
                f"  baseline {self.baseline}: {self.baseline_k}/{self.baseline_n} = "
                f"{self.baseline_rate:.3f}; difference {self.effect:+.3f} "
                f"[{self.effect_low:+.3f}, {self.effect_high:+.3f}]"
            )
        lines.append(
            f"  p(claim) = {_fmt_p(self.p_value)}, p(opposite) = {_fmt_p(self.p_against)}, "
            f"alpha = {self.alpha:g}  ({self.method})"
        )
        if self.detectable:
            lines.append(f"  power: {self.detectable}")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)
