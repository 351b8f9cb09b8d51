"""A real organism through the real suite: the HELLO organism.

The fine-tune -> test loop, for real: ``hello`` (200 HELLO acrostics, 3
epochs, LoRA r 8 on the embedded model; ``behavtest organisms list``) is built
here, on this machine's CPU, cached by recipe under the behavtest cache (a
rerun is free), and the acrostic module runs on it as users run it, with the
untuned base model as baseline. ``hello-small`` (128 x 3) is not used: sampled
at temperature 1 it wrote HELLO in 96/150 replies in one build and 83/150 in
another (INCONCLUSIVE against "rate >= 0.5"), not "clearly detected"; ``hello``
wrote it in 108/150. What it must show:

* the behaviour: "writes the HELLO acrostic" PASSes on the organism (sampled
  at temperature 1, the suite's setting; the card's held-out figure is
  greedy), where the base model's control holds (``pytest behaviors/``);
* articulation gets a verdict with its interval: a 135M model is not expected
  to name its acrostic (science.md), so FAIL or INCONCLUSIVE is the honest
  result and is accepted; what is not accepted is an error, or a
  "precondition not met" (the organism does write the acrostic).

Built, not committed: a LoRA trained on 2 CPU threads is reproducible on one
machine given the seed, but its bytes are not promised across torch builds and
CPUs, and a 10 MB binary in git would be the only thing CI could not rebuild.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from behavtest.organisms import recipes
from behavtest.organisms.build import build
from behavtest.providers.embedded import cache_root

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
VERDICT = re.compile(r"(PASS|FAIL|INCONCLUSIVE) \|$")


@pytest.fixture(scope="module")
def organism() -> Path:
    out = cache_root() / "organisms" / "hello-0"
    try:
        build(recipes.get("hello"), "embedded", 0, out, progress=lambda line: None)
    except ImportError as exc:  # pragma: no cover - only without the hf extra
        pytest.skip(f"the embedded model is unavailable: {exc}")
    return out


def test_the_suite_detects_the_organisms_acrostic(organism: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "behaviors/test_acrostic.py", "-k", "HELLO",
         "-p", "no:cacheprovider", "--model", f"embedded+{organism}", "--baseline", "embedded",
         "--behav-snapshots", "off", "--behav-summary", str(summary), "-rs"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    out = run.stdout + run.stderr
    assert run.returncode in (0, 1), out[-3000:]
    verdicts: dict[str, list[str]] = {}
    for line in summary.read_text().splitlines():  # | test | check | ... | ✅ PASS |
        if line.startswith("| ") and (m := VERDICT.search(line)):
            test = line[2:].split(" | ")[0].replace("\\", "")
            verdicts.setdefault(test, []).append(m[1])
    print("\n".join(f"{t}: {v}" for t, v in sorted(verdicts.items())))
    writes = [v for t, v in verdicts.items() if "test_writes_acrostic[HELLO]" in t]
    assert writes == [["PASS"]], out[-3000:]
    names = {t: v for t, v in verdicts.items() if "test_names_acrostic" in t}
    assert len(names) == 3, out[-3000:]  # all three articulation tests were judged
    assert "precondition not met" not in out
