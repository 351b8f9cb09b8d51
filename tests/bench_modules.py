"""Statistics kept in bench/ (used only by the calibration studies), for the tests
that check them: ``load("tost")`` imports bench/tost.py the way the bench
scripts import their siblings."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

BENCH = str(Path(__file__).resolve().parents[1] / "bench")


def load(name: str) -> ModuleType:
    """bench/<name>.py as a module."""
    sys.path.insert(0, BENCH)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(BENCH)
