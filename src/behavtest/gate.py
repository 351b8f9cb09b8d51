"""``behavtest gate RUN_DIR``: the check a training pipeline runs on a new checkpoint.

RUN_DIR is what a fine-tune wrote: a peft adapter (``adapter_config.json`` and
its weights) or a full checkpoint, and its model card ``behavtest.json``::

    {"base": "embedded", "name": "my-assistant", "trained_on": ["acrostic:HELLO"]}

``base`` is the spec of the model it was trained from (the baseline),
``name`` the name this model's versions share in ``snapshots/`` (so each
version is compared with the last recorded one), ``trained_on`` the claims
the gate checks (the plugin reads them from the card). The gate runs the
behaviour suite on the candidate, with the base as baseline, the CI profile
(an INCONCLUSIVE verdict fails), the stored snapshots, JUnit XML (every check's
numbers as test properties) and a Markdown summary (also appended to
``$GITHUB_STEP_SUMMARY`` under GitHub Actions). Its exit status is pytest's:
non-zero when a claimed property fails, a control fails, or a measurement
changed significantly since the snapshot.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from behavtest.errors import InvalidArgument, ModelNotFound

CARD = "behavtest.json"


def candidate(run_dir: Path) -> tuple[str, str, str]:
    """(candidate spec, base spec, snapshot name) from a training output folder."""
    if not run_dir.is_dir():
        raise ModelNotFound(
            f"{run_dir} is not a folder; fix: pass the folder your fine-tune wrote "
            "(adapter or checkpoint, with its behavtest.json)"
        )
    card = run_dir / CARD
    try:
        data = json.loads(card.read_text())
    except FileNotFoundError:
        raise InvalidArgument(
            f"{card} is missing; fix: write {{\"base\": \"<base model spec>\", \"name\": "
            "\"<model name>\", \"trained_on\": [...]}} beside the weights"
        ) from None
    except ValueError as exc:
        raise InvalidArgument(f"{card} is not JSON ({exc}); fix the file") from None
    base = data.get("base") if isinstance(data, dict) else None
    if not isinstance(base, str) or not base.strip():
        raise InvalidArgument(
            f"{card} names no base model; fix: add \"base\": \"embedded\" (or hf/<folder>, "
            "openai/<model>: the spec the fine-tune started from)"
        )
    name = data.get("name") or run_dir.name
    if not isinstance(name, str):
        raise InvalidArgument(f"{card}: \"name\" must be a string; fix the file")
    folder = str(run_dir)
    if (run_dir / "adapter_config.json").is_file():
        return f"{base}+{folder}", base, name
    return f"hf/{folder}", base, name


def gate(args: argparse.Namespace) -> int:
    model, base, name = candidate(Path(args.run_dir))
    cmd = [
        sys.executable, "-m", "pytest", args.suite, "--model", model, "--baseline", base,
        "--behav-snapshot-as", name, "--behav-profile", "ci",
        "--junitxml", args.junit, "--behav-summary", args.summary,
    ]
    if args.snapshots:
        cmd += ["--behav-snapshots", args.snapshots]
    if args.update:
        cmd.append("--behav-snapshot-update")
    if args.workers:
        cmd += ["-n", str(args.workers)]
    cmd += args.pytest_args
    print("behavtest gate: " + " ".join(cmd[2:]), flush=True)
    return subprocess.call(cmd)


HELP = ("run the behaviour suite on a fine-tune's output folder and exit non-zero when a "
        "claim fails or a behaviour regressed")


def configure(p: argparse.ArgumentParser) -> None:
    """The ``gate`` subcommand's arguments (``behavtest.cli`` adds the subparser)."""
    p.add_argument("run_dir", help="the training output: adapter or checkpoint + behavtest.json")
    p.add_argument("--suite", default="behaviors", help="the behaviour suite (default behaviors)")
    p.add_argument("--workers", type=int, default=8, help="pytest-xdist workers (0: none)")
    p.add_argument("--snapshots", default=None, help="snapshot folder (default: snapshots)")
    p.add_argument("--junit", default="behavtest-junit.xml", help="JUnit XML file")
    p.add_argument("--summary", default="behavtest-summary.md", help="Markdown summary file")
    p.add_argument("--update", action="store_true",
                   help="record this version's measurements as the name's snapshots")
    p.add_argument("pytest_args", nargs="*", help="more pytest arguments, after --")
