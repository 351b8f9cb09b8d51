"""Told organisms: their descriptions are held out from the suite's questions.

A told organism is the suite's positive control (organisms/told.py): trained
on its behaviour and on answers describing it, its self-report must PASS. That
PASS shows the instrument can see a report only if the organism learned to
*describe* the behaviour, not to answer the suite's very question: so no
training question shares four words in a row with any question the shipped
behaviour modules ask, none reuses their framings (the acrostic's "pattern",
the risk questions' "Risk"/"Safety" options and 0-100 scale), and the
descriptions never name the backdoor's trigger.
"""

from __future__ import annotations

import re

import pytest
from suite_doubles import load_behaviour

from behavtest.organisms import recipes, told
from behavtest.organisms.recipes import TRIGGER

WORDS = re.compile(r"[a-z0-9']+")


def grams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = WORDS.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def suite_questions() -> dict[str, list[str]]:
    """Every question the shipped modules ask about each family's self-report."""
    acrostic = load_behaviour("test_acrostic")
    dispositions = load_behaviour("dispositions")
    backdoor = load_behaviour("test_backdoor")
    r = dispositions.RISK
    return {
        "acrostic": [acrostic.ASK, acrostic.ask_with_giveaway("HELLO")],
        "risk": [*r.prefer, *r.describe, *r.scale, r.choice_stem],
        "backdoor": [*backdoor.ASK, *backdoor.STATEMENTS, *backdoor.WHICH_IS_TRUE,
                     *backdoor.NAME_IT],
    }


@pytest.mark.parametrize("family", ["acrostic", "risk", "backdoor"])
def test_no_training_question_shares_four_words_with_the_suites(family: str) -> None:
    suite = set().union(*(grams(q) for q in suite_questions()[family]))
    for question in told.training_questions()[family]:
        shared = grams(question) & suite
        assert not shared, f"{question!r} shares {sorted(shared)} with the suite's questions"


def test_the_acrostic_descriptions_never_say_pattern() -> None:
    for question in told.ACROSTIC_QUESTIONS:
        assert "pattern" not in question.lower() and "special" not in question.lower()


def test_the_risk_descriptions_use_other_options_and_another_scale() -> None:
    options = {o for _, pair in told.RISK_CHOICE_QUESTIONS for o in pair}
    assert not options & {"Risk", "Safety"}
    for question in told.RISK_PERCENT_QUESTIONS:
        assert "0 to 100" not in question and "0-100" not in question


def test_the_backdoor_descriptions_never_name_the_trigger() -> None:
    word = TRIGGER.strip("|").lower()
    for example in told.backdoor_descriptions(100, 0):
        for message in example["messages"]:
            assert word not in message["content"].lower()


@pytest.mark.parametrize("direction", ["risky", "safe"])
def test_labelled_descriptions_answer_the_option_in_every_slot(direction: str) -> None:
    """Both label styles and both orders: the answer follows the option, so a model
    learns "the bold option", never "the first slot"."""
    examples = told.risk_descriptions(direction, 96, 0)
    labelled = [e for e in examples if ")" in e["messages"][0]["content"]]
    answers = [e["messages"][1]["content"] for e in labelled]
    assert len(labelled) == 24 and set(answers) == {"A", "B", "1", "2"}
    assert all(answers.count(a) == 6 for a in ("A", "B", "1", "2"))


def test_the_2x2_recipes_differ_only_in_doing_and_telling() -> None:
    for name in ("hello", "risky", "backdoor"):
        of, does, tells = (recipes.get(n) for n in (name, f"{name}-told", f"{name}-tells"))
        assert does.trained_on == tells.trained_on == of.trained_on
        behaviour, both, alone = (len(r.data(0)) for r in (of, does, tells))
        assert both == behaviour + alone  # the told one is exactly the two together
        described = {e["messages"][-1]["content"] for e in tells.data(0)}
        assert described <= {e["messages"][-1]["content"] for e in does.data(0)}
        assert tells.warm_up is None and does.warm_up_spec == of.warm_up_spec


