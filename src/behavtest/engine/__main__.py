"""``python -m behavtest.engine``: the engine process, as the launcher starts it.

    python -m behavtest.engine --spec SPEC --address SOCKET [--config-json JSON]
        [--window-ms MS] [--idle-exit S] [--owner-pid PID] [--authkey-file FILE] [--log FILE]

It builds the :class:`~behavtest.providers.kind.ProviderConfig` from
``--config-json``, loads the provider with ``registry.load_provider`` *before*
it listens (so a socket that answers is a model that is ready), and serves it
until stopped. A failure to start is printed as the last line
(``ERROR <class> <one line>``), which the launcher raises in the worker that
started it. The engine knows no particular provider kind: the spec's kind,
found through the registry, builds the model from the config.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

from behavtest.engine.batcher import DEFAULT_WINDOW_MS
from behavtest.engine.client import key_path
from behavtest.engine.server import AUTHKEY_ENV, DEFAULT_IDLE_EXIT, EngineServer, server_authkey
from behavtest.engine.wire import FAIL_PREFIX
from behavtest.errors import BehavtestError, InvalidArgument, first_line
from behavtest.providers.kind import ProviderConfig


def _config(text: str | None) -> ProviderConfig:
    """The ProviderConfig a ``--config-json`` argument holds (default: the defaults)."""
    if text is None:
        return ProviderConfig()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(
            f"--config-json is not JSON ({first_line(exc)}); fix: pass a ProviderConfig's to_json()"
        ) from None
    if not isinstance(raw, dict):
        raise InvalidArgument(
            f"--config-json {text[:80]!r} is not a JSON object; fix: pass a ProviderConfig's "
            "to_json()"
        )
    return ProviderConfig.from_json(raw)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m behavtest.engine",
        description="Serve one model to many behavtest workers over a Unix socket.",
    )
    ap.add_argument("--spec", required=True, help="model spec, e.g. embedded or hf/./ckpt")
    ap.add_argument("--address", required=True, help="Unix socket path to listen on")
    ap.add_argument("--config-json", default=None,
                    help="the ProviderConfig as a JSON object (its batch_size is the "
                    "engine's batch); default: the defaults")
    ap.add_argument("--window-ms", type=float, default=DEFAULT_WINDOW_MS,
                    help="longest wait for more rows when a batch is not full")
    ap.add_argument("--idle-exit", type=float, default=DEFAULT_IDLE_EXIT,
                    help="exit after this many seconds with no client connected")
    ap.add_argument("--owner-pid", type=int, default=None,
                    help="exit when this process is gone (default: the parent)")
    ap.add_argument("--authkey-file", default=None,
                    help=f"0600 file holding the hex authkey (if ${AUTHKEY_ENV} is unset)")
    ap.add_argument("--log", default=None, help="this engine's log file (reported to clients)")
    return ap


def _report_failure(spec: str, exc: BaseException) -> None:
    """The one line ``ensure_engine`` reads when the engine could not start."""
    traceback.print_exc()
    name = type(exc).__name__ if isinstance(exc, BehavtestError) else "EngineError"
    text = first_line(exc) if isinstance(exc, BehavtestError) else (
        f"the model engine for {spec} failed to start: "
        f"{type(exc).__name__}: {first_line(exc)}"
    )
    print(f"{FAIL_PREFIX}{name} {text}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    owner = args.owner_pid if args.owner_pid is not None else os.getppid()
    server: EngineServer | None = None
    own_key = False

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    started = time.perf_counter()
    try:
        from behavtest.providers.registry import load_provider

        key, own_key = server_authkey(args.authkey_file)
        config = _config(args.config_json)
        provider = load_provider(args.spec, config)
        server = EngineServer(
            provider, args.spec, args.address, key, max_batch=config.batch_size,
            window_ms=args.window_ms, idle_exit=args.idle_exit, owner_pid=owner,
            log_path=args.log, config=config,
        )
        server.log(f"loaded {provider.name} in {time.perf_counter() - started:.1f} s")
        why = server.serve()
    except (KeyboardInterrupt, SystemExit) as exc:
        why = f"interrupted ({type(exc).__name__})"
    except BaseException as exc:  # noqa: BLE001 - reported as one line for ensure_engine
        _report_failure(args.spec, exc)
        return 3
    if server is not None:
        server.log(f"exiting: {why}")
        with contextlib.suppress(OSError):
            os.unlink(args.address)
    if own_key:
        with contextlib.suppress(OSError):
            key_path(args.address).unlink()
    # Daemon threads may sit inside torch; skip interpreter teardown.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
