"""Snapshots of a checkpoint series: stored in order, read back, compared and
diffed checkpoint by checkpoint (``snapshots.series``).

A series is not an arm: a peak that moved from round 1 to round 3 leaves the
pooled rate (and the mean over checkpoints) where it was, so an arm's test
would call it unchanged. These tests build real verdicts through ``expect``
on scripted counts, and run the plugin on scripted checkpoint doubles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from behavtest import Scorer
from behavtest.checks import expect
from behavtest.checks.context import unrecorded
from behavtest.checks.group import GroupSamples, ModelGroup
from behavtest.commands.cli import main
from behavtest.providers.base import to_messages
from behavtest.providers.double import ScriptedProvider
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle, Reply, Samples
from behavtest.settings import GenerationSettings, RunSettings
from behavtest.snapshots import diff
from behavtest.snapshots.series import is_series
from behavtest.snapshots.store import Entry, compare, read_file, render
from behavtest.verdict import BehaviourFailed, Inconclusive, Verdict

YES = Scorer("says yes", lambda t: t == "yes")
NAMES = ("hf/./runs/ckpt-300", "hf/./runs/ckpt-100", "hf/./runs/ckpt-200")  # not sorted


def samples(k: int, n: int, model: str) -> Samples:
    replies = tuple(Reply("yes" if i < k else "no", 0, i, 1, "stop", False) for i in range(n))
    return Samples(model, (to_messages("which animal?"),), GenerationSettings(), replies)


def series(ks: Sequence[int], n: int = 100, names: Sequence[str] = NAMES,
           ordered: bool = True) -> GroupSamples:
    kind = "series of " if ordered else "arm of "
    label = f"{kind}{len(ks)}: " + ", ".join(names[:len(ks)])
    return GroupSamples(label, tuple(samples(k, n, m) for k, m in zip(ks, names, strict=False)),
                        ordered)


def recorded(fn) -> Verdict:  # type: ignore[no-untyped-def]
    with unrecorded():
        try:
            return fn().verdicts[-1]  # type: ignore[no-any-return]
        except (BehaviourFailed, Inconclusive) as exc:
            return exc.verdict


def peak(ks: Sequence[int], **kw: object) -> Entry:
    v = recorded(lambda: expect(series(ks, **kw), YES).peak_at_least(0.1))  # type: ignore[arg-type]
    return Entry.of("t.py::test_peak", v)


def judged(now: Entry, was: Entry) -> str:
    c = compare("k", now, was, 0.05, 0.1)
    return c.decide(c.p).status if c.status != "not comparable" else c.status


def test_an_ordered_group_is_a_series_and_an_arm_is_not() -> None:
    handles = tuple(ModelHandle(s, lambda s=s: ScriptedProvider({"yes": 1.0}, label=s),
                                RunSettings(), SampleCache(None, "off")) for s in NAMES)
    for ordered in (True, False):
        group = ModelGroup(handles, ordered=ordered).sample("which animal?", n=4)
        v = recorded(lambda g=group: expect(g, YES).rate_at_least(0.1))
        assert v.measured.ordered is ordered and is_series(v) is ordered


def test_a_series_is_stored_in_order_and_reads_back() -> None:
    e = peak([17, 37, 20])
    assert e.ordered and [m for m, _ in e.members or ()] == list(NAMES)
    text = render("my-model", {"t.py::test_peak :: peak rate >= 0.1": e})
    stored = json.loads(text)["entries"]["t.py::test_peak :: peak rate >= 0.1"]
    assert stored["per_model"] is None
    assert stored["per_checkpoint"] == [
        {"checkpoint": NAMES[0], "per_prompt": ["17/100"]},
        {"checkpoint": NAMES[1], "per_prompt": ["37/100"]},
        {"checkpoint": NAMES[2], "per_prompt": ["20/100"]},
    ]
    back = Entry.from_json("t.py::test_peak", stored)
    assert back.ordered and back.same_measurement(e)
    assert [m for m, _ in back.members or ()] == list(NAMES)


def test_two_checkpoints_of_one_spec_stay_two(tmp_path: Path) -> None:
    e = peak([10, 30], names=("double/a", "double/a"))
    path = tmp_path / "t.json"
    path.write_text(render("m", {"t.py::test_peak :: x": e}))
    back = read_file(path)["t.py::test_peak :: x"]
    assert [(m, len(c[0])) for m, c in back.members or ()] == [("double/a", 100)] * 2


def test_a_comparison_with_a_series_side_is_stored_as_a_series() -> None:
    control = series([5, 5, 5], names=("c1", "c2", "c3"), ordered=False)
    v = recorded(lambda: expect(series([30, 40, 35]), YES).above(control, by=0.1))
    assert is_series(v) and Entry.of("t::a", v).ordered
    arm = recorded(lambda: expect(control, YES).rate_at_most(0.5))
    assert not is_series(arm) and not Entry.of("t::b", arm).ordered


def test_same_series_is_unchanged_and_a_moved_peak_is_a_change() -> None:
    was = peak([5, 40, 5])
    assert judged(peak([6, 38, 5]), was) == "no significant change"
    moved = peak([5, 10, 40])  # about the same pooled rate, the peak a round later
    c = compare("k", moved, was, 0.05, 0.1)
    assert c.decide(c.p).status == "changed up" and c.decide(c.p).failed
    assert "Bonferroni over 3" in c.method
    assert "checkpoint 3 of 3 (hf/./runs/ckpt-200) moved most: was 5/100, now 40/100" in (
        c.reason or "")
    assert "1. hf/./runs/ckpt-300 5/100, 2. hf/./runs/ckpt-100 10/100" in c.explain()


def test_a_series_of_another_length_or_an_arm_is_not_comparable() -> None:
    was = peak([5, 40, 5])
    c = compare("k", peak([5, 40]), was, 0.05, 0.1)
    assert c.status == "not comparable"
    assert c.reason is not None and "a series of 2 checkpoints vs a stored one of 3" in c.reason
    arm = recorded(lambda: expect(series([5, 40, 5], ordered=False), YES).rate_at_most(0.9))
    c = compare("k", Entry.of("t.py::test_peak", arm), was, 0.05, 0.1)
    assert c.status == "not comparable" and "ordered checkpoint series vs unordered arm" in (
        c.reason or "")


def _store(folder: Path, e: Entry) -> Path:
    folder.mkdir(parents=True)
    (folder / "t.json").write_text(render(folder.name, {"t.py::test_peak :: peak": e}))
    return folder


def test_behavtest_diff_compares_series_by_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _store(tmp_path / "a", peak([5, 40, 5]))
    same = _store(tmp_path / "same", peak([5, 40, 5]))
    moved = _store(tmp_path / "moved", peak([5, 10, 40]))
    short = _store(tmp_path / "short", peak([5, 40]))
    assert main(["diff", str(a), str(same)]) == diff.EXIT_UNCHANGED
    assert main(["diff", str(a), str(moved)]) == diff.EXIT_CHANGED
    out = capsys.readouterr().out
    assert "changed up" in out and "1. hf/./runs/ckpt-300 5/100" in out
    assert main(["diff", str(a), str(short), "--format", "json"]) == diff.EXIT_UNCHANGED
    row = json.loads(capsys.readouterr().out)[0]
    assert row["verdict"] == "not comparable" and "series of 2" in row["reason"]
    assert row["checkpoints_a"] == [[NAMES[0], 5, 100], [NAMES[1], 40, 100],
                                    [NAMES[2], 5, 100]]
    assert main(["diff", str(a), str(same), "--margin", "0.2"]) == diff.EXIT_UNCHANGED
    assert "1 same" in capsys.readouterr().out


SUITE = """
from behavtest import Scorer
from behavtest.checks import expect

