"""The training a snapshot file records: which fine-tune produced its measurements.

When the model under test has a card (``providers.card.ModelCard``: the
organisms builder's, a training pipeline's, or the one ``behavtest gate
--openai-job`` writes), an update writes the model's training into each
file's header, beside the model's name::

    {"behavtest_snapshot": 1, "model": "my-assistant",
     "training": {"epochs": 3, "learning_rate": 0.001, "examples": 320, ...},
     "entries": {...}}

It is the training of the model that last updated the file. A file written
before training was recorded, or for a model without a card, has no
``training``: it reads as before and nothing is said about it. A
``training`` that is not an object of the right types is one line naming the
file, as any bad snapshot file is.
"""

from __future__ import annotations

import json
from pathlib import Path

from behavtest.errors import InvalidArgument
from behavtest.providers.training import Training
from behavtest.snapshots.store import SUFFIX, SnapshotError

KEY = "training"


def read_training(path: Path) -> Training | None:
    """The training one snapshot file records (None: none recorded); a one-line
    SnapshotError when it is not an object of the right types. The rest of the
    file is ``store.read_file``'s to check."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # read_file names what is wrong with the file
    found = raw.get(KEY) if isinstance(raw, dict) else None
    if found is None:
        return None
    fix = (f"fix: restore it (git checkout -- {path}) or delete its \"{KEY}\" and rerun "
           "with --behav-snapshot-update")
    if not isinstance(found, dict):
        raise SnapshotError(f"{path}: \"{KEY}\" is not a JSON object; {fix}")
    try:
        view = Training.from_json(found, f"{path}: \"{KEY}\"")
    except InvalidArgument as exc:
        raise SnapshotError(f"{str(exc).removesuffix('; fix the file')}; {fix}") from None
    return view if view.known else None


def folder_training(folder: Path) -> Training | None:
    """The training a model's snapshot folder records: what every file that records
    one agrees on (files updated by different versions may differ); None when no
    file records one."""
    views = [v for path in sorted(folder.glob("*" + SUFFIX))
             if (v := read_training(path)) is not None] if folder.is_dir() else []
    return Training.shared(views)


def training_note(stored: Training | None, now: Training | None) -> str | None:
    """'trained differently from the snapshot: epochs 3 → 5, examples 200 → 300',
    or None when either side records nothing or they agree."""
    if stored is None or now is None:
        return None
    changes = stored.changes(now)
    if not changes:
        return None
    return f"trained differently from the snapshot: {', '.join(changes)}"
