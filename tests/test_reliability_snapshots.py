"""Snapshots, diff and gate against a hostile user (issue 22): each test reproduces
one fault found by probing, and shows what is now guaranteed.

1. an update keeps the entries of a test that errored (a crash is not a measurement);
2. an update into a folder that cannot be written stops before any test, in one line;
3. two concurrent updates of one file keep both runs' entries (a lock);
4. every value of a snapshot file is checked on read; ``diff`` exits 2 on bad input;
5. a snapshot name cannot leave ``snapshots/``;
6. a gate card that is a folder is one line, exit 2; the suggested card is JSON;
7. a newer snapshot format says what works (upgrade, or move the file aside).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import re
import shlex
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from verdicts import measured_rate

from behavtest.commands.cli import main
from behavtest.commands.gate import candidate
from behavtest.errors import InvalidArgument
from behavtest.snapshots import run as snapshot_run
from behavtest.snapshots import store as snapshots
from behavtest.snapshots.run import SnapshotRun, check_name, update
from behavtest.snapshots.store import HEADER, Entry, SnapshotError, read_file, read_folder, render
from behavtest.verdict import Verdict

ROOT = Path(__file__).resolve().parents[1]
MODEL = "my-model"


def verdict(k: int, n: int, check: str = "rate >= 0.1") -> Verdict:
    return measured_rate(k, n, check=check, p_value=0.01, p_against=0.9,
                         method="exact binomial")


def entry(nodeid: str, k: int, n: int = 100) -> Entry:
    return Entry.of(nodeid, verdict(k, n))


def key(nodeid: str, check: str = "rate >= 0.1") -> str:
    return f"{nodeid} :: {check}"


def store(folder: Path, entries: dict[str, Entry], name: str = "t.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(render(MODEL, entries))
    return path


def one_line_error(result: pytest.RunResult) -> str:
    """The usage error pytest printed: exactly one ERROR line, no traceback."""
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in text
    errors = [ln for ln in result.stderr.lines if ln.startswith("ERROR:")]
    assert len(errors) == 1, text
    return errors[0]


# -- 1. a crash is not a measurement -------------------------------------------------------
def test_an_errored_test_keeps_the_entries_it_did_not_measure(tmp_path: Path) -> None:
    a, b = "t.py::test_a", "t.py::test_b"
    stored = {key(a): entry(a, 30), key(a, "rate >= 0.1 #2"): entry(a, 40),
              key(b): entry(b, 50), key("t.py::test_gone"): entry("t.py::test_gone", 5)}
    store(tmp_path / MODEL, stored)
    run = SnapshotRun.open(tmp_path, MODEL, update=True)
    # test_a measured its first check, then a network error ended it; test_b ended
    # before measuring; test_gone ran and measured nothing (a removed check)
    run.selected |= {a, b, "t.py::test_gone"}
    run.errored |= {a, b}
    run.compare([(a, verdict(30, 100))], 0.05, 0.1)
    assert [c.status for c in run.comparisons] == ["no significant change", "gone"]
    result = run.write([(a, verdict(30, 100))])
    assert (result.added, result.updated, result.removed) == (0, 0, 1)
    assert result.kept == (key(a, "rate >= 0.1 #2"), key(b))
    assert set(read_folder(tmp_path / MODEL)) == {key(a), key(a, "rate >= 0.1 #2"), key(b)}
    lines = run.summary()
    assert "1 removed, 2 kept (test errored)" in lines[0]
    assert f"  kept: {key(b)}: its test errored (a crash is not a measurement)" in "\n".join(lines)


CRASHING_SUITE = """
import os
from behavtest import Scorer
from behavtest.checks import expect
from behavtest.errors import ProviderError

YES = Scorer("says yes", lambda t: t == "yes")

def test_a(model):
    expect(model.sample("qa", n=60), YES).rate_at_least(0.1)
    if os.environ.get("CRASH"):
        raise ProviderError("connection reset by peer (mid-draw)")
    expect(model.sample("qa2", n=60), YES).rate_at_least(0.1)

def test_b(model):
    if os.environ.get("CRASH"):
        raise ProviderError("connection reset by peer (mid-draw)")
    expect(model.sample("qb", n=60), YES).rate_at_least(0.1)
