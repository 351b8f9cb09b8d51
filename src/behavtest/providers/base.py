"""The model protocol every provider implements, and the request/reply types.

A provider does three things: draw completions for a batch of requests (each
with its own seed), give the log-probability of short continuations (option
labels) after a prompt, and name itself by a fingerprint that changes when
its weights change. Everything else (caching, seeds, scoring) is above it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from behavtest.settings import GenerationSettings, cut_after_lines, lines_complete

Messages = tuple[tuple[str, str], ...]  # ((role, content), ...), hashable and JSON-able


def to_messages(prompt: str | Sequence[tuple[str, str]], system: str | None = None) -> Messages:
    """Normalise a user string or a (role, content) sequence into Messages."""
    if isinstance(prompt, str):
        msgs: list[tuple[str, str]] = [("user", prompt)]
    else:
        msgs = [(str(r), str(c)) for r, c in prompt]
    if system is not None:
        msgs = [("system", system), *[m for m in msgs if m[0] != "system"]]
    return tuple(msgs)


@dataclass(frozen=True)
class Request:
    """One completion to draw: the conversation, how to sample, and its seed."""

    messages: Messages
    settings: GenerationSettings
    seed: int


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int
    # "stop" (end of turn), "length" (max_tokens reached) or "lines" (cut once the
    # reply held settings.stop_after_lines complete lines)
    finish: str


def apply_cut(completion: Completion, settings: GenerationSettings) -> Completion:
    """A whole completion cut as ``settings.stop_after_lines`` asks, for providers
    that cannot stop there while drawing (API servers, the test double): the text
    is cut, ``finish`` says "lines", ``tokens`` stays what was drawn."""
    k = settings.stop_after_lines
    if not k or not lines_complete(completion.text, k):
        return completion
    return Completion(cut_after_lines(completion.text, k), completion.tokens, "lines")


DEFAULT_BATCH = 16


def batch_size_of(provider: object) -> int:
    """How many requests a provider takes per ``generate`` call to best effect:
    its ``batch_size`` attribute when it has one (local models: the forward
    batch; API clients: a few waves of concurrent calls), else 16. The model
    handle draws, and commits to the cache, in chunks of this size."""
    size = getattr(provider, "batch_size", DEFAULT_BATCH)
    return max(1, int(size)) if isinstance(size, int) else DEFAULT_BATCH


class StepDecoder(Protocol):
    """Step-by-step decoding, for providers that can (continuous batching).

    Rows are keyed by the caller. ``add`` prefills rows and lets them join;
    ``step`` runs one decode step for every row and returns those that
    finished; ``free`` slots may be filled between steps, best when at least
    ``refill_at`` are free.
    """

    @property
    def active(self) -> int: ...

    @property
    def free(self) -> int: ...

    @property
    def refill_at(self) -> int: ...

    def add(self, items: Sequence[tuple[Hashable, Request]]) -> None: ...

    def step(self) -> list[tuple[Hashable, Completion]]: ...


def decoder_of(provider: object, max_rows: int) -> StepDecoder | None:
    """The provider's step decoder for ``max_rows`` rows, if it offers one
    (a ``decoder(max_rows)`` method); None for providers that only ``generate``."""
    make = getattr(provider, "decoder", None)
    if make is None:
        return None
    decoder: StepDecoder = make(max_rows)
    return decoder


ReplyScorer = Callable[[Messages, Sequence[str]], list[float]]


def reply_scorer_of(provider: object) -> ReplyScorer | None:
    """The provider's ``reply_logprobs`` (log P(the whole reply is exactly this
    text, then end of turn), teacher-forced), or None when it cannot give it:
    an API cannot teacher-force, so scales are sampled there instead."""
    score = getattr(provider, "reply_logprobs", None)
    if score is None or not getattr(provider, "scores_replies", True):
        return None
    fn: ReplyScorer = score
    return fn


@runtime_checkable
class Provider(Protocol):
    """What a model backend must provide. Implementations import their SDKs lazily."""

    @property
    def name(self) -> str: ...

    def fingerprint(self) -> str:
        """Identity of the weights (and adapter): enters every cache key."""
        ...

    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        """One completion per request, in order; each drawn with its request's seed."""
        ...

    def continuation_logprobs(
        self, messages: Messages, continuations: Sequence[str]
    ) -> list[float]:
        """log P(continuation | messages, start of the assistant turn), per continuation,
        teacher-forced over all of its tokens (so multi-token options work)."""
        ...
