"""Which floating-point type a local model computes in, decided per machine.

``dtype=auto`` (the default) picks what is fastest *here*: on CUDA, bf16 where
the GPU supports it (as before); on a CPU, bf16 where the CPU has bf16
instructions (``avx512_bf16`` or ``amx_bf16`` on x86, ``bf16`` on Arm) *and*
a short measured check finds bf16 matrix products clearly faster than fp32
on it; fp32 otherwise. Neither half alone is enough: a CPU without the
instructions runs bf16 emulated (several times slower), and one with them can
still lose where the math library does not use them. The decision is kept in
one small JSON file per machine (under the behavtest cache, keyed by the CPU,
its flags and the torch version), taken under a file lock, so every process
of a run (xdist workers, the engine) reads the same answer and the check runs
once per machine. ``float32`` / ``bfloat16`` / ``float16`` override it.

Probabilities stay fp32 on CPU whatever the sampling dtype: a bf16 forward
pass of the embedded model gives log-probabilities that move by up to 0.14
nats with the shape of the batch, and option readings are compared against
margins of a few hundredths. The provider keeps an fp32 copy of the weights
for them (see ``HFProvider``). On a GPU the probabilities use the model's own
dtype (a second fp32 copy of a large model would not fit); they are still
computed one prompt at a time, so a value does not depend on what else runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from behavtest.errors import InvalidArgument

DTYPES = ("auto", "float32", "bfloat16", "float16")
SHORT = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
# bf16 is chosen on a CPU when its matrix products run at least this many
# times as fast as fp32 ones in the check. End to end, sampling gains about
# half of the matmul ratio on the embedded model (bench/dtype.py: matmul 3.7x,
# decoding 2.0x), so below 1.5 bf16 would win little or lose after its casts.
MIN_SPEEDUP = 1.5
CPU_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})
CHOICE_VERSION = "1"  # bump when the check changes: older choices are measured anew


@dataclass(frozen=True)
class Precision:
    """The dtypes a local model computes in, and why they were chosen.

    ``sampling``: the weights and activations when drawing samples (logits are
    upcast to fp32 before a token is drawn). ``probabilities``: option and
    reply log-probabilities. ``reason``: one line a user can check.
    """

    sampling: str
    probabilities: str
    reason: str

    def label(self) -> str:
        """``bf16 (probabilities fp32)``, or ``fp32`` when both are the same."""
        probs = "" if self.probabilities == self.sampling else (
            f" (probabilities {SHORT[self.probabilities]})"
        )
        return SHORT[self.sampling] + probs

    def describe(self) -> str:
        """``dtype bf16 (probabilities fp32): auto, bf16 matmul 2.3x fp32 on this CPU``."""
        return f"dtype {self.label()}: {self.reason}"

    def to_json(self) -> dict[str, str]:
        return {"sampling": self.sampling, "probabilities": self.probabilities,
                "reason": self.reason}

    @classmethod
    def from_json(cls, raw: Any) -> Precision | None:
        """The precision in ``raw`` (as ``to_json`` wrote it), or None when it is not one."""
        if not isinstance(raw, dict) or not all(
            raw.get(k) in SHORT for k in ("sampling", "probabilities")
        ):
            return None
        return cls(raw["sampling"], raw["probabilities"], str(raw.get("reason", "")))


def precision_of(provider: object) -> Precision | None:
    """A provider's ``precision`` attribute when it has one (local models), else None."""
    found = getattr(provider, "precision", None)
    return found if isinstance(found, Precision) else None


def check_dtype(requested: str) -> str:
    """``requested`` if it is a dtype name behavtest takes, else a one-line error."""
    if requested not in DTYPES:
        raise InvalidArgument(
            f"dtype {requested!r} is not one of {', '.join(DTYPES)}; "
            "fix: e.g. --behav-dtype bfloat16, or auto to let the machine decide"
        )
    return requested


def resolve(requested: str, device: str = "auto") -> Precision:
    """The precision a model loaded with ``dtype=requested`` on ``device`` runs in.

    ``device`` "auto" means CUDA when there is one, else the CPU. Cheap after
    the first call on a machine: the CPU's choice is read from its file.
    """
    check_dtype(requested)
    on_gpu = device.startswith("cuda") or (device == "auto" and _cuda_available())
    if requested != "auto":
        probs = requested if on_gpu else "float32"
        return Precision(requested, probs, "set by dtype=")
    if on_gpu:
        if _cuda_bf16():
            return Precision("bfloat16", "bfloat16", "auto, the GPU runs bf16")
        return Precision("float32", "float32", "auto, the GPU has no bf16")
    choice = machine_choice()
    return Precision(choice["dtype"], "float32", f"auto, {choice['reason']}")


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_has_bf16(flags: frozenset[str] | None = None) -> bool:
    """Whether the CPU has bf16 instructions (from its flags)."""
    return bool((cpu_flags() if flags is None else flags) & CPU_BF16_FLAGS)