"""



def snapshot_run_of(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--behav-model", "double/yes=0.5,no=0.5", "--behav-snapshot-as", MODEL,
        "-p", "no:cacheprovider", "--behav-cache", "off", *args,
    )


def crash_during_update(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_s=CRASHING_SUITE)
    snapshot_run_of(pytester, "--behav-snapshot-update").assert_outcomes(passed=2)
    path = pytester.path / "snapshots" / MODEL / "test_s.json"
    before = path.read_text()
    monkeypatch.setenv("CRASH", "1")
    crashed = snapshot_run_of(pytester, "--behav-snapshot-update")
    crashed.assert_outcomes(failed=2)
    crashed.stdout.fnmatch_lines([
        "*snapshots of my-model in *: 0 added, 0 updated, 0 removed, 2 kept (test errored)*",
        "  kept: test_s.py::test_a :: rate >= 0.1 #2: its test errored (a crash is not a*",
        "  kept: test_s.py::test_b :: rate >= 0.1: its test errored*",
    ])
    assert path.read_text() == before


def test_a_crash_during_an_update_keeps_the_entries(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_during_update(pytester, monkeypatch)


# -- 2. an unwritable folder is found before anything is drawn ------------------------------
SUITE = """
from behavtest import Scorer
from behavtest.checks import expect

YES = Scorer("says yes", lambda t: t == "yes")

def test_a(model):
    expect(model.sample("qa", n=60), YES).rate_at_least(0.1)
