"""Sampling progress from xdist workers, for the controller's terminal.

xdist workers have no terminal and report to the controller only when a test
ends, which for a long draw is minutes of silence. So each worker keeps a
small JSON file with its current draw in the run's folder (replaced
atomically, at most twice a second), and the controller reads them and
prints a summary line every few seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

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
        tmp = self.path.with_suffix(".tmp")
        with contextlib.suppress(OSError):  # progress must never fail a test
            tmp.write_text(json.dumps({"done": done, "total": total, "desc": desc}))
            os.replace(tmp, self.path)


def summarise(run_dir: Path, stale_after: float = 30.0) -> str | None:
    """One line over the workers drawing right now, or None if none is."""
    active = []
    now = time.time()
    for path in sorted(run_dir.glob("progress-*.json")):
        with contextlib.suppress(OSError, ValueError):
            if now - path.stat().st_mtime > stale_after:
                continue
            state = json.loads(path.read_text())
            if state["done"] < state["total"]:
                worker = path.stem.removeprefix("progress-")
                active.append(f"{worker} {state['desc']} {state['done']}/{state['total']}")
    if not active:
        return None
    return "behavtest: " + " | ".join(active)
