"""Provider kinds keyed by the prefix of a ``provider/name`` spec.

``hf/./runs/ckpt-500``, ``hf/Qwen/Qwen2.5-7B-Instruct``, ``embedded`` (the
default), ``openai/gpt-4.1-2025-04-14`` (or any OpenAI-compatible server),
``double/yes=0.3,no=0.7`` (the test double). The spec is split on the first
``/``; a ``+`` before any ``/`` also ends the prefix (``embedded+./lora``).

Every kind, built-in or not, is a :class:`~behavtest.providers.kind.ProviderKind`
registered in the ``behavtest.providers`` entry-point group under its prefix
(behavtest's own are in its ``pyproject.toml``). Only the kind a spec names is
imported. This module knows no particular kind.
"""

from __future__ import annotations

import functools
import os
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from behavtest.errors import InvalidArgument, ModelNotFound
from behavtest.providers.base import Provider
from behavtest.providers.folders import looks_like_path
from behavtest.providers.kind import ProviderConfig, ProviderKind
from behavtest.providers.precision import Precision

ENTRY_POINT_GROUP = "behavtest.providers"
DEFAULT_MODEL = "embedded"


def _entry_points() -> dict[str, list[EntryPoint]]:
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.value not in {e.value for e in found.get(ep.name, [])}:
            found.setdefault(ep.name, []).append(ep)
    return found


def known_prefixes() -> list[str]:
    """Every registered prefix (nothing is imported to list them)."""
    return sorted(_entry_points())


@functools.cache
def kind(prefix: str) -> ProviderKind:
    """The registered kind for ``prefix`` (imported on first use, then kept)."""
    eps = _entry_points().get(prefix, [])
    if not eps:
        raise InvalidArgument(
            f"unknown model provider {prefix!r}; fix: use one of "
            f"{', '.join(p + '/' for p in known_prefixes())} (e.g. hf/./my-checkpoint), or "
            f"install the package that registers {prefix!r} in the {ENTRY_POINT_GROUP!r} "
            "entry-point group"
        )
    if len(eps) > 1:
        raise InvalidArgument(
            f"model provider {prefix!r} is registered twice ({', '.join(e.value for e in eps)}); "
            "fix: uninstall one of the packages"
        )
    loaded = eps[0].load()
    instance = loaded() if isinstance(loaded, type) else loaded
    if not isinstance(instance, ProviderKind):
        raise InvalidArgument(
            f"entry point {prefix} = {eps[0].value} is not a behavtest ProviderKind; fix: "
            "register a subclass of behavtest.providers.ProviderKind"
        )
    if instance.prefix != prefix:
        raise InvalidArgument(
            f"entry point {prefix!r} loads the kind of prefix {instance.prefix!r}; fix: "
            "register it under its own prefix"
        )
    return instance


def split_spec(spec: str) -> tuple[str, str]:
    """Split on the first ``/``: ``'hf/Qwen/Qwen2.5'`` -> ``('hf', 'Qwen/Qwen2.5')``.

    A ``+`` before any ``/`` ends the prefix and stays with the rest:
    ``'embedded+./lora'`` -> ``('embedded', '+./lora')``.
    """
    spec = spec.strip()
    if not spec:
        raise InvalidArgument(
            "empty model spec; fix: pass e.g. --behav-model embedded or hf/<path>")
    prefix, _, rest = spec.partition("/")
    if "+" in prefix:
        plus = spec.index("+")
        return spec[:plus], spec[plus:]
    return prefix, rest


def join_spec(prefix: str, name: str) -> str:
    """The inverse of :func:`split_spec`."""
    if not name or name.startswith("+"):
        return prefix + name
    return f"{prefix}/{name}"


def _check_not_a_bare_path(spec: str) -> None:
    """A spec that no kind's prefix starts but that reads as a local path
    (``./ckpt``, ``/models/x``, ``~/run``, a folder that exists) is a checkpoint
    given without its provider: say so, name the path and whether it exists,
    instead of calling ``.`` or ``''`` an unknown provider."""
    spec = spec.strip()
    if spec.startswith("+"):
        raise InvalidArgument(f"model spec {spec!r} has no base model before '+'; fix: name "
                              "it, e.g. embedded+./my-adapter or hf/<base>+./my-adapter")
    if not looks_like_path(spec):
        return
    if os.path.exists(os.path.expanduser(spec)):
        raise InvalidArgument(f"model spec {spec!r} is a local path without a provider; "
                              f"fix: --behav-model hf/{spec}")
    raise ModelNotFound(f"model spec {spec!r} is a local path that does not exist (and a "
                        f"path needs its provider, hf/{spec}); fix: pass an existing "
                        "checkpoint folder as hf/<folder>")


def kind_of(spec: str) -> tuple[ProviderKind, str]:
    """The kind a spec names, and the spec without its prefix."""
    prefix, name = split_spec(spec)
    try:
        return kind(prefix), name
    except InvalidArgument:
        if prefix not in _entry_points():  # unknown, rather than registered but broken
            _check_not_a_bare_path(spec)
        raise


def expand_spec(spec: str) -> list[str]:
    """A spec, or the specs a glob in it stands for (``hf/runs/seed-*``), in order."""
    k, name = kind_of(spec)
    return [join_spec(k.prefix, n) for n in k.expand(name)]


def validate_spec(spec: str, config: ProviderConfig | None = None) -> None:
    """Fail early, with one line, on a spec that can never load (nothing is loaded)."""
    k, name = kind_of(spec)
    k.validate(name, config or ProviderConfig())


def fingerprint_without_loading(spec: str, config: ProviderConfig | None = None) -> str | None:
    """The fingerprint the spec's provider will report, from files and names alone
    (None when only loading can tell). It lets a fully cached rerun replay every
    sample without loading any weights."""
    k, name = kind_of(spec)
    return k.fingerprint(name, config or ProviderConfig())


def weights_folder(spec: str) -> Path | None:
    """The local folder of plain weights a spec loads, where training can start from
    (``embedded``, ``hf/<folder>``); None for a hub name, a spec with an adapter,
    a remote model. Nothing is validated: see :func:`validate_spec`."""
    k, name = kind_of(spec)
    return k.weights_folder(name)


def precision_without_loading(spec: str, config: ProviderConfig | None = None) -> Precision | None:
    """The dtypes the spec's provider will compute in (None: not the harness's to
    choose). Local kinds resolve ``config.dtype`` for this machine (see ``precision``)."""
    k, name = kind_of(spec)
    return k.precision(name, config or ProviderConfig())


def load_provider(spec: str, config: ProviderConfig | None = None) -> Provider:
    """Build the provider a spec names (this is where weights get loaded)."""
    k, name = kind_of(spec)
    config = config or ProviderConfig()
    k.validate(name, config)
    return k.load(name, config)
