"""Reliability under hostile input (issue 22): the sample cache, output files, options,
and untrusted text in the reports.

* A sample cache that cannot serve (garbage, truncated, another program's
  database, a folder, read-only) stops the run before any test with one line
  naming the file and the fix; ``--behav-cache refresh`` moves a bad file aside
  (kept) and starts a new cache; a failure during the run is one line too.
* Cache rows carry checksums: a row edited by hand is drawn again, so a failing
  control stays failed.
* ``--behav-summary`` always describes the run that wrote it; a report that
  cannot be written fails the run and says why; a bad ``behav_engine`` ini value
  is a usage error on the controller.
* Test ids, check names and replies reach the terminal and the HTML report as
  text: no markup, no control or bidirectional-override character.
"""

from __future__ import annotations

import json
import os
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from verdicts import passing_verdict

from behavtest.files import write_problem
from behavtest.reports.html import build_html, record_key
from behavtest.reports.terminal import render_summary
from behavtest.run.result import Record
from behavtest.run.session import Session
from behavtest.sampling.cache import CacheError, SampleCache, row_checksum
from behavtest.settings import PROFILES
from behavtest.untrusted import plain_lines
from behavtest.verdict import Verdict

MODEL = "double/yes=0.3,no=0.7"
SUITE = """
from behavtest import Scorer
from behavtest.checks import expect

YES = Scorer("says yes", lambda t: t == "yes")

def test_rate(model):
    expect(model.sample("q", n=60), YES).rate_at_least(0.1)
"""
CONTROL = """
from behavtest import Scorer
from behavtest.checks import expect

def test_control(model):
    expect(model.sample("q", n=60), Scorer("says yes", lambda t: t == "yes")).rate_at_most(0.05)
"""
NO_CHECKS = "def test_plain():\n    pass\n"
CACHE = Path(".behavtest_cache", "samples.sqlite")


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A run of the project with the scripted model, its own cache and no snapshots."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.setenv("MPLCONFIGDIR", str(pytester.path.parent / "mplconfig"))

    def go(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--behav-snapshots", "off", "--behav-model", MODEL, *args)

    return go


def _filled_cache(path: Path, rows: int = 3000) -> bytes:
    """A real cache file (WAL mode, checksums), closed; returns its bytes."""
    cache = SampleCache(path, "use")
    cache.put_many({f"k{i}": {"text": "x" * 100, "tokens": 3, "finish": "stop"}
                    for i in range(rows)})
    cache.close()
    return path.read_bytes()


def _make_bad_cache(root: Path, kind: str) -> Path:
    """The cache file of a project, made unusable in one of the ways users meet."""
    path = root / CACHE
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "garbage":
        path.write_bytes(bytes(range(256)) * 12)
    elif kind == "truncated":
        data = _filled_cache(path)
        path.write_bytes(data[: len(data) // 2])
    elif kind == "other-schema":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE users (id INTEGER, name TEXT)")
        db.close()
    elif kind == "folder":
        path.mkdir()
    return path


def _assert_one_line_usage_error(result: pytest.RunResult, *fragments: str) -> None:
    """Exit 4, one ERROR line holding every fragment and a fix, no traceback, no test run."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    lines = [ln for ln in err.splitlines() if ln.startswith("ERROR:")]
    assert len(lines) == 1, err
    assert all(f in lines[0] for f in fragments) and "fix:" in lines[0], lines[0]
    out = result.stdout.str()
    assert "Traceback" not in err + out and "sqlite3." not in err + out
    assert "passed" not in out and "failed" not in out


# -- 1. an unusable sample cache ----------------------------------------------------------

@pytest.mark.parametrize("kind, mode", [
    ("garbage", "use"), ("garbage", "readonly"), ("truncated", "use"),
    ("other-schema", "use"), ("other-schema", "readonly"), ("folder", "use"),
    ("folder", "refresh"),
])
def test_an_unusable_cache_is_one_line_before_any_test(
    pytester: pytest.Pytester, run, kind: str, mode: str  # type: ignore[no-untyped-def]
) -> None:
    path = _make_bad_cache(pytester.path, kind)
    before = sorted(p.name for p in path.parent.iterdir())
    pytester.makepyfile(test_s=SUITE)
    result = run("--behav-cache", mode)
    _assert_one_line_usage_error(result, f"sample cache {path}")
    assert sorted(p.name for p in path.parent.iterdir()) == before  # nothing moved or made


@pytest.mark.parametrize("kind", ["garbage", "truncated", "other-schema"])
def test_refresh_moves_a_bad_cache_aside_and_starts_a_new_one(
    pytester: pytest.Pytester, run, kind: str  # type: ignore[no-untyped-def]
) -> None:
    path = _make_bad_cache(pytester.path, kind)
    old = path.read_bytes()
    pytester.makepyfile(test_s=SUITE)
    result = run("--behav-cache", "refresh", "-q")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"behavtest: sample cache {path} *; moved it to "
                                 "samples.sqlite.broken-* (kept*) and started a new cache"])
    [moved] = [p for p in path.parent.iterdir() if ".broken-" in p.name]
    assert moved.read_bytes() == old  # nothing the user did not ask to lose is lost
    again = run("--behav-cache", "use")  # the new cache serves the next run
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["*samples drawn 0, from cache 60*"])


def test_a_read_only_cache_is_one_line_and_readonly_mode_still_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "samples.sqlite"
    _filled_cache(path, rows=5)
    path.chmod(0o444)
    if os.geteuid() == 0:  # root writes anyway: make the check see what a user would
        real = os.access
        monkeypatch.setattr("behavtest.sampling.cache.os.access", lambda p, m: real(p, m) and (
            Path(p) != path or not m & os.W_OK))
    with pytest.raises(CacheError, match=r"cannot be written .*fix: .*--behav-cache readonly"):
        SampleCache(path, "use").open()
    with pytest.raises(CacheError, match="cannot be written"):
        SampleCache(path, "refresh").open()  # refresh moves corrupted files, not locked ones
    readonly = SampleCache(path, "readonly")
    assert readonly.open() is None and len(readonly.get_many(["k0", "k1"])) == 2


def test_a_cache_that_breaks_during_the_run_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite"
    cache = SampleCache(path, "use")
    cache.open()
    cache.put_many({"a": {"text": "x"}})
    with sqlite3.connect(path) as other:  # another program changes the file under it
        other.execute("DROP TABLE samples")
    other.close()
    with pytest.raises(CacheError) as caught:
        cache.get_many(["a"])
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "fix:" in message


# -- 7. checksums ---------------------------------------------------------------------------

def test_an_edited_or_moved_row_fails_its_checksum_and_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite"
    SampleCache(path).put_many({"a": {"text": "no"}, "b": {"text": "yes"}})
    with sqlite3.connect(path) as db:
        db.execute("UPDATE samples SET value = ? WHERE key = 'a'", ('{"text": "yes"}',))
        db.execute("INSERT INTO samples SELECT 'c', value, sum FROM samples WHERE key = 'b'")
    db.close()
    cache = SampleCache(path, "use")
    assert cache.get_many(["a", "b", "c"]) == {"b": {"text": "yes"}}
    assert cache.rejected == 2 and cache.misses == 2


def test_a_cache_from_before_checksums_gets_them_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite"
    with sqlite3.connect(path) as db:  # the schema of earlier behavtest versions
        db.execute("CREATE TABLE samples (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO samples VALUES ('a', ?)", (json.dumps({"text": "x"}),))
    db.close()
    assert SampleCache(path, "readonly").get_many(["a"]) == {"a": {"text": "x"}}  # unchanged
    cache = SampleCache(path, "use")
    assert cache.open() is None and cache.get_many(["a"]) == {"a": {"text": "x"}}
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT sum FROM samples").fetchone()[0] == row_checksum(
            "a", json.dumps({"text": "x"}))
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()


def test_a_failing_control_stays_failed_after_its_cached_replies_are_edited(
    pytester: pytest.Pytester, run  # type: ignore[no-untyped-def]
) -> None:
    pytester.makepyfile(test_c=CONTROL)
    run().assert_outcomes(failed=1)
    with sqlite3.connect(pytester.path / CACHE) as db:  # every "yes" reply becomes "no"
        edited = db.execute(
            "UPDATE samples SET value = replace(value, '\"yes\"', '\"no\"')").rowcount
    db.close()
    assert edited == 60
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["behavtest: * cached rows failed the checksum (edited or "
                                 "corrupted since written) and were drawn again"])


# -- 2. the Markdown summary always describes this run -------------------------------------

def test_a_run_without_verdicts_replaces_an_earlier_summary(
    pytester: pytest.Pytester, run  # type: ignore[no-untyped-def]
) -> None:
    (pytester.path / "summary.md").write_text("## behavtest: old\n\n| stale | ✅ PASS |\n")
    pytester.makepyfile(test_p=NO_CHECKS)
    result = run("--behav-cache", "off", "--behav-summary", "summary.md")
    result.assert_outcomes(passed=1)
    text = (pytester.path / "summary.md").read_text()
    assert "stale" not in text and "**No measurements**" in text and MODEL in text


def test_a_run_that_dies_leaves_did_not_finish_not_the_old_summary(
    pytester: pytest.Pytester, run  # type: ignore[no-untyped-def]
) -> None:
    (pytester.path / "summary.md").write_text("| stale | ✅ PASS |\n")
    pytester.makepyfile(test_d="import os\n\ndef test_dies():\n    os._exit(3)\n")
    run("--behav-cache", "off", "--behav-summary", "summary.md")
    text = (pytester.path / "summary.md").read_text()
    assert "stale" not in text and "did not finish" in text


# -- 3. a bad behav_engine ini value -------------------------------------------------------

@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_bad_engine_ini_value_is_a_usage_error_on_the_controller(
    pytester: pytest.Pytester, run, xdist: tuple[str, ...]  # type: ignore[no-untyped-def]
) -> None:
    pytester.makeini("[pytest]\nbehav_engine = sometimes\n")
    pytester.makepyfile(test_s=SUITE)
    result = run("--behav-cache", "off", *xdist)
    _assert_one_line_usage_error(result, "behav_engine 'sometimes' is not one of auto, off")
    assert "node down" not in result.stdout.str() + result.stderr.str()


# -- 4. output files that cannot be written ---------------------------------------------

@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_report_path_that_takes_no_files_stops_the_run_first(
    pytester: pytest.Pytester, run  # type: ignore[no-untyped-def]
) -> None:
    pytester.makepyfile(test_s=SUITE)
    result = run("--behav-cache", "off", "--behav-report", "/proc/r.html")
    _assert_one_line_usage_error(result, "--behav-report /proc/r.html: ")
    err = result.stderr.str()  # root is told what the OS says, others what access() says
    assert "folder /proc takes no new files" in err or "folder /proc is not writable" in err
    assert "free space" not in err


def test_outputs_that_fail_at_the_end_fail_the_run_and_say_why(
    pytester: pytest.Pytester, run  # type: ignore[no-untyped-def]
) -> None:
    pytester.mkdir("out")
    # The folder is replaced by a file while the suite runs.
    pytester.makepyfile(test_s=SUITE + (
        "\n\ndef test_zz_breaks_the_folder():\n    import shutil\n"
        "    shutil.rmtree('out')\n    open('out', 'w').close()\n"))
    result = run("--behav-cache", "off", "--behav-report", "out/r.html",
                 "--behav-summary", "out/s.md")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    out = pytester.path / "out"
    result.stdout.fnmatch_lines([
        f"behavtest: could not write the report {out}/r.html: {out} is not a folder; fix: pass "
        "another --behav-report path",
        f"behavtest: could not write the summary {out}/s.md: {out} is not a folder; fix: pass "
        "another --behav-summary path",
    ])
    assert "free space" not in result.stdout.str()


@pytest.mark.parametrize("error, expected", [
    (PermissionError(13, "Permission denied", "/x/.r.tmp"), "permission denied in folder /x"),
    (OSError(30, "Read-only file system", "/x/.r.tmp"), "folder /x is on a read-only file"),
    (OSError(28, "No space left on device"), "no space left on the device of /x"),
])
def test_write_problems_name_the_path_and_the_cause(error: OSError, expected: str) -> None:
    message = write_problem(Path("/x/r.html"), error, "pass another --behav-report path")
    assert message.startswith(expected) and "fix: " in message
    assert ("free space" in message) == (error.errno == 28)


# -- 5. and 6. untrusted text in the HTML report and the terminal ---------------------------

BIDI = "\u202egnp.exe"  # shows as "exe.png"
HOSTILE = f"{BIDI} \x1b[31mred\x1b[0m \u200bzero-width \x07bell"


def _verdict(**changes: object) -> Verdict:
    return passing_verdict(**{"model": MODEL, **changes})


def _session(records: list[Record], model: str = MODEL) -> Session:
    session = Session(PROFILES["default"], (model,), (), frozenset(), None)
    session.records = records
    session.correct()
    return session


def _hidden(text: str) -> set[str]:
    """Control and format characters other than the line break."""
    return {c for c in text if unicodedata.category(c) in ("Cc", "Cf") and c != "\n"}


def test_plain_lines_strips_what_plain_strips_and_keeps_line_breaks() -> None:
    assert plain_lines(f"line one {BIDI}\r\nline\ttwo\x1b[0m") == "line one gnp.exe\nline two[0m"


def test_the_html_report_shows_model_text_without_control_or_bidi_characters() -> None:
    session = _session([Record(f"test_h.py::test_x[{HOSTILE}]", _verdict(
        check=f"rate >= 0.5 {HOSTILE}", scorer=HOSTILE, note=HOSTILE, detectable=HOSTILE,
        method=HOSTILE))], model=f"double/{HOSTILE}")
    replies = {record_key(r): [BIDI, f"two\nlines {HOSTILE}"] for r in session.records}
    page = build_html(session.result(), b"png", examples=replies)
    assert _hidden(page) == set()
    assert "gnp.exe" in page and "two\nlines" in page  # the text itself, line breaks kept


def test_the_terminal_summary_keeps_brackets_and_drops_control_characters() -> None:
    session = _session([Record(f"t.py::test_x[{HOSTILE}]", _verdict(scorer=f"[red]{HOSTILE}"))])
    text = render_summary(session.result(), width=300)
    assert _hidden(text) == set() and "[red]" in text and "gnp.exe" in text


IDS_SUITE = """
import pytest
from behavtest import Scorer
from behavtest.checks import expect

YES = Scorer("says [/] yes [bold]", lambda t: t == "yes")

@pytest.mark.parametrize("word", ["bark"])
def test_x(model, word):
    expect(model.sample("q", n=30), YES).rate_at_most(0.9)

@pytest.mark.parametrize("level", ["risky-0"])
def test_risk(model, level):
    expect(model.sample("q", n=30), YES).rate_at_most(0.9)

@pytest.mark.parametrize("s", ["/"])
def test_slash(model, s):
    expect(model.sample("q", n=30), YES).rate_at_most(0.9)
"""


def test_the_terminal_summary_shows_test_ids_and_names_with_brackets(
    pytester: pytest.Pytester, run  # type: ignore[no-untyped-def]
) -> None:
    pytester.makepyfile(test_ids=IDS_SUITE)
    result = run("--behav-cache", "off")
    result.assert_outcomes(passed=3)
    out = result.stdout.str()
    assert "MarkupError" not in out + result.stderr.str()
    for shown in ("test_x[bark]", "test_risk[risky-0]", "test_slash[/]", "says [/] yes [bold]"):
        assert any(shown in line and "│" in line for line in out.splitlines()), shown


def test_a_new_cache_serves_what_it_stored_in_the_same_process(tmp_path: Path) -> None:
    cache = SampleCache(tmp_path / "new" / "samples.sqlite", "use")
    assert cache.open() is None and not (tmp_path / "new").exists()  # open makes nothing
    assert cache.get_many(["a"]) == {}
    cache.put_many({"a": {"text": "x"}})
    assert cache.get_many(["a"]) == {"a": {"text": "x"}} and cache.rejected == 0
