"""One local model per machine, shared by every xdist worker: the model engine.

Why: under ``pytest -n 8`` every worker that samples loads its own copy of a
local model (bench/memory.py: 7006 MB peak at ``-n 8`` against 1129 MB at
``-n 0``). The engine is one process that loads the provider once and serves
it to all workers over a Unix socket, batching rows from all of them together,
so the model runs full batches even when each worker asks for a few samples.

Server: ``python -m behavtest.engine --spec SPEC --address SOCKET [--batch-size N]
[--threads T] [--idle-exit S] [--owner-pid PID]``. It loads the provider with
``registry.load_provider`` *before* it listens, so a socket that answers is a
model that is ready. It listens with ``multiprocessing.connection.Listener``
(AF_UNIX, HMAC challenge with an authkey taken from ``$BEHAVTEST_ENGINE_AUTHKEY``
(hex) or from ``--authkey-file``, a 0600 file; never from the command line,
which any local user can read in ``ps``). One thread per client connection;
every requested row goes into one queue; one batcher thread owns the
provider and is the only thread that touches it.

Batching (the window): the batcher takes queued rows in arrival order, from
all clients, up to ``max_batch`` (= the provider's batch size) rows with the
same generation settings, and calls ``provider.generate`` once on them. When
fewer than ``max_batch`` such rows are queued it waits at most ``window_ms``
(default 5 ms) for more before running what it has. A full batch never waits.
5 ms is nothing next to one batch (16 rows x 64 tokens of the embedded model
take seconds on CPU) and is long enough for rows that workers send "at the
same time" to meet. Rows, not requests, are the unit: a client's request may
be split over two batches and completed by both; this is safe because the
hf/ provider draws each row with its own seeded generator, so a row's sample
does not depend on the batch it lands in. Each client gets its completions
back in its own order. ``continuation_logprobs`` runs on the batcher thread
too, one call at a time (it is unbatched in the provider); ``fingerprint``
and ``name`` are read once at start and answered by the client's thread.

Wire format: JSON over ``send_bytes``/``recv_bytes``, never pickle, so
nothing a peer sends is executed even if the key leaks; requests and
completions are plain lists of text and numbers.

Lifetime: the engine exits when told to (``stop_engine``), when its *owner*
process (``--owner-pid``: the pytest controller under xdist; default its
parent) is gone, checked every 0.25 s, or after ``--idle-exit`` seconds
(default 60) with no client connected. It is started detached from the worker
that happens to start it (a plain child process, not a multiprocessing child
that dies with it): workers come and go (xdist restarts crashed ones), the
run does not, so the engine lives as long as the run's controller and at most
``idle_exit`` seconds after its last client.

Client: :class:`EngineProvider` implements the Provider protocol without
importing torch or transformers (workers stay small), is thread-safe (one
request at a time per connection), and turns a dead engine into one
:class:`EngineDied` line. :func:`ensure_engine` starts the engine once per
(spec, options, owner) under a file lock, race-free however many workers
call it at once, and returns the address to connect to.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from behavtest.errors import BehavtestError, InvalidArgument, ModelNotFound
from behavtest.providers.base import Completion, Messages, Provider, Request
from behavtest.providers.hf import HFOptions
from behavtest.settings import GenerationSettings

AUTHKEY_ENV = "BEHAVTEST_ENGINE_AUTHKEY"
DEFAULT_WINDOW_MS = 5.0
DEFAULT_IDLE_EXIT = 60.0
PROTOCOL = 1
_POLL = 0.25  # seconds between checks of the owner, the idle timer and stop requests
_MAX_SOCKET_PATH = 100  # AF_UNIX path limit: 107 bytes on Linux, 103 on macOS
_FAIL_PREFIX = "ERROR "  # last log line of an engine that could not start


class EngineError(BehavtestError):
    """The engine could not be started or reached, or failed a request."""


class EngineDied(EngineError):
    """The engine stopped while a client was connected."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


# -- wire format ---------------------------------------------------------------
def _encode_request(r: Request) -> list[Any]:
    return [[list(m) for m in r.messages], r.settings.as_dict(), r.seed]


