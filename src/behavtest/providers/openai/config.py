"""Where the server is, what the model is called, and how hard to try.

Everything here is computed from the spec, the run's base URL and the
environment, with no network call and no ``openai`` import: the session
validates and fingerprints ``openai/`` specs with it at start-up, so a fully
cached rerun makes no call at all.

The API key is never read here except by :func:`scrub`, which removes it
from text; nothing in this module stores it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from behavtest.errors import InvalidArgument

OFFICIAL_BASE_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "not-needed"  # what a local server without auth is sent
SEED_MASK = (1 << 31) - 1  # every server takes a 31-bit seed (llama.cpp: uint32, others: int)
LogprobFallback = Literal["off", "sample"]


# -- spec, base URL and identity ----------------------------------------------------------
def resolve_base_url(explicit: str | None = None) -> str:
    """The server to talk to: the run's base URL (``--behav-base-url``, or
    ``base_url=``), else ``$BEHAVTEST_BASE_URL``, else ``$OPENAI_BASE_URL``, else
    the OpenAI API. behavtest's own variable wins over the client's, so a suite
    can be pointed at a test server without changing other tools' setting."""
    for source, value in (
        ("the base URL given (--behav-base-url or base_url=)", explicit),
        ("BEHAVTEST_BASE_URL", os.environ.get("BEHAVTEST_BASE_URL")),
        ("OPENAI_BASE_URL", os.environ.get("OPENAI_BASE_URL")),
    ):
        if value and value.strip():
            url = value.strip().rstrip("/")
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InvalidArgument(
                    f"{source} is not an http(s) URL with a host; "
                    "fix: set it like http://127.0.0.1:8000/v1"
                )
            return url
    return OFFICIAL_BASE_URL


def where(base_url: str) -> str:
    """``host[:port]/path`` of a base URL: never its user, password or query."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host += f":{parts.port}"
    return host + parts.path.rstrip("/")


def is_official(base_url: str) -> bool:
    """OpenAI's own endpoints (and Azure OpenAI's), which accept only OpenAI's parameters."""
    host = (urlsplit(base_url).hostname or "").lower()
    return host == "api.openai.com" or host.endswith(".openai.azure.com")


def check_model_name(model: str) -> None:
    """Refuse an ``openai/`` spec that names no model."""
    if not model.strip():
        raise InvalidArgument(
            "'openai/' names no model; fix: openai/<model>, e.g. openai/gpt-4.1-2025-04-14 "
            "or the name your server serves (GET <base url>/models lists them)"
        )


def spec_fingerprint(model: str, base_url: str | None = None) -> str:
    """What :meth:`OpenAIProvider.fingerprint` reports, from the spec, the run's
    base URL and the environment alone: ``openai/<model>@<host[:port]/path>``."""
    return f"openai/{model}@{where(resolve_base_url(base_url))}"


def reduce_seed(seed: int) -> int:
    """A request seed folded into 31 bits (the low bits of a hash-derived seed)."""
    return seed & SEED_MASK


SECRET_SHAPES = re.compile(r"(sk-|Bearer\s+)[A-Za-z0-9_\-.*]{3,}")


def scrub(text: str) -> str:
    """Text with the API key (and anything shaped like a key) replaced by ``***``."""
    key = os.environ.get("OPENAI_API_KEY", "")
    if len(key) >= 4:
        text = text.replace(key, "***")
    return SECRET_SHAPES.sub(lambda m: m.group(1) + "***", text)


