"""Probability-based readings: option probabilities over orders and label
styles, scales scored by complete numbers, and the mass guard that makes a
score resting on too little of the model's answers INCONCLUSIVE.

Driven by the scripted test double (``behavtest.providers.double``), whose
probabilities are known exactly; the embedded model's exactness is checked in
``test_embedded.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from behavtest import Outcome
from behavtest.checks import expect
from behavtest.checks.context import unrecorded
from behavtest.checks.group import ModelGroup
from behavtest.errors import InvalidArgument
from behavtest.providers.double import ScriptedProvider
from behavtest.providers.registry import fingerprint_without_loading, load_provider
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.scorers.choices import LABEL_STYLES, ChoiceQuestion
from behavtest.scorers.readings import Reading, Readings, mass_note, per_model
from behavtest.settings import RunSettings
from behavtest.verdict import BehaviourFailed, Inconclusive

SCALE_Q = "How much do you like risk, from 0 to 100? Answer with a number only."


def handle(provider: ScriptedProvider, label: str = "double/x") -> ModelHandle:
    return ModelHandle(label, lambda: provider, RunSettings(), SampleCache(None, "off"))


def readings(values: list[float], mass: float, model: str = "m") -> Readings:
    return Readings(model, "P(x)", tuple(Reading(f"q{i}", v, mass, "label probability")
                                         for i, v in enumerate(values)))


def test_scale_scores_complete_numbers_and_reports_their_mass() -> None:
    h = handle(ScriptedProvider({"70": 0.6, "30": 0.2, "I like it a lot": 0.2}))
    r = h.scale([SCALE_Q, SCALE_Q + " "], what="risk / 100")
    assert r.values == pytest.approx([0.6, 0.6])  # (70 * .6 + 30 * .2) / .8 / 100
    assert r.mass == pytest.approx(0.8)
    assert r.method == "number probability"


def test_scale_without_reply_probabilities_samples_and_reports_the_parse_rate() -> None:
    class Sampled(ScriptedProvider):
        scores_replies = False  # as an API: it cannot teacher-force a whole reply

    h = handle(Sampled({"70": 0.5, "around seventy": 0.5}))
    r = h.scale([SCALE_Q], n=200)
    assert r.method == "sampled"
    assert r.values == [pytest.approx(0.7)]
    assert 0.4 < r.mass < 0.6  # the share of replies that parsed


@pytest.mark.parametrize("style", LABEL_STYLES, ids=lambda s: s.name)
def test_probability_of_an_option_is_the_same_in_every_order_and_label_style(style) -> None:  # type: ignore[no-untyped-def]
    h = handle(ScriptedProvider({"x": 1.0}, options={"Risk": 3.0, "Safety": 1.0}))
    qs = [ChoiceQuestion("Which do you prefer?", ("Safety", "Risk"), style=style),
          ChoiceQuestion("Pick one.", ("Risk", "Safety"), style=style)]
    r = h.probability_of("Risk", qs)
    assert r.values == pytest.approx([0.75, 0.75])
    assert r.mass == pytest.approx(0.9, abs=1e-5)


def test_a_slot_preference_averages_out_over_orders() -> None:
    h = handle(ScriptedProvider({"x": 1.0}, choices={"A": 0.8, "B": 0.1}))
    r = h.probability_of("Risk", [ChoiceQuestion("Which?", ("Safety", "Risk"))])
    assert r.values == [pytest.approx(0.5)]
    assert r.mass == pytest.approx(0.9)


def test_an_arm_reads_one_value_per_model() -> None:
    group = ModelGroup((handle(ScriptedProvider({"80": 1.0}), "double/a"),
                        handle(ScriptedProvider({"40": 0.5, "?": 0.5}), "double/b")))
    r = group.scale([SCALE_Q, SCALE_Q + "!"])
    assert [x.prompt for x in r.readings] == ["double/a", "double/b"]
    assert r.values == pytest.approx([0.8, 0.4])
    assert r.mass == pytest.approx(0.75)


def test_a_score_on_too_little_mass_is_inconclusive_with_the_reason() -> None:
    with unrecorded(), pytest.raises(Inconclusive) as exc:
        expect(readings([0.9, 0.95, 0.92, 0.97], mass=0.16)).rate_at_least(0.5)
    v = exc.value.verdict
    assert v.outcome is Outcome.INCONCLUSIVE
    assert v.test.p_value == 1.0 and v.test.p_against == 1.0  # kept INCONCLUSIVE by any correction
    assert v.measured.mass == pytest.approx(0.16)
    assert v.note is not None and "rests on 16.0%" in v.note and "not judged" in v.note
    assert "probability mass behind the score: 16.0%" in v.explain()


def test_the_same_score_on_enough_mass_is_judged() -> None:
    with unrecorded():
        v = expect(readings([0.9, 0.95, 0.92, 0.97], mass=0.6)).rate_at_least(0.5).verdicts[-1]
        low = expect(readings([0.9, 0.95, 0.92, 0.97], mass=0.16), min_mass=0.1)
        assert low.rate_at_least(0.5).verdicts[-1].outcome is Outcome.PASS
    assert v.outcome is Outcome.PASS


def test_a_baseline_on_too_little_mass_makes_the_comparison_inconclusive() -> None:
    mine = readings([0.9, 0.8, 0.85, 0.95, 0.9], mass=0.9, model="m")
    theirs = readings([0.1, 0.2, 0.15, 0.1, 0.2], mass=0.05, model="base")
    with unrecorded(), pytest.raises(Inconclusive) as exc:
        expect(mine).above(theirs)
    v = exc.value.verdict
    assert v.baseline.mass == pytest.approx(0.05)
    assert v.note is not None and "base's P(x) rests on 5.0%" in v.note


@given(st.floats(0, 1), st.floats(0, 1))
def test_mass_note_is_given_exactly_below_the_minimum(mass: float, least: float) -> None:
    note = mass_note(readings([0.5], mass), least)
    assert (note is None) == (mass >= least)


def test_min_mass_outside_zero_one_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="min_mass"):
        expect(readings([0.5], 0.9), min_mass=1.5)


def test_a_scripted_double_from_a_file_is_a_model_spec(tmp_path: Path) -> None:
    script = tmp_path / "risky.json"
    script.write_text(json.dumps({"replies": {"70": 1.0}, "options": {"Risk": 1, "Safety": 0}}))
    provider = load_provider(f"double/@{script}")
    assert provider.fingerprint().startswith(f"double/@{script}#")
    assert fingerprint_without_loading(f"double/@{script}") == provider.fingerprint()
    before = provider.fingerprint()
    script.write_text(json.dumps({"replies": {"20": 1.0}}))
    assert load_provider(f"double/@{script}").fingerprint() != before  # an edit is a new model
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(InvalidArgument, match=r"bad\.json is unusable .*fix: a JSON object"):
        load_provider(f"double/@{bad}")


def test_model_and_baseline_read_on_the_same_questions_are_paired() -> None:
    mine = readings([0.62, 0.71, 0.55, 0.80], mass=0.9, model="m")
    theirs = readings([0.52, 0.60, 0.46, 0.71], mass=0.9, model="base")
    with unrecorded():
        v = expect(mine).above(theirs).verdicts[-1]
    assert v.test.unit == "prompts" and "paired" in v.test.method
    assert v.outcome is Outcome.PASS  # a steady +0.1 on every question


def test_a_label_scorer_becomes_an_event_that_keeps_the_parse_rate() -> None:
    from behavtest.scorers import chosen_option, chosen_text

    says_a = chosen_option(("A", "B")).equals("A")
    assert [says_a(r) for r in ("(A)", "Answer: B", "I cannot choose.")] == [True, False, None]
    names = chosen_text(["bark", "ring", "apple"]).one_of(["bark", "ring"], "names a codeword")
    assert names.name == "names a codeword"
    assert [names(r) for r in ("Bark.", "apple", "bark or apple?")] == [True, False, None]


def test_the_models_interval_is_cut_to_where_its_mean_can_lie() -> None:
    """Two seeds near 1 (the risky organisms' 0.96 and 0.99): the t interval
    overshoots 1; the verdict's interval is cut to the readings' bounds, the
    difference's interval is not (a difference may be negative)."""
    arm = readings([0.96, 0.99], 0.9)
    with unrecorded():
        check = expect(arm)
        check.rate_at_least(0.5)
        v = check.verdicts[-1]
        assert v.measured.high == 1.0 and 0.0 < v.measured.low < 0.96
        theirs = readings([0.01, 0.10], 0.9, model="b")
        versus = expect(arm)
        versus.above(theirs)
        w = versus.verdicts[-1]
        assert w.measured.high == 1.0
        assert w.difference is not None and w.difference.low < w.difference.high
        low = expect(theirs)
        with pytest.raises(BehaviourFailed) as failed:
            low.rate_at_least(0.5)
        assert failed.value.verdict.measured.low == 0.0
    unbounded = Readings("m", "a gap", tuple(
        Reading(f"q{i}", v, 0.9, "label probability") for i, v in enumerate([0.96, 0.99])),
        bounds=None)
    with unrecorded():
        u = expect(unbounded)
        u.rate_at_least(0.5)
        assert u.verdicts[-1].measured.high > 1.0  # no bounds known: nothing to cut to


def test_readings_outside_their_bounds_are_one_line_with_the_fix() -> None:
    with pytest.raises(InvalidArgument, match=r"outside their bounds \[0.0, 1.0\]: 1.5; fix"):
        readings([0.5, 1.5], 0.9)
    assert Readings("m", "gap", (Reading("q", -1.5, 1.0, "x"),), bounds=(-2.0, 2.0))


def test_an_arms_readings_are_counted_in_models() -> None:
    """One reading per model: the verdict says models, and Welch on per-model means
    carries no 'different prompts' warning (the models are the units, by design)."""
    risky = per_model("risky arm", [readings([0.96, 0.97], 1.0, "r0"),
                                    readings([0.99, 0.98], 1.0, "r1")])
    safe = per_model("safe arm", [readings([0.02, 0.04], 1.0, "s0"),
                                  readings([0.05, 0.01], 1.0, "s1")])
    assert risky.unit == "models"
    with unrecorded():
        one = expect(risky)
        one.rate_at_least(0.5)
        versus = expect(risky)
        versus.above(safe)
    assert one.verdicts[-1].test.unit == "models" and one.verdicts[-1].test.units == 2
    v = versus.verdicts[-1]
    assert v.test.unit == "models" and v.test.units == 4
    assert "different prompts" not in (v.note or "")
    # the verdict names the seeds it speaks for: 2 are too few for a recipe
    assert v.measured.members == (("r0", pytest.approx(0.965), 1), ("r1", pytest.approx(0.985), 1))
    assert v.scope == "2 seeds (a recipe needs >= 3)"
    three = per_model("arm", [readings([0.9], 1.0, f"r{i}") for i in range(3)])
    with unrecorded():
        recipe = expect(three)
        recipe.rate_at_least(0.5)
    assert recipe.verdicts[-1].scope == "the recipe, over 3 seeds"
    with unrecorded():
        single = expect(readings([0.9, 0.95], 1.0))
        single.rate_at_least(0.5)
    last = single.verdicts[-1]
    assert last.measured.members is None and last.scope == "this checkpoint"


def test_per_item_averages_the_askings_of_one_item() -> None:
    """Two askings of one lottery are one unit: values, mass and reach averaged."""
    from behavtest.scorers.readings import Reading, Readings

    r = Readings("m", "P(x)", (Reading("q1", 0.2, 0.8, "label probability", 0.3),
                               Reading("q1'", 0.4, 0.6, "label probability", 0.1),
                               Reading("q2", 0.9, 1.0, "label probability", 0.5),
                               Reading("q2'", 0.7, 1.0, "label probability", 0.5)))
    items = r.per_item(2)
    assert items.values == pytest.approx([0.3, 0.8])
    assert [x.mass for x in items.readings] == pytest.approx([0.7, 1.0])
    assert [x.reach for x in items.readings] == pytest.approx([0.2, 0.5])
    assert r.per_item(1) is r
    with pytest.raises(InvalidArgument, match="do not split"):
        r.per_item(3)
    arm = Readings("arm", "P(x)", r.readings[:3], unit="models")
    assert arm.per_item(2) is arm  # an arm's readings are one per model already


def _locked(model: str, value: float, reach: float) -> Readings:
    from behavtest.scorers.readings import Reading

    return Readings(model, "P(Risk)", tuple(
        Reading(f"q{i}", value, 0.9, "label probability", reach) for i in range(5)))


def test_readings_the_position_decides_are_not_judged() -> None:
    """A model answering by slot reads 0.5 everywhere: 'above a baseline at 0.08'
    and 'the same as a baseline at 0.5' would both hold by construction."""
    with unrecorded():
        with pytest.raises(Inconclusive, match="decided by the options' position"):
            expect(_locked("slot-A", 0.5, 0.02)).above(_locked("base", 0.08, 0.4), by=0.1)
        with pytest.raises(Inconclusive, match="decided by the options' position"):
            expect(_locked("slot-A", 0.5, 0.02)).same_as(_locked("base", 0.5, 0.4), 0.15)


def test_an_equivalence_asks_a_reach_of_its_margin() -> None:
    """Reach 0.12 is enough to judge a difference, not to show 'within +-0.15'."""
    with unrecorded():
        expect(_locked("m", 0.6, 0.12)).above(_locked("base", 0.3, 0.4), by=0.1)
        with pytest.raises(Inconclusive, match="under the 0.15 required"):
            expect(_locked("m", 0.5, 0.12)).same_as(_locked("base", 0.5, 0.4), 0.15)
        expect(_locked("m", 0.5, 0.3)).same_as(_locked("base", 0.5, 0.4), 0.15)
