"""OpenAIProvider: the Provider protocol over chat completions (see the package
docstring for what is retried, the n emulation, secrets and identity), and
over text completions for a prefilled conversation (see ``prefill``)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import fields, replace
from typing import Any, TypeVar

from behavtest.errors import BehavtestError, InvalidArgument, MissingDependency, ProviderError
from behavtest.providers.base import (
    Completion,
    Messages,
    Request,
    apply_cut,
    prefill_of,
    prefill_unsupported,
)
from behavtest.providers.openai.config import (
    PLACEHOLDER_KEY,
    APIUsage,
    OpenAIOptions,
    check_model_name,
    is_official,
    reduce_seed,
    resolve_base_url,
    scrub,
    spec_fingerprint,
    where,
)
from behavtest.providers.openai.failures import APIRequestFailed, LogprobsUnavailable, translate
from behavtest.providers.openai.logprobs import (
    FALLBACK_SAMPLES,
    TOP_LOGPROBS,
    first_token_top,
    label_logprobs,
    sampled_logprobs,
    single_token_labels,
)
from behavtest.providers.openai.loop import LoopThread
from behavtest.providers.openai.prefill import (
    CANNOT,
    cannot_prefill,
    completion_params,
    read_completion,
    rendered_prompt,
    template_body,
    template_url,
)
from behavtest.settings import GenerationSettings

T = TypeVar("T")
U = TypeVar("U")


def _import_openai() -> Any:
    # An absolute import: the SDK, not this package (behavtest.providers.openai).
    try:
        import openai
    except ImportError:
        raise MissingDependency("openai", "openai", "the openai/ provider") from None
    return openai


class _Malformed(ProviderError):
    """A 2xx whose body is not a chat completion (retried, then APIRequestFailed)."""


class OpenAIProvider:
    """A model behind an OpenAI-compatible chat completions endpoint.

    ``OpenAIProvider("gpt-4.1-2025-04-14")``, or with options as keywords:
    ``OpenAIProvider("smollm2", base_url="http://127.0.0.1:8000/v1",
    logprob_fallback="sample")``. ``http_client`` (an ``httpx`` AsyncClient)
    is for tests and proxies.

    ``batch_size`` is how many requests the model handle should hand over per
    :meth:`generate` call (``OpenAIOptions.batch_size``: 4 x concurrency).
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
            raise InvalidArgument(
                f"unknown OpenAIProvider option(s): {', '.join(sorted(unknown))}; "
                f"fix: use {', '.join(f.name for f in fields(OpenAIOptions))}"
            )
        self.options = replace(opts, **changes) if changes else opts
        self.model = model
        self.base_url = resolve_base_url(self.options.base_url)
        self.batch_size: int = self.options.batch_size
        self._official = is_official(self.base_url)
        self._openai = _import_openai()
        if self._official and not os.environ.get("OPENAI_API_KEY"):
            raise InvalidArgument(
                f"OPENAI_API_KEY is not set for {where(self.base_url)}; fix: export it "
                "(behavtest reads keys from the environment only), or point "
                "--behav-base-url (or BEHAVTEST_BASE_URL) at a local server"
            )
        self.usage = APIUsage(price_per_million=self.options.price_per_million)
        self._http_client = http_client
        self._client: Any = None
        self._loop = LoopThread()
        self._has_logprobs: bool | None = None
        self._renders: bool | None = None  # whether the server has /apply-template
        self._refusal: Exception | None = None  # why it cannot prefill, once known
        # each prefilled conversation's rendering, shared by its concurrent samples
        self._templates: dict[Messages, asyncio.Future[str]] = {}

    def __repr__(self) -> str:
        return f"OpenAIProvider(model={self.model!r}, server={where(self.base_url)!r})"

    # -- identity ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"openai/{self.model}"

    def fingerprint(self) -> str:
        """``openai/<model>@<host[:port]/path>``: equal to the kind's fingerprint
        (``registry.fingerprint_without_loading``) for the same spec and base URL."""
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

    @property
    def prefills(self) -> bool:
        """Whether a final assistant message may be sent to be continued: never
        to the OpenAI API; to another server, which says by its /apply-template
        whether it can (see ``prefill``)."""
        return not self._official

    def close(self) -> None:
        """Close the HTTP connections and stop the private event loop."""
        if self._loop.started and self._client is not None:
            client, self._client = self._client, None
            self._loop.run(client.close())
        self._loop.stop()

    # -- sampling ----------------------------------------------------------------------
    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        """One call per request (n=1, the request's seed), ``concurrency`` at a time.
        A cut (``stop_after_lines``) is applied to the whole reply: the API's stop
        sequences cannot count non-empty lines. A prefilled conversation is
        continued through the text completions endpoint (see ``prefill``)."""
        if not requests:
            return []
        if self._official and any(prefill_of(r.messages) for r in requests):
            raise cannot_prefill(self.base_url, official=True)
        if self._refusal is not None and any(prefill_of(r.messages) for r in requests):
            raise self._refusal
        whole = self._loop.run(self._run_all(list(requests), self._draw))
        return [apply_cut(c, r.settings, prefill_of(r.messages))
                for c, r in zip(whole, requests, strict=True)]

    async def _draw(self, r: Request) -> Completion:
        """One sample: a chat completion, or a prefill's continuation."""
        params = self._params(r.messages, r.settings, r.seed)
        if not prefill_of(r.messages):
            return await self._complete(params)
        prompt = await self._template(r.messages) + prefill_of(r.messages)
        return read_completion(await self._chat(completion_params(params, prompt), text=True))

    async def _template(self, messages: Messages) -> str:
        """The server's rendering of a prefilled conversation's start, ready for the
        assistant's turn: asked once per conversation, however many samples wait
        for it (a failed one is asked again next time)."""
        task = self._templates.get(messages)
        if task is None:
            task = self._templates[messages] = asyncio.ensure_future(self._render(messages))
        try:
            return await asyncio.shield(task)  # a cancelled waiter leaves it to the others
        except BaseException:
            if task.done() and (task.cancelled() or task.exception() is not None):
                self._templates.pop(messages, None)
            raise

    async def _render(self, messages: Messages) -> str:
        """``POST /apply-template`` for a prefilled conversation. The first call is
        the probe: no retries, and a 404/405/501 means the server cannot prefill."""
        url, what = template_url(self.base_url), "rendering the chat template"
        try:
            answer = await self._get_client().post(
                url, cast_to=object, body=template_body(messages),
                options={} if self._renders else {"max_retries": 0})
        except self._openai.APIStatusError as exc:
            if exc.status_code not in CANNOT:
                raise self._translated(exc, what) from None
            self._renders = False
            self._refusal = cannot_prefill(self.base_url, False, exc.status_code)
            raise self._refusal from None
        except self._openai.OpenAIError as exc:
            raise self._translated(exc, what) from None
        prompt = rendered_prompt(answer)
        if prompt is None:
            raise APIRequestFailed(
                f"{where(self.base_url)}: POST {url.rsplit('/', 1)[-1]} gave no prompt text; "
                "fix: check that the server is llama.cpp's llama-server or speaks its API")
        self._renders = True
        return prompt

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

    async def _run_all(self, params: list[U], one: Callable[[U], Awaitable[T]]) -> list[T]:
        """Every call, ``concurrency`` at a time, results in order; the first
        error cancels the calls still waiting or in flight."""
        sem = asyncio.Semaphore(self.options.concurrency)

        async def limited(p: U) -> T:
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

    async def _chat(self, params: dict[str, Any], hint: str = "", text: bool = False) -> Any:
        """One chat completion (``text``: one text completion of a raw prompt),
        retrying a 2xx whose body is not one (bounded)."""
        kind, field = ("text", "text") if text else ("chat", "message")
        what = f"{kind} completion for {self.model!r}"
        attempts = self.options.malformed_retries + 1
        for attempt in range(attempts):
            raw = await self._call_api(
                lambda c: (c.completions if text else c.chat.completions).with_raw_response
                .create(**params), what, hint)
            self.usage.retries += int(getattr(raw, "retries_taken", 0) or 0)
            try:
                reply = raw.parse()
                choices = getattr(reply, "choices", None)
                if not isinstance(choices, list) or not choices:
                    raise _Malformed("no choices")
                if getattr(choices[0], field, None) is None:
                    raise _Malformed(f"no {field}")
            except (ValueError, _Malformed, self._openai.APIResponseValidationError) as exc:
                if attempt + 1 == attempts:
                    head = scrub(str(getattr(raw, "text", "") or ""))[:80].replace("\n", " ")
                    raise APIRequestFailed(
                        f"{where(self.base_url)} answered {attempts} times with a body that "
                        f"is not a {kind} completion ({type(exc).__name__}; starts {head!r}); "
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
            raise self._translated(exc, what, hint) from None

    def _translated(self, exc: BaseException, what: str, hint: str = "") -> BehavtestError:
        """The one-line error for a client exception (see ``failures.translate``)."""
        return translate(
            exc, self._openai, base_url=self.base_url, model=self.model, what=what,
            max_retries=self.options.max_retries, timeout=self.options.timeout, hint=hint,
        )

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
        if prefill_of(messages):
            raise prefill_unsupported(
                f"{self.name} at {where(self.base_url)}",
                "score option probabilities after an assistant prefill (its API cannot "
                "teacher-force)", "score them with hf/<model> or embedded")
        labels = single_token_labels(continuations)
        why = "returned no token log-probabilities"
        if self._has_logprobs is not False:
            top = self._loop.run(self._first_token_logprobs(messages))
            if isinstance(top, dict):
                self._has_logprobs = True
                return label_logprobs(top, labels)
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
        greedy = GenerationSettings(temperature=0.0, top_p=1.0, max_tokens=1)
        params = self._params(messages, greedy, 0, logprobs=True, top_logprobs=TOP_LOGPROBS)
        hint = (
            "fix: if the model does not support logprobs, set "
            "BEHAVTEST_LOGPROB_FALLBACK=sample (or logprob_fallback='sample')"
        )
        return first_token_top(await self._chat(params, hint))

    def _sampled_logprobs(self, messages: Messages, labels: list[str]) -> list[float]:
        one = GenerationSettings(temperature=1.0, top_p=1.0, max_tokens=1)
        params = [self._params(messages, one, seed) for seed in range(FALLBACK_SAMPLES)]
        drawn = self._loop.run(self._run_all(params, self._complete))
        return sampled_logprobs((c.text for c in drawn), labels)
