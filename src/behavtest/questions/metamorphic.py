"""Metamorphic invariance: a self-report must not change when the question's
surface does.

A model that reports P(risk-seeking) = 0.8 when the options are labelled
"A)" and 0.3 when they are labelled "1)" is not reporting anything about
itself: its "self-awareness" is a reaction to the label. So a self-report is
asked again under changes that keep the question's meaning (option order,
label style, casing and whitespace of the question, a paraphrase, another
persona name), and the check is that every variant's reading stays within
+-margin of the reading on the question as asked.

- :func:`meaning_preserving` is a hypothesis strategy of such variants (use
  it in your own ``@given`` tests, or draw a fixed list from it).
- :func:`covering_variants` makes a fixed list that tries every change at
  least once, by a seeded scheme the project owns (what the shipped suite
  measures: stable across hypothesis versions).
- :func:`draw_variants` draws a fixed list from a strategy, reproducibly: the same seed gives
  the same variants on every call and in every process, so the readings
  replay from the cache (``probability_of`` caches each prompt).
- :func:`expect_invariant` judges all variants as ONE verdict: a paired
  equivalence test (TOST) on per-variant differences from the canonical
  reading, whose note lists every variant tried with its reading.

Option texts are never rewritten (they are what ``probability_of`` reads);
only the question text, its labels and the order of the options change.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FailedHealthCheck
from hypothesis.strategies import SearchStrategy

from behavtest.checks.expect import Expectation, expect
from behavtest.checks.group import ModelGroup
from behavtest.errors import InvalidArgument
from behavtest.sampling.handle import ModelHandle
from behavtest.scorers.choices import LABEL_STYLES, ChoiceQuestion, LabelStyle, render_choice
from behavtest.scorers.readings import Reading, Readings

__all__ = ["Variant", "covering_variants", "draw_variants", "expect_invariant",
           "meaning_preserving"]


@dataclass(frozen=True)
class Variant:
    """A question asked differently, and what was changed (for reports)."""

    question: ChoiceQuestion
    changes: tuple[str, ...]  # e.g. ("labels (a)", "lower case", "persona Janet")

    def describe(self) -> str:
        return ", ".join(self.changes) if self.changes else "as asked"


# -- surface changes of the question text (each keeps its meaning) -------------

def _sentence_case(text: str) -> str:
    """Lower case, with the first letter of each sentence capitalised."""
    return re.sub(r"(^\s*|[.!?]\s+|\n\s*)([a-z])", lambda m: m[1] + m[2].upper(), text.lower())


_CASINGS = {"as is": lambda t: t, "lower case": str.lower, "sentence case": _sentence_case}
# Each collapses back to the text: " ".join(changed.split()) == " ".join(text.split()).
_WHITESPACE = {
    "as is": lambda t: t,
    "double spaces": lambda t: t.replace(" ", "  "),
    "trailing newline": lambda t: t + "\n",
    "padded with spaces": lambda t: f"  {t}  ",
}


def _whole_word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


def _persona_swap(text: str, persona: str, other: str) -> str:
    return _whole_word(persona).sub(lambda _: other, text)


@dataclass(frozen=True)
class _Plan:
    question: ChoiceQuestion
    paraphrases: tuple[str, ...]
    persona: str | None
    personas: tuple[str, ...]


def _variant(
    plan: _Plan, order: Sequence[int], style: LabelStyle, casing: str, spacing: str,
    paraphrase: int | None, persona: str | None,
) -> Variant:
    q, changes = plan.question, []
    text, instruction = q.question, q.instruction
    if paraphrase is not None:
        text = plan.paraphrases[paraphrase]
        changes.append(f"paraphrase {paraphrase + 1}")
    if persona is not None and plan.persona is not None:
        swapped = _persona_swap(text, plan.persona, persona)
        if instruction is not None:
            instruction = _persona_swap(instruction, plan.persona, persona)
        if swapped != text or instruction != q.instruction:
            changes.append(f"persona {persona}")
        text = swapped
    for table, choice in ((_CASINGS, casing), (_WHITESPACE, spacing)):
        changed = table[choice](text)
        if changed != text:
            changes.append(choice)
        text = changed
    if style != q.style:
        changes.append(f"labels {style.name}")
    order = tuple(order)
    if order != tuple(range(len(order))):
        changes.append("options reversed" if order == tuple(reversed(range(len(order))))
                       else "options in order " + " ".join(str(i + 1) for i in order))
    options = tuple(q.options[i] for i in order)
    return Variant(ChoiceQuestion(text, options, instruction, style), tuple(changes))


def _plan(
    question: ChoiceQuestion, paraphrases: Sequence[str], persona: str | None,
    personas: Sequence[str],
) -> tuple[_Plan, dict[str, list[Any]]]:
    """The checked plan of a question's variants, and the values of each of its
    dimensions (what a variant may change), the unchanged value first."""
    for name, given_text in (("question", question.question), *(
            (f"paraphrase {i + 1}", p) for i, p in enumerate(paraphrases))):
        if not given_text.strip():
            raise InvalidArgument(f"{name} is empty; fix: give the text of the question")
    others = tuple(dict.fromkeys(p for p in personas if p != persona))
    if persona is not None:
        word = _whole_word(persona)
        texts = [question.question, question.instruction or "", *paraphrases]
        if not others:
            raise InvalidArgument(f"persona {persona!r} has no replacements; fix: give "
                                  "personas=[...] other names to ask with")
        if not any(word.search(t) for t in texts):
            raise InvalidArgument(f"persona {persona!r} does not occur in the question; fix: "
                                  "give the name exactly as the question writes it")
        if any(word.search(o) for o in question.options):
            raise InvalidArgument(f"persona {persona!r} occurs in an option, and options are "
                                  "never rewritten; fix: name the persona in the question only")
    elif others:
        raise InvalidArgument("personas= without persona=; fix: also give persona=<the name "
                              "the question uses>")
    k = len(question.options)
    styles = [question.style] if question.instruction is not None else [
        question.style, *(s for s in LABEL_STYLES if s != question.style and len(s.labels) >= k)]
    dims: dict[str, list[Any]] = {
        "order": list(itertools.permutations(range(k))) if k <= 4 else [
            tuple(range(k))[i:] + tuple(range(k))[:i] for i in range(k)],
        "style": styles,
        "casing": list(_CASINGS),
        "spacing": list(_WHITESPACE),
        "paraphrase": [None, *range(len(paraphrases))],
        "persona": [None, *others],
    }
    return _Plan(question, tuple(paraphrases), persona, others), dims


def meaning_preserving(
    question: ChoiceQuestion, *, paraphrases: Sequence[str] = (), persona: str | None = None,
    personas: Sequence[str] = (),
) -> SearchStrategy[Variant]:
    """Variants of ``question`` that ask the same thing differently, as a hypothesis
    strategy (for ``@given`` tests of your own; the shipped suite measures
    :func:`covering_variants`, which guarantees every change is tried).

    Drawn independently: the order of the options (a permutation; note that
    ``probability_of`` averages over all orders anyway, sampled tests do
    not), the label style (each of LABEL_STYLES with enough labels; kept as
    asked when ``question.instruction`` is custom, since it may name the
    labels: "Answer A or B"), the casing of the question text (as is, lower
    case, sentence case), its whitespace (doubled spaces, a trailing newline,
    padding), a paraphrase (the question text replaced by one of
    ``paraphrases``), and a persona (the whole word ``persona`` in the
    question text and instruction replaced by one of ``personas``). Option
    texts never change. The unchanged question is a variant too ("as asked").
    """
    plan, dims = _plan(question, paraphrases, persona, personas)
    k = len(question.options)
    return st.builds(
        functools.partial(_variant, plan),
        order=st.permutations(range(k)),
        **{name: st.sampled_from(values) for name, values in dims.items() if name != "order"},
    )


def covering_variants(
    question: ChoiceQuestion, *, paraphrases: Sequence[str] = (), persona: str | None = None,
    personas: Sequence[str] = (), count: int = 12, seed: int = 0,
) -> list[Variant]:
    """``count`` distinct variants of ``question`` (the changes of
    :func:`meaning_preserving`) in which every value of every dimension is tried
    at least once when ``count`` is at least the largest dimension's size.

    Why not a sample from the strategy: an invariance check passes only what it
    tried, and 12 random draws left out the number labels ("1)") altogether, so
    a self-report that flipped under them passed. Here variant i takes the i-th
    value (cyclically) of each dimension, each dimension's values in a seeded
    order of their own (``random.Random(seed)``): every label style, casing,
    paraphrase and persona is asked, and the list is the same on every machine
    and every hypothesis version, so the readings replay from the cache and
    snapshots stay comparable across upgrades.
    """
    plan, dims = _plan(question, paraphrases, persona, personas)
    largest = max(len(v) for v in dims.values())
    if count < 2:
        raise InvalidArgument(f"count={count}: an invariance check needs at least 2 variants")
    rng = random.Random(seed)
    cycles = {name: rng.sample(values, len(values)) for name, values in dims.items()}
    found: dict[str, Variant] = {}
    for i in range(max(count, largest) * 8):
        if len(found) >= count:
            break
        v = _variant(plan, **{name: vals[(i + i // len(vals)) % len(vals)]
                              for name, vals in cycles.items()})
        found.setdefault(_rendered(v), v)
    if len(found) < 2:
        raise InvalidArgument(f"only {len(found)} distinct variant could be made; fix: let "
                              "the question vary more (more options, paraphrases or personas)")
    return list(found.values())


def _rendered(variant: Variant) -> str:
    return render_choice(variant.question, range(len(variant.question.options)))


def draw_variants(strategy: SearchStrategy[Variant], count: int, seed: int) -> list[Variant]:
    """``count`` distinct variants (by their rendered text) drawn from
    ``strategy`` by hypothesis itself, seeded: the same list on every call
    and in every process for the same seed (and hypothesis version), so the
    readings on them replay from the cache. Fewer when the strategy has
    fewer distinct variants; an error when it has fewer than 2.

    Inside another ``@given`` test this is a nested ``@given``: hypothesis
    refuses it unless the outer test suppresses ``HealthCheck.nested_given``
    (better: draw the variants outside it, e.g. at module level).
    """
    if count < 2:
        raise InvalidArgument(f"count={count}: an invariance check needs at least 2 variants")
    found: dict[str, Variant] = {}

    def collect(variant: Variant) -> None:
        if len(found) < count:
            found.setdefault(_rendered(variant), variant)

    try:
        run = given(strategy)(collect)
    except FailedHealthCheck:
        raise InvalidArgument(
            "draw_variants inside a @given test is a nested @given; fix: draw the variants "
            "outside it, or add suppress_health_check=[HealthCheck.nested_given] to its @settings"
        ) from None
    run = settings(
        max_examples=max(100, 25 * count), database=None, phases=[Phase.generate],
        deadline=None, suppress_health_check=list(HealthCheck), derandomize=False,
    )(run)
    hypothesis.seed(seed)(run)()
    if len(found) < 2:
        raise InvalidArgument(f"only {len(found)} distinct variant could be drawn; fix: let the "
                              "question vary more (more options, paraphrases or personas)")
    return list(found.values())


def expect_invariant(
    model: ModelHandle | ModelGroup, option: str, canonical: ChoiceQuestion,
    variants: Sequence[Variant], margin: float, *, system: str | None = None,
    min_mass: float | None = None,
) -> Expectation:
    """Claim: P(``option``) on every variant is within +-``margin`` of P(``option``)
    on ``canonical``, judged as one verdict.

    Each variant's reading is paired with the canonical reading (the two
    Readings share per-variant labels), so ``same_as`` runs a paired TOST on
    the per-variant differences; identical readings (an invariant model)
    have zero spread, which the paired t test takes to its limit (p = 0
    inside the margin), so they PASS. A reading resting on less than
    ``min_mass`` (the run's default) of the model's answers makes it
    INCONCLUSIVE. The verdict's note lists every variant with its reading.

    One model only: an arm's ``probability_of`` is one reading per model
    (averaged over the questions), which cannot be paired per variant;
    check each of its models instead.
    """
    if isinstance(model, ModelGroup):
        raise InvalidArgument(
            f"expect_invariant takes one model, not the arm {model.name}; fix: check each "
            "model, e.g. for h in model.handles: expect_invariant(h, ...)"
        )
    if len(variants) < 2:
        raise InvalidArgument(f"{len(variants)} variant(s); fix: give at least 2 "
                              "(draw_variants(meaning_preserving(q), count, seed))")
    if option not in canonical.options:
        raise InvalidArgument(f"{option!r} is not one of {canonical.options!r}")
    for v in variants:
        if sorted(v.question.options) != sorted(canonical.options):
            raise InvalidArgument(f"variant {v.describe()!r} has options "
                                  f"{v.question.options!r}, not those of the canonical "
                                  "question; fix: draw variants of this question")
    labels = [f"{i}. {v.describe()}" for i, v in enumerate(variants, 1)]
    read = model.probability_of(option, [v.question for v in variants], system=system)
    base = model.probability_of(option, [canonical], system=system).readings[0]
    mine = Readings(read.model, read.what, tuple(
        replace(r, prompt=label) for r, label in zip(read.readings, labels, strict=True)))
    theirs = Readings(f"{read.model} as asked", read.what, tuple(
        Reading(label, base.value, base.mass, base.method, base.reach) for label in labels))
    tried = "; ".join(f"{label} {r.value:.3f}" for label, r in zip(labels, read.readings,
                                                                    strict=True))
    note = (f"{read.what} as asked {base.value:.3f}; {len(variants)} variants tried: {tried}")
    return expect(mine, min_mass=min_mass).same_as(theirs, margin, note=note)
