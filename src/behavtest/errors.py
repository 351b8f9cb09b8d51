"""One exception tree for everything behavtest raises on purpose.

Every message names the bad value and how to fix it, on one line, so that the
pytest plugin can print it as a usage error without a traceback.
"""

from __future__ import annotations


class BehavtestError(Exception):
    """Root of every error behavtest raises deliberately."""


class InvalidArgument(BehavtestError, ValueError):
    """A value passed by the user (option, config, test code) is not valid."""


class ModelNotFound(BehavtestError):
    """A model spec names something that does not exist or cannot be reached."""


class MissingDependency(BehavtestError, ImportError):
    """An optional package needed by a provider is not installed."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the '{package}' package, which is not installed; "
            f"fix: pip install 'behavtest[{extra}]'"
        )
        self.package = package
        self.extra = extra
