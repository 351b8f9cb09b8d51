"""Scored data as the tests see it: one model's values, grouped by prompt.

Why a separate shape: which test is right depends on how the data were
drawn (one prompt or several, the same prompts as the baseline or not, one
model or an arm of them), so ``expect`` first turns replies into
:class:`Scored` and ``selection`` picks the test from its shape.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from behavtest.errors import InvalidArgument
from behavtest.providers.base import Messages
from behavtest.sampling.handle import Samples
from behavtest.scorers.readings import Readings
from behavtest.verdict import Evidence


@dataclass(frozen=True)
class Scored:
    """One model's scored replies, grouped by prompt (cluster).

    Binary scores count unparseable replies in n but not in k: they are not
    evidence of the behaviour, and the parse rate is reported. Numeric scores
    drop unparseable replies from the mean (there is no value to average) and
    report the parse rate too.
    """

    model: str
    binary: bool
    clusters: tuple[tuple[float, ...], ...]
    n: int
    parsed: int
    prompts: tuple[Messages, ...] | None = None
    samples: Samples | None = None  # what was scored (None: plain values)
    unit: str = "prompts"  # what a cluster is: "models" for an arm's readings

    @property
    def k(self) -> int:
        return int(round(sum(sum(c) for c in self.clusters)))

    @property
    def values(self) -> list[float]:
        return [v for c in self.clusters for v in c]

    @property
    def mean(self) -> float:
        if self.binary:
            return self.k / self.n
        vals = self.values
        return sum(vals) / len(vals) if vals else float("nan")

    @property
    def cluster_means(self) -> list[float]:
        return [sum(c) / len(c) for c in self.clusters if c]

    @property
    def cluster_counts(self) -> tuple[list[int], list[int]]:
        """Per-prompt successes and sizes (rates)."""
        return [int(round(sum(c))) for c in self.clusters], [len(c) for c in self.clusters]

    @property
    def per_prompt(self) -> int:
        return self.n // max(1, len(self.clusters))


def score_samples(samples: Samples, scorer: Callable[[str], Any]) -> Scored:
    """Score every reply; a bool scorer gives a rate, a numeric one a mean."""
    raw = samples.score(scorer)
    parsed = [v for v in raw if v is not None]
    binary = all(isinstance(v, bool) for v in parsed)
    if not binary and not all(isinstance(v, (int, float)) for v in parsed):
        raise InvalidArgument(
            f"scorer {getattr(scorer, 'name', scorer)!r} returned non-numbers; fix: a scorer "
            "must return bool (a rate) or a number (a mean score)"
        )
    clusters: list[list[float]] = [[] for _ in samples.prompts]
    for reply, v in zip(samples.replies, raw, strict=True):
        if v is None:
            if binary:
                clusters[reply.prompt].append(0.0)
        else:
            clusters[reply.prompt].append(float(v))
    return Scored(
        samples.model,
        binary,
        tuple(tuple(c) for c in clusters),
        len(raw),
        len(parsed),
        samples.prompts,
        samples,
    )


def score_values(values: Sequence[float], name: str) -> Scored:
    """Plain numbers (e.g. option probabilities, one per question): each is a unit."""
    vals = [float(v) for v in values]
    if any(math.isnan(v) for v in vals):
        raise InvalidArgument(f"{name} contains NaN; fix: drop or score those values")
    binary = bool(vals) and all(isinstance(v, bool) for v in values)
    return Scored(name, binary, tuple((v,) for v in vals), len(vals), len(vals))


def score_readings(readings: Readings) -> Scored:
    """Probability-based readings: each is a unit, labelled by its question, so a
    model and a baseline read on the same questions are compared pairwise."""
    vals = score_values(readings.values, readings.what).clusters
    prompts = tuple(((("user", r.prompt),)) for r in readings.readings)
    return Scored(readings.model, False, vals, len(vals), len(vals), prompts=prompts,
                  unit=readings.unit)


EXAMPLES = 3  # replies a verdict keeps, for snapshots and reports


def prompts_hash(prompts: tuple[Messages, ...]) -> str:
    """A short hash of a prompt set: two measurements are comparable only on the same."""
    blob = json.dumps([list(map(list, p)) for p in prompts], separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def evidence(unit: Scored, group: tuple[Scored, ...] | None, scorer: object) -> Evidence:
    """The data a check judged, as a verdict carries it (see ``verdict.Evidence``)."""
    from behavtest.scorers.base import version_of

    s = unit.samples if group is None else group[0].samples
    prompts = s.prompts if s is not None else unit.prompts
    members = None
    if group is not None and len(group) > 1:
        members = tuple((u.model, u.clusters) for u in group)
    return Evidence(
        binary=unit.binary,
        clusters=unit.clusters,
        members=members,
        prompts=None if prompts is None else prompts_hash(prompts),
        settings=None if s is None else tuple(sorted(s.settings.as_dict().items())),
        seed=None if s is None else s.seed,
        fingerprint=None if s is None or group is not None else s.fingerprint,
        scorer_version=None if scorer is None else version_of(scorer),
        examples=() if s is None else tuple(r.text for r in s.replies[:EXAMPLES]),
    )