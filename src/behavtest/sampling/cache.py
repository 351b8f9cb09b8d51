"""A sample cache: every completion stored under what determines it.

Key = (model fingerprint, messages, generation settings, seed of the sample).
The seed is derived from the run seed, the prompt and the sample index, so a
rerun replays, raising n draws only the new indices, and an interrupted run
resumes. Values are JSON, never pickle. Storage is SQLite in WAL mode with a
busy timeout, so many xdist workers read and write one file at once; each
batch is committed as it finishes, so a killed run keeps what it drew.

A file that cannot serve as the cache (corrupted, another program's database,
a folder, not readable or writable) is found by :meth:`SampleCache.open`, which
the plugin calls once before any test: one line naming the file, the cause and
the fix. Under ``refresh`` a corrupted or foreign file is renamed aside (never
deleted) and a new cache started. A failure during the run (disk full, a lock
held too long) is one line too, a :class:`CacheError`.

Every row carries a checksum (``sum``: SHA-256 of its key and stored value). It
catches what SQLite does not check: a flipped bit or a torn write inside a value
(SQLite checks its pages' structure, not their content), and a row edited by
hand, or copied under another key, without recomputing it. Such a row is
ignored (counted in ``rejected``) and drawn again. It cannot stop a deliberate
edit by someone who recomputes the checksum (the rule is public, and a keyed
one would need a secret kept beside the file, readable by the same people):
a result that must not rest on the cache is drawn with ``--behav-cache off``
or ``refresh``. A cache written before checksums (schema 0) gets them when a
run that writes first opens it; a read-only run reads its rows unchecked.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from behavtest.errors import BehavtestError, InvalidArgument, first_line

CacheMode = Literal["use", "refresh", "off", "readonly"]
CACHE_MODES: tuple[CacheMode, ...] = ("use", "refresh", "off", "readonly")
SCHEMA_VERSION = 1  # PRAGMA user_version; 1: every row has a checksum
_COLUMNS = (["key", "value"], ["key", "value", "sum"])  # schema 0, schema 1
_CREATE = "CREATE TABLE IF NOT EXISTS samples (key TEXT PRIMARY KEY, value TEXT, sum TEXT)"
_REFRESH_FIX = "--behav-cache refresh moves it aside and starts a new cache (or delete it)"


class CacheError(BehavtestError):
    """The sample cache file cannot be used (corrupted, another program's database,
    a folder, not readable or writable) or failed during the run; the message
    names the file, the cause and the fix on one line."""


class _Unusable(Exception):
    """The file's content is not a sample cache (what ``refresh`` may move aside)."""


def check_cache_mode(mode: str) -> CacheMode:
    """The one check of a cache mode (command line, ini key or library call)."""
    for known in CACHE_MODES:
        if mode == known:
            return known
    raise InvalidArgument(
        f"cache mode {mode!r} is not one of {', '.join(CACHE_MODES)}; fix: e.g. --behav-cache use"
    )


