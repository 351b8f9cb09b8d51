"""Verdicts: PASS, FAIL or INCONCLUSIVE, always with the numbers behind them.

A verdict is plain data (JSON-able through ``to_dict``), so reports, xdist
transport and JUnit properties all carry the same numbers as the assertion
message a user reads. It is made of its parts: what was measured on the
model (:class:`Measured`) and, for a comparison, on the baseline with the
:class:`Difference` between them; the :class:`Test` that judged the claim;
the suite-level :class:`Correction` once the run is corrected; and the
:class:`Evidence`, the data itself.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from behavtest.errors import BehavtestError
from behavtest.stats.result import Outcome

__all__ = ["RECIPE_SEEDS", "BehaviourFailed", "CheckEnded", "Correction", "Difference",
           "Evidence", "Inconclusive", "JudgeAgreement", "Measured", "Outcome",
           "PreconditionNotMet", "Test", "Verdict", "format_p"]

Clusters = tuple[tuple[float, ...], ...]
Member = tuple[str, float, int]
"""(model, rate or mean, n) of one model of an arm."""

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
class Measured:
    """One side of a check: a model's (or an arm's) numbers, with the interval
    of its rate or mean."""

    model: str
    k: int | None  # successes; None for means of scores
    n: int  # samples (replies, or values for score checks)
    rate: float  # the rate, or the mean score
    low: float = math.nan
    high: float = math.nan
    parsed: int | None = None  # replies the scorer could parse (None: all)
    members: tuple[Member, ...] | None = None  # an arm: each model's rate and n
    # Probability-based scores: the share of the model's answers they rest on
    # (scorers.readings); a check resting on too little is not judged.
    mass: float | None = None
    # The members are an ordered checkpoint series (--behav-checkpoints), in
    # training order, not an arm of seeds.
    ordered: bool = False

    def counts(self) -> str:
        """'k/n = rate' for rates, 'mean of n = m' for scores."""
        if self.k is None:
            return f"mean of {self.n} = {self.rate:.3f}"
        return f"{self.k}/{self.n} = {self.rate:.3f}"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Measured:
        members = d.get("members")
        return cls(**{**d, "members": None if members is None else tuple(
            (str(a), float(b), int(c)) for a, b, c in members)})


@dataclass(frozen=True)
class Difference:
    """A comparison's estimate (model - baseline) and its interval."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Test:
    """How the claim was judged: the test, its level and both one-sided p-values."""

    method: str
    alpha: float
    p_value: float  # p-value of the claim (small = claim supported)
    p_against: float  # p-value of the opposite claim (small = claim refuted)
    threshold: float | None = None
    units: int | None = None  # independent units the test rests on
    unit: str | None = None  # what they are: samples, prompts, pairs, models, checkpoints
    detectable: str | None = None  # what this n could have detected
    # An equivalence check's (TOST) bounds: of the rate or mean, or, when the
    # verdict compares with a baseline, of the difference model - baseline.
    band: tuple[float, float] | None = None

    @property
    def confidence(self) -> str:
        """The level of every interval the verdict shows, 1 - 2 alpha, e.g. '90%'."""
        return f"{1.0 - 2.0 * self.alpha:.0%}"


