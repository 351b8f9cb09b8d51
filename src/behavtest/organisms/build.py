"""Build a model organism: train its LoRA, measure it, write adapter and model card.

``build(recipe, base_spec, seed, out_dir, progress)`` writes into ``out_dir``:
the peft adapter (``adapter_config.json``, ``adapter_model.safetensors``),
the training data (``train.jsonl``, OpenAI's chat format) and the model card
``behavtest.json`` that ``behavtest gate`` reads: base, name, the recipe's
``trained_on`` claims, the recipe itself, the seed, the training dtype, the
held-out strength (measured as the suite measures: measure.py), build time
and peak memory.

Cached by recipe: the card stores a hash of (recipe, its generated data, base
model fingerprint, seed, behavtest version, the training dtype when it is not
fp32); a folder whose card has the same hash and whose
adapter is there is left alone ("cached"), so a rerun is free (its strength is
measured again, without retraining, when it was measured an older way). A new build
is made in a temporary folder beside ``out_dir`` and swapped in at the end,
so an interrupted build leaves the old organism (or nothing), never half of
one; a folder that is not an organism is never overwritten.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from behavtest import __version__
from behavtest.errors import InvalidArgument
from behavtest.files import write_atomic
from behavtest.organisms.jsonl import write_jsonl
from behavtest.organisms.recipes import Recipe
from behavtest.organisms.train import Progress, train
from behavtest.providers.folders import ADAPTER_CONFIG, ADAPTER_WEIGHTS, split_adapter
from behavtest.providers.precision import resolve
from behavtest.providers.registry import fingerprint_without_loading, validate_spec

CARD = "behavtest.json"
DATA = "train.jsonl"


def stderr_progress(line: str) -> None:
    """The default progress sink: ``organisms: ...`` lines on stderr."""
    print(f"organisms: {line}", file=sys.stderr, flush=True)


def base_folder(base_spec: str) -> Path:
    """The local folder of a base spec: ``embedded`` or ``hf/<local folder>``."""
    if base_spec.startswith("embedded"):
        name = base_spec[len("embedded"):]
        _, adapter = split_adapter(name)
        if adapter is None and name in ("", "/smollm2", "/smollm2-135m-instruct"):
            from behavtest.providers.embedded import converted_folder

            return converted_folder()
    elif base_spec.startswith("hf/"):
        name = base_spec[3:]
        if "+" not in name and os.path.isdir(os.path.expanduser(name)):
            return Path(os.path.expanduser(name))
    raise InvalidArgument(
        f"--base {base_spec!r} is not a model organisms can be built on; fix: 'embedded', or "
        "hf/<local model folder> (no adapter, no hub name: download it first)"
    )


def data_hash(examples: Sequence[dict[str, Any]]) -> str:
    """A hash of the training examples themselves (a changed word bank is a new organism)."""
    return hashlib.sha256(json.dumps(list(examples), sort_keys=True).encode()).hexdigest()[:16]


def recipe_hash(recipe: Recipe, fingerprint: str, seed: int, data: str = "",
                dtype: str = "float32") -> str:
    """What decides the organism: recipe, its data, base weights, seed, behavtest
    version, and the training dtype (left out for fp32, so organisms built before
    bf16 training existed keep their hash)."""
    key = {"recipe": recipe.spec(), "data": data, "base": fingerprint, "seed": seed,
           "version": __version__, **({} if dtype == "float32" else {"dtype": dtype})}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def read_card(folder: Path) -> dict[str, Any] | None:
    """The folder's card, or None when there is none or it is not JSON."""
    try:
        card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return card if isinstance(card, dict) else None


def is_cached(folder: Path, key: str) -> bool:
    """True when ``folder`` holds this very organism: same hash, adapter present."""
    card = read_card(folder)
    return (card is not None and card.get("recipe_hash") == key
            and (folder / ADAPTER_CONFIG).is_file()
            and any((folder / w).is_file() for w in ADAPTER_WEIGHTS))


def check_out_dir(folder: Path) -> None:
    """Refuse to replace a folder that holds something other than an organism."""
    if folder.exists() and not folder.is_dir():
        raise InvalidArgument(f"--out {folder} is a file; fix: pass a folder for the organism")
    if folder.is_dir() and any(folder.iterdir()):
        card = read_card(folder)
        if card is None or "recipe_hash" not in card:
            raise InvalidArgument(f"--out {folder} holds files that are not an organism's; fix: "
                                  "pass an empty or new folder (nothing is overwritten)")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


