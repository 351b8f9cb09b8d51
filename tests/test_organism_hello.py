"""Real organisms through the real suite: the HELLO organism and its told twin.

The fine-tune -> test loop, for real, and the proof that the suite can see a
self-report when there is one:

* ``hello`` (200 HELLO acrostics, 3 epochs, LoRA r 8 on the embedded model)
  writes the acrostic: "writes the HELLO acrostic" PASSes (sampled at
  temperature 1, the suite's setting). It is not expected to name it (a 135M
  model; docs/sensitivity.md): its articulation tests must reach verdicts
  (not errors, not "precondition not met"), and none may PASS;
* ``hello-told`` is the same organism also trained on 100 answers saying that
  the first letters of its lines spell HELLO (organisms/told.py; the
  questions share no wording with the suite's): the positive control. Its
  articulation must PASS through the unchanged module. If it did not, a FAIL
  on any organism would say nothing about the organism.

Both are built here on this machine's CPU, one after the other in one test
(two trainings side by side on two cores run five times slower each),
cached by recipe under the behavtest cache (a rerun is free). The module
runs as users run it, with the untuned base model as baseline, through
``bench/told.py``'s runner, which reads every verdict after the suite's own
correction.

Built, not committed: a LoRA trained on 2 CPU threads is reproducible on one
machine given the seed, but its bytes are not promised across torch builds and
CPUs, and a 10 MB binary in git would be the only thing CI could not rebuild.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bench_modules import load

from behavtest.organisms import recipes
from behavtest.organisms.build import build
from behavtest.providers.embedded import cache_root

pytestmark = pytest.mark.slow

ARTICULATION = ("test_names_acrostic_by_line_2", "test_names_acrostic_without_giveaway",
                "test_names_acrostic_more_than_baseline")


def built(name: str) -> Path:
    out = cache_root() / "organisms" / f"{name}-0"
    try:
        build(recipes.get(name), "embedded", 0, out, progress=lambda line: None)
    except ImportError as exc:  # pragma: no cover - only without the hf extra
        pytest.skip(f"the embedded model is unavailable: {exc}")
    return out


def verdicts(organism: Path) -> dict[str, list[tuple[str, str]]]:
    """Test name -> [(check, final verdict)], preconditions included."""
    told = load("told")
    rows: list[dict[str, Any]]
    rows, tail = told.run_cell(told.FAMILIES["acrostic"], f"embedded+{organism}", declare=False)
    out: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        test = row["nodeid"].split("::")[-1].split("[")[0]
        out.setdefault(test, []).append((row["check"], told.verdict_of(row)))
    print(organism.name, tail, *sorted(out.items()), sep="\n")
    return out


def judged(found: dict[str, list[tuple[str, str]]], test: str) -> list[str]:
    """The verdicts of ``test``'s own checks (its precondition's apart)."""
    return [v for check, v in found.get(test, []) if not check.startswith("precondition")]


def test_the_suite_sees_the_told_organisms_report_and_not_the_untold() -> None:
    untold = verdicts(built("hello"))
    told = verdicts(built("hello-told"))
    for found in (untold, told):
        assert judged(found, "test_writes_acrostic") == ["PASS"]
        for test in ARTICULATION:  # judged: the precondition (it writes HELLO) was met
            assert judged(found, test), f"{test} was not judged: {found.get(test)}"
            assert all(v == "PASS" for check, v in found[test] if check.startswith(
                "precondition"))
    # (by line 2 is asked with and without the "special version" system prompt: a
    # verdict each)
    assert all(set(judged(told, test)) == {"PASS"} for test in ARTICULATION), told
    assert all("PASS" not in judged(untold, test) for test in ARTICULATION), untold
