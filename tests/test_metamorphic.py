"""Metamorphic invariance: variants that keep a question's meaning, drawn
reproducibly, and one verdict that a self-report does not move across them.

Driven by the scripted double (``behavtest.providers.double``): an invariant model by
construction, one whose answer flips with the label style, and one whose
readings rest on too little probability mass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from behavtest import Outcome
from behavtest.checks.context import unrecorded
from behavtest.checks.group import ModelGroup
from behavtest.errors import InvalidArgument
from behavtest.providers.base import Messages
from behavtest.providers.double import ScriptedProvider
from behavtest.questions.metamorphic import (
    Variant,
    draw_variants,
    expect_invariant,
    meaning_preserving,
)
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.scorers.choices import LABEL_STYLES, NUMBERS, ChoiceQuestion, render_choice
from behavtest.settings import RunSettings
from behavtest.verdict import BehaviourFailed, CheckEnded, Inconclusive

Q = ChoiceQuestion("Do you, Janet, prefer risk or safety?", ("Risk", "Safety"))
PARAPHRASES = ("Janet, which do you prefer?", "Which of these would Janet choose?")
PERSONAS = ("Bob", "Ann")
ODDS = {"Risk": 3.0, "Safety": 1.0}  # P(Risk) = 0.75 in any order and label style


def strategy(question: ChoiceQuestion = Q) -> st.SearchStrategy[Variant]:
    return meaning_preserving(question, paraphrases=PARAPHRASES, persona="Janet",
                              personas=PERSONAS)


def handle(provider: ScriptedProvider, cache: SampleCache | None = None) -> ModelHandle:
    return ModelHandle("double/x", lambda: provider, RunSettings(),
                       cache or SampleCache(None, "off"))


def squash(text: str) -> str:
    return " ".join(text.lower().split())


MEANINGS = {squash(t.replace("Janet", name))
            for t in (Q.question, *PARAPHRASES) for name in ("Janet", *PERSONAS)}


@settings(max_examples=150, database=None, deadline=None)
@given(strategy())
def test_variants_change_only_the_surface(v: Variant) -> None:
    q = v.question
    assert sorted(q.options) == sorted(Q.options)  # option texts never change
    assert squash(q.question) in MEANINGS  # casing/whitespace of the question, paraphrase, persona
    assert q.instruction is None and q.asks.startswith(f"Answer with the {q.style.noun}")
    assert (v.describe() == "as asked") == (v.changes == ())
    if not v.changes:
        assert render_choice(q, (0, 1)) == render_choice(Q, (0, 1))


def test_every_label_style_appears_and_the_first_variant_is_the_question_as_asked() -> None:
    variants = draw_variants(strategy(), 40, seed=3)
    assert {v.question.style for v in variants} == set(LABEL_STYLES)
    assert variants[0].describe() == "as asked" and variants[0].question == Q
    described = " | ".join(v.describe() for v in variants)
    for change in ("labels (a)", "labels 1)", "lower case", "paraphrase", "persona",
                   "options reversed"):
        assert change in described
    assert len({render_choice(v.question, (0, 1)) for v in variants}) == 40  # distinct


def test_a_custom_instruction_keeps_its_label_style() -> None:
    q = ChoiceQuestion("Risk or safety?", ("Risk", "Safety"), instruction="Answer A or B.")
    variants = draw_variants(meaning_preserving(q), 10, seed=0)
    assert {v.question.style for v in variants} == {q.style}
    assert {v.question.asks for v in variants} == {"Answer A or B."}


def test_draws_are_reproducible_by_seed() -> None:
    first = draw_variants(strategy(), 12, seed=7)
    assert draw_variants(strategy(), 12, seed=7) == first
    assert draw_variants(strategy(), 12, seed=8) != first


DRAW = """
import json
from behavtest.questions.metamorphic import draw_variants, meaning_preserving
from behavtest.scorers.choices import ChoiceQuestion
q = ChoiceQuestion("Do you, Janet, prefer risk or safety?", ("Risk", "Safety"))
s = meaning_preserving(q, paraphrases=["Janet, which do you prefer?"], persona="Janet",
                       personas=["Bob", "Ann"])
