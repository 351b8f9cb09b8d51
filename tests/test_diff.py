"""`behavtest diff A B`: rows, verdicts, correction, "same" by TOST only, exit codes,
safe rendering, and its calibration (a smaller seeded run of bench/diff_calibration.py)."""

from __future__ import annotations

import importlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from scipy import stats as st
from verdicts import measured_rate

from behavtest.commands.cli import main
from behavtest.snapshots import diff
from behavtest.snapshots.store import Entry, render
from behavtest.stats import one_sided_bounds
from behavtest.stats.multiplicity import adjust

BENCH = Path(__file__).resolve().parents[1] / "bench"


def entry(k: int, n: int = 100, prompts: str = "p1", scorer_version: str = "1",
          nodeid: str = "t.py::test_a", check: str = "rate >= 0.1") -> Entry:
    low, high = one_sided_bounds(k, n, 0.05)
    v = measured_rate(k, n, check=check, low=low, high=high, prompts=prompts,
                      scorer_version=scorer_version)
    return Entry.of(nodeid, v)


def k(name: str) -> str:
    return f"t.py::test_{name} :: rate >= 0.1"


A = {k("down"): entry(60), k("small"): entry(30), k("flat"): entry(50), k("gone"): entry(10),
     k("reprompted"): entry(40)}
B = {k("down"): entry(20), k("small"): entry(36), k("flat"): entry(50), k("new"): entry(10),
     k("reprompted"): entry(40, prompts="p2", scorer_version="2")}


def test_one_row_per_behaviour_sorted_by_significance() -> None:
    table = diff.rows(A, B)
    assert [(r.key, r.verdict) for r in table] == [
        (k("down"), "changed down"),
        (k("small"), "no significant change"),
        (k("flat"), "no significant change"),
        (k("new"), "new"),
        (k("gone"), "gone"),
        (k("reprompted"), "not comparable"),
    ]
    down = table[0]
    assert down.difference == pytest.approx(-0.4)  # B - A
    assert down.low is not None and down.high is not None and down.low < -0.4 < down.high < 0
    assert "Fisher" in down.method
    # one family of the three comparisons, Holm
    raw = [r.p for r in table[:3]]
    assert all(p is not None for p in raw)
    assert [r.p_adjusted for r in table[:3]] == pytest.approx(adjust(raw, "holm"))  # type: ignore[arg-type]
    assert table[2].p == pytest.approx(1.0) and table[2].difference == 0.0
    assert table[5].reason == "changed: the prompts, the scorer version"
    assert table[5].p is None and table[3].b is not None and table[4].a is not None
    assert diff.exit_code(table) == 1 and diff.exit_code(table[1:]) == 0


def test_the_interval_is_the_two_sided_one_of_the_test() -> None:
    """B - A's interval is two-sided 1 - alpha: wider at a smaller alpha."""
    wide = diff.rows({k("a"): entry(30)}, {k("a"): entry(45)}, alpha=0.01)[0]
    narrow = diff.rows({k("a"): entry(30)}, {k("a"): entry(45)}, alpha=0.1)[0]
    assert wide.low is not None and narrow.low is not None
    assert wide.low < narrow.low and wide.p == narrow.p


def test_correction_none_and_bh() -> None:
    none = {r.key: r for r in diff.rows(A, B, correction="none")}
    bh = {r.key: r for r in diff.rows(A, B, correction="bh")}
    assert none[k("small")].p_adjusted == none[k("small")].p
    assert bh[k("small")].p_adjusted == pytest.approx(adjust(
        [none[x].p or 0.0 for x in (k("down"), k("small"), k("flat"))], "bh")[1])


def test_same_only_from_a_tost_inside_the_margin() -> None:
    a, b = {k("a"): entry(500, 1000)}, {k("a"): entry(505, 1000)}
    assert diff.rows(a, b)[0].verdict == "no significant change"  # no margin: never "same"
    same = diff.rows(a, b, margin=0.1)[0]
    assert same.verdict == "same" and same.reason == "within +-0.1"
    assert same.p_same is not None and same.p_same_adjusted is not None
    # one family of the change test and the TOST: Holm over 2 p-values
    assert same.p_same_adjusted == pytest.approx(adjust([same.p or 0, same.p_same], "holm")[1])
    assert diff.rows(a, b, margin=0.01)[0].verdict == "no significant change"  # too tight
    assert diff.exit_code([same]) == 0
    # a small change that is significant and inside the margin is still a change
    big_a, big_b = {k("a"): entry(3000, 10000)}, {k("a"): entry(3300, 10000)}
    row = diff.rows(big_a, big_b, margin=0.05)[0]
    assert row.verdict == "changed up" and row.reason == "a change inside the +-0.05 margin"


