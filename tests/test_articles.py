"""The generated news articles and the lead summary (behavtest.questions.articles)."""

from __future__ import annotations

import re
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from behavtest.errors import InvalidArgument
from behavtest.questions.articles import (
    EVENTS,
    MAX_SENTENCES,
    MIN_SENTENCES,
    Article,
    article,
    articles,
    lead_summary,
)
from behavtest.scorers import rouge_l
from behavtest.scorers.similarity import tokens

SEEDS = st.integers(min_value=0, max_value=2**32)
INDICES = st.integers(min_value=0, max_value=10_000)


@given(SEEDS, INDICES)
def test_an_article_is_the_same_every_time(seed: int, index: int) -> None:
    assert article(index, seed) == article(index, seed)


@given(SEEDS, st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=30))
def test_a_shorter_list_is_a_prefix_of_a_longer_one(seed: int, n: int, more: int) -> None:
    assert articles(n + more, seed)[:n] == articles(n, seed)


@given(SEEDS, INDICES)
def test_every_article_has_a_title_and_five_to_eight_filled_sentences(seed: int,
                                                                      index: int) -> None:
    a = article(index, seed)
    assert a.title and a.kind in EVENTS
    assert MIN_SENTENCES <= len(a.sentences) <= MAX_SENTENCES
    assert all(s.endswith(".") for s in a.sentences)
    assert "{" not in a.text + a.title, "a slot was left unfilled"


def test_articles_are_varied() -> None:
    items = articles(40)
    assert len({a.kind for a in items}) == len(EVENTS)
    assert len({a.text for a in items}) == 40
    # Two articles of one kind share their sentence frames and differ in names,
    # places, numbers and the details kept; articles of two kinds share little.
    pairs = list(combinations(items, 2))
    assert all(len(set(tokens(a.text)) ^ set(tokens(b.text))) >= 6
               for a, b in pairs if a.kind == b.kind)
    assert max(rouge_l(lead_summary(a), lead_summary(b)) for a, b in pairs
               if a.kind != b.kind) < 0.5
    assert len({n for a in items for n in re.findall(r"\d+", a.text)}) > 60


def test_seeds_give_other_articles() -> None:
    assert [a.title for a in articles(10, 0)] != [a.title for a in articles(10, 1)]


@given(SEEDS, INDICES)
def test_the_lead_is_the_first_two_sentences(seed: int, index: int) -> None:
    a = article(index, seed)
    assert lead_summary(a) == f"{a.sentences[0]} {a.sentences[1]}"
    assert lead_summary(a.text) == lead_summary(a)
    assert lead_summary(a, 3).startswith(lead_summary(a))
    assert a.text.startswith(lead_summary(a))


def test_the_lead_of_plain_text_splits_on_sentence_ends() -> None:
    assert lead_summary("One! Two? Three. Four.") == "One! Two?"
    assert lead_summary("  Only one sentence.  ") == "Only one sentence."


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="at least one article"):
        articles(0)
    with pytest.raises(InvalidArgument, match="keep at least one"):
        lead_summary(Article("t", ("a.", "b."), "storm"), 0)
