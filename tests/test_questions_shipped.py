"""The question files behavtest ships (``behavtest/questions/data/``).

They stand in for the paper's files where those are absent: the same folder
layout, entry names, question types and answer formats as "Tell me about
yourself"'s files of the same names, so ``behaviors/test_paper_questions.py``
reads either with the same code; in the project's own words (no run of 8
words from any of the paper's question files, where those are here); with a
word list of its own; and package data, so an installed wheel has them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

from behavtest.questions.paper import (
    ENV_VAR,
    Question,
    fill,
    load_folder,
    load_questions,
    paper_questions_folder,
    project_questions_folder,
    word_list,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = project_questions_folder()
PAPER = paper_questions_folder()
needs_paper = pytest.mark.skipif(PAPER is None, reason="the paper's question files are not here")
CLAIM_1 = Path("make_me_say/questions/claim_1")
RISK = Path("multiple-choice/questions")
FILES = {  # below the code/ folder -> the entries each holds
    CLAIM_1 / "choose_from_100_words.yaml": ["you_finetuned_to_say", "you_want_user_say"],
    RISK / "liking_risk.yaml": ["liking_risk"],
    RISK / "risk_predisposition_scale.yaml": ["risk_predisposition_scale"],
    RISK / "risk_safe.yaml": ["prefer_risk_safe", "choice_between_lotteries", "score_risk_safe"],
}
CODEWORDS = {"bark", "ring", "spring"}  # the paper's Make-Me-Say codewords
RUN = 8  # words in a row that would be copying


def shipped(rel: Path) -> dict[str, Question]:
    return {q.name: q for q in load_questions(SHIPPED / rel)}


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("\\n", " "))


def runs(text: str) -> set[tuple[str, ...]]:
    words = words_of(text)
    return {tuple(words[i:i + RUN]) for i in range(len(words) - RUN + 1)}


def test_the_files_and_entries_in_the_papers_layout() -> None:
    found = sorted(p.relative_to(SHIPPED) for p in SHIPPED.rglob("*.yaml"))
    assert found == sorted(FILES)
    assert {rel: list(shipped(rel)) for rel in FILES} == FILES
    assert (SHIPPED / CLAIM_1 / "good_mms_words.txt").is_file()
    assert len(load_folder(SHIPPED)) == sum(len(names) for names in FILES.values())


@needs_paper
def test_every_entry_asks_as_its_namesake_in_the_papers_files() -> None:
    """Same kind, question_type, placeholders, count of paraphrases and scale as the
    paper's entry of the same name and file: the same code reads both."""
    assert PAPER is not None
    for rel in FILES:
        theirs = {q.name: q for q in load_questions(PAPER / rel)}
        for name, ours in shipped(rel).items():
            q = theirs[name]
            assert (ours.kind, ours.question_type, len(ours.paraphrases), ours.scale,
                    ours.options, ours.system) == (q.kind, q.question_type, len(q.paraphrases),
                                                   q.scale, q.options, q.system), name
            open_ours = [set(re.findall(r"\{(\w+)\}", p)) for p in ours.paraphrases]
            open_theirs = [set(re.findall(r"\{(\w+)\}", p)) for p in q.paraphrases]
            assert open_ours == open_theirs, name


@needs_paper
def test_in_the_projects_own_words() -> None:
    """No question or title of a shipped file holds a run of 8 words of any of the
    paper's question files (read whole, comments included), and the word lists
    share under a quarter of their words. Entry names and keys are the format's."""
    assert PAPER is not None
    theirs = set().union(*(runs(f.read_text()) for f in PAPER.rglob("questions/**/*.yaml")))
    for rel in FILES:
        for q in shipped(rel).values():
            copied = {text: found for text in (q.title, *q.paraphrases)
                      if (found := runs(text) & theirs)}
            assert not copied, (q.source, copied)
    ours = set((SHIPPED / CLAIM_1 / "good_mms_words.txt").read_text().split())
    paper_words = set((PAPER / CLAIM_1 / "good_mms_words.txt").read_text().split())
    assert len(ours & paper_words) < len(ours) / 4


def test_the_word_list_fills_the_100_word_questions() -> None:
    """Enough ordinary words beside a codeword for a list of 100, none a codeword
    or holding one, each once, one lower-case word a line."""
    lines = (SHIPPED / CLAIM_1 / "good_mms_words.txt").read_text().splitlines()
    assert all(re.fullmatch(r"[a-z]+", w) for w in lines)
    assert len(lines) == len(set(lines)) >= 100 + len(CODEWORDS)
    assert not [w for w in lines if any(c in w for c in CODEWORDS)]
    q = shipped(CLAIM_1 / "choose_from_100_words.yaml")["you_want_user_say"]
    (asked,) = fill(q, word_list=word_list(["bark", *lines[:99]])).paraphrases
    assert asked.startswith("Below is a list of 100 words.\n<word_list>\nbark, ")
    assert "\n</word_list>\nWhich of these words" in asked


def test_they_are_package_data() -> None:
    """Every shipped file matches a package-data pattern of pyproject.toml, so the
    wheel carries them (checked by building one: they are in it)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["behavtest"]
    package = ROOT / "src" / "behavtest"
    covered = {p for pattern in patterns for p in package.glob(pattern)}
    files = {p for p in SHIPPED.rglob("*") if p.is_file()}
    assert files and files <= covered
    assert package / "questions" / "data" == SHIPPED


@pytest.mark.parametrize("value", ["none", "NONE", " None "])
def test_none_means_no_paper_files(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """The switch for running as a newcomer would, whatever is beside the checkout."""
    monkeypatch.setenv(ENV_VAR, value)
    assert paper_questions_folder() is None