def matmul_speedup(rows: int = 64, inner: int = 576, cols: int = 1536,
                   seconds: float = 0.15) -> float:
    """How many times faster a bf16 matrix product runs than an fp32 one here.

    The shape is one decoding step of the embedded model's MLP at batch 64.
    Each dtype is timed in alternating bursts for about ``seconds`` and the
    fastest burst of each is kept (the least disturbed by other processes).
    """
    import torch

    a32, b32 = torch.randn(rows, inner), torch.randn(inner, cols)
    pairs = [(a32, b32), (a32.bfloat16(), b32.bfloat16())]
    best = [float("inf"), float("inf")]
    for a, b in pairs:  # warm-up: first calls pick kernels
        torch.mm(a, b)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for i, (a, b) in enumerate(pairs):
            t0 = time.perf_counter()
            for _ in range(8):
                torch.mm(a, b)
            best[i] = min(best[i], time.perf_counter() - t0)
    return best[0] / best[1]


def decide(has_bf16: bool, speedup: float | None) -> dict[str, Any]:
    """The CPU's dtype from its capability and the measured speed-up (the rule).
    The speed-up is shown rounded down, so a figure below the threshold never
    reads as reaching it."""
    if not has_bf16:
        return {"dtype": "float32", "speedup": None,
                "reason": "this CPU has no bf16 instructions"}
    assert speedup is not None
    shown = math.floor(speedup * 100) / 100
    if speedup >= MIN_SPEEDUP:
        return {"dtype": "bfloat16", "speedup": shown,
                "reason": f"bf16 matmul {shown:.2f}x fp32 on this CPU"}
    return {"dtype": "float32", "speedup": shown,
            "reason": f"bf16 matmul only {shown:.2f}x fp32 on this CPU "
                      f"(bf16 needs {MIN_SPEEDUP}x)"}


# Device files whose presence may mean a GPU (NVIDIA, AMD's ROCm, WSL2's CUDA):
# they key the machine's choice, so a GPU added later is checked anew.
GPU_DEVICES = ("/dev/nvidiactl", "/dev/kfd", "/dev/dxg")


def _machine_key() -> str:
    """What the choice depends on: the CPU, its flags, torch's version (no torch import)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        torch_version = version("torch")
    except PackageNotFoundError:
        torch_version = "none"
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        model = platform.processor()
    gpus = [d for d in GPU_DEVICES if os.path.exists(d)]
    blob = json.dumps([CHOICE_VERSION, platform.machine(), model,
                       sorted(cpu_flags() & CPU_BF16_FLAGS), torch_version, gpus,
                       os.environ.get("CUDA_VISIBLE_DEVICES")])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@cache
def machine_choice() -> dict[str, Any]:
    """This machine's dtype facts, found once and kept in the cache (see module doc):
    whether torch sees a GPU (and one with bf16), and the CPU's dtype and why.
    Kept in a file so that a process that computes nothing (an xdist worker whose
    model lives in the engine) need not import torch to know them."""
    from filelock import FileLock

    from behavtest.files import write_atomic
    from behavtest.providers.embedded import cache_root

    path = cache_root() / "machine" / f"dtype-{_machine_key()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        try:
            found = json.loads(path.read_text())
            if (isinstance(found, dict) and found.get("dtype") in ("float32", "bfloat16")
                    and isinstance(found.get("reason"), str)
                    and isinstance(found.get("cuda"), bool)
                    and isinstance(found.get("cuda_bf16"), bool)):
                return found
        except (OSError, ValueError):
            pass  # no choice yet, or a damaged one: measure again
        cuda, cuda_bf16 = _cuda()
        has = cpu_has_bf16()
        choice = {"cuda": cuda, "cuda_bf16": cuda_bf16,
                  **decide(has, matmul_speedup() if has else None)}
        write_atomic(path, json.dumps(choice, indent=1) + "\n")
    return choice


def _cuda() -> tuple[bool, bool]:
    """(torch sees a GPU, it runs bf16): the same check the provider's device uses."""
    try:
        import torch
    except ImportError:
        return False, False
    if not torch.cuda.is_available():
        return False, False
    return True, bool(torch.cuda.is_bf16_supported())


def _cuda_available() -> bool:
    return bool(machine_choice()["cuda"])


def _cuda_bf16() -> bool:
    return bool(machine_choice()["cuda_bf16"])


def torch_dtype(name: str) -> Any:
    """The torch dtype of a name in ``DTYPES`` (not "auto")."""
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16,
            "float16": torch.float16}[name]
