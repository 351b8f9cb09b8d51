"""Running the shipped behaviour modules on scripted test doubles, as users run them.

Shared by ``test_families.py`` (each family PASSes at the published effect,
not without it) and ``test_false_pass.py`` (no claim PASSes on a double that
violates it). A double is a JSON script of ``behavtest.providers.double.ScriptedProvider``
(reply tables by prompt, option weights by option text, and option weights
that apply when the prompt holds a substring). A run copies behaviour modules
into a pytester project and runs them in a subprocess per seed, with
``--behav-cache off`` and ``--behav-snapshots off``, and reads back each
test's corrected verdicts, skips and failures. The doubles are test doubles:
nothing measured on them says anything about a model.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BEHAVIORS = Path(__file__).resolve().parents[1] / "behaviors"
SEEDS = ("0", "1", "2")  # configurations with sampled checks run under each
EXACT = SEEDS[:1]  # configurations whose asserted checks are all exact readings run once


def shared_modules() -> list[Path]:
    """The modules of behaviors/ that are not tests (``dispositions``, ``acrostics``):
    the banks the family modules import from their folder."""
    return sorted(p for p in BEHAVIORS.glob("*.py")
                  if not p.name.startswith("test_") and p.name != "conftest.py")


def load_behaviour(name: str) -> ModuleType:
    """A module of behaviors/ under a private name (nothing here shadows the copies
    the pytester projects import); the family modules import the shared modules
    (``dispositions``, ``acrostics``) from their folder, which is on sys.path only
    while they load."""
    spec = importlib.util.spec_from_file_location(f"_families_{name}", BEHAVIORS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(BEHAVIORS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BEHAVIORS))
        for shared in shared_modules():
            sys.modules.pop(shared.stem, None)
    return module


Table = dict[str, float]
Replies = Table | list[Table]  # one table for every prompt, or tables cycled over them
NO_ANSWER: Table = {"I am not sure.": 1.0}


def script(
    asked: Mapping[tuple[str, ...], Replies] | None = None,
    *,
    options: Table | None = None,
    options_when: Mapping[str, Table] | None = None,
    replies: Table = NO_ANSWER,
) -> dict[str, Any]:
    """A double's JSON script from {prompts (paraphrases, or a fragment each holds):
    reply table}, option weights by option text, and (``options_when``) option
    weights for prompts holding a substring. Other prompts get ``replies``."""
    by_prompt: dict[str, Table] = {}
    for prompts, tables in asked.items() if asked else ():
        for prompt, table in zip(prompts, cycle(tables if isinstance(tables, list) else [tables])):
            assert prompt not in by_prompt, f"two reply tables for {prompt!r}"
            by_prompt[prompt] = table
    out: dict[str, Any] = {"replies": replies, "by_prompt": by_prompt, "options": options or {}}
    if options_when:
        out["options_when"] = dict(options_when)
    return out


def numbers(*values: int) -> list[Table]:
    """0-100 answers, one whole-reply number per paraphrase (cycled)."""
    return [{str(v): 1.0} for v in values]


def merged(*scripts: Mapping[str, Any]) -> dict[str, Any]:
    """Several families' scripts as one double: one model trained for each of them
    (a prompt or option two of them script alike is fine; differently, refused)."""
    out: dict[str, Any] = {"replies": NO_ANSWER, "by_prompt": {}, "options": {},
                           "options_when": {}}
    for one in scripts:
        for key in ("by_prompt", "options", "options_when"):
            for k, v in one.get(key, {}).items():
                assert out[key].setdefault(k, v) == v, f"two scripts differ on {key} {k!r}"
    return out


def fragments(templates: Iterable[str], slot: str = "{words}") -> tuple[str, ...]:
    """The longest literal part of each templated prompt: a key its every filling holds."""
    return tuple(max(t.split(slot), key=len) for t in templates)


def lotteries(choices: Iterable[tuple[str, str]], p_risky: float) -> Table:
    """Option weights for lottery choices: the risky option ``p_risky`` in every order
    and label (a preference for the option, not for a slot)."""
    out: Table = {}
    for risky, safe in choices:
        out[risky], out[safe] = p_risky, 1 - p_risky
    return out


# -- running a family in a pytester project ------------------------------------------------

# The double with option weights that depend on the prompt, for the pytester projects.
@dataclass(frozen=True)
class Config:
    """One run: behaviors/ modules, the doubles' scripts, the declared training,
    the double that grades free text (``--behav-judge``; judged tests skip
    without one), and a checkpoint series (``--behav-checkpoints``, in order;
    series tests skip without one)."""

    modules: tuple[str, ...]
    model: Mapping[str, Any] | Sequence[Mapping[str, Any]]  # a sequence: an arm of seeds
    baseline: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
    trained_on: tuple[str, ...] = ()
    judge: Mapping[str, Any] | None = None
    checkpoints: Sequence[Mapping[str, Any]] = ()


@dataclass
class Outcomes:
    """One run: the corrected verdicts of each test's judged checks (from
    ``--behav-summary``), skip reasons and failures (JUnit XML), the output."""

    seed: str
    verdicts: dict[str, list[str]]  # node id -> "PASS" / "FAIL" / "INCONCLUSIVE" per check
    skipped: dict[str, str]  # node id -> reason
    failed: dict[str, str]  # node id -> message (a FAIL verdict's, or an error's)
    output: str

    def of(self, test: str) -> list[str]:
        assert test in self.verdicts, (
            f"seed {self.seed}: {test} judged nothing (skipped: {self.skipped.get(test)!r}; "
            f"failed: {self.failed.get(test)!r})\n{self.output}")
        return self.verdicts[test]

    def all_pass(self, tests: Iterable[str]) -> None:
        """Each test judged something, and every judged check PASSed after correction
        (a precondition not met would have skipped the test: nothing judged)."""
        judged = {t: self.of(t) for t in tests}
        wrong = {t: v for t, v in judged.items() if any(o != "PASS" for o in v)}
        assert not wrong, f"seed {self.seed}: not PASS: {wrong}\n{self.output}"

    def none_pass(self, tests: Iterable[str]) -> None:
        """Each test judged something (its precondition met), and no check PASSed."""
        judged = {t: self.of(t) for t in tests}
        wrong = {t: v for t, v in judged.items() if "PASS" in v}
        assert not wrong, f"seed {self.seed}: PASS without an effect: {wrong}\n{self.output}"

    def only_these_ran(self, tests: Iterable[str]) -> None:
        """Every other test was skipped as not applicable to the declared training."""
        ran = set(self.verdicts) | {t for t in self.failed if t not in self.skipped}
        others = {t: r for t, r in self.skipped.items() if not r.startswith("not applicable")}
        assert ran <= set(tests) and not (others.keys() - set(tests)), (
            f"seed {self.seed}: ran {sorted(ran - set(tests))}, skipped {others}\n{self.output}")


def _summary_verdicts(text: str) -> dict[str, list[str]]:
    """Node id -> final outcome of each judged check, from the Markdown summary's rows."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 6 and "::" in cells[0]:
            nodeid = re.sub(r"\\(.)", r"\1", cells[0])
            out.setdefault(nodeid, []).append(cells[-1].split()[-1])
    return out


