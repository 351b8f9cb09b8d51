"""A sample cache: every completion stored under what determines it.

Key = (model fingerprint, messages, generation settings, seed of the sample).
The seed is derived from the run seed, the prompt and the sample index, so a
rerun replays, raising n draws only the new indices, and an interrupted run
resumes. Values are JSON, never pickle. Storage is SQLite in WAL mode with a
busy timeout, so many xdist workers read and write one file at once; each
batch is committed as it finishes, so a killed run keeps what it drew.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from behavtest.errors import InvalidArgument

CacheMode = Literal["use", "refresh", "off", "readonly"]
CACHE_MODES: tuple[CacheMode, ...] = ("use", "refresh", "off", "readonly")


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


class SampleCache:
    """Key -> JSON value store. ``mode`` decides whether it reads and/or writes."""

    def __init__(self, path: Path | None, mode: CacheMode = "use") -> None:
        checked = check_cache_mode(mode)
        self.mode: CacheMode = checked if path is not None else "off"
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def reads(self) -> bool:
        return self.mode in ("use", "readonly")

    @property
    def writes(self) -> bool:
        return self.mode in ("use", "refresh")

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            assert self.path is not None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=60.0, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS samples (key TEXT PRIMARY KEY, value TEXT)")
            conn.commit()
            self._conn = conn
        return self._conn

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
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
            db = self._db()
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for k, v in db.execute(
                    f"SELECT key, value FROM samples WHERE key IN ({marks})", chunk
                ):
                    found[k] = json.loads(v)
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, items: Mapping[str, Any]) -> None:
        if not self.writes or not items:
            return
        rows = [(k, json.dumps(v, sort_keys=True)) for k, v in items.items()]
        with self._lock:
            db = self._db()
            with db:  # one transaction per batch: all or nothing
                db.executemany("INSERT OR REPLACE INTO samples (key, value) VALUES (?, ?)", rows)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
