"""A run's side of snapshots: which stored entries it compares with, and updates.

The session's records are the run's measurements. On the xdist controller (or
the one process) after every worker has reported, each property verdict
becomes an :class:`~behavtest.snapshots.store.Entry` keyed by test id and check; it
is compared with its stored entry ("new" when there is none). A stored entry
this run did not measure is:

* "gone" when its test ran and made no such check, or when its test no
  longer exists (the module or class that held it was collected, before any
  ``-k``/``-m`` deselection, and did not yield it): an update drops it;
* "not run" when its test was collected but skipped (optional files absent,
  not applicable to the model, a precondition not met): an update keeps it,
  and nothing asks for one;
* not mentioned otherwise (deselected, or its module not part of the run).

Comparisons are corrected with the suite's verdicts (``Session.correct``). With
``--behav-snapshot-update`` the entries of the selected tests are written
instead, and nothing fails for having changed.

What an update guarantees:

* it is refused before any test runs when the snapshot name would leave the
  snapshot folder (``..``, ``.``) or the folder cannot be written;
* a test that errored (ended outside its checks: a crash, a network error
  mid-draw) keeps the stored entries it did not measure: a crash is not a
  measurement, and the summary says which entries were kept and why;
* each file's read-merge-write holds an exclusive ``flock`` on a lock file
  beside it (``.<file>.lock``, removed after), and the file is re-read under
  the lock, so concurrent updates of one file (two ``-k`` subsets, two CI
  jobs) keep both runs' entries. Windows has no ``flock``: there an update is
  not locked, each file is still replaced whole (a temp file and a rename), but
  two concurrent updates of one file can lose one run's entries: run them one
  after the other;
* an entry that could not be read back (a NaN mean) is not stored.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from behavtest.errors import InvalidArgument
from behavtest.files import write_atomic
from behavtest.providers.training import Training
from behavtest.snapshots.store import (
    Comparison,
    Entry,
    compare,
    entry_keys,
    module_file,
    read_file,
    read_folder,
    render,
    slug,
)
from behavtest.snapshots.training import folder_training, training_note
from behavtest.verdict import Verdict

KEPT_WHY = "its test errored (a crash is not a measurement); rerun it to record"


def check_name(name: str, what: str) -> str:
    """``name`` if it is one safe folder name inside ``snapshots/``, else a one-line
    InvalidArgument: no path separator, NUL, emptiness or leading dot (``.``,
    ``..``, a hidden folder), so a snapshot name can never write outside it."""
    why = ("is empty" if not name.strip()
           else "holds a path separator" if "/" in name or "\\" in name
           else "holds a NUL character" if "\0" in name
           else "starts with a dot" if name.startswith(".") else None)
    if why is not None:
        raise InvalidArgument(
            f"{what} {name!r} {why}, and a snapshot name is one folder inside snapshots/; "
            "fix: a plain name such as my-model (letters, digits, '-', '_', '.' but not first)"
        )
    return name


def model_folder(root: Path, model: str) -> Path:
    """The folder of one model's snapshots: ``root/<slug(model)>``, refused when
    the slug would climb out of ``root`` or hide in it (``..``, ``.``, ``.x``)."""
    name = slug(model)
    if name.startswith("."):
        raise InvalidArgument(
            f"--behav-snapshot-as {model!r} would store snapshots in {root / name}, which is "
            f"not a folder inside {root}; fix: a plain name such as --behav-snapshot-as "
            "my-model (not starting with a dot)"
        )
    return root / name


def check_writable(folder: Path) -> None:
    """Stop an update before any test when ``folder`` cannot be created or
    written, instead of after the whole run: its nearest existing ancestor must
    be a folder a file can be created in (tried, and removed at once)."""
    here = folder
    while not here.exists() and here != here.parent:
        here = here.parent
    why = None if here.is_dir() else f"{here} is not a folder"
    if why is None:
        try:
            fd, probe = tempfile.mkstemp(dir=here, prefix=".behavtest-probe-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            why = f"{here} is not writable ({exc.strerror or type(exc).__name__})"
    if why is not None:
        raise InvalidArgument(
            f"snapshot folder {folder} cannot be written: {why}; fix: pass "
            "--behav-snapshots a folder you can write to (default <rootdir>/snapshots), or "
            "make it writable, or drop --behav-snapshot-update"
        )


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for one snapshot file's read-merge-write: an
    ``flock`` on ``.<name>.lock`` beside it, removed on release (a waiter that
    then holds a removed lock file locks the new one). No lock on Windows."""
    if sys.platform == "win32":
        yield
        return
    import fcntl

    lock = path.with_name(f".{path.name}.lock")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.path.samestat(os.fstat(fd), os.stat(lock)):
                break
        except FileNotFoundError:
            pass  # the holder removed it while we waited: lock the next one
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


