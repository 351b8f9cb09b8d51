"""Assistant prefill (providers.base): a conversation ending with an assistant
message is continued, not answered with a new turn.

Fast tests with the test double, the engine serving it, and the openai/
provider against a scripted server (an ``httpx`` MockTransport): the model
handle joins prefill + continuation, counts lines from the prefill, caches a
prefilled prompt apart from the plain one, refuses bad input in one line, and
every model that cannot continue a message says so instead of starting a new
turn. tests/test_prefill_models.py runs the real models.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from behavtest.errors import InvalidArgument, PrefillUnsupported
from behavtest.providers import Completion, Messages, Request, to_messages
from behavtest.providers.base import apply_cut, cut_continuation, prefill_of, with_prefills
from behavtest.providers.double import ScriptedProvider
from behavtest.providers.hf import render_chat
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.settings import GenerationSettings, RunSettings


class Recording(ScriptedProvider):
    """The double, keeping every request it was asked."""

    def __init__(self, replies: dict[str, float]) -> None:
        super().__init__(replies)
        self.asked: list[Request] = []

    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        self.asked += requests
        return super().generate(requests)


def handle(provider: Any, cache: SampleCache | None = None) -> ModelHandle:
    return ModelHandle("double/x", lambda: provider, RunSettings(samples=3),
                       cache or SampleCache(None, "off"))


# -- the join -------------------------------------------------------------------------
def test_a_reply_is_the_whole_message_prefill_and_continuation() -> None:
    p = Recording({"ello there\nsecond\n": 1.0})
    got = handle(p).sample("Write a line starting with H", n=3, prefill="H")
    assert got.texts == ["Hello there\nsecond\n"] * 3
    assert [r.messages[-1] for r in p.asked] == [("assistant", "H")] * 3  # asked to continue
    assert got.prompts == (to_messages("Write a line starting with H") + (("assistant", "H"),),)


def test_the_keyword_and_the_messages_are_the_same_conversation(tmp_path: Path) -> None:
    cache = SampleCache(tmp_path / "c.sqlite")
    p = Recording({"world": 1.0})
    by_keyword = handle(p, cache).sample("Say hi", n=3, prefill="Hello ")
    by_messages = handle(p, cache).sample([("user", "Say hi"), ("assistant", "Hello ")], n=3)
    assert by_keyword.prompts == by_messages.prompts
    assert by_messages.texts == ["Hello world"] * 3
    assert all(r.cached for r in by_messages) and p.calls == 3  # one key for one conversation


def test_one_prefill_per_prompt() -> None:
    p = Recording({"!": 1.0})
    got = handle(p).sample(prompts=["a", "b"], n=2, prefill=["Yes", "No"])
    assert got.texts == ["Yes!", "Yes!", "No!", "No!"]


# -- lines count from the prefill's first ------------------------------------------------
@pytest.mark.parametrize(("prefill", "reply", "whole"), [
    ("line one\n", "line two\nline three\n", "line one\nline two\n"),  # prefill = line 1
    ("Line o", "ne\nline two\nline three\n", "Line one\nline two\n"),  # ends mid-line
    ("a\nb\nc", "d\ne\n", "a\nb\nc"),  # already two lines: nothing is added
])
def test_stop_after_lines_counts_the_whole_message(prefill: str, reply: str, whole: str) -> None:
    got = handle(Recording({reply: 1.0})).sample("q", n=1, prefill=prefill, stop_after_lines=2)
    assert got.texts == [whole]
    assert got[0].finish == "lines"


def test_cut_helpers_count_after_the_prefill() -> None:
    assert cut_continuation("one\n", "two\nthree\n", 2) == "two\n"
    assert cut_continuation("one\n", "two", 2) is None  # not two complete lines yet
    assert cut_continuation("", "a\nb\n", 0) is None
    whole = Completion("two\nthree\n", 3, "stop")
    assert apply_cut(whole, GenerationSettings(stop_after_lines=2), "one\n") == Completion(
        "two\n", 3, "lines")
    assert apply_cut(whole, GenerationSettings(stop_after_lines=2)).text == whole.text
    assert apply_cut(whole, GenerationSettings(stop_after_lines=4), "one\n") == whole


# -- the cache ----------------------------------------------------------------------------
def test_a_prefilled_prompt_is_cached_apart_from_the_plain_one(tmp_path: Path) -> None:
    cache = SampleCache(tmp_path / "c.sqlite")
    p = Recording({"yes": 0.5, "no": 0.5})
    plain = handle(p, cache).sample("q", n=4)
    prefilled = handle(p, cache).sample("q", n=4, prefill="yes")
    assert p.calls == 8 and not any(r.cached for r in prefilled)  # none served from the plain
    assert all(t.startswith("yes") for t in prefilled.texts)
    assert not any(t.startswith("yesyes") or t.startswith("yesno") for t in plain.texts)
    again = handle(Recording({"never": 1.0}), cache).sample("q", n=4, prefill="yes")
    assert again.texts == prefilled.texts and all(r.cached for r in again)  # joined on replay


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "says"), [
    ({"prompts": ["a", "b"], "prefill": []}, "0 entries for 2 prompts"),
    ({"prompts": ["a", "b"], "prefill": ["x"]}, "1 entries for 2 prompts"),
    ({"prompt": "a", "prefill": ""}, "empty assistant message"),
    ({"prompt": [("user", "a"), ("assistant", "")]}, "empty assistant message"),
    ({"prompt": [("user", "a"), ("assistant", "x")], "prefill": "y"}, "give the prefill once"),
    ({"prompts": ["a"], "prefill": [3]}, "is not a string"),
])
def test_bad_prefills_are_one_line_naming_the_fix(kwargs: dict[str, Any], says: str) -> None:
    p = Recording({"x": 1.0})
    with pytest.raises(InvalidArgument, match=says) as err:
        handle(p).sample(n=1, **kwargs)
    assert "fix:" in str(err.value) and "\n" not in str(err.value) and p.calls == 0


class NoPrefill:
    """A provider that says nothing about prefills (a third party's, say)."""

    name = "thirdparty/model"

    def __init__(self) -> None:
        self.calls = 0

    def fingerprint(self) -> str:
        return self.name

    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        self.calls += 1
        return [Completion("new turn", 2, "stop") for _ in requests]

    def continuation_logprobs(self, messages: Messages, continuations: Sequence[str]) -> (
            list[float]):
        return [0.0 for _ in continuations]


def test_a_provider_that_cannot_prefill_refuses_rather_than_start_a_new_turn() -> None:
    p = NoPrefill()
    h = handle(p)
    assert h.sample("q", n=2).texts == ["new turn"] * 2  # a plain prompt is fine
    with pytest.raises(PrefillUnsupported, match="thirdparty/model cannot continue") as err:
        h.sample("q", n=2, prefill="Hi")
    assert "fix: use hf/<model> or embedded" in str(err.value) and p.calls == 1
    with pytest.raises(PrefillUnsupported):
        h.scale([[("user", "How much, 0-100?"), ("assistant", "About ")]], n=2)


def test_prefill_of_and_with_prefills() -> None:
    convs = [to_messages("a"), to_messages("b", system="s")]
    assert [prefill_of(m) for m in with_prefills(convs, "P")] == ["P", "P"]
    assert with_prefills(convs, None) == tuple(convs)
    assert prefill_of(to_messages("a")) == "" and prefill_of(()) == ""


def test_a_template_less_model_sees_a_transcript_open_in_the_prefill() -> None:
    bare = SimpleNamespace(chat_template=None)
    msgs = to_messages("Say hi") + (("assistant", "Hello"),)
    assert render_chat(bare, msgs) == "User: Say hi\nAssistant: Hello"
    assert render_chat(bare, to_messages("Say hi")) == "User: Say hi\nAssistant:"


# -- the engine carries prefilled conversations unchanged -----------------------------------
def test_the_engine_serves_prefills_as_its_provider_does(tmp_path: Path) -> None:
    from behavtest.engine import EngineProvider, ensure_engine, stop_engines
    from behavtest.providers import ProviderConfig

    spec = "double/ed\nthen=0.5,s\n=0.5"
    address = ensure_engine(spec, ProviderConfig(), tmp_path)
    try:
        local = ScriptedProvider.from_spec(spec.split("/", 1)[1])
        msgs = to_messages("Write a word") + (("assistant", "Start"),)
        reqs = [Request(msgs, GenerationSettings(stop_after_lines=1), seed=s) for s in range(6)]
        with EngineProvider(address) as p:
            assert p.prefills
            assert p.generate(reqs) == local.generate(reqs)
            got = handle(p).sample(list(msgs), n=4, stop_after_lines=1)
            assert all(t in ("Started\n", "Starts\n") for t in got.texts)
    finally:
        stop_engines(tmp_path)


# -- openai/: /apply-template, then /v1/completions -----------------------------------------
pytest.importorskip("openai")
try:  # openai >= 3 is built on httpx2; older releases on httpx
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

from behavtest.providers.openai import OpenAIProvider  # noqa: E402


class TemplateServer:
    """A scripted llama.cpp-like server: /apply-template renders a ChatML-ish
    transcript (or answers ``template_status``), /v1/completions echoes."""

    def __init__(self, template_status: int = 200) -> None:
        self.template_status = template_status
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: Any) -> Any:
        body = json.loads(request.content) if request.content else {}
        self.seen.append((request.url.path, body))
        if request.url.path == "/apply-template":
            if self.template_status != 200:
                return httpx.Response(self.template_status, json={"error": "no such endpoint"})
            text = "".join(f"<{m['role']}>{m['content']}\n" for m in body["messages"])
            return httpx.Response(200, json={"prompt": text + "<assistant>"})
        if request.url.path == "/v1/completions":
            return httpx.Response(200, json={
                "id": "c", "object": "text_completion", "created": 1, "model": "m",
                "choices": [{"index": 0, "text": "ne\nline two\nthree\n", "finish_reason": "stop",
                             "logprobs": None}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}})
        return httpx.Response(500, json={"error": f"unexpected {request.url.path}"})


