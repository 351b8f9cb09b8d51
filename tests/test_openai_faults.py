"""The openai/ provider under network faults, and with a planted API key.

Fault runs (slow): the same sampling job drawn straight from the llama.cpp
server and through tests/faultproxy.py breaking 20 % of the requests (429,
500, 502, 503, hangs past the timeout, resets, malformed and truncated
bodies) must give the same replies, sample for sample: retries may cost time
but never a sample, a duplicate or a different text.

What "the same" can mean with this server: llama-cpp-python 0.3.36's reply
to a given body and seed also depends on the *previous* request's prompt.
Measured: after a request with the same prompt it differs from the reply
after a different prompt (which equals a fresh server's), though the
first-token log-probabilities are identical in both. So a run is
reproducible only if the server sees the same sequence of prompts:

- several prompts at concurrency 1: faults are never forwarded, so the server
  sees exactly the direct run's sequence, and every reply must match;
- one prompt at concurrency 4 (through the plugin): every request follows a
  request with the same prompt, so the order retries shuffle cannot matter.

Both runs start after the same warm-up request, so the first one is alike too.

Planted key (fast, on the proxy's stub server; slow on the real one): a suite
run through the plugin with a unique key in ``$OPENAI_API_KEY``, a failing
check, servers that echo the key back in 401 and 400 errors, retried faults,
debug logging of the client, a JUnit file and ``-rA`` must leave the key (and
any ``Authorization`` header) in no file and no output.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest

pytest.importorskip("openai")

from faultproxy import KINDS, Canned, Exchange, FaultProxy

from behavtest.providers import Request, to_messages
from behavtest.providers.openai import OpenAIProvider, reduce_seed, spec_fingerprint
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle, Samples
from behavtest.settings import GenerationSettings, RunSettings

PROMPTS = ["Name a fruit.", "Name a colour.", "Say hello.", "Name an animal."]
N = 12  # 48 samples: with 20 % of attempts failing, 12 faults, so all 9 kinds occur
TIMEOUT = 6.0  # s per attempt: a hang costs this; a real reply takes ~0.3-1 s here
SHORT = GenerationSettings(temperature=1.0, max_tokens=8)
NO_HANG = tuple(k for k in KINDS if k != "hang")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BEHAVTEST_BASE_URL", "OPENAI_LOG",
                "BEHAVTEST_OPENAI_CONCURRENCY", "BEHAVTEST_LOGPROB_FALLBACK", "CI"):
        monkeypatch.delenv(var, raising=False)


def warm_up(server: str, prompt: str) -> None:
    """One request straight to the server, so the next run starts from a known state."""
    from servers import MODEL_ALIAS

    p = OpenAIProvider(MODEL_ALIAS, base_url=server)
    try:
        p.generate([Request(to_messages(prompt), SHORT, seed=0)])
    finally:
        p.close()


def handle_for(
    base_url: str, fingerprint: str, seed: int, concurrency: int
) -> tuple[ModelHandle, OpenAIProvider]:
    """A handle without cache whose fingerprint is given, so runs through different
    URLs derive the same per-sample seeds."""
    from servers import MODEL_ALIAS

    provider = OpenAIProvider(
        MODEL_ALIAS, base_url=base_url, concurrency=concurrency, timeout=TIMEOUT
    )
    handle = ModelHandle(f"openai/{MODEL_ALIAS}", lambda: provider,
                         RunSettings(seed=seed, generation=SHORT), SampleCache(None, "off"),
                         quick_fingerprint=lambda: fingerprint)
    return handle, provider


def draw(server: str, base_url: str, fingerprint: str) -> tuple[Samples, ModelHandle]:
    """The job: 4 prompts x 12 samples at temperature 1, one call at a time."""
    warm_up(server, "Warm up.")
    handle, provider = handle_for(base_url, fingerprint, seed=11, concurrency=1)
    try:
        return handle.sample(prompts=PROMPTS, n=N), handle
    finally:
        provider.close()


@pytest.mark.slow
def test_faults_change_no_reply(llama_server: str) -> None:
    fp = spec_fingerprint("faults", llama_server)
    t0 = time.perf_counter()
    direct, h_direct = draw(llama_server, llama_server, fp)
    t1 = time.perf_counter()
    with FaultProxy(llama_server, rate=0.2, seed=3) as proxy:
        faulty, h_faulty = draw(llama_server, proxy.base_url, fp)
    t2 = time.perf_counter()
    print(f"\ndirect {t1 - t0:.1f} s, through faults {t2 - t1:.1f} s; "
          f"{proxy.chat_requests} attempts, injected {dict(proxy.injected)}")

    slots = [(p, i) for p in range(len(PROMPTS)) for i in range(N)]
    assert [(r.prompt, r.index) for r in direct] == slots
    assert [(r.prompt, r.index) for r in faulty] == slots  # none lost, none twice
    assert faulty.texts == direct.texts
    assert [(r.tokens, r.finish) for r in faulty] == [(r.tokens, r.finish) for r in direct]
    assert len(set(direct.texts)) > len(PROMPTS)  # temperature 1 really drew different replies

    # every kind of fault happened, and each cost exactly one retry
    assert set(proxy.injected) == set(KINDS), proxy.injected
    p_direct, p_faulty = h_direct.provider, h_faulty.provider
    assert isinstance(p_direct, OpenAIProvider) and isinstance(p_faulty, OpenAIProvider)
    assert (p_direct.usage.requests, p_direct.usage.retries) == (len(slots), 0)
    assert p_faulty.usage.requests == len(slots)
    assert p_faulty.usage.retries == sum(proxy.injected.values())
    assert h_direct.stats.drawn == h_faulty.stats.drawn == len(slots)
    assert p_faulty.usage.completion_tokens == p_direct.usage.completion_tokens

    # the server answered each sample exactly once, in request order
    forwarded = [json.loads(b)["seed"] for b in proxy.forwarded]
    wanted = [reduce_seed(h_direct._seed(fp, msgs, SHORT, i))
              for msgs in faulty.prompts for i in range(N)]
    assert forwarded == wanted and len(set(wanted)) == len(slots)


OPT_IN = 'pytest_plugins = ["behavtest.plugin"]\n'  # a suite opts in to the plugin

PLUGIN_SUITE = """
import json, os
from behavtest import Scorer
from behavtest.checks import expect