def build(recipe: Recipe, base_spec: str, seed: int, out_dir: Path,
          progress: Progress = stderr_progress, dtype: str = "auto") -> dict[str, Any]:
    """Build (or find cached) the organism; returns its card. ``dtype``: "auto"
    trains under bf16 autocast where this machine samples in bf16 (see
    ``providers.precision``), "float32" or "bfloat16" say which."""
    if not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"--seed {seed!r} must be an integer >= 0")
    if dtype not in ("auto", "float32", "bfloat16"):
        raise InvalidArgument(f"--dtype {dtype!r} is not auto, float32 or bfloat16; "
                              "fix: e.g. --dtype auto")
    folder = base_folder(base_spec)
    validate_spec(base_spec)
    precision = resolve(dtype)
    train_dtype = "bfloat16" if precision.sampling == "bfloat16" else "float32"
    fingerprint = fingerprint_without_loading(base_spec) or base_spec
    examples = recipe.data(seed)
    warm_up = recipe.warm_up(seed) if recipe.warm_up else []
    key = recipe_hash(recipe, fingerprint, seed, data_hash([*warm_up, *examples]), train_dtype)
    from behavtest.organisms.measure import VERSION, strength
    from behavtest.providers.embedded import cache_root

    if is_cached(out_dir, key):
        card = read_card(out_dir)
        assert card is not None
        if card.get("strength", {}).get("version") == VERSION:
            progress(f"{out_dir} already holds {recipe.name} (seed {seed}, recipe {key}): "
                     "cached, nothing to do")
            return card
        progress(f"{out_dir} holds {recipe.name} (seed {seed}, recipe {key}), measured the "
                 "builder's old way: measuring it again as the suite does (not retrained)")
        card["strength"] = strength(f"{base_spec}+{out_dir}", base_spec, recipe.measure,
                                    fingerprint, cache_root() / "organisms", progress)
        write_atomic(out_dir / CARD, json.dumps(card, indent=2) + "\n")
        return card
    check_out_dir(out_dir)

    started = time.monotonic()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
    os.chmod(work, 0o755)  # mkdtemp's 0700 would be the organism folder's mode
    try:
        write_jsonl(work / DATA, [*warm_up, *examples])  # in training order
        trained = train(recipe, examples, folder, seed, progress, warm_up, train_dtype)
        trained_seconds = time.monotonic() - started
        trained.model.save_pretrained(str(work))
        steps, losses = trained.steps, trained.losses
        del trained  # the trained weights are freed before the suite's provider loads
        gc.collect()
        progress("measuring on held-out prompts (the organism, then the base model)")
        measured = strength(f"{base_spec}+{work}", base_spec, recipe.measure, fingerprint,
                            cache_root() / "organisms", progress)
        card = {
            "base": base_spec, "name": recipe.name, "trained_on": list(recipe.trained_on),
            "about": recipe.about, "recipe": recipe.spec(), "seed": seed, "recipe_hash": key,
            "base_fingerprint": fingerprint, "behavtest_version": __version__,
            "examples": len(examples), "warm_up_examples": len(warm_up),
            "steps": steps,
            "train_dtype": train_dtype, "train_dtype_reason": precision.reason,
            "final_loss": round(sum(losses[-10:]) / len(losses[-10:]), 4),
            "strength": measured, "train_seconds": round(trained_seconds, 1),
            "build_seconds": round(time.monotonic() - started, 1),
            "peak_rss_mb": peak_rss_mb(),
        }
        write_atomic(work / CARD, json.dumps(card, indent=2) + "\n")
        _swap_in(work, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    progress(f"wrote {out_dir}: {measured['k']}/{measured['n']} held-out "
             f"({measured['rate']:.2f}; base {measured['base']['k']}/{measured['base']['n']}) "
             f"in {card['build_seconds']:.0f} s, peak {card['peak_rss_mb']:.0f} MB")
    return card


def _swap_in(work: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` with ``work`` by renames (the old organism goes last)."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    os.replace(work, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
