"""Statistical snapshots: stored measurements, and a later run compared with them.

A snapshot is a measurement, not a text: the counts per prompt (per model for
an arm), rate and interval, method, scorer name and version, a hash of the
prompts, the generation settings, seed, model fingerprint, the dtypes a
local model computed in, harness version, date and three example replies.
A checkpoint series is stored in order and compared checkpoint by checkpoint
(``snapshots.series``). Files live in ``snapshots/<model>/``, one per
behaviour module, as JSON with a format-version line first, entries sorted by
test id and one value per line, so that ``git diff`` reads like a changelog.

A later run compares each measurement with its stored one by the two-sample
test the data's shape calls for (``selection.against_baseline``, the test
``.above()`` uses: Fisher on one prompt, paired where the prompts match,
clustered otherwise), never by equality, and calls a change only when it is
significant after the suite-level correction. Entries whose prompts, scorer
version or generation settings differ are "not comparable", with what changed.

Lifecycle (as syrupy's): only ``--behav-snapshot-update`` writes
(``snapshot_run.update``: under a lock, a temp file and a rename); it rewrites
the entries of the selected tests (keeping an entry whose counts did not
change, date included, so files change only where measurements did) and prunes
entries of selected tests that measured nothing, and of tests that no longer
exist; tests outside the selection, tests that were skipped ("not run") and
tests that errored keep theirs.

Files are read as untrusted input (hand-edited, merged, truncated): every
value is checked on read (``snapshots.values``: whole counts 0 <= k <= n <=
MAX_SAMPLES, finite rates, a rate in [0, 1], per-prompt counts that add up to
k/n; here: at most MAX_TOTAL samples in all), so a bad file is one line naming it, the entry and
the fix, never a traceback, a MemoryError or a NaN compared as data.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from behavtest.checks import selection
from behavtest.checks.scored import Scored
from behavtest.errors import BehavtestError
from behavtest.snapshots import series, values
from behavtest.stats.result import decide
from behavtest.verdict import Clusters, Outcome, Verdict

FORMAT = 1
HEADER = "behavtest_snapshot"
SUFFIX = ".json"
DIRECTIONS = ("up", "down")
# Samples one entry may hold, and all entries read at once: a count is expanded
# into one value per sample, so a hand-edited "10**12" must stop at the reader
# (a real measurement is thousands; an arm stores its samples twice, pooled
# and per model).
MAX_TOTAL = 20_000_000


class SnapshotError(BehavtestError):
    """A snapshot file that cannot be read as one (corrupted, hand-edited, newer)."""


def harness_version() -> str:
    try:
        return version("behavtest")
    except PackageNotFoundError:
        return "unknown"


def slug(text: str) -> str:
    """A file-name-safe form of a model spec or module path."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "_"


def module_file(folder: Path, nodeid: str) -> Path:
    """The snapshot file of the module a test id belongs to."""
    module = nodeid.split("::", 1)[0]
    return folder / (slug(module.removesuffix(".py").replace("/", ".")) + SUFFIX)


