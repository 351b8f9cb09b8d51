"""Starting the engine once per run, however many workers ask at once.

:func:`ensure_engine` identifies an engine by what it serves and whose run it
belongs to (:func:`engine_id`), takes ``run_dir/engine-<id>.lock`` (a
FileLock), and under it either finds the engine answering or starts it and
waits until it answers. Loading happens before the engine listens, so an
engine that answers is a model that is ready. An engine that fails to start
leaves its one-line error in ``engine-<id>.error``, which later callers raise
without trying again: one failed load per run, not one per worker.

The engine is a plain detached child process (``python -m behavtest.engine``),
not a multiprocessing child that dies with the worker that started it:
workers come and go (xdist restarts crashed ones), the run does not. The
options reach it as one ``--config-json`` argument (a
:class:`~behavtest.providers.kind.ProviderConfig`), the authkey through the
environment and a 0600 key file next to the socket. :func:`stop_engines` ends
every engine of a run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from behavtest.engine.batcher import DEFAULT_WINDOW_MS
from behavtest.engine.client import EngineProvider, key_path
from behavtest.engine.server import AUTHKEY_ENV, DEFAULT_IDLE_EXIT, alive, proc_stat
from behavtest.engine.wire import FAIL_PREFIX, PROTOCOL, EngineError, error_class
from behavtest.errors import BehavtestError
from behavtest.providers.kind import ProviderConfig

_MAX_SOCKET_PATH = 100  # AF_UNIX path limit: 107 bytes on Linux, 103 on macOS
_STARTED: list[subprocess.Popen[bytes]] = []  # kept so the processes are not reported as leaked


def engine_id(spec: str, config: ProviderConfig, owner_pid: int) -> str:
    """The engine's identity: what it serves and whose run it belongs to.

    The owner's start time is part of it (from /proc where there is one), so a
    new run whose controller reuses an old pid never connects to a previous
    run's engine.
    """
    stat = proc_stat(owner_pid)
    blob = json.dumps(
        {"spec": spec, "config": config.to_json(), "owner": owner_pid,
         "owner_start": stat[1] if stat else None, "protocol": PROTOCOL},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class EnginePaths:
    lock: Path
    address: str
    log: Path
    error: Path
    pointer: Path  # run_dir/engine-<id>.addr: the address, for stop_engines


def engine_paths(run_dir: Path, ident: str) -> EnginePaths:
    """Files of one engine. The socket sits in ``run_dir`` unless that path is too
    long for AF_UNIX; then in a private 0700 folder under the temp dir."""
    stem = f"engine-{ident}"
    sock = run_dir / f"{stem}.sock"
    if len(os.fsencode(str(sock))) > _MAX_SOCKET_PATH:
        sock = _private_tmp() / f"{stem}.sock"
    return EnginePaths(
        lock=run_dir / f"{stem}.lock", address=str(sock), log=run_dir / f"{stem}.log",
        error=run_dir / f"{stem}.error", pointer=run_dir / f"{stem}.addr",
    )


def _private_tmp() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"behavtest-{uid}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    st = os.lstat(folder)
    private = st.st_uid == uid and not st.st_mode & 0o077
    if not os.path.isdir(folder) or os.path.islink(folder) or not private:
        raise EngineError(
            f"{folder} is not a private folder of this user; fix: remove it, or use a shorter "
            "run folder for the engine"
        )
    return folder


def _answers(address: str) -> EngineProvider | None:
    if not os.path.exists(address) or not key_path(address).is_file():
        return None
    try:
        return EngineProvider(address)
    except EngineError:
        return None


def _write_key(path: Path) -> bytes:
    key = secrets.token_bytes(32)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key


def _failure(log: Path, spec: str, rc: int) -> BehavtestError:
    """The error an engine that exited while starting left as its last log line."""
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        lines = []
    last = lines[-1] if lines else ""
    if last.startswith(FAIL_PREFIX):
        name, _, message = last[len(FAIL_PREFIX) :].partition(" ")
        return error_class(name)(message)
    return EngineError(
        f"the model engine for {spec} exited with code {rc} while starting "
        f"({last[:200] or 'no output'}); full log: {log}"
    )


def ensure_engine(
    spec: str,
    config: ProviderConfig | None,
    run_dir: str | os.PathLike[str],
    *,
    owner_pid: int | None = None,
    idle_exit: float = DEFAULT_IDLE_EXIT,
    window_ms: float = DEFAULT_WINDOW_MS,
    start_timeout: float = 900.0,
) -> str:
    """The address of the engine serving ``spec`` for this run, started if need be.

    Race-free across processes: every caller takes ``run_dir/engine-<id>.lock``
    (a FileLock); under it, a caller whose engine answers returns at once and
    the first caller starts it and waits until it answers (loading happens
    before the engine listens), so eight workers starting together start
    exactly one engine; the others wait on the lock meanwhile. An engine that
    fails to start leaves its one-line error in ``engine-<id>.error``, and
    later callers raise it without trying again (one failed load per run, not
    one per worker).

    ``owner_pid`` (default: this process) is the process whose end ends the
    engine: pass the pytest controller's pid under xdist. ``config`` (default
    ``ProviderConfig()``) is what the engine loads the model with; its
    ``batch_size`` is the engine's batch. Give it ``threads=None`` (or the
    machine's cores): the engine is the only process that computes. Connect
    with ``EngineProvider(address)``.
    """
    from filelock import FileLock, Timeout

    config = config or ProviderConfig()
    owner = os.getpid() if owner_pid is None else owner_pid
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    paths = engine_paths(run, engine_id(spec, config, owner))
    try:
        with FileLock(str(paths.lock), timeout=start_timeout):
            if paths.error.is_file():
                name, _, message = paths.error.read_text().strip().partition(" ")
                raise error_class(name)(message)
            live = _answers(paths.address)
            if live is not None:
                live.close()
                return paths.address
            _start(spec, config, paths, owner, idle_exit, window_ms, start_timeout)
    except Timeout:
        raise EngineError(
            f"waited {start_timeout:.0f} s for another worker to start the model engine for "
            f"{spec}; see {paths.log}"
        ) from None
    return paths.address


def _start(
    spec: str,
    config: ProviderConfig,
    paths: EnginePaths,
    owner: int,
    idle_exit: float,
    window_ms: float,
    start_timeout: float,
) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(paths.address)  # stale: nothing answered there
    key = _write_key(key_path(paths.address))
    env = dict(os.environ)
    env[AUTHKEY_ENV] = key.hex()
    src = str(Path(__file__).resolve().parent.parent.parent)  # src/behavtest/engine/launcher.py
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    cmd = [
        sys.executable, "-m", "behavtest.engine", "--spec", spec, "--address", paths.address,
        "--owner-pid", str(owner), "--idle-exit", str(idle_exit), "--window-ms", str(window_ms),
        "--log", str(paths.log), "--config-json", json.dumps(config.to_json(), sort_keys=True),
    ]
    with open(paths.log, "ab") as log:  # appended: an earlier start's log stays readable
        # stdin/stdout must not be the worker's: xdist talks to workers over them,
        # and an engine holding them would keep the controller waiting for EOF.
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    _STARTED.append(proc)
    paths.pointer.write_text(paths.address)
    deadline = time.monotonic() + start_timeout
    while True:
        rc = proc.poll()
        if rc is not None:
            err = _failure(paths.log, spec, rc)
            paths.error.write_text(f"{type(err).__name__} {err}")
            raise err
        live = _answers(paths.address)
        if live is not None:
            live.close()
            return
        if time.monotonic() > deadline:
            proc.kill()
            raise EngineError(
                f"the model engine for {spec} did not answer within {start_timeout:.0f} s; "
                f"see {paths.log}"
            )
        time.sleep(0.05)


def stop_engine(address: str, timeout: float = 10.0) -> bool:
    """Ask the engine at ``address`` to exit and wait for it; True if one was running."""
    live = _answers(address)
    if live is None:
        return False
    pid = live.pid
    start = proc_stat(pid)
    live.shutdown()
    deadline = time.monotonic() + timeout
    while alive(pid, start[1] if start else None) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid, start[1] if start else None):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    for proc in _STARTED:
        if proc.pid == pid:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1.0)
    return True


def engine_stats(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The batching statistics of every engine of the run that still answers
    (``BatchStats`` fields plus ``spec``): for progress lines and the summary."""
    found = []
    for pointer in sorted(Path(run_dir).glob("engine-*.addr")):
        live = _answers(pointer.read_text().strip())
        if live is None:
            continue
        with contextlib.closing(live), contextlib.suppress(EngineError):
            found.append({**live.stats(), "spec": live.info.get("spec")})
    return found


def stop_engines(run_dir: str | os.PathLike[str], timeout: float = 10.0) -> int:
    """Stop every engine started under ``run_dir`` (at the end of a run); returns how
    many were running. Removes their key files; logs stay for reading."""
    stopped = 0
    for pointer in sorted(Path(run_dir).glob("engine-*.addr")):
        address = pointer.read_text().strip()
        stopped += stop_engine(address, timeout)
        with contextlib.suppress(FileNotFoundError):
            key_path(address).unlink()
    return stopped