def _decode_request(raw: list[Any]) -> Request:
    messages, settings, seed = raw
    msgs: Messages = tuple((str(role), str(content)) for role, content in messages)
    return Request(msgs, GenerationSettings(**settings), int(seed))


def _encode_completion(c: Completion) -> list[Any]:
    return [c.text, c.tokens, c.finish]


def _decode_completion(raw: list[Any]) -> Completion:
    text, tokens, finish = raw
    return Completion(text=str(text), tokens=int(tokens), finish=str(finish))


_ERRORS: dict[str, type[BehavtestError]] = {
    "InvalidArgument": InvalidArgument,
    "ModelNotFound": ModelNotFound,
    "EngineError": EngineError,
}


def _error_reply(exc: BaseException) -> dict[str, Any]:
    """A failure as the client will raise it: behavtest's own errors keep their
    class and one-line message; anything else becomes an EngineError naming it."""
    name = type(exc).__name__
    if isinstance(exc, BehavtestError):
        return {"ok": False, "error": name if name in _ERRORS else "BehavtestError",
                "message": _first_line(exc)}
    return {"ok": False, "error": "EngineError",
            "message": f"the model engine failed: {name}: {_first_line(exc)}"}


def _raise_reply(reply: dict[str, Any]) -> None:
    cls = _ERRORS.get(str(reply.get("error")), BehavtestError)
    raise cls(str(reply.get("message", "the model engine failed")))


# -- the batcher -----------------------------------------------------------------
@dataclass(eq=False)
class _Job:
    """One generate request of one client: its rows may be split over batches."""

    client: int
    requests: list[Request]
    results: list[Completion | None]
    remaining: int
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


@dataclass(eq=False)
class _Call:
    """A serial operation (continuation_logprobs) run on the batcher thread."""

    fn: Any
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


@dataclass
class BatchStats:
    """What the batcher did: for tests and benchmarks (``stats`` request)."""

    batches: int = 0
    rows: int = 0
    jobs: int = 0
    mixed_batches: int = 0  # batches holding rows of two or more clients
    max_clients_in_batch: int = 0
    largest_batch: int = 0
    calls: int = 0  # serial calls (continuation_logprobs)
    busy_seconds: float = 0.0


