"""Statistical snapshots: the file format, the comparison, and the lifecycle through pytest.

Measurements are stored with their counts and what makes them comparable;
a later run compares by a two-sample test, never by equality; only
``--behav-snapshot-update`` writes, and only within the selected tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from verdicts import measured_rate

from behavtest.errors import BehavtestError
from behavtest.snapshots.store import (
    FORMAT,
    HEADER,
    Entry,
    SnapshotError,
    compare,
    read_file,
    render,
)
from behavtest.verdict import Verdict


def verdict(k: int, n: int, prompts: str = "p1", scorer_version: str = "1") -> Verdict:
    return measured_rate(k, n, check="rate >= 0.2", p_value=0.01, p_against=0.9,
                         method="exact binomial", prompts=prompts,
                         scorer_version=scorer_version,
                         examples=("yes", "<script>x</script>", "no"))


def test_an_entry_survives_its_file_form() -> None:
    e = Entry.of("t.py::test_a", verdict(30, 100))
    text = render("double/m", {"t.py::test_a :: rate >= 0.2": e})
    lines = text.splitlines()
    assert lines[1] == f'  "{HEADER}": {FORMAT},'  # the format line comes first
    assert '"30/100"' in text  # counts per prompt, one value a line
    back = json.loads(text)["entries"]["t.py::test_a :: rate >= 0.2"]
    again = Entry.from_json("t.py::test_a", back)
    assert again.same_measurement(e) and again.examples[1] == "<script>x</script>"


def test_a_change_is_judged_by_a_two_sample_test_not_by_equality() -> None:
    was = Entry.of("t::a", verdict(30, 100))
    same = compare("k", Entry.of("t::a", verdict(33, 100)), was, 0.05, 0.1)
    assert same.status == "no significant change" and same.p > 0.5
    assert "Fisher" in same.method or "fisher" in same.method.lower()
    moved = compare("k", Entry.of("t::a", verdict(60, 100)), was, 0.05, 0.1)
    assert moved.p < 1e-4 and moved.effect == pytest.approx(0.3)
    assert moved.decide(moved.p).status == "changed up" and moved.decide(moved.p).failed
    allowed = compare("k", Entry.of("t::a", verdict(60, 100)), was, 0.05, 0.1, allow="up")
    assert allowed.p > 0.5  # only a fall is guarded
    fell = compare("k", Entry.of("t::a", verdict(5, 100)), was, 0.05, 0.1, allow="up")
    assert fell.decide(fell.p).status == "changed down" and fell.decide(fell.p).failed


def test_other_prompts_scorer_or_settings_are_not_comparable() -> None:
    was = Entry.of("t::a", verdict(30, 100))
    c = compare("k", Entry.of("t::a", verdict(30, 100, prompts="p2", scorer_version="2")), was,
                0.05, 0.1)
    assert c.status == "not comparable"
    assert c.reason == "changed: the prompts, the scorer version"


@pytest.mark.parametrize(
    "text, why",
    [
        ("{not json", "invalid JSON"),
        ('{"entries": {}}', "no 'behavtest_snapshot' format line"),
        (f'{{"{HEADER}": 1, "entries": {{"a :: b": {{"k": 1}}}}}}', "entry 'a :: b'"),
        (json.dumps({HEADER: 1, "entries": {"a :: b": {
            "k": 1, "n": 2, "rate": 0.5, "interval": [0, 1], "check": "c", "scorer": "s",
            "method": "m", "per_prompt": ["3/2"], "model": "m", "harness": "h", "date": "d",
        }}}), "entry 'a :: b': ValueError count '3/2'"),
    ],
)
def test_a_bad_file_is_one_line_naming_it_and_the_fix(
    tmp_path: Path, text: str, why: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(SnapshotError) as info:
        read_file(path)
    message = str(info.value)
    assert str(path) in message and why in message and "fix:" in message
    assert "\n" not in message and isinstance(info.value, BehavtestError)
    with pytest.raises(SnapshotError, match="format 2; this behavtest reads format 1; fix"):
        path.write_text(f'{{"{HEADER}": 2, "entries": {{}}}}')
        read_file(path)


# -- the lifecycle, through pytest ------------------------------------------------------

SUITE = """
from behavtest import Scorer
from behavtest.checks import expect

