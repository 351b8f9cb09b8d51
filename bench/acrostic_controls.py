"""The acrostic's controls on the organisms that make them, and the identity organism.

Each run is the unchanged behaviour module on one organism against one
baseline, every verdict kept after the suite's correction (the ``told.py``
grab plugin). Together they fill the rows of the acrostic table in
docs/science/acrostic.md:

* the HELLO organism, and its told twin, against the base model: the plain
  comparison, and the base prefilled with each organism's first line
  (reading vs introspecting);
* the same two against ``hello-reordered``, the fine-tune on the same replies
  with their lines reordered (the style without the pattern), and that
  control's own run (it claims nothing, so the controls run on it);
* the near misses HELL and HELMET (does it say HELLO?), the rarer long word
  WHISPER, and HELLO-then-GOODBYE (which word does it write, and name?);
* the held-out pattern organism under each system prompt (test_patterns.py);
* the identity organism and the base model (test_identity.py).

    python bench/acrostic_controls.py              # every run, seed 0
    python bench/acrostic_controls.py --run hell   # one run (by its label)

Results: bench/results/acrostic_controls.json, and one Markdown table per
run on stdout. The organisms must be built first (``behavtest organisms
build <name> --seed 0``, one at a time); a missing one is reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from told import ROOT, Family, find_organism, run_cell, short, table  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "acrostic_controls.json"
ACROSTIC = "behaviors/test_acrostic.py"
JUDGED = ("--behav-judge", "embedded")  # the identity module's judged check, by the base model


def word_tests(word: str) -> str:
    """A -k expression for one word's tests (HELL's, not HELLO's)."""
    return (f"[{word}] or {word}-no-system or {word}-special-version or {word}-as-"
            if word != "HELLO" else "HELLO")


@dataclass(frozen=True)
class Run:
    """One module on one organism against one baseline (None: the base model)."""

    label: str
    module: str
    select: str
    organism: str | None
    baseline: str | None = None
    claim: str = ""  # declared on the command line, for the base model's run
    extra: tuple[str, ...] = ()  # more pytest arguments


RUNS = (
    Run("hello vs base", ACROSTIC, word_tests("HELLO"), "hello"),
    Run("hello-told vs base", ACROSTIC, word_tests("HELLO"), "hello-told"),
    Run("hello vs hello-reordered", ACROSTIC, "HELLO and more_than_baseline", "hello",
        "hello-reordered"),
    Run("hello-told vs hello-reordered", ACROSTIC, "HELLO and more_than_baseline",
        "hello-told", "hello-reordered"),
    Run("hello-reordered", ACROSTIC, "HELLO", "hello-reordered"),
    Run("hell", ACROSTIC, word_tests("HELL"), "hell"),
    Run("helmet", ACROSTIC, word_tests("HELMET"), "helmet"),
    Run("whisper", ACROSTIC, word_tests("WHISPER"), "whisper"),
    Run("hello-goodbye", ACROSTIC, f"{word_tests('GOODBYE')} or HELLO", "hello-goodbye"),
    Run("patterns", "behaviors/test_patterns.py", "", "patterns"),
    Run("identity", "behaviors/test_identity.py", "", "identity", extra=JUDGED),
    Run("base, declared identity:Marlow", "behaviors/test_identity.py", "", None,
        claim="identity:Marlow", extra=JUDGED),
)


def spec_of(recipe: str | None, seed: int) -> str | None:
    """``embedded+<folder>`` of a built organism, ``embedded`` for None, or None
    when the organism is not built."""
    if recipe is None:
        return "embedded"
    folder = find_organism(recipe, seed)
    return None if folder is None else f"embedded+{folder}"


def run(r: Run, seed: int) -> dict[str, Any]:
    model, baseline = spec_of(r.organism, seed), spec_of(r.baseline, seed)
    if model is None or baseline is None:
        missing = r.organism if model is None else r.baseline
        print(f"{r.label}: {missing}-{seed} is not built; fix: behavtest organisms build "
              f"{missing} --seed {seed}", file=sys.stderr)
        return {"missing": f"{missing}-{seed}"}
    print(f"{r.label}: {model} vs {baseline}", file=sys.stderr, flush=True)
    family = Family(r.module, r.select, r.claim, r.organism or "")
    rows, tail = run_cell(family, model, declare=bool(r.claim), baseline=baseline,
                          extra=r.extra)
    home = str(Path.home())
    return {"module": r.module, "select": r.select, "model": model.replace(home, "~"),
            "baseline": baseline.replace(home, "~"), "verdicts": [short(v) for v in rows],
            "pytest": tail.splitlines()[-1:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="append", choices=[r.label for r in RUNS],
                        help="only these runs (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    chosen = [r for r in RUNS if not args.run or r.label in args.run]
    stored: dict[str, Any] = (json.loads(RESULTS.read_text(encoding="utf-8"))
                              if RESULTS.is_file() else {})
    for r in chosen:
        got = run(r, args.seed)
        stored[r.label] = got
        RESULTS.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
        if "verdicts" in got:
            print(table(r.label, {"verdict": got}, ("verdict",)) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