def cache_key(fingerprint: str, kind: str, payload: Mapping[str, Any]) -> str:
    """Stable hex key from canonical JSON (sorted keys, no whitespace)."""
    blob = json.dumps(
        {"model": fingerprint, "kind": kind, **payload}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def row_checksum(key: str, value: str | None) -> str:
    """A row's checksum: the first 32 hex digits of SHA-256 over key and stored value,
    so a changed value, or a value moved under another key, no longer matches."""
    return hashlib.sha256(f"{key}\0{value}".encode()).hexdigest()[:32]


def _corrupted(exc: sqlite3.Error) -> bool:
    """SQLite's "not a database" and "malformed" errors (a plain DatabaseError,
    not one of its subclasses such as OperationalError)."""
    return type(exc) is sqlite3.DatabaseError


class SampleCache:
    """Key -> JSON value store. ``mode`` decides whether it reads and/or writes."""

    def __init__(self, path: Path | None, mode: CacheMode = "use") -> None:
        checked = check_cache_mode(mode)
        self.mode: CacheMode = checked if path is not None else "off"
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._sums = True  # rows carry checksums (False: a schema-0 file read read-only)
        self._table = True  # the file has the table (False: an empty file read read-only)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.rejected = 0  # rows whose checksum or JSON did not hold: drawn again

    @property
    def reads(self) -> bool:
        return self.mode in ("use", "readonly")

    @property
    def writes(self) -> bool:
        return self.mode in ("use", "refresh")

    # -- opening and checking ----------------------------------------------------------
    def open(self) -> str | None:
        """Check the file now, before any test needs it; returns a note to show when
        ``refresh`` had to move an unusable file aside, else None.

        Raises :class:`CacheError` (one line: the file, the cause, the fix) when
        the file cannot serve. Creates nothing when the file does not exist yet:
        only checks that it could be created. Scans every page once (SQLite's
        quick_check: milliseconds per megabyte), so a corrupted page stops the run
        here rather than in the middle of a test.
        """
        if self.mode == "off" or self.path is None:
            return None
        path = self.path
        if path.is_dir():
            raise CacheError(f"sample cache {path} is a folder, not a file; fix: move the folder "
                             "away, or set behav_cache_dir to another folder")
        if not path.exists():
            if self.writes:
                self._check_folder(path.parent)
            return None
        if self.writes and not (os.access(path, os.R_OK | os.W_OK)
                                and os.access(path.parent, os.W_OK)):
            raise CacheError(f"sample cache {path} cannot be written (permission denied on the "
                             "file or its folder); fix: make both writable, or pass "
                             "--behav-cache readonly to use it without writing, or off")
        try:
            with self._lock:
                self._db(check_pages=True)
        except _Unusable as bad:
            self.close()
            if self.mode != "refresh":
                raise CacheError(f"sample cache {path} {bad}; fix: {_REFRESH_FIX}") from None
            try:
                moved = self._move_aside()
            except OSError as exc:
                raise CacheError(f"sample cache {path} {bad}, and could not be moved aside "
                                 f"({exc.strerror or exc}); fix: move or delete it yourself"
                                 ) from None
            with self._lock:
                self._db()
            return (f"behavtest: sample cache {path} {bad}; moved it to {moved.name} (kept, "
                    "delete it when you no longer need it) and started a new cache")
        return None

    def _check_folder(self, folder: Path) -> None:
        """The cache's folder exists or can be made, and takes new files."""
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise CacheError(f"sample cache folder {folder} cannot be created: {existing} is a "
                             "file; fix: set behav_cache_dir to a folder you can write to")
        if not os.access(existing, os.W_OK):
            raise CacheError(f"sample cache folder {folder} cannot be created or written "
                             f"(permission denied on {existing}); fix: set behav_cache_dir to "
                             "a folder you can write to, or pass --behav-cache off")

    def _quick_check(self, db: sqlite3.Connection) -> None:
        try:
            row = db.execute("PRAGMA quick_check(1)").fetchone()
        except sqlite3.Error as exc:
            raise self._failure(exc) from None
        if row is None or row[0] != "ok":
            lines = [ln for ln in str(row[0] if row else "").splitlines() if "***" not in ln]
            raise _Unusable(f"is corrupted ({(lines or ['no answer'])[0][:100]})")

    def _move_aside(self) -> Path:
        """Rename the unusable file (and its -wal and -shm, which belong to it and
        would be replayed into a new file) to ``<name>.broken-<time>``."""
        assert self.path is not None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.broken-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.broken-{stamp}-{n}")
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                os.replace(side, Path(f"{target}{suffix}"))
        os.replace(self.path, target)
        return target

    def _db(self, check_pages: bool = False) -> sqlite3.Connection:
        """The open connection, checked: opens it on first use (raises _Unusable for
        content that is not a sample cache, CacheError for anything else);
        ``check_pages``: scan every page before anything is written."""
        if self._conn is None:
            assert self.path is not None
            if self.mode != "readonly":
                self._make_folder(self.path.parent)
            try:
                conn = self._connect(self.path)
            except sqlite3.Error as exc:
                raise self._failure(exc) from None
            try:
                self._prepare(conn, check_pages)
            except sqlite3.Error as exc:
                conn.close()
                raise self._failure(exc) from None
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _connect(self, path: Path) -> sqlite3.Connection:
        """A connection; in read-only mode one that refuses every write (query_only:
        unlike a mode=ro open, it still removes its -wal and -shm files on close)."""
        conn = sqlite3.connect(str(path), timeout=60.0, check_same_thread=False)
        if self.mode == "readonly":
            conn.execute("PRAGMA query_only = ON")
        return conn

    def _make_folder(self, folder: Path) -> None:
        """Create the cache's folder (one line naming the cause when it cannot be)."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._check_folder(folder)  # names the usual causes
            raise CacheError(f"sample cache folder {folder} cannot be created "
                             f"({exc.strerror or exc}); fix: set behav_cache_dir to a folder "
                             "you can write to, or pass --behav-cache off") from None

    def _prepare(self, conn: sqlite3.Connection, check_pages: bool) -> None:
        """Check the schema (and the pages); when writing, set WAL mode and create or
        upgrade the table."""
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise _Unusable(f"was written by a newer behavtest (schema {version})")
        columns = [r[1] for r in conn.execute("PRAGMA table_info(samples)")]
        if "samples" in tables and columns not in _COLUMNS:
            raise _Unusable(f"has a table 'samples' with columns {', '.join(columns)}: not a "
                            "sample cache")
        if "samples" not in tables and tables:
            raise _Unusable(f"holds another database (tables {', '.join(sorted(tables)[:4])}), "
                            "not a sample cache")
        self._table = "samples" in tables or self.mode != "readonly"  # writers create it
        if check_pages:
            self._quick_check(conn)
        if self.mode == "readonly":
            self._sums = "sum" in columns
            return
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if version < SCHEMA_VERSION or not columns:
            self._upgrade(conn)

    @staticmethod
    def _upgrade(conn: sqlite3.Connection) -> None:
        """Create the table, or give a schema-0 file its checksums; in one immediate
        transaction, so two processes opening the file at once upgrade it once."""
        conn.create_function("behav_sum", 2, row_checksum, deterministic=True)
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_CREATE)
            if "sum" not in [r[1] for r in conn.execute("PRAGMA table_info(samples)")]:
                conn.execute("ALTER TABLE samples ADD COLUMN sum TEXT")
                conn.execute("UPDATE samples SET sum = behav_sum(key, value)")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _failure(self, exc: sqlite3.Error) -> Exception:
        """What an SQLite error means for the user: the file's content is not a cache
        (_Unusable, which refresh may move aside), or a CacheError with its fix."""
        why = first_line(exc, 100)
        if _corrupted(exc):
            return _Unusable(f"is corrupted or not an SQLite file ({why})")
        low = why.lower()
        if "readonly" in low or "read-only" in low:
            fix = "make the file and its folder writable, or pass --behav-cache readonly or off"
        elif "full" in low:
            fix = "free space, or set behav_cache_dir to a folder on another disk"
        elif "locked" in low or "busy" in low:
            fix = "let the other run that holds it finish, or pass --behav-cache off"
        else:
            fix = ("check the file and its folder (permissions, disk), or set behav_cache_dir "
                   "to another folder, or pass --behav-cache off")
        return CacheError(f"sample cache {self.path} cannot be used ({why}); fix: {fix}")

    def _run_error(self, exc: sqlite3.Error) -> CacheError:
        """An SQLite error during the run, as one line (a corrupted page found late too)."""
        failure = self._failure(exc)
        if isinstance(failure, _Unusable):
            return CacheError(f"sample cache {self.path} {failure}; fix: {_REFRESH_FIX}")
        assert isinstance(failure, CacheError)
        return failure

    # -- reading and writing -------------------------------------------------------------
    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored values of ``keys`` that are present and intact (a row whose
        checksum does not match is left out, counted in ``rejected``)."""
        keys = list(keys)
        if not self.reads or not keys:
            self.misses += len(keys)
            return {}
        found: dict[str, Any] = {}
        if self.mode == "readonly" and self._conn is None and not (
            self.path is not None and self.path.exists()
        ):
            self.misses += len(keys)
            return found  # read-only never creates a cache file
        with self._lock:
            try:
                db = self._db()
                for start in range(0, len(keys), 500):
                    found.update(self._select(db, keys[start : start + 500]))
            except sqlite3.Error as exc:
                raise self._run_error(exc) from None
            except _Unusable as bad:
                raise CacheError(f"sample cache {self.path} {bad}; fix: {_REFRESH_FIX}") from None
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def _select(self, db: sqlite3.Connection, keys: list[str]) -> dict[str, Any]:
        """One chunk of rows, each checked against its checksum and parsed."""
        if not self._table:
            return {}
        marks = ",".join("?" * len(keys))
        sums = "sum" if self._sums else "NULL"
        out: dict[str, Any] = {}
        for k, v, s in db.execute(
            f"SELECT key, value, {sums} FROM samples WHERE key IN ({marks})", keys
        ):
            if self._sums and s != row_checksum(k, v):
                self.rejected += 1
                continue
            try:
                out[k] = json.loads(v)
            except (TypeError, ValueError):
                self.rejected += 1
        return out

    def put_many(self, items: Mapping[str, Any]) -> None:
        """Store values (one transaction per batch: all or nothing), each with its checksum."""
        if not self.writes or not items:
            return
        rows = []
        for k, v in items.items():
            text = json.dumps(v, sort_keys=True)
            rows.append((k, text, row_checksum(k, text)))
        with self._lock:
            try:
                db = self._db()
                with db:
                    db.executemany(
                        "INSERT OR REPLACE INTO samples (key, value, sum) VALUES (?, ?, ?)", rows
                    )
            except sqlite3.Error as exc:
                raise self._run_error(exc) from None
            except _Unusable as bad:
                raise CacheError(f"sample cache {self.path} {bad}; fix: {_REFRESH_FIX}") from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