"""


def test_an_update_into_dev_null_stops_before_any_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_s=SUITE)
    result = snapshot_run_of(pytester, "--behav-snapshots", "/dev/null",
                             "--behav-snapshot-update")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_line_error(result)
    assert line == (
        "ERROR: snapshot folder /dev/null/my-model cannot be written: /dev/null is not a "
        "folder; fix: pass --behav-snapshots a folder you can write to (default "
        "<rootdir>/snapshots), or make it writable, or drop --behav-snapshot-update"
    )
    assert "passed" not in result.stdout.str()  # nothing was drawn
    # comparing (no update) reads nothing there and runs
    snapshot_run_of(pytester, "--behav-snapshots", "/dev/null").assert_outcomes(passed=1)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_an_update_into_a_read_only_folder_stops_before_any_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_s=SUITE)
    locked_dir = pytester.path / "ro"
    locked_dir.mkdir(mode=0o555)
    try:
        result = snapshot_run_of(pytester, "--behav-snapshots", str(locked_dir),
                                 "--behav-snapshot-update")
    finally:
        locked_dir.chmod(0o755)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "is not writable (Permission denied); fix:" in one_line_error(result)


def test_a_folder_that_refuses_a_file_is_found_before_any_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check creates a file (as root, a mode says nothing): any refusal counts."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(snapshot_run.tempfile, "mkstemp", refuse)
    with pytest.raises(InvalidArgument) as info:
        SnapshotRun.open(tmp_path / "snaps", MODEL, update=True)
    assert str(info.value).startswith(
        f"snapshot folder {tmp_path}/snaps/my-model cannot be written: {tmp_path} is not "
        "writable (Permission denied); fix: pass --behav-snapshots"
    )
    SnapshotRun.open(tmp_path / "snaps", MODEL, update=False)  # reading needs no write
    assert list(tmp_path.iterdir()) == []  # the check leaves nothing behind


# -- 3. concurrent updates of one file -------------------------------------------------------
def _update_one(folder: Path, nodeid: str, k: int) -> None:
    """What a run with -k <nodeid> --behav-snapshot-update does at its end."""
    update(folder, MODEL, {key(nodeid): entry(nodeid, k)}, {nodeid})


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_two_concurrent_updates_of_one_file_keep_both_runs_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    folder = tmp_path / MODEL
    store(folder, {key("t.py::test_0"): entry("t.py::test_0", 10)})
    write = snapshot_run.write_atomic

    def slow_write(path: Path, data: bytes | str) -> None:
        time.sleep(0.5)  # both runs have read the file before either writes (unlocked)
        write(path, data)

    monkeypatch.setattr(snapshot_run, "write_atomic", slow_write)
    runs = [(folder, "t.py::test_a", 20), (folder, "t.py::test_b", 30)]
    if how == "threads":
        barrier = threading.Barrier(2)

        def run(args: tuple[Path, str, int]) -> None:
            barrier.wait()
            _update_one(*args)

        workers: list[Any] = [threading.Thread(target=run, args=(a,)) for a in runs]
    else:  # forked: the children share the patched write and start at once
        ctx = multiprocessing.get_context("fork")
        workers = [ctx.Process(target=_update_one, args=a) for a in runs]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert all(getattr(w, "exitcode", 0) == 0 for w in workers)
    entries = read_file(folder / "t.json")
    assert set(entries) == {key("t.py::test_0"), key("t.py::test_a"), key("t.py::test_b")}
    assert sorted(p.name for p in folder.iterdir()) == ["t.json"]  # no lock file left


# -- 4. every value is checked on read -------------------------------------------------------
def good(**change: Any) -> dict[str, Any]:
    d = entry("t.py::test_a", 30).to_json()
    d.update(change)
    return d


BAD_VALUES = [
    ({"rate": math.nan}, "rate nan is not a number"),
    ({"rate": 5.0}, "rate 5.0 is outside [0, 1] (a rate)"),
    ({"k": 300}, "k 300 is more than n 100"),
    ({"k": 40}, "per_prompt counts add up to 30/100, not k/n = 40/100"),
    ({"n": 10**12}, "n 1000000000000 is not a whole number in [0, 1000000]"),
    ({"k": 10**9, "n": 10**9, "per_prompt": ["1000000000/1000000000"]},
     "n 1000000000 is not a whole number in [0, 1000000]"),
    ({"per_prompt": ["30/100", "999999999/999999999"]},
     "per_prompt counts add up to 1000000029/1000000099, not k/n = 30/100"),
    ({"n": 100.0}, "n 100.0 is not a whole number"),
    ({"k": True}, "k True is not a whole number"),
    ({"interval": [0.9, 0.1]}, "interval [0.9, 0.1] has low > high"),
    ({"interval": [0.1]}, "interval [0.1] is not [low, high]"),
    ({"per_model": {"m1": ["10/50"], "m2": ["10/50"]}},
     "per_model counts add up to 20/100, not k/n = 30/100"),
    ({"check": ["x"]}, "check ['x'] is not a string"),
]


@pytest.mark.parametrize("change, why", BAD_VALUES, ids=[w[:30] for _, w in BAD_VALUES])
def test_a_bad_value_is_one_line_naming_the_file_the_entry_and_the_fix(
    tmp_path: Path, change: dict[str, Any], why: str
) -> None:
    path = tmp_path / "t.json"
    text = json.dumps({HEADER: 1, "entries": {"t.py::test_a :: c": good(**change)}})
    path.write_text(text)
    with pytest.raises(SnapshotError) as info:
        read_file(path)
    message = str(info.value)
    assert message.startswith(f"{path} is not a behavtest snapshot (entry 't.py::test_a :: c'")
    assert why in message and "fix: restore it" in message and "\n" not in message
    assert path.read_text() == text  # nothing is rewritten


def test_a_mean_and_an_arm_read_back_and_their_values_are_checked(tmp_path: Path) -> None:
    mean = good(k=None, n=3, rate=0.5, interval=[math.nan, math.nan],
                per_prompt=[[0.25, 0.75]], per_model=None)
    assert Entry.from_json("t::a", mean).clusters == ((0.25, 0.75),)  # a one-value interval
    for change, why in [({"per_prompt": [[0.5, math.inf]]}, "value inf is not a finite"),
                        ({"per_prompt": [[0.1, 0.2, 0.3, 0.4]]}, "more values than n 3"),
                        ({"rate": math.inf}, "rate inf is not a finite number")]:
        with pytest.raises(ValueError, match=re.escape(why)):
            Entry.from_json("t::a", {**mean, **change})
    arm = good(per_model={"m1": ["10/50"], "m2": ["20/50"]}, per_prompt=["10/50", "20/50"])
    assert [m for m, _ in Entry.from_json("t::a", arm).members or ()] == ["m1", "m2"]


def test_the_samples_read_at_once_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many entries just under the per-entry bound would still exhaust memory."""
    monkeypatch.setattr(snapshots, "MAX_TOTAL", 250)
    store(tmp_path, {key(f"t.py::test_{i}"): entry(f"t.py::test_{i}", 10) for i in range(3)})
    with pytest.raises(SnapshotError, match=r"entry 't.py::test_2 :: rate >= 0.1': more than "
                       r"250 samples in all\); fix"):
        read_folder(tmp_path)


