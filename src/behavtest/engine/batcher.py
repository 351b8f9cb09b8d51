"""The batcher: one thread that owns the provider and merges every client's rows.

Rows, not requests, are the unit. When the provider can decode step by step
(``decoder``: local transformers models), rows join and leave the running
batch between decode steps (continuous batching): queued rows of any client
fill the slots of rows that finished, so a short request never waits for a
long one and the batch stays full while there is work. A failed step fails
the requests whose rows were in it; the decoder starts afresh.

Otherwise (providers that only ``generate`` whole batches) the batcher takes
queued rows in arrival order, from all clients, up to ``max_batch`` rows with
the same generation settings, and calls ``provider.generate`` once on them. When fewer than
``max_batch`` such rows are queued it waits at most ``window_ms`` for more
before running what it has; a full batch never waits. The default window is
small next to one batch of a local model, and long enough for rows that
workers send "at the same time" to meet.

A client's request may be split over two batches and completed by both. This
is safe because the local providers draw each row with its own seeded
generator, so a row's sample is a draw from its own distribution whatever
batch it lands in (in fp32 almost always the same draw; in bf16 the rounding
of a batched pass often changes its tokens: docs/precision.md). Each
client gets its completions back in its own order. When several requests
share a batch that fails, each is rerun alone, so one client's bad request
does not fail the others.

Serial operations (``continuation_logprobs``, unbatched in the providers)
run on the same thread, one at a time: it is the only thread that touches the
provider.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

from behavtest.engine.wire import EngineError
from behavtest.providers.base import Completion, Provider, Request, StepDecoder, decoder_of
from behavtest.settings import GenerationSettings

DEFAULT_WINDOW_MS = 5.0


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

    batches: int = 0  # provider calls: decode steps (continuous) or generate calls
    rows: int = 0
    jobs: int = 0
    mixed_batches: int = 0  # batches holding rows of two or more clients
    max_clients_in_batch: int = 0
    largest_batch: int = 0
    calls: int = 0  # serial calls (continuation_logprobs)
    busy_seconds: float = 0.0
    tokens: int = 0  # generated tokens delivered: tokens / busy_seconds is the throughput


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
        decoder = decoder_of(self.provider, self.max_batch)
        if decoder is not None:
            self._run_continuous(decoder)
            return
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

    # -- continuous batching -------------------------------------------------------
    def _run_continuous(self, decoder: StepDecoder) -> None:
        active: dict[Hashable, tuple[_Job, int]] = {}  # the decoder's rows, by their key
        while True:
            work = self._next_continuous(decoder)
            if work is None:
                return
            t0 = time.perf_counter()
            if isinstance(work, _Call):
                self._run_call(work)
            else:
                if work:
                    self._join(decoder, work, active)
                if decoder.active or active:
                    decoder = self._step(decoder, active)
            self.stats.busy_seconds += time.perf_counter() - t0

    def _next_continuous(self, decoder: StepDecoder) -> _Call | list[tuple[_Job, int]] | None:
        """A serial call, or the rows to join before the next step (maybe none)."""
        with self._cv:
            work = self._wait(busy=decoder.active > 0)
            if work is not True:
                return work
            if not decoder.active:  # idle: let rows sent "at the same time" meet
                deadline = time.monotonic() + self.window
                while len(self._rows) < self.max_batch and not self._stopping:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cv.wait(left)
            taken: list[tuple[_Job, int]] = []
            if decoder.free >= decoder.refill_at:
                while self._rows and len(taken) < decoder.free:
                    row = self._rows.popleft()
                    if row[0].error is None:
                        taken.append(row)
            return taken

    def _join(self, decoder: StepDecoder, rows: list[tuple[_Job, int]],
              active: dict[Hashable, tuple[_Job, int]]) -> None:
        try:
            decoder.add([(row, row[0].requests[row[1]]) for row in rows])
        except Exception as exc:  # a bad request: its jobs fail, the batch goes on
            for job in dict.fromkeys(j for j, _ in rows):
                self._fail(job, exc)
            return
        self.stats.rows += len(rows)
        active.update((row, row) for row in rows)

    def _step(self, decoder: StepDecoder, active: dict[Hashable, tuple[_Job, int]]) -> StepDecoder:
        """One decode step; deliver the rows that finished. Returns the decoder to
        go on with (a new one after a failed step)."""
        s = self.stats
        clients = {j.client for j, _ in active.values()}
        s.batches += 1
        s.largest_batch = max(s.largest_batch, len(active))
        s.max_clients_in_batch = max(s.max_clients_in_batch, len(clients))
        s.mixed_batches += len(clients) > 1
        try:
            finished = decoder.step()
        except Exception as exc:
            for job in dict.fromkeys(j for j, _ in active.values()):
                self._fail(job, exc)
            active.clear()
            fresh = decoder_of(self.provider, self.max_batch)
            assert fresh is not None
            return fresh
        for key, completion in finished:
            row = active.pop(key, None)
            if row is not None:
                self._deliver([row], [completion])
        return decoder

    def _matching(self, settings: GenerationSettings) -> int:
        n = 0
        for job, i in self._rows:
            if job.error is None and job.requests[i].settings == settings:
                n += 1
                if n >= self.max_batch:
                    break
        return n

    def _wait(self, busy: bool) -> _Call | Literal[True] | None:
        """Wait (lock held) until there is work: None when stopping, a queued serial
        call first, else True once rows are queued (or at once when ``busy``)."""
        while True:
            if self._stopping:
                return None
            if self._calls:
                return self._calls.popleft()
            while self._rows and self._rows[0][0].error is not None:
                self._rows.popleft()  # rows of a request that already failed
            if self._rows or busy:
                return True
            self._cv.wait()

    def _next(self) -> _Call | list[tuple[_Job, int]] | None:
        with self._cv:
            work = self._wait(busy=False)
            if work is not True:
                return work
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
            self.stats.tokens += c.tokens
            job.results[i] = c
            job.remaining -= 1
            if job.remaining == 0 and job.error is None:
                job.done.set()

    def _fail(self, job: _Job, exc: BaseException) -> None:
        job.error = exc
        job.done.set()
