"""Build time and peak memory of model organisms, from their model cards.

``behavtest organisms build`` measures itself: the card ``behavtest.json``
records the training time, the whole build's time (training, then the
held-out measurement of the organism and, once per base and measurement, of
the base model) and the process's peak resident memory. This script gathers
those figures from built organism folders into bench/results/organisms.json
(merged: entries of other folders are kept) and prints a table, with the
ratio build / training: what the held-out measurement adds to the raw
training loop run in the same process.

    python bench/organisms.py runs/organisms/*
    python bench/organisms.py runs/organisms/abduction-0/round-*   # a checkpoint series

Build the organisms one at a time: on two cores, two trainings side by side
ran five times slower each, and the figures would measure the contention.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "organisms.json"


def entry(folder: Path) -> tuple[str, dict[str, Any]] | None:
    """(key, figures) of one organism folder, or None when it holds no card."""
    try:
        card = json.loads((folder / "behavtest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    recipe = card.get("recipe", {})
    strength = card.get("strength", {})
    train, build = card.get("train_seconds"), card.get("build_seconds")
    dtype = card.get("train_dtype")  # absent on cards written before bf16 training: fp32
    # A checkpoint of a series (organisms.series) is built with its series; its
    # train_seconds are its round's, its build_seconds the whole series' so far.
    series = recipe.get("series", {}).get("series")
    figures = {
        "recipe": card.get("name"), "seed": card.get("seed"),
        **({"series": series, "round": recipe.get("round")} if series else {}),
        "command": f"behavtest organisms build {series or card.get('name')} --base "
                   f"{card.get('base')} "
                   f"--seed {card.get('seed')}" + (f" --dtype {dtype}" if dtype else ""),
        "train_dtype": dtype or "float32",
        "trained_on": card.get("trained_on"), "examples": card.get("examples"),
        "steps": card.get("steps"), "epochs": recipe.get("epochs"),
        "learning_rate": recipe.get("learning_rate"), "final_loss": card.get("final_loss"),
        "train_seconds": train, "build_seconds": build,
        "build_over_train": round(build / train, 3) if train and build and not series else None,
        "peak_rss_mb": card.get("peak_rss_mb"), "strength": strength,
    }
    suffix = "-bf16" if dtype == "bfloat16" else ""
    if series:  # abduction-0/round-3
        name = str(card.get("name"))
        return f"{series}-{card.get('seed')}{suffix}/{name.rsplit('/', 1)[-1]}", figures
    return f"{card.get('name')}-{card.get('seed')}{suffix}", figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="built organism folders")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the results file to merge into")
    args = parser.parse_args(argv)
    found = [e for e in (entry(f) for f in args.folders) if e is not None]
    if not found:
        print("no organism cards (behavtest.json) in those folders; fix: build one with "
              "behavtest organisms build NAME", file=sys.stderr)
        return 2
    results: dict[str, Any] = {}
    if args.out.exists():
        results = json.loads(args.out.read_text(encoding="utf-8"))
    results.setdefault("organisms", {})
    results["machine"] = f"{platform.machine()}, {platform.python_version()}"
    for key, figures in found:
        results["organisms"][key] = figures
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"{'organism':<22} {'steps':>5} {'train s':>8} {'build s':>8} {'build/train':>11} "
          f"{'peak MB':>8}  held-out")
    for key, f in found:
        s = f["strength"]
        base = s.get("base", {})
        print(f"{key:<22} {f['steps']:>5} {f['train_seconds']:>8} {f['build_seconds']:>8} "
              f"{f['build_over_train'] or '-':>11} {f['peak_rss_mb']:>8}  "
              f"{s.get('k')}/{s.get('n')} (base {base.get('k')}/{base.get('n')})")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
