"""What travels between the engine and its clients, and how failures cross over.

Every message is JSON sent with ``Connection.send_bytes``/``recv_bytes``,
never pickle, so nothing a peer sends is executed even if the authkey leaks.
Requests and completions travel as plain lists of text and numbers.

A failure crosses as ``{"ok": false, "error": NAME, "message": LINE}``: the
client raises the class ``NAME`` stands for (behavtest's own errors keep
their class and one-line message; anything else becomes an
:class:`EngineError` naming it). An engine that cannot start says the same on
the last line of its log (``FAIL_PREFIX NAME LINE``), which the launcher
raises in the worker that started it.
"""

from __future__ import annotations

from typing import Any

from behavtest.errors import (
    BehavtestError,
    InvalidArgument,
    ModelNotFound,
    PrefillUnsupported,
    ProviderError,
    first_line,
)
from behavtest.providers.base import Completion, Messages, Request
from behavtest.settings import GenerationSettings

#: Bumped whenever a message changes; a client refuses an engine speaking another.
PROTOCOL = 3
#: The start of the last log line of an engine that could not start.
FAIL_PREFIX = "ERROR "


class EngineError(ProviderError):
    """The engine could not be started or reached, or failed a request."""


class EngineDied(EngineError):
    """The engine stopped while a client was connected."""


def encode_request(r: Request) -> list[Any]:
    return [encode_messages(r.messages), r.settings.as_dict(), r.seed]


def decode_request(raw: list[Any]) -> Request:
    messages, settings, seed = raw
    return Request(decode_messages(messages), GenerationSettings(**settings), int(seed))


def encode_messages(messages: Messages) -> list[list[str]]:
    return [list(m) for m in messages]


def decode_messages(raw: list[Any]) -> Messages:
    return tuple((str(role), str(content)) for role, content in raw)


def encode_completion(c: Completion) -> list[Any]:
    return [c.text, c.tokens, c.finish]


def decode_completion(raw: list[Any]) -> Completion:
    text, tokens, finish = raw
    return Completion(text=str(text), tokens=int(tokens), finish=str(finish))


_ERRORS: dict[str, type[BehavtestError]] = {
    "InvalidArgument": InvalidArgument,
    "PrefillUnsupported": PrefillUnsupported,
    "ModelNotFound": ModelNotFound,
    "EngineError": EngineError,
}


def error_class(name: str, default: type[BehavtestError] = EngineError) -> type[BehavtestError]:
    """The class an error reply or a failed start names (``default`` if unknown)."""
    return _ERRORS.get(name, default)


def error_reply(exc: BaseException) -> dict[str, Any]:
    """A failure as the client will raise it: behavtest's own errors keep their
    class and one-line message; anything else becomes an EngineError naming it."""
    name = type(exc).__name__
    if isinstance(exc, BehavtestError):
        return {"ok": False, "error": name if name in _ERRORS else "BehavtestError",
                "message": first_line(exc)}
    return {"ok": False, "error": "EngineError",
            "message": f"the model engine failed: {name}: {first_line(exc)}"}


def raise_reply(reply: dict[str, Any]) -> None:
    """Raise the error an ``ok: false`` reply carries."""
    cls = error_class(str(reply.get("error")), BehavtestError)
    raise cls(str(reply.get("message", "the model engine failed")))
