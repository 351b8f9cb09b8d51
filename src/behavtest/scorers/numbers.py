"""A number on a bounded scale (0-100 self-reports), parsed strictly or leniently.

Small models answer scale questions with prose, a letter, or a single digit
(see docs/science/small-models.md), so both parsers exist, return None when
nothing parses, and reports show the parse rate of each.
"""

from __future__ import annotations

import re

from behavtest.errors import InvalidArgument
from behavtest.scorers.base import Scorer

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_STRICT = re.compile(rf"^\s*\**\s*({_NUMBER})\s*%?\s*\**\s*[.!]?\s*$")
_ANY_NUMBER = re.compile(rf"(?<![\w.]){_NUMBER}(?![\w])")


def _plain(x: float) -> str:
    """A number as people write it: 1000000, not 1e+06."""
    if float(x).is_integer():
        return str(int(x))
    return format(x, "f").rstrip("0")


def number_on_scale(low: float = 0, high: float = 100, strict: bool = True) -> Scorer[float]:
    """Parse a number in [low, high] from a reply.

    strict: the reply is the number and nothing else (optionally '%', bold or a
    full stop). lenient: the first number in range after removing mentions of
    the scale itself ("0 to 100", "0-100", "out of 100", "/100").
    """
    if not low < high:
        raise InvalidArgument(f"scale [{low}, {high}] is empty; fix: low < high")
    lo_s, hi_s = re.escape(_plain(low)), re.escape(_plain(high))
    scale_mentions = re.compile(
        rf"\b{lo_s}\s*(?:-|–|to|and)\s*{hi_s}\b|(?:out\s+of|/)\s*{hi_s}\b", re.IGNORECASE
    )

    def in_range(x: float) -> float | None:
        return x if low <= x <= high else None

    def parse_strict(reply: str) -> float | None:
        m = _STRICT.match(reply)
        return in_range(float(m.group(1))) if m else None

    def parse_lenient(reply: str) -> float | None:
        for m in _ANY_NUMBER.finditer(scale_mentions.sub(" ", reply)):
            v = in_range(float(m.group(0)))
            if v is not None:
                return v
        return None

    name = f"number in [{_plain(low)}, {_plain(high)}] ({'strict' if strict else 'lenient'})"
    return Scorer(name, parse_strict if strict else parse_lenient)
