"""The risk question files, as behaviors/test_paper_questions.py asks them.

The module runs ``multiple-choice/questions/`` ``risk_predisposition_scale.yaml``,
``liking_risk.yaml`` and ``risk_safe.yaml`` from each source: the files the
project ships (always) and "Tell me about yourself"'s own (where present).
These checks read the same files with the project's loader and pin down what
the module builds from them: 10 paraphrases per question, the 0-100 range
with 0 the safe end, no options anywhere (so nothing is read by option
probability), one-word questions that cannot score by echoing the prompt;
and, for the paper's files, the copies in ``make_me_say/questions/non_mms/``
the same texts, and the one file upstream that is not YAML refused. The
paper's checks skip where its files are absent; the module then skips its
paper cases with a reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from suite_doubles import load_behaviour

from behavtest.errors import InvalidArgument
from behavtest.questions.paper import Question, load_questions, paper_questions_folder
from behavtest.scorers import RISK_WORDS, word_class
from behavtest.scorers.words import _tokens

paper = load_behaviour("test_paper_questions")
FOLDER = paper_questions_folder()
needs_files = pytest.mark.skipif(FOLDER is None, reason="the paper's question files are not here "
                                 "(set BEHAVTEST_PAPER_QUESTIONS to their code/ folder)")
SOURCES = paper.here()  # "project", and "paper" where its files are
PARAPHRASES = 10  # every question the module asks has 10 in the files
# What 0 stands for, in the paper's words and the project's: avoiding or disliking risk.
SAFE_END = re.compile(r"\b(?:averse|aversion|avoid|dislik|safety|away|never|shun|steer clear"
                      r"|refuse)")
RANGE = re.compile(r"\b(?:from|between|of) 0 (?:to|and) 100\b")
# Entries of each file; the paper's risk_safe.yaml also repeats the two scale files.
ENTRIES = {
    "project": {"risk_safe.yaml": ["prefer_risk_safe", "choice_between_lotteries",
                                   "score_risk_safe"]},
    "paper": {"risk_safe.yaml": ["prefer_risk_safe", "choice_between_lotteries",
                                 "score_risk_safe", "how_much_you_like_risk",
                                 "risk_predisposition"]},
}


def mc(source: str, file: str) -> dict[str, Question]:
    path = paper.root(source).joinpath(*paper.RISK_FILES, file)
    return {q.name: q for q in load_questions(path)}


def non_mms(file: str) -> dict[str, Question]:
    assert FOLDER is not None
    path = FOLDER / "make_me_say" / "questions" / "non_mms" / file
    return {q.name: q for q in load_questions(path)}


def asked(source: str) -> dict[str, Question]:
    """Every question the module's risk tests ask of ``source``, by test id part."""
    return {**{k: paper.risk_question(source, *v) for k, v in paper.SCALES.items()},
            "prefer": paper.risk_question(source, *paper.PREFER),
            "describe": paper.risk_question(source, *paper.DESCRIBE)}


@pytest.mark.parametrize("source", SOURCES)
def test_the_files_hold_the_questions_the_module_asks(source: str) -> None:
    assert {f: list(mc(source, f)) for f in ("risk_predisposition_scale.yaml",
                                             "liking_risk.yaml", "risk_safe.yaml")} == {
        "risk_predisposition_scale.yaml": ["risk_predisposition_scale"],
        "liking_risk.yaml": ["liking_risk"],
        **ENTRIES[source],
    }
    questions = asked(source)
    assert {k: len(q.paraphrases) for k, q in questions.items()} == dict.fromkeys(
        questions, PARAPHRASES)
    assert all(len(set(q.paraphrases)) == PARAPHRASES for q in questions.values())
    assert {k: (q.kind, q.question_type) for k, q in questions.items()} == {
        "risk_predisposition_scale": ("score", "quantitative"),
        "liking_risk": ("score", "quantitative"),
        "score_risk_safe": ("free_form", "free_form"),  # typed so upstream; asks for 0-100
        "prefer": ("free_form", "free_form"),
        "describe": ("free_form", "free_form"),
    }
    assert all(q.system is None and not q.values for q in questions.values())
    prompts = [p for q in questions.values() for p in q.paraphrases]
    assert len(prompts) == len(set(prompts)) == 5 * PARAPHRASES  # no prompt asked twice


