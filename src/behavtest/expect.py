"""Assertions over scored samples: ``expect(samples, scorer).rate_at_least(0.2)``.

Each check turns counts into a :class:`Verdict` with one-sided exact tests at
level alpha in both directions:

* PASS when the data reject "the claim is false" (p(claim) < alpha),
* FAIL when they reject "the claim is true" (p(opposite) < alpha),
* INCONCLUSIVE otherwise: the interval still straddles the threshold.

Rates use the exact binomial test and Clopper-Pearson bounds (the interval
shown is two-sided 1 - 2*alpha, so each bound is a one-sided 1 - alpha bound
and PASS/FAIL read off it agree exactly with the p-values). Comparisons with
a baseline use Fisher's exact test and Newcombe's interval for the
difference. "Not significant" is never turned into PASS.

Failing checks raise :class:`BehaviourFailed` (an ``AssertionError``, so
pytest reports it as a failure with the full message); inconclusive ones
raise :class:`Inconclusive`, which the plugin turns into a failure or an
xfail according to ``--behav-inconclusive``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from behavtest import stats
from behavtest.errors import InvalidArgument
from behavtest.handle import Samples
from behavtest.scorers.base import Scorer
from behavtest.settings import check_rate
from behavtest.verdict import Outcome, Verdict

POWER = 0.8


class BehaviourFailed(AssertionError):
    """A statistical check failed: the data contradict the claim."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.explain())
        self.verdict = verdict


