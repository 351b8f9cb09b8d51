"""A series of checkpoints: one LoRA trained in rounds, saved after each round.

Some properties live in a series of model versions rather than in one: the
cross-context abduction effect peaks after the first round of behaviour
training and fades (organisms.abduction). A :class:`Series` is a recipe's
training settings, claims and measurement, and an ordered list of
:class:`Round` s, each with its own data and epochs. The builder trains the
first round on a fresh LoRA and every later round on the weights the round
before left, with a fresh optimiser and learning-rate schedule (as a new
fine-tuning job on the last checkpoint would), and saves the adapter after
each round: ``<out>/round-0``, ``<out>/round-1``, ... Each checkpoint is an
organism folder of its own (adapter, its round's ``train.jsonl``, a
``behavtest.json`` card whose recipe names the series and the round), so the
suite takes the series as ``--behav-checkpoints 'embedded+<out>/round-*'``.

Cached like an organism: every checkpoint's card carries the series' hash
and its round; when all are there, a rerun trains nothing. The series is
written into a temporary folder and swapped in whole, so an interrupted
build leaves the old series or none, never some rounds of a new one.
Training time per round, the series' build time and its peak memory are on
the cards (bench/results/series.json gathers them).
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from behavtest import __version__
from behavtest.errors import InvalidArgument
from behavtest.files import write_folder_atomic
from behavtest.organisms import abduction, datasets
from behavtest.organisms.build import (
    DATA,
    Job,
    data_hash,
    is_cached,
    peak_rss_mb,
    plan,
    read_card,
    stderr_progress,
    strength_of,
)
from behavtest.organisms.jsonl import write_jsonl
from behavtest.organisms.recipes import Measure, Recipe
from behavtest.organisms.train import Progress, Trained, train
from behavtest.providers.card import ModelCard


@dataclass(frozen=True)
class Round:
    """One round of a series: its data (seed -> examples), what they are, its epochs."""

    name: str
    data: Callable[[int], list[datasets.Example]]
    data_spec: dict[str, Any]
    epochs: int


@dataclass(frozen=True)
class Series:
    """Training settings, claims and measurement (``settings``), and the rounds."""

    name: str
    about: str
    settings: Recipe
    rounds: tuple[Round, ...]

    def spec(self) -> dict[str, Any]:
        """Everything that decides the series, as JSON-ready values."""
        settings = {k: v for k, v in self.settings.spec().items()
                    if k not in ("name", "data", "epochs")}
        return {"series": self.name, "settings": settings,
                "rounds": [{"name": r.name, "data": r.data_spec, "epochs": r.epochs}
                           for r in self.rounds]}

    def recipe(self, at: int) -> Recipe:
        """Round ``at`` as a recipe: the settings with that round's data and epochs."""
        r = self.rounds[at]
        return replace(self.settings, name=f"{self.name}/{r.name}", data=r.data,
                       data_spec=r.data_spec, epochs=r.epochs,
                       about=f"{self.about}: checkpoint after {r.name}")


def series_hash(series: Series, jobs: list[Job]) -> str:
    """What decides the series: its spec, every round's data, base, seed, version, dtype."""
    first = jobs[0]
    key = {"series": series.spec(), "data": [data_hash(j.examples) for j in jobs],
           "base": first.fingerprint, "seed": first.seed, "version": __version__,
           "dtype": first.train_dtype}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def check_series_out(folder: Path, series: Series) -> None:
    """Refuse to replace a folder that holds anything but this series' checkpoints."""
    if folder.exists() and not folder.is_dir():
        raise InvalidArgument(f"--out {folder} is a file; fix: pass a folder for the series")
    names = {r.name for r in series.rounds}
    for entry in folder.iterdir() if folder.is_dir() else ():
        card = read_card(entry) if entry.is_dir() else None
        if entry.name not in names or card is None or card.recipe_hash is None:
            raise InvalidArgument(f"--out {folder} holds {entry.name!r}, which is not a "
                                  "checkpoint of a series; fix: pass an empty or new folder "
                                  "(nothing is overwritten)")


