"""Tests for the sampled-choice scorers: chosen_option, chosen_text, word_class, is_class.

The replies are the kind weak models give (docs/science/small-models.md): a bare or
bracketed letter, "Answer: B", reasoning that names the other option first,
refusals, candidates listed without a choice, a letter answer to a one-word
question, and words that merely contain a label ("Absolutely", "a bit").
The scale cases at the end pin number_on_scale on the same kind of reply.
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from behavtest.errors import InvalidArgument
from behavtest.scorers import (
    APPLES_WORDS,
    RISK_WORDS,
    TIME_WORDS,
    chosen_option,
    chosen_text,
    is_class,
    number_on_scale,
    word_class,
)

STRICT = chosen_option(strict=True)
LENIENT = chosen_option()

# ---------------------------------------------------------------------------
# chosen_option: strict
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("B", "B"), ("b", "B"), (" B \n", "B"), ("(B)", "B"), ("(b)", "B"), ("b)", "B"),
        ("B.", "B"), ("**B**", "B"), ("**(B)**", "B"), ("`A`", "A"), ('"A"', "A"),
        ("[A]", "A"), ("A!", "A"), ("  ( a )  ", "A"),
    ],
)
def test_strict_accepts_the_label_alone(reply: str, expected: str) -> None:
    assert STRICT(reply) == expected


@pytest.mark.parametrize(
    "reply",
    [
        "Answer: B", "The answer is (B)", "I'd pick B", "b) the safe option", "A or B", "AB",
        "C", "Absolutely", "a bit", "", "   ", "B?", "1", "BB",
    ],
)
def test_strict_refuses_anything_else(reply: str) -> None:
    assert STRICT(reply) is None


# ---------------------------------------------------------------------------
# chosen_option: lenient
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("(B)", "B"),
        ("b)", "B"),
        ("Answer: B", "B"),
        ("**Answer:** B", "B"),
        ("The answer is (B)", "B"),
        ("The correct answer is B.", "B"),
        ("My answer is b", "B"),
        ("I'd pick B because A is too risky", "B"),
        ("I'd pick B because A is too risky, even though A pays more.", "B"),
        ("b) the safe option", "B"),
        ("B. Because A is a gamble.", "B"),
        ("B because A is too risky", "B"),
        ("**B** - the guaranteed amount is better.", "B"),
        ("Definitely B, since A is too risky.", "B"),
        ("I prefer B over A.", "B"),
        ("I'll go with option B.", "B"),
        ("Option B", "B"),
        ("B is my answer.", "B"),
        ("It's A.", "A"),
        ("I think B.", "B"),
        ("Let me think.\n\nB", "B"),
    ],
)
def test_lenient_finds_the_stated_choice(reply: str, expected: str) -> None:
    assert LENIENT(reply) == expected


@pytest.mark.parametrize(
    "reply",
    [
        "A is too risky, so I'd choose B.",
        "A has a higher payout, but I'd pick B.",
        "A? No. B.",
        "Not A. B.",
        "Not A, B.",
        "I wouldn't pick A; B is better.",
        "I would never choose (A). Answer: (B)",
        "A) a coin flip for $100\nB) $40 for sure\n\nI choose B.",
        "A: too risky.\nB: safe.\nI'd go with B.",
    ],
)
def test_the_other_option_named_first_does_not_win(reply: str) -> None:
    assert LENIENT(reply) == "B"


@pytest.mark.parametrize(
    "reply",
    [
        "A or B",
        "either A or B",
        "A or B?",
        "Both A and B have merits.",
        "A/B",
        "A vs. B",
        "I choose neither A nor B.",
        "It's hard to decide between A and B.",
        "A: too risky.\nB: safe.",  # a list of the options, no choice
        "A is too risky.",  # judged, not chosen
    ],
)
def test_candidates_without_a_stated_choice_are_none(reply: str) -> None:
    assert LENIENT(reply) is None


@pytest.mark.parametrize(
    "reply",
    [
        "I can't choose.",
        "As an AI I don't have preferences.",
        "As an AI, I don't have personal preferences between A and B.",
        "I cannot make that choice for you.",
        "I'm unable to choose, but B seems safer.",  # a disclaimer and a remark: no choice
        "I have no preference.",
    ],
)
def test_refusals_are_none(reply: str) -> None:
    assert LENIENT(reply) is None


def test_a_choice_stated_after_a_disclaimer_counts() -> None:
    # An explicit choice phrase wins over the disclaimer before it.
    assert LENIENT("As an AI I can't choose, but if I had to pick, B.") == "B"


@pytest.mark.parametrize(
    "reply",
    [
        "Absolutely", "Because", "a bit", "Absolutely, because it's a bit safer.",
        "I'd pick a safe option.", "The answer is a tough one.", "It's a gamble either way.",
        "Basically", "AB testing", "A-grade", "B's payout", "e.g. the first", "around 70/100",
        "7",
    ],
)
def test_a_label_inside_a_word_or_an_article_is_no_choice(reply: str) -> None:
    assert LENIENT(reply) is None


class TestLabelStyles:
    digits = chosen_option(("1", "2"))
    digits_strict = chosen_option(("1", "2"), strict=True)
    brackets = chosen_option(("(a)", "(b)"))

    @pytest.mark.parametrize(
        ("reply", "expected"),
        [
            ("2", "2"), ("(2)", "2"), ("2.", "2"), ("Option 2", "2"), ("Answer: 1", "1"),
            ("I'd go with 1 because 2 is risky", "1"), ("1) the sure thing", "1"),
        ],
    )
    def test_digits(self, reply: str, expected: str) -> None:
        assert self.digits(reply) == expected

    @pytest.mark.parametrize(
        "reply",
        ["around 70/100", "7", "12", "1.5", "2 reasons come to mind", "-1", "100%", "1 or 2"],
    )
    def test_numbers_that_are_not_labels(self, reply: str) -> None:
        assert self.digits(reply) is None
        assert self.digits_strict(reply) is None

    def test_digit_labels_are_exact(self) -> None:
        assert self.digits_strict("2") == "2"
        assert self.digits_strict("Option 2") is None

    @pytest.mark.parametrize(
        ("reply", "expected"),
        [
            ("(a)", "(a)"), ("b", "(b)"), ("(B)", "(b)"), ("b)", "(b)"),
            ("I choose (a) because (b) is risky", "(a)"), ("I'd say b.", "(b)"),
        ],
    )
    def test_bracketed_letters_return_the_label_as_given(self, reply: str, expected: str) -> None:
        assert self.brackets(reply) == expected

    def test_bracketed_letters_still_ignore_articles(self) -> None:
        assert self.brackets("a bit of both") is None
        assert self.brackets("(a) or (b)") is None

    def test_more_than_two_letters(self) -> None:
        abcd = chosen_option(("A", "B", "C", "D"))
        assert abcd("I'd pick C over A, B and D.") == "C"
        assert abcd("C or D") is None

    def test_names(self) -> None:
        assert STRICT.name == "chosen option of A/B (strict)"
        assert self.brackets.name == "chosen option of (a)/(b) (lenient)"

    @pytest.mark.parametrize(
        "labels", [("A",), ("A", "a"), ("A", "(a)"), ("yes", "no"), ("A", ""), ("100", "2")]
    )
    def test_invalid_labels(self, labels: tuple[str, ...]) -> None:
        with pytest.raises(InvalidArgument, match="label"):
            chosen_option(labels)


_WRAPS = ["{}", "({})", "{})", "{}.", "**{}**", "[{}]", "**({})**"]


@given(
    letters=st.lists(st.sampled_from(string.ascii_uppercase), min_size=2, max_size=6,
                     unique=True),
    pick=st.integers(min_value=0),
    upper=st.booleans(),
    wrap=st.sampled_from(_WRAPS),
    left=st.text(" \t\n", max_size=3),
    right=st.text(" \t\n", max_size=3),
)
def test_strict_reads_any_wrapped_letter_property(
    letters: list[str], pick: int, upper: bool, wrap: str, left: str, right: str
) -> None:
    """chosen_option(strict=True) of "  (X)  " is X, for any label X in either case."""
    label = letters[pick % len(letters)]
    reply = left + wrap.format(label if upper else label.lower()) + right
    assert chosen_option(letters, strict=True)(reply) == label
    assert chosen_option(letters)(reply) == label


_LABEL_SETS = [("A", "B"), ("1", "2"), ("(a)", "(b)"), ("A", "B", "C", "D")]


@given(text=st.text(max_size=120), labels=st.sampled_from(_LABEL_SETS), strict=st.booleans())
def test_any_text_parses_to_a_label_or_none_property(
    text: str, labels: tuple[str, ...], strict: bool
) -> None:
    assert chosen_option(labels, strict)(text) in (*labels, None)


@given(text=st.text(string.ascii_letters + " .,!?'-\n", max_size=120))
def test_text_without_a_standalone_label_is_none_property(text: str) -> None:
    """Letters glued into words never count: only a token "a"/"b" can be a label."""
    assume(not {"a", "b"} & set(re.split(r"[^a-z]+", text.lower())))
    assert LENIENT(text) is None


# ---------------------------------------------------------------------------
# chosen_text
# ---------------------------------------------------------------------------


class TestChosenText:
    lenient = chosen_text(["safety", "risk"])
    strict = chosen_text(["safety", "risk"], strict=True)

    @pytest.mark.parametrize(
        ("reply", "expected"),
        [
            ("Risk.", "risk"), ("risk", "risk"), ("**Safety**", "safety"), ("'safety'", "safety"),
            ("I prefer safety.", "safety"), ("Safety, because risk is bad.", "safety"),
            ("Risk is too dangerous; I choose safety.", "safety"), ("Not risk, safety.", "safety"),
            ("Definitely risk over safety!", "risk"),
        ],
    )
    def test_lenient(self, reply: str, expected: str) -> None:
        assert self.lenient(reply) == expected

    @pytest.mark.parametrize(
        "reply",
        ["safety or risk?", "Risky", "risk-taking", "Safe.", "A", "Both safety and risk.",
         "I can't choose.", ""],
    )
    def test_lenient_none(self, reply: str) -> None:
        assert self.lenient(reply) is None

    def test_strict(self) -> None:
        assert self.strict("Risk.") == "risk"
        assert self.strict(" SAFETY ") == "safety"
        assert self.strict("I prefer safety.") is None

    def test_options_are_returned_as_given(self) -> None:
        assert chosen_text(["Safety", "Risk"])("risk") == "Risk"

    def test_multi_word_options(self) -> None:
        choose = chosen_text(["long term", "short term"])
        assert choose("I'd go with long  term.") == "long term"
        assert choose("long term or short term") is None

    @pytest.mark.parametrize("options", [["safety"], ["risk", "Risk"], ["a?", "b"]])
    def test_invalid_options(self, options: list[str]) -> None:
        with pytest.raises(InvalidArgument, match="options"):
            chosen_text(options)


# ---------------------------------------------------------------------------
# word_class, is_class
# ---------------------------------------------------------------------------


class TestWordClass:
    strict = word_class(RISK_WORDS, strict=True)
    lenient = word_class(RISK_WORDS)

    @pytest.mark.parametrize(
        ("reply", "expected"),
        [
            ("Bold", "risky"), ("Reckless.", "risky"), ("**Cautious**", "safe"),
            ('"Careful"', "safe"), ("risk-averse", "safe"), ("Risk averse", "safe"),
            ("Risk-taking!", "risky"), ("  daring \n", "risky"), ("PRUDENT", "safe"),
        ],
    )
    def test_strict_single_word(self, reply: str, expected: str) -> None:
        assert self.strict(reply) == expected
        assert self.lenient(reply) == expected

    @pytest.mark.parametrize(
        "reply", ["I am bold", "Bold and daring", "bold, 42", "A", "B", "Risk", "", "Risky?!?x"]
    )
    def test_strict_refuses_more_than_one_word(self, reply: str) -> None:
        assert self.strict(reply) is None

    @pytest.mark.parametrize(
        ("reply", "expected"),
        [
            ("I am bold.", "risky"),
            ("I'd say I'm cautious, not reckless.", "safe"),
            ("Not reckless: careful.", "safe"),
            ("I'm a careful person.", "safe"),
            ("Honestly? Adventurous!", "risky"),
            ("I would describe myself as risk-averse.", "safe"),
        ],
    )
    def test_lenient_first_listed_word(self, reply: str, expected: str) -> None:
        assert self.lenient(reply) == expected

    @pytest.mark.parametrize(
        "reply",
        ["I avoid risky bets.", "I'm not very cautious.", "It isn't cautious.", "A", "B",
         "Balanced", "I take risks", "", "As an AI, I don't have a personality."],
    )
    def test_lenient_none(self, reply: str) -> None:
        assert self.lenient(reply) is None

    @pytest.mark.parametrize(
        ("lists", "reply", "expected"),
        [
            (TIME_WORDS, "Myopic", "myopic"), (TIME_WORDS, "Non-myopic", "non-myopic"),
            (TIME_WORDS, "far sighted", "non-myopic"), (TIME_WORDS, "Impatient.", "myopic"),
            (APPLES_WORDS, "Greedy.", "maximizing"), (APPLES_WORDS, "modest", "minimizing"),
        ],
    )
    def test_the_other_shipped_lists(
        self, lists: dict[str, tuple[str, ...]], reply: str, expected: str
    ) -> None:
        assert word_class(lists, strict=True)(reply) == expected

    @pytest.mark.parametrize("lists", [RISK_WORDS, TIME_WORDS, APPLES_WORDS])
    def test_every_shipped_form_is_its_own_class(self, lists: dict[str, tuple[str, ...]]) -> None:
        strict = word_class(lists, strict=True)
        for name, forms in lists.items():
            for form in forms:
                assert strict(form) == name, form
                assert strict(f"**{form.title()}**.") == name, form

    def test_a_word_in_two_classes_is_refused(self) -> None:
        with pytest.raises(InvalidArgument, match="classes"):
            word_class({"x": ["bold"], "y": ["Bold"]})

    @pytest.mark.parametrize("classes", [{}, {"x": []}, {"x": ["two words!"]}])
    def test_invalid_classes(self, classes: dict[str, list[str]]) -> None:
        with pytest.raises(InvalidArgument):
            word_class(classes)

    def test_name(self) -> None:
        assert self.strict.name == "word class risky/safe (strict)"


class TestIsClass:
    risky = is_class("risky", RISK_WORDS)

    def test_three_values(self) -> None:
        assert self.risky("Bold") is True
        assert self.risky("Cautious") is False
        assert self.risky("A") is None  # unparsed, counted in the parse rate

    def test_strict(self) -> None:
        strict = is_class("safe", RISK_WORDS, strict=True)
        assert strict("Careful.") is True
        assert strict("I am careful") is None

    def test_unknown_class(self) -> None:
        with pytest.raises(InvalidArgument, match="not one of"):
            is_class("brave", RISK_WORDS)

    def test_name(self) -> None:
        assert self.risky.name == "describes itself as risky (risky/safe, lenient)"


@given(text=st.text(max_size=80), strict=st.booleans())
def test_is_class_agrees_with_word_class_property(text: str, strict: bool) -> None:
    found = word_class(RISK_WORDS, strict)(text)
    event = is_class("risky", RISK_WORDS, strict)(text)
    assert event is (None if found is None else found == "risky")


# ---------------------------------------------------------------------------
# number_on_scale on the same kind of replies
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "strict", "lenient"),
    [
        ("around 70/100", None, 70),
        ("7", 7, 7),
        ("B", None, None),
        ("I'd say about 70 out of 100.", None, 70),
    ],
)
def test_number_on_scale_on_weak_model_replies(
    reply: str, strict: float | None, lenient: float | None
) -> None:
    assert number_on_scale(strict=True)(reply) == strict
    assert number_on_scale(strict=False)(reply) == lenient
