"""Judges checked against labels: kappa with its interval beside every judged
verdict, INCONCLUSIVE below the floor, the labelled sets and their loader, the
0-100 judge weighted by probability, and the reports' judge line.

Judges here are scripted test doubles (``ScriptedProvider``): a reply table
chosen by a substring of the judge's prompt, which holds the judged reply, so
a double can answer each labelled reply as the labels say, at random, or the
other way round.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from verdicts import passing_verdict

from behavtest.checks import expect
from behavtest.checks.context import unrecorded
from behavtest.checks.judge import KAPPA_FLOOR, Judge, Labelled
from behavtest.checks.judge_scale import MIN_NUMBER_MASS, ScaleJudge
from behavtest.errors import InvalidArgument
from behavtest.providers.base import Completion, Messages, Request, to_messages
from behavtest.providers.double import ScriptedProvider
from behavtest.questions.judges import (
    judge_for,
    labelled_names,
    load_labelled,
    load_labelled_file,
    scale_judge_for,
)
from behavtest.reports import markdown
from behavtest.reports.html import build_html
from behavtest.reports.terminal import render_summary
from behavtest.run.result import Record
from behavtest.run.session import Session
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle, Reply, Samples
from behavtest.settings import PROFILES, GenerationSettings, RunSettings
from behavtest.stats.agreement import cohens_kappa
from behavtest.verdict import BehaviourFailed, Inconclusive, JudgeAgreement, Outcome, Verdict

SET = load_labelled("is_ai_self_description")
YES, NO = {"yes": 1.0}, {"no": 1.0}


def model_replies(yes: int, n: int, model: str = "double/m") -> Samples:
    """A model's replies to "Who are you?": ``yes`` of them say it is an AI."""
    replies = tuple(Reply("reply-ai" if i < yes else "reply-person", 0, i, 1, "stop", False)
                    for i in range(n))
    return Samples(model, (to_messages("Who are you?"),), GenerationSettings(), replies)


def judge_model(labelled: Mapping[str, Mapping[str, float]],
                default: Mapping[str, float] | None = None) -> ModelHandle:
    """A judge double: the model's replies judged right, the labelled ones by
    ``labelled`` (reply -> its reply table), anything else by ``default``."""
    tables = {"reply-ai": YES, "reply-person": NO, **labelled}
    provider = ScriptedProvider(default or {"yes": 0.5, "no": 0.5}, by_prompt=tables,
                                label="double/judge")
    return ModelHandle("double/judge", lambda: provider, RunSettings(seed=3),
                       SampleCache(None, "off"))


AGREES = {t: YES if lab else NO for t, lab in SET.items}
INVERTS = {t: NO if lab else YES for t, lab in SET.items}


def verdict_of(check) -> Verdict:  # type: ignore[no-untyped-def]
    with unrecorded():
        try:
            return check().verdicts[-1]  # type: ignore[no-any-return]
        except (BehaviourFailed, Inconclusive) as exc:
            return exc.verdict


def test_a_judge_that_agrees_with_the_labels_lets_the_rate_decide() -> None:
    judge = Judge(judge_model(AGREES), SET.rubric, labelled=SET)
    r = model_replies(80, 100)
    v = verdict_of(lambda: expect(r, judge.scorer(r)).rate_at_least(0.5))
    assert v.outcome is Outcome.PASS and v.measured.k == 80
    assert v.judge is not None and v.judge.met
    assert (v.judge.kappa, v.judge.accuracy, v.judge.n) == (1.0, 1.0, len(SET.items))
    assert v.judge.labelled == "is_ai_self_description" and v.judge.floor == KAPPA_FLOOR
    assert "judge \u03ba 1.00 [1.00, 1.00] on 36 labelled" in v.explain()
    low = verdict_of(lambda: expect(r, judge.scorer(r)).rate_at_most(0.5))
    assert low.outcome is Outcome.FAIL  # the rate still decides: a good judge changes nothing


