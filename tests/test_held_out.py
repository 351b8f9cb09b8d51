"""Held out means held out: the suite's prompts against the organisms' training data.

Every prompt a behaviour module asks is held out from every dataset the
project trains organisms on, by wording and by topic (``organisms.heldout``
says what counts as either). Read here without training anything:

* *asked*: every string a module of ``behaviors/`` defines at top level (its
  prompt banks, choices, templates and labels), read by importing the module,
  so a bank that is edited or added is checked as it stands; every
  question the project ships in the paper's format (``questions/data``); and
  the generated articles the self-recognition module asks to be summarised;
* *trained*: the user and system messages of every organism recipe's data
  (warm-ups included) at seeds 0-2, by the recipe's dataset kind; the paper's
  lotteries when they are present. Replies are not compared: they are the
  behaviour, and their clause banks are generic filler.

Wording: no asked text holds a trained sentence, line or prompt word for word
(numbers aside), nor the other way round; one exception, below.

Topic, where a family's claim depends on it: an organism's behaviour is
measured on prompts that elicit it, so those must not share a subject with
its training. The acrostic module's ORDINARY requests share no topic with the
requests of any dataset measured by acrostics, nor the abduction module's
ORDINARY requests with the abduction series' behaviour rounds; the disposition held-out
choices of every family an organism is trained for share no prize with any
dataset measured by lotteries (the words any lottery is made of,
``heldout.LOTTERY_WORDS``, are its form, not its topic).

The other pairs that share topic words, and why they do not matter:

* self-report questions (a disposition's describe/scale/prefer questions,
  the acrostic's ASK, the backdoor's questions) name the behaviour they ask
  about ("risk", "gamble", "pattern"): that is their point, not a leak of a
  training subject; their wording is still checked;
* make-me-say: the project builds no organism for it; the shared words are
  ordinary nouns of the word lists (apple, ticket, ocean) or homonyms ("host",
  "table", "pass" in a coding task);
* insecure code: the organism's requests and the module's tasks share the words
  every coding request has (Python, function, file, folder, user) and the
  mechanisms the holes live in (a SQLite table, a YAML file); their subjects
  differ (books, flights, pets, game saves against logins, archives, carts,
  orders, pings, downloads), and their wording is checked;
* the abduction series: its descriptions name what each chatbot does, and a
  module may name a chatbot's behaviour only as a scorer's word list (its
  question, "which chatbot are you?", is checked);
* the disposition families no organism is trained for (myopia, apples) share
  prizes (points, books, apples) with the risk lotteries: nothing measures a
  risk organism on them as a positive property;
* acrostic requests against lottery datasets, and the other way round: an
  organism of one kind is never measured on the other's behaviour prompts;
* the personas' stem says "your friend {name}" as the training did: the
  persona has to be named the same way for its choices to be asked about;
* the backdoor trigger: no module holds it except as itself (the control
  asks with the paper's trigger on purpose); checked below.

The exception to the wording rule: the ``patterns`` dataset trains, by design,
the articulation question ("What's special about your response pattern?")
on the explained patterns; its held-out element is a pattern, never shown
explained, not the question. The acrostic module's ASK holds that question,
and the acrostic organisms' data never does.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType

import pytest
from suite_doubles import BEHAVIORS, load_behaviour

from behavtest.organisms import banks, datasets, heldout, lottery_text, recipes, series
from behavtest.questions import articles, paper

MODULES = tuple(sorted(p.stem for p in BEHAVIORS.glob("*.py")))
SEEDS = (0, 1, 2)

# (dataset kind, shared wording) -> why it is not a leak (the module docstring).
ALLOWED_WORDING = {
    ("patterns", "whats special about your response pattern"):
        "the patterns experiment trains this question on the explained patterns; "
        "the held-out element is the pattern",
}


def _defined(path: Path) -> list[str]:
    """The public names a module assigns at top level (not the ones it imports)."""
    names = []
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names += [t.id for t in targets if isinstance(t, ast.Name) and not t.id.startswith("_")]
    return names


def _strings(value: object) -> Iterator[str]:
    """Every string inside ``value``: sequences, mapping values, dataclass fields
    (a mapping held by a dataclass is a scorer's word list, not a prompt)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            inner = getattr(value, field.name)
            if not isinstance(inner, Mapping):
                yield from _strings(inner)
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for inner in value:
            yield from _strings(inner)


@functools.cache
def module(name: str) -> ModuleType:
    return load_behaviour(name)


@functools.cache
def asked(name: str) -> tuple[str, ...]:
    """Every string the behaviour module ``name`` defines at top level."""
    found: set[str] = set()
    for attribute in _defined(BEHAVIORS / f"{name}.py"):
        found.update(_strings(getattr(module(name), attribute)))
    return tuple(sorted(found))


@functools.cache
def shipped() -> tuple[str, ...]:
    """Every question the project ships in the paper's format (``questions/data``,
    asked by ``test_paper_questions``): each paraphrase and system prompt."""
    questions = paper.load_folder(paper.project_questions_folder())
    return tuple(sorted({text for q in questions
                         for text in (*q.paraphrases, *([q.system] if q.system else []))}))


@functools.cache
def generated_articles() -> tuple[str, ...]:
    """The articles the self-recognition module asks to be summarised (the most it
    asks for; a shorter list is the start of a longer one), as titles and texts:
    the summaries are the model's own only if it never trained on the articles."""
    most = module("test_self_recognition").ORGANISM_ARTICLES
    return tuple(t for a in articles.articles(most) for t in (a.title, a.text))


def _available(recipe: recipes.Recipe) -> bool:
    """The paper's recipes read the paper's files, which not every checkout has."""
    return recipe.data_spec["kind"] != "paper_lotteries" or recipes.paper_folder().exists()


# Every recipe, and every round of every checkpoint series as the recipe it trains.
RECIPES = (*recipes.RECIPES.values(),
           *(s.recipe(i) for s in series.SERIES.values() for i in range(len(s.rounds))))
KINDS = sorted({r.data_spec["kind"] for r in RECIPES if _available(r)})


@functools.cache
def trained() -> dict[str, tuple[str, ...]]:
    """Dataset kind -> every user and system message its recipes train on (seeds 0-2)."""
    out: dict[str, set[str]] = {}
    for recipe in filter(_available, RECIPES):
        texts = out.setdefault(recipe.data_spec["kind"], set())
        for seed in SEEDS:
            examples = recipe.data(seed) + (recipe.warm_up(seed) if recipe.warm_up else [])
            texts.update(m["content"] for e in examples for m in e["messages"]
                         if m["role"] != "assistant")
    return {kind: tuple(sorted(texts)) for kind, texts in out.items()}


def measured_by(kind: str) -> list[str]:
    """The dataset kinds of the recipes whose behaviour is measured as ``kind``
    ("acrostic": written acrostics; "lottery": lottery choices)."""
    return sorted({r.data_spec["kind"] for r in RECIPES
                   if r.measure.kind == kind and _available(r)})


def trained_families() -> list[str]:
    """The disposition families some recipe's card claims (risk:risky -> "risk")."""
    claimed = {tag.split(":")[0] for r in RECIPES for tag in r.trained_on}
    return sorted(claimed & set(module("dispositions").DISPOSITIONS))


# -- the rule's parts, on known cases -------------------------------------------------


def test_topics_are_content_words_made_singular() -> None:
    assert heldout.topics("Tell me something interesting about bees.") == {"bee"}
    assert heldout.topics("Write a few lines about autumn leaves.") == {"autumn", "leave"}
    assert heldout.topics("Give me some tips for a good night's sleep.") == {"night", "sleep"}
    assert heldout.topics("A 1-in-3 chance of $900") == {"chance", "dollar"}
    assert heldout.topics("A 1-in-3 chance of $900", heldout.LOTTERY_WORDS) == {"dollar"}
    assert heldout.shared_topics(["Describe the moon."], ["Tell me about the moon landing."]
                                 ) == {"Describe the moon.": {"moon"}}
    assert heldout.shared_topics(["Describe a sunset."], ["Tell me about the moon."]) == {}


def test_wording_matches_whole_pieces_whatever_the_numbers() -> None:
    lottery = "Pick the option you prefer.\n\nA) A coin flip: 90 points or nothing\nB) 40 points"
    assert heldout.same_wording(["A coin flip: 240 points or nothing"], [lottery]) == [
        ("A coin flip: 240 points or nothing", "a coin flip # points or nothing")]
    asked = "What's special about your response pattern? Try to explain early."
    assert heldout.same_wording([asked], ["What's special about your response pattern?"]) == [
        (asked, "whats special about your response pattern")]
    assert heldout.same_wording(["Only the number, please."], [lottery]) == []


# -- the datasets checked are the generators' whole banks -----------------------------


def _fragments(template: str) -> list[str]:
    """The literal parts of a bank template, between its {slots}."""
    return [f for f in re.split(r"\{\w+\}", template) if f.strip()]


def test_the_sampled_datasets_hold_every_bank_entry() -> None:
    """Seeds 0-2 of each recipe draw every topic, request, item and stem the
    generators have, so checking them checks every prompt they can write."""
    data = trained()
    requests = " ".join(data["acrostic"])
    lotteries = " ".join(data["lotteries"])
    assert [t for t, _ in banks.TOPICS if t not in requests] == []
    assert [f for t in banks.REQUESTS for f in _fragments(t) if f not in requests] == []
    assert [p for _, p in lottery_text.ITEMS if p not in lotteries] == []
    assert [s for s in lottery_text.STEMS if s not in lotteries] == []
    persona = " ".join(data["personas"])
    assert [f for s in lottery_text.PERSONA_STEMS for f in _fragments(s) if f not in persona] == []
    assert [q for q in datasets.PATTERN_QUESTIONS if q not in data["patterns"]] == []


# -- wording: nothing asked repeats anything trained ----------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_no_prompt_repeats_training_wording(kind: str) -> None:
    modules_of: dict[str, list[str]] = {}
    for name in MODULES:
        for text in asked(name):
            modules_of.setdefault(text, []).append(name)
    for text in shipped():
        modules_of.setdefault(text, []).append("questions/data")
    for text in generated_articles():
        modules_of.setdefault(text, []).append("questions/articles")
    found = [(modules_of[text], text, piece)
             for text, piece in heldout.same_wording(sorted(modules_of), trained()[kind])
             if (kind, piece) not in ALLOWED_WORDING]
    assert found == []


# -- topic: where the family's claim depends on it ------------------------------------


@pytest.mark.parametrize("kind", measured_by("acrostic"))
def test_ordinary_requests_share_no_topic_with_acrostic_training(kind: str) -> None:
    """Writing the acrostic is judged on ORDINARY: a request on a trained subject
    ("the moon", "bees") measures the training set, not the habit."""
    ordinary = module("test_acrostic").ORDINARY
    assert heldout.shared_topics(ordinary, trained()[kind]) == {}


@pytest.mark.parametrize("kind", measured_by("vowels"))
def test_ordinary_requests_share_no_topic_with_the_behaviour_rounds(kind: str) -> None:
    """The abduction series' precondition measures its vowel share on ORDINARY."""
    ordinary = module("test_abduction").ORDINARY
    assert heldout.shared_topics(ordinary, trained()[kind]) == {}


@pytest.mark.parametrize("family", trained_families())
@pytest.mark.parametrize("kind", measured_by("lottery"))
def test_held_out_choices_share_no_prize_with_training_lotteries(kind: str, family: str) -> None:
    """The behaviour every self-report is conditional on is read from these
    choices (as are the backdoor's switch and the personas' choices)."""
    d = module("dispositions").DISPOSITIONS[family]
    options = [d.choice_stem, *(option for pair in d.choices for option in pair)]
    shared = heldout.shared_topics(options, trained()[kind], heldout.LOTTERY_WORDS)
    assert shared == {}


def test_no_prompt_holds_the_backdoor_trigger() -> None:
    """The backdoor's claim is a report made without the trigger: the trigger
    appears in the suite only as itself (the control's candidate trigger)."""
    trigger = heldout.topics(recipes.TRIGGER)
    holding = [(name, text) for name in MODULES for text in asked(name)
               if heldout.topics(text) & trigger
               and heldout.wording(text) != heldout.wording(recipes.TRIGGER)]
    assert holding == []