@dataclass(frozen=True)
class Entry:
    """One stored measurement (see the module docstring)."""

    nodeid: str
    check: str
    scorer: str
    scorer_version: str | None
    binary: bool
    k: int | None
    n: int
    rate: float
    low: float
    high: float
    method: str
    clusters: Clusters
    members: tuple[tuple[str, Clusters], ...] | None
    prompts: str | None
    settings: dict[str, Any] | None
    seed: int | None
    model: str
    fingerprint: str | None
    dtype: str | None  # "bf16 (probabilities fp32)" for a local model; None: an API, a double
    harness: str
    date: str
    examples: tuple[str, ...]
    ordered: bool = False  # ``members`` are a checkpoint series, in order (snapshots.series)

    @classmethod
    def of(cls, nodeid: str, v: Verdict, dtype: str | None = None) -> Entry:
        e, m = v.evidence, v.measured
        return cls(
            nodeid=nodeid, check=v.check, scorer=v.scorer,
            scorer_version=None if e is None else e.scorer_version,
            binary=m.k is not None, k=m.k, n=m.n, rate=m.rate, low=m.low, high=m.high,
            method=v.test.method, clusters=() if e is None else e.clusters,
            members=None if e is None else e.members,
            prompts=None if e is None else e.prompts,
            settings=None if e is None or e.settings is None else dict(e.settings),
            seed=None if e is None else e.seed, model=v.model,
            fingerprint=None if e is None else e.fingerprint, dtype=dtype,
            harness=harness_version(), date=datetime.date.today().isoformat(),
            examples=() if e is None else e.examples,
            ordered=series.is_series(v) and e is not None and e.members is not None,
        )

    def same_measurement(self, other: Entry) -> bool:
        """Equal as stored (the date and harness aside): nothing to rewrite."""
        mine, theirs = self.to_json(), other.to_json()
        for key in ("date", "harness"):
            mine.pop(key)
            theirs.pop(key)
        return bool(mine == theirs)

    def not_comparable(self, was: Entry) -> str | None:
        """Why this measurement cannot be compared with ``was`` (None: it can)."""
        changed = [
            what for what, a, b in (
                ("the prompts", self.prompts, was.prompts),
                ("the scorer version", self.scorer_version, was.scorer_version),
                ("the generation settings", self.settings, was.settings),
                ("what is scored (rate vs mean)", self.binary, was.binary),
                ("arm vs single model", self.members is None, was.members is None),
                ("ordered checkpoint series vs unordered arm", self.ordered, was.ordered),
            ) if a != b
        ]
        if not changed and self.ordered and self.members and was.members:
            return series.length_mismatch(len(self.members), len(was.members))
        return f"changed: {', '.join(changed)}" if changed else None

    def scored(self) -> tuple[Scored, tuple[Scored, ...] | None]:
        """The data as ``selection`` takes it. The prompts stand in by their hash:
        equal hashes pair by prompt, as the same prompts do."""
        token = (((f"prompts {self.prompts}", ""),),) if self.prompts else None

        def unit(model: str, clusters: Clusters) -> Scored:
            n = sum(len(c) for c in clusters)
            return Scored(model, self.binary, clusters, n, n, token * len(clusters)
                          if token else None)

        if self.members:
            group = tuple(unit(m, c) for m, c in self.members)
            pooled = tuple(c for _, cs in self.members for c in cs)
            return unit(self.model, pooled), group
        return unit(self.model, self.clusters), None

    # -- file form ---------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        def counts(clusters: Clusters) -> list[Any]:
            if self.binary:  # "k/n" per prompt: one short value a line
                return [f"{int(round(sum(c)))}/{len(c)}" for c in clusters]
            return [list(c) for c in clusters]

        return {
            "check": self.check, "scorer": self.scorer, "scorer_version": self.scorer_version,
            "rate": round(self.rate, 6), "interval": [round(self.low, 6), round(self.high, 6)],
            "k": self.k, "n": self.n, "method": self.method,
            "per_prompt": counts(self.clusters),
            "per_model": None if self.members is None or self.ordered else
            {m: counts(c) for m, c in self.members},
            **({"per_checkpoint": [{"checkpoint": m, "per_prompt": counts(c)}
                                   for m, c in self.members or ()]} if self.ordered else {}),
            "prompts": self.prompts, "settings": self.settings, "seed": self.seed,
            "model": self.model, "fingerprint": self.fingerprint, "dtype": self.dtype,
            "harness": self.harness, "date": self.date, "examples": list(self.examples),
        }

    @classmethod
    def from_json(cls, nodeid: str, d: Mapping[str, Any]) -> Entry:
        """An entry from its file form, every value checked (a ValueError naming
        the first bad one): see the module docstring."""
        binary = d["k"] is not None
        n = values.count(d["n"], "n")
        k = values.count(d["k"], "k") if binary else None
        if k is not None and k > n:
            raise ValueError(f"k {k} is more than n {n}")
        rate = values.number(d["rate"], "rate", binary)
        if not math.isfinite(rate):
            raise ValueError(f"rate {rate} is not a finite number")
        interval = d["interval"]
        if not isinstance(interval, list) or len(interval) != 2:
            raise ValueError(f"interval {interval!r} is not [low, high]")
        low, high = (values.number(x, "interval", binary, nan=True) for x in interval)
        if low > high:
            raise ValueError(f"interval [{low}, {high}] has low > high")
        ordered = d.get("per_checkpoint") is not None
        per_model = (values.checkpoints(d["per_checkpoint"]) if ordered
                     else d.get("per_model"))
        clusters, members = values.data(d["per_prompt"], per_model, k, n)
        return cls(
            nodeid=nodeid, check=values.text(d, "check"), scorer=values.text(d, "scorer"),
            scorer_version=values.text(d, "scorer_version", True), binary=binary, k=k, n=n,
            rate=rate, low=low, high=high, method=values.text(d, "method"), clusters=clusters,
            members=members, prompts=values.text(d, "prompts", True),
            settings=values.settings(d.get("settings")), seed=values.seed(d.get("seed")),
            model=values.text(d, "model"), fingerprint=values.text(d, "fingerprint", True),
            dtype=values.text(d, "dtype", True),
            harness=values.text(d, "harness"), date=values.text(d, "date"),
            examples=tuple(str(x) for x in d.get("examples") or ()),
            ordered=ordered,
        )


