"""The openai/ provider.

Fast tests run the real ``openai`` client against a scripted server double
(an ``httpx`` MockTransport): request building, ordering, retries, errors,
usage and secrets. Slow tests run it against a real llama-cpp-python server
serving the embedded GGUF (the ``llama_server`` fixture, tests/servers.py).
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("openai")
try:  # openai >= 3 is built on httpx2; older releases on httpx
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

from behavtest.errors import (
    BehavtestError,
    InvalidArgument,
    MissingDependency,
    ModelNotFound,
    ProviderError,
)
from behavtest.providers import ProviderConfig, Request, to_messages
from behavtest.providers.base import batch_size_of
from behavtest.providers.openai import (
    APIRequestFailed,
    LogprobsUnavailable,
    OpenAIKind,
    OpenAIOptions,
    OpenAIProvider,
    reduce_seed,
    spec_fingerprint,
)
from behavtest.providers.registry import (
    fingerprint_without_loading,
    kind,
    load_provider,
    precision_without_loading,
    validate_spec,
)
from behavtest.settings import GenerationSettings

LOCAL = "http://double.test/v1"
OFFICIAL = "https://api.openai.com/v1"
SECRET = "sk-planted-SECRET-0123456789abcdef"
Q = to_messages("Name a fruit.", system="Be brief.")
S = GenerationSettings(temperature=0.7, top_p=0.9, max_tokens=12)


def chat_body(
    text: str = "hi", finish: str = "stop", prompt: int = 5, completion: int = 2,
    logprobs: Any = None,
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": finish, "logprobs": logprobs,
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
    }


Reply = Callable[[dict[str, Any]], Any]


class ServerDouble:
    """A scripted OpenAI-compatible server (a test double, not a server).

    Each call pops the next scripted reply (an ``httpx.Response``, an
    exception to raise, or a function of the request body); with the script
    empty it answers ``echo:<seed>``. It records every request.
    """

    def __init__(self, *script: Any, delay: Callable[[dict[str, Any]], float] | None = None):
        self.script = list(script)
        self.delay = delay
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.times: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, request: Any) -> Any:
        body = json.loads(request.content) if request.content else {}
        self.bodies.append(body)
        self.headers.append(dict(request.headers))
        self.times.append(time.monotonic())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay(body))
            item = self.script.pop(0) if self.script else None
            if item is None:
                return httpx.Response(200, json=chat_body(f"echo:{body.get('seed')}"))
            if isinstance(item, BaseException):
                raise item
            return item(body) if callable(item) else item
        finally:
            self.in_flight -= 1


def make(double: ServerDouble, base_url: str = LOCAL, **options: Any) -> OpenAIProvider:
    options.setdefault("retry_backoff", 0.01)
    client = httpx.AsyncClient(transport=httpx.MockTransport(double))
    return OpenAIProvider("test-model", base_url=base_url, http_client=client, **options)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BEHAVTEST_BASE_URL",
                "BEHAVTEST_OPENAI_CONCURRENCY", "BEHAVTEST_LOGPROB_FALLBACK"):
        monkeypatch.delenv(var, raising=False)


# -- request building --------------------------------------------------------------------
def test_request_carries_messages_settings_and_seed_one_call_per_sample() -> None:
    double = ServerDouble()
    p = make(double)
    seeds = [2**60 + 12345, 7, 2**31 + 3]
    out = p.generate([Request(Q, S, seed=s) for s in seeds])
    assert len(double.bodies) == 3  # n emulation: one call per request
    by_seed = {body["seed"]: body for body in double.bodies}  # calls arrive in any order
    for seed, c in zip(seeds, out, strict=True):
        body = by_seed[seed % 2**31]
        assert body["model"] == "test-model"
        assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "Name a fruit."}]
        assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.7, 0.9, 12)
        assert body["seed"] == reduce_seed(seed) == seed % 2**31
        assert body.get("n", 1) == 1
        # neutral values for local servers' own samplers: what is reported is what is drawn
        assert (body["top_k"], body["min_p"], body["repeat_penalty"]) == (0, 0.0, 1.0)
        assert c.text == f"echo:{reduce_seed(seed)}" and c.tokens == 2 and c.finish == "stop"
    assert p.generate([]) == []
    p.close()


def test_top_k_goes_to_compatible_servers_and_is_refused_by_openai(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    double = ServerDouble()
    p = make(double)
    p.generate([Request(Q, GenerationSettings(top_k=5), seed=1)])
    assert double.bodies[-1]["top_k"] == 5
    plain = make(double, neutral_samplers=False)
    plain.generate([Request(Q, GenerationSettings(), seed=1)])
    assert not {"top_k", "min_p", "repeat_penalty"} & set(double.bodies[-1])

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    official_double = ServerDouble()
    official = make(official_double, OFFICIAL)
    official.generate([Request(Q, S, seed=1)])
    body = official_double.bodies[0]
    assert body["max_completion_tokens"] == 12 and "max_tokens" not in body
    assert not {"top_k", "min_p", "repeat_penalty"} & set(body)
    with pytest.raises(InvalidArgument, match="top_k=5 is not supported by the OpenAI API"):
        official.generate([Request(Q, GenerationSettings(top_k=5), seed=1)])
    assert len(official_double.bodies) == 1  # refused before any call
    for provider in (p, plain, official):
        provider.close()


def test_results_come_back_in_request_order_under_concurrency() -> None:
    # later requests answer first; at most `concurrency` calls are in flight
    double = ServerDouble(delay=lambda body: 0.05 * (12 - body["seed"]) / 12)
    p = make(double, concurrency=4)
    out = p.generate([Request(Q, S, seed=s) for s in range(12)])
    assert [c.text for c in out] == [f"echo:{s}" for s in range(12)]
    assert 1 < double.max_in_flight <= 4
    p.close()


def test_works_from_a_thread_and_inside_a_running_event_loop() -> None:
    p = make(ServerDouble())
    got: list[str] = []
    t = threading.Thread(target=lambda: got.append(p.generate([Request(Q, S, seed=1)])[0].text))
    t.start()
    t.join()

    async def inside_a_loop() -> str:
        return p.generate([Request(Q, S, seed=2)])[0].text

    assert got == ["echo:1"] and asyncio.run(inside_a_loop()) == "echo:2"
    p.close()


# -- retries -----------------------------------------------------------------------------------
def test_429_is_retried_after_retry_after() -> None:
    double = ServerDouble(httpx.Response(429, headers={"retry-after": "1"},
                                         json={"error": {"message": "slow down"}}))
    p = make(double)
    out = p.generate([Request(Q, S, seed=3)])
    assert out[0].text == "echo:3"
    assert len(double.bodies) == 2 and double.times[1] - double.times[0] >= 0.95
    assert (p.usage.requests, p.usage.retries) == (1, 1)
    p.close()


def test_500_and_connection_errors_are_retried() -> None:
    double = ServerDouble(httpx.Response(500, json={"error": {"message": "boom"}}),
                          httpx.ConnectError("refused"))
    p = make(double)
    assert p.generate([Request(Q, S, seed=4)])[0].text == "echo:4"
    assert len(double.bodies) == 3 and p.usage.retries == 2
    p.close()


@pytest.mark.parametrize("bad", [
    httpx.Response(200, headers={"content-type": "application/json"}, content=b'{"id": "x", "cho'),
    httpx.Response(200, headers={"content-type": "text/html"}, content=b"<html>gateway</html>"),
    httpx.Response(200, json={"object": "chat.completion", "choices": []}),
], ids=["truncated-json", "html", "no-choices"])
def test_a_body_that_is_not_a_chat_completion_is_retried(bad: Any) -> None:
    double = ServerDouble(bad)
    p = make(double)
    assert p.generate([Request(Q, S, seed=5)])[0].text == "echo:5"
    assert len(double.bodies) == 2 and p.usage.retries == 1 and p.usage.requests == 1
    p.close()


def test_malformed_retries_are_bounded() -> None:
    bad = httpx.Response(200, headers={"content-type": "application/json"}, content=b"{")
    double = ServerDouble(*[bad] * 10)
    p = make(double, malformed_retries=2)
    with pytest.raises(APIRequestFailed, match="answered 3 times with a body that is not a chat"):
        p.generate([Request(Q, S, seed=5)])
    assert len(double.bodies) == 3
    p.close()


# -- errors that are not retried ----------------------------------------------------------------
def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "fix:" in text
    return text


def test_401_is_one_line_without_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    double = ServerDouble(httpx.Response(401, json={"error": {
        "message": f"Incorrect API key provided: {SECRET}", "code": "invalid_api_key"}}))
    p = make(double, OFFICIAL)
    with pytest.raises(APIRequestFailed) as info:
        p.generate([Request(Q, S, seed=1)])
    text = _one_line(info.value)
    assert "rejected the API key (401)" in text and "OPENAI_API_KEY" in text
    assert len(double.bodies) == 1  # not retried
    assert SECRET not in "".join(traceback.format_exception(info.value))
    p.close()


def test_404_and_400_name_the_problem() -> None:
    double = ServerDouble(
        httpx.Response(404, json={"error": {"message": "model 'test-model' not found"}}),
        httpx.Response(400, json={"error": {"message": "temperature out of range"}}),
    )
    p = make(double)
    with pytest.raises(ModelNotFound, match="has no model 'test-model'.*404.*fix:"):
        p.generate([Request(Q, S, seed=1)])
    with pytest.raises(APIRequestFailed, match=r"\(400: temperature out of range\); fix:"):
        p.generate([Request(Q, S, seed=1)])
    assert len(double.bodies) == 2
    p.close()


def test_unreachable_server_is_one_line() -> None:
    double = ServerDouble(*[httpx.ConnectError("refused")] * 3)
    p = make(double, max_retries=2)
    with pytest.raises(APIRequestFailed, match="could not connect to double.test/v1 after 2"):
        p.generate([Request(Q, S, seed=1)])
    p.close()


def test_5xx_that_outlasts_the_retries_is_one_line() -> None:
    double = ServerDouble(*[httpx.Response(503, json={"error": {"message": "overloaded"}})] * 2)
    p = make(double, max_retries=1)
    with pytest.raises(APIRequestFailed, match=r"after 1 retries \(503: overloaded\); fix:"):
        p.generate([Request(Q, S, seed=1)])
    assert len(double.bodies) == 2
    p.close()


def test_missing_openai_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(MissingDependency, match=r"pip install 'behavtest\[openai\]'"):
        OpenAIProvider("m", base_url=LOCAL)


def test_official_api_without_a_key_fails_at_load() -> None:
    with pytest.raises(InvalidArgument, match="OPENAI_API_KEY is not set"):
        OpenAIProvider("gpt-4.1-2025-04-14")


# -- usage and secrets ------------------------------------------------------------------------
def test_usage_tally_and_cost() -> None:
    double = ServerDouble(httpx.Response(503), *[
        httpx.Response(200, json=chat_body("x", "length", prompt=10, completion=4))
    ] * 3)
    p = make(double, price_per_million=(2.0, 8.0))
    out = p.generate([Request(Q, S, seed=s) for s in range(3)])
    assert [c.finish for c in out] == ["length"] * 3 and [c.tokens for c in out] == [4] * 3
    u = p.usage
    assert (u.prompt_tokens, u.completion_tokens, u.requests, u.retries) == (30, 12, 3, 1)
    assert u.cost == pytest.approx((30 * 2.0 + 12 * 8.0) / 1e6)
    assert make(ServerDouble()).usage.cost is None  # no price given, no made-up cost
    p.close()


def test_a_planted_key_never_appears(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    double = ServerDouble(
        httpx.Response(400, json={"error": {"message": f"bad request with key {SECRET}"}}),
        httpx.Response(404, json={"error": {"message": f"no model for {SECRET}"}}),
        httpx.Response(200, json={"object": "list", "data": [
            {"id": "test-model", "object": "model", "created": 5, "owned_by": "me"}]}),
    )
    p = make(double, OFFICIAL)
    seen: list[str] = [repr(p), str(p), p.name, p.fingerprint(), repr(p.options), repr(p.usage)]
    seen += [repr(v) for k, v in vars(p).items() if k != "_client"]
    for _ in range(2):
        with pytest.raises(BehavtestError) as info:
            p.generate([Request(Q, S, seed=1)])
        seen += [str(info.value), "".join(traceback.format_exception(info.value))]
    seen.append(json.dumps(p.describe()))
    assert double.headers[0]["authorization"] == f"Bearer {SECRET}"  # it was used
    assert all(SECRET not in s for s in seen)
    assert all(SECRET[3:] not in s for s in seen)
    p.close()


# -- identity and the registry ---------------------------------------------------------------
def test_fingerprint_comes_from_the_spec_without_a_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://user:pw@10.0.0.1:8000/v1/?key=x")
    assert fingerprint_without_loading("openai/m") == "openai/m@10.0.0.1:8000/v1"
    monkeypatch.setenv("BEHAVTEST_BASE_URL", LOCAL)  # behavtest's own variable wins
    double = ServerDouble()
    p = make(double, base_url=None)
    assert p.fingerprint() == fingerprint_without_loading("openai/test-model")
    assert p.fingerprint() == spec_fingerprint("test-model") == "openai/test-model@double.test/v1"
    assert p.name == "openai/test-model" and double.bodies == []
    monkeypatch.delenv("BEHAVTEST_BASE_URL")
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert fingerprint_without_loading("openai/gpt-4.1-2025-04-14") == (
        "openai/gpt-4.1-2025-04-14@api.openai.com/v1")
    p.close()


def test_validate_spec() -> None:
    with pytest.raises(InvalidArgument, match="names no model; fix: openai/<model>"):
        validate_spec("openai/")
    validate_spec("openai/gpt-4.1-2025-04-14")  # a cached rerun needs no key


def test_registry_loads_with_options_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BEHAVTEST_BASE_URL", LOCAL)
    monkeypatch.setenv("BEHAVTEST_OPENAI_CONCURRENCY", "3")
    monkeypatch.setenv("BEHAVTEST_LOGPROB_FALLBACK", "sample")
    p = load_provider("openai/org/model-name")
    assert isinstance(p, OpenAIProvider) and p.model == "org/model-name"
    assert (p.options.concurrency, p.options.logprob_fallback) == (3, "sample")
    monkeypatch.setenv("BEHAVTEST_OPENAI_CONCURRENCY", "many")
    with pytest.raises(InvalidArgument, match="BEHAVTEST_OPENAI_CONCURRENCY"):
        load_provider("openai/m")


def test_the_runs_base_url_arrives_in_the_config_and_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BEHAVTEST_BASE_URL", "http://elsewhere.test:9/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://further.test/v1")
    config = ProviderConfig(base_url=LOCAL + "/")
    assert isinstance(kind("openai"), OpenAIKind)
    assert fingerprint_without_loading("openai/m", config) == "openai/m@double.test/v1"
    p = load_provider("openai/m", config)
    assert isinstance(p, OpenAIProvider) and p.base_url == LOCAL
    assert p.fingerprint() == fingerprint_without_loading("openai/m", config)
    p.close()
    # without one, the environment decides, as before
    assert fingerprint_without_loading("openai/m") == "openai/m@elsewhere.test:9/v1"
    with pytest.raises(InvalidArgument, match=r"--behav-base-url.*not an http\(s\) URL.*fix:"):
        validate_spec("openai/m", ProviderConfig(base_url="127.0.0.1:8000/v1"))
    monkeypatch.setenv("BEHAVTEST_BASE_URL", "ftp://x")
    with pytest.raises(InvalidArgument, match="BEHAVTEST_BASE_URL is not an http"):
        validate_spec("openai/m")
    validate_spec("openai/m", config)  # the run's URL wins: the variable is not read


def test_batch_size_is_four_waves_of_concurrent_calls() -> None:
    p = make(ServerDouble(), concurrency=3)
    assert p.batch_size == 12 == batch_size_of(p) == p.options.batch_size
    assert make(ServerDouble()).batch_size == 4 * OpenAIOptions().concurrency
    p.close()


def test_errors_join_the_tree_and_the_sdk_is_the_real_openai() -> None:
    assert issubclass(APIRequestFailed, ProviderError)
    assert issubclass(LogprobsUnavailable, ProviderError)
    import openai as sdk

    import behavtest.providers.openai as package

    # the package is behavtest.providers.openai; its lazy `import openai` is the SDK
    p = make(ServerDouble())
    assert p._openai is sdk is not package and hasattr(sdk, "AsyncOpenAI")
    assert p.generate([Request(Q, S, seed=1)])[0].text == "echo:1"
    p.close()


# -- option log-probabilities -------------------------------------------------------------------
def logprobs_body(top: dict[str, float]) -> dict[str, Any]:
    first = next(iter(top))
    content = [{"token": first, "logprob": top[first], "bytes": None,
                "top_logprobs": [{"token": t, "logprob": v, "bytes": None}
                                 for t, v in top.items()]}]
    return chat_body(first, "length", completion=1, logprobs={"content": content})


def test_label_logprobs_sum_matching_tokens_and_bound_absent_ones() -> None:
    top = {"A": math.log(0.5), " A": math.log(0.1), "B": math.log(0.3), "C": math.log(0.05)}
    double = ServerDouble(httpx.Response(200, json=logprobs_body(top)))
    p = make(double)
    a, b, d = p.continuation_logprobs(Q, ["A", " B", "D"])
    body = double.bodies[0]
    assert (body["max_tokens"], body["temperature"], body["logprobs"], body["top_logprobs"]) == (
        1, 0.0, True, 20)
    assert a == pytest.approx(math.log(0.6)) and b == pytest.approx(math.log(0.3))
    # absent: at most the smallest listed (0.05) and at most the leftover mass (0.05)
    assert d == pytest.approx(math.log(0.05))
    with pytest.raises(InvalidArgument, match="only single-token labels"):
        p.continuation_logprobs(Q, ["yes please"])
    p.close()


def test_no_logprobs_raises_or_falls_back_to_sampling() -> None:
    double = ServerDouble(httpx.Response(200, json=chat_body("A")))
    p = make(double)
    with pytest.raises(LogprobsUnavailable, match="logprob_fallback='sample'"):
        p.continuation_logprobs(Q, ["A", "B"])

    answers = ["A"] * 30 + ["B"] * 15 + ["C"] * 5
    double = ServerDouble(httpx.Response(200, json=chat_body("A")),
                          *[httpx.Response(200, json=chat_body(t)) for t in answers])
    p2 = make(double, logprob_fallback="sample")
    lp_a, lp_b = p2.continuation_logprobs(Q, ["A", "B"])
    assert math.exp(lp_a) == pytest.approx(30.5 / 51) and math.exp(lp_b) == pytest.approx(15.5 / 51)
    samples = double.bodies[1:]
    assert len(samples) == 50 and {b["temperature"] for b in samples} == {1.0}
    assert {b["seed"] for b in samples} == set(range(50))
    assert {b["max_tokens"] for b in samples} == {1}
    # the server is now known to have no logprobs: the next question samples at once
    p2.continuation_logprobs(Q, ["A", "B"])
    assert len(double.bodies) == 101
    for provider in (p, p2):
        provider.close()


# -- against a real server: llama-cpp-python serving the embedded GGUF ----------------------
@pytest.fixture(scope="module")
def served(llama_server: str):  # type: ignore[no-untyped-def]
    from servers import MODEL_ALIAS

    p = OpenAIProvider(MODEL_ALIAS, base_url=llama_server)
    yield p
    p.close()


SHORT = GenerationSettings(temperature=1.0, max_tokens=16)
FRUIT = to_messages("Name a fruit.")


@pytest.mark.slow
def test_real_server_samples_text_tokens_and_finish(served: OpenAIProvider) -> None:
    c = served.generate([Request(FRUIT, SHORT, seed=1)])[0]
    assert c.text.strip() and 1 <= c.tokens <= 16 and c.finish in ("stop", "length")
    tiny = served.generate([Request(FRUIT, GenerationSettings(max_tokens=2), seed=1)])[0]
    assert (tiny.tokens, tiny.finish) == (2, "length")
    assert served.usage.requests >= 2 and served.usage.completion_tokens >= 3


@pytest.mark.slow
def test_real_server_same_seed_same_text_different_seeds_differ(served: OpenAIProvider) -> None:
    seeds = [101, 101, 102, 103, 104, 105]
    first = served.generate([Request(FRUIT, SHORT, seed=s) for s in seeds])
    again = served.generate([Request(FRUIT, SHORT, seed=101)])[0]
    assert first[0].text == first[1].text == again.text  # in one batch and across calls
    assert len({c.text for c in first[1:]}) >= 3  # 5 seeds at temperature 1


@pytest.mark.slow
def test_real_server_n_emulation_through_the_handle_is_cached(
    llama_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from servers import MODEL_ALIAS

    from behavtest.sampling.cache import SampleCache
    from behavtest.sampling.handle import ModelHandle
    from behavtest.settings import RunSettings

    monkeypatch.setenv("BEHAVTEST_BASE_URL", llama_server)
    spec = f"openai/{MODEL_ALIAS}"
    loaded: list[OpenAIProvider] = []
    seen: list[int] = []

    def factory() -> OpenAIProvider:
        p = load_provider(spec)
        assert isinstance(p, OpenAIProvider)
        inner = p.generate

        def recording(requests: Any) -> Any:
            seen.extend(r.seed for r in requests)
            return inner(requests)

        monkeypatch.setattr(p, "generate", recording)
        loaded.append(p)
        return p

    def handle(cache: SampleCache) -> ModelHandle:
        run = RunSettings(seed=3, generation=GenerationSettings(max_tokens=8))
        return ModelHandle(spec, factory, run, cache,
                           quick_fingerprint=lambda: fingerprint_without_loading(spec),
                           quick_precision=lambda: precision_without_loading(spec))

    h1 = handle(SampleCache(tmp_path / "c.sqlite"))
    first = h1.sample("Name a colour.", n=5)
    assert len(seen) == 5 and len(set(seen)) == 5  # five calls, five seeds
    assert loaded[0].usage.requests == 5
    assert h1.sample("Name a colour.", n=5).texts == first.texts
    assert loaded[0].usage.requests == 5 and h1.stats.cached == 5
    # a rerun: every sample replayed, no provider built, no call made
    h2 = handle(SampleCache(tmp_path / "c.sqlite"))
    assert h2.sample("Name a colour.", n=5).texts == first.texts
    assert (h2.stats.loads, h2.stats.drawn, len(loaded)) == (0, 0, 1)
    loaded[0].close()


AGREEMENT = 0.06  # |p_server - p_hf| per option; 1.5x the worst measured (0.041), see below
QUESTIONS = [
    "Is the sky blue on a clear day? Answer with the letter only.\nA) yes\nB) no",
    "Which is larger? Answer with the letter only.\nA) an elephant\nB) a mouse",
    "Which do you prefer? Answer with the letter only.\nA) a safe bet\nB) a risky gamble",
    "What is 2 + 2? Answer with the letter only.\nA) 5\nB) 4",
]


@pytest.mark.slow
def test_real_server_option_logprobs_agree_with_the_hf_model(served: OpenAIProvider) -> None:
    """The same weights and the same prompt tokens (the GGUF's chat template gives
    token-identical prompts in both), two engines: llama.cpp multiplies Q4_1
    weights by activations quantised to 8 bits, transformers runs fp32 on the
    de-quantised weights. Measured on these 4 questions and 4 more (both
    engines are deterministic, so these numbers repeat): option probabilities
    0.02-0.48, largest |p_server - p_hf| 0.041 (0.48 vs 0.44), largest log ratio
    0.23 nats on a small probability (0.083 vs 0.104). AGREEMENT is 1.5x the
    worst difference; the preferred option is the same in both engines."""
    try:
        hf = load_provider("embedded")
    except ImportError as exc:  # pragma: no cover - only without the hf extra
        pytest.skip(f"embedded model unavailable: {exc}")
    for q in QUESTIONS:
        msgs = to_messages(q)
        api = [math.exp(v) for v in served.continuation_logprobs(msgs, ["A", "B"])]
        ref = [math.exp(v) for v in hf.continuation_logprobs(msgs, ["A", "B"])]
        assert sum(api) <= 1.0 + 1e-9
        for a, r in zip(api, ref, strict=True):
            assert abs(a - r) <= AGREEMENT, (q, api, ref)
        assert (api[0] > api[1]) == (ref[0] > ref[1]), (q, api, ref)


@pytest.mark.slow
def test_real_server_describe_reports_the_served_model(served: OpenAIProvider) -> None:
    from servers import MODEL_ALIAS

    info = served.describe()
    assert info["model"]["id"] == MODEL_ALIAS and MODEL_ALIAS in info["served"]
    assert info["fingerprint"] == served.fingerprint()


def test_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEHAVTEST_OPENAI_TIMEOUT", "7.5")
    assert OpenAIOptions.from_env().timeout == 7.5
    monkeypatch.setenv("BEHAVTEST_OPENAI_TIMEOUT", "soon")
    with pytest.raises(InvalidArgument, match="BEHAVTEST_OPENAI_TIMEOUT='soon'.*fix"):
        OpenAIOptions.from_env()
