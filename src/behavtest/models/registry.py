"""Providers keyed by the prefix of a ``provider/model`` spec.

``hf/./runs/ckpt-500``, ``hf/Qwen/Qwen2.5-7B-Instruct``, ``embedded`` (the
default), ``openai/gpt-4.1-2025-04-14`` (or any OpenAI-compatible server),
``double/yes=0.3,no=0.7`` (the test double). The spec is split on
the first ``/``. A peft adapter folder follows the base after ``+``:
``hf/./runs/base+./runs/lora``, ``embedded+./runs/lora``. Third-party
providers register through the ``behavtest.providers`` entry-point group
with a factory ``(name: str, options: HFOptions) -> Provider``.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from behavtest.errors import InvalidArgument, ModelNotFound
from behavtest.models.base import Provider
from behavtest.models.hf import (
    HFOptions,
    adapter_fingerprint,
    check_adapter_folder,
    hub_preflight,
    looks_like_path,
    require_peft,
    split_adapter,
)

Factory = Callable[[str, HFOptions], Provider]
DEFAULT_MODEL = "embedded"


def _hf(name: str, options: HFOptions) -> Provider:
    from behavtest.models.hf import HFProvider

    base, adapter = split_adapter(name)
    return HFProvider(base, options, label=f"hf/{base}", adapter=adapter)


def _embedded(name: str, options: HFOptions) -> Provider:
    from behavtest.models.embedded import EMBEDDED_LABEL, converted_folder
    from behavtest.models.hf import HFProvider

    _, adapter = split_adapter(name)
    return HFProvider(str(converted_folder()), options, label=EMBEDDED_LABEL, adapter=adapter)


def _openai(name: str, options: HFOptions) -> Provider:
    from behavtest.models.openai_api import OpenAIOptions, OpenAIProvider

    return OpenAIProvider(name, OpenAIOptions.from_env())


def _double(name: str, options: HFOptions) -> Provider:
    from behavtest.testing import ScriptedProvider

    return ScriptedProvider.from_spec(name)


_BUILTIN: dict[str, Factory] = {
    "hf": _hf,
    "embedded": _embedded,
    "openai": _openai,
    "double": _double,
}


def providers() -> dict[str, Factory]:
    """Built-in providers plus those registered by entry point."""
    found = dict(_BUILTIN)
    for ep in entry_points(group="behavtest.providers"):
        found.setdefault(ep.name, ep.load())
    return found


def split_spec(spec: str) -> tuple[str, str]:
    """Split on the first ``/``: ``'hf/Qwen/Qwen2.5'`` -> ``('hf', 'Qwen/Qwen2.5')``.

    A ``+`` before any ``/`` ends the prefix and stays with the rest:
    ``'embedded+./lora'`` -> ``('embedded', '+./lora')``.
    """
    spec = spec.strip()
    if not spec:
        raise InvalidArgument("empty model spec; fix: pass e.g. --model embedded or hf/<path>")
    prefix, _, rest = spec.partition("/")
    if "+" in prefix:
        plus = spec.index("+")
        return spec[:plus], spec[plus:]
    return prefix, rest


_GLOB_CHARS = set("*?[")


def _natural_key(text: str) -> list[Any]:
    """'ckpt-10' after 'ckpt-9': checkpoint series are ordered by their numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def expand_spec(spec: str) -> list[str]:
    """A spec, or the folders an ``hf/`` glob names, in natural order.

    ``hf/runs/seed-*`` -> ``[hf/runs/seed-1, hf/runs/seed-2, ...]``: an arm of
    fine-tune seeds or a series of checkpoints in one option. A glob that
    matches no folder is an error (a typo would otherwise test nothing).
    """
    prefix, rest = split_spec(spec)
    if prefix not in ("hf", "embedded") or not (_GLOB_CHARS & set(rest)):
        return [spec.strip()]
    base, adapter = split_adapter(rest)
    bases = [f"{prefix}/{b}" if b else prefix for b in _glob_folders(spec, base)]
    if adapter is None:
        return bases
    # hf/base+runs/lora-seed-*: an arm of adapters on one base
    return [f"{b}+{a}" for b in bases for a in _glob_folders(spec, adapter)]


