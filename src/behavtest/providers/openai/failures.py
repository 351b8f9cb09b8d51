"""What can go wrong talking to the server, told in one scrubbed line.

The ``openai`` client retries what should be retried (see the package
docstring); whatever error it still raises reaches :func:`translate`, which
turns it into a :class:`~behavtest.errors.ProviderError` (or a
:class:`~behavtest.errors.ModelNotFound` for a 404) naming the server, the
problem and the fix. The client's exception is never chained: it carries the
request's headers, the key among them.
"""

from __future__ import annotations

from typing import Any

from behavtest.errors import BehavtestError, ModelNotFound, ProviderError, first_line
from behavtest.providers.openai.config import scrub, where


class APIRequestFailed(ProviderError):
    """The server refused or failed a request in a way a retry cannot fix."""


class LogprobsUnavailable(ProviderError):
    """The server returns no token log-probabilities, and no fallback was chosen."""


def server_detail(exc: BaseException) -> str:
    """The server's own error message (else the exception's first line), on one
    line, scrubbed and then shortened (so no cut can leave part of a key)."""
    body = getattr(exc, "body", None)
    msg: Any = None
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
    text = " ".join(str(msg).split()) if msg else first_line(exc, limit=100_000)
    return scrub(text)[:200]


def translate(
    exc: BaseException,
    sdk: Any,
    *,
    base_url: str,
    model: str,
    what: str,
    max_retries: int,
    timeout: float,
    hint: str = "",
) -> BehavtestError:
    """The one-line error for an exception of the ``openai`` client (``sdk`` is
    the imported module) raised while asking ``base_url`` for ``what``."""
    at, detail = where(base_url), server_detail(exc)
    tries = f"after {max_retries} retries"
    if isinstance(exc, sdk.AuthenticationError):
        return APIRequestFailed(
            f"{at} rejected the API key (401) for {what}; fix: set OPENAI_API_KEY to a "
            "valid key (behavtest reads it from the environment only)"
        )
    if isinstance(exc, sdk.PermissionDeniedError):
        return APIRequestFailed(
            f"{at} denied {what} (403: {detail}); fix: use a key or project with access"
        )
    if isinstance(exc, sdk.NotFoundError):
        return ModelNotFound(
            f"{at} has no model {model!r} or no such endpoint (404: {detail}); fix: "
            "check the name (GET <base url>/models lists them) and that the URL ends in /v1"
        )
    if isinstance(exc, sdk.RateLimitError):
        return APIRequestFailed(
            f"{at} still rate-limits {what} {tries} (429: {detail}); fix: lower "
            "BEHAVTEST_OPENAI_CONCURRENCY or raise your quota"
        )
    if isinstance(exc, sdk.APIStatusError) and exc.status_code >= 500:
        return APIRequestFailed(
            f"{at} failed {what} {tries} ({exc.status_code}: {detail}); "
            "fix: check the server (its log says why)"
        )
    if isinstance(exc, sdk.APIStatusError):
        fix = hint or "fix: check the sampling settings and model name the server accepts"
        return APIRequestFailed(f"{at} refused {what} ({exc.status_code}: {detail}); {fix}")
    if isinstance(exc, sdk.APITimeoutError):
        return APIRequestFailed(
            f"{at} timed out on {what} {tries} ({timeout:g} s each); "
            "fix: check the server, or raise BEHAVTEST_OPENAI_TIMEOUT"
        )
    if isinstance(exc, sdk.APIConnectionError):
        return APIRequestFailed(
            f"could not connect to {at} {tries}; fix: start the server, or pass "
            "--behav-base-url (or set BEHAVTEST_BASE_URL) to where it listens"
        )
    return APIRequestFailed(
        f"{at}: {type(exc).__name__} on {what}: {detail}; "
        "fix: check the server and the base URL"
    )
