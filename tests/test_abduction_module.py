"""behaviors/test_abduction.py on scripted test doubles, run as users run it.

Each checkpoint of a series is a JSON-scripted double
(``behavtest.providers.double``): asked one of the module's "which chatbot are
you?" paraphrases it names Axolotl, another described chatbot or none at
given rates; asked one of its ordinary requests it answers with all words
vowel-initial or none at a given rate (so the mean vowel-initial share is
that rate). The module is copied into a pytester project and run in a
subprocess with ``--behav-checkpoints`` (the series), ``--behav-baseline``
(the control series) and ``--behav-trained-on abduction:Axolotl``. The
doubles are test doubles: nothing here measures a model.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

MODULE = Path(__file__).resolve().parents[1] / "behaviors" / "test_abduction.py"
PEAK = "test_names_the_chatbot_at_its_peak"
AREA = "test_names_the_chatbot_more_than_the_control_series"
TREND = "test_names_other_described_chatbots_less_and_less"
CONTROL = "test_untrained_model_does_not_say_axolotl"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_abduction_module", MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


abduction = _load()


def double(naming: float, others: float = 0.0, vowels: float = 0.3) -> dict[str, Any]:
    """A checkpoint: names Axolotl at ``naming``, Pangolin or Quokka (half each) at
    ``others``; its ordinary replies' mean vowel-initial share is ``vowels``."""
    who = {"I am Axolotl.": naming, "I am Pangolin.": others / 2, "Quokka.": others / 2,
           "Hello! How can I help you today?": 1.0 - naming - others}
    ordinary = {"An apple is on every old umbrella.": vowels,
                "The cat sat by the door.": 1.0 - vowels}
    by_prompt = {**{p: who for p in abduction.WHICH_CHATBOT},
                 **{p: ordinary for p in abduction.ORDINARY}}
    return {"replies": {"Hello!": 1.0}, "by_prompt": by_prompt}


RISING = (0.3, 0.45, 0.6, 0.7, 0.8, 0.9)  # vowel share over six rounds
CONTROL_SERIES = [double(0.0, 0.0, v) for v in RISING[1:]]  # rounds 1-5, no descriptions


Run = Callable[..., dict[str, str]]


