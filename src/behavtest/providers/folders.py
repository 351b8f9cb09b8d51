"""Local model folders and peft adapters, from files alone (nothing is loaded).

What a local spec means on disk: whether a name is a folder, a fingerprint of a
folder's weights, the ``base+adapter`` split and the adapter's files, folder
globs for arms of seeds and checkpoint series, and a quick check that a hub
name can be had at all. Shared by the ``hf/`` and ``embedded`` kinds.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
from pathlib import Path
from typing import Any

from behavtest.errors import InvalidArgument, MissingDependency, ModelNotFound


def looks_like_path(name: str) -> bool:
    """A spec names a local folder when it starts like a path or exists on disk."""
    return name.startswith((".", "/", "~")) or os.path.isdir(os.path.expanduser(name))


def hub_preflight(name: str, timeout: float = 3.0) -> None:
    """Fail in seconds, not minutes, when a hub model is neither cached nor reachable.

    transformers retries an unreachable hub for about a minute before giving
    up; this checks the local hub cache first, then opens one TCP connection
    to the hub endpoint with a short timeout.
    """
    import socket
    from urllib.parse import urlparse

    try:
        from huggingface_hub import constants, try_to_load_from_cache
    except ImportError:
        return  # transformers is missing; the provider reports that itself
    cached = try_to_load_from_cache(name, "config.json")
    if isinstance(cached, str):
        return
    offline = constants.HF_HUB_OFFLINE
    url = urlparse(constants.ENDPOINT)
    host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
    if not offline:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            return
        except OSError:
            pass
    why = "HF_HUB_OFFLINE is set" if offline else f"{host} is unreachable"
    raise ModelNotFound(
        f"hub model {name!r} is not in the local cache and {why}; fix: download it where "
        "there is network (huggingface-cli download) or pass hf/<local folder>"
    )


def weights_fingerprint(folder: Path) -> str:
    """A cheap content fingerprint of a model folder.

    Hashes config files in full and each weight file's size plus its first and
    last MiB; hashing gigabytes of weights on every start would cost more
    than the runs it protects.
    """
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        h.update(p.name.encode())
        if p.suffix in (".json", ".jinja", ".txt", ".model") and p.stat().st_size < 50_000_000:
            h.update(p.read_bytes())
        elif p.suffix in (".safetensors", ".bin", ".gguf", ".pt"):
            size = p.stat().st_size
            h.update(str(size).encode())
            with p.open("rb") as f:
                h.update(f.read(1 << 20))
                f.seek(max(0, size - (1 << 20)))
                h.update(f.read(1 << 20))
    return h.hexdigest()[:16]


def folder_fingerprint(label: str, folder: Path) -> str:
    """``label@hash`` for a model folder: what HFProvider reports, computable
    without loading the weights (see registry.fingerprint_without_loading)."""
    return f"{label}@{weights_fingerprint(folder)}"


# -- peft adapters ------------------------------------------------------------
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def split_adapter(name: str) -> tuple[str, str | None]:
    """``'./base+./lora'`` -> ``('./base', './lora')``; no ``+``, no adapter.

    A name that is itself an existing folder is never split (a folder may
    have ``+`` in its name). Otherwise the split is at the first ``+`` whose
    right side is an existing folder (adapter paths may contain ``+`` too),
    else at the last ``+``, so that the error names a plausible adapter path.
    """
    if "+" not in name or os.path.isdir(os.path.expanduser(name)):
        return name, None
    cuts = [i for i, ch in enumerate(name) if ch == "+"]
    for i in cuts:
        if os.path.isdir(os.path.expanduser(name[i + 1 :])):
            return name[:i], name[i + 1 :]
    return name[: cuts[-1]], name[cuts[-1] + 1 :]


def check_adapter_folder(adapter: str) -> Path:
    """The adapter's folder, or a one-line error saying what is wrong and the fix.

    Adapters load from local folders only (what ``save_pretrained`` of a peft
    model writes: ``adapter_config.json`` plus ``adapter_model.safetensors``),
    never from a hub.
    """
    if not adapter.strip():
        raise InvalidArgument(
            "nothing follows '+' in the model spec; fix: hf/<base>+<adapter folder>, "
            "or drop the '+'"
        )
    folder = Path(os.path.expanduser(adapter))
    if not folder.is_dir():
        raise ModelNotFound(
            f"adapter folder {adapter!r} does not exist (adapters load from local folders "
            "only); fix: pass the folder a peft model's save_pretrained wrote"
        )
    if not (folder / ADAPTER_CONFIG).is_file():
        raise InvalidArgument(
            f"{adapter!r} has no {ADAPTER_CONFIG}, so it is not a peft adapter; fix: pass the "
            "folder a peft model's save_pretrained wrote, or a full checkpoint as "
            "hf/<folder> without '+'"
        )
    if not any((folder / w).is_file() for w in ADAPTER_WEIGHTS):
        raise ModelNotFound(
            f"adapter folder {adapter!r} has no {ADAPTER_WEIGHTS[0]} or {ADAPTER_WEIGHTS[1]}; "
            "fix: copy the adapter's weights next to its adapter_config.json"
        )
    return folder


def adapter_fingerprint(adapter: str) -> str:
    """``adapter@hash`` of an adapter folder (its config and weights), from files alone.

    Appended to the base model's fingerprint with ``+``: ``hf/./base@1a2b+./lora@3c4d``.
    """
    return folder_fingerprint(adapter, check_adapter_folder(adapter))


def require_peft(purpose: str = "adapters (hf/<base>+<adapter>)") -> None:
    """MissingDependency when peft is not installed, checked without importing it."""
    import importlib.util

    try:
        found = importlib.util.find_spec("peft") is not None
    except ValueError:  # sys.modules["peft"] is None
        found = False
    if not found:
        raise MissingDependency("peft", "peft", purpose)


_GLOB_CHARS = set("*?[")


def _natural_key(text: str) -> list[Any]:
    """'ckpt-10' after 'ckpt-9': checkpoint series are ordered by their numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def glob_folders(spec: str, pattern: str) -> list[str]:
    """The folders a pattern matches, in natural order; a pattern without glob
    characters is returned as it is (validated later). A glob that matches no
    folder is an error: a typo would otherwise test nothing."""
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


def expand_folders(spec: str, name: str) -> list[str]:
    """``runs/seed-*`` -> ``[runs/seed-1, runs/seed-2, ...]``; with an adapter glob
    (``base+runs/lora-*``) an arm of adapters on each base."""
    if not (_GLOB_CHARS & set(name)):
        return [name]
    base, adapter = split_adapter(name)
    bases = glob_folders(spec, base) if base else [""]
    if adapter is None:
        return bases
    return [f"{b}+{a}" for b in bases for a in glob_folders(spec, adapter)]
