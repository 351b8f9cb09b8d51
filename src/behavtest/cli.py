"""The ``behavtest`` command: planning sample sizes (``behavtest plan``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from behavtest import stats
from behavtest.errors import BehavtestError
from behavtest.settings import check_rate


def _plan(args: argparse.Namespace) -> int:
    rate = check_rate(args.rate, "--rate")
    vs = check_rate(args.vs, "--vs")
    if rate == vs:
        raise BehavtestError("--rate equals --vs: no sample size detects a zero difference")
    if not 0 < args.alpha < 0.5 or not 0 < args.power < 1:
        raise BehavtestError("--alpha must be in (0, 0.5) and --power in (0, 1)")
    one = stats.samples_for_rate(rate, vs, args.alpha, args.power)
    arm, exact = stats.samples_per_arm(rate, vs, args.alpha, args.power)
    how = "exact Fisher power" if exact else "arcsine-normal approximation"
    print(
        f"true rate {rate:g} vs {vs:g}, one-sided alpha {args.alpha:g}, power {args.power:g}:\n"
        f"  against a fixed threshold {vs:g} (rate_at_least/at_most): n = {one} samples "
        f"(exact binomial test)\n"
        f"  against a baseline model at {vs:g} (above/below): n = {arm} samples per model "
        f"({how})"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="behavtest", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="samples needed to detect a rate against another")
    plan.add_argument("--rate", type=float, required=True, help="the rate you expect, e.g. 0.2")
    plan.add_argument("--vs", type=float, required=True, help="threshold or baseline rate")
    plan.add_argument("--alpha", type=float, default=0.05)
    plan.add_argument("--power", type=float, default=0.8)
    args = parser.parse_args(argv)
    try:
        return _plan(args)
    except BehavtestError as exc:
        print(f"behavtest: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
