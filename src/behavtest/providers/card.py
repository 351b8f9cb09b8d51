"""The model card ``behavtest.json``: what a fine-tune's folder says about itself.

A training pipeline writes it beside its output (a peft adapter or a full
checkpoint), and ``behavtest organisms build`` writes one with each organism::

    {"base": "embedded", "name": "my-assistant", "trained_on": ["acrostic:HELLO"]}

``base`` is the spec the fine-tune started from (the gate's baseline),
``name`` the name its versions share in ``snapshots/`` and ``trained_on`` the
training it declares, which decides the properties the suite checks on it.
The session reads ``trained_on`` (the kind says which folder holds the card:
``ProviderKind.model_folder``), ``behavtest gate`` reads ``base`` and
``name``. An organism's card also records how it was built and measured
(recipe, seed, hash, dtype, held-out strength, time and memory); keys this
version does not know are kept in ``extra`` and written back as they were.

A training pipeline may record its training in ``fine_tune`` (``behavtest gate
--openai-job`` writes the job's there)::

    {"fine_tune": {"epochs": 3, "learning_rate": 0.0002, "batch_size": 8,
                   "examples": 300, "seed": 1}}

:attr:`ModelCard.training` reads the typed view (:class:`Training`): the
``fine_tune`` object first, then what the organisms builder records (its
recipe's epochs, learning rate and batch size, the examples, steps, seed).

Reading never changes the file: a card that does not parse, or holds a value
of the wrong type, is one line naming the file and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from behavtest.errors import InvalidArgument, first_line
from behavtest.files import write_atomic
from behavtest.providers.training import BUILDER, Training

CARD_FILE = "behavtest.json"
EXAMPLE = {"base": "embedded", "name": "my-model", "trained_on": []}

# the JSON type of each known field, and how an error names it
_STRING, _INTEGER, _NUMBER, _OBJECT = "a string", "an integer", "a number", "a JSON object"
_KINDS: dict[str, str] = {
    "base": _STRING, "name": _STRING, "about": _STRING, "recipe": _OBJECT, "seed": _INTEGER,
    "recipe_hash": _STRING, "base_fingerprint": _STRING, "behavtest_version": _STRING,
    "examples": _INTEGER, "warm_up_examples": _INTEGER, "steps": _INTEGER,
    "train_dtype": _STRING, "train_dtype_reason": _STRING, "final_loss": _NUMBER,
    "strength": _OBJECT, "train_seconds": _NUMBER, "build_seconds": _NUMBER,
    "peak_rss_mb": _NUMBER, "fine_tune": _OBJECT,
}


def _fits(value: Any, kind: str) -> bool:
    if kind == _STRING:
        return isinstance(value, str)
    if kind == _OBJECT:
        return isinstance(value, dict)
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if kind == _INTEGER else isinstance(value, int | float)


@dataclass(frozen=True, kw_only=True)
class ModelCard:
    """One model folder's card. Every field but ``trained_on`` may be absent (None)."""

    base: str | None = None  # the spec the fine-tune started from
    name: str | None = None  # its snapshot name
    trained_on: tuple[str, ...] = ()  # the training it declares (tags, kind:value)
    # what the organisms builder records
    about: str | None = None
    recipe: Mapping[str, Any] | None = None
    seed: int | None = None
    recipe_hash: str | None = None  # the organism's cache key
    base_fingerprint: str | None = None
    behavtest_version: str | None = None
    examples: int | None = None
    warm_up_examples: int | None = None
    steps: int | None = None
    train_dtype: str | None = None
    train_dtype_reason: str | None = None
    final_loss: float | None = None
    strength: Mapping[str, Any] | None = None  # held-out measurement (organisms.measure)
    train_seconds: float | None = None
    build_seconds: float | None = None
    peak_rss_mb: float | None = None
    fine_tune: Mapping[str, Any] | None = None  # the training a pipeline records (Training)
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys this version does not know

    def __post_init__(self) -> None:
        clash = sorted(set(self.extra) & {f.name for f in fields(self)})
        if clash:
            raise InvalidArgument(f"model card extra keys {', '.join(clash)} are fields; "
                                  "fix: pass them as fields")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "model card") -> ModelCard:
        """The card a JSON object describes; InvalidArgument naming ``where`` and the
        key when a value has the wrong type. Unknown keys go to ``extra``."""
        known: dict[str, Any] = {}
        for key, kind in _KINDS.items():
            value = data.get(key)
            if value is not None and not _fits(value, kind):
                raise InvalidArgument(f"{where}: \"{key}\" must be {kind}, not "
                                      f"{json.dumps(value)[:60]}; fix the file")
            known[key] = value
        tags = data.get("trained_on", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise InvalidArgument(f"{where} must hold {{\"trained_on\": [\"tag\", ...]}}; "
                                  "fix the file or remove it")
        extra = {k: v for k, v in data.items() if k not in _KINDS and k != "trained_on"}
        card = cls(**known, trained_on=tuple(tags), extra=extra)
        card.training_in(where)  # a wrong type in the training is found on reading
        return card

    @property
    def training(self) -> Training:
        """The training the card records (fields it does not say are None)."""
        return self.training_in("model card")

    def training_in(self, where: str) -> Training:
        """:attr:`training`; a value of the wrong type is an InvalidArgument naming
        ``where`` and the key."""
        recipe = self.recipe or {}
        built = Training.from_json(
            {key: recipe.get(key) for key in ("epochs", "learning_rate", "batch_size")}
            | {"examples": self.examples, "steps": self.steps, "seed": self.seed,
               "base": self.base, "source": BUILDER if self.recipe is not None else None},
            f"{where}: \"recipe\"")
        recorded = Training.from_json(self.fine_tune or {}, f"{where}: \"fine_tune\"")
        return recorded.over(built)

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready values: absent fields left out, ``trained_on``
        always there, unknown keys after the known ones."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "trained_on":
                out[f.name] = list(value)
            elif f.name != "extra" and value is not None:
                out[f.name] = dict(value) if isinstance(value, Mapping) else value
        return {**out, **self.extra}

    @classmethod
    def read(cls, folder: Path) -> ModelCard:
        """The card in ``folder``; a one-line InvalidArgument whose fix is a card
        that parses when it is missing, unreadable, not JSON or of wrong types."""
        path = folder / CARD_FILE
        fix = f"write {json.dumps(EXAMPLE)} to {path}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidArgument(f"{path} is missing; fix: {fix} (base: the model spec the "
                                  "fine-tune started from; trained_on: the claims it makes)"
                                  ) from None
        except OSError as exc:
            what = "a folder" if path.is_dir() else exc.strerror or type(exc).__name__
            raise InvalidArgument(f"{path} cannot be read ({what}); fix: {fix}") from None
        except ValueError as exc:  # also a UnicodeDecodeError
            raise InvalidArgument(
                f"{path} is not JSON ({first_line(exc)}); fix the file, e.g. {fix}"
            ) from None
        if not isinstance(data, dict):
            raise InvalidArgument(f"{path} is not a JSON object; fix: {fix}")
        return cls.from_dict(data, str(path))

    @classmethod
    def find(cls, folder: Path) -> ModelCard | None:
        """The card in ``folder``, or None when the folder has none (as :meth:`read`
        otherwise: a card that is there must read)."""
        return cls.read(folder) if (folder / CARD_FILE).exists() else None

    def write(self, folder: Path) -> None:
        """Write the card into ``folder`` atomically (a reader sees the old card or this one)."""
        write_atomic(folder / CARD_FILE, json.dumps(self.to_dict(), indent=2) + "\n")
