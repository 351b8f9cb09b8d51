"""A run's side of snapshots: which stored entries it compares with, and updates.

The session's records are the run's measurements. On the xdist controller (or
the one process) after every worker has reported, each property verdict
becomes an :class:`~behavtest.snapshots.Entry` keyed by test id and check; it
is compared with its stored entry ("new" when there is none), and stored
entries of tests that ran but measured nothing are "gone". Comparisons are
corrected with the suite's verdicts (``Session.correct``). With
``--behav-snapshot-update`` the entries of the selected tests are written
instead, and nothing fails for having changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from behavtest.snapshots import (
    Comparison,
    Entry,
    UpdateResult,
    compare,
    entry_keys,
    read_folder,
    slug,
    update,
)
from behavtest.verdict import Verdict


@dataclass
class SnapshotRun:
    """Snapshots of one model for one run (see the module docstring)."""

    folder: Path
    model: str
    update: bool
    stored: dict[str, Entry]
    allow: dict[str, str] = field(default_factory=dict)  # test id -> direction allowed
    selected: set[str] = field(default_factory=set)  # tests whose call ran here
    comparisons: list[Comparison] = field(default_factory=list)
    families: dict[str, str] = field(default_factory=dict)  # entry key -> correction family
    written: UpdateResult | None = None

    @classmethod
    def open(cls, root: Path, model: str, update: bool) -> SnapshotRun:
        """Read (and so validate) the model's stored snapshots: a corrupted file
        stops the run before any test, with one line naming it."""
        folder = root / slug(model)
        return cls(folder, model, update, read_folder(folder))

    def current(self, records: Iterable[tuple[str, Verdict]]) -> dict[str, Entry]:
        """This run's property measurements, keyed as snapshots key them."""
        by_test: dict[str, list[Verdict]] = {}
        for nodeid, v in records:
            if not v.is_precondition:
                by_test.setdefault(nodeid, []).append(v)
        out = {}
        for nodeid, verdicts in by_test.items():
            for key, v in zip(entry_keys(nodeid, [v.check for v in verdicts]), verdicts,
                              strict=True):
                out[key] = Entry.of(nodeid, v)
                self.families[key] = v.family or "suite"
        return out

    def compare(self, records: Iterable[tuple[str, Verdict]], alpha: float,
                icc: float) -> list[Comparison]:
        """Every measurement against its stored entry (nothing is written)."""
        current = self.current(records)
        out = []
        for key, now in sorted(current.items()):
            was = self.stored.get(key)
            if was is None:
                out.append(Comparison(key, now.nodeid, now, None, "new", alpha=alpha))
            else:
                out.append(compare(key, now, was, alpha, icc, self.allow.get(now.nodeid)))
        for key, was in sorted(self.stored.items()):
            if was.nodeid in self.selected and key not in current:
                out.append(Comparison(key, was.nodeid, None, was, "gone", alpha=alpha))
        self.comparisons = out
        return out

    def decide(self, adjusted: dict[str, float]) -> None:
        """Statuses after the suite-level correction (``adjusted``: key -> p)."""
        self.comparisons = [
            c.decide(adjusted[c.key]) if c.key in adjusted else c for c in self.comparisons
        ]

    def testable(self) -> list[Comparison]:
        """Comparisons that carry a p-value of a change (they join the correction)."""
        return [c for c in self.comparisons
                if c.status in ("no significant change", "changed up", "changed down")]

    def failed(self) -> set[str]:
        """Tests that fail for a significant change their test does not allow."""
        return set() if self.update else {c.nodeid for c in self.comparisons if c.failed}

    def write(self, records: Iterable[tuple[str, Verdict]]) -> UpdateResult:
        current = self.current(records)
        self.written = update(self.folder, self.model, self.stored, current, self.selected)
        return self.written

    def summary(self) -> list[str]:
        """Lines for the terminal: counts, then every change and what is not comparable."""
        lines = []
        if self.written is not None:
            w = self.written
            lines.append(
                f"behavtest: snapshots of {self.model} in {self.folder}: {w.added} added, "
                f"{w.updated} updated, {w.removed} removed; {len(w.written)} "
                f"file{'s' if len(w.written) != 1 else ''} written"
            )
            return lines
        counts: dict[str, int] = {}
        for c in self.comparisons:
            counts[c.status] = counts.get(c.status, 0) + 1
        if not counts:
            return lines
        order = ["changed up", "changed down", "no significant change", "not comparable",
                 "new", "gone"]
        parts = [f"{counts[s]} {s}" for s in order if counts.get(s)]
        lines.append(f"behavtest: snapshots of {self.model}: " + ", ".join(parts))
        for c in self.comparisons:
            if c.status in ("no significant change",):
                continue
            mark = "FAIL " if c.failed else ""
            lines.append(f"  {mark}{c.status}: {c.key}: {c.explain()}")
        if counts.get("new") or counts.get("gone"):
            lines.append("  (rerun with --behav-snapshot-update to record new and drop gone "
                         "entries)")
        if failed := self.failed():
            lines.append(
                f"behavtest: {len(failed)} test{'s' if len(failed) != 1 else ''} changed "
                "significantly since the snapshot: the run fails (exit status 1) whatever "
                "pytest's own count says"
            )
        return lines

