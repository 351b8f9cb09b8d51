"""The ``behavtest`` command: planning sample sizes (``behavtest plan``),
comparing two models' snapshots (``behavtest diff A B``: folders, or model specs
drawn live), gating a fine-tune (``behavtest gate``) and building model organisms
(``behavtest organisms``)."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from behavtest import stats
from behavtest.commands import gate
from behavtest.errors import BehavtestError, InvalidArgument
from behavtest.organisms import cli as organisms_cli
from behavtest.settings import check_rate, check_samples
from behavtest.snapshots import diff, diff_live
from behavtest.snapshots.store import SUFFIX, Entry, read_folder
from behavtest.snapshots.training import folder_training
from behavtest.untrusted import plain


def _check_plan_inputs(args: argparse.Namespace) -> None:
    """Every number ``plan`` takes, checked before any search: one line naming the
    option (NaN and inf included), instead of a failure deep in a solver."""
    stats.check_alpha(args.alpha, "--alpha")
    if not 0 < args.power < 1:
        raise InvalidArgument(f"--power {args.power} is outside (0, 1); fix: e.g. --power 0.8")
    if args.vs is not None:
        check_rate(args.vs, "--vs")
    if args.margin is not None and not 0 < args.margin < 0.5:
        raise InvalidArgument(f"--margin {args.margin} is outside (0, 0.5); "
                              "fix: e.g. --margin 0.05")
    if args.seed_sd is not None and not (math.isfinite(args.seed_sd) and args.seed_sd > 0):
        raise InvalidArgument(f"--seed-sd must be > 0 and finite, not {args.seed_sd} (the "
                              "spread of per-model rates across seeds); fix: e.g. --seed-sd 0.1")
    check_samples(args.samples, "--samples")


def _progress(what: str, target: float, clock: Callable[[], float] = time.monotonic,
              first: float = 2.0, every: float = 5.0) -> Callable[[int, float], None]:
    """A sample-size search's progress callback: a line on stderr once the search
    has taken ``first`` seconds, then at most every ``every`` seconds; silent
    when it is fast, so a long search never looks hung."""
    start = clock()
    last = start - every  # the first line comes as soon as ``first`` seconds have passed

    def report(n: int, power: float) -> None:
        nonlocal last
        now = clock()
        if now - start >= first and now - last >= every:
            last = now
            print(f"behavtest: plan: {what}: n = {n} has exact power {power:.4f} < {target:g}, "
                  f"searching on ({now - start:.0f} s)", file=sys.stderr, flush=True)

    return report


def _plan(args: argparse.Namespace) -> int:
    rate = check_rate(args.rate, "--rate")
    _check_plan_inputs(args)
    if args.margin is not None:
        return _plan_equivalence(rate, args)
    if args.vs is None:
        raise BehavtestError("give --vs (threshold or baseline rate), or --margin for "
                             "an equivalence claim")
    vs = check_rate(args.vs, "--vs")
    if rate == vs:
        raise BehavtestError("--rate equals --vs: no sample size detects a zero difference")
    if args.seed_sd is not None:
        return _plan_seeds(rate, vs, args)
    one = stats.samples_for_rate(rate, vs, args.alpha, args.power,
                                 _progress("against a threshold", args.power))
    arm, exact = stats.samples_per_arm(rate, vs, args.alpha, args.power,
                                       _progress("per model against a baseline", args.power))
    how = "exact Fisher power" if exact else "arcsine-normal approximation"
    print(
        f"true rate {rate:g} vs {vs:g}, one-sided alpha {args.alpha:g}, power {args.power:g}:\n"
        f"  against a fixed threshold {vs:g} (rate_at_least/at_most): n = {one} samples "
        f"(exact binomial test)\n"
        f"  against a baseline model at {vs:g} (above/below): n = {arm} samples per model "
        f"({how})"
    )
    if args.sequential:
        budget = stats.sequential_budget_for_power(vs, rate, args.alpha, args.power)
        direction = "greater" if rate > vs else "less"
        design = stats.sequential_design(vs, budget, args.alpha, direction)
        _, _, mean_n = stats.sequential_oc(design, rate)
        print(
            f"  sequentially (--behav-sequential, {len(design.looks)} looks): budget {budget}, "
            f"expected {mean_n:.0f} samples at a true rate of {rate:g}"
        )
    return 0


def _plan_seeds(rate: float, vs: float, args: argparse.Namespace) -> int:
    """Fine-tunes per arm for Welch's t on per-model rates (``stats.arm_power``: the
    test as run, with its binomial variance floor), given the between-seed sd of
    a model's true rate and the samples drawn from each model."""
    n = args.samples
    for seeds in range(2, 201):
        if stats.arm_power(rate, vs, args.seed_sd, seeds, seeds, n, args.alpha) >= args.power:
            break
    else:
        raise BehavtestError("more than 200 fine-tunes per arm needed; the effect is too small")
    print(
        f"arm mean {rate:g} vs {vs:g}, between-seed sd {args.seed_sd:g}, {n} samples per model, "
        f"one-sided alpha {args.alpha:g}, power {args.power:g}:\n"
        f"  {seeds} fine-tunes per arm (Welch t on per-model rates)"
    )
    return 0