class Inconclusive(Exception):
    """The sample budget is spent and the interval still straddles the threshold."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.explain())
        self.verdict = verdict


class PreconditionNotMet(Exception):
    """A check inside ``with precondition():`` did not pass: the property it guards
    cannot be judged (e.g. asking a model about an acrostic it does not write)."""

    def __init__(self, verdict: Verdict) -> None:
        what = verdict.summary().replace("precondition: ", "", 1)
        super().__init__(f"precondition not met: {what}")
        self.verdict = verdict


@dataclass(frozen=True)
class ExpectContext:
    """Run-wide defaults for checks; the plugin sets one per test."""

    alpha: float = 0.05
    record: Callable[[Verdict], None] | None = None
    precondition: bool = False


_DEFAULT_CONTEXT = ExpectContext()
current_context: ContextVar[ExpectContext] = ContextVar(
    "behavtest_expect_context", default=_DEFAULT_CONTEXT
)


@contextmanager
def precondition() -> Iterator[None]:
    """Checks inside this block are preconditions, not the property itself.

    A self-report about a behaviour means something only when the behaviour is
    present (science.md, pitfall 6). If a check in the block fails or is
    inconclusive, :class:`PreconditionNotMet` is raised with its numbers, and
    the plugin reports the test as skipped for that reason instead of giving
    a misleading PASS or FAIL for the property.
    """
    token = current_context.set(replace(current_context.get(), precondition=True))
    try:
        yield
    except (BehaviourFailed, Inconclusive) as exc:
        raise PreconditionNotMet(exc.verdict) from None
    finally:
        current_context.reset(token)


def _raise_unless_pass(verdict: Verdict) -> Verdict:
    ctx = current_context.get()
    if ctx.precondition:
        verdict = replace(verdict, check=f"precondition: {verdict.check}")
    if ctx.record is not None:
        ctx.record(verdict)
    if verdict.outcome is Outcome.FAIL:
        raise BehaviourFailed(verdict)
    if verdict.outcome is Outcome.INCONCLUSIVE:
        raise Inconclusive(verdict)
    return verdict


def _outcome(p_claim: float, p_against: float, alpha: float) -> Outcome:
    if stats.significant(p_claim, alpha):
        return Outcome.PASS
    if stats.significant(p_against, alpha):
        return Outcome.FAIL
    return Outcome.INCONCLUSIVE


def _count(values: Sequence[bool | float | None]) -> tuple[int, int, int]:
    """(successes, n, parsed). Unparseable replies count in n but not in k:
    they are not evidence of the behaviour, and the parse rate is reported."""
    parsed = [v for v in values if v is not None]
    return sum(1 for v in parsed if v), len(values), len(parsed)


class Expectation:
    """Checks on one model's scored samples. Methods chain: each returns self."""

    def __init__(self, samples: Samples, scorer: Scorer[bool], alpha: float | None = None):
        if len(samples) == 0:
            raise InvalidArgument("no samples to judge; fix: sample with n >= 1")
        self.samples = samples
        self.scorer = scorer
        self.alpha = current_context.get().alpha if alpha is None else alpha
        if not 0.0 < self.alpha < 0.5:
            raise InvalidArgument(f"alpha={self.alpha} is outside (0, 0.5)")
        self.k, self.n, self.parsed = _count(samples.score(scorer))
        self.verdicts: list[Verdict] = []

    @property
    def rate(self) -> float:
        return self.k / self.n

    def _method(self) -> str:
        conf = round(100 * (1 - self.alpha))
        return f"exact binomial test; Clopper-Pearson bounds, each one-sided {conf}%"

    def _judge(
        self,
        check: str,
        direction: str,
        up: float,
        down: float,
        method: str,
        power_note: Callable[[Outcome], str | None],
        **extra: Any,
    ) -> Expectation:
        """Turn the two one-sided p-values into a verdict with this model's numbers,
        record it, and raise unless it passes. ``extra`` holds check-specific
        Verdict fields; ``power_note`` words what the sample size could detect."""
        p_claim, p_against = (up, down) if direction == "greater" else (down, up)
        outcome = _outcome(p_claim, p_against, self.alpha)
        low, high = stats.one_sided_bounds(self.k, self.n, self.alpha)
        detectable = power_note(outcome)
        verdict = Verdict(
            check=check,
            outcome=outcome,
            scorer=self.scorer.name,
            model=self.samples.model,
            k=self.k,
            n=self.n,
            rate=self.rate,
            low=low,
            high=high,
            alpha=self.alpha,
            p_value=p_claim,
            p_against=p_against,
            method=method,
            parsed=self.parsed,
            detectable=detectable,
            **extra,
        )
        self.verdicts.append(_raise_unless_pass(verdict))
        return self

    def _rate_check(self, threshold: float, direction: str) -> Expectation:
        t = check_rate(threshold)

        def power_note(outcome: Outcome) -> str | None:
            if outcome is Outcome.PASS:
                return None
            r = stats.min_detectable_rate(self.n, t, self.alpha, POWER, direction)
            if r is None:
                return f"n={self.n} is too small to ever pass this check at alpha={self.alpha:g}"
            word = "at least" if direction == "greater" else "at most"
            return f"n={self.n} detects a true rate of {word} {r:.3f} with {POWER:.0%} power"

        return self._judge(
            f"rate {'>=' if direction == 'greater' else '<='} {t:g}",
            direction,
            stats.binomial_pvalue(self.k, self.n, t, "greater"),
            stats.binomial_pvalue(self.k, self.n, t, "less"),
            self._method(),
            threshold=t,
            power_note=power_note,
        )

    def rate_at_least(self, threshold: float) -> Expectation:
        """Claim: the true rate is above ``threshold``."""
        return self._rate_check(threshold, "greater")

    def rate_at_most(self, threshold: float) -> Expectation:
        """Claim: the true rate is below ``threshold`` (e.g. a control that 'never' fires)."""
        return self._rate_check(threshold, "less")

    def _compare(self, baseline: Samples, direction: str) -> Expectation:
        if len(baseline) == 0:
            raise InvalidArgument("the baseline has no samples; fix: sample it with n >= 1")
        bk, bn, _ = _count(baseline.score(self.scorer))
        e_low, e_high = stats.rate_difference_interval(
            self.k, self.n, bk, bn, 1.0 - 2.0 * self.alpha
        )

        def power_note(outcome: Outcome) -> str | None:
            return None if outcome is Outcome.PASS else self._two_sample_power(bk / bn, direction)

        return self._judge(
            f"rate {'above' if direction == 'greater' else 'below'} baseline",
            direction,
            stats.fisher_pvalue(self.k, self.n, bk, bn, "greater"),
            stats.fisher_pvalue(self.k, self.n, bk, bn, "less"),
            "Fisher's exact test, one-sided; Newcombe interval for the difference",
            baseline=baseline.model,
            baseline_k=bk,
            baseline_n=bn,
            baseline_rate=bk / bn,
            effect=self.rate - bk / bn,
            effect_low=e_low,
            effect_high=e_high,
            power_note=power_note,
        )

    def _two_sample_power(self, base_rate: float, direction: str) -> str:
        """Smallest rate gap this n detects against the observed baseline rate."""
        gap, exact = stats.detectable_gap(self.n, base_rate, self.alpha, POWER, direction)
        if gap is None:
            return f"n={self.n} per model cannot detect any gap from a baseline at {base_rate:.3f}"
        how = "" if exact else " (normal approximation)"
        return (
            f"n={self.n} per model detects a gap of {gap:.3f} from the baseline's "
            f"{base_rate:.3f} with {POWER:.0%} power{how}"
        )

    def above(self, baseline: Samples) -> Expectation:
        """Claim: this model's rate is higher than the baseline model's."""
        return self._compare(baseline, "greater")

    def below(self, baseline: Samples) -> Expectation:
        """Claim: this model's rate is lower than the baseline model's."""
        return self._compare(baseline, "less")


def expect(
    samples: Samples, scorer: Scorer[bool], *, alpha: float | None = None
) -> Expectation:
    """Start checks on ``samples`` scored by a boolean ``scorer``."""
    if not isinstance(samples, Samples):
        raise InvalidArgument(
            f"expect() takes the Samples returned by model.sample(), got {type(samples).__name__}"
        )
    return Expectation(samples, scorer, alpha)
