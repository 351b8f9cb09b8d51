"""The ``openai/`` provider: chat completions from OpenAI or any compatible server.

``openai/<model>`` talks to ``$BEHAVTEST_BASE_URL``, else ``$OPENAI_BASE_URL``
(the client's own variable), else the OpenAI API. vLLM, llama.cpp's server,
llama-cpp-python's server and ``transformers serve`` all speak this protocol.

Why the official ``openai`` client: it already retries what should be retried,
with exponential backoff and jitter, and behavtest adds only what it lacks.
What is retried, exactly:

- by the client (``max_retries``, default 6 here): connection errors,
  timeouts, and the statuses 408, 409, 429 and every 5xx. A ``Retry-After``
  (or ``retry-after-ms``) is honoured (openai 3.x: waited for exactly up to
  2 minutes, longer is not retried); otherwise it waits 0.5 s doubling to at
  most 8 s, minus up to 25 % jitter. A body cut off mid-transfer is a
  connection error and is retried too.
- by behavtest (``malformed_retries``, default 3, backoff 0.5 s doubling): a
  2xx whose body is not a chat completion (malformed or truncated JSON, an
  HTML page from a proxy, no choices). The client would hand those back as
  an exception or a bare string without retrying.
- nothing else: 400, 401, 403, 404 and 422 cannot succeed on a retry and
  raise a :class:`BehavtestError` at once, with one line naming the problem
  and the fix.

"n emulation": every :class:`Request` is one call with ``n=1`` and the
request's own seed. llama.cpp's servers silently ignore ``n > 1``, and one
call per sample is what keeps sample *i* of a prompt cacheable on its own,
as the local providers do. Whether a server draws the same text for the same
seed depends on the server: llama-cpp-python 0.3.36 does not when requests
arrive in another order (its sampler state carries over between requests
with the same prompt; measured in tests/test_openai_faults.py), so reruns
are reproducible because the cache replays them. Calls run concurrently
(``concurrency``, default 8) on a private event loop; results come back in
request order.

The API key is read from ``$OPENAI_API_KEY`` when a client is built and is
never stored by behavtest, logged, or put in a fingerprint, repr or error
message (messages are scrubbed of it). A local server without auth gets the
placeholder key ``"not-needed"``.

Identity: OpenAI models are known by name alone (a snapshot name such as
``gpt-4.1-2025-04-14`` is immutable; an alias such as ``gpt-4.1`` is not, so
pin snapshots). The fingerprint is ``openai/<model>@<host[:port]/path>``,
computed from the spec and environment without a network call, so a fully
cached rerun makes none. A local server's weights can change under the same
name: give each model its own served name (``--served-model-name``,
``--model_alias``), or rerun with ``--behav-cache refresh``. What the server
reports about the model is in :meth:`OpenAIProvider.describe`.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from behavtest.errors import BehavtestError, InvalidArgument, MissingDependency, ModelNotFound
from behavtest.providers.base import Completion, Messages, Provider, Request
from behavtest.providers.kind import ProviderConfig, ProviderKind
from behavtest.settings import GenerationSettings

OFFICIAL_BASE_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "not-needed"  # what a local server without auth is sent
SEED_MASK = (1 << 31) - 1  # every server takes a 31-bit seed (llama.cpp: uint32, others: int)
TOP_LOGPROBS = 20  # the API's maximum
FALLBACK_SAMPLES = 50
LogprobFallback = Literal["off", "sample"]

T = TypeVar("T")


class APIRequestFailed(BehavtestError):
    """The server refused or failed a request in a way a retry cannot fix."""


class LogprobsUnavailable(BehavtestError):
    """The server returns no token log-probabilities, and no fallback was chosen."""


# -- spec, base URL and identity (no network, no openai import) ------------------------
def resolve_base_url(explicit: str | None = None) -> str:
    """The server to talk to: an explicit URL, else ``$BEHAVTEST_BASE_URL``, else
    ``$OPENAI_BASE_URL``, else the OpenAI API. behavtest's own variable wins so a
    suite can be pointed at a test server without changing other tools' setting."""
    for source, value in (
        ("base_url", explicit),
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
    if not model.strip():
        raise InvalidArgument(
            "'openai/' names no model; fix: openai/<model>, e.g. openai/gpt-4.1-2025-04-14 "
            "or the name your server serves (GET <base url>/models lists them)"
        )


def spec_fingerprint(model: str, base_url: str | None = None) -> str:
    """What :meth:`OpenAIProvider.fingerprint` reports, from the spec and environment alone."""
    return f"openai/{model}@{where(resolve_base_url(base_url))}"


def reduce_seed(seed: int) -> int:
    """A request seed folded into 31 bits (the low bits of a hash-derived seed)."""
    return seed & SEED_MASK


_SECRET_SHAPES = re.compile(r"(sk-|Bearer\s+)[A-Za-z0-9_\-.*]{3,}")


def scrub(text: str) -> str:
    """Text with the API key (and anything shaped like a key) replaced by ``***``."""
    key = os.environ.get("OPENAI_API_KEY", "")
    if len(key) >= 4:
        text = text.replace(key, "***")
    return _SECRET_SHAPES.sub(lambda m: m.group(1) + "***", text)


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
            raise InvalidArgument("timeout must be > 0 and retry counts >= 0")
        if self.logprob_fallback not in ("off", "sample"):
            raise InvalidArgument(
                f"logprob_fallback={self.logprob_fallback!r} is not 'off' or 'sample'"
            )

    @property
    def batch_size(self) -> int:
        """Requests handed over per generate call by the model handle (which commits
        each batch to the cache): a few waves, so the pipe stays full."""
        return 4 * self.concurrency

    @classmethod
    def from_env(cls) -> OpenAIOptions:
        """Options for ``--model openai/...``: ``$BEHAVTEST_OPENAI_CONCURRENCY``,
        ``$BEHAVTEST_OPENAI_TIMEOUT`` (seconds per attempt) and
        ``$BEHAVTEST_LOGPROB_FALLBACK`` (``sample``); the base URL is resolved later."""
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
            if not raw.isdigit():
                raise InvalidArgument(
                    f"BEHAVTEST_OPENAI_CONCURRENCY={raw!r} is not a positive integer; fix: e.g. 8"
                )
            changes["concurrency"] = int(raw)
        fallback = os.environ.get("BEHAVTEST_LOGPROB_FALLBACK", "").strip()
        if fallback:
            if fallback not in ("off", "sample"):
                raise InvalidArgument(
                    f"BEHAVTEST_LOGPROB_FALLBACK={fallback!r} is not 'off' or 'sample'"
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


# -- the event loop --------------------------------------------------------------------------
class _LoopThread:
    """A private asyncio loop on a daemon thread.

    The Provider API is synchronous. Running the async client on a loop of
    our own works from any thread, with or without a loop running there
    (``asyncio.run`` fails inside a running loop, e.g. a notebook), and keeps
    the client's connection pool on the loop that opened it (a fresh loop per
    call would strand pooled connections on a closed loop).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="behavtest-openai", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            loop = self._loop
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("OpenAIProvider called from its own event loop")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. Ctrl-C: stop the calls still in flight
            raise

    @property
    def started(self) -> bool:
        return self._loop is not None

    def stop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()


def _import_openai() -> Any:
    try:
        import openai
    except ImportError:
        raise MissingDependency("openai", "openai", "the openai/ provider") from None
    return openai


class _Malformed(Exception):
    """A 2xx whose body is not a chat completion."""


# -- the provider ------------------------------------------------------------------------------
class OpenAIProvider:
    """A model behind an OpenAI-compatible chat completions endpoint.

    ``OpenAIProvider("gpt-4.1-2025-04-14")``, or with options as keywords:
    ``OpenAIProvider("smollm2", base_url="http://127.0.0.1:8000/v1",
    logprob_fallback="sample")``. ``http_client`` (an ``httpx`` AsyncClient)
    is for tests and proxies.
    """

    def __init__(
        self,
        model: str,
        options: OpenAIOptions | None = None,
        *,
        http_client: Any = None,
        **changes: Any,
    ) -> None:
        check_model_name(model)
        opts = options or OpenAIOptions()
        unknown = set(changes) - {f.name for f in fields(OpenAIOptions)}
        if unknown:
            raise InvalidArgument(f"unknown OpenAIProvider option(s): {', '.join(sorted(unknown))}")
        self.options = replace(opts, **changes) if changes else opts
        self.model = model
        self.base_url = resolve_base_url(self.options.base_url)
        self._official = is_official(self.base_url)
        self._openai = _import_openai()
        if self._official and not os.environ.get("OPENAI_API_KEY"):
            raise InvalidArgument(
                f"OPENAI_API_KEY is not set for {where(self.base_url)}; fix: export it "
                "(behavtest reads keys from the environment only), or point "
                "BEHAVTEST_BASE_URL at a local server"
            )
        self.usage = APIUsage(price_per_million=self.options.price_per_million)
        self._http_client = http_client
        self._client: Any = None
        self._loop = _LoopThread()
        self._has_logprobs: bool | None = None

    def __repr__(self) -> str:
        return f"OpenAIProvider(model={self.model!r}, server={where(self.base_url)!r})"

    # -- identity ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"openai/{self.model}"

    def fingerprint(self) -> str:
        """``openai/<model>@<host[:port]/path>``: equal to
        ``registry.fingerprint_without_loading`` for the same spec and environment."""
        return spec_fingerprint(self.model, self.base_url)

    def describe(self) -> dict[str, Any]:
        """What the server says about the model (``GET /models``): its ``id``,
        ``created`` and ``owned_by`` when listed, and every model it serves.
        A network call; not part of the fingerprint, so cached reruns skip it."""

        async def listing() -> Any:
            return await self._call_api(lambda c: c.models.list(), "listing models")

        page = self._loop.run(listing())
        entries = list(getattr(page, "data", None) or [])
        mine = next((m for m in entries if getattr(m, "id", None) == self.model), None)
        info = None
        if mine is not None:
            info = {k: getattr(mine, k, None) for k in ("id", "created", "owned_by")}
        return {
            "fingerprint": self.fingerprint(),
            "server": where(self.base_url),
            "model": info,
            "served": [str(getattr(m, "id", "")) for m in entries],
        }

    def close(self) -> None:
        """Close the HTTP connections and stop the private event loop."""
        if self._loop.started and self._client is not None:
            client, self._client = self._client, None
            self._loop.run(client.close())
        self._loop.stop()

    # -- sampling ----------------------------------------------------------------------
    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        """One call per request (n=1, the request's seed), ``concurrency`` at a time."""
        params = [self._params(r.messages, r.settings, r.seed) for r in requests]
        if not params:
            return []
        return self._loop.run(self._run_all(params, self._complete))

    def _params(
        self, messages: Messages, s: GenerationSettings, seed: int, **extra: Any
    ) -> dict[str, Any]:
        p: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": role, "content": text} for role, text in messages],
            "temperature": s.temperature,
            "top_p": s.top_p,
            "seed": reduce_seed(seed),
            "n": 1,
            # OpenAI deprecated max_tokens for chat (reasoning models reject
            # it); llama-cpp-python knows only max_tokens and would ignore the new name.
            ("max_completion_tokens" if self._official else "max_tokens"): s.max_tokens,
            **extra,
        }
        body = self._extra_body(s)
        if body:
            p["extra_body"] = body
        return p

    def _extra_body(self, s: GenerationSettings) -> dict[str, Any]:
        """Sampler fields the OpenAI API lacks: top_k, and neutral values for
        local servers' own default samplers (see OpenAIOptions.neutral_samplers)."""
        if self._official:
            if s.top_k:
                raise InvalidArgument(
                    f"top_k={s.top_k} is not supported by the OpenAI API; "
                    "fix: use top_k=0 (off), or top_p"
                )
            return {}
        if self.options.neutral_samplers:
            # top_k 0 is "off" for llama.cpp, llama-cpp-python (which refuses -1)
            # and vLLM >= 0.8 (older vLLM wants -1: set neutral_samplers=False there)
            return {"top_k": s.top_k, "min_p": 0.0, "repeat_penalty": 1.0}
        return {"top_k": s.top_k} if s.top_k else {}

    async def _run_all(
        self,
        params: list[dict[str, Any]],
        one: Callable[[dict[str, Any]], Awaitable[T]],
    ) -> list[T]:
        """Every call, ``concurrency`` at a time, results in order; the first
        error cancels the calls still waiting or in flight."""
        sem = asyncio.Semaphore(self.options.concurrency)

        async def limited(p: dict[str, Any]) -> T:
            async with sem:
                return await one(p)

        tasks = [asyncio.ensure_future(limited(p)) for p in params]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def _get_client(self) -> Any:
        if self._client is None:
            self._client = self._openai.AsyncOpenAI(
                api_key=os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_KEY,
                base_url=self.base_url,
                timeout=self.options.timeout,
                max_retries=self.options.max_retries,
                http_client=self._http_client,
            )
        return self._client

    async def _complete(self, params: dict[str, Any]) -> Completion:
        reply = await self._chat(params)
        choice = reply.choices[0]
        usage = getattr(reply, "usage", None)
        return Completion(
            text=str(getattr(choice.message, "content", None) or ""),
            tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            # anything but "length" (stop, content_filter, tool_calls) ended the turn
            finish="length" if choice.finish_reason == "length" else "stop",
        )

    async def _chat(self, params: dict[str, Any], hint: str = "") -> Any:
        """One chat completion, retrying a 2xx whose body is not one (bounded)."""
        what = f"chat completion for {self.model!r}"
        attempts = self.options.malformed_retries + 1
        for attempt in range(attempts):
            raw = await self._call_api(
                lambda c: c.chat.completions.with_raw_response.create(**params), what, hint
            )
            self.usage.retries += int(getattr(raw, "retries_taken", 0) or 0)
            try:
                reply = raw.parse()
                choices = getattr(reply, "choices", None)
                if not isinstance(choices, list) or not choices:
                    raise _Malformed("no choices")
                if getattr(choices[0], "message", None) is None:
                    raise _Malformed("no message")
            except (ValueError, _Malformed, self._openai.APIResponseValidationError) as exc:
                if attempt + 1 == attempts:
                    head = scrub(str(getattr(raw, "text", "") or "")[:80]).replace("\n", " ")
                    raise APIRequestFailed(
                        f"{where(self.base_url)} answered {attempts} times with a body that "
                        f"is not a chat completion ({type(exc).__name__}; starts {head!r}); "
                        "fix: check the base URL points at an OpenAI-compatible /v1 endpoint"
                    ) from None
                self.usage.retries += 1
                await asyncio.sleep(self.options.retry_backoff * 2**attempt)
                continue
            self.usage.requests += 1
            usage = getattr(reply, "usage", None)
            if usage is not None:
                self.usage.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
                self.usage.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call_api(
        self, call: Callable[[Any], Awaitable[Any]], what: str, hint: str = ""
    ) -> Any:
        """Run one client call; an error the client did not retry away becomes one
        scrubbed line (``from None``: the client's exception carries the headers)."""
        try:
            return await call(self._get_client())
        except self._openai.OpenAIError as exc:
            raise self._translate(exc, what, hint) from None

    def _translate(self, exc: Exception, what: str, hint: str) -> BehavtestError:
        o, at = self._openai, where(self.base_url)
        detail = _detail(exc)
        tries = f"after {self.options.max_retries} retries"
        if isinstance(exc, o.AuthenticationError):
            return APIRequestFailed(
                f"{at} rejected the API key (401) for {what}; fix: set OPENAI_API_KEY to a "
                "valid key (behavtest reads it from the environment only)"
            )
        if isinstance(exc, o.PermissionDeniedError):
            return APIRequestFailed(
                f"{at} denied {what} (403: {detail}); fix: use a key or project with access"
            )
        if isinstance(exc, o.NotFoundError):
            return ModelNotFound(
                f"{at} has no model {self.model!r} or no such endpoint (404: {detail}); fix: "
                "check the name (GET <base url>/models lists them) and that the URL ends in /v1"
            )
        if isinstance(exc, o.RateLimitError):
            return APIRequestFailed(
                f"{at} still rate-limits {what} {tries} (429: {detail}); fix: lower "
                "BEHAVTEST_OPENAI_CONCURRENCY or raise your quota"
            )
        if isinstance(exc, o.APIStatusError) and exc.status_code >= 500:
            return APIRequestFailed(
                f"{at} failed {what} {tries} ({exc.status_code}: {detail}); "
                "fix: check the server (its log says why)"
            )
        if isinstance(exc, o.APIStatusError):
            fix = hint or "fix: check the sampling settings and model name the server accepts"
            return APIRequestFailed(
                f"{at} refused {what} ({exc.status_code}: {detail}); {fix}"
            )
        if isinstance(exc, o.APITimeoutError):
            return APIRequestFailed(
                f"{at} timed out on {what} {tries} ({self.options.timeout:g} s each); "
                "fix: check the server, or raise the timeout"
            )
        if isinstance(exc, o.APIConnectionError):
            return APIRequestFailed(
                f"could not connect to {at} {tries}; fix: start the server, or set "
                "BEHAVTEST_BASE_URL (or OPENAI_BASE_URL) to where it listens"
            )
        return APIRequestFailed(f"{at}: {type(exc).__name__} on {what}: {detail}")

    # -- option probabilities ----------------------------------------------------------
    def continuation_logprobs(
        self, messages: Messages, continuations: Sequence[str]
    ) -> list[float]:
        """log P(label | messages) for single-token labels ("A", "B", ...).

        One call with ``max_tokens=1, logprobs=True, top_logprobs=20,
        temperature=0``, read off the first token's top log-probabilities. A
        label's value is that of the token equal to it once whitespace is
        stripped; when several match ("A" and " A") their probabilities are
        added (logsumexp). The API cannot teacher-force, so multi-token
        continuations are refused.

        A label absent from the top 20 gets an *upper bound*, not a guess:
        ``min(p_20, 1 - sum(top 20))``, the smallest reported probability and
        the mass left over, either of which it cannot exceed. A made-up floor
        such as 1e-9 would claim knowledge the API does not give; the bound
        errs towards the label, so a test that the label is unlikely stays
        conservative. (If two labels are both absent, their bounds may together
        exceed the leftover mass.)

        A server that returns no log-probabilities raises LogprobsUnavailable,
        unless ``logprob_fallback="sample"``: then each label's probability is
        estimated from 50 one-token samples at temperature 1 (seeds 0..49), as
        (count + 1/2) / (50 + m/2) for m labels, so the logs stay finite and the
        probabilities sum to at most 1.
        """
        labels = [c.strip() for c in continuations]
        for c, label in zip(continuations, labels, strict=True):
            if not label or any(ch.isspace() for ch in label):
                raise InvalidArgument(
                    f"continuation {c!r} cannot be scored over the API: only single-token "
                    "labels such as 'A' (the API gives first-token log-probabilities only)"
                )
        why = "returned no token log-probabilities"
        if self._has_logprobs is not False:
            top = self._loop.run(self._first_token_logprobs(messages))
            if isinstance(top, dict):
                self._has_logprobs = True
                return _label_logprobs(top, labels)
            if top is None:
                self._has_logprobs = False  # the server has none: do not ask again
            else:
                why = "ended the turn before a first token, so it gave no log-probabilities"
        if self.options.logprob_fallback == "sample":
            return self._sampled_logprobs(messages, labels)
        raise LogprobsUnavailable(
            f"{where(self.base_url)} {why} for {self.model!r}; fix: use a server/model that "
            "returns them (llama.cpp, vLLM), or estimate by sampling: "
            "OpenAIProvider(..., logprob_fallback='sample') or BEHAVTEST_LOGPROB_FALLBACK=sample"
        )

    async def _first_token_logprobs(self, messages: Messages) -> dict[str, float] | str | None:
        """The first token's top log-probabilities; None if the server returns
        none, ``"empty"`` if it returned an empty list (the turn ended at once)."""
        greedy = GenerationSettings(temperature=0.0, top_p=1.0, max_tokens=1)
        params = self._params(messages, greedy, 0, logprobs=True, top_logprobs=TOP_LOGPROBS)
        hint = (
            "fix: if the model does not support logprobs, set "
            "BEHAVTEST_LOGPROB_FALLBACK=sample (or logprob_fallback='sample')"
        )
        reply = await self._chat(params, hint)
        lp = getattr(reply.choices[0], "logprobs", None)
        content = getattr(lp, "content", None) if lp is not None else None
        if content is None:
            return None
        if not content:
            return "empty"
        first = content[0]
        top: dict[str, float] = {}
        for entry in [*(getattr(first, "top_logprobs", None) or []), first]:
            token, value = getattr(entry, "token", None), getattr(entry, "logprob", None)
            if isinstance(token, str) and isinstance(value, (int, float)):
                top.setdefault(token, float(value))
        return top or None

    def _sampled_logprobs(self, messages: Messages, labels: list[str]) -> list[float]:
        one = GenerationSettings(temperature=1.0, top_p=1.0, max_tokens=1)
        params = [self._params(messages, one, seed) for seed in range(FALLBACK_SAMPLES)]
        drawn = self._loop.run(self._run_all(params, self._complete))
        counts = Counter(c.text.strip() for c in drawn)
        total = FALLBACK_SAMPLES + 0.5 * len(labels)
        return [math.log((counts[label] + 0.5) / total) for label in labels]


def _label_logprobs(top: dict[str, float], labels: list[str]) -> list[float]:
    """Each label's log-probability from a first-token top list (see
    OpenAIProvider.continuation_logprobs for the rule and the bound)."""
    smallest = min(top.values())
    leftover = max(0.0, 1.0 - sum(math.exp(v) for v in top.values()))
    bound = math.log(max(min(math.exp(smallest), leftover), 1e-300))
    out = []
    for label in labels:
        hits = [v for tok, v in top.items() if tok.strip() == label]
        if not hits:
            out.append(bound)
            continue
        peak = max(hits)
        out.append(peak + math.log(sum(math.exp(v - peak) for v in hits)))
    return out


def _detail(exc: Exception) -> str:
    """The server's own error message, one line, scrubbed and shortened."""
    body = getattr(exc, "body", None)
    msg: Any = None
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
    text = str(msg if msg else getattr(exc, "message", None) or exc)
    line = " ".join(text.split())
    return scrub(line)[:200]


class OpenAIKind(ProviderKind):
    """``openai/<model>``: OpenAI, or any OpenAI-compatible server given by the
    run's base URL (``--behav-base-url``), ``$BEHAVTEST_BASE_URL`` or
    ``$OPENAI_BASE_URL``."""

    prefix = "openai"

    def validate(self, name: str, config: ProviderConfig) -> None:
        check_model_name(name)
        resolve_base_url(config.base_url)  # a malformed URL fails here, before any test

    def fingerprint(self, name: str, config: ProviderConfig) -> str | None:
        return spec_fingerprint(name, config.base_url)

    def load(self, name: str, config: ProviderConfig) -> Provider:
        return OpenAIProvider(name, replace(OpenAIOptions.from_env(), base_url=config.base_url))
