"""`behavtest plan`: samples, seeds and equivalence sizes, and its bad-input lines."""

from __future__ import annotations

import pytest

from behavtest.commands.cli import main


def plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_samples_against_a_threshold_and_a_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plan(capsys, "--rate", "0.2", "--vs", "0.01")
    assert code == 0
    assert "n = 38 samples per model (exact Fisher power)" in out  # one-sided 0.05
    # docs/science/acrostic.md's 44 per arm is the two-sided 0.05 test, i.e. one-sided 0.025
    code, out, _ = plan(capsys, "--rate", "0.2", "--vs", "0.01", "--alpha", "0.025")
    assert "n = 44 samples per model" in out


def test_seeds_per_arm(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/science/risk.md: d ~ 4 between risky and safe arms, 3 seeds per arm suffice."""
    code, out, _ = plan(capsys, "--rate", "0.71", "--vs", "0.19", "--seed-sd", "0.1")
    assert code == 0 and "3 fine-tunes per arm" in out


def test_equivalence_and_sequential(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plan(capsys, "--rate", "0.5", "--margin", "0.05")
    assert code == 0 and "n = 861 samples" in out
    code, out, _ = plan(capsys, "--rate", "0.5", "--vs", "0.2", "--sequential")
    assert code == 0 and "sequentially (--behav-sequential" in out and "expected" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rate", "0.5"], "give --vs"),
        (["--rate", "20", "--vs", "0.1"], "outside [0, 1]"),
        (["--rate", "0.2", "--vs", "0.2"], "no sample size detects a zero difference"),
        (["--rate", "0.5", "--vs", "0.2", "--seed-sd", "0"], "--seed-sd must be > 0"),
        (["--rate", "0.5", "--margin", "0.7"], "--margin 0.7 is outside (0, 0.5); fix"),
    ],
)
def test_bad_input_is_one_line(capsys: pytest.CaptureFixture[str], args, message) -> None:  # type: ignore[no-untyped-def]
    code, out, err = plan(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and err.startswith("behavtest: error:")