class Batcher:
    """Owns the provider: merges queued rows of all clients into batches.

    ``generate`` and ``call`` are called from client threads and block until
    their result is ready; ``run`` is the batcher thread's loop.
    """

    def __init__(self, provider: Provider, max_batch: int, window_ms: float = DEFAULT_WINDOW_MS):
        self.provider = provider
        self.max_batch = max(1, max_batch)
        self.window = max(0.0, window_ms) / 1000.0
        self.stats = BatchStats()
        self._cv = threading.Condition()
        self._rows: deque[tuple[_Job, int]] = deque()
        self._calls: deque[_Call] = deque()
        self._stopping = False

    # -- client side ----------------------------------------------------------
    def generate(self, client: int, requests: list[Request]) -> list[Completion]:
        if not requests:
            return []
        job = _Job(client, requests, [None] * len(requests), len(requests))
        with self._cv:
            if self._stopping:
                raise EngineError("the model engine is shutting down")
            self.stats.jobs += 1
            self._rows.extend((job, i) for i in range(len(requests)))
            self._cv.notify_all()
        job.done.wait()
        if job.error is not None:
            raise job.error
        return [c for c in job.results if c is not None]

    def call(self, fn: Any) -> Any:
        c = _Call(fn)
        with self._cv:
            if self._stopping:
                raise EngineError("the model engine is shutting down")
            self._calls.append(c)
            self._cv.notify_all()
        c.done.wait()
        if c.error is not None:
            raise c.error
        return c.value

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()

    # -- batcher thread ---------------------------------------------------------
    def run(self) -> None:
        while True:
            work = self._next()
            if work is None:
                return
            t0 = time.perf_counter()
            if isinstance(work, _Call):
                self._run_call(work)
            else:
                self._run_batch(work)
            self.stats.busy_seconds += time.perf_counter() - t0

    def _matching(self, settings: GenerationSettings) -> int:
        n = 0
        for job, i in self._rows:
            if job.error is None and job.requests[i].settings == settings:
                n += 1
                if n >= self.max_batch:
                    break
        return n

    def _next(self) -> _Call | list[tuple[_Job, int]] | None:
        with self._cv:
            while True:
                if self._stopping:
                    return None
                if self._calls:
                    return self._calls.popleft()
                while self._rows and self._rows[0][0].error is not None:
                    self._rows.popleft()  # rows of a request that already failed
                if self._rows:
                    break
                self._cv.wait()
            job, i = self._rows[0]
            head = job.requests[i].settings
            deadline = time.monotonic() + self.window
            while self._matching(head) < self.max_batch and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cv.wait(left)
            taken: list[tuple[_Job, int]] = []
            kept: deque[tuple[_Job, int]] = deque()
            for row in self._rows:
                j, k = row
                if j.error is not None:
                    continue
                if len(taken) < self.max_batch and j.requests[k].settings == head:
                    taken.append(row)
                else:
                    kept.append(row)
            self._rows = kept
            return taken

    def _run_call(self, c: _Call) -> None:
        self.stats.calls += 1
        try:
            c.value = c.fn()
        except Exception as exc:
            c.error = exc
        c.done.set()

    def _run_batch(self, batch: list[tuple[_Job, int]]) -> None:
        clients = {j.client for j, _ in batch}
        s = self.stats
        s.batches += 1
        s.rows += len(batch)
        s.largest_batch = max(s.largest_batch, len(batch))
        s.max_clients_in_batch = max(s.max_clients_in_batch, len(clients))
        s.mixed_batches += len(clients) > 1
        try:
            self._deliver(batch, self._generate(batch))
            return
        except Exception as exc:
            jobs = list(dict.fromkeys(j for j, _ in batch))
            if len(jobs) == 1:
                self._fail(jobs[0], exc)
                return
        # Several requests shared the failed batch: run each alone, so one
        # client's bad request does not fail the others.
        for job in jobs:
            part = [row for row in batch if row[0] is job]
            try:
                self._deliver(part, self._generate(part))
            except Exception as exc:
                self._fail(job, exc)

    def _generate(self, rows: list[tuple[_Job, int]]) -> list[Completion]:
        out = self.provider.generate([j.requests[i] for j, i in rows])
        if len(out) != len(rows):
            raise EngineError(
                f"the provider returned {len(out)} completions for {len(rows)} requests"
            )
        return out

    def _deliver(self, rows: list[tuple[_Job, int]], completions: list[Completion]) -> None:
        for (job, i), c in zip(rows, completions, strict=True):
            job.results[i] = c
            job.remaining -= 1
            if job.remaining == 0 and job.error is None:
                job.done.set()

    def _fail(self, job: _Job, exc: BaseException) -> None:
        job.error = exc
        job.done.set()


# -- the server ------------------------------------------------------------------
def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc, or None where there is no /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return fields[0], fields[19]


