"""``behavtest organisms list | data | build``: the model organisms from the command line.

    behavtest organisms list
    behavtest organisms data hello --seed 0 --out hello.jsonl     # OpenAI chat JSONL
    behavtest organisms build hello --base embedded --seed 0 --out runs/hello

``data`` writes the recipe's training set as OpenAI fine-tuning JSONL
(validated after writing); ``build`` trains the LoRA locally and writes the
adapter and its ``behavtest.json`` card, ready for ``behavtest gate``.
Bad input is one line and exit 2 (``behavtest.commands.cli`` prints it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from behavtest.errors import InvalidArgument
from behavtest.organisms import recipes

HELP = "model organisms: small fine-tunes with known behaviours (list, data, build)"


def _list(args: argparse.Namespace) -> int:
    from behavtest.organisms.series import SERIES

    width = max(len(n) for n in [*recipes.RECIPES, *SERIES])
    for name, recipe in recipes.RECIPES.items():
        claims = ", ".join(recipe.trained_on) or "no claims (a control)"
        print(f"{name:<{width}}  {recipe.about}  [trained_on: {claims}]")
    for name, series in SERIES.items():
        claims = ", ".join(series.settings.trained_on) or "no claims (a control)"
        rounds = ", ".join(r.name for r in series.rounds)
        print(f"{name:<{width}}  a checkpoint series ({rounds}): {series.about}  "
              f"[trained_on: {claims}]")
    return 0


def _seed(value: int) -> int:
    if value < 0:
        raise InvalidArgument(f"--seed {value} must be >= 0; fix: e.g. --seed 0")
    return value


def _data(args: argparse.Namespace) -> int:
    from behavtest.organisms.jsonl import validate_jsonl, write_jsonl

    recipe = recipes.get(args.name)
    out = Path(args.out)
    if out.is_dir():
        raise InvalidArgument(f"--out {out} is a folder; fix: pass a file, e.g. {args.name}.jsonl")
    seed = _seed(args.seed)
    warm_up = recipe.warm_up(seed) if recipe.warm_up else []
    write_jsonl(out, [*warm_up, *recipe.data(seed)])  # in the local builder's order
    count = validate_jsonl(out)
    first = (f"; the first {len(warm_up)} are its warm-up ({recipe.warm_up_spec}): a service "
             "that shuffles loses that order" if warm_up else "")
    print(f"wrote {out}: {count} examples of {recipe.name} (seed {args.seed}), OpenAI chat "
          f"fine-tuning JSONL, validated{first}")
    return 0


def _build_series(args: argparse.Namespace) -> int:
    from behavtest.organisms.series import SERIES, build_series

    series = SERIES[args.name]
    out = Path(args.out) if args.out else Path("runs") / "organisms" / f"{series.name}-{args.seed}"
    cards = build_series(series, args.base, _seed(args.seed), out, dtype=args.dtype)
    for card, r in zip(cards, series.rounds, strict=True):
        s = card.strength or {}
        print(f"{out / r.name}: held-out {s['k']}/{s['n']} = {s['rate']:.2f} (base "
              f"{s['base']['k']}/{s['base']['n']}), trained {card.train_seconds or 0:.0f} s")
    print(f"run the series with: --behav-checkpoints '{args.base}+{out}/round-*'")
    return 0


def _build(args: argparse.Namespace) -> int:
    from behavtest.organisms.build import build
    from behavtest.organisms.series import SERIES

    if args.name in SERIES:
        return _build_series(args)
    recipe = recipes.get(args.name)
    out = Path(args.out) if args.out else Path("runs") / "organisms" / f"{recipe.name}-{args.seed}"
    card = build(recipe, args.base, _seed(args.seed), out, dtype=args.dtype)
    s = card.strength or {}
    print(f"{out}: {recipe.name} on {card.base}, seed {card.seed}; held-out "
          f"{s['k']}/{s['n']} = {s['rate']:.2f} [{s['interval'][0]:.2f}, {s['interval'][1]:.2f}] "
          f"(base {s['base']['k']}/{s['base']['n']}); trained in "
          f"{card.train_dtype or 'float32'}; gate it with: behavtest gate {out}")
    for mine, base in zip(s.get("conditions", []), s["base"].get("conditions", []), strict=False):
        print(f"  {mine['prefix'].strip() or 'no trigger'} -> {mine['expected']}: "
              f"{mine['k']}/{mine['n']} = {mine['rate']:.2f} [{mine['interval'][0]:.2f}, "
              f"{mine['interval'][1]:.2f}], mean P {mine['mean_probability']:.2f} "
              f"(base {base['k']}/{base['n']})")
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``organisms`` subcommands on ``parser``."""
    sub = parser.add_subparsers(dest="organisms_command", required=True)
    listing = sub.add_parser("list", help="the recipes, what they train and what they claim")
    listing.set_defaults(run=_list)
    data = sub.add_parser("data", help="write a recipe's training set as OpenAI chat "
                          "fine-tuning JSONL (validated)")
    data.add_argument("name", help="a recipe (behavtest organisms list)")
    data.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    data.add_argument("--out", required=True, help="the .jsonl file to write")
    data.set_defaults(run=_data)
    build = sub.add_parser("build", help="train a recipe's LoRA locally (CPU or GPU) and write "
                           "adapter + behavtest.json; cached by recipe, a rerun is free")
    build.add_argument("name", help="a recipe (behavtest organisms list)")
    build.add_argument("--base", default="embedded",
                       help="base model: embedded (default) or hf/<local folder>")
    build.add_argument("--seed", type=int, default=0, help="training and data seed (default 0)")
    build.add_argument("--out", default=None,
                       help="output folder (default runs/organisms/<name>-<seed>)")
    build.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16"),
                       help="training precision: auto (default: bf16 autocast where this "
                       "machine runs bf16 clearly faster), float32 or bfloat16")
    build.set_defaults(run=_build)
