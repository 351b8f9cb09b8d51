"""A fault-injecting HTTP reverse proxy for the openai/ provider's tests.

It sits between the provider and an OpenAI-compatible server (the llama.cpp
server of tests/servers.py, or a built-in stub when there is no upstream) and
breaks a set fraction of chat-completion requests in the ways real networks,
gateways and servers do: 429 with ``Retry-After: 0`` or ``1``; 500, 502, 503;
a hang past the client's timeout; a connection reset with no reply; a 200
whose JSON is malformed; a 200 whose body is cut short of its
``Content-Length``. Everything else is forwarded unchanged.

Why a proxy and not only the MockTransport double of test_openai.py: the
double replaces the HTTP stack, so it cannot show what the real client does
with a reset socket, a stalled server or a short body. Here the provider runs
its real ``openai`` client and connection pool over real sockets.

Which requests fail is deterministic, by arrival count: with rate r, of every
run of 1/r chat requests exactly one fails (a seeded phase picks which), and
the n-th fault has the n-th kind of a seeded cycle over :data:`KINDS`, so any
9 consecutive faults cover every kind. Concurrency can change *which* sample
meets which fault, never how many faults there are. Standard library only
(asyncio streams on a private thread): aiohttp is not installed here, and
nothing the proxy does needs more than HTTP/1.1 with Content-Length.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Every kind of fault, in the order the seeded cycle shuffles.
KINDS: tuple[str, ...] = (
    "429-retry-after-0",
    "429-retry-after-1",
    "500",
    "502",
    "503",
    "hang",
    "reset",
    "malformed",
    "truncated",
)
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer", "transfer-encoding", "upgrade", "content-length", "host",
})
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable"}


@dataclass(frozen=True)
class Exchange:
    """One request as the proxy received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def is_chat(self) -> bool:
        return self.method == "POST" and self.path.rstrip("/").endswith("/chat/completions")