YES = Scorer("says yes", lambda t: t == "yes")

def test_a(model):
    expect(model.sample("qa", n=200), YES).rate_at_least(0.1)

def test_b(model):
    expect(model.sample("qb", n=200), YES).rate_at_least(0.1)
"""
V1 = "double/yes=0.5,no=0.5"
V2 = "double/yes=0.25,no=0.75"


def run(pytester: pytest.Pytester, model: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--behav-model", model, "--behav-snapshot-as", "my-model", "-p", "no:cacheprovider",
        "--behav-cache", "off", *args,
    )


def files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.json"))}


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "xdist"])
def test_update_then_rerun_is_green_and_writes_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, xdist: list[str]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_s=SUITE)
    first = run(pytester, V1, "--behav-snapshot-update", *xdist)
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["*snapshots of my-model in *: 2 added, 0 updated, 0 removed*"])
    stored = files(pytester.path / "snapshots")
    assert list(stored) == ["my-model/test_s.json"]
    again = run(pytester, V1, *xdist)
    again.assert_outcomes(passed=2)
    again.stdout.fnmatch_lines(["*snapshots of my-model: 2 no significant change*"])
    assert files(pytester.path / "snapshots") == stored


def test_a_new_version_fails_exactly_the_changed_behaviour(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    # test_b counts replies that are an answer at all: the same for both versions
    pytester.makepyfile(test_s=SUITE.replace('Scorer("says yes", lambda t: t == "yes")\n',
                                             'Scorer("says yes", lambda t: t == "yes")\n'
                                             'ANY = Scorer("answers", lambda t: t != "")\n')
                        .replace('"qb", n=200), YES)', '"qb", n=200), ANY)'))
    run(pytester, V1, "--behav-snapshot-update").assert_outcomes(passed=2)
    stored = files(pytester.path / "snapshots")
    new = run(pytester, V2)  # answers "yes" half as often
    assert new.ret == 1
    new.stdout.fnmatch_lines([
        "behavtest: snapshots of my-model: 1 changed down, 1 no significant change",
        "  FAIL changed down: test_s.py::test_a :: rate >= 0.1: was */200 = 0.4* now *",
        "behavtest: 1 test changed significantly since the snapshot: the run fails*",
    ])
    assert "test_b" not in "".join(ln for ln in new.stdout.lines if "changed down" in ln)
    assert files(pytester.path / "snapshots") == stored  # nothing written without update


def test_a_subset_update_leaves_every_other_snapshot(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_s=SUITE)
    run(pytester, V1, "--behav-snapshot-update").assert_outcomes(passed=2)
    before = json.loads((pytester.path / "snapshots/my-model/test_s.json").read_text())
    run(pytester, V2, "--behav-snapshot-update", "-k", "test_a", "-n", "2").assert_outcomes(
        passed=1
    )
    after = json.loads((pytester.path / "snapshots/my-model/test_s.json").read_text())
    key_b = "test_s.py::test_b :: rate >= 0.1"
    assert after["entries"][key_b] == before["entries"][key_b]
    key_a = "test_s.py::test_a :: rate >= 0.1"
    assert after["entries"][key_a]["rate"] != before["entries"][key_a]["rate"]


def test_a_corrupted_snapshot_stops_the_run_in_one_line_and_is_kept(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_s=SUITE)
    bad = pytester.path / "snapshots" / "my-model" / "test_s.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"behavtest_snapshot": 1, "entries": [')
    result = run(pytester, V1)
    assert result.ret != 0
    result.stderr.fnmatch_lines([f"ERROR: {bad} is not a behavtest snapshot (invalid JSON*fix*"])
    assert bad.read_text() == '{"behavtest_snapshot": 1, "entries": ['
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_cached_rerun_with_snapshots_makes_no_model_call(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_s=SUITE)
    args = ["--behav-model", V1, "--behav-snapshot-as", "m", "-p", "no:cacheprovider"]
    pytester.runpytest_subprocess(*args, "--behav-snapshot-update").assert_outcomes(passed=2)
    again = pytester.runpytest_subprocess(*args)
    again.assert_outcomes(passed=2)
    again.stdout.fnmatch_lines(["*samples drawn 0, from cache 400*", "*2 no significant change*"])
