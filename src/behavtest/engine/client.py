"""The client side: a Provider whose model lives in the engine process.

:class:`EngineProvider` implements the Provider protocol over one connection
to the engine and imports nothing heavy (no torch, no transformers), so the
workers that use it stay small. It is safe to share between threads (requests
on one connection go one at a time) and turns a dead engine into one
:class:`~behavtest.engine.wire.EngineDied` line naming the engine's log.

The authkey is read from the engine's key file next to its socket, which
must be mode 0600 and owned by this user.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Sequence
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

from behavtest.engine.wire import (
    PROTOCOL,
    EngineDied,
    EngineError,
    decode_completion,
    encode_messages,
    encode_request,
    raise_reply,
)
from behavtest.errors import first_line
from behavtest.providers.base import Completion, Messages, Request
from behavtest.providers.precision import Precision


def key_path(address: str) -> Path:
    """Where the authkey of the engine at ``address`` is kept (mode 0600)."""
    return Path(address + ".key")


def read_key_file(path: Path) -> bytes:
    """A hex authkey from ``path``, refused unless only this user can read it."""
    try:
        st = path.stat()
        text = path.read_text().strip()
    except OSError as exc:
        raise EngineError(f"cannot read the engine key {path} ({first_line(exc)})") from None
    if st.st_mode & 0o077 or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        raise EngineError(
            f"engine key {path} is readable by other users or not ours; fix: chmod 600 {path}"
        )
    return bytes.fromhex(text)


def read_authkey(address: str) -> bytes:
    """The authkey of the engine at ``address``, from its 0600 key file."""
    return read_key_file(key_path(address))


class EngineProvider:
    """A Provider whose model lives in an engine process (see the module docstring).

    Imports nothing heavy; safe to share between threads (requests on one
    connection go one at a time). ``batch_size`` is the engine's batch, so the
    model handle draws (and commits to the cache) in engine-sized chunks.
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
                f"no model engine answers at {address} ({first_line(exc)}); "
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
        self.batch_size: int = int(self.info["max_batch"])

    @property
    def name(self) -> str:
        return str(self.info["name"])

    @property
    def pid(self) -> int:
        return int(self.info["pid"])

    def fingerprint(self) -> str:
        return str(self.info["fingerprint"])

    @property
    def precision(self) -> Precision | None:
        """The dtypes the engine's model computes in (None: not a local model)."""
        return Precision.from_json(self.info.get("precision"))

    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        if not requests:
            return []
        raw = self._call({"op": "generate", "requests": [encode_request(r) for r in requests]})
        return [decode_completion(c) for c in raw]

    def continuation_logprobs(
        self, messages: Messages, continuations: Sequence[str]
    ) -> list[float]:
        raw = self._call({"op": "logprobs", "messages": encode_messages(messages),
                          "continuations": list(continuations)})
        return [float(x) for x in raw]

    @property
    def scores_replies(self) -> bool:
        """Whether the engine's model gives ``reply_logprobs`` (see providers.base)."""
        return bool(self.info.get("scores_replies"))

    @property
    def prefills(self) -> bool:
        """Whether the engine's model continues a final assistant message (a
        prefill: see providers.base); an engine that does not say so does not,
        and the model handle refuses such requests rather than let it start a
        new turn."""
        return bool(self.info.get("prefills"))

    def reply_logprobs(self, messages: Messages, replies: Sequence[str]) -> list[float]:
        raw = self._call({"op": "reply_logprobs", "messages": encode_messages(messages),
                          "replies": list(replies)})
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
            raise_reply(reply)
        return reply["value"]

    def _died(self, exc: BaseException) -> str:
        log = self.info.get("log")
        where = f"; its log: {log}" if log else ""
        return (
            f"the model engine serving {self.info.get('spec')} (pid {self.info.get('pid')}) "
            f"stopped answering ({type(exc).__name__}){where}; fix: rerun, and read that log "
            "if it happens again"
        )
