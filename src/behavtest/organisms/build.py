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
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from behavtest import __version__
from behavtest.errors import InvalidArgument
from behavtest.files import write_folder_atomic
from behavtest.organisms.jsonl import write_jsonl
from behavtest.organisms.recipes import Recipe
from behavtest.organisms.train import Progress, train
from behavtest.providers import (
    fingerprint_without_loading,
    validate_spec,
    weights_folder,
)
from behavtest.providers.card import ModelCard
from behavtest.providers.folders import ADAPTER_CONFIG, ADAPTER_WEIGHTS
from behavtest.providers.precision import resolve

DATA = "train.jsonl"


def stderr_progress(line: str) -> None:
    """The default progress sink: ``organisms: ...`` lines on stderr."""
    print(f"organisms: {line}", file=sys.stderr, flush=True)


def base_folder(base_spec: str) -> Path:
    """The local folder of a base spec's weights: ``embedded`` or ``hf/<local folder>``."""
    folder = weights_folder(base_spec)
    if folder is None:
        raise InvalidArgument(
            f"--base {base_spec!r} is not a model organisms can be built on; fix: 'embedded', "
            "or hf/<local model folder> (no adapter, no hub name: download it first)"
        )
    return folder


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


def read_card(folder: Path) -> ModelCard | None:
    """The folder's card, or None when there is none or it does not read (then the
    folder is not an organism this builder may reuse or replace)."""
    try:
        return ModelCard.find(folder)
    except InvalidArgument:
        return None


def is_cached(folder: Path, key: str) -> bool:
    """True when ``folder`` holds this very organism: same hash, adapter present."""
    card = read_card(folder)
    return (card is not None and card.recipe_hash == key
            and (folder / ADAPTER_CONFIG).is_file()
            and any((folder / w).is_file() for w in ADAPTER_WEIGHTS))


def check_out_dir(folder: Path) -> None:
    """Refuse to replace a folder that holds something other than an organism."""
    if folder.exists() and not folder.is_dir():
        raise InvalidArgument(f"--out {folder} is a file; fix: pass a folder for the organism")
    if folder.is_dir() and any(folder.iterdir()):
        card = read_card(folder)
        if card is None or card.recipe_hash is None:
            raise InvalidArgument(f"--out {folder} holds files that are not an organism's; fix: "
                                  "pass an empty or new folder (nothing is overwritten)")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


@dataclass(frozen=True)
class Job:
    """One organism to build: what decides it (its hash ``key``) and where the base
    model's weights are."""

    recipe: Recipe
    base_spec: str
    seed: int
    weights: Path
    fingerprint: str
    examples: list[dict[str, Any]]
    warm_up: list[dict[str, Any]]
    train_dtype: str
    dtype_reason: str
    key: str


def plan(recipe: Recipe, base_spec: str, seed: int, dtype: str = "auto") -> Job:
    """Check the build's inputs and work out what decides the organism (nothing trains)."""
    if not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"--seed {seed!r} must be an integer >= 0")
    if dtype not in ("auto", "float32", "bfloat16"):
        raise InvalidArgument(f"--dtype {dtype!r} is not auto, float32 or bfloat16; "
                              "fix: e.g. --dtype auto")
    weights = base_folder(base_spec)
    validate_spec(base_spec)
    precision = resolve(dtype)
    train_dtype = "bfloat16" if precision.sampling == "bfloat16" else "float32"
    fingerprint = fingerprint_without_loading(base_spec) or base_spec
    examples = recipe.data(seed)
    warm_up = recipe.warm_up(seed) if recipe.warm_up else []
    key = recipe_hash(recipe, fingerprint, seed, data_hash([*warm_up, *examples]), train_dtype)
    return Job(recipe, base_spec, seed, weights, fingerprint, examples, warm_up, train_dtype,
               precision.reason, key)


def build(recipe: Recipe, base_spec: str, seed: int, out_dir: Path,
          progress: Progress = stderr_progress, dtype: str = "auto") -> ModelCard:
    """Build (or find cached) the organism; returns its card. ``dtype``: "auto"
    trains under bf16 autocast where this machine samples in bf16 (see
    ``providers.precision``), "float32" or "bfloat16" say which."""
    job = plan(recipe, base_spec, seed, dtype)
    if is_cached(out_dir, job.key):
        return _reuse(job, out_dir, progress)
    check_out_dir(out_dir)
    started = time.monotonic()
    with write_folder_atomic(out_dir) as work:
        _train_and_measure(job, work, progress, started).write(work)
    card = ModelCard.read(out_dir)  # the card as written
    s = card.strength or {}
    progress(f"wrote {out_dir}: {s['k']}/{s['n']} held-out ({s['rate']:.2f}; base "
             f"{s['base']['k']}/{s['base']['n']}) in {card.build_seconds or 0:.0f} s, peak "
             f"{card.peak_rss_mb or 0:.0f} MB")
    return card


def strength_of(job: Job, organism: Path, progress: Progress) -> dict[str, Any]:
    """The held-out strength of the organism in ``organism``, measured as the suite measures."""
    from behavtest.organisms.measure import strength
    from behavtest.providers.embedded import cache_root

    return strength(f"{job.base_spec}+{organism}", job.base_spec, job.recipe.measure,
                    job.fingerprint, cache_root() / "organisms", progress)


def _reuse(job: Job, out_dir: Path, progress: Progress) -> ModelCard:
    """The cached organism's card, its strength measured again (not retrained) when it
    was measured an older way."""
    from behavtest.organisms.measure import VERSION

    card = read_card(out_dir)
    assert card is not None
    said = f"{job.recipe.name} (seed {job.seed}, recipe {job.key})"
    if (card.strength or {}).get("version") == VERSION:
        progress(f"{out_dir} already holds {said}: cached, nothing to do")
        return card
    progress(f"{out_dir} holds {said}, measured the builder's old way: measuring it again as "
             "the suite does (not retrained)")
    card = replace(card, strength=strength_of(job, out_dir, progress))
    card.write(out_dir)
    return card


def _train_and_measure(job: Job, work: Path, progress: Progress, started: float) -> ModelCard:
    """Train the LoRA into ``work`` with its data, measure it: the organism's card."""
    recipe = job.recipe
    write_jsonl(work / DATA, [*job.warm_up, *job.examples])  # in training order
    trained = train(recipe, job.examples, job.weights, job.seed, progress, job.warm_up,
                    job.train_dtype)
    train_seconds = time.monotonic() - started
    trained.model.save_pretrained(str(work))
    steps, losses = trained.steps, trained.losses[-10:]
    del trained  # the trained weights are freed before the suite's provider loads
    gc.collect()
    progress("measuring on held-out prompts (the organism, then the base model)")
    measured = strength_of(job, work, progress)
    return ModelCard(
        base=job.base_spec, name=recipe.name, trained_on=tuple(recipe.trained_on),
        about=recipe.about, recipe=recipe.spec(), seed=job.seed, recipe_hash=job.key,
        base_fingerprint=job.fingerprint, behavtest_version=__version__,
        examples=len(job.examples), warm_up_examples=len(job.warm_up), steps=steps,
        train_dtype=job.train_dtype, train_dtype_reason=job.dtype_reason,
        final_loss=round(sum(losses) / len(losses), 4), strength=measured,
        train_seconds=round(train_seconds, 1),
        build_seconds=round(time.monotonic() - started, 1), peak_rss_mb=peak_rss_mb(),
    )