def test_sample_through_faults(model):
    r = model.sample("Say hello.", n=24, max_tokens=8)
    with open(os.environ["FAULT_OUT"], "w") as f:
        json.dump([[x.prompt, x.index, x.text] for x in r], f)
    expect(r, Scorer("replies", lambda t: bool(t.strip()))).rate_at_least(0.1)
"""


@pytest.mark.slow
def test_plugin_run_through_faults_matches_a_direct_run(
    llama_server: str, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--behav-model openai/... --behav-base-url <proxy>``, 4 calls in flight: same replies as
    a direct draw. No hangs: the plugin's provider keeps its 120 s default timeout
    (no option or variable sets it)."""
    from servers import MODEL_ALIAS

    out = pytester.path / "replies.json"
    monkeypatch.setenv("FAULT_OUT", str(out))
    monkeypatch.setenv("BEHAVTEST_OPENAI_CONCURRENCY", "4")
    pytester.makeconftest(OPT_IN)
    pytester.makepyfile(test_inner=PLUGIN_SUITE)
    warm_up(llama_server, "Say hello.")
    with FaultProxy(llama_server, rate=0.2, seed=5, kinds=NO_HANG) as proxy:
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--behav-model", f"openai/{MODEL_ALIAS}",
            "--behav-base-url", proxy.base_url, "--behav-seed", "4", "--behav-cache", "off",
        )
    result.assert_outcomes(passed=1)
    assert sum(proxy.injected.values()) >= 5, proxy.injected
    # the summary tallies the API's work, retries included
    result.stdout.fnmatch_lines(["behavtest: API * requests (* retried), * completion tokens"])
    got = json.loads(out.read_text())

    # the same job drawn directly, under the fingerprint the plugin run had
    warm_up(llama_server, "Say hello.")
    fp = spec_fingerprint(MODEL_ALIAS, proxy.base_url)
    handle, provider = handle_for(llama_server, fp, seed=4, concurrency=4)
    try:
        direct = handle.sample("Say hello.", n=24, max_tokens=8)
    finally:
        provider.close()
    assert got == [[r.prompt, r.index, r.text] for r in direct]
    assert len({text for _, _, text in got}) > 1