def test_bad_arguments_are_invalid() -> None:
    for kw in ({"alpha": 0.7}, {"correction": "bonferroni"}, {"icc": 2.0}, {"margin": -1.0},
               {"margin": 1.5}):
        with pytest.raises(ValueError):
            diff.rows(A, B, **kw)


# -- rendering -----------------------------------------------------------------------------
NASTY = "t.py::test_x[a|b`c`\nd\x1b[31mred\x1b]8;;http://evil\x07\u202e] :: rate >= 0.1"


def test_markdown_escapes_what_would_break_the_table() -> None:
    rows = diff.rows({NASTY: entry(30), k("b"): entry(5)}, {NASTY: entry(60), k("b"): entry(5)})
    md = diff.render("markdown", rows, "snapshots/a|x", "snapshots/b", 0.05, "holm", None)
    lines = md.splitlines()
    table = [ln for ln in lines if ln.startswith("|")]
    assert len(table) == 4  # header, rule, two rows: the newline did not split a row

    def cells(line: str) -> int:  # unescaped pipes delimit cells
        return sum(1 for i, ch in enumerate(line) if ch == "|" and line[i - 1] != "\\")

    assert {cells(ln) for ln in table} == {8}
    assert r"a\|b\`c\`<br>d" in md and "snapshots/a\\|x" in md
    assert "\x1b" not in md and "\x07" not in md and "\u202e" not in md
    assert diff.markdown_cell(r"a\|b") == r"a\\\|b"  # a backslash cannot unescape a pipe
    assert diff.markdown_cell("<script>*x*</script> [l](u)") == (
        r"\<script\>\*x\*\</script\> \[l\](u)")


def test_text_passes_no_control_characters() -> None:
    rows = diff.rows({NASTY: entry(30)}, {NASTY: entry(60)})
    text = diff.render("text", rows, "a\x1b[2J", "b", 0.05, "holm", None)
    assert not any(ord(ch) < 32 and ch != "\n" or 0x7f <= ord(ch) < 0xa0 for ch in text)
    assert "\u202e" not in text
    assert len(text.splitlines()) == 4  # heading, counts, header, one row
    assert "changed up" in text.splitlines()[3] and "[31mred" in text


def test_text_columns_align_wide_characters_and_long_rows_never_fold() -> None:
    wide, long = k("日本語"), k("x" * 300)
    rows = diff.rows({wide: entry(30), long: entry(30)}, {wide: entry(30), long: entry(30)})
    lines = diff.render("text", rows, "a", "b", 0.05, "holm", None).splitlines()
    assert len(lines) == 5  # heading, counts, header, two rows
    from rich.cells import cell_len

    column = [cell_len(ln[: ln.index("0.300")]) for ln in lines[3:]]
    assert column[0] == column[1] == cell_len(lines[2][: lines[2].index(" A ") + 1])
    assert all(ln == ln.rstrip() for ln in lines)


def test_a_markdown_table_escapes_every_cell_header_included() -> None:
    from behavtest.untrusted import markdown_table

    assert markdown_table(("a|b", "c"), [("x\ny", "*z*"), ("1", "")]) == [
        "| a\\|b | c |", "|---|---|", "| x<br>y | \\*z\\* |", "| 1 |  |"]


def test_json_is_a_list_of_rows_with_all_numbers() -> None:
    out = json.loads(diff.render("json", diff.rows(A, B, margin=0.05), "a", "b", 0.05, "holm",
                                 0.05))
    assert isinstance(out, list) and len(out) == 6
    down = out[0]
    assert down["key"] == k("down") and down["verdict"] == "changed down"
    assert (down["k_a"], down["n_a"], down["k_b"], down["n_b"]) == (60, 100, 20, 100)
    assert down["rate_a"] == 0.6 and down["difference"] == pytest.approx(-0.4)
    for field in ("low_a", "high_a", "difference_low", "difference_high", "p", "p_adjusted",
                  "p_same", "p_same_adjusted"):
        assert isinstance(down[field], float), field
    assert down["interval_level"] == pytest.approx(0.95) and down["margin"] == 0.05
    assert down["correction"] == "holm" and down["alpha"] == 0.05
    new = next(r for r in out if r["verdict"] == "new")
    assert new["rate_a"] is None and new["p"] is None and new["rate_b"] == 0.1


# -- the command ------------------------------------------------------------------------------
def store(folder: Path, entries: dict[str, Entry]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "t.json").write_text(render(folder.name, entries), encoding="utf-8")
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_1_when_something_changed_0_when_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = store(tmp_path / "a", A), store(tmp_path / "b", B)
    code, out, err = run(capsys, str(a), str(b))
    assert code == 1 and err == ""
    assert "1 changed down, 2 no significant change, 1 new, 1 gone, 1 not comparable" in out
    assert "not comparable (changed: the prompts, the scorer version)" in out
    same = store(tmp_path / "same", {x: e for x, e in A.items() if x != k("down")})
    code, out, _ = run(capsys, str(a), str(same), "--format", "markdown", "--margin", "0.3")
    assert code == 0 and "| behaviour | A | B | B - A |" in out
    code, out, _ = run(capsys, str(a), str(b), "--format", "json", "--correction", "bh",
                       "--alpha", "0.01", "--icc", "0.2")
    assert code == 1 and json.loads(out)[0]["correction"] == "bh"