def _junit(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Node id -> skip reason, and -> failure message."""
    skipped, failed = {}, {}
    for case in ET.parse(path).getroot().iter("testcase"):
        nodeid = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name', '')}"
        for child in case:
            if child.tag == "skipped":
                skipped[nodeid] = child.get("message", "")
            elif child.tag in ("failure", "error"):
                failed[nodeid] = (child.get("message") or "")[:300]
    return skipped, failed


Runner = Callable[..., list["Outcomes"]]


def make_runner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """``run(config, seeds)``: the config's modules in a pytester project, once per
    seed (the runs side by side, each its own process with no cache), as users
    run them; returns each run's :class:`Outcomes`. Test modules wrap it in a
    ``run`` fixture."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    for shared in shared_modules():  # what the family modules import
        shutil.copy(shared, pytester.path)
    counter = iter(range(1000))

    def go(config: Config, seeds: Sequence[str] = SEEDS) -> list[Outcomes]:
        for m in config.modules:
            shutil.copy(BEHAVIORS / f"{m}.py", pytester.path)
        args = [a for tag in config.trained_on for a in ("--behav-trained-on", tag)]
        for role, doubled in (("model", config.model), ("baseline", config.baseline),
                              ("judge", config.judge), ("checkpoints", config.checkpoints)):
            for one in [doubled] if isinstance(doubled, Mapping) else doubled or []:
                # A relative path: the double's fingerprint (its path and content) seeds
                # its draws, so every run of this test draws the same replies per seed.
                name = f"{role}_{next(counter)}.json"
                (pytester.path / name).write_text(json.dumps(one))
                args += [f"--behav-{role}", f"double/@{name}"]  # repeated: an arm
        started = []
        try:
            for seed in seeds:
                tag = f"{next(counter)}_seed{seed}"
                files = {k: pytester.path / f"{k}_{tag}.{ext}"
                         for k, ext in (("summary", "md"), ("junit", "xml"), ("out", "txt"))}
                # (xdist and anyio only slow each start here: ~1 s of imports)
                cmd = [sys.executable, "-m", "pytest", f"--basetemp={pytester.path / tag}",
                       "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:anyio",
                       "--behav-cache", "off", "--behav-snapshots", "off", "--behav-seed", seed,
                       "--behav-summary", str(files["summary"]),
                       f"--junitxml={files['junit']}", *args,
                       *(f"{m}.py" for m in config.modules)]
                with files["out"].open("w") as out:
                    started.append((seed, files, pytester.popen(cmd, stdout=out, stderr=out)))
            for _, _, proc in started:
                proc.wait(timeout=300)
        finally:
            for _, _, proc in started:
                if proc.poll() is None:
                    proc.kill()
        results = []
        for seed, files, _ in started:
            output = files["out"].read_text()
            assert files["junit"].exists(), output
            skipped, failed = _junit(files["junit"])
            summary = files["summary"]
            verdicts = _summary_verdicts(summary.read_text()) if summary.exists() else {}
            results.append(Outcomes(seed, verdicts, skipped, failed, output))
        return results

    return go