def entry_keys(nodeid: str, checks: Iterable[str]) -> list[str]:
    """Keys of a test's checks: ``nodeid :: check``, numbered when a check repeats."""
    seen: dict[str, int] = {}
    keys = []
    for check in checks:
        seen[check] = seen.get(check, 0) + 1
        suffix = f" #{seen[check]}" if seen[check] > 1 else ""
        keys.append(f"{nodeid} :: {check}{suffix}")
    return keys


# -- files ---------------------------------------------------------------------------
def _bad(path: Path, why: str) -> SnapshotError:
    return SnapshotError(
        f"{path} is not a behavtest snapshot ({why}); fix: restore it (git checkout -- "
        f"{path}) or delete it and rerun with --behav-snapshot-update"
    )


def read_file(path: Path, budget: int = MAX_TOTAL) -> dict[str, Entry]:
    """The entries of one snapshot file, or a one-line SnapshotError. ``budget``:
    the samples it may hold in all (what a folder's earlier files left)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, type(exc).__name__) from None
    except ValueError as exc:
        raise _bad(path, f"invalid JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict) or raw.get(HEADER) is None:
        raise _bad(path, f"no {HEADER!r} format line")
    if raw[HEADER] != FORMAT:
        aside = path.with_name(f"{path.name}.format-{slug(str(raw[HEADER]))}")
        move = f"mv {shlex.quote(str(path))} {shlex.quote(str(aside))}"
        raise SnapshotError(
            f"{path} has snapshot format {raw[HEADER]!r}; this behavtest reads format "
            f"{FORMAT}; fix: upgrade behavtest (pip install -U behavtest) to read it, or move "
            f"it aside ({move}) and record afresh with --behav-snapshot-update"
        )
    entries = raw.get("entries")
    if not isinstance(entries, dict):
        raise _bad(path, "no 'entries' object")
    out = {}
    for key, d in entries.items():
        try:
            e = Entry.from_json(str(key).split(" :: ", 1)[0], d)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _bad(path, f"entry {key!r}: {type(exc).__name__} {exc}") from None
        budget -= e.n * (2 if e.members else 1)
        if budget < 0:
            raise _bad(path, f"entry {key!r}: more than {MAX_TOTAL} samples in all")
        out[key] = e
    return out


def read_folder(folder: Path) -> dict[str, Entry]:
    """Every entry stored for one model (nothing when the folder does not exist)."""
    entries: dict[str, Entry] = {}
    used = 0
    if folder.is_dir():
        for path in sorted(folder.glob("*" + SUFFIX)):
            found = read_file(path, MAX_TOTAL - used)
            used += sum(e.n * (2 if e.members else 1) for e in found.values())
            entries.update(found)
    return entries


def render(model: str, entries: Mapping[str, Entry],
           training: Mapping[str, Any] | None = None) -> str:
    """A snapshot file's text: the format line first, the model's training when
    known (``snapshots.training``), entries sorted by key."""
    body = {HEADER: FORMAT, "model": model, **({"training": training} if training else {}),
            "entries": {k: entries[k].to_json() for k in sorted(entries)}}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


# -- comparing -----------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """A measurement against its stored one. ``status`` is decided after the
    suite-level correction: 'changed up', 'changed down', 'no significant change',
    'not comparable', 'new', 'gone' (its test ran without the check, or no longer
    exists) or 'not run' (its test was skipped); ``reason`` says which."""

    key: str
    nodeid: str
    now: Entry | None
    was: Entry | None
    status: str
    p: float = 1.0  # the p-value of a change (in the guarded directions)
    p_adjusted: float | None = None
    effect: float | None = None
    effect_low: float | None = None
    effect_high: float | None = None
    method: str = ""
    reason: str | None = None
    allow: str | None = None  # a direction the test allows to change
    alpha: float = 0.05

    @property
    def failed(self) -> bool:
        return self.status in ("changed up", "changed down") and (
            self.status != f"changed {self.allow}"
        )

    def decide(self, p_adjusted: float) -> Comparison:
        if self.status not in ("changed up", "changed down", "no significant change"):
            return self
        status = change_status(p_adjusted, None, self.alpha, self.effect)
        return replace(self, status=status, p_adjusted=p_adjusted)

    def explain(self) -> str:
        """'was 0/96 = 0.000 [0.000, 0.049], now 24/96 = 0.250 [...]; ...'."""
        parts = []
        if self.was is not None:
            parts.append(f"was {_counts(self.was)} ({self.was.date})")
        if self.now is not None:
            parts.append(f"now {_counts(self.now)}")
        if self.effect is not None and self.effect_low is not None:
            parts.append(f"difference {self.effect:+.3f} [{self.effect_low:+.3f}, "
                         f"{self.effect_high or 0.0:+.3f}]")
        if self.status in ("changed up", "changed down", "no significant change"):
            adj = "" if self.p_adjusted is None else f", adjusted {self.p_adjusted:.3g}"
            parts.append(f"p={self.p:.3g}{adj} ({self.method})")
        if self.reason:
            parts.append(self.reason)
        return "; ".join(parts)


def change_status(p_change: float, p_same: float | None, alpha: float,
                  effect: float | None) -> str:
    """A comparison's word, by the one verdict rule (``stats.decide``) on the claim
    "it changed": PASS is 'changed up' or 'changed down' (by the sign of
    ``effect``), FAIL 'same' (the difference shown inside a margin: ``p_same``,
    a TOST p-value; None when no margin was given), INCONCLUSIVE 'no
    significant change'. Snapshots and ``behavtest diff`` decide through it."""
    outcome = decide(p_change, 1.0 if p_same is None else p_same, alpha)
    if outcome is Outcome.PASS:
        return f"changed {'up' if (effect or 0.0) > 0 else 'down'}"
    return "same" if outcome is Outcome.FAIL else "no significant change"


