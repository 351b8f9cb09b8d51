"""Verdicts: PASS, FAIL or INCONCLUSIVE, always with the numbers behind them.

A verdict is plain data (JSON-able through ``to_dict``), so reports, xdist
transport and JUnit properties all carry the same numbers as the assertion
message a user reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from behavtest.stats.result import Outcome

__all__ = ["RECIPE_SEEDS", "Evidence", "Outcome", "Verdict", "format_p"]

Clusters = tuple[tuple[float, ...], ...]

RECIPE_SEEDS = 3
"""Fine-tune seeds an arm needs before its verdict speaks for the training recipe:
published self-awareness effects are means over 3-10 seeds per arm, and with
fewer than 3 the between-seed spread is barely estimated (2 df at 3 seeds)."""


@dataclass(frozen=True)
class Evidence:
    """What a verdict was measured on, so that a later run can compare with it
    (snapshots) by the test the data's shape calls for, and so that reports can
    show it: the values per prompt (0/1 for rates), per model for an arm, and
    what must match for two measurements to be comparable."""

    binary: bool
    clusters: Clusters  # values per prompt (cluster)
    members: tuple[tuple[str, Clusters], ...] | None = None  # an arm: each model's clusters
    prompts: str | None = None  # hash of the prompts (None: plain values)
    settings: tuple[tuple[str, Any], ...] | None = None  # generation settings, sorted items
    seed: int | None = None
    fingerprint: str | None = None
    scorer_version: str | None = None
    examples: tuple[str, ...] = ()  # a few replies, as drawn (untrusted text)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["settings"] = None if self.settings is None else dict(self.settings)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evidence:
        def clusters(raw: Any) -> Clusters:
            return tuple(tuple(float(v) for v in c) for c in raw)

        members = d.get("members")
        settings = d.get("settings")
        return cls(
            binary=bool(d["binary"]),
            clusters=clusters(d["clusters"]),
            members=None if members is None else tuple((str(m), clusters(c)) for m, c in members),
            prompts=d.get("prompts"),
            settings=None if settings is None else tuple(sorted(dict(settings).items())),
            seed=d.get("seed"),
            fingerprint=d.get("fingerprint"),
            scorer_version=d.get("scorer_version"),
            examples=tuple(str(x) for x in d.get("examples") or ()),
        )


def format_p(p: float) -> str:
    """A p-value as every report shows it: 3 significant digits, or 1.2e-05."""
    return f"{p:.3g}" if p >= 1e-3 else f"{p:.1e}"


@dataclass(frozen=True)
class Verdict:
    """One statistical check and its result."""

    check: str  # e.g. "rate >= 0.2", "rate above baseline"
    outcome: Outcome  # the check's own verdict, before any suite-level correction
    scorer: str
    model: str
    k: int | None  # successes; None for means of scores
    n: int  # samples (replies, or values for score checks)
    rate: float  # the rate, or the mean score
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
    units: int | None = None  # independent units the test rests on
    unit: str | None = None  # what they are: samples, prompts, pairs, models, checkpoints
    members: tuple[tuple[str, float, int], ...] | None = None  # (model, rate, n) of an arm
    baseline_members: tuple[tuple[str, float, int], ...] | None = None
    family: str | None = None  # the family it is corrected within
    correction: str | None = None  # holm, bh or none, once the suite is corrected
    p_adjusted: float | None = None
    p_against_adjusted: float | None = None
    final: Outcome | None = None  # outcome after suite-level correction
    evidence: Evidence | None = None  # the data the check judged
    # Probability-based scores: the share of the model's answers they rest on
    # (scorers.readings); a check resting on too little is not judged.
    mass: float | None = None
    baseline_mass: float | None = None

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    @property
    def final_outcome(self) -> Outcome:
        """The outcome after suite-level correction (the check's own before it)."""
        return self.outcome if self.final is None else self.final

    @property
    def scope(self) -> str:
        """What the verdict is about. A claim about a training recipe holds over
        fine-tune seeds (an arm: ``--behav-model`` repeated or a glob), not over one
        checkpoint's samples: a single model's verdict describes that
        checkpoint only, and fewer than RECIPE_SEEDS seeds are too few to
        speak for the recipe."""
        seeds = len(self.members) if self.members else 1
        if seeds == 1:
            return "this checkpoint"
        if seeds < RECIPE_SEEDS:
            return f"{seeds} seeds (a recipe needs >= {RECIPE_SEEDS})"
        return f"the recipe, over {seeds} seeds"

    @property
    def is_precondition(self) -> bool:
        return self.check.startswith("precondition: ")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["outcome"] = self.outcome.value
        d["final"] = None if self.final is None else self.final.value
        d["evidence"] = None if self.evidence is None else self.evidence.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        members = {
            key: None
            if d.get(key) is None
            else tuple((str(a), float(b), int(c)) for a, b, c in d[key])
            for key in ("members", "baseline_members")
        }
        final = d.get("final")
        evidence = d.get("evidence")
        return cls(
            **{
                **d,
                **members,
                "outcome": Outcome(d["outcome"]),
                "final": None if final is None else Outcome(final),
                "evidence": None if evidence is None else Evidence.from_dict(evidence),
            }
        )

    def counts(self) -> str:
        """'k/n = rate' for rates, 'mean of n = m' for scores."""
        if self.k is None:
            return f"mean of {self.n} = {self.rate:.3f}"
        return f"{self.k}/{self.n} = {self.rate:.3f}"

    def baseline_counts(self) -> str | None:
        if self.baseline_rate is None:
            return None
        if self.baseline_k is None:
            return f"mean of {self.baseline_n} = {self.baseline_rate:.3f}"
        return f"{self.baseline_k}/{self.baseline_n} = {self.baseline_rate:.3f}"

    def summary(self) -> str:
        """One line: outcome, check, k/n, rate and interval, p."""
        s = (
            f"{self.outcome.value} {self.check} [{self.scorer}]: {self.counts()} "
            f"[{self.low:.3f}, {self.high:.3f}], p={format_p(self.p_value)}"
        )
        if (base := self.baseline_counts()) is not None:
            s += f"; baseline {base}"
        return s

    def explain(self) -> str:
        """The full multi-line message shown when a check fails or is inconclusive."""
        lines = [f"{self.outcome.value}: {self.check}  (scorer: {self.scorer})"]
        parsed = ""
        if self.parsed is not None and self.parsed != self.n:
            parsed = f" ({self.parsed} parsed)"
        units = ""
        if self.units is not None and self.unit not in (None, "samples"):
            units = f" over {self.units} {self.unit}"
        lines.append(
            f"  model {self.model}: {self.counts()}{parsed}{units}, "
            f"interval [{self.low:.3f}, {self.high:.3f}]; about {self.scope}"
        )
        lines += _member_lines(self.members)
        if self.baseline is not None:
            diff = ""
            if self.effect is not None and self.effect_low is not None:
                diff = (
                    f"; difference {self.effect:+.3f} "
                    f"[{self.effect_low:+.3f}, {self.effect_high or 0.0:+.3f}]"
                )
            lines.append(f"  baseline {self.baseline}: {self.baseline_counts()}{diff}")
            lines += _member_lines(self.baseline_members)
        lines.append(
            f"  p(claim) = {format_p(self.p_value)}, p(opposite) = {format_p(self.p_against)}, "
            f"alpha = {self.alpha:g}  ({self.method})"
        )
        if self.p_adjusted is not None:
            lines.append(
                f"  suite correction ({self.correction}, family {self.family}): "
                f"adjusted p(claim) = {format_p(self.p_adjusted)}, adjusted p(opposite) = "
                f"{format_p(self.p_against_adjusted or 1.0)} -> {self.final_outcome.value}"
            )
        if self.mass is not None:
            base = "" if self.baseline_mass is None else f", baseline {self.baseline_mass:.1%}"
            lines.append(f"  probability mass behind the score: {self.mass:.1%}{base}")
        if self.detectable:
            lines.append(f"  power: {self.detectable}")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)


def _member_lines(members: tuple[tuple[str, float, int], ...] | None) -> list[str]:
    if not members:
        return []
    return [f"    {name}: {value:.3f} (n={n})" for name, value, n in members]