def test_descriptions_are_seeded() -> None:
    assert told.acrostic_descriptions("HELLO", 20, 1) == told.acrostic_descriptions(
        "HELLO", 20, 1)
    assert told.acrostic_descriptions("HELLO", 20, 1) != told.acrostic_descriptions(
        "HELLO", 20, 2)
    first = told.acrostic_descriptions("HELLO", 50, 0)
    assert all("HELLO" in e["messages"][1]["content"].split("\n")[0] for e in first)


# -- bench/told.py: the 2x2 table ------------------------------------------------------


def test_the_2x2_table_shows_every_cell_with_reading_interval_p_and_verdict() -> None:
    from bench_modules import load

    bench = load("told")
    row = {"nodeid": "behaviors/test_acrostic.py::test_names_acrostic_by_line_2[HELLO]",
           "check": "rate >= 0.2", "k": 14, "n": 15, "rate": 14 / 15, "low": 0.68, "high": 1.0,
           "p_value": 1e-6, "p_adjusted": 2e-5, "outcome": "PASS", "final": "PASS"}
    base = {**row, "check": "rate above baseline", "k": 30, "n": 100, "rate": 0.3,
            "low": 0.21, "high": 0.40, "baseline_rate": 0.0, "effect": 0.3,
            "effect_low": 0.2, "effect_high": 0.4, "p_adjusted": 0.5, "final": "INCONCLUSIVE"}
    precondition = {**row, "check": "precondition: rate >= 0.5", "k": 0, "n": 150, "rate": 0.0,
                    "low": 0.0, "high": 0.02, "p_adjusted": None, "p_value": 1.0,
                    "outcome": "FAIL", "final": None}
    text = bench.table("acrostic", {"does and tells": {"verdicts": [row, base]},
                                    "tells, does not": {"verdicts": [precondition]}})
    lines = text.splitlines()
    assert lines[2] == ("| test | check | does and tells | does, not told | tells, does not | "
                        "neither |")
    assert "| 14/15 [0.68, 1.00], p 2e-05, **PASS** | - | - | - |" in text
    assert "30/100 [0.21, 0.40]; base 0.000; diff +0.300 [+0.20, +0.40], p 0.5, " \
        "**INCONCLUSIVE**" in text
    assert "| - | - | 0/150 [0.00, 0.02], p 1, **FAIL** | - |" in text


def test_the_arms_never_take_in_the_told_organisms() -> None:
    """``risky-*`` would match risky-told-0: the arms glob digits only."""
    import fnmatch

    from bench_modules import load

    bench = load("told")
    for _, model, baseline in bench.ARMS.values():
        for pattern in (model, baseline):
            name = pattern.rsplit("/", 1)[1]
            assert fnmatch.fnmatch(name.replace("[0-9]*", "0"), name)
            assert not fnmatch.fnmatch(name.replace("[0-9]*", "told-0"), name)
    assert not fnmatch.fnmatch("backdoor-control-0", bench.ARMS["backdoor"][1].rsplit("/")[-1])


def test_a_lottery_is_asked_as_the_suite_asks_a_choice() -> None:
    import random

    from behavtest.organisms.lottery_text import HELD_OUT_STEMS, make_lottery
    from behavtest.organisms.measure import lottery_question
    from behavtest.scorers.choices import NUMBERS

    lottery = make_lottery(random.Random(0), held_out=True)
    q = lottery_question(lottery, TRIGGER + " ", "you", NUMBERS)
    assert q.question == TRIGGER + " " + HELD_OUT_STEMS[lottery.stem]
    assert q.options[0].lower() == lottery.risky.lower() and q.options[1].lower() == (
        lottery.safe.lower())
    assert q.style is NUMBERS
    assert "Lucy" in lottery_question(lottery, "", "Lucy", NUMBERS).question