@pytest.mark.parametrize("case, message", [
    # (a valid spec would be drawn live: tests/test_diff_live.py)
    ("missing", "nowhere/v1 is neither a folder nor a valid model spec (unknown model "
                "provider 'nowhere'); fix: pass a snapshot folder (pytest behaviors/ "
                "--behav-snapshot-as NAME --behav-snapshot-update writes snapshots/NAME) or a "
                "model spec such as embedded, hf/<folder>, openai/<model>"),
    ("file", "is not a folder: diff takes snapshot folders; fix:"),
    ("empty", "holds no snapshot files (*.json); fix: record them with pytest"),
    ("corrupt", "is not a behavtest snapshot (invalid JSON"),
    ("alpha", "--alpha=0.5 is not a one-sided level"),
    ("margin", "--margin -0.1 is not > 0; fix"),
    ("icc", "--icc 1.5 is outside [0, 1]; fix"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, message: str
) -> None:
    a = store(tmp_path / "a", A)
    b = tmp_path / "b"
    extra: list[str] = []
    if case == "file":
        b.write_text("not a folder")
    elif case == "empty":
        b.mkdir()
    elif case == "corrupt":
        b.mkdir()
        (b / "t.json").write_text('{"behavtest_snapshot": 1, "entries": [')
    else:
        b = store(b, B)
        extra = {"alpha": ["--alpha", "0.5"], "margin": ["--margin", "-0.1"],
                 "icc": ["--icc", "1.5"]}.get(case, [])
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    target = "nowhere/v1" if case == "missing" else str(b)
    code, out, err = run(capsys, str(a), target, *extra)
    assert code == 2 and out == ""
    assert err.startswith("behavtest: error: ") and err.count("\n") == 1 and message in err
    if case == "corrupt":
        assert "fix:" in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


# -- calibration: a smaller seeded run of the benchmark ------------------------------------------
@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("diff_calibration")
    finally:
        sys.path.remove(str(BENCH))


REPS = 300
# Tolerances that chance cannot break: bounds at a 1e-6 tail of the simulation noise
# for REPS reps (and the run is seeded, so it is the same run every time).
TAIL = 1e-6


def test_no_false_change_beyond_alpha_across_20_unchanged_behaviours(bench: ModuleType) -> None:
    res = bench.false_change(REPS, seed=1)
    bound = st.binom.isf(TAIL, REPS, 0.05)  # P(Binomial(REPS, alpha) > bound) <= TAIL
    assert res["behaviours"] == 20 and res["false_change_runs"] <= bound


def test_power_matches_the_planner(bench: ModuleType) -> None:
    res = bench.power(REPS, seed=2, suite=False)
    p = res["planned"]
    slack = st.norm.isf(TAIL / 2) * math.sqrt(p * (1 - p) / REPS)
    assert abs(res["simulated"] - p) <= 0.03 + slack
    # the diff's rule is the planner's test: exactly (every table, by enumeration)
    assert res["exact_power_of_the_diff_rule"] == pytest.approx(p, abs=1e-6)


# -- end to end: two folders recorded by the plugin on the test double ---------------------------
SUITE = """
from behavtest import Scorer
from behavtest.checks import expect

YES = Scorer("says yes", lambda t: t == "yes")
ANY = Scorer("answers", lambda t: t != "")

def test_a(model):
    expect(model.sample("qa", n=200), YES).rate_at_least(0.1)

def test_b(model):
    expect(model.sample("qb", n=200), ANY).rate_at_least(0.1)
"""


def test_two_recorded_versions_diff_to_a_change_down(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_s=SUITE)
    for name, model in (("v1", "double/yes=0.5,no=0.5"), ("v2", "double/yes=0.2,no=0.8")):
        pytester.runpytest_subprocess(
            "--behav-model", model, "--behav-snapshot-as", name, "--behav-snapshot-update",
            "-p", "no:cacheprovider", "--behav-cache", "off",
        ).assert_outcomes(passed=2)
    snaps = pytester.path / "snapshots"
    code, out, err = run(capsys, str(snaps / "v1"), str(snaps / "v2"))
    assert code == 1 and err == ""
    rows = [ln for ln in out.splitlines() if ln.startswith("test_s.py::")]
    assert rows[0].startswith("test_s.py::test_a :: rate >= 0.1")
    assert rows[0].endswith("changed down")
    assert rows[1].startswith("test_s.py::test_b") and rows[1].endswith("no significant change")
