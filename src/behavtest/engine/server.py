"""The engine's server: accepts clients and serves one provider through a Batcher.

It listens on a Unix socket with ``multiprocessing.connection.Listener``
(HMAC challenge with a per-engine authkey), one thread per client connection;
every generate request goes to the :class:`~behavtest.engine.batcher.Batcher`,
the only thread that touches the provider. ``hello`` (name, fingerprint, max
batch, protocol) is answered from what was read once at start.

The authkey comes from ``$BEHAVTEST_ENGINE_AUTHKEY`` (hex; the launcher's
way) or from a 0600 key file, never from the command line, which any local
user can read in ``ps``.

Lifetime: the server stops when told to, when its owner process is gone
(checked every 0.25 s through ``/proc``, so a reused pid does not count as
alive), or after ``idle_exit`` seconds with no client connected. The
liveness helpers live here and the launcher uses them too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from behavtest.engine.batcher import DEFAULT_WINDOW_MS, Batcher
from behavtest.engine.client import read_key_file
from behavtest.engine.wire import (
    PROTOCOL,
    EngineError,
    decode_messages,
    decode_request,
    encode_completion,
    error_reply,
)
from behavtest.errors import InvalidArgument, first_line
from behavtest.providers.base import Messages, Provider, reply_scorer_of
from behavtest.providers.kind import ProviderConfig
from behavtest.providers.precision import precision_of

AUTHKEY_ENV = "BEHAVTEST_ENGINE_AUTHKEY"
DEFAULT_IDLE_EXIT = 60.0
_POLL = 0.25  # seconds between checks of the owner, the idle timer and stop requests


def proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc, or None where there is no /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return fields[0], fields[19]


def alive(pid: int, start: str | None) -> bool:
    """Whether ``pid`` is still the process it was (not dead, a zombie, or reused)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = proc_stat(pid)
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
        config: ProviderConfig | None = None,
    ) -> None:
        self.spec = spec
        self.address = address
        self.authkey = authkey
        self.idle_exit = idle_exit
        self.owner_pid = owner_pid
        stat = proc_stat(owner_pid) if owner_pid else None
        self._owner_start = stat[1] if stat else None
        self.log_path = log_path
        self.batcher = Batcher(provider, max_batch, window_ms)
        self.info = {
            "protocol": PROTOCOL,
            "pid": os.getpid(),
            "spec": spec,
            "name": provider.name,
            "fingerprint": provider.fingerprint(),
            "precision": None if (p := precision_of(provider)) is None else p.to_json(),
            "config": None if config is None else config.to_json(),
            "max_batch": self.batcher.max_batch,
            "scores_replies": reply_scorer_of(provider) is not None,
            "prefills": getattr(provider, "prefills", False) is True,
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
                if self.owner_pid and not alive(self.owner_pid, self._owner_start):
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
                self.log(f"refused a connection: {first_line(exc)}")
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
                    reply = error_reply(exc)
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
            reqs = [decode_request(r) for r in msg["requests"]]
            return [encode_completion(c) for c in self.batcher.generate(cid, reqs)]
        if op == "logprobs":
            messages: Messages = decode_messages(msg["messages"])
            conts = [str(c) for c in msg["continuations"]]
            provider = self.batcher.provider
            return list(self.batcher.call(lambda: provider.continuation_logprobs(messages, conts)))
        if op == "reply_logprobs":
            messages = decode_messages(msg["messages"])
            replies = [str(c) for c in msg["replies"]]
            score = reply_scorer_of(self.batcher.provider)
            if score is None:
                raise EngineError("this engine's model cannot score whole replies")
            return list(self.batcher.call(lambda: score(messages, replies)))
        if op == "hello":
            return self.info
        if op == "stats":
            with self._lock:
                clients = self._clients
            return {**dataclasses.asdict(self.batcher.stats), "clients": clients}
        if op == "shutdown":
            return "stopping"
        raise EngineError(f"unknown engine request {op!r}")


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


def server_authkey(key_file: str | None) -> tuple[bytes, bool]:
    """The authkey, and whether it came from the environment (ensure_engine's way,
    in which case the engine removes its key file when it exits)."""
    raw = os.environ.pop(AUTHKEY_ENV, None)  # not passed on to anything the provider starts
    if raw:
        return bytes.fromhex(raw.strip()), True
    if key_file:
        return read_key_file(Path(key_file)), False
    raise InvalidArgument(
        f"no engine authkey; fix: set ${AUTHKEY_ENV} (hex) or pass --authkey-file (mode 0600)"
    )
