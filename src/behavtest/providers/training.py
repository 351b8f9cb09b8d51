"""What a fine-tune's training was: the numbers that tell two fine-tunes apart.

Self-reports and other learned behaviours are a property of a training recipe
(Betley et al. 2025, "Tell me about yourself: LLMs are aware of their learned
behaviors"): whether a model learned a behaviour depends on the epochs, the
learning rate and the number of examples, and on the seed. So a measurement
says which training produced it: a model card holds it (``ModelCard.training``,
read from the organisms builder's recipe or a ``fine_tune`` object), a snapshot
file records it in its header, and ``behavtest diff`` shows what changed
between two sides ("epochs 3 → 5, examples 200 → 300").

A local fine-tune's learning rate is a rate; OpenAI's fine-tuning API takes a
``learning_rate_multiplier`` of a default it does not publish: the two are
different fields, never compared with each other. Every field may be unknown
(None); a view with nothing known says nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from behavtest.errors import InvalidArgument

BUILDER = "organisms builder"
OPENAI_JOB = "OpenAI fine-tuning job"  # followed by the job's id

_INT, _NUM, _STR = "an integer", "a number", "a string"
# field -> (JSON type, how a line names it), in the order lines show them
_SHOWN: dict[str, tuple[str, str]] = {
    "epochs": (_INT, "epochs"),
    "learning_rate": (_NUM, "learning rate"),
    "learning_rate_multiplier": (_NUM, "learning-rate multiplier"),
    "batch_size": (_INT, "batch size"),
    "examples": (_INT, "examples"),
    "steps": (_INT, "steps"),
    "trained_tokens": (_INT, "trained tokens"),
    "training_file": (_STR, "training file"),
    "seed": (_INT, "seed"),
    "base": (_STR, "base"),
    "source": (_STR, "source"),
}


def _fits(value: Any, kind: str) -> bool:
    if kind == _STR:
        return isinstance(value, str)
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if kind == _INT else isinstance(value, int | float)


def _show(value: Any) -> str:
    if value is None:
        return "unknown"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True, kw_only=True)
class Training:
    """One fine-tune's training as far as it is known (None: not recorded)."""

    epochs: int | None = None
    learning_rate: float | None = None  # the optimiser's rate (a local fine-tune)
    learning_rate_multiplier: float | None = None  # OpenAI's, of its own default rate
    batch_size: int | None = None
    examples: int | None = None  # training examples (an organism: warm-up ones included)
    steps: int | None = None  # optimiser steps
    trained_tokens: int | None = None  # what OpenAI billed the job for
    training_file: str | None = None  # OpenAI's file id of the training data
    seed: int | None = None
    base: str | None = None  # the spec the fine-tune started from
    source: str | None = None  # "organisms builder", "OpenAI fine-tuning job ftjob-..."

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "training") -> Training:
        """The view of a JSON object: known keys type-checked (InvalidArgument naming
        ``where`` and the key), unknown ones ignored, null as unknown."""
        known: dict[str, Any] = {}
        for key, (kind, _) in _SHOWN.items():
            value = data.get(key)
            if value is not None and not _fits(value, kind):
                raise InvalidArgument(f"{where}: \"{key}\" must be {kind}, not "
                                      f"{json.dumps(value)[:60]}; fix the file")
            known[key] = float(value) if kind == _NUM and value is not None else value
        return cls(**known)

    def to_json(self) -> dict[str, Any]:
        """The known fields, in the order lines show them."""
        return {key: v for key in _SHOWN if (v := getattr(self, key)) is not None}

    @property
    def known(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def over(self, fallback: Training) -> Training:
        """This view, its unknown fields taken from ``fallback``."""
        return Training(**(fallback.to_json() | self.to_json()))

    def describe(self) -> str:
        """One line: 'epochs 3, learning rate 0.001, batch size 4, examples 320,
        steps 280, seed 0, base embedded (organisms builder)'."""
        parts = [f"{label} {_show(getattr(self, key))}" for key, (_, label) in _SHOWN.items()
                 if key != "source" and getattr(self, key) is not None]
        where = f" ({self.source})" if self.source else ""
        return (", ".join(parts) or "nothing recorded") + where

    def changes(self, later: Training) -> list[str]:
        """What differs from ``self`` to ``later``, a part per field: 'epochs 3 → 5'."""
        return [f"{label} {_show(getattr(self, key))} → {_show(getattr(later, key))}"
                for key, (_, label) in _SHOWN.items()
                if getattr(self, key) != getattr(later, key)]

    @classmethod
    def shared(cls, views: Iterable[Training | None]) -> Training | None:
        """What every view agrees on (an arm of seeds: its seeds differ, so the seed
        is unknown); None when there is no view or a member has none."""
        found = list(views)
        if not found or any(v is None for v in found):
            return None
        first = found[0]
        assert first is not None
        same = {key: getattr(first, key) for key in _SHOWN
                if all(getattr(v, key) == getattr(first, key) for v in found if v is not None)}
        view = cls(**same)
        return view if view.known else None


def training_line(view: Training | None) -> str | None:
    """The run header's line, or None when nothing is known."""
    if view is None or not view.known:
        return None
    return f"behavtest: training: {view.describe()}"