def _alive(pid: int, start: str | None) -> bool:
    """Whether ``pid`` is still the process it was (not dead, a zombie, or reused)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _proc_stat(pid)
    if stat is None:
        return True
    state, started = stat
    return state != "Z" and (start is None or started == start)


class EngineServer:
    """Accepts clients and serves one provider through a :class:`Batcher`."""

    def __init__(
        self,
        provider: Provider,
        spec: str,
        address: str,
        authkey: bytes,
        *,
        max_batch: int,
        window_ms: float = DEFAULT_WINDOW_MS,
        idle_exit: float = DEFAULT_IDLE_EXIT,
        owner_pid: int | None = None,
        log_path: str | None = None,
    ) -> None:
        self.spec = spec
        self.address = address
        self.authkey = authkey
        self.idle_exit = idle_exit
        self.owner_pid = owner_pid
        stat = _proc_stat(owner_pid) if owner_pid else None
        self._owner_start = stat[1] if stat else None
        self.log_path = log_path
        self.batcher = Batcher(provider, max_batch, window_ms)
        self.info = {
            "protocol": PROTOCOL,
            "pid": os.getpid(),
            "spec": spec,
            "name": provider.name,
            "fingerprint": provider.fingerprint(),
            "options": _options_dict(provider, max_batch),
            "max_batch": self.batcher.max_batch,
            "window_ms": window_ms,
            "owner_pid": owner_pid,
            "log": log_path,
        }
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._clients = 0
        self._next_id = 0
        self._idle_since = time.monotonic()
        self._listener: Listener | None = None

    def log(self, text: str) -> None:
        print(f"behavtest engine [{time.strftime('%H:%M:%S')}] {text}", flush=True)

    def serve(self) -> str:
        """Listen until stopped; returns why it stopped."""
        self._listener = _listen(self.address, self.authkey)
        threading.Thread(target=self.batcher.run, name="batcher", daemon=True).start()
        threading.Thread(target=self._accept, name="accept", daemon=True).start()
        self.log(f"serving {self.spec} at {self.address} (batch {self.batcher.max_batch})")
        try:
            while True:
                if self._stop.wait(_POLL):
                    return "told to stop"
                if self.owner_pid and not _alive(self.owner_pid, self._owner_start):
                    return f"owner process {self.owner_pid} is gone"
                with self._lock:
                    idle = self._clients == 0 and (
                        time.monotonic() - self._idle_since > self.idle_exit
                    )
                if idle:
                    return f"no client for {self.idle_exit:g} s"
        finally:
            self.batcher.stop()
            with contextlib.suppress(OSError):
                self._listener.close()  # unlinks the socket file

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn = self._listener.accept()
            except (AuthenticationError, EOFError, ConnectionError) as exc:
                self.log(f"refused a connection: {_first_line(exc)}")
                continue
            except OSError:
                return  # listener closed
            with self._lock:
                self._clients += 1
                self._next_id += 1
                cid = self._next_id
            threading.Thread(
                target=self._client, args=(conn, cid), name=f"client-{cid}", daemon=True
            ).start()

    def _client(self, conn: Connection, cid: int) -> None:
        try:
            while True:
                try:
                    raw = conn.recv_bytes()
                except (EOFError, OSError):
                    return
                op = None
                try:
                    msg = json.loads(raw)
                    op = msg.get("op")
                    reply = {"ok": True, "value": self._handle(cid, msg)}
                except Exception as exc:
                    reply = _error_reply(exc)
                try:
                    conn.send_bytes(json.dumps(reply).encode())
                except OSError:
                    return
                if op == "shutdown":
                    self.log(f"client {cid} asked the engine to stop")
                    self._stop.set()
        finally:
            conn.close()
            with self._lock:
                self._clients -= 1
                if self._clients == 0:
                    self._idle_since = time.monotonic()

    def _handle(self, cid: int, msg: dict[str, Any]) -> Any:
        op = msg.get("op")
        if op == "generate":
            reqs = [_decode_request(r) for r in msg["requests"]]
            return [_encode_completion(c) for c in self.batcher.generate(cid, reqs)]
        if op == "logprobs":
            messages: Messages = tuple((str(r), str(c)) for r, c in msg["messages"])
            conts = [str(c) for c in msg["continuations"]]
            provider = self.batcher.provider
            return list(self.batcher.call(lambda: provider.continuation_logprobs(messages, conts)))
        if op == "hello":
            return self.info
        if op == "stats":
            with self._lock:
                clients = self._clients
            return {**dataclasses.asdict(self.batcher.stats), "clients": clients}
        if op == "shutdown":
            return "stopping"
        raise EngineError(f"unknown engine request {op!r}")


def _options_dict(provider: Provider, max_batch: int) -> dict[str, Any]:
    options = getattr(provider, "options", None)
    if dataclasses.is_dataclass(options) and not isinstance(options, type):
        return dataclasses.asdict(options)
    return dataclasses.asdict(HFOptions(batch_size=max_batch))


def _listen(address: str, authkey: bytes) -> Listener:
    """A Listener on ``address``; a stale socket file (no engine behind it) is removed,
    a live one is an error (another engine serves there)."""
    if os.path.exists(address):
        try:
            Client(address, family="AF_UNIX", authkey=authkey).close()
        except (ConnectionRefusedError, FileNotFoundError):
            os.unlink(address)
        except (OSError, EOFError, AuthenticationError):
            raise EngineError(f"another process listens at {address}") from None
        else:
            raise EngineError(f"another model engine already serves at {address}")
    return Listener(address, family="AF_UNIX", backlog=64, authkey=authkey)


def _server_authkey(key_file: str | None) -> tuple[bytes, bool]:
    """The authkey, and whether it came from the environment (ensure_engine's way,
    in which case the engine removes its key file when it exits)."""
    raw = os.environ.pop(AUTHKEY_ENV, None)  # not passed on to anything the provider starts
    if raw:
        return bytes.fromhex(raw.strip()), True
    if key_file:
        return _read_key_file(Path(key_file)), False
    raise InvalidArgument(
        f"no engine authkey; fix: set ${AUTHKEY_ENV} (hex) or pass --authkey-file (mode 0600)"
    )


def _options_from_args(args: argparse.Namespace) -> HFOptions:
    kwargs: dict[str, Any] = {"batch_size": args.batch_size}
    if args.threads is not None:
        kwargs["threads"] = args.threads
    if args.device is not None:
        kwargs["device"] = args.device
    if args.dtype is not None:
        kwargs["dtype"] = args.dtype
    known = {f.name for f in dataclasses.fields(HFOptions)}
    for item in args.option:
        key, eq, value = item.partition("=")
        if not eq or key not in known:
            raise InvalidArgument(
                f"--option {item!r} is not NAME=JSON with NAME one of {', '.join(sorted(known))}"
            )
        kwargs[key] = json.loads(value)
    return HFOptions(**kwargs)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m behavtest.engine",
        description="Serve one model to many behavtest workers over a Unix socket.",
    )
    ap.add_argument("--spec", required=True, help="model spec, e.g. embedded or hf/./ckpt")
    ap.add_argument("--address", required=True, help="Unix socket path to listen on")
    ap.add_argument("--batch-size", type=int, default=HFOptions().batch_size,
                    help="rows per provider call (the provider's batch size)")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    ap.add_argument("--device", default=None)
    ap.add_argument("--dtype", default=None)
    ap.add_argument("--option", action="append", default=[],
                    help="any other HFOptions field, NAME=JSON (repeatable)")
    ap.add_argument("--window-ms", type=float, default=DEFAULT_WINDOW_MS,
                    help="longest wait for more rows when a batch is not full")
    ap.add_argument("--idle-exit", type=float, default=DEFAULT_IDLE_EXIT,
                    help="exit after this many seconds with no client connected")
    ap.add_argument("--owner-pid", type=int, default=None,
                    help="exit when this process is gone (default: the parent)")
    ap.add_argument("--authkey-file", default=None,
                    help=f"0600 file holding the hex authkey (if ${AUTHKEY_ENV} is unset)")
    ap.add_argument("--log", default=None, help="this engine's log file (reported to clients)")
    args = ap.parse_args(argv)
    owner = args.owner_pid if args.owner_pid is not None else os.getppid()
    server: EngineServer | None = None
    own_key = False

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    started = time.perf_counter()
    try:
        from behavtest.providers.registry import load_provider

        key, own_key = _server_authkey(args.authkey_file)
        options = _options_from_args(args)
        provider = load_provider(args.spec, options)
        server = EngineServer(
            provider, args.spec, args.address, key, max_batch=options.batch_size,
            window_ms=args.window_ms, idle_exit=args.idle_exit, owner_pid=owner,
            log_path=args.log,
        )
        server.log(f"loaded {provider.name} in {time.perf_counter() - started:.1f} s")
        why = server.serve()
    except (KeyboardInterrupt, SystemExit) as exc:
        why = f"interrupted ({type(exc).__name__})"
    except BaseException as exc:  # noqa: BLE001 - reported as one line for ensure_engine
        traceback.print_exc()
        name = type(exc).__name__ if isinstance(exc, BehavtestError) else "EngineError"
        text = _first_line(exc) if isinstance(exc, BehavtestError) else (
            f"the model engine for {args.spec} failed to start: "
            f"{type(exc).__name__}: {_first_line(exc)}"
        )
        print(f"{_FAIL_PREFIX}{name} {text}", flush=True)
        return 3
    if server is not None:
        server.log(f"exiting: {why}")
        with contextlib.suppress(OSError):
            os.unlink(args.address)
    if own_key:
        with contextlib.suppress(OSError):
            key_path(args.address).unlink()
    # Daemon threads may sit inside torch; skip interpreter teardown.
    sys.stdout.flush()
    os._exit(0)


# -- the client ----------------------------------------------------------------------
def key_path(address: str) -> Path:
    """Where the authkey of the engine at ``address`` is kept (mode 0600)."""
    return Path(address + ".key")


def _read_key_file(path: Path) -> bytes:
    try:
        st = path.stat()
        text = path.read_text().strip()
    except OSError as exc:
        raise EngineError(f"cannot read the engine key {path} ({_first_line(exc)})") from None
    if st.st_mode & 0o077 or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        raise EngineError(
            f"engine key {path} is readable by other users or not ours; fix: chmod 600 {path}"
        )
    return bytes.fromhex(text)


def read_authkey(address: str) -> bytes:
    """The authkey of the engine at ``address``, from its 0600 key file."""
    return _read_key_file(key_path(address))


class EngineProvider:
    """A Provider whose model lives in an engine process (see the module docstring).

    Imports nothing heavy; safe to share between threads (requests on one
    connection go one at a time). ``options.batch_size`` is the engine's batch,
    so ModelHandle draws (and commits to the cache) in engine-sized chunks.
    """

    is_engine_client = True  # the model is loaded in the engine, not here

    def __init__(self, address: str, authkey: bytes | None = None) -> None:
        self.address = address
        key = authkey if authkey is not None else read_authkey(address)
        self._lock = threading.Lock()
        self._dead: str | None = None
        try:
            self._conn: Connection | None = Client(address, family="AF_UNIX", authkey=key)
        except (OSError, EOFError, AuthenticationError) as exc:
            raise EngineError(
                f"no model engine answers at {address} ({_first_line(exc)}); "
                "fix: start it with behavtest.engine.ensure_engine"
            ) from None
        self.info: dict[str, Any] = {"pid": "?", "spec": "?", "log": None}
        self.info = dict(self._call({"op": "hello"}))
        if self.info.get("protocol") != PROTOCOL:
            self.close()
            raise EngineError(
                f"the model engine at {address} speaks protocol {self.info.get('protocol')}, "
                f"this behavtest {PROTOCOL}; fix: stop it (it was started by another version)"
            )
        known = {f.name for f in dataclasses.fields(HFOptions)}
        opts = {k: v for k, v in dict(self.info.get("options") or {}).items() if k in known}
        opts["batch_size"] = int(self.info["max_batch"])
        self.options = HFOptions(**opts)

    @property
    def name(self) -> str:
        return str(self.info["name"])

    @property
    def pid(self) -> int:
        return int(self.info["pid"])

    def fingerprint(self) -> str:
        return str(self.info["fingerprint"])

    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        if not requests:
            return []
        raw = self._call({"op": "generate", "requests": [_encode_request(r) for r in requests]})
        return [_decode_completion(c) for c in raw]

    def continuation_logprobs(
        self, messages: Messages, continuations: Sequence[str]
    ) -> list[float]:
        raw = self._call({"op": "logprobs", "messages": [list(m) for m in messages],
                          "continuations": list(continuations)})
        return [float(x) for x in raw]

    def stats(self) -> dict[str, Any]:
        """The engine's batching statistics (BatchStats fields plus ``clients``)."""
        return dict(self._call({"op": "stats"}))

    def shutdown(self) -> None:
        """Ask the engine to exit (it finishes nothing: call it when no one samples)."""
        with contextlib.suppress(EngineDied):
            self._call({"op": "shutdown"})
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._dead = self._dead or f"the connection to the model engine at {self.address} " \
                "was closed by this process"

    def __enter__(self) -> EngineProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, msg: dict[str, Any]) -> Any:
        with self._lock:
            if self._dead is not None or self._conn is None:
                raise EngineDied(self._dead or "the model engine connection is closed")
            try:
                self._conn.send_bytes(json.dumps(msg).encode())
                raw = self._conn.recv_bytes()
            except (EOFError, OSError) as exc:
                self._dead = self._died(exc)
                with contextlib.suppress(OSError):
                    self._conn.close()
                self._conn = None
                raise EngineDied(self._dead) from None
        reply = json.loads(raw)
        if not reply.get("ok"):
            _raise_reply(reply)
        return reply["value"]

    def _died(self, exc: BaseException) -> str:
        log = self.info.get("log")
        where = f"; its log: {log}" if log else ""
        return (
            f"the model engine serving {self.info.get('spec')} (pid {self.info.get('pid')}) "
            f"stopped answering ({type(exc).__name__}){where}; fix: rerun, and read that log "
            "if it happens again"
        )


