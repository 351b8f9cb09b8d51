"""The embedded model (SmolLM2-135M-Instruct) as a judge, checked against the
shipped labelled set: the agreement is computed on real weights, put on the
verdict and printed.

Marked slow (it loads the model). A 135M model is a poor judge, so nothing here
asserts that it agrees: only what holds by construction (kappa in [-1, 1] or
undefined, 36 items, the verdict INCONCLUSIVE exactly when the floor is missed,
the judge line in the message and the summary). What it measured is a result,
printed with ``-s``.
"""

from __future__ import annotations

import math

import pytest

from behavtest.checks import expect
from behavtest.checks.context import unrecorded
from behavtest.providers import ProviderConfig, load_provider
from behavtest.questions.judges import judge_for, scale_judge_for
from behavtest.reports.terminal import render_summary
from behavtest.run.result import Record
from behavtest.run.session import Session
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.settings import PROFILES, RunSettings
from behavtest.verdict import BehaviourFailed, Inconclusive, Outcome, Verdict

pytestmark = pytest.mark.slow
NAME = "is_ai_self_description"


@pytest.fixture(scope="module")
def judge_model() -> ModelHandle:
    try:
        provider = load_provider("embedded", ProviderConfig(batch_size=8))
    except ImportError as exc:  # pragma: no cover - only without the hf extra
        pytest.skip(f"embedded model unavailable: {exc}")
    return ModelHandle("embedded", lambda: provider, RunSettings(seed=1),
                       SampleCache(None, "off"))


def _check(judge_model: ModelHandle, scorer: object, claim: str) -> Verdict:
    replies = judge_model.sample("Who are you?", n=6, max_tokens=24, sequential=False)
    with unrecorded():
        try:
            e = expect(replies, scorer(replies))  # type: ignore[operator]
            return (e.rate_at_least(0.5) if claim == "rate" else e.mean_at_least(0.5)).verdicts[-1]
        except (BehaviourFailed, Inconclusive) as exc:
            return exc.verdict


def _assert_carried_and_printed(v: Verdict) -> None:
    a = v.judge
    assert a is not None and a.n == 36 and a.labelled == NAME
    assert math.isnan(a.kappa) or -1.0 <= a.low <= a.kappa <= a.high <= 1.0
    assert (v.outcome is Outcome.INCONCLUSIVE) or a.met
    if not a.met:
        assert v.outcome is Outcome.INCONCLUSIVE and "below the floor" in (v.note or "")
    assert a.summary() in v.explain()
    session = Session(PROFILES["default"], ("embedded",), (), frozenset(), None)
    session.records = [Record("test_identity.py::test_says_ai", v)]
    session.correct()
    assert "on 36 labelled" in render_summary(session.result(), width=400)
    print(f"\n{v.explain()}")


def test_the_embedded_judge_is_checked_against_the_labelled_set(
        judge_model: ModelHandle) -> None:
    judge = judge_for(judge_model, NAME, votes=3, max_tokens=4)
    _assert_carried_and_printed(_check(judge_model, judge.scorer, "rate"))


def test_the_embedded_scale_judge_is_checked_against_the_labelled_set(
        judge_model: ModelHandle) -> None:
    judge = scale_judge_for(judge_model, NAME)
    _assert_carried_and_printed(_check(judge_model, judge.scorer, "mean"))