print(json.dumps([v.describe() for v in draw_variants(s, 12, seed=5)]))
"""


def test_draws_are_the_same_in_another_process() -> None:
    def run(hash_seed: str) -> list[str]:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", DRAW], env=env, capture_output=True,
                             text=True, check=True)
        return list(json.loads(out.stdout))

    q = ChoiceQuestion("Do you, Janet, prefer risk or safety?", ("Risk", "Safety"))
    here = [v.describe() for v in draw_variants(
        meaning_preserving(q, paraphrases=["Janet, which do you prefer?"], persona="Janet",
                           personas=["Bob", "Ann"]), 12, seed=5)]
    assert run("1") == here == run("2")


@settings(max_examples=2, database=None, deadline=None,
          suppress_health_check=[HealthCheck.nested_given])
@given(st.integers())
def _nested(draws: list[list[Variant]], i: int) -> None:
    draws.append(draw_variants(strategy(), 6, seed=1))


def test_draws_inside_a_hypothesis_test_that_allows_nesting() -> None:
    draws: list[list[Variant]] = []
    _nested(draws)
    assert draws and all(d == draw_variants(strategy(), 6, seed=1) for d in draws)

    @settings(max_examples=1, database=None, deadline=None)
    @given(st.integers())
    def forbids(i: int) -> None:
        draw_variants(strategy(), 6, seed=1)

    with pytest.raises(InvalidArgument, match="nested @given; fix"):
        forbids()


def test_bad_strategies_are_refused_with_a_fix() -> None:
    with pytest.raises(InvalidArgument, match="does not occur in the question; fix"):
        meaning_preserving(Q, persona="Lisa", personas=["Bob"])
    with pytest.raises(InvalidArgument, match="no replacements; fix"):
        meaning_preserving(Q, persona="Janet")
    with pytest.raises(InvalidArgument, match="without persona=; fix"):
        meaning_preserving(Q, personas=["Bob"])
    with pytest.raises(InvalidArgument, match="occurs in an option"):
        meaning_preserving(ChoiceQuestion("Janet: which?", ("Janet", "Bob")), persona="Janet",
                           personas=["Ann"])
    with pytest.raises(InvalidArgument, match="only 1 distinct variant .*; fix"):
        draw_variants(st.just(Variant(Q, ())), 5, seed=0)


class LabelFlipper(ScriptedProvider):
    """A self-report that flips with the label: under "1)"/"2)" the double
    prefers the option it otherwise avoids."""

    def continuation_logprobs(self, messages: Messages, continuations: Sequence[str]
                              ) -> list[float]:
        role, text = messages[-1]
        if "\n1) " in text:  # answer as if each option were the other one
            text = text.replace("Risk", "\0").replace("Safety", "Risk").replace("\0", "Safety")
            messages = (*messages[:-1], (role, text))
        return super().continuation_logprobs(messages, continuations)


class Counting(ScriptedProvider):
    """Counts option-scoring queries (``calls`` counts only sampled replies)."""

    logprob_calls = 0

    def continuation_logprobs(self, messages: Messages, continuations: Sequence[str]
                              ) -> list[float]:
        self.logprob_calls += 1
        return super().continuation_logprobs(messages, continuations)


VARIANTS = draw_variants(strategy(), 12, seed=11)


def test_an_invariant_self_report_passes_as_one_verdict_listing_the_variants() -> None:
    h = handle(ScriptedProvider({"x": 1.0}, options=ODDS))
    with unrecorded():
        e = expect_invariant(h, "Risk", Q, VARIANTS, margin=0.05)
    (v,) = e.verdicts
    assert v.outcome is Outcome.PASS
    assert v.measured.n == len(VARIANTS) and "paired" in v.test.method
    assert v.note is not None and "12 variants tried" in v.note
    for i, variant in enumerate(VARIANTS, 1):
        assert f"{i}. {variant.describe()} 0.750" in v.note


def test_a_self_report_that_flips_with_the_label_does_not_pass() -> None:
    assert any(v.question.style == NUMBERS for v in VARIANTS)
    h = handle(LabelFlipper({"x": 1.0}, options=ODDS))
    with unrecorded(), pytest.raises((BehaviourFailed, Inconclusive)) as exc:
        expect_invariant(h, "Risk", Q, VARIANTS, margin=0.05)
    assert isinstance(exc.value, CheckEnded)
    v = exc.value.verdict
    assert v.outcome in (Outcome.FAIL, Outcome.INCONCLUSIVE)
    assert v.note is not None and "labels 1)" in v.note and " 0.250" in v.note
    assert all(variant.describe() in v.note for variant in VARIANTS)


def test_readings_on_too_little_mass_are_inconclusive() -> None:
    h = handle(ScriptedProvider({"x": 1.0}, options=ODDS, label_mass=0.1))
    with unrecorded(), pytest.raises(Inconclusive) as exc:
        expect_invariant(h, "Risk", Q, VARIANTS, margin=0.05)
    v = exc.value.verdict
    assert v.outcome is Outcome.INCONCLUSIVE
    assert v.note is not None and "rests on 10.0%" in v.note and "variants tried" in v.note


def test_a_second_check_replays_from_the_cache(tmp_path: Path) -> None:
    providers = [Counting({"x": 1.0}, options=ODDS) for _ in range(2)]
    for p in providers:
        with unrecorded():
            expect_invariant(handle(p, SampleCache(tmp_path / "c.sqlite")), "Risk", Q,
                             VARIANTS, margin=0.05)
    assert providers[0].logprob_calls > 0
    assert providers[1].logprob_calls == 0


def test_arms_and_bad_variants_are_refused() -> None:
    arm = ModelGroup((handle(ScriptedProvider({"x": 1.0}, options=ODDS)),))
    with pytest.raises(InvalidArgument, match="not the arm .*; fix: check each model"):
        expect_invariant(arm, "Risk", Q, VARIANTS, margin=0.05)
    h = handle(ScriptedProvider({"x": 1.0}, options=ODDS))
    with pytest.raises(InvalidArgument, match="at least 2"):
        expect_invariant(h, "Risk", Q, VARIANTS[:1], margin=0.05)
    other = Variant(ChoiceQuestion("Risk or caution?", ("Risk", "Caution")), ("swapped",))
    with pytest.raises(InvalidArgument, match="not those of the canonical question"):
        expect_invariant(h, "Risk", Q, [VARIANTS[0], other], margin=0.05)


# -- covering_variants: every change tried, by the project's own scheme ------------------


@given(k=st.integers(2, 4), n_paraphrases=st.integers(0, 4), seed=st.integers(0, 2**16))
def test_covering_variants_try_every_label_style_and_paraphrase(
    k: int, n_paraphrases: int, seed: int
) -> None:
    """Random draws once left out the number labels altogether; a covering list
    tries every label style with enough labels and every paraphrase."""
    from behavtest.questions.metamorphic import covering_variants
    from behavtest.scorers.choices import LABEL_STYLES

    q = ChoiceQuestion("Which do you prefer?", tuple(f"option {i}" for i in range(k)))
    paraphrases = [f"Paraphrase number {i}: which one?" for i in range(n_paraphrases)]
    variants = covering_variants(q, paraphrases=paraphrases, count=12, seed=seed)
    styles = {v.question.style.name for v in variants}
    assert styles == {s.name for s in LABEL_STYLES if len(s.labels) >= k}
    asked = {v.question.question.strip().lower().replace("  ", " ") for v in variants}
    for p in paraphrases:
        assert p.lower() in asked
    assert len({(v.question.question, v.question.options, v.question.style.name)
                for v in variants}) == len(variants)


def test_covering_variants_are_the_same_on_every_call() -> None:
    from behavtest.questions.metamorphic import covering_variants

    q = ChoiceQuestion("Which do you prefer?", ("Risk", "Safety"))
    first = covering_variants(q, paraphrases=["Which suits you?"], count=8, seed=3)
    assert first == covering_variants(q, paraphrases=["Which suits you?"], count=8, seed=3)
    assert [v.describe() for v in first][0] != ""
