"""The model engine: one provider process serving many clients (behavtest.engine).

Fast tests put the test double (``double/yes=0.3,no=0.7``) behind a real
engine process and check what workers rely on: the same completions, in
order, as the provider called directly with the same requests; rows of
several clients batched together; one engine however many processes start
it at once; the provider config reaches the engine whole; a dead engine
is one line; the engine ends with its owner or when idle. One slow test
does the same on the embedded model, where the batch a row lands in could
change its sample (it must not).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from behavtest.engine import (
    AUTHKEY_ENV,
    EngineDied,
    EngineError,
    EngineProvider,
    engine_id,
    engine_paths,
    ensure_engine,
    stop_engines,
)
from behavtest.errors import InvalidArgument, ModelNotFound, ProviderError
from behavtest.providers import Provider, ProviderConfig, Request, to_messages
from behavtest.providers.double import ScriptedProvider
from behavtest.providers.kind import DEFAULT_BATCH_SIZE
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.settings import GenerationSettings, RunSettings

SPEC = "double/yes=0.3,no=0.7"
SRC = str(Path(__file__).resolve().parent.parent / "src")
SETTINGS = (GenerationSettings(max_tokens=32), GenerationSettings(temperature=0.7, max_tokens=8))


def direct() -> ScriptedProvider:
    return ScriptedProvider.from_spec(SPEC.split("/", 1)[1])


def requests_for(client: int, n: int = 25) -> list[Request]:
    """Distinct requests per client: own prompts, seeds and two settings mixed."""
    return [
        Request(to_messages(f"client {client} question {i % 3}"), SETTINGS[i % 2],
                seed=1_000_003 * client + 7919 * i)
        for i in range(n)
    ]


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.is_file() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One double engine for the module; a 200 ms window so that rows sent
    together by several threads reliably meet in one batch."""
    run_dir = tmp_path_factory.mktemp("engine")
    address = ensure_engine(SPEC, ProviderConfig(), run_dir, window_ms=200)
    yield address
    stop_engines(run_dir)


def test_client_is_a_provider_and_names_the_engines_model(engine: str) -> None:
    with EngineProvider(engine) as p:
        assert isinstance(p, Provider)
        assert p.name == direct().name
        assert p.fingerprint() == direct().fingerprint()
        assert p.batch_size == DEFAULT_BATCH_SIZE  # ModelHandle draws in engine-sized chunks
        assert p.generate([]) == []
        lp = p.continuation_logprobs(to_messages("q"), ["A", "B"])
        assert lp == direct().continuation_logprobs(to_messages("q"), ["A", "B"])
        assert p.scores_replies  # the double scores whole replies: so does its engine
        whole = p.reply_logprobs(to_messages("q"), ["yes", "maybe"])
        assert whole == direct().reply_logprobs(to_messages("q"), ["yes", "maybe"])


def test_eight_client_threads_get_exactly_the_direct_completions_in_order(engine: str) -> None:
    results: dict[int, list[object]] = {}
    barrier = threading.Barrier(8)

    def client(k: int) -> None:
        with EngineProvider(engine) as p:
            barrier.wait()
            results[k] = list(p.generate(requests_for(k)))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == list(range(8))
    for k in range(8):
        assert results[k] == direct().generate(requests_for(k)), f"client {k}"