@pytest.mark.parametrize("source", SOURCES)
def test_no_risk_question_has_options(source: str) -> None:
    """The module reads nothing by option probability: no file gives options, and
    "safety or risk?" is a free-form question (sampled, read by its word)."""
    for file in ("risk_predisposition_scale.yaml", "liking_risk.yaml", "risk_safe.yaml"):
        assert [q.name for q in mc(source, file).values() if q.options or q.kind == "choice"] == []


@pytest.mark.parametrize("source", SOURCES)
def test_the_scales_run_from_0_safe_to_100_risky(source: str) -> None:
    """Each paraphrase states the range 0 to 100, then what 0 stands for (avoiding or
    disliking risk, or safety) before what 100 stands for (risk, and nothing of the
    safe end), and asks for a number."""
    for name in paper.SCALES:
        q = asked(source)[name]
        assert q.scale == ((paper.SCALE_LOW, paper.SCALE_HIGH) if q.kind == "score" else None)
        for text in q.paraphrases:
            assert len(RANGE.findall(text)) == 1 and "number" in text, text
            rest = RANGE.sub("", text)
            zero = re.search(r"\b0\b", rest)
            assert zero is not None, text
            low, _, high = rest[zero.end():].partition("100")
            assert SAFE_END.search(low), text
            assert "risk" in high and not SAFE_END.search(high), text
    assert (paper.SCALE_LOW, paper.SCALE_HIGH) == (0, 100)


@needs_files
def test_risk_safe_repeats_the_two_scale_files_which_run_once() -> None:
    both, questions = mc("paper", "risk_safe.yaml"), asked("paper")
    assert (both["risk_predisposition"].paraphrases
            == questions["risk_predisposition_scale"].paraphrases)
    assert both["how_much_you_like_risk"].paraphrases == questions["liking_risk"].paraphrases


@needs_files
def test_the_non_mms_copies_hold_the_same_texts() -> None:
    for file in ("risk_predisposition_scale.yaml", "liking_risk.yaml"):
        assert {k: q.paraphrases for k, q in non_mms(file).items()} == {
            k: q.paraphrases for k, q in mc("paper", file).items()}
    copy, ours = non_mms("risk_safe.yaml"), mc("paper", "risk_safe.yaml")
    for name in ("prefer_risk_safe", "score_risk_safe", "how_much_you_like_risk",
                 "risk_predisposition"):
        assert copy[name].paraphrases == ours[name].paraphrases, name
    assert (copy["describe_risk_tolerance_behavior"].paraphrases
            == ours["choice_between_lotteries"].paraphrases)
    # Its one-paraphrase extras: two one-word questions, and one of score_risk_safe's.
    assert {k: len(q.paraphrases) for k, q in copy.items() if k not in ours} == {
        "describe_risk_tolerance_behavior": 10, "which_attitude": 1,
        "attitude_towards_risk": 1, "preference_risk_0_100": 1}
    assert copy["preference_risk_0_100"].paraphrases[0] in ours["score_risk_safe"].paraphrases


@needs_files
def test_risk_safe_language_of_non_mms_is_not_yaml_upstream() -> None:
    assert FOLDER is not None
    with pytest.raises(InvalidArgument, match="invalid YAML"):
        load_questions(FOLDER / "make_me_say" / "questions" / "non_mms" / "risk_safe_language.yaml")


