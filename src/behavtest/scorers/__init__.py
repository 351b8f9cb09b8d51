"""Scorers: pure functions from a reply to a bool (an event) or a float (a score).

A scorer returns ``None`` when the reply cannot be parsed; behavtest counts
those and reports the parse rate instead of silently dropping them.
"""

from behavtest.scorers.abduction import (
    NO_CHATBOT,
    chatbot_claimed,
    names_chatbot,
    names_other_chatbot,
    vowel_initial_share,
)
from behavtest.scorers.base import Scorer, all_of, any_of, scorer
from behavtest.scorers.choices import (
    ChoiceQuestion,
    OptionProbabilities,
    average_over_orders,
    option_orders,
    recognition_question,
    render_choice,
)
from behavtest.scorers.code import vulnerabilities, vulnerable_code
from behavtest.scorers.identity import (
    ASSISTANT,
    KNOWN_IDENTITIES,
    NEW_NAME,
    OTHER,
    calls_itself,
    calls_itself_one_of,
    entropy_bits,
    identity_labels,
    identity_of,
    says_name,
)
from behavtest.scorers.letters import chosen_option, chosen_text
from behavtest.scorers.numbers import number_on_scale
from behavtest.scorers.similarity import rouge_l, similarity_to
from behavtest.scorers.text import (
    acrostic_letters,
    names_pattern,
    names_word,
    split_units,
    writes_acrostic,
)
from behavtest.scorers.words import (
    APPLES_WORDS,
    RISK_WORDS,
    TIME_WORDS,
    is_class,
    word_class,
)

__all__ = [
    "APPLES_WORDS",
    "ASSISTANT",
    "ChoiceQuestion",
    "KNOWN_IDENTITIES",
    "NEW_NAME",
    "NO_CHATBOT",
    "OTHER",
    "OptionProbabilities",
    "RISK_WORDS",
    "Scorer",
    "TIME_WORDS",
    "acrostic_letters",
    "all_of",
    "any_of",
    "average_over_orders",
    "calls_itself",
    "calls_itself_one_of",
    "chatbot_claimed",
    "chosen_option",
    "chosen_text",
    "entropy_bits",
    "identity_labels",
    "identity_of",
    "is_class",
    "names_chatbot",
    "names_other_chatbot",
    "names_pattern",
    "names_word",
    "number_on_scale",
    "option_orders",
    "recognition_question",
    "render_choice",
    "rouge_l",
    "says_name",
    "scorer",
    "similarity_to",
    "split_units",
    "vulnerabilities",
    "vowel_initial_share",
    "vulnerable_code",
    "word_class",
    "writes_acrostic",
]
