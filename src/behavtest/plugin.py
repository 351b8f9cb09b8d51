"""The pytest adapter: options, fixtures, markers, xdist exchange, summary.

Thin on purpose: it builds a :class:`behavtest.session.Session` from the
options and drives it. Heavy imports (torch, transformers) happen only when
a test first asks its model for samples.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from behavtest.errors import BehavtestError
from behavtest.expect import (
    BehaviourFailed,
    ExpectContext,
    Inconclusive,
    PreconditionNotMet,
    current_context,
)
from behavtest.group import ModelGroup
from behavtest.handle import ModelHandle
from behavtest.providers.hf import HFOptions
from behavtest.providers.registry import DEFAULT_MODEL
from behavtest.report import correction_lines, render_summary
from behavtest.session import CORRECTIONS, FAMILY_MODES, VERDICT_END, Session
from behavtest.settings import (
    INCONCLUSIVE_POLICIES,
    PROFILES,
    GenerationSettings,
    default_profile_name,
)
from behavtest.verdict import Verdict

MODEL_OPTION = "--model"
BASELINE_OPTION = "--baseline"
SAMPLES_OPTION = "--samples"
ALPHA_OPTION = "--alpha"
SEED_OPTION = "--seed"
TRAINED_ON_OPTION = "--trained-on"
INCONCLUSIVE_OPTION = "--behav-inconclusive"
PROFILE_OPTION = "--behav-profile"
CACHE_OPTION = "--behav-cache"
BATCH_OPTION = "--behav-batch-size"
CORRECTION_OPTION = "--behav-correction"
CHECKPOINTS_OPTION = "--checkpoints"
SEQUENTIAL_OPTION = "--behav-sequential"
ICC_OPTION = "--behav-icc"
BASE_URL_OPTION = "--base-url"
ENGINE_OPTION = "--behav-engine"
ENGINE_DIR_KEY = "behavtest_engine_dir"
ENGINE_OWNER_KEY = "behavtest_engine_owner"
PROGRESS_EVERY = 10.0  # seconds between the controller's progress lines under xdist
FAMILY_OPTION = "--behav-family"

SESSION_KEY = pytest.StashKey[Session]()
VERDICTS_KEY = pytest.StashKey[list[Verdict]]()
PROPERTY = "behavtest_verdict"
END_PROPERTY = "behavtest_end"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("behavtest", "behavtest: statistical behaviour tests")
    group.addoption(MODEL_OPTION, dest="behav_model", default=None, action="append",
                    help=f"model under test, provider/name (default: {DEFAULT_MODEL}); repeat it "
                    "or give an hf/ glob for an arm of fine-tune seeds")
    group.addoption(BASELINE_OPTION, dest="behav_baseline", default=None, action="append",
                    help="baseline model to compare with (tests needing one skip without it); "
                    "repeat it or give an hf/ glob for an arm")
    group.addoption(CHECKPOINTS_OPTION, dest="behav_checkpoints", default=None, action="append",
                    help="ordered checkpoints for series tests (repeat, or an hf/ glob in "
                    "natural order); tests using them skip without")
    group.addoption(SEQUENTIAL_OPTION, dest="behav_sequential", default=None,
                    action="store_const", const="true",
                    help="rate checks draw in looks and stop once decided (group-sequential, "
                    "error rates kept); --samples becomes the budget")
    group.addoption(SAMPLES_OPTION, dest="behav_samples", default=None,
                    help="samples per prompt when a test does not set n (default 100)")
    group.addoption(ALPHA_OPTION, dest="behav_alpha", default=None,
                    help="error rate of each one-sided check (default 0.05)")
    group.addoption(SEED_OPTION, dest="behav_seed", default=None,
                    help="run seed: same seed, same samples (default 0)")
    group.addoption(TRAINED_ON_OPTION, dest="behav_trained_on", action="append", default=None,
                    help="training the model under test declares (repeatable), "
                    "e.g. acrostic:HELLO; enables the properties that need it")
    group.addoption(INCONCLUSIVE_OPTION, dest="behav_inconclusive", default=None,
                    choices=INCONCLUSIVE_POLICIES,
                    help="what an INCONCLUSIVE verdict does (default: xfail; fail under CI)")
    group.addoption(PROFILE_OPTION, dest="behav_profile", default=None, choices=sorted(PROFILES),
                    help="settings profile (default: 'ci' when $CI is set, else 'default')")
    group.addoption(CACHE_OPTION, dest="behav_cache", default=None,
                    choices=("use", "refresh", "off", "readonly"),
                    help="sample cache mode (default: use)")
    group.addoption(BATCH_OPTION, dest="behav_batch_size", default=None,
                    help="local model batch size (default 16)")
    group.addoption(BASE_URL_OPTION, dest="behav_base_url", default=None,
                    help="OpenAI-compatible server for openai/ models, e.g. "
                    "http://127.0.0.1:8000/v1 (default: $BEHAVTEST_BASE_URL, $OPENAI_BASE_URL, "
                    "else OpenAI)")
    group.addoption(ENGINE_OPTION, dest="behav_engine", default=None, choices=("auto", "off"),
                    help="under xdist, serve each local model from one shared engine process "
                    "(auto, default) or load it in every worker (off)")
    group.addoption(ICC_OPTION, dest="behav_icc", default=None,
                    help="least intra-cluster correlation assumed between replies to one "
                    "prompt when a check pools several prompts (default 0.1; 0 = trust the "
                    "data alone)")
    group.addoption(CORRECTION_OPTION, dest="behav_correction", default=None,
                    choices=CORRECTIONS,
                    help="suite-level correction of every verdict: holm (family-wise, default), "
                    "bh (false discovery rate) or none")
    group.addoption(FAMILY_OPTION, dest="behav_family", default=None, choices=FAMILY_MODES,
                    help="families the correction runs within: suite (default), module, or "
                    "marker (@pytest.mark.behav_family('name'); unmarked tests form one family)")
    for name, help_ in [
        ("behav_model", "default --model"), ("behav_baseline", "default --baseline"),
        ("behav_samples", "default --samples"), ("behav_alpha", "default --alpha"),
        ("behav_seed", "default --seed"), ("behav_trained_on", "default --trained-on (lines)"),
        ("behav_inconclusive", "default --behav-inconclusive"),
        ("behav_profile", "default --behav-profile"),
        ("behav_cache", "default --behav-cache"), ("behav_cache_dir", "sample cache folder"),
        ("behav_batch_size", "default --behav-batch-size"),
        ("behav_correction", "default --behav-correction"),
        ("behav_checkpoints", "default --checkpoints (lines)"),
        ("behav_icc", "default --behav-icc"),
        ("behav_base_url", "default --base-url"),
        ("behav_engine", "default --behav-engine"),
        ("behav_sequential", "default --behav-sequential (true/false)"),
        ("behav_family", "default --behav-family"),
        ("behav_temperature", "sampling temperature (default 1.0; 0 = greedy)"),
        ("behav_top_p", "nucleus sampling mass (default 1.0 = off)"),
        ("behav_top_k", "top-k (default 0 = off)"),
        ("behav_max_tokens", "max tokens per reply (default 128)"),
    ]:
        if name in ("behav_trained_on", "behav_model", "behav_baseline", "behav_checkpoints"):
            parser.addini(name, help_, type="linelist")
        else:
            parser.addini(name, help_, type="string")


def _value(config: pytest.Config, name: str) -> Any:
    opt = config.getoption(name, default=None)
    if opt is not None:
        return opt
    ini = config.getini(name)
    return ini if ini not in ("", []) else None


def _number(raw: Any, kind: type, option: str) -> Any:
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise pytest.UsageError(
            f"{option} {raw!r} is not a valid {kind.__name__}; fix: e.g. {option} "
            f"{'100' if kind is int else '0.05'}"
        ) from None


def _build_session(config: pytest.Config) -> Session:
    if (base_url := _value(config, "behav_base_url")) is not None:
        # The openai/ provider reads its server from here (and xdist workers,
        # started with the same options, set it for themselves).
        os.environ["BEHAVTEST_BASE_URL"] = str(base_url)
    profile = _value(config, "behav_profile") or default_profile_name()
    if profile not in PROFILES:
        raise pytest.UsageError(
            f"behav_profile {profile!r} is not one of {', '.join(sorted(PROFILES))}"
        )
    run = PROFILES[profile]
    changes: dict[str, Any] = {}
    for name, opt, kind in [
        ("behav_samples", SAMPLES_OPTION, int),
        ("behav_alpha", ALPHA_OPTION, float),
        ("behav_seed", SEED_OPTION, int),
        ("behav_icc", ICC_OPTION, float),
    ]:
        raw = _value(config, name)
        if raw is not None:
            changes[name.removeprefix("behav_")] = _number(raw, kind, opt)
    if (policy := _value(config, "behav_inconclusive")) is not None:
        changes["inconclusive"] = policy
    if (seq := _value(config, "behav_sequential")) is not None:
        flag = str(seq).strip().lower()
        if flag not in ("true", "false", "1", "0", "yes", "no"):
            raise pytest.UsageError(f"behav_sequential {seq!r} is not true or false")
        changes["sequential"] = flag in ("true", "1", "yes")
    gen: dict[str, Any] = {}
    for name, kind in [("behav_temperature", float), ("behav_top_p", float),
                       ("behav_top_k", int), ("behav_max_tokens", int)]:
        raw = _value(config, name)
        if raw is not None:
            gen[name.removeprefix("behav_")] = _number(raw, kind, name)
    changes["generation"] = GenerationSettings(**gen)
    run = run.with_(**changes)

    trained: list[str] = []
    for entry in _value(config, "behav_trained_on") or []:
        trained += [t.strip() for t in str(entry).split(",") if t.strip()]
    cache_dir = _value(config, "behav_cache_dir")
    cache_root = Path(cache_dir) if cache_dir else Path(config.rootpath) / ".behavtest_cache"
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
    raw_batch = _value(config, "behav_batch_size")
    batch = _number(raw_batch, int, BATCH_OPTION) if raw_batch is not None else 16
    if batch < 1:
        raise pytest.UsageError(f"{BATCH_OPTION} {batch} must be >= 1; fix: e.g. 16")
    hf = HFOptions(batch_size=batch, threads=threads)
    engine = _value(config, "behav_engine") or "auto"
    if engine not in ("auto", "off"):
        raise pytest.UsageError(f"behav_engine {engine!r} is not auto or off")
    workerinput = getattr(config, "workerinput", {}) or {}
    engine_dir = workerinput.get(ENGINE_DIR_KEY) if engine == "auto" else None
    session = Session.create(
        run=run,
        model_spec=_value(config, "behav_model") or DEFAULT_MODEL,
        baseline_spec=_value(config, "behav_baseline"),
        checkpoints=_value(config, "behav_checkpoints") or (),
        trained_on=trained,
        cache_path=cache_root / "samples.sqlite",
        cache_mode=_value(config, "behav_cache") or "use",
        hf_options=hf,
        correction=_value(config, "behav_correction") or "holm",
        family_mode=_value(config, "behav_family") or "suite",
    )
    if engine_dir:
        session.engine_dir = Path(engine_dir)
        session.engine_owner = int(workerinput[ENGINE_OWNER_KEY])
    return session


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "trained_for(*tags): a property of models trained for these tags "
        "(e.g. 'acrostic:HELLO'); not applicable to other models",
    )
    config.addinivalue_line(
        "markers",
        "control(*tags): a control for models NOT trained for these tags; "
        "not applicable to models that are",
    )
    config.addinivalue_line(
        "markers",
        "behav_family(name): the family this test's verdicts are corrected within "
        "(with --behav-family marker)",
    )
    try:
        session = _build_session(config)
    except BehavtestError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SESSION_KEY] = session
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        session.on_progress = ProgressLine(config)
    elif workerinput.get(ENGINE_DIR_KEY):  # xdist workers have no terminal: tell the controller
        from behavtest.progress import WorkerProgress

        session.on_progress = WorkerProgress(
            Path(workerinput[ENGINE_DIR_KEY]), str(workerinput.get("workerid", os.getpid()))
        )
    config.pluginmanager.register(RunReporter(config), "behavtest-run")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistController(config), "behavtest-xdist")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return config.stash[SESSION_KEY].header()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    session = config.stash[SESSION_KEY]
    for item in items:
        trained = [t for m in item.iter_markers("trained_for") for t in m.args]
        controls = [t for m in item.iter_markers("control") for t in m.args]
        if not trained and not controls:
            continue
        reason = session.applies(trained, controls)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def model(pytestconfig: pytest.Config) -> ModelHandle | ModelGroup:
    """The model under test (``--model``), loaded on first use; a ModelGroup
    when ``--model`` names several (an arm of fine-tune seeds)."""
    session = pytestconfig.stash[SESSION_KEY]
    return session.unit(session.model_specs)


@pytest.fixture(scope="session")
def baseline(pytestconfig: pytest.Config) -> ModelHandle | ModelGroup:
    """The baseline model (``--baseline``); tests using it skip when none is given."""
    session = pytestconfig.stash[SESSION_KEY]
    if not session.baseline_specs:
        pytest.skip(f"no baseline model: pass {BASELINE_OPTION} provider/name")
    return session.unit(session.baseline_specs)


@pytest.fixture(scope="session")
def checkpoints(pytestconfig: pytest.Config) -> ModelGroup:
    """The ordered checkpoint series (``--checkpoints``); tests skip without it."""
    session = pytestconfig.stash[SESSION_KEY]
    if not session.checkpoint_specs:
        pytest.skip(f"no checkpoint series: pass {CHECKPOINTS_OPTION} (repeat, or an hf/ glob)")
    group = session.unit(session.checkpoint_specs, ordered=True)
    assert isinstance(group, ModelGroup)
    return group


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    session = item.config.stash[SESSION_KEY]
    verdicts: list[Verdict] = []
    item.stash[VERDICTS_KEY] = verdicts
    token = current_context.set(
        ExpectContext(alpha=session.run.alpha, record=verdicts.append, icc=session.run.icc)
    )
    try:
        return (yield)
    finally:
        current_context.reset(token)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when != "call":
        return report
    session = item.config.stash[SESSION_KEY]
    family = _family(item, session.family_mode)
    verdicts = item.stash.get(VERDICTS_KEY, [])
    for v in verdicts:
        report.user_properties.append((PROPERTY, json.dumps(replace(v, family=family).to_dict())))
    exc = call.excinfo.value if call.excinfo else None
    ended_by_verdict = isinstance(exc, (BehaviourFailed, Inconclusive)) or (
        exc is None and bool(verdicts)
    )
    report.user_properties.append((END_PROPERTY, VERDICT_END if ended_by_verdict else "other"))
    if isinstance(exc, Inconclusive):
        if session.run.inconclusive == "xfail":
            report.outcome = "skipped"
            report.wasxfail = "INCONCLUSIVE: " + exc.verdict.summary()
        else:
            report.longrepr = str(exc)
    elif isinstance(exc, PreconditionNotMet):
        # Not judged: reported as a skip at the test's own location, with the numbers.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, f"Skipped: {exc}")
    elif isinstance(exc, BehavtestError):
        # Bad input from test code: one line naming the problem and the fix.
        report.longrepr = f"{type(exc).__name__}: {exc}"
    return report


def _family(item: pytest.Item, mode: str) -> str:
    """The correction family of a test's verdicts under ``--behav-family``."""
    if mode == "module":
        return item.nodeid.split("::", 1)[0]
    if mode == "marker":
        marker = item.get_closest_marker("behav_family")
        if marker is not None and marker.args:
            return str(marker.args[0])
    return "suite"


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
    """Per-run hooks that need the config: verdict collection and the summary.

    Verdicts are read from call reports, so the same code collects them
    without xdist and on the xdist controller (reports carry
    ``user_properties`` across)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.session = config.stash[SESSION_KEY]
        self.ends: dict[str, str] = {}  # node id -> how the call ended
        self.failed_outside_verdicts: set[str] = set()  # setup/teardown/other failures
        self.changed: list[Any] = []
        self.pytest_status: int | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
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
        self.ends[report.nodeid] = end
        if report.failed and end != VERDICT_END:
            self.failed_outside_verdicts.add(report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["behavtest_stats"] = json.dumps(self.session.local_stats())
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
        self.changed = self.session.correct()
        if int(session.exitstatus) not in (0, 1):
            return  # interrupted, usage error, no tests: not ours to change
        failing, _ = self.session.final_failures(self.ends)
        failing |= self.failed_outside_verdicts
        self.pytest_status = int(session.exitstatus)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if failing else pytest.ExitCode.OK

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        # Logs (CI, pipes) get a wide table instead of one wrapped at 80 columns.
        xdist = self.config.pluginmanager.get_plugin("behavtest-xdist")
        if isinstance(xdist, XdistController):
            self.session.engine_loads = xdist.engines_started()
        tty = bool(getattr(terminalreporter, "isatty", False))
        width = max(80, shutil.get_terminal_size((160, 24)).columns) if tty else 160
        text = render_summary(self.session, width=width)
        if text:
            terminalreporter.write_sep("=", "behavtest summary")
            terminalreporter.write(text)
            for line in correction_lines(self.session, self.changed, self.pytest_status):
                terminalreporter.write_line(line)


class XdistController:
    """Registered only when xdist is loaded: merges worker statistics."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
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
        """Every few seconds, a line on what the workers are drawing (terminals only:
        a log gets the summary table, not a ticker)."""
        from behavtest.progress import summarise

        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is None or not tr.isatty or self.config.get_verbosity() < 0:
            return
        last = None
        while not self._done.wait(PROGRESS_EVERY):
            assert self.engine_dir is not None
            line = summarise(self.engine_dir)
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

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        out = getattr(node, "workeroutput", {}) or {}
        raw = out.get("behavtest_stats")
        if raw:
            worker = str(out.get("workerid", id(node)))
            self.config.stash[SESSION_KEY].merge_worker(worker, json.loads(raw))