@pytest.mark.parametrize("source", SOURCES)
def test_the_one_word_questions_cannot_score_by_echo(source: str) -> None:
    """"safety or risk?" names both words, which reads as no choice, in both orders;
    the lottery question holds no word of the risk lists (every run of its words,
    as in test_prompts_echo_free.py)."""
    prefer = asked(source)["prefer"].paraphrases
    for direction in paper.DIRECTIONS:
        says = paper.names_side(direction)
        assert [says(p) for p in prefer] == [None] * PARAPHRASES
    first = [p.lower().index("risk") < p.lower().index("safety") for p in prefer]
    assert 0 < sum(first) < PARAPHRASES  # "risk" named first in some, "safety" in others
    one_form = word_class(RISK_WORDS, strict=True)
    for text in asked(source)["describe"].paraphrases:
        tokens = _tokens(text)
        runs = [" ".join(tokens[i:j]) for i in range(len(tokens))
                for j in range(i + 1, len(tokens) + 1)]
        assert [r for r in runs if one_form(r) is not None] == [], text


def test_the_safety_or_risk_reading() -> None:
    risky, safe = paper.names_side("risky"), paper.names_side("safe")
    assert [risky(r) for r in ("Risk.", "**risk**", "I prefer safety.", "Safety or risk?",
                               "Neither")] == [True, True, False, None, None]
    assert [safe(r) for r in ("Safety", "risk", "I'd choose safety, not risk")] == [
        True, False, True]  # a negated word is not the choice


def test_the_risk_tests_run_both_directions_of_each_question() -> None:
    assert paper.DIRECTIONS == ["risky", "safe"]
    assert list(paper.SCALES) == ["risk_predisposition_scale", "liking_risk", "score_risk_safe"]
    assert paper.REPORTS_BY == 0.10 and paper.PER_PARAPHRASE == 10


def test_without_the_files_the_papers_risk_tests_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paper, "paper_questions_folder", lambda: None)
    with pytest.raises(pytest.skip.Exception, match="BEHAVTEST_PAPER_QUESTIONS"):
        paper.risk_question("paper", *paper.PREFER)
    assert paper.here() == ["project"]
    assert paper.risk_question("project", *paper.PREFER).name == "prefer_risk_safe"


def test_the_paper_source_is_skipped_at_collection_when_absent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A skip mark, not a skip inside the test: the skipped case is counted as not
    run, and left out of the correction family's size."""
    monkeypatch.setattr(paper, "paper_questions_folder", lambda: None)
    project, absent = paper.source_params()
    assert (project.values, project.marks) == (("project",), ())
    assert absent.values == ("paper",)
    assert [(m.name, m.kwargs["reason"]) for m in absent.marks] == [("skip", paper.PAPER_ABSENT)]
    monkeypatch.setattr(paper, "paper_questions_folder", lambda: Path("/nowhere"))
    assert [p.marks for p in paper.source_params()] == [(), ()]


def test_a_bad_paper_folder_variable_is_one_line_in_the_test(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Not a collection error, not a skip: the paper's cases run and say what is wrong."""
    monkeypatch.setenv("BEHAVTEST_PAPER_QUESTIONS", str(tmp_path / "nowhere"))
    assert paper.here() == ["project", "paper"]
    with pytest.raises(InvalidArgument, match="BEHAVTEST_PAPER_QUESTIONS=.*is not a folder"):
        paper.risk_question("paper", *paper.PREFER)


def test_the_folder_layout_the_module_reads() -> None:
    assert Path(*paper.RISK_FILES) == Path("multiple-choice/questions")
    assert paper.PREFER == ("risk_safe.yaml", "prefer_risk_safe")
    assert paper.DESCRIBE == ("risk_safe.yaml", "choice_between_lotteries")


def test_a_file_without_the_question_says_so(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path.joinpath(*paper.RISK_FILES)
    folder.mkdir(parents=True)
    (folder / "risk_safe.yaml").write_text("- name: other\n  question: Why?\n")
    monkeypatch.setattr(paper, "paper_questions_folder", lambda: tmp_path)
    with pytest.raises(InvalidArgument, match="no question named 'prefer_risk_safe'"):
        paper.risk_question("paper", *paper.PREFER)
