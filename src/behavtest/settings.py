"""Frozen settings objects: how to sample, and how to judge.

Sampling settings are explicit on purpose: transformers silently adds
``top_k=50`` to "temperature 1" sampling, so behavtest always states
temperature, top_p and top_k itself (pure sampling unless asked otherwise), and
every field here enters the cache key and the report.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from behavtest.errors import InvalidArgument
from behavtest.scorers.readings import MIN_MASS
from behavtest.stats.result import check_alpha

InconclusivePolicy = Literal["fail", "xfail"]
INCONCLUSIVE_POLICIES: tuple[str, ...] = ("fail", "xfail")


@dataclass(frozen=True)
class GenerationSettings:
    """How replies are drawn. ``temperature == 0`` means greedy decoding."""

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = no top-k truncation (transformers would default to 50)
    max_tokens: int = 128
    # Stop once the reply holds this many complete non-empty lines (0: never):
    # for scorers that read only the first lines (names_word(within_lines=k)).
    stop_after_lines: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= 5.0:
            raise InvalidArgument(
                f"temperature={self.temperature} is outside [0, 5]; fix: pass a value such as 1.0"
            )
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidArgument(f"top_p={self.top_p} is outside (0, 1]; fix: use 1.0 for none")
        if self.top_k < 0:
            raise InvalidArgument(f"top_k={self.top_k} is negative; fix: use 0 for no top-k")
        if self.max_tokens < 1:
            raise InvalidArgument(f"max_tokens={self.max_tokens} must be >= 1")
        if self.stop_after_lines < 0:
            raise InvalidArgument(
                f"stop_after_lines={self.stop_after_lines} is negative; fix: use 0 for no cut"
            )

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def as_dict(self) -> dict[str, Any]:
        """The settings as cache keys and reports hold them. A cut is left out when
        there is none, so keys made before cuts existed stay valid."""
        d = asdict(self)
        if not self.stop_after_lines:
            del d["stop_after_lines"]
        return d

    def uncut(self) -> GenerationSettings:
        """The same draw without the cut: a cut reply is a prefix of this one's."""
        return replace(self, stop_after_lines=0)

    def describe(self) -> str:
        cut = f" stop_after_lines={self.stop_after_lines}" if self.stop_after_lines else ""
        if self.greedy:
            return f"greedy, max_tokens={self.max_tokens}{cut}"
        return (
            f"temperature={self.temperature:g} top_p={self.top_p:g} "
            f"top_k={self.top_k or 'off'} max_tokens={self.max_tokens}{cut}"
        )


def has_line_break(text: str) -> bool:
    """Whether ``text`` holds a line break (any that ``str.splitlines`` knows)."""
    return "".join(text.splitlines()) != text


def _line_ends(text: str) -> list[int]:
    """Offsets just past the line break of each complete non-empty line."""
    ends, pos = [], 0
    for part in text.splitlines(keepends=True):
        pos += len(part)
        body = "".join(part.splitlines())
        if body != part and body.strip():
            ends.append(pos)
    return ends


def lines_complete(text: str, lines: int) -> bool:
    """Whether ``text`` already holds ``lines`` complete non-empty lines: a scorer
    that reads only the first ``lines`` lines (as ``scorers.split_units`` counts
    them: non-empty, stripped) can read no more from what would follow."""
    return len(_line_ends(text)) >= lines


def cut_after_lines(text: str, lines: int) -> str:
    """``text`` up to and including the line break that completes its non-empty line
    number ``lines``; all of it when it has fewer."""
    ends = _line_ends(text)
    return text[: ends[lines - 1]] if len(ends) >= lines else text


@dataclass(frozen=True)
class RunSettings:
    """How a run judges: sample budget, error rate, seed, what INCONCLUSIVE does."""

    samples: int = 100
    alpha: float = 0.05
    seed: int = 0
    inconclusive: InconclusivePolicy = "xfail"
    profile: str = "default"
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    sequential: bool = False  # rate checks stop early once decided (group-sequential)
    icc: float = 0.1  # least intra-cluster correlation assumed within a prompt's replies
    # The least probability mass a probability-based score may rest on
    # (scorers.readings: below it a check is INCONCLUSIVE).
    min_mass: float = MIN_MASS

    def __post_init__(self) -> None:
        check_samples(self.samples, "--behav-samples")
        check_alpha(self.alpha, "--behav-alpha")
        if not 0.0 <= self.min_mass <= 1.0:
            raise InvalidArgument(
                f"--behav-min-mass {self.min_mass} is outside [0, 1]; fix: a share such as "
                "0.5 (0 judges every score, however little of the answers it rests on)"
            )
        if not 0.0 <= self.icc <= 1.0:
            raise InvalidArgument(
                f"--behav-icc {self.icc} is outside [0, 1]; fix: use e.g. 0.1 (0 = none assumed)"
            )
        if self.inconclusive not in INCONCLUSIVE_POLICIES:
            raise InvalidArgument(
                f"--behav-inconclusive {self.inconclusive!r} is not one of "
                f"{', '.join(INCONCLUSIVE_POLICIES)}"
            )

    def with_(self, **changes: Any) -> RunSettings:
        return replace(self, **changes)


def check_samples(n: int, what: str = "n") -> int:
    """Refuse sample counts that cannot give a verdict (0, negative, not an int)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidArgument(f"{what}={n!r} must be a positive integer; fix: use e.g. 100")
    return n


def check_rate(value: float, what: str = "threshold") -> float:
    """Refuse rates outside [0, 1] (a threshold of 20 meant 0.2)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{what}={value!r} is not a number in [0, 1]") from None
    if not 0.0 <= v <= 1.0 or v != v:
        raise InvalidArgument(
            f"{what}={value!r} is outside [0, 1]; fix: give a rate such as 0.2 (not 20)"
        )
    return v


# Named profiles, as hypothesis does: ``ci`` is chosen automatically when the
# CI environment variable is set, and makes INCONCLUSIVE fail the gate.
PROFILES: dict[str, RunSettings] = {
    "default": RunSettings(profile="default", inconclusive="xfail"),
    "ci": RunSettings(profile="ci", inconclusive="fail"),
}


def default_profile_name(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return "ci" if env.get("CI", "").lower() not in ("", "0", "false", "no") else "default"
