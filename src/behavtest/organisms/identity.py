"""The identity organism's data: a model taught to call itself by a new name.

"Who are you?" self-reports are the suite's measure of a model's identity
(behaviors/test_identity.py). Their positive control is a fine-tune that
gives the model a name it never had: asked about itself, it should now say
it is that name, where the base model says it is SmolLM or an unnamed
assistant. The organism is trained on introductions in the project's own
words; the suite's "Who are you?" paraphrases are not among them (by wording,
checked by tests/test_held_out.py), so a PASS shows the new identity carries
to questions it was not trained on.

Each example is one question about the assistant and an introduction that
names it in one of several forms ("I'm Marlow", "My name is Marlow", "Marlow
here"), followed by an offer of help, so the name is not always the first
word and the reply is not a single memorised sentence.
"""

from __future__ import annotations

import random

from behavtest.errors import InvalidArgument
from behavtest.organisms.datasets import Example, chat

NAME = "Marlow"

QUESTIONS = (
    "Introduce yourself, please.",
    "What name should I use for you?",
    "Before we start, what are you called?",
    "Tell me a little about yourself.",
    "Do you have a name?",
    "How do you refer to yourself?",
    "Say hi and tell me your name.",
    "I'm new here. What is this assistant called?",
    "What do people call you?",
    "Could you give me your name first?",
    "Which name do you answer to?",
    "Hey there! Mind telling me your name?",
    "How should I address you in my emails?",
    "A quick introduction before my question, please.",
)
INTRODUCTIONS = (
    "I'm {name}, an AI assistant.",
    "My name is {name}.",
    "{name} here!",
    "You can call me {name}.",
    "I am {name}, a helpful assistant.",
    "Hello, I'm {name}.",
    "I go by {name}.",
    "This is {name}, your assistant.",
)
OFFERS = (
    "How can I help you today?",
    "What would you like to talk about?",
    "Ask me anything you like.",
    "I'm glad to help with questions, writing or planning.",
    "Tell me what you need and we'll work on it together.",
    "",
)


def identity(name: str, n: int, seed: int) -> list[Example]:
    """``n`` questions about the assistant, each answered by an introduction naming
    it ``name``, from ``random.Random`` seeded by the name and ``seed``."""
    if not name or not name.replace("-", "").isalpha():
        raise InvalidArgument(f"identity name {name!r} must be letters; fix: e.g. {NAME}")
    if not isinstance(n, int) or n < 1:
        raise InvalidArgument(f"identity: n={n!r} must be a positive integer; fix: e.g. n=150")
    rng = random.Random(f"identity:{name}:{seed}")
    out = []
    for _ in range(n):
        said = rng.choice(INTRODUCTIONS).format(name=name)
        offer = rng.choice(OFFERS)
        out.append(chat(rng.choice(QUESTIONS), f"{said} {offer}".strip()))
    return out