@dataclass(frozen=True)
class JudgeAgreement:
    """How far the LLM judge behind a verdict agreed with a labelled set the
    project ships for its question (``questions/data/judges``): Cohen's kappa
    of its answers against the labels, the 95% interval, the raw share that
    agreed, and the floor the interval's lower bound must reach for the
    judged verdict to say anything (``checks.judge.KAPPA_FLOOR`` argues it).
    ``n`` 0: the judge was checked against no labelled set at all."""

    labelled: str  # the labelled set's name ("" when there was none)
    kappa: float
    low: float
    high: float
    n: int
    accuracy: float
    floor: float
    unanswered: int = 0  # labelled items the judge gave no answer for (disagreements)
    how: str = "majority of yes/no votes"  # what the judge's answer was

    @property
    def met(self) -> bool:
        """The interval's lower bound reaches the floor (never for nan or no set)."""
        return self.n > 0 and self.low >= self.floor

    def summary(self) -> str:
        """'judge kappa 0.72 [0.55, 0.89] on 36 labelled, floor 0.4'."""
        if self.n == 0:
            return f"judge unchecked: no labelled set, floor {self.floor:g}"
        k = "n/a" if math.isnan(self.kappa) else (
            f"{self.kappa:.2f} [{self.low:.2f}, {self.high:.2f}]")
        return (f"judge \u03ba {k} on {self.n} labelled ({self.labelled}: "
                f"{self.accuracy:.0%} agreed, {self.unanswered} unanswered), "
                f"floor {self.floor:g}")

    def shortfall(self) -> str | None:
        """Why a verdict judged by this judge says nothing (None: the judge is
        good enough): its agreement with the labels is below the floor."""
        if self.met:
            return None
        if self.n == 0:
            return ("the judge was checked against no labelled set, so its answers may be "
                    "guesses; fix: give it one (checks.judge.Labelled)")
        return (f"the judge's agreement with its labelled set is below the floor: "
                f"{self.summary()} (the 95% interval's lower bound must reach "
                f"{self.floor:g}), so its rate says nothing")


@dataclass(frozen=True)
class Correction:
    """The suite-level correction of a verdict: its adjusted p-values and the
    outcome they give."""

    method: str  # holm, bh or none
    p_adjusted: float
    p_against_adjusted: float
    final: Outcome


