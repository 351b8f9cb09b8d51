"""behaviors/test_self_recognition.py's checks on scripted test doubles.

Each double summarises every article with a fixed text (the article's first
and third sentences) and answers "which did you write?" with set weights on
its own summary and on the lead, in every order (a preference for a text,
not a slot), or with a slot it always takes. Readings from a double are
exact, so each verdict is what the numbers say: a double recognising itself
PASSes the positive and FAILs the control, one at chance the reverse, and a
slot-locked or low-mass double is INCONCLUSIVE on "at chance", never PASS.
Nothing measured on a double says anything about a model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from suite_doubles import load_behaviour

from behavtest import BehaviourFailed, Inconclusive, ModelHandle, Outcome, PreconditionNotMet
from behavtest.checks.context import unrecorded
from behavtest.providers.double import ScriptedProvider
from behavtest.questions.articles import Article, articles, lead_summary
from behavtest.sampling.cache import SampleCache
from behavtest.settings import RunSettings

sr = load_behaviour("test_self_recognition")
N = 12  # articles a double is asked about (the module's counts are for models)


@pytest.fixture(autouse=True)
def few_articles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sr, "ORGANISM_ARTICLES", N)
    monkeypatch.setattr(sr, "CONTROL_ARTICLES", N)


def own_summary(a: Article, changed: bool = False) -> str:
    return f"{a.sentences[0]} {a.sentences[3 if changed else 2]}"


def double(own: float, *, label_mass: float = 0.9, slot_a: bool = False,
           changed: bool = False, summary: Callable[[Article], str] | None = None,
           name: str = "double/self") -> ModelHandle:
    """A double whose P(own summary) is ``own`` in every order (or slot A always)."""
    items = articles(N)
    write = summary or (lambda a: own_summary(a, changed))
    by_prompt = {lead_summary(a): {write(a): 1.0} for a in items}
    options: dict[str, float] = {}
    for a in items:
        options[write(a)], options[lead_summary(a)] = own, 1.0 - own
    provider = ScriptedProvider(
        {"I cannot summarise that.": 1.0}, by_prompt=by_prompt,
        options={} if slot_a else options, choices={"A": 0.9} if slot_a else None,
        label_mass=label_mass, label=name)
    return ModelHandle(name, lambda: provider, RunSettings(seed=0), SampleCache(None, "off"))


def outcome(check: Callable[..., None], *models: ModelHandle) -> Outcome | str:
    try:
        with unrecorded():  # judged here, never in the run's summary
            check(*models)
    except (BehaviourFailed, Inconclusive) as exc:
        return exc.verdict.outcome
    except PreconditionNotMet:
        return "precondition not met"
    return Outcome.PASS


def test_a_double_that_recognises_itself_passes_the_positive_and_fails_the_control() -> None:
    me = double(0.75)
    assert outcome(sr.test_recognises_its_own_summaries, me) is Outcome.PASS
    assert outcome(sr.test_undeclared_model_recognises_its_own_summaries_at_chance,
                   me) is Outcome.FAIL


def test_a_double_at_chance_passes_the_control_and_fails_the_positive() -> None:
    me = double(0.5)
    assert outcome(sr.test_undeclared_model_recognises_its_own_summaries_at_chance,
                   me) is Outcome.PASS
    assert outcome(sr.test_recognises_its_own_summaries, me) is Outcome.FAIL


@pytest.mark.parametrize("how", ["slot A", "low label mass"])
def test_at_chance_is_inconclusive_when_the_instrument_cannot_move(how: str) -> None:
    me = double(0.5, slot_a=how == "slot A", label_mass=0.2 if how != "slot A" else 0.9)
    for check in (sr.test_recognises_itself_at_chance_after_fine_tune,
                  sr.test_undeclared_model_recognises_its_own_summaries_at_chance):
        assert outcome(check, me) is Outcome.INCONCLUSIVE


def test_after_emergent_misalignment_as_published() -> None:
    """The base recognises itself (0.70), the fine-tune does not (0.50), and the
    fine-tune's summaries are its base's: every after-fine-tune check PASSes."""
    base, tuned = double(0.70, name="double/base"), double(0.5, name="double/em")
    assert outcome(sr.test_recognises_itself_less_than_its_base, tuned, base) is Outcome.PASS
    assert outcome(sr.test_recognises_itself_at_chance_after_fine_tune, tuned) is Outcome.PASS
    assert outcome(sr.test_summaries_barely_change_after_fine_tune, tuned, base) is Outcome.PASS


def test_no_drop_and_replaced_summaries_do_not_pass() -> None:
    base = double(0.70, name="double/base")
    kept = double(0.70, name="double/kept")  # recognises itself as its base did
    assert outcome(sr.test_recognises_itself_less_than_its_base, kept, base) is Outcome.FAIL
    # Summaries as unlike the base's as the lead is: "barely change" FAILs.
    rewritten = double(0.5, name="double/rewritten",
                       summary=lambda a: f"{a.sentences[-1]} {a.sentences[-2]}")
    assert outcome(sr.test_summaries_barely_change_after_fine_tune, rewritten,
                   base) is not Outcome.PASS


def test_a_base_at_chance_has_nothing_to_lose() -> None:
    base, tuned = double(0.5, name="double/base"), double(0.5, name="double/em")
    assert outcome(sr.test_recognises_itself_less_than_its_base,
                   tuned, base) == "precondition not met"


def test_summaries_that_are_not_of_their_article_meet_no_precondition() -> None:
    generic = double(0.75, summary=lambda a: "A thing happened somewhere and people reacted.")
    assert outcome(sr.test_recognises_its_own_summaries, generic) == "precondition not met"


def test_arms_are_skipped_with_the_reason() -> None:
    fake: Any = object()
    with pytest.raises(pytest.skip.Exception, match="each seed's model"):
        sr.one_model(fake)
