"""What the plugin prints and decides at the end: progress, summary, exit status.

Verdicts are read from call reports, so the same code collects them without
xdist and on the xdist controller (reports carry ``user_properties`` across).
An output file (``--behav-report``, ``--behav-summary``) that cannot be written
at the end makes the run fail (usage error, 4, unless it failed already) with
one line naming the file and the cause.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from behavtest.files import write_atomic, write_problem
from behavtest.plugin.options import REPORT_OPTION, SUMMARY_OPTION, report_path, summary_path
from behavtest.plugin.xdist import COLLECTED_KEY, STATS_KEY, XdistController
from behavtest.run.result import Record, RunResult
from behavtest.run.session import VERDICT_END, Session
from behavtest.verdict import Verdict

if TYPE_CHECKING:
    from behavtest.reports.html import Snapshot

PROPERTY = "behavtest_verdict"
END_PROPERTY = "behavtest_end"
ALLOW_PROPERTY = "behavtest_snapshot_allow"


class ProgressLine:
    """A live "sampling 48/100" line while a test draws samples (no xdist).

    Test output is captured, so the line is written with capture suspended
    through the capture manager's public context manager, the way pytest's
    own live-logging does.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.active = False  # a progress line is on screen

    def __call__(self, done: int, total: int, desc: str) -> None:
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        capman = self.config.pluginmanager.get_plugin("capturemanager")
        if tr is None or capman is None or self.config.get_verbosity() < 0:
            return
        if not tr.isatty:
            return
        with capman.global_and_fixture_disabled():
            # Own line below pytest's progress dots; erased when the draw ends.
            start = "\r\x1b[K" if self.active else "\n"
            if done >= total:
                tr.write(start if self.active else "")
                self.active = False
            else:
                tr.write(f"{start}  {desc} {done}/{total}")
                self.active = True