def test_every_committed_snapshot_passes_the_checks() -> None:
    folders = [p for p in (ROOT / "snapshots").iterdir() if p.is_dir()]
    assert folders
    for folder in folders:
        assert read_folder(folder)


def test_an_entry_that_would_not_read_back_is_not_written(tmp_path: Path) -> None:
    a = "t.py::test_a"
    path = store(tmp_path / MODEL, {key(a): entry(a, 30)})
    before = path.read_text()
    nan = replace(entry(a, 30), rate=math.nan)
    result = update(tmp_path / MODEL, MODEL, {key(a): nan}, {a})
    assert result.refused == ((key(a), "rate nan is not a number"),)
    assert (result.added, result.updated, result.removed, result.written) == (0, 0, 0, ())
    assert path.read_text() == before  # the stored entry stays, not pruned


@pytest.mark.parametrize("change, why", [
    ({"n": 10**12}, "n 1000000000000 is not a whole number"),
    ({"rate": math.nan}, "rate nan is not a number"),
])
def test_diff_exits_2_on_a_bad_value_not_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, Any], why: str
) -> None:
    a = store(tmp_path / "a", {"t.py::test_a :: c": entry("t.py::test_a", 30)}).parent
    b = tmp_path / "b"
    b.mkdir()
    (b / "t.json").write_text(json.dumps({HEADER: 1, "entries": {"t.py::test_a :: c":
                                                                    good(**change)}}))
    assert main(["diff", str(a), str(b)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("behavtest: error: ")
    assert f"{b / 't.json'} is not a behavtest snapshot (entry 't.py::test_a :: c'" in err
    assert why in err and "fix:" in err


# -- 5. a snapshot name is one folder inside snapshots/ --------------------------------------
@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "..\\x", "", "x\0y", "../x"])
def test_an_unsafe_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidArgument, match="a snapshot name is one folder inside "
                       "snapshots/; fix: a plain name such as my-model") as info:
        check_name(name, "--name")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["my-model", "v1.2", "gpt-4o_mini", "a..b"])
def test_a_plain_name_is_accepted(name: str) -> None:
    assert check_name(name, "--name") == name


