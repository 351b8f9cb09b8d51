"""The gate after a fine-tune, and the Markdown summary it leaves for a pull request."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from behavtest.commands.gate import candidate
from behavtest.errors import InvalidArgument, ModelNotFound
from behavtest.untrusted import markdown_cell


def card(folder: Path, **data: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "behavtest.json").write_text(json.dumps(data))
    return folder


def test_a_training_folder_names_candidate_baseline_and_snapshots(tmp_path: Path) -> None:
    adapter = card(tmp_path / "v2", base="embedded", name="assistant", trained_on=["x:y"])
    (adapter / "adapter_config.json").write_text("{}")
    assert candidate(adapter) == (f"embedded+{adapter}", "embedded", "assistant")
    full = card(tmp_path / "ckpt", base="hf/./base")
    assert candidate(full) == (f"hf/{full}", "hf/./base", "ckpt")


@pytest.mark.parametrize(
    "setup, error, message",
    [
        (lambda d: None, ModelNotFound, "is not a folder; fix"),
        (lambda d: d.mkdir(), InvalidArgument, "behavtest.json is missing; fix"),
        (lambda d: card(d, name="x"), InvalidArgument, "names no base model; fix"),
        (lambda d: (d.mkdir(), (d / "behavtest.json").write_text("{")), InvalidArgument,
         "is not JSON"),
    ],
)
def test_a_bad_training_folder_is_one_line(tmp_path: Path, setup, error, message) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "run"
    setup(folder)
    with pytest.raises(error, match=message) as info:
        candidate(folder)
    assert "\n" not in str(info.value)


def test_the_gate_command_reports_a_bad_folder_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from behavtest.commands.cli import main

    assert main(["gate", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("behavtest: error:") and err.count("\n") == 1


def test_markdown_cells_cannot_break_the_table_or_inject_markup() -> None:
    evil = "a|b`c`\n<img src=x onerror=alert(1)> [link](http://x) *bold* \x1b[31m"
    out = markdown_cell(evil)
    assert "\n" not in out and "\x1b" not in out and "<br>" in out
    assert "\\|" in out and "\\`" in out and "\\<img" in out and "\\[link\\]" in out


SUITE = """
from behavtest import Scorer
from behavtest.checks import expect

def test_yes(model):
    expect(model.sample("q", n=60), Scorer("says yes", lambda t: t == "yes")).rate_at_least(0.5)
"""


def test_the_summary_goes_to_a_file_and_to_github(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    step = pytester.path / "step-summary.md"
    step.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    pytester.makepyfile(test_s=SUITE)
    result = pytester.runpytest_subprocess(
        "--behav-model", "double/yes=0.9,no=0.1", "--behav-cache", "off", "-p", "no:cacheprovider",
        "--behav-summary", "out.md", "--behav-snapshots", "off",
    )
    result.assert_outcomes(passed=1)
    text = (pytester.path / "out.md").read_text()
    assert "## behavtest: double/yes=0.9,no=0.1" in text and "✅ PASS" in text
    assert "| test\\_s.py::test\\_yes | rate \\>= 0.5<br>says yes |" in text
    assert step.read_text().startswith("earlier step\n## behavtest:")  # appended
    bad = pytester.runpytest_subprocess("--behav-summary", "missing/out.md")
    assert bad.ret != 0
    bad.stderr.fnmatch_lines(["ERROR: --behav-summary missing/out.md: folder * does not exist*"])


def test_junit_xml_carries_every_checks_numbers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_s=SUITE)
    result = pytester.runpytest_subprocess(
        "--behav-model", "double/yes=0.9,no=0.1", "--behav-cache", "off", "-p", "no:cacheprovider",
        "--behav-snapshots", "off", "--junitxml", "junit.xml", "-n", "2",
    )
    result.assert_outcomes(passed=1)

    props = ET.parse(pytester.path / "junit.xml").getroot().iter("property")
    verdicts = [json.loads(p.get("value") or "") for p in props
                if p.get("name") == "behavtest_verdict"]
    assert len(verdicts) == 1 and verdicts[0]["measured"]["k"] > 0
    assert verdicts[0]["measured"]["n"] == 60
    assert verdicts[0]["outcome"] == "PASS" and "p_value" in verdicts[0]["test"]
