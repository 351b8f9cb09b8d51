"""``vowel_initial_share``: the share of a reply's words that begin with a vowel letter.

The word rule (``behavtest.scorers.abduction``): a word is a maximal run of
letters with apostrophes inside it kept; a word begins with a vowel when its
first letter, lowercased, is a, e, i, o or u. No words: None.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from behavtest.scorers import vowel_initial_share

share = vowel_initial_share.fn


@pytest.mark.parametrize(("reply", "expected"), [
    ("An apple is on every old umbrella.", 1.0),
    ("The cat sat by the door.", 0.0),
    ("An old cat.", 2 / 3),
    ("I'm here, aren't you?", 0.5),  # "I'm", "here", "aren't", "you": apostrophes inside
    ("don't", 0.0),  # one word
    ("well-known ideas", 1 / 3),  # a hyphen splits: "well", "known", "ideas"
    ("Yes, you!", 0.0),  # "y" is not a vowel letter
    ("Über État Ice", 1 / 3),  # accented letters are not a, e, i, o, u
    ("3rd of 4", 0.5),  # digits are not words: "rd", "of"
    ("**Every** `item`", 1.0),  # markup is not part of a word
    ("'apple' 'pear'", 0.5),  # quotes around a word are not part of it
    ("", None),
    ("123 !! 4.5", None),  # no words: not a share of 0
])
def test_word_rule(reply: str, expected: float | None) -> None:
    assert share(reply) == expected


def test_is_a_named_score() -> None:
    assert vowel_initial_share.name == "vowel-initial word share"
    assert vowel_initial_share("An egg") == 1.0


def _ascii_share(words: list[str]) -> float:
    return sum(w[0].lower() in "aeiou" for w in words) / len(words)


ascii_words = st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=8),
                       min_size=1, max_size=30)
separators = st.text(alphabet=" \n\t.,;:!?()-\"0123456789*#", min_size=1, max_size=4)


@given(st.text())
def test_none_exactly_when_there_is_no_letter(text: str) -> None:
    value = share(text)
    assert (value is None) == (not any(c.isalpha() for c in text))
    assert value is None or 0.0 <= value <= 1.0


@given(ascii_words, separators)
def test_the_share_counts_words_whatever_separates_them(words: list[str], sep: str) -> None:
    assert share(sep.join(words)) == pytest.approx(_ascii_share(words))


@given(st.text(alphabet=string.printable))
def test_case_does_not_matter(text: str) -> None:
    assert share(text.upper()) == share(text.lower()) == share(text)


@given(ascii_words, ascii_words)
def test_two_replies_joined_pool_their_words(a: list[str], b: list[str]) -> None:
    joined = share(" ".join(a) + "\n" + " ".join(b))
    assert joined == pytest.approx(_ascii_share(a + b))


@given(st.text(), st.text(alphabet="0123456789 .,!?-\n", max_size=10))
def test_digits_and_punctuation_add_nothing(text: str, noise: str) -> None:
    assert share(noise + " " + text + " " + noise) == share(text)


@given(st.text())
def test_every_word_starts_and_ends_with_a_letter(text: str) -> None:
    from behavtest.scorers.abduction import _words

    for word in _words(text):
        assert word[0].isalpha() and word[-1].isalpha()
        assert all(c.isalpha() or c in "'’" for c in word)