def _plan_equivalence(rate: float, args: argparse.Namespace) -> int:
    margin = args.margin
    low, high = max(0.0, rate - margin), min(1.0, rate + margin)
    n = stats.samples_for_equivalence(rate, low, high, args.alpha, args.power)
    print(
        f"showing a rate within [{low:g}, {high:g}] when it is truly {rate:g} (TOST, exact "
        f"binomial), alpha {args.alpha:g}, power {args.power:g}:\n  n = {n} samples"
    )
    return 0


def _snapshot_folder(path: str) -> dict[str, Entry]:
    """The entries of a snapshot folder, or a one-line error naming the fix."""
    folder = Path(path)
    shown = plain(path)
    if not folder.is_dir():
        raise BehavtestError(
            f"{shown} is not a folder: diff takes snapshot folders; fix: record each model's with "
            "pytest behaviors/ --behav-snapshot-as NAME --behav-snapshot-update "
            "(snapshots/NAME), or pass an existing folder"
        )
    if not any(folder.glob("*" + SUFFIX)):
        raise BehavtestError(
            f"{shown} holds no snapshot files (*{SUFFIX}); fix: record them with pytest "
            f"behaviors/ --behav-snapshot-as NAME --behav-snapshot-update (snapshots/NAME)"
        )
    return read_folder(folder)


def _diff(args: argparse.Namespace) -> int:
    # the options are checked (on no entries) before a spec costs a live run
    diff.rows({}, {}, args.alpha, args.correction, args.icc, args.margin)
    with diff_live.folders(args.a, args.b, args.suite, args.workers,
                           args.pytest_args) as (folder_a, folder_b):
        a, b = _snapshot_folder(folder_a), _snapshot_folder(folder_b)
        training = (folder_training(Path(folder_a)), folder_training(Path(folder_b)))
    table = diff.rows(a, b, args.alpha, args.correction, args.icc, args.margin)
    sys.stdout.write(diff.render(args.format, table, args.a, args.b, args.alpha,
                                 args.correction, args.margin, training))
    return diff.exit_code(table)


def build_parser() -> argparse.ArgumentParser:
    """The ``behavtest`` command's parser, every subcommand on it (``main`` parses
    with it; ``scripts/options_page.py`` renders it into the docs' options page)."""
    parser = argparse.ArgumentParser(prog="behavtest", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _configure_plan(sub.add_parser(
        "plan",
        help="samples (or seeds) needed to detect a rate against another, or to show equivalence",
    ))
    _configure_diff(sub.add_parser(
        "diff", help="every behaviour of two models' snapshots (folders, or specs drawn "
        "live): what changed, corrected for the number of comparisons (exit 1 when "
        "something did)",
    ))
    gate_parser = sub.add_parser("gate", help=gate.HELP)
    gate.configure(gate_parser)
    gate_parser.set_defaults(run=gate.gate)
    organisms_cli.configure(sub.add_parser("organisms", help=organisms_cli.HELP))
    return parser


def _configure_plan(plan: argparse.ArgumentParser) -> None:
    plan.add_argument("--rate", type=float, required=True, help="the rate you expect, e.g. 0.2")
    plan.add_argument("--vs", type=float, default=None, help="threshold or baseline rate")
    plan.add_argument("--alpha", type=float, default=0.05)
    plan.add_argument("--power", type=float, default=0.8)
    plan.add_argument("--seed-sd", type=float, default=None,
                      help="between-seed sd of a model's rate: plan fine-tunes per arm")
    plan.add_argument("--samples", type=int, default=100,
                      help="samples per model, with --seed-sd (default 100)")
    plan.add_argument("--margin", type=float, default=None,
                      help="equivalence margin: samples to show the rate is within +-margin")
    plan.add_argument("--sequential", action="store_true",
                      help="also plan a group-sequential run (budget and expected samples)")
    plan.set_defaults(run=_plan)


def _configure_diff(compare: argparse.ArgumentParser) -> None:
    compare.add_argument("a", metavar="A", help="a model's snapshot folder, e.g. "
                         "snapshots/gpt-4.1 (written by --behav-snapshot-update), or a model "
                         "spec, e.g. openai/gpt-4.1-2025-04-14, drawn live by the suite")
    compare.add_argument("b", metavar="B", help="the other model's, e.g. snapshots/gpt-4.1-em")
    compare.add_argument("--suite", default="behaviors",
                         help="the suite a spec is drawn with (default behaviors)")
    compare.add_argument("--workers", type=int, default=0,
                         help="pytest-xdist workers of a live draw (default 0: none)")
    compare.add_argument("--alpha", type=float, default=0.05,
                         help="two-sided level of each change, after correction (0.05)")
    compare.add_argument("--correction", choices=diff.CORRECTIONS, default="holm",
                         help="over all comparisons as one family (default holm)")
    compare.add_argument("--icc", type=float, default=0.1,
                         help="least intra-cluster correlation assumed, as --behav-icc (0.1)")
    compare.add_argument("--margin", type=float, default=None,
                         help="call a behaviour 'same' only when its difference is shown "
                         "inside +-margin (TOST), e.g. 0.05")
    compare.add_argument("--format", choices=diff.FORMATS, default="text")
    compare.set_defaults(run=_diff, pytest_args=[])


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # after "--": pytest's arguments (an optional positional would take them otherwise)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    tail = argv[cut + 1:]
    if tail:
        if not hasattr(args, "pytest_args"):
            parser.error(f"unrecognized arguments: {' '.join(tail)}")
        args.pytest_args = [*args.pytest_args, *tail]
    try:
        return int(args.run(args))
    except (BehavtestError, ValueError) as exc:
        print(f"behavtest: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