@pytest.mark.parametrize("labelled, default", [
    ({}, {"yes": 0.5, "no": 0.5}),  # guesses
    ({}, {"yes": 1.0}),  # says yes to everything: right half the time, kappa 0
    (INVERTS, None),  # says the opposite of the rule: kappa -1
], ids=["guesses", "always-yes", "inverts"])
def test_a_judge_below_the_floor_gives_inconclusive(
        labelled: Mapping[str, Mapping[str, float]], default: Mapping[str, float] | None,
) -> None:
    """The model's replies are judged right, so the rate alone would PASS; the
    judge's disagreement with the labels makes the verdict INCONCLUSIVE."""
    judge = Judge(judge_model(labelled, default), SET.rubric, labelled=SET)
    r = model_replies(80, 100)
    v = verdict_of(lambda: expect(r, judge.scorer(r)).rate_at_least(0.5))
    assert v.outcome is Outcome.INCONCLUSIVE
    assert v.judge is not None and not v.judge.met and v.judge.low < KAPPA_FLOOR
    assert -1.0 <= v.judge.low <= v.judge.kappa <= v.judge.high <= 1.0
    assert v.note is not None and "below the floor" in v.note and "\u03ba" in v.note
    assert f"floor {KAPPA_FLOOR:g}" in v.note
    if labelled is INVERTS:
        assert v.judge.kappa == -1.0


def test_a_judge_checked_against_nothing_gives_inconclusive() -> None:
    judge = Judge(judge_model(AGREES), SET.rubric)
    r = model_replies(80, 100)
    v = verdict_of(lambda: expect(r, judge.scorer(r)).rate_at_least(0.5))
    assert v.outcome is Outcome.INCONCLUSIVE and v.judge is not None and v.judge.n == 0
    assert "no labelled set" in (v.note or "")


def test_a_comparison_says_the_judges_shortfall_once_and_a_rename_keeps_it() -> None:
    judge = Judge(judge_model({}, {"yes": 1.0}), SET.rubric, labelled=SET)
    r, b = model_replies(80, 100), model_replies(10, 100, model="double/base")
    scorer = judge.scorer(r, b).named("says it is an AI")
    v = verdict_of(lambda: expect(r, scorer).above(b))
    assert v.outcome is Outcome.INCONCLUSIVE and v.scorer == "says it is an AI"
    assert (v.note or "").count("below the floor") == 1


def test_judge_for_asks_the_sets_rubric_and_a_wrong_rubric_is_refused() -> None:
    judge = judge_for(judge_model(AGREES), "is_ai_self_description", votes=3)
    assert judge.rubric == SET.rubric and judge.labelled == SET and judge.votes == 3
    assert judge.agreement() is judge.agreement()  # computed once
    with pytest.raises(InvalidArgument, match="was labelled for .*fix: ask the judge its"):
        Judge(judge_model(AGREES), "Is the reply polite?", labelled=SET)
    with pytest.raises(InvalidArgument, match="floor=2"):
        Judge(judge_model(AGREES), SET.rubric, labelled=SET, floor=2)


def test_the_agreement_travels_in_the_verdicts_dict() -> None:
    agreement = JudgeAgreement("set", 0.72, 0.55, 0.89, 36, 0.86, 0.4, 1)
    v = dataclasses.replace(passing_verdict(), judge=agreement)
    assert Verdict.from_dict(v.to_dict()) == v
    assert Verdict.from_dict(passing_verdict().to_dict()).judge is None
    assert agreement.summary().startswith("judge \u03ba 0.72 [0.55, 0.89] on 36 labelled")
    assert agreement.summary().endswith("floor 0.4") and agreement.met


def test_the_reports_print_the_judge_beside_the_verdict() -> None:
    agreement = JudgeAgreement("is_ai_self_description", 0.12, -0.2, 0.44, 36, 0.56, 0.4)
    judged = dataclasses.replace(passing_verdict(outcome=Outcome.INCONCLUSIVE, p_value=1.0),
                                 judge=agreement)
    session = Session(PROFILES["default"], ("double/judge",), (), frozenset(), None)
    session.records = [Record("test_identity.py::test_says_ai", judged),
                       Record("test_other.py::test_plain", passing_verdict())]
    session.correct()
    result = session.result()
    line = "judge \u03ba 0.12 [-0.20, 0.44] on 36 labelled"
    assert line in render_summary(result, width=400).replace("\n", " ")
    assert line in markdown.render(result).replace("\\[", "[").replace("\\]", "]")
    page = build_html(result, b"x")
    assert line in page and "below the floor: the verdict says nothing" in page
    assert page.count("judge \u03ba") == 1  # the plain check has no judge line