@dataclass(frozen=True)
class Canned:
    """A reply the proxy makes up instead of forwarding."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = (("content-type", "application/json"),)


Rule = Callable[[Exchange], Canned | None]


@dataclass
class FaultProxy:
    """``with FaultProxy(upstream) as proxy:`` point the provider at ``proxy.base_url``.

    ``upstream`` is a base URL (``http://127.0.0.1:PORT/v1``) or None for the
    built-in stub server (:func:`stub_reply`). ``rate`` is the fraction of chat
    requests broken; ``rule`` answers chosen requests itself (e.g. a 401), before
    any fault; ``hang_seconds`` bounds a hang if the client never gives up.
    """

    upstream: str | None
    rate: float = 0.2
    seed: int = 0
    kinds: tuple[str, ...] = KINDS
    hang_seconds: float = 60.0
    rule: Rule | None = None
    # What happened, for the test to check afterwards (left out of the repr, which
    # pytest prints on a failed assert: requests carry headers, the key among them):
    injected: Counter[str] = field(default_factory=Counter)  # faults per kind
    chat_requests: int = 0  # chat requests received (attempts, faults included)
    forwarded: list[bytes] = field(default_factory=list, repr=False)  # answered upstream
    seen: list[Exchange] = field(default_factory=list, repr=False)  # every request received
    _port: int = field(default=0, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _server: asyncio.Server | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate={self.rate} is outside [0, 1]")
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {KINDS}")
        rng = random.Random(self.seed)
        self._phase = rng.random()
        self._cycle = list(self.kinds)
        rng.shuffle(self._cycle)
        self._faults = 0
        if self.upstream is not None:
            parts = urlsplit(self.upstream)
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError(f"upstream {self.upstream!r} is not an http:// URL")
            self._up_host, self._up_port = parts.hostname, parts.port or 80
            self._path = parts.path.rstrip("/")
        else:
            self._path = "/v1"

    # -- lifecycle ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}{self._path}"

    def start(self) -> FaultProxy:
        ready = threading.Event()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)

            async def listen() -> None:
                self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
                self._port = self._server.sockets[0].getsockname()[1]
                ready.set()

            loop.run_until_complete(listen())
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="faultproxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault proxy did not start listening within 10 s")
        return self

    def stop(self) -> None:
        loop, thread, server = self._loop, self._thread, self._server
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if server is not None:
                server.close()
            for task in asyncio.all_tasks():  # connections still open (a client's pool)
                if task is not asyncio.current_task():
                    task.cancel()
            await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the schedule -------------------------------------------------------------------
    def _next_fault(self) -> str | None:
        """The fault for the next chat request, or None to forward it: request i
        fails when floor(r*i + phase) steps, so exactly r of them fail."""
        i = self.chat_requests
        self.chat_requests += 1
        if math.floor(self.rate * (i + 1) + self._phase) == math.floor(self.rate * i + self._phase):
            return None
        kind = self._cycle[self._faults % len(self._cycle)]
        self._faults += 1
        self.injected[kind] += 1
        return kind

    # -- one connection ---------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Requests on one client connection, kept alive until the client or a fault ends it."""
        try:
            while True:
                req = await _read_request(reader)
                if req is None:
                    break
                self.seen.append(req)
                if not await self._answer(req, reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:
            pass  # stop(): nothing awaits a connection's task, so end it quietly
        finally:
            if not writer.transport.is_closing():
                writer.transport.close()

    async def _answer(
        self, req: Exchange, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection must end."""
        canned = self.rule(req) if self.rule else None
        if canned is not None:
            await _send(writer, canned.status, canned.headers, canned.body)
            return True
        kind = self._next_fault() if req.is_chat else None
        if kind is None:
            status, headers, body = await self._forward(req)
            if req.is_chat and status == 200:
                self.forwarded.append(req.body)
            await _send(writer, status, headers, body)
            return True
        if kind.startswith("429"):
            wait = kind.rsplit("-", 1)[1]
            await _send(writer, 429, (("content-type", "application/json"),
                                      ("retry-after", wait)), _error("rate limited (injected)"))
            return True
        if kind in ("500", "502", "503"):
            await _send(writer, int(kind), (("content-type", "application/json"),),
                        _error(f"injected {kind}"))
            return True
        if kind == "hang":
            # Say nothing until the client gives up (its timeout) and closes.
            try:
                while await asyncio.wait_for(reader.read(4096), self.hang_seconds):
                    pass
            except asyncio.TimeoutError:
                pass
            return False
        if kind == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:  # linger 0: close() sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if kind == "malformed":
            await _send(writer, 200, (("content-type", "application/json"),),
                        b'{"id": "chatcmpl-injected", "object": "chat.completion", "choices": [{')
            return True
        if kind == "truncated":
            part = b'{"id": "chatcmpl-injected", "object": "chat.completion", "choi'
            head = _head(200, (("content-type", "application/json"),), len(part) + 200)
            writer.write(head + part)
            await writer.drain()
            writer.transport.close()  # FIN after a short body
            return False
        raise AssertionError(kind)  # pragma: no cover

    async def _forward(self, req: Exchange) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        """The upstream's answer to an unchanged copy of the request (or the stub's)."""
        if self.upstream is None:
            return stub_reply(req)
        r, w = await asyncio.open_connection(self._up_host, self._up_port)
        try:
            headers = [(k, v) for k, v in req.headers.items() if k not in HOP_BY_HOP]
            lines = [f"{req.method} {req.path} HTTP/1.1",
                     f"host: {self._up_host}:{self._up_port}",
                     *(f"{k}: {v}" for k, v in headers),
                     f"content-length: {len(req.body)}", "connection: close", "", ""]
            w.write("\r\n".join(lines).encode("latin-1") + req.body)
            await w.drain()
            status_line = (await r.readline()).decode("latin-1")
            status = int(status_line.split()[1])
            resp_headers = await _read_headers(r)
            body = await _read_body(r, resp_headers, until_eof=True)
        finally:
            w.close()
        kept = tuple((k, v) for k, v in resp_headers.items() if k not in HOP_BY_HOP)
        return status, kept, body


# -- HTTP/1.1, as much as the proxy needs ------------------------------------------------------
async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            return headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


async def _read_body(
    reader: asyncio.StreamReader, headers: dict[str, str], until_eof: bool = False
) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        out = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await _read_headers(reader)  # trailers
                return bytes(out)
            out += await reader.readexactly(size)
            await reader.readline()
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read() if until_eof else b""


async def _read_request(reader: asyncio.StreamReader) -> Exchange | None:
    line = await reader.readline()
    if not line.strip():
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers = await _read_headers(reader)
    body = await _read_body(reader, headers)
    return Exchange(method.upper(), path, headers, body)


def _head(status: int, headers: tuple[tuple[str, str], ...], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
             *(f"{k}: {v}" for k, v in headers),
             f"content-length: {length}", "connection: keep-alive", "", ""]
    return "\r\n".join(lines).encode("latin-1")


async def _send(
    writer: asyncio.StreamWriter, status: int, headers: tuple[tuple[str, str], ...], body: bytes
) -> None:
    writer.write(_head(status, headers, len(body)) + body)
    await writer.drain()


def _error(message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "injected"}}).encode()


# -- the stub upstream: fast tests without a model ----------------------------------------------
def stub_reply(req: Exchange) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """What the stub server answers: ``GET .../models`` lists ``stub-model``; a chat
    completion replies ``stub:<seed>:<last user message>`` (so replies are
    determined by the request, like a seeded real server's); anything else is 404."""
    plain = (("content-type", "application/json"),)
    if req.method == "GET" and req.path.rstrip("/").endswith("/models"):
        data = [{"id": "stub-model", "object": "model", "created": 0, "owned_by": "stub"}]
        return 200, plain, json.dumps({"object": "list", "data": data}).encode()
    if not req.is_chat:
        return 404, plain, _error(f"no route {req.method} {req.path}")
    body = json.loads(req.body)
    last = next((m.get("content", "") for m in reversed(body.get("messages", []))
                 if m.get("role") == "user"), "")
    text = f"stub:{body.get('seed')}:{last}"
    reply = {
        "id": "chatcmpl-stub", "object": "chat.completion", "created": 0,
        "model": body.get("model", ""),
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }
    return 200, plain, json.dumps(reply).encode()