# -- options and usage --------------------------------------------------------------------
@dataclass(frozen=True)
class OpenAIOptions:
    """How to reach the server and how hard to try. Holds no secret."""

    base_url: str | None = None  # None: $BEHAVTEST_BASE_URL, $OPENAI_BASE_URL, the OpenAI API
    concurrency: int = 8  # calls in flight at once
    timeout: float = 120.0  # seconds per HTTP attempt
    max_retries: int = 6  # the client's retries (429, 5xx, timeouts, connection errors)
    malformed_retries: int = 3  # behavtest's retries of a 2xx that is not a chat completion
    retry_backoff: float = 0.5  # first wait of behavtest's retries, doubling
    logprob_fallback: LogprobFallback = "off"  # "sample": estimate option odds by sampling
    # Send neutral values for the samplers local servers add by default
    # (llama.cpp: top_k=40, min_p=0.05, repeat_penalty=1.1), so a reply is
    # drawn with exactly the settings behavtest reports. Off for servers that
    # reject unknown fields; then only a top_k > 0 is sent.
    neutral_samplers: bool = True
    price_per_million: tuple[float, float] | None = None  # USD per 1M (prompt, completion)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise InvalidArgument(f"concurrency={self.concurrency} must be >= 1; fix: e.g. 8")
        if self.timeout <= 0 or self.max_retries < 0 or self.malformed_retries < 0:
            raise InvalidArgument(
                "timeout must be > 0 and retry counts >= 0; fix: e.g. timeout=60, max_retries=6"
            )
        if self.logprob_fallback not in ("off", "sample"):
            raise InvalidArgument(
                f"logprob_fallback={self.logprob_fallback!r} is not 'off' or 'sample'; "
                "fix: use one of them"
            )

    @property
    def batch_size(self) -> int:
        """Requests handed over per generate call by the model handle (which commits
        each batch to the cache): a few waves, so the pipe stays full."""
        return 4 * self.concurrency

    @classmethod
    def from_env(cls) -> OpenAIOptions:
        """Options for ``--behav-model openai/...``: ``$BEHAVTEST_OPENAI_CONCURRENCY``,
        ``$BEHAVTEST_OPENAI_TIMEOUT`` (seconds per attempt) and
        ``$BEHAVTEST_LOGPROB_FALLBACK`` (``sample``). The base URL is not read
        here: it comes with the run's config (see ``OpenAIKind``) or is resolved
        from the environment by :func:`resolve_base_url`."""
        changes: dict[str, Any] = {}
        timeout = os.environ.get("BEHAVTEST_OPENAI_TIMEOUT", "").strip()
        if timeout:
            try:
                changes["timeout"] = float(timeout)
            except ValueError:
                changes["timeout"] = -1.0
            if not changes["timeout"] > 0:
                raise InvalidArgument(
                    f"BEHAVTEST_OPENAI_TIMEOUT={timeout!r} is not a number of seconds > 0; "
                    "fix: e.g. 60"
                )
        raw = os.environ.get("BEHAVTEST_OPENAI_CONCURRENCY", "").strip()
        if raw:
            if not raw.isdigit() or int(raw) < 1:
                raise InvalidArgument(
                    f"BEHAVTEST_OPENAI_CONCURRENCY={raw!r} is not a positive integer; fix: e.g. 8"
                )
            changes["concurrency"] = int(raw)
        fallback = os.environ.get("BEHAVTEST_LOGPROB_FALLBACK", "").strip()
        if fallback:
            if fallback not in ("off", "sample"):
                raise InvalidArgument(
                    f"BEHAVTEST_LOGPROB_FALLBACK={fallback!r} is not 'off' or 'sample'; "
                    "fix: unset it, or set it to sample"
                )
            changes["logprob_fallback"] = fallback
        return cls(**changes)


@dataclass
class APIUsage:
    """What the provider asked of the server, for the report and for cost.

    ``requests`` counts calls answered with a chat completion (one per sample
    or option query); ``retries`` counts the extra HTTP attempts they took (the
    client's and behavtest's). ``cost`` is None unless prices were given:
    behavtest keeps no price list, because prices change.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    retries: int = 0
    price_per_million: tuple[float, float] | None = field(default=None, repr=False)

    @property
    def cost(self) -> float | None:
        if self.price_per_million is None:
            return None
        p_in, p_out = self.price_per_million
        return (self.prompt_tokens * p_in + self.completion_tokens * p_out) / 1e6
