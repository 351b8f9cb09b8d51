"""The xdist controller's side of a run: shared engines, progress, worker statistics.

Registered only when xdist is loaded. It gives every worker the run's folder
for the shared model engines (through ``workerinput``), prints what the
workers are drawing every few seconds on a terminal, merges each worker's
statistics when it goes down, and stops the engines at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from behavtest.run.session import Session

ENGINE_DIR_KEY = "behavtest_engine_dir"
ENGINE_OWNER_KEY = "behavtest_engine_owner"
STATS_KEY = "behavtest_stats"
COLLECTED_KEY = "behavtest_collected"  # collector id -> the test ids it yielded
PROGRESS_EVERY = 10.0  # seconds between the controller's progress lines on a terminal
LOG_PROGRESS_EVERY = 30.0  # and in a log (CI), where every line stays


class XdistController:
    """Merges worker statistics and owns the run's engine folder."""

    def __init__(self, config: pytest.Config, session: Session) -> None:
        self.config = config
        self.session = session
        self.engine_dir: Path | None = None
        self._reporter: threading.Thread | None = None
        self._done = threading.Event()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Tell every worker where the run's shared model engines live (one per
        local model, started by the first worker that needs it)."""
        if self.engine_dir is None:
            # Short and private: it holds the engines' sockets and key files.
            self.engine_dir = Path(tempfile.mkdtemp(prefix="behavtest-run-"))
        node.workerinput[ENGINE_DIR_KEY] = str(self.engine_dir)
        node.workerinput[ENGINE_OWNER_KEY] = os.getpid()
        if self._reporter is None:
            self._reporter = threading.Thread(
                target=self._report_progress, name="behavtest-progress", daemon=True
            )
            self._reporter.start()

    def _report_progress(self) -> None:
        """While workers draw: on a terminal every 10 s, what each worker draws; in a
        log every 30 s, samples done of the draws in progress, the engines'
        throughput and an ETA (a CI log is silent for minutes otherwise)."""
        from behavtest.engine import engine_stats
        from behavtest.run.progress import EngineRate, draws, summarise

        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is None or self.config.get_verbosity() < 0:
            return
        tty = bool(tr.isatty)
        rate = EngineRate()
        last = None
        while not self._done.wait(PROGRESS_EVERY if tty else LOG_PROGRESS_EVERY):
            assert self.engine_dir is not None
            active = draws(self.engine_dir)
            overall = rate.line(active, engine_stats(self.engine_dir))
            line = summarise(self.engine_dir) if tty else overall
            if tty and line and overall:
                line += "  [" + overall.removeprefix("behavtest: ") + "]"
            if line and line != last:  # only when a draw moved on
                tr.write_line(line)
            last = line

    def pytest_sessionfinish(self) -> None:
        self._done.set()  # no progress lines after the summary

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._done.set()
        if self.engine_dir is not None:
            from behavtest.engine import stop_engines

            stop_engines(self.engine_dir)
            shutil.rmtree(self.engine_dir, ignore_errors=True)

    def engines_started(self) -> int:
        if self.engine_dir is None:
            return 0
        return len(list(self.engine_dir.glob("engine-*.addr")))

    def engine_totals(self) -> tuple[int, float]:
        """Tokens the run's engines generated and the seconds they were busy."""
        if self.engine_dir is None:
            return 0, 0.0
        from behavtest.engine import engine_stats

        stats = engine_stats(self.engine_dir)
        return (sum(int(e.get("tokens", 0)) for e in stats),
                sum(float(e.get("busy_seconds", 0.0)) for e in stats))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        out = getattr(node, "workeroutput", {}) or {}
        raw = out.get(STATS_KEY)
        if raw:
            worker = str(out.get("workerid", id(node)))
            self.session.merge_worker(worker, json.loads(raw))
        if self.session.snapshots is not None:  # which tests exist (snapshots: "gone")
            for collector, items in (out.get(COLLECTED_KEY) or {}).items():
                self.session.snapshots.saw_collection(str(collector), map(str, items))
