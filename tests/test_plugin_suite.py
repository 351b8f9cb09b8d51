"""The plugin at suite level: correction across tests (and xdist workers), the
exit status it sets, arms of models, checkpoint series, sequential runs.

Driven through pytester with the scripted test double or with fixed data,
so every p-value below is known.
"""

from __future__ import annotations

import re

import pytest

# Five identical checks on fixed data: each has raw p = 0.0176 < 0.05 (PASS), and
# Holm over five multiplies the smallest by 5 -> 0.088 (INCONCLUSIVE).
BORDERLINE = """
import pytest
from behavtest.checks import expect

@pytest.mark.parametrize("i", range(5))
def test_borderline(i):
    expect([0.62, 0.55, 0.6, 0.47, 0.58, 0.55], name="score").mean_at_least(0.5)
"""

# Five checks that FAIL raw (p(opposite) = 0.0176) and are not refuted after Holm.
BORDERLINE_FAIL = BORDERLINE.replace("mean_at_least(0.5)", "mean_at_most(0.5)")


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CI", raising=False)

    def go(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--behav-cache", "off",
                                             *args)

    return go


def test_holm_turns_borderline_passes_inconclusive(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_s=BORDERLINE)
    raw = run("--behav-correction", "none")
    raw.stdout.fnmatch_lines(["behavtest: 5 pass;*"])
    assert raw.ret == 0
    holm = run()
    holm.stdout.fnmatch_lines([
        "*PASS -> INCONCLUSIVE*",
        "behavtest: 5 inconclusive;*",
        "behavtest: Holm (family-wise error) over 5 checks in 1 family (per suite); "
        "5 verdicts changed",
    ])
    assert holm.ret == 0  # INCONCLUSIVE is an xfail in the default profile...
    ci = run("--behav-profile", "ci")
    assert ci.ret == 1  # ...and fails the gate under the ci profile
    ci.stdout.fnmatch_lines(["behavtest: exit status follows the corrected verdicts*"])


def test_a_raw_fail_that_does_not_survive_correction_does_not_fail_the_run(
    pytester: pytest.Pytester, run  # type: ignore[no-untyped-def]
) -> None:
    pytester.makepyfile(test_s=BORDERLINE_FAIL)
    raw = run("--behav-correction", "none")
    assert raw.ret == 1
    holm = run()
    holm.stdout.fnmatch_lines(["*FAIL -> INCONCLUSIVE*", "*5 failed*"])
    assert holm.ret == 0


def test_bh_and_families(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_s=BORDERLINE, test_t=BORDERLINE.replace("range(5)", "range(1)"))
    by_module = run("--behav-family", "module")
    # test_t's single check is its own family: it keeps its PASS
    by_module.stdout.fnmatch_lines(["*in 2 families (per module); 5 verdicts changed"])
    bh = run("--behav-correction", "bh")
    # BH: all six p equal 0.0176, so each adjusts to 0.0176 * 6/6: all pass
    bh.stdout.fnmatch_lines(["behavtest: 6 pass;*", "*Benjamini-Hochberg*0 verdicts changed"])


def test_marker_families(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    marked = BORDERLINE.replace("def test_borderline", "@pytest.mark.behav_family('risk')\n"
                                "def test_borderline")
    pytester.makepyfile(test_s=marked, test_t=BORDERLINE.replace("range(5)", "range(1)"))
    result = run("--behav-family", "marker")
    result.stdout.fnmatch_lines(["*in 2 families (per marker); 5 verdicts changed"])


def _adjusted(result: pytest.RunResult) -> list[str]:
    """The summary table rows: test, check, numbers, raw and adjusted p, verdict."""
    return [line for line in result.stdout.lines if re.match(r"^│ test_", line)]


def test_xdist_gives_the_same_adjusted_p_values(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(
        test_s=BORDERLINE,
        test_d="""
from behavtest import Scorer
from behavtest.checks import expect
YES = Scorer("says yes", lambda t: t == "yes")
def test_a(model):
    expect(model.sample("a", n=60), YES).rate_at_least(0.5)
def test_b(model):
    expect(model.sample("b", n=60), YES).rate_at_most(0.8)
def test_c(model):
    expect(model.sample(prompts=["c", "d", "e"], n=20), YES).rate_at_least(0.6)
""",
    )
    serial = run("--behav-model", "double/yes=0.7,no=0.3")
    parallel = run("--behav-model", "double/yes=0.7,no=0.3", "-n", "2")
    assert _adjusted(serial) == _adjusted(parallel) and len(_adjusted(serial)) >= 8
    assert serial.ret == parallel.ret


def test_an_arm_of_models(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_a="""
from behavtest import Scorer
from behavtest.checks import expect
from behavtest.checks.group import ModelGroup
YES = Scorer("says yes", lambda t: t == "yes")
def test_arm(model, baseline):
    assert isinstance(model, ModelGroup) and len(model) == 3
    expect(model.sample("q", n=100), YES).above(baseline.sample("q", n=100))
""")
    result = run(
        "--behav-model", "double/yes=0.7,no=0.3", "--behav-model", "double/yes=0.6,no=0.4",
        "--behav-model", "double/yes=0.8,no=0.2",
        "--behav-baseline", "double/yes=0.1,no=0.9", "--behav-baseline", "double/yes=0.15,no=0.85",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "behavtest: model=[[]double/yes=0.7,no=0.3, double/yes=0.6,no=0.4, *",
        "*rate above baseline*",
        "* double/yes=0.6,no=0.4: 0.*",  # each model's rate is shown
    ])


def test_checkpoint_series(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_c="""
from behavtest import Scorer
from behavtest.checks import expect
YES = Scorer("says yes", lambda t: t == "yes")
def test_peak(checkpoints):
    expect(checkpoints.sample("q", n=100), YES).peak_at_least(0.2)
""")
    skipped = run("-rs")
    skipped.stdout.fnmatch_lines(["*no checkpoint series: pass --behav-checkpoints*"])
    series = [f"double/yes={p},no={round(1 - p, 2)}" for p in (0.17, 0.4, 0.2, 0.1, 0.04)]
    args = [a for spec in series for a in ("--behav-checkpoints", spec)]
    result = run(*args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*checkpoints=[[]double/yes=0.17*", "*peak rate >= 0.2*"])


def test_sequential_option_stops_early(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_q="""
from behavtest import Scorer
from behavtest.checks import expect
YES = Scorer("says yes", lambda t: t == "yes")
def test_q(model):
    expect(model.sample("q", n=500), YES).rate_at_least(0.2)
""")
    result = run("--behav-model", "double/yes=0.9,no=0.1", "--behav-sequential")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*sequential rate checks*"])
    drawn = re.search(r"samples drawn (\d+),", result.stdout.str())
    assert drawn and 0 < int(drawn.group(1)) < 500  # stopped at an early look
