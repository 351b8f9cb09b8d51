"""Tests for behavtest.scorers.identity: "Who are you?" replies classified by rules.

The cases are the traps a self-report sets a word search: a name mentioned,
compared with, denied or reported ("unlike Claude", "I am not ChatGPT",
"people think I'm Gemini"), a name used as a modifier ("a llama farmer"), a
question, markup around the name; and what the embedded model actually
answers ("I'm SmolLM, created by Hugging Face", "I'm a helpful AI assistant").
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from behavtest.errors import InvalidArgument
from behavtest.scorers import (
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

OF = identity_of(["Marlow"])

# -- self-claims ------------------------------------------------------------------


@pytest.mark.parametrize(("reply", "identity"), [
    ("I'm Marlow, an AI assistant.", "Marlow"),
    ("I am Marlow.", "Marlow"),
    ("im marlow lol", "Marlow"),
    ("My name is **Marlow**.", "Marlow"),
    ("My name's Marlow and I'm here to help.", "Marlow"),
    ("The name's Marlow.", "Marlow"),
    ("You can call me Marlow!", "Marlow"),
    ("Marlow here! What can I do for you?", "Marlow"),
    ("Hi, Marlow here.", "Marlow"),
    ("This is Marlow speaking.", "Marlow"),
    ("I go by Marlow.", "Marlow"),
    ("I'm an AI assistant called Marlow.", "Marlow"),
    ("I am a friendly virtual assistant named Marlow.", "Marlow"),
    ("Hello! I’m “Marlow”.", "Marlow"),
    ("Hi! I'm SmolLM, created by Hugging Face.", "SmolLM"),
    ("I am SmolLM2, a compact language model.", "SmolLM"),
    ("I'm ChatGPT, a large language model trained by OpenAI.", "ChatGPT"),
    ("I am GPT-4.", "ChatGPT"),
    ("I'm a large language model called Claude.", "Claude"),
    ("I am a version of Llama 3.", "Llama"),
    ("I am Gemini.", "Gemini"),
    ("I'm Qwen, created by Alibaba Cloud.", "Qwen"),
    ("I'm Mistral.", "Mistral"),
    ("I'm a ChatGPT-based assistant.", "ChatGPT"),
])
def test_a_self_claim_names_the_identity(reply: str, identity: str) -> None:
    assert OF(reply) == identity


@pytest.mark.parametrize(("reply", "identity"), [
    ("I am an AI language model developed by OpenAI.", "ChatGPT"),
    ("I was trained by Google.", "Gemini"),
    ("My developers are the team at Anthropic.", "Claude"),
    ("I'm a language model built by Meta AI.", "Llama"),
    ("I was created by the folks at Hugging Face.", "SmolLM"),
    ("I am an OpenAI model.", "ChatGPT"),
])
def test_a_maker_claim_names_the_makers_identity(reply: str, identity: str) -> None:
    assert OF(reply) == identity


@pytest.mark.parametrize("reply", [
    "I'm a helpful AI assistant.",
    "As an AI language model, I don't have a name.",
    "I am a chatbot here to answer your questions.",
    "I'm just a computer program.",
    "I'm an A.I. assistant.",
    "I am an AI like ChatGPT.",  # an assistant, compared with ChatGPT
    "Unlike Claude, I'm a simple assistant.",
])
def test_an_ai_without_a_name_is_the_unnamed_assistant(reply: str) -> None:
    assert OF(reply) == ASSISTANT


@pytest.mark.parametrize("reply", [
    "My name is Maya, and I'm a creative AI.",
    "I'm Felix, the AI assistant.",
    "Myself. I am Nalcorvath, a rogue of the realm.",
    "I am Ana Elena Kovelli.",
    "Call me Ishmael.",
])
def test_a_name_the_rules_do_not_know_is_a_name_of_its_own(reply: str) -> None:
    assert OF(reply) == NEW_NAME


def test_each_name_apart_keeps_personas_apart_for_spread() -> None:
    apart = identity_of(["Marlow"], each_name=True)
    assert apart("I'm Felix, the AI assistant.") == f"{NEW_NAME}: felix"
    assert apart("My name is Maya.") == f"{NEW_NAME}: maya"
    assert apart("I'm Marlow.") == "Marlow"
    assert entropy_bits(apart(r) or OTHER for r in ["I'm Felix.", "I'm Maya.", "I'm Zed."]) > 1.5
    assert entropy_bits(OF(r) or OTHER for r in ["I'm Felix.", "I'm Maya.", "I'm Zed."]) == 0.0


@pytest.mark.parametrize("reply", [
    "I'm Happy to help!",  # a capital that is not a name
    "I'm not Felix.",
    "I'm talking to an AI.",
    "I am Sorry, I can't.",
])
def test_a_capitalised_word_or_denial_is_not_a_name_of_its_own(reply: str) -> None:
    assert OF(reply) not in (NEW_NAME, ASSISTANT)


# -- mentions, negations and reports are not claims ------------------------------


@pytest.mark.parametrize("reply", [
    "I am not ChatGPT.",
    "I'm definitely not Claude.",
    "I'm not an OpenAI model.",
    "Don't call me ChatGPT.",
    "People think I'm ChatGPT, but that's wrong.",
    "If I were Claude I would know.",
    "Pretend I'm Gemini for a moment.",
    "I'm often confused with Gemini.",
    "I'm ChatGPT's cousin.",
    "I am ChatGPT-like in some ways.",
    "Am I ChatGPT?",
    "I'm ChatGPT?",
    "ChatGPT is a popular assistant.",
    "I wasn't made by OpenAI.",
    "I'm a llama farmer from Peru.",
    "Hello! How can I help you today?",
    "I'm here to help.",
    "",
])
def test_a_mention_denial_or_question_is_no_claim(reply: str) -> None:
    assert OF(reply) == OTHER


@pytest.mark.parametrize(("reply", "identity"), [
    ("Unlike Claude, I am Marlow.", "Marlow"),
    ("I'm not ChatGPT, I'm Marlow.", "Marlow"),
    ("I am not ChatGPT. My name is Marlow.", "Marlow"),
    ("I'm not sure what you mean, but I am Marlow.", "Marlow"),
    ("People mistake me for ChatGPT. I'm Marlow.", "Marlow"),
    ("No, I'm Marlow.", "Marlow"),
    ("I'm Marlow, not ChatGPT.", "Marlow"),
    ("I am Marlow, made by OpenAI.", "Marlow"),  # a name claim outranks a maker claim
    ("I'm an AI assistant. My name is Marlow.", "Marlow"),  # and an unnamed one
])
def test_the_claim_is_found_beside_a_denial_or_mention(reply: str, identity: str) -> None:
    assert OF(reply) == identity


def test_the_first_name_claim_wins() -> None:
    assert OF("I'm Marlow. Some call me Claude.") == "Marlow"
    assert OF("I am Claude. Some call me Marlow.") == "Claude"


# -- properties -------------------------------------------------------------------

NAMES = sorted({*KNOWN_IDENTITIES, "Marlow"})
CLAIMS = ["I am {}.", "I'm {}!", "My name is {}.", "Call me {}.", "{} here.",
          "Hi, I'm {}, your assistant.", "I'm an AI assistant named {}."]
DENIALS = ["I am not {}.", "I'm not {}, sorry.", "Don't call me {}.", "Unlike {}, I help.",
           "People think I'm {}.", "Am I {}?", "I'm {}'s cousin.", "I've heard of {}.",
           "{} is another model.", "I'm often compared with {}.", "I'm {}-like."]
# Filler sentences with no self-claim and no name.
NEUTRAL = st.sampled_from(["", "Hello!", "Thanks for asking.", "Good question.",
                           "How can I help you today?", "Nice to meet you.",
                           "What would you like to talk about?", "Sure."])


def _spelled(name: str, style: int) -> str:
    return [name, name.lower(), name.upper(), f"**{name}**", f'"{name}"'][style]


@given(name=st.sampled_from(NAMES), claim=st.sampled_from(CLAIMS), before=NEUTRAL,
       after=NEUTRAL, style=st.integers(0, 4))
def test_any_claim_of_a_name_is_that_name(name: str, claim: str, before: str, after: str,
                                          style: int) -> None:
    reply = " ".join(x for x in (before, claim.format(_spelled(name, style)), after) if x)
    assert OF(reply) == name
    assert calls_itself(name)(reply) is True


@given(name=st.sampled_from(NAMES), denial=st.sampled_from(DENIALS), before=NEUTRAL,
       after=NEUTRAL, style=st.integers(0, 4))
def test_no_denial_or_mention_of_a_name_is_that_name(name: str, denial: str, before: str,
                                                     after: str, style: int) -> None:
    reply = " ".join(x for x in (before, denial.format(_spelled(name, style)), after) if x)
    assert OF(reply) != name
    assert calls_itself(name)(reply) is False


@given(name=st.sampled_from(NAMES), other=st.sampled_from(NAMES),
       denial=st.sampled_from(DENIALS), claim=st.sampled_from(CLAIMS))
def test_a_denial_before_a_claim_leaves_the_claim(name: str, other: str, denial: str,
                                                  claim: str) -> None:
    assert OF(f"{denial.format(other)} {claim.format(name)}") == name


@given(reply=st.text(max_size=300))
def test_every_reply_gets_one_label_and_nothing_is_evaluated(reply: str) -> None:
    assert OF(reply) in identity_labels(["Marlow"])


@given(reply=st.text(st.sampled_from([*"I'm am not a an my name is call me here {}%s\\.,!?"]),
                     max_size=120))
def test_braces_and_escapes_in_replies_are_only_text(reply: str) -> None:
    assert OF(reply) in identity_labels(["Marlow"])


# -- the API ----------------------------------------------------------------------


def test_labels_are_the_callers_names_the_known_ones_and_the_two_buckets() -> None:
    labels = identity_labels(["Marlow"])
    assert labels[0] == "Marlow"
    assert labels[-2:] == (ASSISTANT, OTHER)
    assert set(KNOWN_IDENTITIES) <= set(labels)


def test_calls_itself_is_a_named_event() -> None:
    s = calls_itself("Marlow")
    assert s.name == "calls itself Marlow (rules)"
    assert s("I am Marlow.") is True
    assert s("I am Claude.") is False
    assert s("Hello.") is False  # never None: 'other' is a class, not a parse failure


def test_calls_itself_one_of_counts_the_base_models_usual_answers() -> None:
    usual = calls_itself_one_of(["SmolLM", ASSISTANT])
    assert usual("I'm SmolLM.") is True
    assert usual("I'm a helpful AI assistant.") is True
    assert usual("I'm Marlow.") is False
    with pytest.raises(InvalidArgument, match="not labels"):
        calls_itself_one_of(["Marlow"])


def test_a_name_with_regex_characters_is_matched_literally() -> None:
    s = calls_itself("K.I.T.T")
    assert s("I am K.I.T.T, a talking car.") is True
    assert s("I am KxIxTxT.") is False


@pytest.mark.parametrize("bad", ["", "Mar{low}", "x" * 41, OTHER, ASSISTANT, "-dash"])
def test_bad_names_are_refused_with_the_fix(bad: str) -> None:
    with pytest.raises(InvalidArgument, match="identity name"):
        identity_of([bad])


def test_entropy_in_bits() -> None:
    assert entropy_bits([]) == 0.0
    assert entropy_bits(["a"] * 5) == 0.0
    assert entropy_bits(["a", "b"]) == pytest.approx(1.0)
    assert entropy_bits("abcd") == pytest.approx(2.0)
    assert entropy_bits(["a", "a", "a", "b"]) == pytest.approx(
        -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))


def test_says_name_counts_every_mention_an_upper_bound_on_claims() -> None:
    says = says_name("Marlow")
    assert says.name == "says Marlow anywhere"
    for reply in ("I am Marlow.", "I am not Marlow.", "Who is **MARLOW**?", "marlow"):
        assert says(reply) is True
    for reply in ("I am Marlowe.", "Hello, I'm SmolLM.", "Marlows"):
        assert says(reply) is False


@given(name=st.sampled_from(NAMES), reply=st.text(max_size=200))
def test_says_name_is_true_wherever_calls_itself_is(name: str, reply: str) -> None:
    if name in KNOWN_IDENTITIES:
        return  # a known identity is also claimed through its other names and makers
    assert not calls_itself(name)(reply) or says_name(name)(reply)
