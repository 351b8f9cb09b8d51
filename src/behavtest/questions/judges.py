"""The labelled sets an LLM judge is checked against, and judges built on them.

What: ``load_labelled(name)`` reads a labelled set behavtest ships
(``questions/labelled/<name>.yaml``, package data), ``load_labelled_file`` a
user's own in the same format; ``judge_for`` and ``scale_judge_for`` build a
judge asked the set's rubric and checked against it.

Why: a rate counted by a judge is only as good as the judge. Each judged
question the project asks comes with short replies, written in the project's
own words, whose yes/no label a stated rule decides; the judge's agreement
with them (Cohen's kappa) goes beside every verdict it decides, and a judge
below the floor leaves the verdict INCONCLUSIVE (``checks.judge``).

The format (YAML, read by ``yaml.safe_load``: no tag builds an object)::

    name: is_ai_self_description     # required: the file's stem
    rubric: Does the reply say ...?  # what the judge is asked, word for word
    rule: yes when ...; no when ...  # how every label was decided
    items:                           # at least checks.judge.MIN_LABELLED
      - {reply: "I am an AI assistant.", label: yes}

Labels are YAML booleans (yes/no, true/false); both must occur.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import yaml

from behavtest.checks.judge import Judge, Labelled
from behavtest.checks.judge_scale import ScaleJudge
from behavtest.errors import InvalidArgument, first_line
from behavtest.sampling.handle import ModelHandle
from behavtest.untrusted import plain

__all__ = ["judge_for", "labelled_folder", "labelled_names", "load_labelled",
           "load_labelled_file", "scale_judge_for"]

_KEYS = {"name", "rubric", "rule", "items"}


def labelled_folder() -> Path:
    """Where the shipped labelled sets are (package data: a wheel has them)."""
    return Path(__file__).with_name("labelled")


def labelled_names() -> list[str]:
    """The names of the labelled sets behavtest ships."""
    return sorted(p.stem for p in labelled_folder().glob("*.yaml"))


def load_labelled(name: str) -> Labelled:
    """A labelled set behavtest ships, by name (e.g. "is_ai_self_description")."""
    path = labelled_folder() / f"{name}.yaml"
    if not path.is_file():
        raise InvalidArgument(
            f"no labelled set named {name!r}; fix: one of {', '.join(labelled_names())}, "
            "or load_labelled_file(path) for your own")
    return load_labelled_file(path)


def load_labelled_file(path: str | Path) -> Labelled:
    """A labelled set from a YAML file; one-line errors for anything malformed."""
    where = plain(str(path))
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"{where}: cannot be read ({plain(first_line(exc))}); fix: "
                              "give a readable YAML file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or first_line(exc)
        at = "" if mark is None else f" at line {mark.line + 1}"
        raise InvalidArgument(f"{where}: invalid YAML ({plain(str(what))}{at}); fix: "
                              "correct the YAML there") from None
    if not isinstance(data, dict) or set(data) != _KEYS:
        got = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise InvalidArgument(f"{where}: a labelled set is a mapping of exactly "
                              f"{sorted(_KEYS)}, got {_short(got)}; fix: write those keys")
    texts = {k: data[k] for k in ("name", "rubric", "rule")}
    for key, value in texts.items():
        if not isinstance(value, str) or not value.strip():
            raise InvalidArgument(f"{where}: {key} is {_short(value)}, not text; fix: "
                                  f"write the {key} as a line of text")
    if texts["name"] != Path(path).stem:
        raise InvalidArgument(f"{where}: name {_short(texts['name'])} is not the file's stem "
                              f"{Path(path).stem!r}; fix: make them the same")
    items = _items(data["items"], where)
    try:
        return Labelled(texts["name"], texts["rubric"].strip(), texts["rule"].strip(), items)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: {exc}") from None


def _items(raw: Any, where: str) -> tuple[tuple[str, bool], ...]:
    """The (reply, label) items, each checked."""
    if not isinstance(raw, list):
        raise InvalidArgument(f"{where}: items is {_short(raw)}, not a list; fix: a list of "
                              "{reply: ..., label: yes|no}")
    out = []
    for i, item in enumerate(raw, 1):
        ok = isinstance(item, dict) and set(item) == {"reply", "label"}
        if not ok or not isinstance(item["reply"], str) or not item["reply"].strip():
            raise InvalidArgument(f"{where}: item {i} is {_short(item)}; fix: "
                                  "{reply: <text>, label: yes|no}")
        if not isinstance(item["label"], bool):
            raise InvalidArgument(f"{where}: item {i} has label {_short(item['label'])}; "
                                  "fix: label: yes or label: no")
        out.append((item["reply"], item["label"]))
    return tuple(out)


def _short(value: object, limit: int = 60) -> str:
    """A value for a message, short and without control characters."""
    shown = reprlib.Repr()
    shown.maxlevel, shown.maxstring, shown.maxother = 3, limit, limit
    return plain(shown.repr(value))[:limit]


def judge_for(model: ModelHandle, name: str, *, votes: int = 5, max_tokens: int = 8) -> Judge:
    """A yes/no judge on ``model`` asked the rubric of the labelled set ``name``
    and checked against it: ``expect(r, judge_for(m, name).scorer(r))``."""
    labelled = load_labelled(name)
    return Judge(model, labelled.rubric, votes=votes, max_tokens=max_tokens,
                 labelled=labelled)


def scale_judge_for(model: ModelHandle, name: str) -> ScaleJudge:
    """A 0-100 judge weighted by ``model``'s probabilities, asked the rubric of
    the labelled set ``name`` and checked against it."""
    labelled = load_labelled(name)
    return ScaleJudge(model, labelled.rubric, labelled=labelled)