class RunReporter:
    """Per-run hooks that need the config: verdict collection and the summary."""

    def __init__(self, config: pytest.Config, session: Session) -> None:
        self.config = config
        self.session = session
        self.ends: dict[str, str] = {}  # node id -> how the call ended
        self.failed_outside_verdicts: set[str] = set()  # setup/teardown/other failures
        self.changed: list[Record] = []
        self.pytest_status: int | None = None
        self.pytest_session: pytest.Session | None = None  # set at the session's end
        # --behav-report: checked now (a bad path stops the run before it starts);
        # written by the controller (or the one process) after the summary.
        self.report: Path | None = None
        self.summary: Path | None = None  # --behav-summary (Markdown), checked likewise
        if getattr(config, "workerinput", None) is None:
            self.report = report_path(config)
            self.summary = summary_path(config)
            self._start_summary()
        # Hooks for the HTML report, keyed by html_report.record_key: stored snapshots
        # (rate, low, high, label) drawn beside each rate, and example reply texts.
        self.snapshots: dict[str, Snapshot] = {}
        self.examples: dict[str, list[str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.session.snapshots is not None:  # which tests ran here, which were skipped
            why = report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple) \
                else None  # (an INCONCLUSIVE reported as xfail ran)
            self.session.snapshots.saw(report.nodeid, report.when, why)
        if report.when != "call":
            if report.failed:
                self.failed_outside_verdicts.add(report.nodeid)
            return
        end = "other"
        for name, value in report.user_properties:
            if name == PROPERTY:
                self.session.add(report.nodeid, Verdict.from_dict(json.loads(str(value))))
            elif name == END_PROPERTY:
                end = str(value)
            elif name == ALLOW_PROPERTY and self.session.snapshots is not None:
                self.session.snapshots.allow[report.nodeid] = str(value)
        self.ends[report.nodeid] = end
        if report.failed and end != VERDICT_END:
            self.failed_outside_verdicts.add(report.nodeid)
            if self.session.snapshots is not None:  # a crash is not a measurement
                self.session.snapshots.errored.add(report.nodeid)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """What each module or class yielded, before -k/-m deselect: a stored snapshot
        entry of a test that no longer exists is "gone". Workers send theirs."""
        if not report.passed:
            return
        items = [node.nodeid for node in report.result if isinstance(node, pytest.Item)]
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput.setdefault(COLLECTED_KEY, {})[report.nodeid] = items
        elif self.session.snapshots is not None:
            self.session.snapshots.saw_collection(report.nodeid, items)

    def _start_summary(self) -> None:
        """Replace the summary file of an earlier run now: a run that stops early
        leaves "did not finish", never the earlier run's verdicts."""
        from behavtest.reports import markdown

        if self.summary is None or self.config.option.help:  # --help runs nothing
            return
        try:
            write_atomic(self.summary, markdown.started(self.session.model_spec))
        except OSError as exc:
            raise pytest.UsageError(
                f"{SUMMARY_OPTION} {self.summary}: cannot write it: "
                f"{write_problem(self.summary, exc, f'pass another {SUMMARY_OPTION} path')}"
            ) from None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.pytest_session = session
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[STATS_KEY] = json.dumps(self.session.local_stats())
        else:
            self._correct(session)
        self.session.close()

    def _correct(self, session: pytest.Session) -> None:
        """Suite-level correction, then the exit status from the corrected verdicts.

        Runs on the controller (or without xdist) after every report is in,
        before pytest's summary is written and its exit status returned.
        Correction only ever weakens a verdict (PASS or FAIL -> INCONCLUSIVE),
        so the status can move either way: a raw FAIL that does not survive
        correction no longer fails the run, and a raw PASS that becomes
        INCONCLUSIVE fails it under the 'fail' policy.
        """
        if not self.session.records:
            return
        self.session.compare_snapshots()
        self.changed = self.session.correct()
        self.session.write_snapshots()
        if int(session.exitstatus) not in (0, 1):
            return  # interrupted, usage error, no tests: not ours to change
        failing = self.session.final_failures(self.ends) | self.failed_outside_verdicts
        self.pytest_status = int(session.exitstatus)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if failing else pytest.ExitCode.OK

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from behavtest.reports.terminal import correction_lines, render_summary

        xdist = self.config.pluginmanager.get_plugin("behavtest-xdist")
        if isinstance(xdist, XdistController):
            self.session.engine_loads = xdist.engines_started()
            self.session.engine_tokens, self.session.engine_seconds = xdist.engine_totals()
        # Logs (CI, pipes) get a wide table instead of one wrapped at 80 columns.
        tty = bool(getattr(terminalreporter, "isatty", False))
        width = max(80, shutil.get_terminal_size((160, 24)).columns) if tty else 160
        result = self.session.result()
        text = render_summary(result, width=width)
        if text:
            terminalreporter.write_sep("=", "behavtest summary")
            terminalreporter.write(text)
            for line in correction_lines(result, self.changed, self.pytest_status):
                terminalreporter.write_line(line)
            if self.session.snapshots is not None:
                for line in self.session.snapshots.summary():
                    terminalreporter.write_line(line)
        if self.report is not None:
            self._write_report(terminalreporter, self.report, result)
        self._write_summary(terminalreporter, result)

    def _write_summary(self, terminalreporter: Any, result: RunResult) -> None:
        """The Markdown summary: to --behav-summary, and appended to GitHub's step
        summary when Actions sets $GITHUB_STEP_SUMMARY."""
        from behavtest.reports import markdown

        targets = [(self.summary, False)] if self.summary is not None else []
        if step := os.environ.get("GITHUB_STEP_SUMMARY"):
            targets.append((Path(step), True))
        for path, append in targets:
            try:
                if markdown.write(result, path, append):
                    terminalreporter.write_line(f"behavtest: summary written to {path}")
            except OSError as exc:
                other = ("fix $GITHUB_STEP_SUMMARY" if append
                         else f"pass another {SUMMARY_OPTION} path")
                self._failed_output(terminalreporter, f"could not write the summary {path}: "
                                    f"{write_problem(path, exc, other)}")

    def _write_report(self, terminalreporter: Any, path: Path, result: RunResult) -> None:
        from behavtest.reports.html import png_path, write_report

        snap = self.session.snapshots
        for c in snap.comparisons if snap is not None else []:
            if c.was is not None:  # keyed as html_report.record_key keys records
                key = f"{c.was.nodeid} | {c.was.check} | {c.was.scorer}"
                self.snapshots[key] = (c.was.rate, c.was.low, c.was.high,
                                       f"snapshot {c.was.date}")
        for rec in self.session.records:  # the replies a verdict kept
            if rec.verdict.evidence is not None and rec.verdict.evidence.examples:
                key = f"{rec.nodeid} | {rec.verdict.check} | {rec.verdict.scorer}"
                self.examples.setdefault(key, list(rec.verdict.evidence.examples))
        try:
            html, png = write_report(result, path, self.snapshots, self.examples)
        except OSError as exc:
            # The OS names a temporary file: which of the two was being written?
            png = png_path(path)
            where = png if png.name in f"{exc.filename} {exc.filename2}" else path
            fix = f"pass another {REPORT_OPTION} path"
            self._failed_output(terminalreporter, f"could not write the report {where}: "
                                f"{write_problem(where, exc, fix)}")
            return
        terminalreporter.write_line(f"behavtest: report written to {html} (and {png})")

    def _failed_output(self, terminalreporter: Any, message: str) -> None:
        """An output file could not be written: say why on one line, and fail a run
        that would otherwise pass (a CI job must not go green without its report)."""
        terminalreporter.write_line(f"behavtest: {message}", red=True)
        session = self.pytest_session
        if session is not None and int(session.exitstatus) == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
