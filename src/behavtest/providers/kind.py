"""What a provider kind is: the one type that owns everything about its specs.

A model spec is ``prefix/name`` (``hf/./runs/ckpt-500``, ``openai/gpt-4.1``,
``embedded``). The prefix names a :class:`ProviderKind`; the kind alone knows
how to read the rest: how to validate it without loading anything, expand it
(globs over checkpoint folders), fingerprint it from files alone (so a cached
rerun loads no weights), find its model card, load it, and whether the shared
engine should serve it (one copy of local weights per machine under xdist).

Built-in and third-party kinds register the same way, through the
``behavtest.providers`` entry-point group (see ``registry``), and get the same
treatment from the session, the cache and the engine.

Options reach a kind explicitly, as a :class:`ProviderConfig` built from the
run's configuration (never through environment variables set behind its
back). The config is plain JSON-able data because the engine, a separate
process, receives it on its command line and builds the provider from it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

from behavtest.errors import InvalidArgument
from behavtest.providers.base import Provider
from behavtest.providers.precision import Precision, check_dtype

# Rows decoded together by a local model. bench/ceiling.py sweeps plain batched
# generate on the embedded model here: throughput still grows past 64 rows but
# slowly, while a 7B model's key/value cache for 64 rows of a few hundred tokens
# already takes gigabytes of a GPU's memory.
DEFAULT_BATCH_SIZE = 64


@dataclass(frozen=True)
class ProviderConfig:
    """What a run tells every provider kind (the kind takes what it needs).

    ``batch_size``: rows per forward pass of a local model (and the chunk the
    model handle commits to the cache). ``threads``: torch intra-op threads of
    this process (None: torch's default). ``base_url``: the OpenAI-compatible
    server of ``openai/`` models (None: the kind's own default). ``dtype``:
    what local weights compute in, "auto" (the fastest on this machine: see
    ``precision``) or a dtype's name.
    """

    batch_size: int = DEFAULT_BATCH_SIZE
    threads: int | None = None
    base_url: str | None = None
    dtype: str = "auto"

    def __post_init__(self) -> None:
        check_dtype(self.dtype)
        if isinstance(self.batch_size, bool) or self.batch_size < 1:
            raise InvalidArgument(
                f"batch size {self.batch_size!r} must be >= 1; fix: e.g. --behav-batch-size 16"
            )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ProviderConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidArgument(
                f"unknown provider config fields {', '.join(unknown)}; "
                f"fix: use only {', '.join(sorted(known))}"
            )
        return cls(**raw)


class ProviderKind(ABC):
    """One kind of model (one spec prefix). Subclass it and register it.

    ``name`` below is always the spec without its prefix: for
    ``hf/./runs/ckpt`` it is ``./runs/ckpt``; for ``embedded+./lora`` it is
    ``+./lora``. Every method but :meth:`load` must be cheap: no weights, no
    network (the session calls them at start-up for every spec).
    """

    prefix: ClassVar[str]
    #: Served by the shared engine under xdist (local weights: one copy per machine).
    shared_engine: ClassVar[bool] = False

    @abstractmethod
    def validate(self, name: str, config: ProviderConfig) -> None:
        """Raise a one-line :class:`~behavtest.errors.BehavtestError` naming the
        problem and the fix when ``name`` can never load; load nothing."""

    def expand(self, name: str) -> list[str]:
        """The names a (glob) name stands for, in order: an arm of seeds or a
        series of checkpoints in one spec. Default: the name itself."""
        return [name]

    def fingerprint(self, name: str, config: ProviderConfig) -> str | None:
        """The fingerprint the loaded provider will report, from files and names
        alone; None when only loading can tell (a hub revision)."""
        return None

    def precision(self, name: str, config: ProviderConfig) -> Precision | None:
        """The dtypes the loaded provider will compute in, without loading it
        (None: not the harness's to choose, e.g. a remote API)."""
        return None

    def model_folder(self, name: str) -> Path | None:
        """The folder whose ``behavtest.json`` model card declares the model's
        training (for an adapter spec: the adapter's folder), if any."""
        return None

    def weights_folder(self, name: str) -> Path | None:
        """The local folder of plain weights the name loads (what training starts
        from), or None: a hub name, an adapter on top, a remote model. Checks
        nothing (validate does)."""
        return None

    @abstractmethod
    def load(self, name: str, config: ProviderConfig) -> Provider:
        """Build the provider (this is where weights are loaded or clients made)."""
