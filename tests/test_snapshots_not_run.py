"""Snapshots: a skipped test is "not run", a test that no longer exists is "gone".

A stored entry this run did not measure is "gone" when its test ran and made
no such check, or when the test no longer exists (its module was collected
and did not yield it): an update drops it, and the summary asks for one. An
entry whose test was collected but skipped (optional files absent, a model it
does not apply to) is "not run", with the skip's reason: it is kept, fails
nothing and asks for no update. A test outside the run (deselected, its module
not collected) is not mentioned at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from verdicts import measured_rate

from behavtest.snapshots.run import SnapshotRun
from behavtest.snapshots.store import Entry, read_folder, render
from behavtest.verdict import Verdict

MODEL = "my-model"
CHECK = "rate >= 0.1"
HINT = "rerun with --behav-snapshot-update"


def verdict(k: int, n: int = 100) -> Verdict:
    return measured_rate(k, n, check=CHECK, p_value=0.01, p_against=0.9,
                         method="exact binomial")


def key(nodeid: str) -> str:
    return f"{nodeid} :: {CHECK}"


def opened(tmp_path: Path, nodeids: list[str], update: bool = False) -> SnapshotRun:
    """A run over a stored file holding one entry for each of ``nodeids``."""
    folder = tmp_path / MODEL
    folder.mkdir(parents=True, exist_ok=True)
    entries = {key(n): Entry.of(n, verdict(30)) for n in nodeids}
    (folder / "t.json").write_text(render(MODEL, entries))
    return SnapshotRun.open(tmp_path, MODEL, update=update)


RAN, SKIPPED, RENAMED, DESELECTED, ELSEWHERE = (
    "t.py::test_ran", "t.py::test_optional[paper]", "t.py::test_old_name",
    "t.py::test_deselected", "other.py::test_x")
STORED = [RAN, SKIPPED, RENAMED, DESELECTED, ELSEWHERE]


def this_run(run: SnapshotRun) -> None:
    """t.py collected (test_old_name renamed away); test_ran ran; the paper case
    skipped at setup; test_deselected collected, then -k deselected; other.py not
    part of the run."""
    run.saw_collection("t.py", [RAN, "t.py::test_optional[project]", SKIPPED, DESELECTED,
                                "t.py::test_new_name"])
    for nodeid in (RAN, "t.py::test_optional[project]", "t.py::test_new_name"):
        for when in ("setup", "call", "teardown"):
            run.saw(nodeid, when, None)
    run.saw(SKIPPED, "setup", "Skipped: the paper's question files are not here")
    run.saw(SKIPPED, "teardown", None)


def test_a_skipped_test_is_not_run_and_a_vanished_one_is_gone(tmp_path: Path) -> None:
    run = opened(tmp_path, STORED)
    this_run(run)
    run.compare([(RAN, verdict(30))], 0.05, 0.1)
    assert {c.key: (c.status, c.reason) for c in run.comparisons} == {
        key(RAN): ("no significant change", None),
        key(SKIPPED): ("not run", "its test was skipped (the paper's question files are not "
                                  "here)"),
        key(RENAMED): ("gone", "its test no longer exists"),
    }
    assert run.failed() == set()
    lines = run.summary()
    assert lines[0] == (f"behavtest: snapshots of {MODEL}: 1 no significant change, 1 gone, "
                        "1 not run")
    assert f"  not run: {key(SKIPPED)}: was 30/100" in "\n".join(lines)
    assert f"  gone: {key(RENAMED)}: was 30/100" in "\n".join(lines)
    assert any(HINT in line for line in lines)  # for the gone entry


def test_only_skipped_tests_ask_for_no_update(tmp_path: Path) -> None:
    run = opened(tmp_path, [RAN, SKIPPED])
    this_run(run)
    run.compare([(RAN, verdict(30))], 0.05, 0.1)
    lines = run.summary()
    assert lines[0] == f"behavtest: snapshots of {MODEL}: 1 no significant change, 1 not run"
    assert not any(HINT in line or "gone" in line for line in lines)


def test_a_skip_inside_the_test_is_not_run_too(tmp_path: Path) -> None:
    """pytest.skip() in the test's body: a skipped call, not a call that ran."""
    run = opened(tmp_path, [SKIPPED])
    run.saw_collection("t.py", [SKIPPED])
    run.saw(SKIPPED, "setup", None)
    run.saw(SKIPPED, "call", "Skipped: no files")
    run.compare([], 0.05, 0.1)
    assert [(c.status, c.reason) for c in run.comparisons] == [
        ("not run", "its test was skipped (no files)")]
    assert run.selected == set()


def test_a_test_that_ran_and_made_no_such_check_is_still_gone(tmp_path: Path) -> None:
    run = opened(tmp_path, [RAN])
    run.saw_collection("t.py", [RAN])
    run.saw(RAN, "call", None)
    run.compare([], 0.05, 0.1)
    assert [(c.status, c.reason) for c in run.comparisons] == [
        ("gone", "its test ran and made no such check")]


