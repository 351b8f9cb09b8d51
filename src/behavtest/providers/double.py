"""Test doubles: a scripted provider with programmable reply rates.

For fast tests of the harness (statistics, plugin, reports) only. It is not a
model and nothing measured on it says anything about a model.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from behavtest.errors import InvalidArgument, first_line
from behavtest.providers.base import (
    Completion,
    Messages,
    Provider,
    Request,
    apply_cut,
    prefill_of,
)
from behavtest.providers.kind import ProviderConfig, ProviderKind


def script_label(path: str, content: bytes) -> str:
    """A scripted double's name and fingerprint: its path and a hash of its content."""
    return f"double/@{path}#{hashlib.sha256(content).hexdigest()[:12]}"


_OPTION_LINE = re.compile(r"^\(?(?P<label>[A-Za-z0-9])\) (?P<text>.+)$")


def _uniform(seed: int) -> float:
    """A deterministic U(0,1) draw from a request seed."""
    digest = hashlib.sha256(seed.to_bytes(16, "little", signed=False)).digest()
    return int.from_bytes(digest[:8], "little") / 2**64


class ScriptedProvider:
    """Replies drawn from fixed probabilities, reproducibly per request seed.

    ``replies`` maps reply text -> probability (they must sum to 1). A reply
    may depend on the prompt: ``by_prompt`` maps a substring of the last user
    message to its own reply table. ``choices`` maps continuation text ->
    probability for option scoring (unlisted continuations get 1e-6).

    ``options`` maps an option's *text* to a weight, for multiple-choice
    questions rendered in any order and label style: the label a question
    shows beside the option gets ``label_mass`` times the option's share of
    the weights of the options shown (so a preference for an option, not for
    a slot, whatever the order). ``options_when`` maps a substring of the last
    user message to weights that replace those it names for such prompts (first
    match wins): a behaviour a trigger switches on. Whole replies
    (``reply_logprobs``, used for scales) have the probability of the reply table.

    A prefilled conversation (one ending with an assistant message) gets a
    reply drawn from the same table as its continuation; its lines are
    counted after the prefill, as every provider counts them.
    """

    prefills = True  # continues an assistant message (see providers.base)

    def __init__(
        self,
        replies: Mapping[str, float],
        *,
        by_prompt: Mapping[str, Mapping[str, float]] | None = None,
        choices: Mapping[str, float] | None = None,
        options: Mapping[str, float] | None = None,
        options_when: Mapping[str, Mapping[str, float]] | None = None,
        label_mass: float = 0.9,
        label: str = "double/scripted",
    ) -> None:
        self._tables = {"": self._check(replies)}
        for key, table in (by_prompt or {}).items():
            self._tables[key] = self._check(table)
        self._choices = dict(choices or {})
        self._options = dict(options or {})
        self._options_when = {k: dict(v) for k, v in (options_when or {}).items()}
        if not 0 < label_mass <= 1:
            raise InvalidArgument(f"label_mass={label_mass} is outside (0, 1]")
        self._label_mass = label_mass
        self._label = label
        self.calls = 0  # completions drawn, for tests of caching

    @staticmethod
    def _check(table: Mapping[str, float]) -> list[tuple[str, float]]:
        items = list(table.items())
        total = sum(p for _, p in items)
        if not items or any(p < 0 for _, p in items) or not math.isclose(total, 1.0, abs_tol=1e-9):
            raise InvalidArgument(
                f"reply probabilities {dict(table)!r} must be >= 0 and sum to 1"
            )
        return items

    @classmethod
    def from_file(cls, path: str) -> ScriptedProvider:
        """A double scripted in a JSON file: the constructor's keyword arguments
        (``replies``, ``by_prompt``, ``choices``, ``options``, ``label_mass``)."""
        try:
            raw = Path(path).read_bytes()
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return cls(**{**data, "label": script_label(path, raw)})
        except (OSError, ValueError, TypeError) as exc:
            raise InvalidArgument(
                f"double script {path} is unusable ({first_line(exc)}); fix: a JSON object "
                "with \"replies\" (reply -> probability) and optionally \"by_prompt\", "
                "\"choices\", \"options\", \"options_when\", \"label_mass\""
            ) from None

    @classmethod
    def from_spec(cls, spec: str) -> ScriptedProvider:
        """``'yes=0.3,no=0.7'`` -> a double replying "yes" 30% of the time;
        ``'@script.json'`` -> :meth:`from_file`."""
        if spec.startswith("@"):
            return cls.from_file(spec[1:])
        table: dict[str, float] = {}
        for part in filter(None, spec.split(",")):
            text, eq, prob = part.rpartition("=")
            try:
                table[text] = float(prob)
            except ValueError:
                eq = ""
            if not eq or not text:
                raise InvalidArgument(
                    f"double spec {spec!r} is malformed; fix: reply=probability pairs, "
                    "e.g. double/yes=0.3,no=0.7"
                )
        return cls(table, label=f"double/{spec}")

    @property
    def name(self) -> str:
        return self._label

    def fingerprint(self) -> str:
        return self._label

    def _table(self, messages: Messages) -> list[tuple[str, float]]:
        last_user = next((c for r, c in reversed(messages) if r == "user"), "")
        for key, table in self._tables.items():
            if key and key in last_user:
                return table
        return self._tables[""]

    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        out = []
        for r in requests:
            self.calls += 1
            u, acc = _uniform(r.seed), 0.0
            table = self._table(r.messages)
            text = table[-1][0]
            for reply, p in table:
                acc += p
                if u < acc:
                    text = reply
                    break
            whole = Completion(text=text, tokens=len(text.split()), finish="stop")
            out.append(apply_cut(whole, r.settings, prefill_of(r.messages)))
        return out

    def continuation_logprobs(
        self, messages: Messages, continuations: Sequence[str]
    ) -> list[float]:
        weights = self._weights(messages)
        shown = self._shown_options(messages, weights)
        total = sum(weights.get(o, 0.0) for o in shown.values())
        out = []
        for c in continuations:
            option = shown.get(c)
            if option is not None and total > 0:
                p = self._label_mass * weights.get(option, 0.0) / total
            else:
                p = self._choices.get(c, 0.0)
            out.append(math.log(max(p, 1e-6)))
        return out

    def _weights(self, messages: Messages) -> dict[str, float]:
        """The option weights for this prompt (``options``, or ``options_when``'s)."""
        last_user = next((c for r, c in reversed(messages) if r == "user"), "")
        key = next((k for k in self._options_when if k in last_user), None)
        return self._options if key is None else {**self._options, **self._options_when[key]}

    def _shown_options(self, messages: Messages, weights: Mapping[str, float]) -> dict[str, str]:
        """label -> option text, for options of ``weights`` shown as "A) text",
        "1) text" or "(a) text" lines in the last user message."""
        if not weights:
            return {}
        last_user = next((c for r, c in reversed(messages) if r == "user"), "")
        shown = {}
        for line in last_user.splitlines():
            m = _OPTION_LINE.match(line)
            if m and m["text"] in weights:
                shown[m["label"]] = m["text"]
        return shown

    def reply_logprobs(self, messages: Messages, replies: Sequence[str]) -> list[float]:
        table = dict(self._table(messages))
        return [math.log(max(table.get(r, 0.0), 1e-12)) for r in replies]


class DoubleKind(ProviderKind):
    """``double/<reply>=<p>,...``: the scripted test double as a model spec."""

    prefix = "double"

    def validate(self, name: str, config: ProviderConfig) -> None:
        ScriptedProvider.from_spec(name)  # raises on a malformed spec

    def fingerprint(self, name: str, config: ProviderConfig) -> str | None:
        if name.startswith("@"):  # a script: its content, so an edit is a new model
            try:
                return script_label(name[1:], Path(name[1:]).read_bytes())
            except OSError:
                return None
        return f"double/{name}"

    def load(self, name: str, config: ProviderConfig) -> Provider:
        return ScriptedProvider.from_spec(name)
