"""One local model per machine, shared by every xdist worker: the model engine.

Why: under ``pytest -n N`` every worker that samples would load its own copy
of a local model. The engine is one process that loads the provider once and
serves it to all workers over a Unix socket, batching rows from all of them
together, so the model runs full batches even when each worker asks for a
few samples. It knows no particular provider kind: it loads the spec through
the provider registry with a JSON-able
:class:`~behavtest.providers.kind.ProviderConfig`.

One job per module:

* :mod:`~behavtest.engine.wire`: the JSON messages (never pickle) and how
  errors cross the socket.
* :mod:`~behavtest.engine.batcher`: the one thread that owns the provider and
  merges queued rows of all clients into batches (a short window waits for
  more rows when a batch is not full).
* :mod:`~behavtest.engine.server`: listening (HMAC-authenticated), one thread
  per client, and the engine's lifetime (its owner process, idleness).
* :mod:`~behavtest.engine.client`: :class:`EngineProvider`, the Provider that
  workers use; it imports nothing heavy.
* :mod:`~behavtest.engine.launcher`: :func:`ensure_engine` starts the engine
  once per (spec, config, owner) under a file lock, race-free however many
  workers call it at once; :func:`stop_engines` ends a run's engines.
* ``python -m behavtest.engine`` (:mod:`~behavtest.engine.__main__`): the
  engine process itself.
"""

from behavtest.engine.batcher import DEFAULT_WINDOW_MS, Batcher, BatchStats
from behavtest.engine.client import EngineProvider, key_path, read_authkey
from behavtest.engine.launcher import (
    EnginePaths,
    engine_id,
    engine_paths,
    engine_stats,
    ensure_engine,
    stop_engine,
    stop_engines,
)
from behavtest.engine.server import AUTHKEY_ENV, DEFAULT_IDLE_EXIT, EngineServer
from behavtest.engine.wire import PROTOCOL, EngineDied, EngineError

__all__ = [
    "engine_stats",
    "AUTHKEY_ENV",
    "DEFAULT_IDLE_EXIT",
    "DEFAULT_WINDOW_MS",
    "PROTOCOL",
    "BatchStats",
    "Batcher",
    "EngineDied",
    "EngineError",
    "EnginePaths",
    "EngineProvider",
    "EngineServer",
    "engine_id",
    "engine_paths",
    "ensure_engine",
    "key_path",
    "read_authkey",
    "stop_engine",
    "stop_engines",
]
