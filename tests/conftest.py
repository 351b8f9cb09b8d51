"""Shared fixtures for behavtest's own tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings as hypothesis_settings

from behavtest.settings import default_profile_name

# Property tests draw random examples while developing ("dev") and the same
# examples on every CI run ("ci": derandomized, so a red run can be replayed and
# a green one cannot turn red by chance; print_blob says how to reproduce a
# failure; no deadline, since shared CI machines are slow at random). CI is
# detected by the plugin's own rule (behavtest.settings.default_profile_name).
hypothesis_settings.register_profile("dev")
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
hypothesis_settings.load_profile("ci" if default_profile_name() == "ci" else "dev")


@pytest.fixture(autouse=True)
def _suite_opts_in(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Projects made with ``pytester`` are behaviour suites that opt in to the plugin,
    as a user's would from its conftest (behavtest has no pytest11 entry point);
    tests marked ``without_behavtest`` get a project that does not."""
    if "pytester" in request.fixturenames and not request.node.get_closest_marker(
        "without_behavtest"
    ):
        monkeypatch.setenv("PYTEST_PLUGINS", "behavtest.plugin")


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    """Base URL of a real llama-cpp-python server serving the embedded GGUF
    (see tests/servers.py), started once per session and stopped at its end.

    Skipped when llama-cpp-python[server] is not installed, except under CI
    ($CI set), where scripts/setup-dev.sh installs it and its absence is a failure.
    """
    from servers import missing_server_packages, start_llama_server

    missing = missing_server_packages()
    if missing:
        why = f"{', '.join(missing)} not installed (bash scripts/setup-dev.sh installs them)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI needs the llama.cpp server for the openai/ tests: {why}")
        pytest.skip(why)
    from behavtest.providers.embedded import gguf_path

    server = start_llama_server(gguf_path())
    print(f"\nllama_cpp.server up in {server.startup_seconds:.1f} s at {server.base_url}")
    try:
        yield server.base_url
    finally:
        server.stop()
        server.log.unlink(missing_ok=True)