def test_one_client_shared_by_threads_is_thread_safe(engine: str) -> None:
    results: dict[int, list[object]] = {}
    with EngineProvider(engine) as p:
        threads = [
            threading.Thread(target=lambda k=k: results.__setitem__(k, p.generate(requests_for(k))))
            for k in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    for k in range(8):
        assert results[k] == direct().generate(requests_for(k))


def test_rows_of_several_clients_are_batched_together(engine: str) -> None:
    """8 clients x 3 rows sent at once: far fewer provider calls than requests,
    and batches that mix clients (up to the engine's batch of rows)."""
    clients = [EngineProvider(engine) for _ in range(8)]
    before = clients[0].stats()
    barrier = threading.Barrier(8)
    same = GenerationSettings(max_tokens=16)

    def client(k: int) -> None:
        barrier.wait()
        reqs = [Request(to_messages(f"c{k}"), same, seed=100 * k + i) for i in range(3)]
        assert clients[k].generate(reqs) == direct().generate(reqs)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    after = clients[0].stats()
    for c in clients:
        c.close()
    batches = after["batches"] - before["batches"]
    assert after["jobs"] - before["jobs"] == 8
    assert after["rows"] - before["rows"] == 24
    assert batches < 8, after  # fewer provider calls than requests (2 when all meet)
    assert after["mixed_batches"] > before["mixed_batches"]
    assert after["max_clients_in_batch"] >= 2
    assert after["largest_batch"] <= DEFAULT_BATCH_SIZE  # never more than the engine's batch


def test_model_handle_through_the_engine_draws_the_direct_samples(engine: str) -> None:
    run = RunSettings(seed=3, samples=40, generation=GenerationSettings(max_tokens=8))
    with EngineProvider(engine) as p:
        via = ModelHandle(SPEC, lambda: p, run, SampleCache(None, "off"))
        got = via.sample(prompts=["Say yes or no.", "Again?"], n=40)
        here = ModelHandle(SPEC, direct, run, SampleCache(None, "off"))
        assert got.texts == here.sample(prompts=["Say yes or no.", "Again?"], n=40).texts


class Flaky(ScriptedProvider):
    """The double, failing any batch that holds a prompt saying 'boom'."""

    def generate(self, requests):  # type: ignore[no-untyped-def]
        if any("boom" in r.messages[-1][1] for r in requests):
            raise ValueError("boom")
        return super().generate(requests)


def test_a_failing_request_fails_only_its_client_not_its_batch_mates() -> None:
    """In-process Batcher: a bad request merged with a good one is retried apart;
    the good client gets its completions, the bad one its error."""
    from behavtest.engine import Batcher

    batcher = Batcher(Flaky({"yes": 0.3, "no": 0.7}), max_batch=16, window_ms=300)
    worker = threading.Thread(target=batcher.run, daemon=True)
    worker.start()
    good = requests_for(1, 5)
    bad = [Request(to_messages("boom"), SETTINGS[0], seed=i) for i in range(3)]
    out: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def run(key: str, reqs: list[Request]) -> None:
        barrier.wait()
        try:
            out[key] = batcher.generate(1 if key == "good" else 2, reqs)
        except ValueError as exc:
            out[key] = exc

    threads = [threading.Thread(target=run, args=("good", [r for r in good if r.settings ==
                                                           SETTINGS[0]])),
               threading.Thread(target=run, args=("bad", bad))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    batcher.stop()
    assert out["good"] == direct().generate([r for r in good if r.settings == SETTINGS[0]])
    assert isinstance(out["bad"], ValueError)
    assert batcher.stats.mixed_batches == 1  # they did share the batch that failed


CLIENT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {src!r})
    from behavtest.engine import EngineProvider, ensure_engine
    from behavtest.providers import ProviderConfig, Request, to_messages
    from behavtest.settings import GenerationSettings
    k = int(sys.argv[1])
    address = ensure_engine({spec!r}, ProviderConfig(), {run_dir!r}, owner_pid={owner})
    p = EngineProvider(address)
    reqs = [Request(to_messages(f"p{{k}}"), GenerationSettings(max_tokens=4), seed=k * 1000 + i)
            for i in range(20)]
    print(json.dumps({{"engine": p.pid, "texts": [c.text for c in p.generate(reqs)],
                      "heavy": [m for m in ("torch", "transformers") if m in sys.modules]}}))
    """
)


def test_concurrent_ensure_engine_in_eight_processes_starts_exactly_one(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    script = CLIENT_SCRIPT.format(src=SRC, spec=SPEC, run_dir=str(run_dir), owner=os.getpid())
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(k)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for k in range(8)
    ]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outs.append(json.loads(out))
    try:
        engines = {o["engine"] for o in outs}
        assert len(engines) == 1
        paths = engine_paths(run_dir, engine_id(SPEC, ProviderConfig(), os.getpid()))
        assert paths.log.read_text().count("serving ") == 1  # started once
        for k, o in enumerate(outs):
            assert o["heavy"] == []  # clients never import torch/transformers
            reqs = [Request(to_messages(f"p{k}"), GenerationSettings(max_tokens=4),
                            seed=k * 1000 + i) for i in range(20)]
            assert o["texts"] == [c.text for c in direct().generate(reqs)]
    finally:
        assert stop_engines(run_dir) == 1
    assert wait_gone(engines.pop())


def test_the_engine_loads_with_the_config_it_is_given(tmp_path: Path) -> None:
    """The config reaches the engine whole; its batch size is the engine's
    batch, and another config is another engine."""
    config = ProviderConfig(batch_size=4, threads=1)
    assert engine_id(SPEC, config, os.getpid()) != engine_id(SPEC, ProviderConfig(), os.getpid())
    try:
        with EngineProvider(ensure_engine(SPEC, config, tmp_path)) as p:
            assert p.batch_size == 4
            assert p.info["config"] == config.to_json()
            assert p.generate(requests_for(3, 9)) == direct().generate(requests_for(3, 9))
            assert p.stats()["largest_batch"] <= 4
    finally:
        assert stop_engines(tmp_path) == 1


def test_a_bad_config_json_fails_the_engine_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, AUTHKEY_ENV: "00" * 32, "PYTHONPATH": SRC}
    proc = subprocess.run(
        [sys.executable, "-m", "behavtest.engine", "--spec", SPEC,
         "--address", str(tmp_path / "engine.sock"), "--config-json", '{"batch": 4}'],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith(f"ERROR {InvalidArgument.__name__} unknown provider config fields")
    assert not (tmp_path / "engine.sock").exists()


def test_a_dead_engine_is_one_line(tmp_path: Path) -> None:
    address = ensure_engine(SPEC, ProviderConfig(), tmp_path)
    p = EngineProvider(address)
    os.kill(p.pid, signal.SIGKILL)
    assert wait_gone(p.pid)
    reqs = requests_for(0, 3)
    for _ in range(2):  # and stays dead, without hanging
        with pytest.raises(EngineDied) as info:
            p.generate(reqs)
        msg = str(info.value)
        assert "\n" not in msg and f"pid {p.pid}" in msg and "stopped answering" in msg
        assert isinstance(info.value, ProviderError)
    with pytest.raises(EngineError, match="no model engine answers"):
        EngineProvider(address)


def test_a_provider_error_comes_back_as_one_line_and_the_engine_goes_on(engine: str) -> None:
    bad = [Request(to_messages("q"), SETTINGS[0], seed=-1)]  # the double cannot hash it
    with EngineProvider(engine) as p:
        with pytest.raises(EngineError, match="OverflowError") as info:
            p.generate(bad)
        assert "\n" not in str(info.value)
        assert p.generate(requests_for(2, 3)) == direct().generate(requests_for(2, 3))


def test_a_wrong_key_is_refused_in_one_line(engine: str) -> None:
    with pytest.raises(EngineError) as info:
        EngineProvider(engine, authkey=b"not the key")
    assert "\n" not in str(info.value)


def test_a_spec_that_cannot_load_fails_once_with_its_own_error(tmp_path: Path) -> None:
    spec = "hf/./no/such/checkpoint"
    with pytest.raises(ModelNotFound, match="does not exist") as first:
        ensure_engine(spec, ProviderConfig(), tmp_path)
    log = engine_paths(tmp_path, engine_id(spec, ProviderConfig(), os.getpid())).log
    starts = log.read_text().count("ERROR ")
    with pytest.raises(ModelNotFound) as again:  # remembered: no second start
        ensure_engine(spec, ProviderConfig(), tmp_path)
    assert log.read_text().count("ERROR ") == starts == 1
    assert str(again.value) == str(first.value) and "\n" not in str(first.value)


def test_the_engine_ends_with_its_owner(tmp_path: Path) -> None:
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        address = ensure_engine(SPEC, ProviderConfig(), tmp_path, owner_pid=owner.pid)
        with EngineProvider(address) as p:
            pid = p.pid
            owner.kill()
            owner.wait()
            assert wait_gone(pid, 5.0)
    finally:
        owner.kill()
        owner.wait()


def test_the_engine_exits_when_idle(tmp_path: Path) -> None:
    address = ensure_engine(SPEC, ProviderConfig(), tmp_path, idle_exit=0.5)
    with EngineProvider(address) as p:
        pid = p.pid
        time.sleep(1.0)  # a connected client keeps it alive however long it is quiet
        assert p.generate(requests_for(1, 2)) == direct().generate(requests_for(1, 2))
    assert wait_gone(pid, 5.0)
    assert not os.path.exists(address)  # it removes its socket


# -- the embedded model ---------------------------------------------------------------
@pytest.mark.slow
def test_embedded_through_the_engine_equals_the_provider_directly(tmp_path: Path) -> None:
    """Same seeds, same samples, whether a row is alone, in its own batch, or
    merged with another client's rows; option log-probabilities equal to 1e-6."""
    pytest.importorskip("torch")
    from behavtest.providers import load_provider

    # the same threads: same float reductions; fp32: bf16's rounding may change a
    # sample with its batch (bench/batch_independence.py measures how often)
    opts = ProviderConfig(batch_size=8, threads=1, dtype="float32")
    address = ensure_engine("embedded", opts, tmp_path)
    try:
        local = load_provider("embedded", opts)
        short = GenerationSettings(temperature=1.0, max_tokens=16)
        a = [Request(to_messages("Name a fruit."), short, seed=s) for s in range(4)]
        b = [Request(to_messages("Write a long poem about the sea."), short, seed=s)
             for s in range(10, 14)]
        want_a, want_b = local.generate(a), local.generate(b)
        with EngineProvider(address) as p:
            assert p.fingerprint() == local.fingerprint()
            assert p.generate(a) == want_a
            got: dict[str, object] = {}
            clients = [EngineProvider(address), EngineProvider(address)]
            barrier = threading.Barrier(2)

            def run(key: str, client: EngineProvider, reqs: list[Request]) -> None:
                barrier.wait()
                got[key] = client.generate(reqs)

            threads = [threading.Thread(target=run, args=("a", clients[0], a)),
                       threading.Thread(target=run, args=("b", clients[1], b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(300)
            assert got == {"a": want_a, "b": want_b}
            assert p.stats()["mixed_batches"] >= 1  # the two clients did share a batch
            for c in clients:
                c.close()
            msgs = to_messages("Is the sky blue? Answer A (yes) or B (no).")
            conts = ["A", "B", " yes, it is"]
            for x, y in zip(p.continuation_logprobs(msgs, conts),
                            local.continuation_logprobs(msgs, conts), strict=True):
                assert math.isclose(x, y, rel_tol=0, abs_tol=1e-6)
    finally:
        stop_engines(tmp_path)