# -- the statistic -------------------------------------------------------------------------

answers = st.lists(st.tuples(st.sampled_from([True, False, None]), st.booleans()),
                   min_size=1, max_size=60)


@given(answers)
def test_kappa_and_its_interval_are_in_range(pairs: Sequence[tuple[bool | None, bool]]) -> None:
    k = cohens_kappa([a for a, _ in pairs], [lab for _, lab in pairs])
    assert k.n == len(pairs) and 0.0 <= k.accuracy <= 1.0
    assert k.unanswered == sum(a is None for a, _ in pairs)
    if not math.isnan(k.kappa):
        assert -1.0 <= k.low <= k.kappa + 1e-12 and k.kappa <= k.high + 1e-12 and k.high <= 1.0


@given(answers)
def test_kappa_is_observed_over_chance_agreement(pairs: Sequence[tuple[bool | None, bool]]
                                                 ) -> None:
    """kappa = (p_o - p_e) / (1 - p_e), a missing answer agreeing with nothing."""
    got, labels = [a for a, _ in pairs], [lab for _, lab in pairs]
    n = len(pairs)
    p_o = sum(a == lab for a, lab in pairs) / n
    p_e = sum((got.count(c) / n) * (labels.count(c) / n) for c in (True, False))
    k = cohens_kappa(got, labels)
    if math.isclose(p_e, 1.0):
        assert math.isnan(k.kappa)
    else:
        assert k.kappa == pytest.approx((p_o - p_e) / (1 - p_e), abs=1e-12)


@given(st.lists(st.booleans(), min_size=2, max_size=60).filter(lambda x: len(set(x)) == 2))
def test_perfect_and_inverted_answers(labels: list[bool]) -> None:
    assert cohens_kappa(labels, labels).kappa == pytest.approx(1.0)
    inverted = cohens_kappa([not x for x in labels], labels)
    assert inverted.kappa <= 0.0 and inverted.accuracy == 0.0


def test_kappa_refuses_mismatched_lengths() -> None:
    with pytest.raises(InvalidArgument, match="2 answers for 1 labels"):
        cohens_kappa([True, False], [True])


# -- the labelled sets ---------------------------------------------------------------------


def test_the_shipped_set_is_balanced_and_loads() -> None:
    assert "is_ai_self_description" in labelled_names()
    assert 30 <= len(SET.items) <= 40 and abs(sum(SET.labels) * 2 - len(SET.items)) <= 4
    assert SET.rule.startswith("yes when") and SET.rubric.endswith("?")
    for name in labelled_names():
        assert load_labelled(name).name == name


def _write(tmp_path: Path, text: str, name: str = "mine") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


ITEMS = "".join(f"  - {{reply: 'reply {i}', label: {'yes' if i % 2 else 'no'}}}\n"
                for i in range(24))
GOOD = f"name: mine\nrubric: Is it odd?\nrule: yes when odd\nitems:\n{ITEMS}"


