"""The false-PASS matrix as a table: claim x violation -> the verdict it got.

Runs ``tests/test_false_pass.py`` (the doubles, each violating claims of the
shipped suite) with ``BEHAVTEST_FALSE_PASS_TABLE`` set, so each cell's verdict
is recorded, and writes the cells to ``bench/results/false_pass.json`` and the
table to ``docs/false-pass.md``. The test itself is what CI runs; this only
shows its cells. About 2 minutes on two cores.

    .venv/bin/python bench/false_pass.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIOLATIONS = ("below-delta", "beyond-margin", "slot-bias", "label-flip", "echo", "confound",
              "word-form")


def run() -> list[dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "cells.jsonl"
        env = {**os.environ, "BEHAVTEST_FALSE_PASS_TABLE": str(table)}
        done = subprocess.run([sys.executable, "-m", "pytest", "tests/test_false_pass.py", "-q",
                               "-p", "no:cacheprovider", "-n", "2"], cwd=ROOT, env=env)
        if done.returncode != 0:
            raise SystemExit(f"tests/test_false_pass.py failed (exit {done.returncode})")
        return [json.loads(line) for line in table.read_text().splitlines()]


def markdown(cells: list[dict[str, str]]) -> str:
    by_test: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for c in cells:
        by_test[c["test"]][c["violation"]].append(c["verdict"])
    used = [v for v in VIOLATIONS if any(v in row for row in by_test.values())]
    lines = ["| claim (test) | " + " | ".join(used) + " |",
             "|---|" + "---|" * len(used)]
    for test in sorted(by_test):
        row = by_test[test]
        lines.append(f"| `{test}` | " + " | ".join(
            "; ".join(sorted(set(row[v]))) if v in row else "" for v in used) + " |")
    return "\n".join(lines)


def main() -> None:
    cells = run()
    out = ROOT / "bench" / "results" / "false_pass.json"
    out.write_text(json.dumps(sorted(cells, key=lambda c: (c["test"], c["violation"])),
                              indent=1) + "\n")
    print(markdown(cells))


if __name__ == "__main__":
    main()