@dataclass(frozen=True)
class UpdateResult:
    """What an update did: files written (or removed), entry counts, the entries
    kept because their test errored, and entries not stored (key, why)."""

    written: tuple[Path, ...]
    added: int
    updated: int
    removed: int
    kept: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()


def _unreadable(e: Entry) -> str | None:
    """Why ``e`` would not read back (a NaN mean, an empty rate), else None: a
    file the next run refuses is never written."""
    try:
        Entry.from_json(e.nodeid, e.to_json())
    except (KeyError, TypeError, ValueError) as exc:
        return str(exc)
    return None


def _merge(was: Mapping[str, Entry], mine: Mapping[str, Entry], measured: set[str],
           refused: set[str], selected: set[str],
           errored: set[str]) -> tuple[dict[str, Entry], list[int], list[str]]:
    """One file's entries after an update: ``was`` (read under the lock) with this
    run's measurements ``mine`` (``measured``: all this run stores, in any file;
    ``refused``: measured but not storable, so the stored entry stays); stored
    entries of selected tests that measured nothing are pruned unless their test
    errored. Also [added, updated, removed] and the keys kept for an error."""
    out: dict[str, Entry] = {}
    counts, kept = [0, 0, 0], list[str]()
    for key, e in was.items():
        if key in mine:
            out[key] = e if e.same_measurement(mine[key]) else mine[key]
            counts[1] += out[key] is mine[key]
        elif key in measured:
            continue  # measured, and stored in the file of its test's module
        elif key in refused:
            out[key] = e
        elif e.nodeid in selected and e.nodeid in errored:
            out[key] = e
            kept.append(key)
        elif e.nodeid in selected:
            counts[2] += 1
        else:
            out[key] = e
    for key, e in mine.items():
        if key not in was:
            out[key] = e
            counts[0] += 1
    return out, counts, kept


def update(folder: Path, model: str, current: Mapping[str, Entry], selected: set[str],
           errored: set[str] | None = None, training: Training | None = None) -> UpdateResult:
    """Write the selected tests' current entries; prune their stale ones unless
    the test errored; leave the rest. Each file is re-read and rewritten under
    its lock, so what another run wrote meanwhile stays. ``training``: the
    model's, written in each file's header (``snapshots.training``)."""
    refused = {k: why for k, e in current.items() if (why := _unreadable(e)) is not None}
    by_file: dict[Path, dict[str, Entry]] = {}
    for key, e in current.items():
        if key not in refused:
            by_file.setdefault(module_file(folder, e.nodeid), {})[key] = e
    measured = set(current) - set(refused)
    written: list[Path] = []
    counts, kept = [0, 0, 0], list[str]()
    for path in sorted(set(by_file) | {module_file(folder, n) for n in selected}):
        if path not in by_file and not path.is_file():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path):
            was = read_file(path) if path.is_file() else {}
            entries, c, k = _merge(was, by_file.get(path, {}), measured, set(refused),
                                   selected, errored or set())
            counts, kept = [a + b for a, b in zip(counts, c, strict=True)], kept + k
            text = render(model, entries, None if training is None else training.to_json())
            if not entries:
                if path.is_file():
                    path.unlink()
                    written.append(path)
            elif not path.is_file() or path.read_text(encoding="utf-8") != text:
                write_atomic(path, text)
                written.append(path)
    added, updated, removed = counts
    return UpdateResult(tuple(written), added, updated, removed, tuple(kept),
                        tuple(sorted(refused.items())))


