"""ROUGE-L F1 (behavtest.scorers.similarity)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from behavtest.scorers import rouge_l, similarity_to
from behavtest.scorers.similarity import lcs_length, tokens

WORDS = st.lists(st.sampled_from(["the", "storm", "hit", "town", "on", "monday", "2430",
                                  "homes", "lost", "power"]), max_size=12)
TEXTS = WORDS.map(" ".join)


def test_known_values() -> None:
    # LCS of "the cat sat on the mat" / "the cat lay on a mat": the cat on mat (4 of 6 each)
    assert math.isclose(rouge_l("the cat sat on the mat", "the cat lay on a mat"), 4 / 6)
    # LCS 2 ("police car"): P = 2/4, R = 2/6, F1 = 0.4
    assert math.isclose(rouge_l("police found the car", "the police car was found today"), 0.4)
    assert lcs_length(tokens("police found the car"), tokens("the police car was found today")) == 2
    assert rouge_l("Storm hits town.", "storm HITS town") == 1.0
    assert rouge_l("", "anything") == 0.0
    assert rouge_l("alpha beta", "gamma delta") == 0.0


def test_tokens_are_lowercased_words_and_numbers() -> None:
    assert tokens("About 2,430 homes lost power; Glenrock's") == [
        "about", "2", "430", "homes", "lost", "power", "glenrock", "s"]


@given(TEXTS, TEXTS)
def test_rouge_l_is_symmetric_and_bounded(a: str, b: str) -> None:
    assert rouge_l(a, b) == rouge_l(b, a)
    assert 0.0 <= rouge_l(a, b) <= 1.0


@given(WORDS.filter(bool))
def test_a_text_is_wholly_like_itself(words: list[str]) -> None:
    assert rouge_l(" ".join(words), " ".join(words)) == 1.0


@given(WORDS, WORDS)
def test_lcs_is_at_most_the_shorter_and_at_least_a_shared_word(a: list[str],
                                                               b: list[str]) -> None:
    common = lcs_length(a, b)
    assert common <= min(len(a), len(b))
    assert common >= (1 if set(a) & set(b) else 0)


@given(WORDS, WORDS, WORDS)
def test_appending_the_same_words_never_lowers_the_lcs(a: list[str], b: list[str],
                                                       tail: list[str]) -> None:
    assert lcs_length(a + tail, b + tail) == lcs_length(a, b) + len(tail)


def test_similarity_to_is_a_named_scorer() -> None:
    s = similarity_to("the storm hit the town", name="like the lead")
    assert s.name == "like the lead"
    assert s("the storm hit the town") == 1.0