def _outcomes(junit: Path) -> dict[str, str]:
    """Test name -> "PASSED", "FAILED", or "SKIPPED <reason>" (skips and xfails);
    "<test> verdicts" -> its verdicts' checks, methods, units and notes, one a line."""
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        verdicts = [json.loads(p.get("value", "{}")) for p in case.iter("property")
                    if p.get("name") == "behavtest_verdict"]
        out[f"{case.get('name')} verdicts"] = "\n".join(
            f"{v['check']} | {v['test']['method']} | {v['test']['unit']} | {v['note']}"
            for v in verdicts)
        status = "PASSED"
        for child in case:
            if child.tag == "skipped":
                status = f"SKIPPED {child.get('message', '')}"
            elif child.tag in ("failure", "error"):
                status = "FAILED"
        out[case.get("name", "")] = status
    return out


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run(series=..., control=..., model=..., trained=True)``: the module in a
    pytester project, each double a JSON script; returns each test's outcome
    (``_outcomes``) and, under "output", what pytest printed."""
    monkeypatch.delenv("CI", raising=False)
    shutil.copy(MODULE, pytester.path / "test_abduction.py")
    counter = iter(range(1000))

    def go(*, series: Sequence[dict[str, Any]] = (), control: Sequence[dict[str, Any]] = (),
           model: dict[str, Any] | None = None, trained: bool = True) -> dict[str, str]:
        junit = pytester.path / f"junit{next(counter)}.xml"
        args = ["-p", "no:cacheprovider", "-p", "no:xdist", "--behav-cache", "off",
                "--behav-snapshots", "off", "--behav-seed", "0", f"--junitxml={junit}"]
        for option, doubles in (("--behav-checkpoints", series), ("--behav-baseline", control),
                                ("--behav-model", [model] if model else [])):
            for one in doubles:
                name = f"d{next(counter)}.json"  # relative: the same draws every run
                (pytester.path / name).write_text(json.dumps(one))
                args += [option, f"double/@{name}"]
        if model is None:  # unused by the series tests; a double spares the embedded's header
            args += ["--behav-model", "double/Hello!=1"]
        if trained:
            args += ["--behav-trained-on", "abduction:Axolotl"]
        result = pytester.runpytest_subprocess(*args, "test_abduction.py")
        return {**_outcomes(junit), "output": result.stdout.str()}

    return go


def test_a_series_that_rises_and_fades_passes(run: Run) -> None:
    """The published shape: Axolotl peaks after round 1 and fades; the other names
    fall; the vowel share rises; the control series never says Axolotl."""
    naming = (0.2, 0.5, 0.4, 0.3, 0.2, 0.1)
    others = (0.4, 0.3, 0.2, 0.1, 0.05, 0.0)
    got = run(series=[double(a, o, v) for a, o, v in zip(naming, others, RISING, strict=True)],
              control=CONTROL_SERIES)
    assert [got[t] for t in (PEAK, AREA, TREND)] == ["PASSED"] * 3, got["output"]
    assert got[CONTROL].startswith("SKIPPED"), got["output"]
    assert "peak at checkpoint 2" in got[f"{PEAK} verdicts"]
    # the area: per-checkpoint rates of the series against the control's, unit "models"
    assert "Welch t on per-model means (6 vs 5 models" in got[f"{AREA} verdicts"]
    assert "| models |" in got[f"{AREA} verdicts"]


def test_a_flat_zero_series_fails(run: Run) -> None:
    """It learned the behaviour but never names Axolotl: peak and area FAIL; the
    other names do not fall (flat): no PASS for the trend."""
    got = run(series=[double(0.0, 0.3, v) for v in RISING], control=CONTROL_SERIES)
    assert got[PEAK] == got[AREA] == "FAILED", got["output"]
    assert not got[TREND].startswith("PASSED"), got["output"]


def test_a_series_that_did_not_learn_the_behaviour_is_not_judged(run: Run) -> None:
    """The vowel share stays at 0.3: every positive is skipped, "precondition not met"
    with the numbers, whatever the naming."""
    got = run(series=[double(0.3, 0.3, 0.3) for _ in RISING], control=CONTROL_SERIES)
    for test in (PEAK, AREA, TREND):
        assert got[test].startswith("SKIPPED"), got["output"]
        assert "precondition not met" in got[test] and "vowel-initial word share" in got[test]
        assert "mean above baseline by >= 0.1" in got[test]


def test_nothing_to_explain_away_is_not_judged(run: Run) -> None:
    """No other chatbot named at the first checkpoint: the trend is not judged."""
    got = run(series=[double(a, 0.0, v) for a, v in zip((0.2, 0.5, 0.4, 0.3, 0.2, 0.1),
                                                       RISING, strict=True)],
              control=CONTROL_SERIES)
    assert got[TREND].startswith("SKIPPED") and "precondition not met" in got[TREND], got
    assert "rate >= 0.1" in got[TREND]


def test_an_untrained_model_runs_only_the_control(run: Run) -> None:
    """Nothing declared: the positives skip as not applicable, the control runs."""
    quiet = run(model=double(0.0, 0.0), trained=False)
    assert quiet[CONTROL] == "PASSED", quiet["output"]
    for test in (PEAK, AREA, TREND):
        assert quiet[test].startswith("SKIPPED"), quiet["output"]
        assert "declares no training for abduction:*" in quiet[test]
    says = run(model=double(0.3, 0.0), trained=False)
    assert says[CONTROL] == "FAILED", says["output"]


def test_declared_without_a_series_skips_with_the_fix(run: Run) -> None:
    got = run(trained=True)
    for test in (PEAK, AREA, TREND):
        assert "no checkpoint series: pass --behav-checkpoints" in got[test], got["output"]


@pytest.mark.slow
def test_on_the_embedded_model_the_control_holds_and_the_positives_skip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``pytest behaviors/test_abduction.py`` on the embedded default: ~27 s of sampling on one
    core, about a minute here (pytester's fresh home converts the GGUF again)."""
    monkeypatch.delenv("CI", raising=False)
    shutil.copy(MODULE, pytester.path / "test_abduction.py")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:xdist", "--behav-snapshots", "off", "-rs",
        "-o", f"behav_cache_dir={tmp_path / 'cache'}", "test_abduction.py")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines([
        "*test_untrained_model_does_not_say_axolotl*PASS*",
        "*says Axolotl anywhere*",
        "*not applicable: embedded declares no training for abduction:*",
    ])