def _glob_folders(spec: str, pattern: str) -> list[str]:
    """The folders a pattern matches (naturally ordered); a pattern without
    glob characters is returned as it is (validated later)."""
    if not (_GLOB_CHARS & set(pattern)):
        return [pattern]
    found = sorted(
        (p for p in glob.glob(os.path.expanduser(pattern)) if os.path.isdir(p)), key=_natural_key
    )
    if not found:
        raise ModelNotFound(
            f"{spec!r} matches no model folder; fix: check the pattern (quote it so the "
            "shell does not expand it)"
        )
    return found


def validate_spec(spec: str) -> None:
    """Fail early, with one line, on specs that can never load (no model is loaded here)."""
    prefix, rest = split_spec(spec)
    known = providers()
    if prefix not in known:
        raise InvalidArgument(
            f"unknown model provider {prefix!r} in {spec!r}; fix: use one of "
            f"{', '.join(p + '/' for p in sorted(known))} (e.g. hf/./my-checkpoint)"
        )
    base, adapter = split_adapter(rest) if prefix in ("hf", "embedded") else (rest, None)
    if adapter is not None:
        check_adapter_folder(adapter)
        require_peft()
    if prefix == "hf":
        if not base:
            raise InvalidArgument(f"{spec!r} names no model; fix: hf/<folder> or hf/<org>/<name>")
        if looks_like_path(base):
            if not os.path.isdir(os.path.expanduser(base)):
                raise ModelNotFound(
                    f"model folder {base!r} does not exist; "
                    "fix: pass an existing checkpoint folder"
                )
        else:
            hub_preflight(base)
    if prefix == "double":
        from behavtest.testing import ScriptedProvider

        ScriptedProvider.from_spec(rest)  # raises on a malformed spec
    if prefix == "openai":
        from behavtest.models.openai_api import check_model_name, resolve_base_url

        check_model_name(rest)
        resolve_base_url()  # raises on a malformed BEHAVTEST_BASE_URL / OPENAI_BASE_URL
    if prefix == "embedded":
        from behavtest.models.embedded import EMBEDDED_NAME

        if base not in ("", "smollm2", EMBEDDED_NAME):
            raise ModelNotFound(
                f"no embedded model named {base!r}; fix: use 'embedded' ({EMBEDDED_NAME})"
            )


def fingerprint_without_loading(spec: str) -> str | None:
    """The fingerprint a spec's provider will report, computed from files alone.

    Known for the embedded model, local folders, ``openai/`` models (by name
    and server, no network call) and the test double; None for hub names
    (their revision is known only after resolving). With an adapter it is
    the base's fingerprint, ``+``, the adapter folder's. It lets a fully
    cached rerun replay every sample without loading any weights.
    """
    from behavtest.models.hf import folder_fingerprint

    prefix, rest = split_spec(spec)
    if prefix in ("embedded", "hf"):
        base, adapter = split_adapter(rest)
        extra = "" if adapter is None else "+" + adapter_fingerprint(adapter)
        if prefix == "embedded":
            from behavtest.models.embedded import EMBEDDED_LABEL, converted_folder

            return folder_fingerprint(EMBEDDED_LABEL, converted_folder()) + extra
        if looks_like_path(base):
            return folder_fingerprint(f"hf/{base}", Path(os.path.expanduser(base))) + extra
        return None
    if prefix == "openai":
        from behavtest.models.openai_api import spec_fingerprint

        return spec_fingerprint(rest)
    if prefix == "double":
        return f"double/{rest}"
    return None


def load_provider(spec: str, options: HFOptions | None = None) -> Provider:
    """Build the provider a spec names (this is where weights get loaded)."""
    validate_spec(spec)
    prefix, rest = split_spec(spec)
    return providers()[prefix](rest, options or HFOptions())
