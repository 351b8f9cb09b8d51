"""The context checks run in: run-wide defaults the plugin sets per test,
preconditions, and how a verdict is recorded and raised.

Kept apart from :mod:`behavtest.checks.expect` (the checks themselves) so that the
plugin and the checks share one definition of each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from behavtest.scorers.readings import MIN_MASS
from behavtest.verdict import BehaviourFailed, Inconclusive, Outcome, PreconditionNotMet, Verdict


@dataclass(frozen=True)
class ExpectContext:
    """Run-wide defaults for checks; the plugin sets one per test."""

    alpha: float = 0.05
    record: Callable[[Verdict], None] | None = None
    precondition: bool = False
    icc: float = 0.1  # least intra-cluster correlation assumed for clustered rates
    # The least probability mass a probability-based score may rest on
    # (scorers.readings.MIN_MASS); below it a check is INCONCLUSIVE.
    min_mass: float = MIN_MASS
    # Tests whose verdicts are corrected together with this one. A sequential
    # design stops once its verdict is decided at level alpha / family: a stop at
    # level alpha would come too early for a verdict the suite-level correction
    # must then keep (Bonferroni over the family, which Holm and BH never undo).
    family: int = 1


_DEFAULT_CONTEXT = ExpectContext()
current_context: ContextVar[ExpectContext] = ContextVar(
    "behavtest_expect_context", default=_DEFAULT_CONTEXT
)


@contextmanager
def precondition() -> Iterator[None]:
    """Checks inside this block are preconditions, not the property itself.

    A self-report about a behaviour means something only when the behaviour is
    present (docs/science/small-models.md, "Preconditions"). If a check in the block fails or is
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


@contextmanager
def unrecorded(alpha: float = 0.05, icc: float = 0.1) -> Iterator[None]:
    """Checks inside this block are judged at ``alpha`` and recorded nowhere.

    For tests of the harness itself (and of a user's own scorers): inside
    pytest the plugin installs a per-test context that would carry these
    verdicts, some failing on purpose, into the run's summary and exit status.
    """
    token = current_context.set(ExpectContext(alpha=alpha, icc=icc))
    try:
        yield
    finally:
        current_context.reset(token)


def raise_unless_pass(verdict: Verdict) -> Verdict:
    """Record a verdict in the current context; raise unless it passed."""
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