@pytest.mark.parametrize("text, message", [
    ("name: [unclosed", "invalid YAML (expected ',' or ']'"),
    ("- a list", "a mapping of exactly"),
    (GOOD.replace("rule: yes when odd\n", ""), "a mapping of exactly"),
    (GOOD.replace("rubric: Is it odd?", "rubric: 3"), "rubric is 3, not text"),
    (GOOD.replace("name: mine", "name: other"), "is not the file's stem"),
    (GOOD.replace("label: yes}\n", "label: maybe}\n", 1), "item 2 has label 'maybe'"),
    (GOOD.replace("{reply: 'reply 0', label: no}", "{text: 'reply 0', label: no}"),
     "item 1 is"),
    ("name: mine\nrubric: r\nrule: x\nitems: 3\n", "items is 3, not a list"),
    ("name: mine\nrubric: r\nrule: x\nitems:\n" + "".join(ITEMS.splitlines(True)[:10]),
     "has 10 items"),
    (GOOD.replace("reply 3", "reply 1"), "repeats a reply"),
])
def test_a_malformed_labelled_file_is_one_line_naming_the_fix(
        tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        load_labelled_file(_write(tmp_path, text))
    assert message in str(info.value) and "fix:" in str(info.value)
    assert "\n" not in str(info.value)


def test_a_good_file_loads_and_an_unknown_name_is_refused(tmp_path: Path) -> None:
    loaded = load_labelled_file(_write(tmp_path, GOOD))
    assert isinstance(loaded, Labelled) and len(loaded.items) == 24
    with pytest.raises(InvalidArgument, match="no labelled set named 'nope'; fix: one of"):
        load_labelled("nope")
    with pytest.raises(InvalidArgument, match="cannot be read"):
        load_labelled_file(tmp_path / "absent.yaml")


# -- the 0-100 judge -----------------------------------------------------------------------


def scale_model(tables: Mapping[str, Mapping[str, float]]) -> ModelHandle:
    provider = ScriptedProvider({"I would rather not say.": 1.0}, by_prompt=tables,
                                label="double/scale")
    return ModelHandle("double/scale", lambda: provider, RunSettings(),
                       SampleCache(None, "off"))


def test_the_scale_judge_weights_numbers_and_refuses_on_low_number_mass() -> None:
    tables = {t: ({"90": 0.6, "70": 0.4} if lab else {"10": 1.0}) for t, lab in SET.items}
    tables |= {"reply-ai": {"80": 0.5, "100": 0.5},
               "reply-person": {"Well, it depends.": 0.9, "20": 0.1}}  # 0.1 on numbers
    judge = scale_judge_for(scale_model(tables), "is_ai_self_description")
    assert judge.min_mass == MIN_NUMBER_MASS == 0.25
    scores = judge.scores(["reply-ai", "reply-person", SET.items[0][0]])
    assert scores["reply-ai"] == pytest.approx(0.90)
    assert scores["reply-person"] is None  # a refusal: 0.1 < 0.25 on numbers
    assert scores[SET.items[0][0]] == pytest.approx(0.82)
    r = model_replies(60, 100)
    scorer = judge.scorer(r)
    assert "40 of 2" not in scorer.name and "1 of 2 refused" in scorer.name
    v = verdict_of(lambda: expect(r, scorer).mean_at_least(0.5))
    assert v.measured.parsed == 60 and v.measured.n == 100  # refusals counted, unparsed
    assert v.outcome is Outcome.PASS and v.judge is not None and v.judge.kappa == 1.0
    assert "yes at >= 0.5" in v.judge.how


def test_a_scale_judge_that_refuses_everything_is_below_the_floor() -> None:
    judge = ScaleJudge(scale_model({}), SET.rubric, labelled=SET)
    agreement = judge.agreement()
    assert agreement.unanswered == len(SET.items) and not agreement.met
    assert agreement.accuracy == 0.0


class FirstTokenOnly:
    """A provider without whole-reply log-probabilities (as an API is)."""

    name = "double/api"

    def fingerprint(self) -> str:
        return self.name

    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        return [Completion("50", 1, "stop") for _ in requests]

    def continuation_logprobs(self, messages: Messages, continuations: Sequence[str]
                              ) -> list[float]:
        return [math.log(0.5)] * len(continuations)


def test_a_scale_judge_without_whole_reply_logprobs_names_the_fix() -> None:
    h = ModelHandle("double/api", FirstTokenOnly, RunSettings(), SampleCache(None, "off"))
    with pytest.raises(InvalidArgument) as info:
        ScaleJudge(h, SET.rubric, labelled=SET).scores(["x"])
    assert "no whole-reply log-probabilities" in str(info.value)
    assert "fix: use a local judge" in str(info.value) and "\n" not in str(info.value)