# -- starting it once -----------------------------------------------------------------
_STARTED: list[subprocess.Popen[bytes]] = []  # kept so the processes are not reported as leaked


def engine_id(spec: str, options: HFOptions, owner_pid: int) -> str:
    """The engine's identity: what it serves and whose run it belongs to.

    The owner's start time is part of it (from /proc where there is one), so a
    new run whose controller reuses an old pid never connects to a previous
    run's engine.
    """
    stat = _proc_stat(owner_pid)
    blob = json.dumps(
        {"spec": spec, "options": dataclasses.asdict(options), "owner": owner_pid,
         "owner_start": stat[1] if stat else None, "protocol": PROTOCOL},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class EnginePaths:
    lock: Path
    address: str
    log: Path
    error: Path
    pointer: Path  # run_dir/engine-<id>.addr: the address, for stop_engines


def engine_paths(run_dir: Path, ident: str) -> EnginePaths:
    """Files of one engine. The socket sits in ``run_dir`` unless that path is too
    long for AF_UNIX; then in a private 0700 folder under the temp dir."""
    stem = f"engine-{ident}"
    sock = run_dir / f"{stem}.sock"
    if len(os.fsencode(str(sock))) > _MAX_SOCKET_PATH:
        sock = _private_tmp() / f"{stem}.sock"
    return EnginePaths(
        lock=run_dir / f"{stem}.lock", address=str(sock), log=run_dir / f"{stem}.log",
        error=run_dir / f"{stem}.error", pointer=run_dir / f"{stem}.addr",
    )


def _private_tmp() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"behavtest-{uid}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    st = os.lstat(folder)
    private = st.st_uid == uid and not st.st_mode & 0o077
    if not os.path.isdir(folder) or os.path.islink(folder) or not private:
        raise EngineError(
            f"{folder} is not a private folder of this user; fix: remove it, or use a shorter "
            "run folder for the engine"
        )
    return folder


def _answers(address: str) -> EngineProvider | None:
    if not os.path.exists(address) or not key_path(address).is_file():
        return None
    try:
        return EngineProvider(address)
    except EngineError:
        return None


def _write_key(path: Path) -> bytes:
    key = secrets.token_bytes(32)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key


def _option_flags(options: HFOptions) -> list[str]:
    flags = ["--batch-size", str(options.batch_size)]
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        if f.name == "batch_size" or value == f.default:
            continue
        if f.name in ("threads", "device", "dtype"):
            flags += [f"--{f.name}", str(value)]
        else:
            flags += ["--option", f"{f.name}={json.dumps(value)}"]
    return flags


def _failure(log: Path, spec: str, rc: int) -> BehavtestError:
    """The error an engine that exited while starting left as its last log line."""
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        lines = []
    last = lines[-1] if lines else ""
    if last.startswith(_FAIL_PREFIX):
        name, _, message = last[len(_FAIL_PREFIX) :].partition(" ")
        return _ERRORS.get(name, EngineError)(message)
    return EngineError(
        f"the model engine for {spec} exited with code {rc} while starting "
        f"({last[:200] or 'no output'}); full log: {log}"
    )


def ensure_engine(
    spec: str,
    options: HFOptions | None,
    run_dir: str | os.PathLike[str],
    *,
    owner_pid: int | None = None,
    idle_exit: float = DEFAULT_IDLE_EXIT,
    window_ms: float = DEFAULT_WINDOW_MS,
    start_timeout: float = 900.0,
) -> str:
    """The address of the engine serving ``spec`` for this run, started if need be.

    Race-free across processes: every caller takes ``run_dir/engine-<id>.lock``
    (a FileLock); under it, a caller whose engine answers returns at once and
    the first caller starts it and waits until it answers (loading happens
    before the engine listens), so eight workers starting together start
    exactly one engine; the others wait on the lock meanwhile. An engine that
    fails to start leaves its one-line error in ``engine-<id>.error``, and
    later callers raise it without trying again (one failed load per run, not
    one per worker).

    ``owner_pid`` (default: this process) is the process whose end ends the
    engine: pass the pytest controller's pid under xdist. Give ``options``
    with ``threads=None`` (or the machine's cores): the engine is the only
    process that computes. Connect with ``EngineProvider(address)``.
    """
    from filelock import FileLock, Timeout

    options = options or HFOptions()
    owner = os.getpid() if owner_pid is None else owner_pid
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    paths = engine_paths(run, engine_id(spec, options, owner))
    try:
        with FileLock(str(paths.lock), timeout=start_timeout):
            if paths.error.is_file():
                name, _, message = paths.error.read_text().strip().partition(" ")
                raise _ERRORS.get(name, EngineError)(message)
            live = _answers(paths.address)
            if live is not None:
                live.close()
                return paths.address
            _start(spec, options, paths, owner, idle_exit, window_ms, start_timeout)
    except Timeout:
        raise EngineError(
            f"waited {start_timeout:.0f} s for another worker to start the model engine for "
            f"{spec}; see {paths.log}"
        ) from None
    return paths.address


def _start(
    spec: str,
    options: HFOptions,
    paths: EnginePaths,
    owner: int,
    idle_exit: float,
    window_ms: float,
    start_timeout: float,
) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(paths.address)  # stale: nothing answered there
    key = _write_key(key_path(paths.address))
    env = dict(os.environ)
    env[AUTHKEY_ENV] = key.hex()
    src = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    cmd = [
        sys.executable, "-m", "behavtest.engine", "--spec", spec, "--address", paths.address,
        "--owner-pid", str(owner), "--idle-exit", str(idle_exit), "--window-ms", str(window_ms),
        "--log", str(paths.log), *_option_flags(options),
    ]
    with open(paths.log, "ab") as log:  # appended: an earlier start's log stays readable
        # stdin/stdout must not be the worker's: xdist talks to workers over them,
        # and an engine holding them would keep the controller waiting for EOF.
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    _STARTED.append(proc)
    paths.pointer.write_text(paths.address)
    deadline = time.monotonic() + start_timeout
    while True:
        rc = proc.poll()
        if rc is not None:
            err = _failure(paths.log, spec, rc)
            paths.error.write_text(f"{type(err).__name__} {err}")
            raise err
        live = _answers(paths.address)
        if live is not None:
            live.close()
            return
        if time.monotonic() > deadline:
            proc.kill()
            raise EngineError(
                f"the model engine for {spec} did not answer within {start_timeout:.0f} s; "
                f"see {paths.log}"
            )
        time.sleep(0.05)


def stop_engine(address: str, timeout: float = 10.0) -> bool:
    """Ask the engine at ``address`` to exit and wait for it; True if one was running."""
    live = _answers(address)
    if live is None:
        return False
    pid = live.pid
    start = _proc_stat(pid)
    live.shutdown()
    deadline = time.monotonic() + timeout
    while _alive(pid, start[1] if start else None) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid, start[1] if start else None):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    for proc in _STARTED:
        if proc.pid == pid:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1.0)
    return True


def stop_engines(run_dir: str | os.PathLike[str], timeout: float = 10.0) -> int:
    """Stop every engine started under ``run_dir`` (at the end of a run); returns how
    many were running. Removes their key files; logs stay for reading."""
    stopped = 0
    for pointer in sorted(Path(run_dir).glob("engine-*.addr")):
        address = pointer.read_text().strip()
        stopped += stop_engine(address, timeout)
        with contextlib.suppress(FileNotFoundError):
            key_path(address).unlink()
    return stopped


if __name__ == "__main__":
    raise SystemExit(main())
