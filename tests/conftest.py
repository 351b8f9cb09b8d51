"""Shared fixtures for behavtest's own tests."""

from __future__ import annotations

pytest_plugins = ["pytester"]