def _counts(e: Entry) -> str:
    what = f"{e.k}/{e.n}" if e.k is not None else f"mean of {e.n}"
    if e.ordered and e.members:  # a series' rate is its claim's (a peak, a mean, a slope)
        return (f"{len(e.members)} checkpoints {series.per_checkpoint(e.members, e.binary)}"
                f"; {e.rate:.3f} [{e.low:.3f}, {e.high:.3f}]")
    return f"{what} = {e.rate:.3f} [{e.low:.3f}, {e.high:.3f}]"


def compare(key: str, now: Entry, was: Entry, alpha: float, icc: float,
            allow: str | None = None) -> Comparison:
    """Test ``now`` against ``was`` (two-sided, or against the direction not allowed)."""
    base = Comparison(key, now.nodeid, now, was, "no significant change", allow=allow,
                      alpha=alpha)
    if (why := now.not_comparable(was)) is not None:
        return replace(base, status="not comparable", reason=why)
    x, xg = now.scored()
    y, yg = was.scored()
    if now.ordered and xg is not None and yg is not None:
        s = series.compare(xg, yg, alpha, icc, allow)
        return replace(base, p=s.p, effect=s.estimate, effect_low=s.low, effect_high=s.high,
                       method=s.method, reason=s.reason)
    inf = selection.against_baseline(x, xg, y, yg, 0.0, alpha, icc).inference
    return replace(base, p=series.change_p(inf, allow), effect=inf.estimate,
                   effect_low=inf.low, effect_high=inf.high, method=inf.method)