def served(server: TemplateServer, base_url: str = "http://double.test/v1",
           **options: Any) -> OpenAIProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(server))
    return OpenAIProvider("m", base_url=base_url, http_client=client, retry_backoff=0.01,
                          **options)


PREFILLED = to_messages("Write two lines", system="Be brief.") + (("assistant", "Line o"),)


def test_a_prefill_is_rendered_by_the_server_then_completed_raw() -> None:
    server = TemplateServer()
    p = served(server)
    assert p.prefills
    settings = GenerationSettings(temperature=0.5, max_tokens=20, stop_after_lines=2)
    got = p.generate([Request(PREFILLED, settings, seed=s) for s in (1, 2, 3)])
    assert got == [Completion("ne\nline two\n", 4, "lines")] * 3  # lines counted from the prefill
    paths = [path for path, _ in server.seen]
    assert paths.count("/apply-template") == 1 and paths.count("/v1/completions") == 3
    template = next(b for path, b in server.seen if path == "/apply-template")
    assert template == {"messages": [{"role": "system", "content": "Be brief."},
                                     {"role": "user", "content": "Write two lines"}],
                        "add_generation_prompt": True}
    completions = [b for path, b in server.seen if path == "/v1/completions"]
    assert completions[0]["prompt"] == "<system>Be brief.\n<user>Write two lines\n<assistant>Line o"
    assert {b["seed"] for b in completions} == {1, 2, 3}
    assert completions[0]["max_tokens"] == 20 and completions[0]["temperature"] == 0.5
    assert "messages" not in completions[0]
    p.close()


