"""Assistant prefill on real models (slow): the embedded model through the hf/
provider, the model handle and the engine, and a real llama.cpp server.

The llama.cpp server of tests/servers.py is llama-cpp-python's, which has no
``/apply-template``: it shows the refusal on a real server. To show a
prefill completed by a real server's ``/v1/completions``, a small proxy adds
the endpoint in front of it, rendering with the same chat template the GGUF
carries (the embedded model's), as llama.cpp's ``llama-server`` would.
"""

from __future__ import annotations

import json
import math
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from behavtest.errors import PrefillUnsupported
from behavtest.providers import ProviderConfig, Request, load_provider, to_messages
from behavtest.providers.hf import render_chat
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.settings import GenerationSettings, RunSettings

pytestmark = pytest.mark.slow

ASK = to_messages("Write a line starting with H")
CONFIG = ProviderConfig(batch_size=8, threads=1, dtype="float32")


@pytest.fixture(scope="module")
def provider():  # type: ignore[no-untyped-def]
    try:
        return load_provider("embedded", CONFIG)
    except ImportError as exc:  # pragma: no cover - only without the hf extra
        pytest.skip(f"embedded model unavailable: {exc}")


def test_the_template_leaves_the_final_message_open(provider: Any) -> None:
    """SmolLM2's template has no generation prompt after an assistant message:
    continue_final_message renders the turn open, ending with the prefill exactly."""
    tok = provider.tokenizer
    for prefill in ("H", "Hi there\n", "The answer is ", "Line one\n\n"):
        assert render_chat(tok, ASK + (("assistant", prefill),)) == render_chat(tok, ASK) + prefill


def test_a_prefilled_reply_starts_with_the_prefill_and_continues_it(provider: Any) -> None:
    h = ModelHandle("embedded", lambda: provider, RunSettings(seed=3), SampleCache(None, "off"))
    got = h.sample(ASK, n=6, prefill="H", max_tokens=12, temperature=1.0)
    assert all(t.startswith("H") for t in got.texts)
    assert sum(len(t) > 1 for t in got.texts) >= 5  # the model wrote on
    # continuing is not answering: the greedy reply after "H" is not "H" + the plain reply
    greedy = h.sample(ASK, n=1, prefill="Hello", max_tokens=8, temperature=0.0).texts[0]
    assert greedy.startswith("Hello") and not greedy.startswith("HelloH")


def test_lines_count_from_the_prefill_on_the_real_decoder(provider: Any) -> None:
    one_line = GenerationSettings(max_tokens=16, stop_after_lines=1)
    done = provider.generate([Request(ASK + (("assistant", "Hello!\n"),), one_line, seed=1)])[0]
    assert (done.text, done.finish) == ("", "lines")  # the prefill already held the line
    two = GenerationSettings(temperature=1.0, max_tokens=40, stop_after_lines=2)
    poem = to_messages("Write a short poem.") + (("assistant", "Roses are red,\nViolets"),)
    for c in provider.generate([Request(poem, two, seed=s) for s in range(3)]):
        whole = "Roses are red,\nViolets" + c.text
        assert c.finish != "lines" or len([x for x in whole.splitlines() if x.strip()]) == 2


def test_probabilities_after_a_prefill_are_those_of_what_follows_it(provider: Any) -> None:
    """log P(C | conversation, prefill P) = log P(P C) - log P(P), where P and C
    tokenise apart (a word boundary): continuation and whole-reply scores."""
    q = to_messages("Is the sky blue?")
    prefilled = q + (("assistant", "The answer is"),)
    after = provider.continuation_logprobs(prefilled, [" yes", " no"])
    whole = provider.continuation_logprobs(q, ["The answer is yes", "The answer is no"])
    head = provider.continuation_logprobs(q, ["The answer is"])[0]
    for a, w in zip(after, whole, strict=True):
        assert math.isclose(a, w - head, abs_tol=1e-4)
    replies = provider.reply_logprobs(prefilled, [" yes."])
    assert math.isclose(replies[0], provider.reply_logprobs(q, ["The answer is yes."])[0] - head,
                        abs_tol=1e-4)


def test_the_engine_carries_prefilled_conversations(provider: Any, tmp_path: Path) -> None:
    from behavtest.engine import EngineProvider, ensure_engine, stop_engines

    reqs = [Request(ASK + (("assistant", "H"),), GenerationSettings(temperature=1.0,
                                                                    max_tokens=10), seed=s)
            for s in range(3)]
    want = provider.generate(reqs)
    address = ensure_engine("embedded", CONFIG, tmp_path)
    try:
        with EngineProvider(address) as p:
            assert p.prefills and p.generate(reqs) == want
            lp = p.continuation_logprobs(reqs[0].messages, ["ello", "i"])
            assert lp == pytest.approx(provider.continuation_logprobs(reqs[0].messages,
                                                                      ["ello", "i"]), abs=1e-6)
    finally:
        stop_engines(tmp_path)


# -- a real llama.cpp server ----------------------------------------------------------------
class TemplateProxy:
    """``POST /apply-template`` rendered here with the embedded chat template (what
    llama.cpp's llama-server answers); every other request forwarded upstream."""

    def __init__(self, upstream: str, tokenizer: Any) -> None:
        self.seen: list[str] = []
        root = upstream.removesuffix("/v1")
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                proxy.seen.append(self.path)
                if self.path == "/apply-template":
                    msgs = json.loads(body)["messages"]
                    text = tokenizer.apply_chat_template(msgs, tokenize=False,
                                                         add_generation_prompt=True)
                    self._reply(200, json.dumps({"prompt": text}).encode())
                    return
                req = urllib.request.Request(root + self.path, data=body, method="POST",
                                             headers={"content-type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=120) as resp:
                        self._reply(resp.status, resp.read())
                except urllib.error.HTTPError as exc:
                    self._reply(exc.code, exc.read())

            def _reply(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def proxy(llama_server: str, provider: Any) -> Iterator[TemplateProxy]:
    p = TemplateProxy(llama_server, provider.tokenizer)
    yield p
    p.close()


def test_a_real_server_without_apply_template_refuses(llama_server: str) -> None:
    from servers import MODEL_ALIAS

    from behavtest.providers.openai import OpenAIProvider

    p = OpenAIProvider(MODEL_ALIAS, base_url=llama_server)
    try:
        with pytest.raises(PrefillUnsupported, match="apply-template answered 404"):
            p.generate([Request(ASK + (("assistant", "H"),), GenerationSettings(max_tokens=4),
                                seed=0)])
    finally:
        p.close()


def test_a_real_server_continues_a_prefill_through_v1_completions(proxy: TemplateProxy) -> None:
    from servers import MODEL_ALIAS

    from behavtest.providers.openai import OpenAIProvider

    p = OpenAIProvider(MODEL_ALIAS, base_url=proxy.base_url)
    try:
        h = ModelHandle(f"openai/{MODEL_ALIAS}", lambda: p, RunSettings(seed=2),
                        SampleCache(None, "off"))
        got = h.sample(ASK, n=3, prefill="H", max_tokens=12, temperature=1.0)
        assert all(t.startswith("H") and len(t) > 1 for t in got.texts)
        assert all(r.tokens >= 1 for r in got)
        assert proxy.seen.count("/apply-template") == 1
        assert proxy.seen.count("/v1/completions") == 3 and "/v1/chat/completions" not in proxy.seen
    finally:
        p.close()
