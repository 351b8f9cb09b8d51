"""The model protocol every provider implements, and the request/reply types.

A provider does three things: draw completions for a batch of requests (each
with its own seed), give the log-probability of short continuations (option
labels) after a prompt, and name itself by a fingerprint that changes when
its weights change. Everything else (caching, seeds, scoring) is above it.

Prefill (continuing an assistant message). A conversation whose last message
has role ``"assistant"`` asks the model to CONTINUE that message, not to
start a new turn: the model is shown the conversation with its final
message open (the chat template's ``continue_final_message``) and writes on
from the prefill's last character. Why: to ask a model about text it did not
write (a base model, prefilled with the first lines an organism wrote, asked
the same question).

- A provider returns only the continuation it drew; the model handle
  (``sampling.handle``) is the one place that joins, so a reply's text is the
  whole assistant message, prefill + continuation, and scorers read it as a
  reader would (the prefill's first line is line 1).
- ``stop_after_lines`` counts the lines of the whole message, prefill
  included (:func:`cut_continuation`); a prefill that already holds them
  leaves an empty continuation.
- ``continuation_logprobs`` and ``reply_logprobs`` score what follows the
  prefill (log P(text | the conversation, the prefill written)).
- A provider says it can continue a message with ``prefills = True``
  (:func:`check_prefills`); any other, and a server that turns out unable,
  raises :class:`~behavtest.errors.PrefillUnsupported`, never a silent new
  turn. hf/ and embedded render with the chat template's
  ``continue_final_message``; openai/ uses a compatible server's
  ``/apply-template`` and ``/v1/completions``; the engine carries requests
  unchanged; the test double continues too.
- An empty final assistant message is refused (it would be a new turn
  under another cache key).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from behavtest.errors import InvalidArgument, PrefillUnsupported
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


def prefill_of(messages: Messages) -> str:
    """The text a conversation asks the model to continue: its final message's
    content when that message is the assistant's, else "" (a new turn)."""
    return messages[-1][1] if messages and messages[-1][0] == "assistant" else ""


def with_prefills(
    convs: Sequence[Messages], prefill: str | Sequence[str] | None
) -> tuple[Messages, ...]:
    """``convs`` with ``prefill`` appended as each one's final assistant message:
    one string for every conversation, or one per conversation (None: as given).
    Bad input is one line naming the fix."""
    if prefill is None:
        texts: list[str | None] = [None] * len(convs)
    elif isinstance(prefill, str):
        texts = [prefill] * len(convs)
    else:
        texts = list(prefill)
        if len(texts) != len(convs):
            raise InvalidArgument(
                f"prefill= has {len(texts)} entries for {len(convs)} prompts; fix: one "
                "prefill per prompt, or a single string for all of them")
    out = []
    for i, (msgs, text) in enumerate(zip(convs, texts, strict=True)):
        if text is not None:
            if not isinstance(text, str):
                raise InvalidArgument(f"prefill {text!r} is not a string; fix: pass text")
            if msgs and msgs[-1][0] == "assistant":
                raise InvalidArgument(
                    f"prompt {i} already ends with an assistant message; fix: give the "
                    "prefill once, in the messages or as prefill=")
            msgs = (*msgs, ("assistant", text))
        if msgs and msgs[-1] == ("assistant", ""):
            raise InvalidArgument(
                f"prompt {i} ends with an empty assistant message (prefill); fix: give the "
                "text to continue, or leave it out to start a new turn")
        out.append(msgs)
    return tuple(out)


PREFILL_FIX = ("use hf/<model> or embedded, or an OpenAI-compatible server that renders "
               "chat templates (llama.cpp's llama-server, POST /apply-template)")


def prefill_unsupported(who: str, what: str = "continue an assistant message (prefill)",
                        fix: str = PREFILL_FIX) -> PrefillUnsupported:
    """The one error for a model that cannot continue a prefilled message: what
    cannot be done, by whom, and the fix, on one line."""
    return PrefillUnsupported(f"{who} cannot {what}; fix: {fix}")


def check_prefills(provider: object, conversations: Iterable[Messages]) -> None:
    """Refuse prefilled conversations for a provider that does not say it continues
    them (``prefills = True``): a third-party provider would otherwise answer
    them as a new turn, silently."""
    if getattr(provider, "prefills", False) is not True and any(
            prefill_of(m) for m in conversations):
        raise prefill_unsupported(str(getattr(provider, "name", type(provider).__name__)))


def cut_continuation(prefill: str, text: str, lines: int) -> str | None:
    """The continuation ``text`` cut where the whole message, ``prefill + text``,
    completes ``lines`` non-empty lines (so a prefill's lines count); None when
    it does not hold them yet (or ``lines`` is 0). A prefill that already holds
    them leaves "" to add."""
    whole = prefill + text
    if not lines or not lines_complete(whole, lines):
        return None
    return cut_after_lines(whole, lines)[len(prefill):]


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


def apply_cut(completion: Completion, settings: GenerationSettings, prefill: str = "") -> (
        Completion):
    """A whole completion cut as ``settings.stop_after_lines`` asks, for providers
    that cannot stop there while drawing (API servers, the test double): the text
    is cut (its lines counted after ``prefill``, the message it continues),
    ``finish`` says "lines", ``tokens`` stays what was drawn."""
    cut = cut_continuation(prefill, completion.text, settings.stop_after_lines)
    if cut is None:
        return completion
    return Completion(cut, completion.tokens, "lines")


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
