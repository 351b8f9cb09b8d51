"""Statistical snapshots: stored measurements, and a later run compared with them.

A snapshot is a measurement, not a text: the counts per prompt (per model for
an arm), rate and interval, method, scorer name and version, a hash of the
prompts, the generation settings, seed, model fingerprint, harness version,
date and three example replies. Files live in ``snapshots/<model>/``, one per
behaviour module, as JSON with a format-version line first, entries sorted by
test id and one value per line, so that ``git diff`` reads like a changelog.

A later run compares each measurement with its stored one by the two-sample
test the data's shape calls for (``selection.against_baseline``, the test
``.above()`` uses: Fisher on one prompt, paired where the prompts match,
clustered otherwise), never by equality, and calls a change only when it is
significant after the suite-level correction. Entries whose prompts, scorer
version or generation settings differ are "not comparable", with what changed.

Lifecycle (as syrupy's): only ``--behav-snapshot-update`` writes; it rewrites
the entries of the selected tests (keeping an entry whose counts did not
change, date included, so files change only where measurements did) and prunes
entries of selected tests that measured nothing; tests outside the selection
keep theirs. Every write is a temp file and a rename.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from behavtest import selection
from behavtest.errors import BehavtestError
from behavtest.files import write_atomic
from behavtest.scored import Scored
from behavtest.stats.power import significant
from behavtest.verdict import Clusters, Verdict

FORMAT = 1
HEADER = "behavtest_snapshot"
SUFFIX = ".json"
DIRECTIONS = ("up", "down")


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
    harness: str
    date: str
    examples: tuple[str, ...]

    @classmethod
    def of(cls, nodeid: str, v: Verdict) -> Entry:
        e = v.evidence
        return cls(
            nodeid=nodeid, check=v.check, scorer=v.scorer,
            scorer_version=None if e is None else e.scorer_version,
            binary=v.k is not None, k=v.k, n=v.n, rate=v.rate, low=v.low, high=v.high,
            method=v.method, clusters=() if e is None else e.clusters,
            members=None if e is None else e.members,
            prompts=None if e is None else e.prompts,
            settings=None if e is None or e.settings is None else dict(e.settings),
            seed=None if e is None else e.seed, model=v.model,
            fingerprint=None if e is None else e.fingerprint,
            harness=harness_version(), date=datetime.date.today().isoformat(),
            examples=() if e is None else e.examples,
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
            ) if a != b
        ]
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
            "per_model": None if self.members is None else
            {m: counts(c) for m, c in self.members},
            "prompts": self.prompts, "settings": self.settings, "seed": self.seed,
            "model": self.model, "fingerprint": self.fingerprint,
            "harness": self.harness, "date": self.date, "examples": list(self.examples),
        }

    @classmethod
    def from_json(cls, nodeid: str, d: Mapping[str, Any]) -> Entry:
        binary = d["k"] is not None

        def clusters(raw: Iterable[Any]) -> Clusters:
            if not binary:
                return tuple(tuple(float(v) for v in c) for c in raw)
            out = []
            for item in raw:
                k, n = (int(x) for x in str(item).split("/"))
                if not 0 <= k <= n:
                    raise ValueError(f"count {item!r}")
                out.append((1.0,) * k + (0.0,) * (n - k))
            return tuple(out)

        members = d.get("per_model")
        low, high = (float(x) for x in d["interval"])
        return cls(
            nodeid=nodeid, check=str(d["check"]), scorer=str(d["scorer"]),
            scorer_version=d.get("scorer_version"), binary=binary,
            k=None if d["k"] is None else int(d["k"]), n=int(d["n"]), rate=float(d["rate"]),
            low=low, high=high, method=str(d["method"]), clusters=clusters(d["per_prompt"]),
            members=None if members is None else
            tuple((str(m), clusters(c)) for m, c in dict(members).items()),
            prompts=d.get("prompts"), settings=d.get("settings"), seed=d.get("seed"),
            model=str(d["model"]), fingerprint=d.get("fingerprint"),
            harness=str(d["harness"]), date=str(d["date"]),
            examples=tuple(str(x) for x in d.get("examples") or ()),
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


def read_file(path: Path) -> dict[str, Entry]:
    """The entries of one snapshot file, or a one-line SnapshotError."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, type(exc).__name__) from None
    except ValueError as exc:
        raise _bad(path, f"invalid JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict) or raw.get(HEADER) is None:
        raise _bad(path, f"no {HEADER!r} format line")
    if raw[HEADER] != FORMAT:
        raise SnapshotError(
            f"{path} has snapshot format {raw[HEADER]!r}; this behavtest reads format "
            f"{FORMAT}; fix: upgrade behavtest, or rerun with --behav-snapshot-update"
        )
    entries = raw.get("entries")
    if not isinstance(entries, dict):
        raise _bad(path, "no 'entries' object")
    out = {}
    for key, d in entries.items():
        try:
            out[key] = Entry.from_json(str(key).split(" :: ", 1)[0], d)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _bad(path, f"entry {key!r}: {type(exc).__name__} {exc}") from None
    return out


def read_folder(folder: Path) -> dict[str, Entry]:
    """Every entry stored for one model (nothing when the folder does not exist)."""
    entries: dict[str, Entry] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*" + SUFFIX)):
            entries.update(read_file(path))
    return entries


def render(model: str, entries: Mapping[str, Entry]) -> str:
    """A snapshot file's text: the format line first, entries sorted by key."""
    body = {HEADER: FORMAT, "model": model,
            "entries": {k: entries[k].to_json() for k in sorted(entries)}}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class UpdateResult:
    written: tuple[Path, ...]
    added: int
    updated: int
    removed: int


def update(folder: Path, model: str, stored: Mapping[str, Entry],
           current: Mapping[str, Entry], selected: set[str]) -> UpdateResult:
    """Write the selected tests' current entries; prune their stale ones; leave the
    rest. An unchanged measurement keeps its stored entry (and date)."""
    files: dict[Path, dict[str, Entry]] = {}
    for key, e in stored.items():
        files.setdefault(module_file(folder, e.nodeid), {})[key] = e
    added = updated = removed = 0
    for key, e in stored.items():
        if e.nodeid in selected and key not in current:
            del files[module_file(folder, e.nodeid)][key]
            removed += 1
    for key, e in current.items():
        old = stored.get(key)
        target = files.setdefault(module_file(folder, e.nodeid), {})
        if old is not None and old.same_measurement(e):
            continue
        target[key] = e
        added += old is None
        updated += old is not None
    written = []
    for path, entries in sorted(files.items()):
        text = render(model, entries)
        if not entries:
            if path.exists():
                path.unlink()
                written.append(path)
            continue
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
            written.append(path)
    return UpdateResult(tuple(written), added, updated, removed)


# -- comparing -----------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """A measurement against its stored one. ``status`` is decided after the
    suite-level correction: 'changed up', 'changed down', 'no significant change',
    'not comparable', 'new' or 'gone'."""

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
        changed = significant(p_adjusted, self.alpha)
        direction = "up" if (self.effect or 0.0) > 0 else "down"
        status = f"changed {direction}" if changed else "no significant change"
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


def _counts(e: Entry) -> str:
    what = f"{e.k}/{e.n}" if e.k is not None else f"mean of {e.n}"
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
    inf = selection.against_baseline(x, xg, y, yg, 0.0, alpha, icc).inference
    if allow == "up":
        p = inf.p_less
    elif allow == "down":
        p = inf.p_greater
    else:
        p = min(1.0, 2 * min(inf.p_greater, inf.p_less))
    return replace(base, p=p, effect=inf.estimate, effect_low=inf.low, effect_high=inf.high,
                   method=inf.method)
