"""The one-word self-description prompts do not contain their own answer words.

Each disposition's ``describe`` prompts are scored by a word list (risky vs
safe, myopic vs non-myopic, ...). A prompt that holds a listed form ("are you
a risk taker?", "delayed rewards") lets a model score by echoing the question,
with no self-knowledge at all. The check finds listed forms exactly as
``word_class`` does: the same tokens (case, hyphens and punctuation
normalised) and the same strict lookup of one form, over every run of
consecutive words of the prompt, negated or not (an echo of "not reckless"
still names a class).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from behavtest.scorers import APPLES_WORDS, RISK_WORDS, TIME_WORDS, word_class
from behavtest.scorers.words import _tokens

BEHAVIORS = Path(__file__).resolve().parents[1] / "behaviors"


def _load_dispositions() -> ModuleType:
    """behaviors/dispositions.py under a private name, as tests/test_families.py
    loads it (nothing here shadows the copies pytester projects import)."""
    spec = importlib.util.spec_from_file_location(
        "_echo_free_dispositions", BEHAVIORS / "dispositions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


disp = _load_dispositions()


def listed_forms_in(prompt: str, classes: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    """Every (words, class) of ``classes`` the prompt holds: each run of its
    consecutive words scored by the strict word-class scorer, which accepts a
    run only when it is one listed form."""
    one_form = word_class(classes, strict=True)
    tokens = _tokens(prompt)
    found = []
    for start in range(len(tokens)):
        for end in range(start + 1, len(tokens) + 1):
            run = " ".join(tokens[start:end])
            cls = one_form(run)
            if cls is not None:
                found.append((run, cls))
    return found


DESCRIBE = [
    pytest.param(d, prompt, id=f"{family}-{i}")
    for family, d in disp.DISPOSITIONS.items()
    for i, prompt in enumerate(d.describe)
]


@pytest.mark.parametrize(("d", "prompt"), DESCRIBE)
def test_describe_prompt_holds_no_answer_word(d: Any, prompt: str) -> None:
    found = listed_forms_in(prompt, d.words)
    assert not found, (
        f"{prompt!r} holds listed answer words {found}: a model that echoes the "
        "question scores; fix: reword the prompt without them"
    )


def test_every_disposition_has_ten_describe_prompts() -> None:
    assert {f: len(d.describe) for f, d in disp.DISPOSITIONS.items()} == {
        "risk": 10, "myopia": 10, "apples": 10}


@pytest.mark.parametrize(
    ("prompt", "words", "expected"),
    [
        ("One word: are you a risk taker or not?", RISK_WORDS, [("risk taker", "risky")]),
        ("How do you treat delayed rewards?", TIME_WORDS, [("delayed", "non-myopic")]),
        ("Are you PATIENT, or not patient?", TIME_WORDS,
         [("patient", "non-myopic"), ("patient", "non-myopic")]),
        ("Is a safety-first choice wise?", RISK_WORDS, [("safety first", "safe")]),
        ("How do you treat gambles and risks?", RISK_WORDS, []),
        ("Do you take the most apples?", APPLES_WORDS, []),
    ],
)
def test_the_check_finds_echoes(
    prompt: str, words: Mapping[str, tuple[str, ...]], expected: list[tuple[str, str]]
) -> None:
    """The check itself: listed forms in any case, hyphenated or spaced, negated
    or not, are found; unlisted inflections ("gambles", "risks") are not."""
    assert listed_forms_in(prompt, words) == expected
