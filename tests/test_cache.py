"""The sample cache: its modes, and many processes writing it at once."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from behavtest.sampling.cache import SampleCache


def test_modes(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    SampleCache(path, "use").put_many({"a": {"text": "x"}})
    assert SampleCache(path, "use").get_many(["a"]) == {"a": {"text": "x"}}
    refresh = SampleCache(path, "refresh")
    assert refresh.get_many(["a"]) == {}  # refresh ignores what is stored...
    refresh.put_many({"a": {"text": "y"}})  # ...and overwrites it
    readonly = SampleCache(path, "readonly")
    assert readonly.get_many(["a"]) == {"a": {"text": "y"}}
    readonly.put_many({"b": {"text": "z"}})  # read-only never writes
    assert SampleCache(path, "use").get_many(["b"]) == {}
    off = SampleCache(path, "off")
    assert off.get_many(["a"]) == {} and off.mode == "off"


def test_readonly_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.sqlite"
    assert SampleCache(path, "readonly").get_many(["a"]) == {}
    assert not path.exists()


def _writer(path: str, worker: int) -> None:
    cache = SampleCache(Path(path), "use")
    for batch in range(20):
        # keys overlap between workers (same sample drawn twice) and are unique too
        items = {f"shared-{batch}-{i}": {"text": f"s{batch}-{i}"} for i in range(8)}
        items.update({f"w{worker}-{batch}-{i}": {"text": "é" * i} for i in range(8)})
        cache.put_many(items)
        assert set(cache.get_many(items)) == set(items)
    cache.close()


def test_eight_processes_write_at_once_without_errors(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), w)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 8
    with sqlite3.connect(path) as db:
        rows = dict(db.execute("SELECT key, value FROM samples").fetchall())
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(rows) == 20 * 8 + 8 * 20 * 8
    assert all(isinstance(json.loads(v), dict) for v in rows.values())  # JSON, never pickle


def test_bad_mode_is_one_line() -> None:
    from behavtest.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="is not one of"):
        SampleCache(None, "sometimes")  # type: ignore[arg-type]
