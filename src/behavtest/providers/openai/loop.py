"""The private event loop the synchronous provider runs its async client on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """A private asyncio loop on a daemon thread, started on first use.

    The Provider API is synchronous. Running the async client on a loop of
    our own works from any thread, with or without a loop running there
    (``asyncio.run`` fails inside a running loop, e.g. a notebook), and keeps
    the client's connection pool on the loop that opened it (a fresh loop per
    call would strand pooled connections on a closed loop).
    """

    def __init__(self, name: str = "behavtest-openai") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result. An exception in the
        waiting thread (e.g. Ctrl-C) cancels it, stopping the calls in flight."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self.name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            loop = self._loop
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(f"{self.name}: called from its own event loop")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    @property
    def started(self) -> bool:
        return self._loop is not None

    def stop(self) -> None:
        """Stop the loop and its thread (a later :meth:`run` starts new ones)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
