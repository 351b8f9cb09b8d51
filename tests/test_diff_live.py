"""``behavtest diff A B`` with model specs: each spec drawn live by a suite (in a
subprocess, through the sample cache) into a temporary snapshot folder, then
diffed as folders are. The suite here is a one-test suite on the test double,
at a small n, so that each draw is one short pytest run."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from behavtest.commands.cli import main
from behavtest.snapshots import diff_live
from behavtest.snapshots.store import slug

SUITE = """
from behavtest import Scorer
from behavtest.checks import expect

def test_yes(model):
    expect(model.sample("q", n=40), Scorer("says yes", lambda t: t == "yes")).rate_at_most(0.99)
"""
HIGH, LOW = "double/yes=0.8,no=0.2", "double/yes=0.2,no=0.8"
REPO_SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-test behaviour suite; temp folders go under tmp_path/tmp, to be seen."""
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "conftest.py").write_text('pytest_plugins = ["behavtest.plugin"]\n')
    (folder / "test_s.py").write_text(SUITE)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    return folder


def tree(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_mtime_ns) for p in root.rglob("*"))


def diff(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_two_specs_at_different_rates_are_drawn_and_changed(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    committed = tree(REPO_SNAPSHOTS)
    code, out, err = diff(capsys, HIGH, LOW, "--suite", str(suite))
    assert code == 1
    assert out.startswith(f"behavtest diff: A = {HIGH}, B = {LOW}:")
    rows = [ln for ln in out.splitlines() if ln.startswith("suite/test_s.py::test_yes")]
    assert len(rows) == 1 and rows[0].endswith("changed down")
    assert err.count("behavtest diff: drawing ") == 2 and err.count("\n") == 2
    assert list((tmp_path / "tmp").iterdir()) == []  # the drawn snapshots are gone
    assert tree(REPO_SNAPSHOTS) == committed  # and the committed ones untouched


def test_the_same_spec_twice_is_drawn_once_and_unchanged(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = diff(capsys, HIGH, HIGH, "--suite", str(suite), "--format", "json")
    assert code == 0 and '"verdict": "no significant change"' in out
    assert err.count("behavtest diff: drawing ") == 1


def test_a_folder_against_a_spec(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One side recorded as usual, the other drawn: the folder is read, not drawn."""
    with diff_live.folders(str(suite), LOW, str(suite)) as (a, b):
        assert a == str(suite) and Path(b).name == slug(LOW)
        assert Path(b, "suite.test_s.json").is_file()
    assert not Path(b).exists()


@pytest.mark.parametrize("spec, message", [
    ("double/yes=2", "double/yes=2 is neither a folder nor a valid model spec (reply "
                     "probabilities {'yes': 2.0} must be >= 0 and sum to 1); fix: pass a "
                     "snapshot folder"),
    ("snapshots/nowhere", "snapshots/nowhere is neither a folder nor a valid model spec "
                          "(unknown model provider 'snapshots'); fix:"),
])
def test_a_bad_spec_is_one_line_exit_2_before_anything_runs(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    code, out, err = diff(capsys, HIGH, spec, "--suite", str(suite))
    assert code == 2 and out == ""
    assert err.startswith("behavtest: error: ") and err.count("\n") == 1 and message in err
    assert "embedded, hf/<folder>, openai/<model>" in err  # both possibilities named
    assert not (suite / ".behavtest_cache").exists()  # nothing was drawn


@pytest.mark.parametrize("test_file, what", [
    ("def test_x(:\n", "pytest exit 2: SyntaxError: invalid syntax"),
    ("def test_x():\n    assert True\n", "no snapshot written: 1 passed in "),
])
def test_a_pytest_run_that_fails_is_one_line_exit_2(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], test_file: str, what: str
) -> None:
    (suite / "test_s.py").write_text(test_file)
    code, out, err = diff(capsys, HIGH, LOW, "--suite", "suite")
    assert code == 2 and out == ""
    progress, line = err.splitlines()  # A's draw failed: B was not drawn
    assert progress.startswith(f"behavtest diff: drawing {HIGH}: pytest suite --behav-model ")
    assert line.startswith(f"behavtest: error: drawing {HIGH} with pytest suite failed ")
    assert f"({what}" in line and f"; fix: run pytest suite --behav-model {HIGH}" in line
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_missing_suite_is_one_line_before_anything_runs(
    suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = diff(capsys, HIGH, LOW, "--suite", "nowhere")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--suite nowhere does not exist, and a model spec is drawn with it; fix:" in err