@pytest.mark.parametrize("status", [404, 501])
def test_a_server_without_apply_template_refuses_in_one_line(status: int) -> None:
    server = TemplateServer(template_status=status)
    p = served(server)
    req = Request(PREFILLED, GenerationSettings(max_tokens=4), seed=0)
    with pytest.raises(PrefillUnsupported) as err:
        p.generate([req])
    line = str(err.value)
    assert f"/apply-template answered {status}" in line and "fix:" in line and "\n" not in line
    assert "llama-server" in line
    assert [path for path, _ in server.seen] == ["/apply-template"]  # probed once, no retries
    with pytest.raises(PrefillUnsupported):
        p.generate([req])
    assert len(server.seen) == 1  # remembered: no second probe
    p.close()


def test_the_openai_api_refuses_a_prefill_without_a_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-planted-SECRET-0123456789abcdef")
    server = TemplateServer()
    p = served(server, base_url="https://api.openai.com/v1")
    assert not p.prefills
    with pytest.raises(PrefillUnsupported, match="the OpenAI chat API") as err:
        p.generate([Request(PREFILLED, GenerationSettings(max_tokens=4), seed=0)])
    assert "SECRET" not in str(err.value) and server.seen == []
    with pytest.raises(PrefillUnsupported):  # the handle refuses before the provider is asked
        handle(p).sample(list(PREFILLED), n=1)
    p.close()


def test_option_probabilities_after_a_prefill_are_refused_over_the_api() -> None:
    p = served(TemplateServer())
    with pytest.raises(PrefillUnsupported, match="option probabilities after an assistant prefill"):
        p.continuation_logprobs(PREFILLED, ["A", "B"])
    p.close()
