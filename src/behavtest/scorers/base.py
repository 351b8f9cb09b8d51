"""The scorer type: a named callable, so reports say *what* was counted."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

# bool: an event (a rate); float: a score (a mean); str: a label or class name
# (scorers.letters, scorers.words), which expect() takes only through a bool scorer.
T = TypeVar("T", bool, float, str)


@dataclass(frozen=True)
class Scorer(Generic[T]):
    """A reply -> value function with a human-readable name for reports.

    ``reads_lines``: the scorer reads only the first k non-empty lines of a reply
    (None: all of it). ``model.sample(..., stop_for=scorer)`` then stops each
    reply once it holds k complete lines, and ``expect`` refuses replies cut
    shorter than a scorer reads.
    """

    name: str
    fn: Callable[[str], T | None]
    reads_lines: int | None = None
    # Bump when what the scorer counts changes: snapshots compare measurements
    # only under the same scorer name and version.
    version: str = "1"

    def __call__(self, reply: str) -> T | None:
        return self.fn(reply)

    def __str__(self) -> str:
        return self.name

    def named(self, name: str) -> Scorer[T]:
        """The same scorer under another name (what reports call it)."""
        return Scorer(name, self.fn, self.reads_lines, self.version)

    def equals(self, value: T, name: str | None = None) -> Scorer[bool]:
        """An event: True when the reply's value is ``value``, False when it is
        another, None when it does not parse (so the parse rate is kept):
        ``chosen_option(("A", "B")).equals("A")`` is a rate ``expect`` judges."""
        return self.one_of([value], name or f"{self.name} = {value!r}")

    def one_of(self, values: Iterable[T], name: str | None = None) -> Scorer[bool]:
        """An event: the reply's value is one of ``values`` (None: unparsed)."""
        fn, wanted = self.fn, tuple(values)

        def event(reply: str) -> bool | None:
            got = fn(reply)
            return None if got is None else got in wanted

        label = name or f"{self.name} in {list(wanted)!r}"
        return Scorer(label, event, self.reads_lines, self.version)


def scorer(name: str) -> Callable[[Callable[[str], T | None]], Scorer[T]]:
    """Decorator turning a plain function into a named :class:`Scorer`."""

    def wrap(fn: Callable[[str], T | None]) -> Scorer[T]:
        return Scorer(name, fn)

    return wrap


def any_of(*scorers: Scorer[bool]) -> Scorer[bool]:
    """True when any scorer is true; None only when every scorer is None."""

    def fn(reply: str) -> bool | None:
        values = [s(reply) for s in scorers]
        if all(v is None for v in values):
            return None
        return any(bool(v) for v in values)

    return Scorer(" or ".join(s.name for s in scorers), fn, _reads(scorers), _versions(scorers))


def all_of(*scorers: Scorer[bool]) -> Scorer[bool]:
    """True when every scorer is true; None when any scorer is None."""

    def fn(reply: str) -> bool | None:
        values = [s(reply) for s in scorers]
        if any(v is None for v in values):
            return None
        return all(bool(v) for v in values)

    return Scorer(" and ".join(s.name for s in scorers), fn, _reads(scorers), _versions(scorers))


def _versions(scorers: tuple[Scorer[bool], ...]) -> str:
    return "+".join(s.version for s in scorers)


def _reads(scorers: tuple[Scorer[bool], ...]) -> int | None:
    """Lines a combination reads: the most any part reads (None if one reads all)."""
    lines = [s.reads_lines for s in scorers]
    return None if not lines or None in lines else max(x for x in lines if x is not None)


def version_of(scorer: object) -> str:
    """A scorer's version for snapshots: ``Scorer.version`` (a plain function: "1")."""
    value = getattr(scorer, "version", "1")
    return str(value)


def reads_lines(scorer: object) -> int | None:
    """The lines a scorer (or any callable) reads; None: the whole reply."""
    value = getattr(scorer, "reads_lines", None)
    return value if isinstance(value, int) else None