@dataclass(frozen=True)
class Verdict:
    """One statistical check and its result."""

    check: str  # e.g. "rate >= 0.2", "rate above baseline"
    outcome: Outcome  # the check's own verdict, before any suite-level correction
    scorer: str
    measured: Measured
    test: Test
    baseline: Measured | None = None
    difference: Difference | None = None
    family: str | None = None  # the family it is corrected within
    correction: Correction | None = None
    evidence: Evidence | None = None  # the data the check judged
    note: str | None = None
    judge: JudgeAgreement | None = None  # a judged check: the judge's agreement with labels

    @property
    def model(self) -> str:
        return self.measured.model

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    @property
    def final_outcome(self) -> Outcome:
        """The outcome after suite-level correction (the check's own before it)."""
        return self.outcome if self.correction is None else self.correction.final

    @property
    def scope(self) -> str:
        """What the verdict is about. A claim about a training recipe holds over
        fine-tune seeds (an arm: ``--behav-model`` repeated or a glob), not over one
        checkpoint's samples: a single model's verdict describes that
        checkpoint only, and fewer than RECIPE_SEEDS seeds are too few to
        speak for the recipe."""
        members = self.measured.members
        seeds = len(members) if members else 1
        if self.measured.ordered and members:
            return f"a series of {seeds} checkpoints"
        if seeds == 1:
            return "this checkpoint"
        if seeds < RECIPE_SEEDS:
            return f"{seeds} seeds (a recipe needs >= {RECIPE_SEEDS})"
        return f"the recipe, over {seeds} seeds"

    @property
    def is_precondition(self) -> bool:
        return self.check.startswith("precondition: ")

    def corrected(self, method: str, p_adjusted: float, p_against_adjusted: float,
                  final: Outcome) -> Verdict:
        """This verdict after the suite-level correction."""
        return replace(self, correction=Correction(method, p_adjusted, p_against_adjusted,
                                                   final))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["outcome"] = self.outcome.value
        if self.correction is not None:
            d["correction"]["final"] = self.correction.final.value
        d["evidence"] = None if self.evidence is None else self.evidence.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        def part(kind: Any, key: str) -> Any:
            raw = d.get(key)
            return None if raw is None else kind(**raw)

        correction = d.get("correction")
        evidence = d.get("evidence")
        baseline = d.get("baseline")
        return cls(
            check=d["check"], outcome=Outcome(d["outcome"]), scorer=d["scorer"],
            measured=Measured.from_dict(d["measured"]), test=_test(d["test"]),
            baseline=None if baseline is None else Measured.from_dict(baseline),
            difference=part(Difference, "difference"), family=d.get("family"),
            correction=None if correction is None else Correction(
                **{**correction, "final": Outcome(correction["final"])}),
            evidence=None if evidence is None else Evidence.from_dict(evidence),
            note=d.get("note"), judge=part(JudgeAgreement, "judge"),
        )

    def summary(self) -> str:
        """One line: outcome, check, k/n, rate and interval, p."""
        m = self.measured
        s = (
            f"{self.outcome.value} {self.check} [{self.scorer}]: {m.counts()} "
            f"[{m.low:.3f}, {m.high:.3f}], p={format_p(self.test.p_value)}"
        )
        if self.baseline is not None:
            s += f"; baseline {self.baseline.counts()}"
        return s

    def explain(self) -> str:
        """The full multi-line message shown when a check fails or is inconclusive."""
        m, test = self.measured, self.test
        lines = [f"{self.outcome.value}: {self.check}  (scorer: {self.scorer})"]
        parsed = ""
        if m.parsed is not None and m.parsed != m.n:
            parsed = f" ({m.parsed} parsed)"
        units = ""
        if test.units is not None and test.unit not in (None, "samples"):
            units = f" over {test.units} {test.unit}"
        lines.append(
            f"  model {m.model}: {m.counts()}{parsed}{units}, "
            f"interval [{m.low:.3f}, {m.high:.3f}]; about {self.scope}"
        )
        lines += _member_lines(m.members)
        lines += self._baseline_lines()
        lines.append(
            f"  p(claim) = {format_p(test.p_value)}, p(opposite) = {format_p(test.p_against)}, "
            f"alpha = {test.alpha:g}  ({test.method})"
        )
        if (c := self.correction) is not None:
            lines.append(
                f"  suite correction ({c.method}, family {self.family}): "
                f"adjusted p(claim) = {format_p(c.p_adjusted)}, adjusted p(opposite) = "
                f"{format_p(c.p_against_adjusted)} -> {c.final.value}"
            )
        if m.mass is not None:
            base = "" if self.baseline is None or self.baseline.mass is None else (
                f", baseline {self.baseline.mass:.1%}")
            lines.append(f"  probability mass behind the score: {m.mass:.1%}{base}")
        if test.detectable:
            lines.append(f"  power: {test.detectable}")
        if self.judge is not None:
            lines.append(f"  {self.judge.summary()}")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)

    def _baseline_lines(self) -> list[str]:
        if self.baseline is None:
            return []
        diff = ""
        if (d := self.difference) is not None:
            diff = f"; difference {d.estimate:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"
        return [f"  baseline {self.baseline.model}: {self.baseline.counts()}{diff}",
                *_member_lines(self.baseline.members)]


def _test(d: dict[str, Any]) -> Test:
    band = d.get("band")
    return Test(**{**d, "band": None if band is None else (float(band[0]), float(band[1]))})


def _member_lines(members: tuple[Member, ...] | None) -> list[str]:
    if not members:
        return []
    return [f"    {name}: {value:.3f} (n={n})" for name, value, n in members]


# -- a check that ends its test ------------------------------------------------------
class CheckEnded(BehavtestError):
    """A statistical check ended its test: the verdict says how and why."""

    def __init__(self, verdict: Verdict, message: str | None = None) -> None:
        super().__init__(verdict.explain() if message is None else message)
        self.verdict = verdict


class BehaviourFailed(CheckEnded, AssertionError):
    """A statistical check failed: the data contradict the claim."""


class Inconclusive(CheckEnded):
    """The sample budget is spent and the interval still straddles the threshold."""


class PreconditionNotMet(CheckEnded):
    """A check inside ``with precondition():`` did not pass: the property it guards
    cannot be judged (e.g. asking a model about an acrostic it does not write)."""

    def __init__(self, verdict: Verdict) -> None:
        what = verdict.summary().replace("precondition: ", "", 1)
        super().__init__(verdict, f"precondition not met: {what}")