YES = Scorer("says yes", lambda t: t == "yes")

def test_peak(checkpoints):
    expect(checkpoints.sample("which animal?", n=200), YES).peak_at_least(0.1)
"""


def _run(pytester: pytest.Pytester, rates: Sequence[float], *args: str) -> pytest.RunResult:
    specs = [a for p in rates for a in ("--behav-checkpoints", f"double/yes={p},no={1 - p:g}")]
    return pytester.runpytest_subprocess(*specs, "--behav-snapshot-as", "my-model", "-p",
                                         "no:cacheprovider", "--behav-cache", "off", *args)


def test_a_series_through_the_plugin(pytester: pytest.Pytester,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_s=SUITE)
    _run(pytester, (0.05, 0.4, 0.05), "--behav-snapshot-update").assert_outcomes(passed=1)
    stored = json.loads((pytester.path / "snapshots/my-model/test_s.json").read_text())
    entry = next(iter(stored["entries"].values()))
    assert [c["checkpoint"] for c in entry["per_checkpoint"]] == [
        "double/yes=0.05,no=0.95", "double/yes=0.4,no=0.6", "double/yes=0.05,no=0.95"]
    again = _run(pytester, (0.05, 0.4, 0.05))
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["*snapshots of my-model: 1 no significant change*"])
    moved = _run(pytester, (0.05, 0.1, 0.4))
    assert moved.ret == 1
    moved.stdout.fnmatch_lines(["*FAIL changed up: test_s.py::test_peak :: peak rate >= 0.1:*"
                                "checkpoint 3 of 3*moved most*"])
    short = _run(pytester, (0.05, 0.4))
    short.stdout.fnmatch_lines(["*not comparable*a series of 2 checkpoints vs a stored one of 3*"])
    assert "Traceback" not in short.stdout.str() + short.stderr.str()
