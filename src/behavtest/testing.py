"""Test doubles: a scripted provider with programmable reply rates.

For fast tests of the harness (statistics, plugin, reports) only. It is not a
model and nothing measured on it says anything about a model.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence

from behavtest.errors import InvalidArgument
from behavtest.providers.base import Completion, Messages, Provider, Request, apply_cut
from behavtest.providers.kind import ProviderConfig, ProviderKind


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
    """

    def __init__(
        self,
        replies: Mapping[str, float],
        *,
        by_prompt: Mapping[str, Mapping[str, float]] | None = None,
        choices: Mapping[str, float] | None = None,
        label: str = "double/scripted",
    ) -> None:
        self._tables = {"": self._check(replies)}
        for key, table in (by_prompt or {}).items():
            self._tables[key] = self._check(table)
        self._choices = dict(choices or {})
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
    def from_spec(cls, spec: str) -> ScriptedProvider:
        """``'yes=0.3,no=0.7'`` -> a double replying "yes" 30% of the time."""
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
            out.append(apply_cut(whole, r.settings))
        return out

    def continuation_logprobs(
        self, messages: Messages, continuations: Sequence[str]
    ) -> list[float]:
        return [math.log(self._choices.get(c, 1e-6)) for c in continuations]


class DoubleKind(ProviderKind):
    """``double/<reply>=<p>,...``: the scripted test double as a model spec."""

    prefix = "double"

    def validate(self, name: str, config: ProviderConfig) -> None:
        ScriptedProvider.from_spec(name)  # raises on a malformed spec

    def fingerprint(self, name: str, config: ProviderConfig) -> str | None:
        return f"double/{name}"

    def load(self, name: str, config: ProviderConfig) -> Provider:
        return ScriptedProvider.from_spec(name)
