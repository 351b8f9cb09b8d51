"""Sampling progress from xdist workers, for the controller's terminal and logs.

xdist workers have no terminal and report to the controller only when a test
ends, which for a long draw is minutes of silence. So each worker keeps a
small JSON file with its current draw in the run's folder (replaced
atomically, at most twice a second), and the controller reads them and
prints a line every few seconds on a terminal, and every half minute in a
log (CI): samples done of the draws in progress, the engines' throughput
(what a user can compare: the machine's tokens per second, not one
process's), and when the draws in progress should end.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behavtest.files import write_atomic

MIN_INTERVAL = 0.5  # seconds between a worker's writes


@dataclass
class WorkerProgress:
    """The worker side: ``on_progress`` for a Session under xdist."""

    run_dir: Path
    worker: str
    _last: float = 0.0

    @property
    def path(self) -> Path:
        return self.run_dir / f"progress-{self.worker}.json"

    def __call__(self, done: int, total: int, desc: str) -> None:
        now = time.monotonic()
        if done < total and now - self._last < MIN_INTERVAL:
            return
        self._last = now
        with contextlib.suppress(OSError):  # progress must never fail a test
            write_atomic(self.path, json.dumps({"done": done, "total": total, "desc": desc}))


@dataclass(frozen=True)
class Draw:
    """One worker's draw in progress."""

    worker: str
    done: int
    total: int
    desc: str


def draws(run_dir: Path, stale_after: float = 30.0) -> list[Draw]:
    """The draws in progress, by worker (finished and stale ones left out)."""
    active = []
    now = time.time()
    for path in sorted(run_dir.glob("progress-*.json")):
        with contextlib.suppress(OSError, ValueError, KeyError):
            if now - path.stat().st_mtime > stale_after:
                continue
            state = json.loads(path.read_text())
            if state["done"] < state["total"]:
                worker = path.stem.removeprefix("progress-")
                active.append(Draw(worker, int(state["done"]), int(state["total"]),
                                   str(state["desc"])))
    return active


def summarise(run_dir: Path, stale_after: float = 30.0) -> str | None:
    """One line over the workers drawing right now, or None if none is."""
    active = draws(run_dir, stale_after)
    if not active:
        return None
    return "behavtest: " + " | ".join(f"{d.worker} {d.desc} {d.done}/{d.total}" for d in active)


@dataclass
class EngineRate:
    """The engines' throughput between two looks at their statistics."""

    tokens: int = 0
    at: float = field(default_factory=time.monotonic)

    def line(self, active: list[Draw], engines: list[dict[str, Any]]) -> str | None:
        """'behavtest: 120/480 samples of 3 draws in progress, engines 190 tok/s, ETA 1m 10s'."""
        now, tokens = time.monotonic(), sum(int(e.get("tokens", 0)) for e in engines)
        rate = (tokens - self.tokens) / (now - self.at) if now > self.at else 0.0
        self.tokens, self.at = tokens, now
        if not active:
            return None
        done, total = sum(d.done for d in active), sum(d.total for d in active)
        rows = sum(int(e.get("rows", 0)) for e in engines)
        draws_word = "draw" if len(active) == 1 else "draws"
        line = f"behavtest: {done}/{total} samples of {len(active)} {draws_word} in progress"
        if engines:
            line += f", engines {rate:.0f} tok/s"
            if rate > 0 and rows:
                left = (total - done) * (tokens / rows) / rate
                line += f", ETA {int(left) // 60}m {int(left) % 60:02d}s"
        return line
