"""Progress under xdist: workers leave their draw's state, the controller summarises it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from behavtest.run.progress import WorkerProgress, summarise


def test_workers_progress_is_summarised_and_finished_draws_drop_out(tmp_path: Path) -> None:
    gw0, gw1 = WorkerProgress(tmp_path, "gw0"), WorkerProgress(tmp_path, "gw1")
    gw0(48, 100, "embedded: 78 tok/s, 4 from cache; sampling")
    gw1(16, 32, "embedded: 70 tok/s, 0 from cache; sampling")
    line = summarise(tmp_path)
    assert line == (
        "behavtest: gw0 embedded: 78 tok/s, 4 from cache; sampling 48/100 | "
        "gw1 embedded: 70 tok/s, 0 from cache; sampling 16/32"
    )
    gw1(32, 32, "done")  # a finished draw is always written, and no longer shown
    assert summarise(tmp_path) == (
        "behavtest: gw0 embedded: 78 tok/s, 4 from cache; sampling 48/100"
    )


def test_writes_are_throttled_and_stale_files_ignored(tmp_path: Path) -> None:
    p = WorkerProgress(tmp_path, "gw0")
    p(1, 100, "a")
    p(2, 100, "b")  # within the throttle interval: not written
    assert "1/100" in (summarise(tmp_path) or "")
    old = time.time() - 60
    os.utime(p.path, (old, old))
    assert summarise(tmp_path) is None  # a worker that stopped reporting is not shown
    assert summarise(tmp_path / "missing") is None


def test_log_lines_give_samples_engine_rate_and_eta(tmp_path: Path) -> None:
    from behavtest.run.progress import EngineRate, draws

    WorkerProgress(tmp_path, "gw0")(40, 100, "a")
    WorkerProgress(tmp_path, "gw1")(10, 60, "b")
    rate = EngineRate(tokens=1000, at=time.monotonic() - 10.0)
    # 2000 tokens in ~10 s = ~200 tok/s; 30 tokens a row; 110 samples left: ~16 s
    line = rate.line(draws(tmp_path), [{"tokens": 3000, "rows": 100}])
    assert line is not None and line.startswith("behavtest: 50/160 samples of 2 draws in progress")
    assert ", engines 2" in line and "tok/s, ETA 0m 1" in line
    assert rate.line([], [{"tokens": 3000, "rows": 100}]) is None  # nothing in progress