# -- a planted key ------------------------------------------------------------------------
SECRET_SUITE = """
from behavtest import Scorer
from behavtest.checks import expect

def test_check_fails(model):
    r = model.sample("Name a fruit.", n=10, max_tokens=8)
    print("replies:", r.texts[:3], "model:", model, model.provider)
    expect(r, Scorer("is a novel", lambda t: len(t) > 10_000)).rate_at_least(0.5)

def test_check_passes(model):
    r = model.sample("Name a colour.", n=10, max_tokens=8)
    expect(r, Scorer("anything", lambda t: True)).rate_at_least(0.2)

def test_server_rejects_the_key(model):
    model.sample("REJECT-ME", n=2, max_tokens=8)

def test_server_echoes_the_key_in_an_error(model):
    model.sample("BAD-REQUEST", n=1, max_tokens=8)
"""


def echo_the_key(req: Exchange) -> Canned | None:
    """A server that repeats the key back, as OpenAI's 401 does (and worse)."""
    auth = req.headers.get("authorization", "")
    key = auth.removeprefix("Bearer ")
    if b"REJECT-ME" in req.body:
        msg = f"Incorrect API key provided: {key}. You sent {auth}."
        return Canned(401, json.dumps({"error": {"message": msg, "code": "invalid_api_key"}})
                      .encode())
    if b"BAD-REQUEST" in req.body:
        msg = f"max_tokens too small for key {key} ({auth})"
        return Canned(400, json.dumps({"error": {"message": msg}}).encode())
    return None


@pytest.fixture(params=["stub", pytest.param("llama", marks=pytest.mark.slow)])
def upstream(request: pytest.FixtureRequest) -> Iterator[tuple[str | None, str]]:
    """(upstream URL, served model): the proxy's stub server, or the real one."""
    if request.param == "stub":
        yield None, "stub-model"
    else:
        from servers import MODEL_ALIAS

        yield request.getfixturevalue("llama_server"), MODEL_ALIAS


def test_a_planted_key_is_in_no_file_and_no_output(
    upstream: tuple[str | None, str], pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = f"sk-behavtest-planted-{uuid.uuid4().hex}"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("OPENAI_LOG", "debug")  # the client's own debug logging
    pytester.makeconftest(OPT_IN)
    pytester.makepyfile(test_inner=SECRET_SUITE)
    junit, log = pytester.path / "junit.xml", pytester.path / "run.log"
    url, model = upstream
    with FaultProxy(url, rate=0.2, seed=7, kinds=NO_HANG, rule=echo_the_key) as proxy:
        result = pytester.runpytest_subprocess(
            "--behav-model", f"openai/{model}", "--behav-base-url", proxy.base_url,
            f"--junitxml={junit}", "-o", "junit_logging=all", "-rA", "-l", "--tb=long",
            "--log-level=DEBUG", f"--log-file={log}", "--log-file-level=DEBUG",
        )
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    for line in ("*FAIL: rate >= 0.5*", "*rejected the API key (401)*fix: set OPENAI_API_KEY*",
                 "*(400: max_tokens too small for key [*][*][*] (Bearer [*][*][*])); fix:*"):
        result.stdout.fnmatch_lines([line])
    # it was really sent, retried faults and all
    auths = {e.headers.get("authorization") for e in proxy.seen}
    assert auths == {f"Bearer {key}"} and sum(proxy.injected.values()) >= 2

    cache_files = list((pytester.path / ".behavtest_cache").iterdir())
    assert any(f.name.startswith("samples.sqlite") for f in cache_files)
    assert junit.stat().st_size > 0 and log.stat().st_size > 0
    texts: dict[str, bytes] = {"stdout": out.encode(), "stderr": result.stderr.str().encode()}
    for f in pytester.path.rglob("*"):  # the cache (and its WAL), junit, log, .pytest_cache
        if f.is_file():
            texts[str(f.relative_to(pytester.path))] = f.read_bytes()
    assert b"Sending HTTP Request" in log.read_bytes()  # the client's debug log was on
    needles = [key.encode(), key.removeprefix("sk-").encode(), key[-32:].encode(),
               f"Bearer {key}".encode()]
    leaks = {name: [n.decode() for n in needles if n in blob] for name, blob in texts.items()}
    assert not any(leaks.values()), {k: v for k, v in leaks.items() if v}
    headers = [name for name, blob in texts.items() if b"authorization" in blob.lower()]
    assert not headers, headers