@dataclass
class SnapshotRun:
    """Snapshots of one model for one run (see the module docstring)."""

    folder: Path
    model: str
    update: bool
    stored: dict[str, Entry]
    allow: dict[str, str] = field(default_factory=dict)  # test id -> direction allowed
    selected: set[str] = field(default_factory=set)  # tests whose call ran here (not skipped)
    skipped: dict[str, str] = field(default_factory=dict)  # test id -> why it did not run
    # What the run collected, before deselection: collector id -> the test ids it yielded.
    collected: dict[str, set[str]] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)
    families: dict[str, str] = field(default_factory=dict)  # entry key -> correction family
    written: UpdateResult | None = None
    # Tests whose call ended outside their checks (an exception, not a verdict):
    # their unmeasured entries are kept, never pruned.
    errored: set[str] = field(default_factory=set)
    dtype: str | None = None  # what the model computes in this run (stamped on every entry)
    training: Training | None = None  # the model's, from its card (written in the header)
    stored_training: Training | None = None  # what the stored files record

    @classmethod
    def open(cls, root: Path, model: str, update: bool, dtype: str | None = None,
             training: Training | None = None) -> SnapshotRun:
        """Read (and so validate) the model's stored snapshots, and with ``update``
        check that they can be written: a bad name, a corrupted file or a folder
        that cannot be written stops the run before any test, in one line."""
        folder = model_folder(root, model)
        stored = read_folder(folder)
        if update:
            check_writable(folder)
        return cls(folder, model, update, stored, dtype=dtype, training=training,
                   stored_training=folder_training(folder))

    def saw(self, nodeid: str, when: str, skipped: str | None) -> None:
        """One report of a test (``when``: setup, call or teardown; ``skipped``: the
        reason when it was skipped, else None). A call that ran selects the test; a
        skip in any phase marks it not run."""
        if skipped is not None:
            self.skipped.setdefault(nodeid, skipped.removeprefix("Skipped: ").strip())
        elif when == "call":
            self.selected.add(nodeid)

    def saw_collection(self, collector: str, items: Iterable[str]) -> None:
        """A collector (a module, a class) of this run and the tests it yielded."""
        self.collected.setdefault(collector, set()).update(items)

    def no_longer_exists(self, nodeid: str) -> bool:
        """The test's module or class was collected and did not yield it."""
        parent = nodeid.split("[", 1)[0].rpartition("::")[0]
        return parent in self.collected and nodeid not in self.collected[parent]

    def unmeasured(self, nodeid: str) -> tuple[str, str] | None:
        """Status and reason of a stored entry of ``nodeid`` this run did not measure
        (see the module docstring); None when the run says nothing of it."""
        if nodeid in self.errored:
            return None  # kept, and said so by the update
        if nodeid in self.selected:
            return "gone", "its test ran and made no such check"
        if nodeid in self.skipped:
            return "not run", f"its test was skipped ({self.skipped[nodeid] or 'no reason'})"
        if self.no_longer_exists(nodeid):
            return "gone", "its test no longer exists"
        return None

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
                out[key] = Entry.of(nodeid, v, self.dtype)
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
            missing = None if key in current else self.unmeasured(was.nodeid)
            if missing is not None:
                status, why = missing
                out.append(Comparison(key, was.nodeid, None, was, status, reason=why,
                                      alpha=alpha))
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
        """Store the selected tests' measurements (see :func:`update`), and drop the
        entries of tests that no longer exist; a skipped test keeps its entries."""
        current = self.current(records)
        vanished = {e.nodeid for e in self.stored.values() if self.no_longer_exists(e.nodeid)}
        self.written = update(self.folder, self.model, current, self.selected | vanished,
                              self.errored, self.training)
        return self.written

    def dtype_note(self) -> str | None:
        """A note when the stored entries compared here were measured in another
        dtype than this run's (a change may be the dtype's); None when they agree
        or either side does not say."""
        stored = sorted({c.was.dtype for c in self.comparisons
                         if c.was is not None and c.was.dtype is not None})
        if self.dtype is None or not stored or stored == [self.dtype]:
            return None
        return (f"stored in {', '.join(stored)}, measured now in {self.dtype}: a change may "
                "come from the dtype, not the model")

    def summary(self) -> list[str]:
        """Lines for the terminal: counts, then every change and what is not comparable."""
        lines = []
        if self.written is not None:
            w = self.written
            kept = f", {len(w.kept)} kept (test errored)" if w.kept else ""
            lines.append(
                f"behavtest: snapshots of {self.model} in {self.folder}: {w.added} added, "
                f"{w.updated} updated, {w.removed} removed{kept}; {len(w.written)} "
                f"file{'s' if len(w.written) != 1 else ''} written"
            )
            lines += [f"  kept: {key}: {KEPT_WHY}" for key in w.kept]
            lines += [f"  not stored: {key}: {why} (it would not read back)"
                      for key, why in w.refused]
            return lines
        counts: dict[str, int] = {}
        for c in self.comparisons:
            counts[c.status] = counts.get(c.status, 0) + 1
        if not counts:
            return lines
        order = ["changed up", "changed down", "no significant change", "not comparable",
                 "new", "gone", "not run"]
        parts = [f"{counts[s]} {s}" for s in order if counts.get(s)]
        lines.append(f"behavtest: snapshots of {self.model}: " + ", ".join(parts))
        if note := self.dtype_note():
            lines.append(f"  {note}")
        if note := training_note(self.stored_training, self.training):
            lines.append(f"  {note}")
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

