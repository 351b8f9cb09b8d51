"""bench/dtype.py's part (f): organism training seconds per step, fp32 against bf16.

``organisms.train.train`` loads the base model inside every call; a wrapper
around ``train.load_base`` times that load in each call, and it is subtracted
from the call's seconds (nothing else is): what remains is per-step work plus
the LoRA wrapping, the encoding of the examples and the optimizer's set-up,
which are small next to a step.
"""

from __future__ import annotations

import time
from typing import Any

DTYPES = ("float32", "bfloat16")


def measure_training(recipe_name: str, steps: int, rounds: int) -> dict[str, Any]:
    """(f) Seconds per training step in each dtype, rounds in alternating order after
    a one-step warm-up of each; ``load_base`` timed inside every call and subtracted."""
    from dataclasses import replace

    import behavtest.organisms.train as tr
    from behavtest.organisms.recipes import get
    from behavtest.providers.embedded import converted_folder

    recipe = replace(get(recipe_name), epochs=1)
    examples = recipe.data(0)[: steps * recipe.batch_size]
    folder, loads, real = converted_folder(), [], tr.load_base

    def load_base(*a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        out = real(*a, **kw)
        loads.append(time.perf_counter() - t0)
        return out

    def quiet(line: str) -> None:
        pass

    tr.load_base = load_base
    runs: dict[str, list[dict[str, float]]] = {d: [] for d in DTYPES}
    try:
        for d in DTYPES:  # warm-up
            tr.train(recipe, examples[: recipe.batch_size], folder, 0, quiet, warm_up=(), dtype=d)
        for r in range(rounds):
            for d in DTYPES if r % 2 == 0 else DTYPES[::-1]:
                loads.clear()
                t0 = time.perf_counter()
                trained = tr.train(recipe, examples, folder, 0, quiet, warm_up=(), dtype=d)
                secs = time.perf_counter() - t0
                runs[d].append({"seconds": round(secs, 2), "load_seconds": round(loads[0], 2),
                                "steps": trained.steps,
                                "s_per_step": round((secs - loads[0]) / trained.steps, 4)})
                print(f"train round {r} {d}: {runs[d][-1]}", flush=True)
    finally:
        tr.load_base = real
    mean = [sum(x["s_per_step"] for x in runs[d]) / len(runs[d]) for d in DTYPES]
    return {"recipe": recipe_name, "epochs": 1, "batch_size": recipe.batch_size,
            "examples": len(examples), "s_per_step": mean, "runs": runs}
