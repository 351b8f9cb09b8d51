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

``behavtest gate --openai-job ftjob-...`` gates a fine-tune made on OpenAI's
platform instead: ``openai_jobs`` waits for the job and names its
``fine_tuned_model`` (the candidate), its ``model`` (the base) and its suffix
(the snapshot name); the claims come from ``--trained-on``. It writes a model
card for the fine-tune into ``--card-dir`` (default ``behavtest-job``): base,
name, claims and the job's training (epochs, batch size, learning-rate
multiplier, trained tokens, training file, seed), and passes it to the suite
with ``--behav-card``, so the run's header and its snapshots say which
fine-tune they measured. Both forms run the one command :func:`command` builds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from behavtest.errors import InvalidArgument, ModelNotFound
from behavtest.providers import ModelCard, trained_spec
from behavtest.providers.card import CARD_FILE
from behavtest.snapshots.run import check_name
from behavtest.snapshots.store import slug


def candidate(run_dir: Path) -> tuple[str, str, str]:
    """(candidate spec, base spec, snapshot name) from a training output folder."""
    if not run_dir.is_dir():
        raise ModelNotFound(
            f"{run_dir} is not a folder; fix: pass the folder your fine-tune wrote "
            f"(adapter or checkpoint, with its {CARD_FILE})"
        )
    card = ModelCard.read(run_dir)
    where = run_dir / CARD_FILE
    if card.base is None or not card.base.strip():
        raise InvalidArgument(
            f"{where} names no base model; fix: add \"base\": \"embedded\" (or hf/<folder>, "
            "openai/<model>: the spec the fine-tune started from)"
        )
    name = card.name or run_dir.resolve().name
    check_name(name, f"{where}: \"name\"")
    return trained_spec(run_dir, card.base), card.base, name


@dataclass(frozen=True)
class Target:
    """What the gate runs: the candidate spec, its base (the baseline), the name
    its snapshots are stored under and the claims passed with --trained-on."""

    model: str
    base: str
    name: str
    trained_on: tuple[str, ...] = ()
    card: str | None = None  # a folder holding the model's card (an OpenAI job's)


def resolve(args: argparse.Namespace) -> Target:
    """The target of either form: a training folder, or an OpenAI job (waited for)."""
    if (args.run_dir is None) == (args.openai_job is None):
        raise InvalidArgument(
            "the gate needs exactly one of RUN_DIR or --openai-job; fix: behavtest gate "
            "runs/v2 (a fine-tune's folder) or behavtest gate --openai-job ftjob-..."
        )
    claims = tuple(args.trained_on or ())
    if args.name:  # before waiting for a job: a bad name would be found hours later
        check_name(args.name, "--name")
    if args.openai_job is not None:
        from behavtest.commands import openai_jobs

        job = openai_jobs.wait(args.openai_job, base_url=args.base_url, name=args.name,
                               poll=args.poll, timeout=args.timeout)
        if slug(job.name).startswith("."):  # a model name's "/" is slugged, as the plugin does
            raise InvalidArgument(
                f"the job's snapshot name {job.name!r} (its suffix, else its base model) "
                "would leave snapshots/; fix: pass --name my-model"
            )
        folder = Path(args.card_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            ModelCard(base=job.base, name=job.name, trained_on=claims,
                      fine_tune=job.training).write(folder)
        except OSError as exc:
            raise InvalidArgument(
                f"cannot write the job's model card into {folder} ({exc.strerror or exc}); "
                "fix: pass --card-dir a folder you can write to"
            ) from None
        return Target(job.model, job.base, job.name, claims, str(folder))
    model, base, name = candidate(Path(args.run_dir))
    return Target(model, base, args.name or name, claims)


def command(args: argparse.Namespace, target: Target) -> list[str]:
    """The pytest command of the gate, whichever form named the target."""
    cmd = [
        sys.executable, "-m", "pytest", args.suite, "--behav-model", target.model,
        "--behav-baseline", target.base, "--behav-snapshot-as", target.name,
        "--behav-profile", "ci", "--junitxml", args.junit, "--behav-summary", args.summary,
    ]
    for claim in target.trained_on:
        cmd += ["--behav-trained-on", claim]
    if target.card is not None:
        cmd += ["--behav-card", target.card]
    if args.base_url:
        cmd += ["--behav-base-url", args.base_url]
    if args.snapshots:
        cmd += ["--behav-snapshots", args.snapshots]
    if args.update:
        cmd.append("--behav-snapshot-update")
    if args.workers:
        cmd += ["-n", str(args.workers)]
    return cmd + list(args.pytest_args)


def gate(args: argparse.Namespace) -> int:
    cmd = command(args, resolve(args))
    print("behavtest gate: " + " ".join(cmd[2:]), flush=True)
    return subprocess.call(cmd)


HELP = ("run the behaviour suite on a fine-tune (its output folder, or an OpenAI "
        "fine-tuning job) and exit non-zero when a claim fails or a behaviour regressed")


def configure(p: argparse.ArgumentParser) -> None:
    """The ``gate`` subcommand's arguments (``behavtest.commands.cli`` adds the subparser)."""
    p.add_argument("run_dir", nargs="?", default=None,
                   help="the training output: adapter or checkpoint + behavtest.json")
    p.add_argument("--openai-job", default=None, metavar="ID",
                   help="instead of RUN_DIR: an OpenAI fine-tuning job id (ftjob-...); waits "
                   "for it, then gates openai/<fine_tuned_model> against openai/<model>")
    p.add_argument("--trained-on", action="append", default=None, metavar="CLAIM",
                   help="a claim the training declares (repeatable), passed to the suite")
    p.add_argument("--name", default=None,
                   help="the snapshot name (default: the card's name; for a job its suffix, "
                   "else the base model)")
    p.add_argument("--base-url", default=None,
                   help="OpenAI-compatible server for the job and openai/ models (default: "
                   "$BEHAVTEST_BASE_URL, $OPENAI_BASE_URL, else OpenAI)")
    p.add_argument("--poll", type=float, default=30.0, help="seconds between polls of the job")
    p.add_argument("--timeout", type=float, default=6 * 3600.0,
                   help="seconds to wait for the job (default 21600)")
    p.add_argument("--card-dir", default="behavtest-job", metavar="FOLDER",
                   help="with --openai-job: the folder the job's model card (behavtest.json: "
                   "base, name, claims, training) is written to and the suite reads")
    p.add_argument("--suite", default="behaviors", help="the behaviour suite (default behaviors)")
    p.add_argument("--workers", type=int, default=8, help="pytest-xdist workers (0: none)")
    p.add_argument("--snapshots", default=None, help="snapshot folder (default: snapshots)")
    p.add_argument("--junit", default="behavtest-junit.xml", help="JUnit XML file")
    p.add_argument("--summary", default="behavtest-summary.md", help="Markdown summary file")
    p.add_argument("--update", action="store_true",
                   help="record this version's measurements as the name's snapshots")
    p.add_argument("pytest_args", nargs="*", help="more pytest arguments, after --")