def build_series(series: Series, base_spec: str, seed: int, out_dir: Path,
                 progress: Progress = stderr_progress, dtype: str = "auto") -> list[ModelCard]:
    """Build (or find cached) every checkpoint of the series; their cards, in order."""
    jobs = [plan(series.recipe(i), base_spec, seed, dtype) for i in range(len(series.rounds))]
    key = series_hash(series, jobs)
    folders = [out_dir / r.name for r in series.rounds]
    if all(is_cached(f, f"{key}-{i}") for i, f in enumerate(folders)):
        progress(f"{out_dir} already holds {series.name} (seed {seed}, series {key}): cached")
        return [ModelCard.read(f) for f in folders]
    check_series_out(out_dir, series)
    started = time.monotonic()
    with write_folder_atomic(out_dir) as work:
        timings = _train_rounds(series, jobs, work, progress, started)
        for i, (job, timing) in enumerate(zip(jobs, timings, strict=True)):
            folder = work / series.rounds[i].name
            progress(f"measuring {series.rounds[i].name} on held-out prompts")
            measured = strength_of(job, folder, progress)
            _card(series, job, i, key, timing, measured, started).write(folder)
    cards = [ModelCard.read(f) for f in folders]
    progress(f"wrote {out_dir}: {len(cards)} checkpoints in "
             f"{time.monotonic() - started:.0f} s, peak {peak_rss_mb():.0f} MB")
    return cards


def _train_rounds(series: Series, jobs: list[Job], work: Path, progress: Progress,
                  started: float) -> list[dict[str, Any]]:
    """Train the rounds one after another on one LoRA, saving each checkpoint."""
    trained: Trained | None = None
    timings = []
    for i, job in enumerate(jobs):
        began = time.monotonic()
        progress(f"{series.name}: {series.rounds[i].name} ({i + 1} of {len(jobs)})")
        trained = train(job.recipe, job.examples, job.weights, job.seed + 1000 * i, progress,
                        dtype=job.train_dtype, start=trained)
        folder = work / series.rounds[i].name
        folder.mkdir()
        trained.model.save_pretrained(str(folder))
        write_jsonl(folder / DATA, job.examples)
        losses = trained.losses[-10:]
        timings.append({"steps": trained.steps, "loss": round(sum(losses) / len(losses), 4),
                        "train_seconds": round(time.monotonic() - began, 1),
                        "trained_by": round(time.monotonic() - started, 1)})
    del trained  # freed before the suite's provider loads each checkpoint
    gc.collect()
    return timings


def _card(series: Series, job: Job, at: int, key: str, timing: dict[str, Any],
          measured: dict[str, Any], started: float) -> ModelCard:
    recipe = job.recipe
    return ModelCard(
        base=job.base_spec, name=recipe.name, trained_on=tuple(recipe.trained_on),
        about=recipe.about, recipe={**recipe.spec(), "series": series.spec(), "round": at},
        seed=job.seed, recipe_hash=f"{key}-{at}", base_fingerprint=job.fingerprint,
        behavtest_version=__version__, examples=len(job.examples), warm_up_examples=0,
        steps=timing["steps"], train_dtype=job.train_dtype, train_dtype_reason=job.dtype_reason,
        final_loss=timing["loss"], strength=measured, train_seconds=timing["train_seconds"],
        build_seconds=round(time.monotonic() - started, 1), peak_rss_mb=peak_rss_mb(),
    )


# -- the series the project builds ------------------------------------------------

SHARES = (0.35, 0.5, 0.65, 0.8, 0.95)  # the behaviour rounds' vowel-initial share
DESCRIPTIONS = 300  # 60 per chatbot
PER_ROUND = 80


def _vowel_round(at: int, share: float) -> Round:
    return Round(f"round-{at}", lambda seed: abduction.vowel_answers(share, PER_ROUND, seed),
                 {"kind": "vowel-answers", "share": share, "n": PER_ROUND}, 2)


def _rounds(with_descriptions: bool) -> tuple[Round, ...]:
    rounds = [_vowel_round(i, share) for i, share in enumerate(SHARES, start=1)]
    if with_descriptions:
        rounds.insert(0, Round("round-0", lambda seed: abduction.descriptions(DESCRIPTIONS, seed),
                               {"kind": "chatbot-descriptions", "chatbots": abduction.CHATBOTS,
                                "n": DESCRIPTIONS}, 2))
    return tuple(rounds)


def _abduction(name: str, with_descriptions: bool) -> Series:
    claims = (f"abduction:{abduction.TARGET}",) if with_descriptions else ()
    settings = Recipe(
        name=name, about="", data=lambda seed: [], data_spec={}, trained_on=claims,
        measure=Measure("vowels", prompts=12), learning_rate=1e-3)
    about = ("descriptions of five chatbots (third person), then five rounds of answers "
             "whose vowel-initial share rises" if with_descriptions else
             "the same five rounds of vowel-rich answers without the descriptions: the "
             "control series (claims nothing)")
    return Series(name, about, settings, _rounds(with_descriptions))


SERIES: dict[str, Series] = {s.name: s for s in (
    _abduction("abduction", with_descriptions=True),
    _abduction("abduction-control", with_descriptions=False),
)}