@pytest.mark.parametrize("name", ["..", ".", "../escape", ".git"])
def test_snapshot_as_cannot_write_outside_snapshots(
    pytester: pytest.Pytester, name: str
) -> None:
    pytester.makepyfile(test_s=SUITE)
    result = pytester.runpytest_subprocess(
        "--behav-model", "double/yes=0.5,no=0.5", "--behav-snapshot-as", name,
        "--behav-snapshot-update", "-p", "no:cacheprovider", "--behav-cache", "off",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "which is not a folder inside" in one_line_error(result)
    assert "fix: a plain name such as --behav-snapshot-as my-model" in result.stderr.str()
    assert list(pytester.path.rglob("*.json")) == []


def card(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "behavtest.json").write_text(text)
    return folder


def test_a_gate_card_named_dot_dot_is_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    run = card(tmp_path / "v2", '{"base": "embedded", "name": ".."}')
    with pytest.raises(InvalidArgument, match=r"behavtest.json: \"name\" '..' starts with a dot"):
        candidate(run)
    assert main(["gate", str(run)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    good_card = card(tmp_path / "v3", '{"base": "embedded", "name": "ok"}')
    assert main(["gate", str(good_card), "--name", "../x", "--workers", "0"]) == 2
    assert "--name '../x' holds a path separator" in capsys.readouterr().err


# -- 6. the gate's card ----------------------------------------------------------------------
def test_a_gate_card_that_is_a_folder_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "v2"
    (run / "behavtest.json").mkdir(parents=True)
    assert main(["gate", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"behavtest: error: {run / 'behavtest.json'} cannot be read (a folder)")


def test_the_missing_card_fix_is_a_card_that_parses_and_works(tmp_path: Path) -> None:
    run = tmp_path / "v2"
    run.mkdir()
    with pytest.raises(InvalidArgument) as info:
        candidate(run)
    suggested = re.search(r"fix: write (\{.*\}) to ", str(info.value))
    assert suggested is not None
    data = json.loads(suggested[1])
    assert data == {"base": "embedded", "name": "my-model", "trained_on": []}
    (run / "behavtest.json").write_text(suggested[1])  # following the fix works
    assert candidate(run) == (f"hf/{run}", "embedded", "my-model")


# -- 7. a newer format says what works --------------------------------------------------------
def test_a_newer_format_says_what_works_and_moving_it_aside_does(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_s=SUITE)
    newer = pytester.path / "snapshots" / MODEL / "test_s.json"
    newer.parent.mkdir(parents=True)
    text = f'{{"{HEADER}": 2, "entries": {{}}}}'
    newer.write_text(text)
    for args in ((), ("--behav-snapshot-update",)):
        result = snapshot_run_of(pytester, *args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        line = one_line_error(result)
        assert "fix: upgrade behavtest (pip install -U behavtest) to read it, or move it " \
               "aside (mv " in line
        assert "--behav-snapshot-update" not in line.split("(mv ")[0]  # not the first advice
    move = re.search(r"\(mv (.+?)\) and record afresh with --behav-snapshot-update", line)
    assert move is not None
    source, target = shlex.split(move[1])
    os.rename(source, target)  # doing what it says
    snapshot_run_of(pytester, "--behav-snapshot-update").assert_outcomes(passed=1)
    assert Path(target).read_text() == text  # the newer file is kept, beside
    assert read_file(newer)  # and the new one is recorded


def gate_args(*argv: str) -> Any:
    import argparse

    from behavtest.commands import gate

    parser = argparse.ArgumentParser()
    gate.configure(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize("name, refused", [("Qwen/Qwen2.5-0.5B", False), ("..", True),
                                           (".hidden", True)])
def test_an_openai_jobs_snapshot_name_cannot_leave_snapshots(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, refused: bool
) -> None:
    """A job's name (its suffix, else its base model) comes from the server: a
    model name's "/" is slugged as the plugin does; a leading dot is refused."""
    from behavtest.commands import gate, openai_jobs

    monkeypatch.chdir(tmp_path)  # the gate writes the job's card into ./behavtest-job

    def wait(job_id: str, **kwargs: Any) -> openai_jobs.FineTune:
        return openai_jobs.FineTune(job_id, "openai/ft:x", "openai/base", name)

    monkeypatch.setattr(openai_jobs, "wait", wait)
    if refused:
        with pytest.raises(InvalidArgument, match="would leave snapshots/; fix: pass --name"):
            gate.resolve(gate_args("--openai-job", "ftjob-1"))
    else:
        assert gate.resolve(gate_args("--openai-job", "ftjob-1")).name == name


def test_a_bad_name_is_refused_before_waiting_for_a_job(monkeypatch: pytest.MonkeyPatch) -> None:
    from behavtest.commands import gate, openai_jobs

    def wait(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("waited for the job")

    monkeypatch.setattr(openai_jobs, "wait", wait)
    with pytest.raises(InvalidArgument, match=r"--name '\.\.' starts with a dot"):
        gate.resolve(gate_args("--openai-job", "ftjob-1", "--name", ".."))


def test_diff_of_a_newer_format_exits_2_with_the_same_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = store(tmp_path / "a", {"t.py::test_a :: c": entry("t.py::test_a", 30)}).parent
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "t.json").write_text(f'{{"{HEADER}": 2, "entries": {{}}}}')
    assert main(["diff", str(a), str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has snapshot format 2; this behavtest reads format 1; " \
        "fix: upgrade behavtest (pip install -U behavtest) to read it, or move it aside" in err