def test_a_class_collected_alone_says_nothing_of_its_modules_other_tests(
    tmp_path: Path,
) -> None:
    """``t.py::TestA`` on the command line collects t.py's TestA, not TestB: only
    the collector an entry's test belonged to can tell that it no longer exists."""
    gone, other = "t.py::TestA::test_old", "t.py::TestB::test_b"
    run = opened(tmp_path, [gone, other])
    run.saw_collection("t.py::TestA", ["t.py::TestA::test_new"])
    run.compare([], 0.05, 0.1)
    assert [(c.key, c.status) for c in run.comparisons] == [(key(gone), "gone")]


def test_an_update_drops_gone_entries_and_keeps_skipped_ones(tmp_path: Path) -> None:
    run = opened(tmp_path, STORED, update=True)
    this_run(run)
    result = run.write([(RAN, verdict(30))])
    assert (result.added, result.updated, result.removed) == (0, 0, 1)  # test_old_name
    assert set(read_folder(tmp_path / MODEL)) == {key(n) for n in STORED if n != RENAMED}


# -- through pytest, with and without xdist -------------------------------------------------

SUITE = """
import os
import pytest
from behavtest import Scorer
from behavtest.checks import expect

YES = Scorer("says yes", lambda t: t == "yes")
HERE = bool(os.environ.get("OPTIONAL_FILES"))

def test_always(model):
    expect(model.sample("qa", n=100), YES).rate_at_least(0.1)

@pytest.mark.parametrize("source", [
    "project",
    pytest.param("paper", marks=pytest.mark.skipif(not HERE, reason="files absent")),
])
def test_sourced(model, source):
    expect(model.sample("q" + source, n=100), YES).rate_at_least(0.1)

def test_skips_inside(model):
    if not HERE:
        pytest.skip("files absent here too")
    expect(model.sample("qi", n=100), YES).rate_at_least(0.1)
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--behav-model", "double/yes=0.5,no=0.5", "--behav-snapshot-as", MODEL,
        "-p", "no:cacheprovider", "--behav-cache", "off", *args,
    )


def snapshot_lines(result: pytest.RunResult) -> str:
    """The summary's snapshot lines (the pytester path may hold any word)."""
    lines = result.stdout.lines
    start = next(i for i, ln in enumerate(lines) if ln.startswith("behavtest: snapshots"))
    return "\n".join(ln for ln in lines[start:] if not ln.startswith("="))


def stored(pytester: pytest.Pytester) -> set[str]:
    text = (pytester.path / "snapshots" / MODEL / "test_s.json").read_text()
    return set(json.loads(text)["entries"])


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "xdist"])
def test_a_newcomer_without_the_optional_files_sees_not_run_never_gone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, xdist: list[str]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_s=SUITE)
    monkeypatch.setenv("OPTIONAL_FILES", "1")
    run(pytester, "--behav-snapshot-update", *xdist).assert_outcomes(passed=4)
    recorded = stored(pytester)
    assert len(recorded) == 4
    monkeypatch.delenv("OPTIONAL_FILES")
    newcomer = run(pytester, *xdist)
    newcomer.assert_outcomes(passed=2, skipped=2)
    assert newcomer.ret == 0
    out = snapshot_lines(newcomer)
    newcomer.stdout.fnmatch_lines([
        f"behavtest: snapshots of {MODEL}: 2 no significant change, 2 not run",
        "  not run: test_s.py::test_skips_inside :: rate >= 0.1: was */100*; its test was "
        "skipped (files absent here too)",
        "  not run: test_s.py::test_sourced[[]paper] :: rate >= 0.1: was */100*; its test was "
        "skipped (files absent)",
    ])
    assert "gone" not in out and HINT not in out
    run(pytester, "--behav-snapshot-update", *xdist).assert_outcomes(passed=2, skipped=2)
    assert stored(pytester) == recorded  # an update keeps what did not run


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "xdist"])
def test_a_test_that_no_longer_exists_is_gone_and_an_update_drops_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, xdist: list[str]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("OPTIONAL_FILES", "1")
    pytester.makepyfile(test_s=SUITE)
    run(pytester, "--behav-snapshot-update", *xdist).assert_outcomes(passed=4)
    pytester.makepyfile(test_s=SUITE.replace("def test_always(", "def test_renamed("))
    deselected = run(pytester, "-k", "not test_renamed", *xdist)  # deselected: still exists
    deselected.stdout.fnmatch_lines([
        f"behavtest: snapshots of {MODEL}: 3 no significant change, 1 gone",
        "  gone: test_s.py::test_always :: rate >= 0.1: was */100*; its test no longer exists",
        f"*{HINT}*",
    ])
    assert deselected.ret == 0
    run(pytester, "--behav-snapshot-update", *xdist).assert_outcomes(passed=4)
    assert stored(pytester) == {f"test_s.py::{t} :: rate >= 0.1" for t in (
        "test_renamed", "test_sourced[project]", "test_sourced[paper]", "test_skips_inside")}
    again = run(pytester, "-k", "test_sourced", *xdist)  # the others: deselected, unmentioned
    again.stdout.fnmatch_lines([f"behavtest: snapshots of {MODEL}: 2 no significant change"])
    assert "gone" not in snapshot_lines(again) and "not run" not in snapshot_lines(again)
