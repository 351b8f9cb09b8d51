"""The run: model handles, every verdict of the suite, and the report.

Plain library code; the pytest plugin only drives it. Under xdist each
worker has its own Session; verdicts travel to the controller inside test
reports (``user_properties``) and worker statistics through
``workeroutput``, and the controller's Session renders the summary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from behavtest.cache import CACHE_MODES, CacheMode, SampleCache
from behavtest.errors import InvalidArgument
from behavtest.handle import HandleStats, ModelHandle
from behavtest.models.base import Provider
from behavtest.models.hf import HFOptions, looks_like_path
from behavtest.models.registry import (
    fingerprint_without_loading,
    load_provider,
    split_spec,
    validate_spec,
)
from behavtest.settings import RunSettings
from behavtest.verdict import Outcome, Verdict

MODEL_CARD = "behavtest.json"


def read_model_card(spec: str) -> list[str]:
    """Training tags declared in ``<model folder>/behavtest.json`` ({"trained_on": [...]})."""
    prefix, rest = split_spec(spec)
    if prefix != "hf" or not looks_like_path(rest):
        return []
    card = Path(os.path.expanduser(rest)) / MODEL_CARD
    if not card.is_file():
        return []
    try:
        data = json.loads(card.read_text())
        tags = data.get("trained_on", [])
    except (ValueError, AttributeError):
        tags = None
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidArgument(
            f"{card} must hold {{\"trained_on\": [\"tag\", ...]}}; fix the file or remove it"
        )
    return tags


@dataclass
class Record:
    """One verdict of one test, as the summary shows it."""

    nodeid: str
    verdict: Verdict


@dataclass
class Session:
    run: RunSettings
    model_spec: str
    baseline_spec: str | None
    trained_on: frozenset[str]
    cache_path: Path | None
    cache_mode: CacheMode = "use"
    hf_options: HFOptions = field(default_factory=HFOptions)
    records: list[Record] = field(default_factory=list)
    on_progress: Callable[[int, int, str], None] | None = None
    worker_stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    _handles: dict[str, ModelHandle] = field(default_factory=dict)
    _cache: SampleCache | None = None

    @classmethod
    def create(
        cls,
        run: RunSettings,
        model_spec: str,
        baseline_spec: str | None,
        trained_on: list[str],
        cache_path: Path | None,
        cache_mode: CacheMode,
        hf_options: HFOptions,
    ) -> Session:
        """Validate specs (without loading anything) and build the session."""
        if cache_mode not in CACHE_MODES:
            raise InvalidArgument(
                f"behav_cache {cache_mode!r} is not one of {', '.join(CACHE_MODES)}"
            )
        validate_spec(model_spec)
        if baseline_spec:
            validate_spec(baseline_spec)
        tags = frozenset([*trained_on, *read_model_card(model_spec)])
        return cls(run, model_spec, baseline_spec, tags, cache_path, cache_mode, hf_options)

    @property
    def cache(self) -> SampleCache:
        if self._cache is None:
            self._cache = SampleCache(self.cache_path, self.cache_mode)
        return self._cache

    def handle(self, spec: str) -> ModelHandle:
        """The (lazily loaded) model handle for a spec; one per spec per process."""
        if spec not in self._handles:
            opts = self.hf_options

            def factory(spec: str = spec) -> Provider:
                return load_provider(spec, opts)

            def quick(spec: str = spec) -> str | None:
                return fingerprint_without_loading(spec)

            self._handles[spec] = ModelHandle(
                spec,
                factory,
                self.run,
                self.cache,
                on_progress=self.on_progress,
                quick_fingerprint=quick,
            )
        return self._handles[spec]

    # -- conditional properties ---------------------------------------------
    def applies(self, trained_for: list[str], control_for: list[str]) -> str | None:
        """None if a test applies to the model under test, else the reason it does not."""
        missing = [t for t in trained_for if t not in self.trained_on]
        if missing:
            return (
                f"not applicable: {self.model_spec} declares no training for "
                f"{', '.join(missing)} (declare with --trained-on or {MODEL_CARD})"
            )
        trained = [t for t in control_for if t in self.trained_on]
        if trained:
            return (
                f"not applicable: control for models not trained on {', '.join(trained)}, "
                f"and {self.model_spec} is"
            )
        return None

    # -- results ---------------------------------------------------------------
    def add(self, nodeid: str, verdict: Verdict) -> None:
        self.records.append(Record(nodeid, verdict))

    def local_stats(self) -> dict[str, Any]:
        total = HandleStats()
        for h in self._handles.values():
            for k, v in asdict(h.stats).items():
                setattr(total, k, getattr(total, k) + v)
        out = asdict(total)
        out["cache_hits"] = self.cache.hits if self._cache else 0
        return out

    def merge_worker(self, worker: str, stats: dict[str, Any]) -> None:
        self.worker_stats[worker] = stats

    def totals(self) -> dict[str, Any]:
        stats = list(self.worker_stats.values()) or [self.local_stats()]
        keys = set().union(*stats)
        return {k: sum(s.get(k, 0) for s in stats) for k in keys}

    def counts(self) -> dict[Outcome, int]:
        """Verdicts of the properties themselves (preconditions are counted apart)."""
        c = {o: 0 for o in Outcome}
        for r in self.records:
            if not r.verdict.is_precondition:
                c[r.verdict.outcome] += 1
        return c

    def preconditions_not_met(self) -> int:
        return sum(1 for r in self.records if r.verdict.is_precondition and not r.verdict.passed)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    def header(self) -> list[str]:
        r = self.run
        tags = ", ".join(sorted(self.trained_on)) or "nothing declared"
        return [
            f"behavtest: model={self.model_spec} (trained on: {tags}) "
            f"baseline={self.baseline_spec or 'none'}",
            f"behavtest: seed={r.seed} samples={r.samples} alpha={r.alpha:g} "
            f"profile={r.profile} (INCONCLUSIVE -> {r.inconclusive}) cache={self.cache_mode}",
            f"behavtest: sampling {r.generation.describe()}; {_versions()}",
        ]


def _versions() -> str:
    """Versions that change outputs, read from metadata (importing torch here
    would cost seconds on every pytest start)."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for dist in ("torch", "transformers"):
        try:
            found.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            found.append(f"{dist} not installed")
    return ", ".join(found)
