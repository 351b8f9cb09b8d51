"""Prefill over an OpenAI-compatible server: continuing a final assistant message.

The chat endpoint cannot continue a message: whatever the last message, it
renders the conversation and opens a new assistant turn. A server that
exposes its own chat template can: llama.cpp's ``llama-server`` renders a
conversation to text with ``POST /apply-template`` (at the server's root, not
under ``/v1``; it answers ``{"prompt": ...}`` and runs no inference). The
conversation without its final message is rendered there, with the
generation prompt (the endpoint's default), the prefill is appended, and the
text is completed raw through ``POST /v1/completions``. The model is thus
asked exactly what the hf/ provider asks it (``continue_final_message``),
rendered by the template the server serves the model with.

A server without the endpoint (the OpenAI API, llama-cpp-python's server,
vLLM) answers 404, 405 or 501: that is :class:`~behavtest.errors.PrefillUnsupported`
with the fix, never a silent new turn. The first request probes without
retries (a 501 is not worth the client's backoff); the answer is remembered.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from behavtest.errors import PrefillUnsupported
from behavtest.providers.base import Completion, Messages, prefill_unsupported
from behavtest.providers.openai.config import where

TEMPLATE_PATH = "/apply-template"
CANNOT = frozenset({404, 405, 501})  # statuses of a server that has no such endpoint


def template_url(base_url: str) -> str:
    """``POST /apply-template`` at the server's root: the base URL without a
    trailing ``/v1`` (``http://host:8080/v1`` -> ``http://host:8080/apply-template``)."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urlunsplit((parts.scheme, parts.netloc, path + TEMPLATE_PATH, "", ""))


def cannot_prefill(base_url: str, official: bool, status: int | None = None) -> (
        PrefillUnsupported):
    """The one error for a server that cannot continue an assistant message."""
    if official:
        who = f"the OpenAI chat API ({where(base_url)})"
    else:
        who = f"{where(base_url)} (its {TEMPLATE_PATH} answered {status})"
    return prefill_unsupported(who)


def template_body(messages: Messages) -> dict[str, Any]:
    """The ``/apply-template`` request for a prefilled conversation: every message
    but the final (assistant) one, with the generation prompt."""
    return {"messages": [{"role": r, "content": c} for r, c in messages[:-1]],
            "add_generation_prompt": True}


def rendered_prompt(answer: Any) -> str | None:
    """The prompt text of an ``/apply-template`` answer (None if it has none)."""
    prompt = answer.get("prompt") if isinstance(answer, dict) else None
    return prompt if isinstance(prompt, str) and prompt else None


def completion_params(chat_params: dict[str, Any], prompt: str) -> dict[str, Any]:
    """``/v1/completions`` parameters for a raw prompt: those a chat request for
    the same draw would send, with the text in place of the messages."""
    params = {k: v for k, v in chat_params.items() if k != "messages"}
    if "max_completion_tokens" in params:  # completions know only max_tokens
        params["max_tokens"] = params.pop("max_completion_tokens")
    params["prompt"] = prompt
    return params


def read_completion(reply: Any) -> Completion:
    """A text completion's continuation, tokens and finish."""
    choice = reply.choices[0]
    usage = getattr(reply, "usage", None)
    return Completion(
        text=str(getattr(choice, "text", None) or ""),
        tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        finish="length" if choice.finish_reason == "length" else "stop",
    )
