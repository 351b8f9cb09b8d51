"""One exception tree for everything behavtest raises on purpose.

    BehavtestError
    ├── InvalidArgument (also a ValueError)    bad input: an option, a config, test code
    │   └── PrefillUnsupported                 a model that cannot continue an assistant message
    ├── ModelNotFound                          a spec names nothing that can be loaded
    ├── MissingDependency (also an ImportError) an optional package is not installed
    ├── ProviderError                          a model backend failed while serving
    │   (the engine's EngineError, the openai/ provider's APIRequestFailed, ...)
    └── CheckEnded                             a check ended the test with its verdict
        ├── BehaviourFailed (also an AssertionError)  FAIL: the data contradict the claim
        ├── Inconclusive                              the interval straddles the threshold
        └── PreconditionNotMet                        the property cannot be judged

Every message of the first four names the bad value and how to fix it, on one
line, so that the pytest plugin can print it as a usage error without a
traceback. A :class:`CheckEnded` carries its verdict, whose numbers are the
message; it and its three kinds live beside the verdict they carry
(:mod:`behavtest.verdict`), so that this root module imports nothing of
behavtest. ``behavtest`` exports them all.
"""

from __future__ import annotations


class BehavtestError(Exception):
    """Root of every error behavtest raises deliberately."""


class InvalidArgument(BehavtestError, ValueError):
    """A value passed by the user (option, config, test code) is not valid."""


class PrefillUnsupported(InvalidArgument):
    """A conversation ends with an assistant message to continue (a prefill,
    see ``providers.base``) and the model or server cannot continue one: it is
    refused, never answered as a new turn."""


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


class ProviderError(BehavtestError):
    """A model backend (a local engine, an API server) failed a request."""


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (its class name if it has none),
    cut to ``limit`` characters: what one-line errors quote of a library's error."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:limit]
