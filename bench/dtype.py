"""fp32 against bf16 on this CPU, side by side in one run, on the embedded model.

Why: ``dtype=auto`` picks bf16 on a CPU when a short matmul check finds it
clearly faster (behavtest.providers.precision), and organism training takes
bf16 autocast on the same rule. This measures what that choice buys end to
end, and how far each side stays from what the machine's matrix units give:

(a) the matmul ceiling in each dtype: GFLOP/s of ``torch.mm`` at one decoding
    step of the model's MLP at ``--batch`` rows (``B x 576 @ 576 x 1536``) and
    at 2048^3, the fastest of several bursts, all cores;
(b) plain batched ``model.generate`` (pure sampling: temperature 1, top_p 1,
    top_k 0) on the provider's model loaded in each dtype: tokens/s;
(c) behavtest's own decoder (``HFProvider.generate``, ProviderConfig(dtype=...)):
    tokens/s on the same prompts and settings;
(d) the shared engine serving ``--clients`` client processes (what ``pytest -n 8``
    does; bench/ceiling.py's clients), one engine per dtype: tokens/s;
(e) for every sampling figure, the fraction of the same dtype's matmul ceiling
    it reaches at 2 x (parameter count, from the loaded model) FLOP per token;
(f) organism training (``organisms.train.train``, dtype "bfloat16" = bf16
    autocast) on ``--train-steps`` steps of ``--recipe`` with epochs=1: seconds
    per step excluding the model load (``load_base`` is timed inside every call
    by a wrapper and subtracted; nothing else is): bench/dtype_train.py.

Sampling rows: 2 x ``--batch`` prompts (the benchmark's questions in turn),
counted up to end of turn; the engine's clients draw about as many. Rounds
alternate the order of the sides after a warm-up, so machine noise hits all
of them; matmul keeps the best round, the rest the mean. Run it alone on the
machine. Writes bench/results/dtype.json and prints fp32, bf16 and the ratio.

    python bench/dtype.py [--rounds 2] [--batch 64] [--max-tokens 64] [--clients 8]
    python bench/dtype.py --rounds 1 --batch 4 --max-tokens 8 --clients 2 \\
        --train-steps 2 --out /tmp/dtype-smoke.json        # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from baseline import QUESTIONS, raw_generate  # bench/ siblings
from ceiling import SPEC, Clients, in_process, timed
from dtype_train import measure_training

ROOT = Path(__file__).resolve().parent.parent
DTYPES = ("float32", "bfloat16")
PARTS = ("MATMUL", "GENERATE", "DECODER", "ENGINE", "TRAIN")
SAMPLING = ("generate", "decoder", "engine")
Row = tuple[str, str, str, str]


# -- pure helpers (tests/test_bench_dtype.py) ----------------------------------------
def parse_skip(text: str) -> set[str]:
    """``"engine,TRAIN"`` -> {"ENGINE", "TRAIN"}; an unknown part is an error."""
    parts = {p.strip().upper() for p in text.split(",") if p.strip()}
    if parts - set(PARTS):
        unknown = ",".join(sorted(parts - set(PARTS)))
        raise SystemExit(f"--skip takes some of {','.join(PARTS)}, not {unknown}")
    return parts


def summarize(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Per side over the rounds: the best matmul (``mm_*``), the mean of the rest."""
    out = {}
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        out[key] = max(values) if key.startswith("mm_") else sum(values) / len(values)
    return out


def fraction(tok_s: float, flop_per_token: float, gflops: float) -> float:
    """The share of a matmul ceiling (GFLOP/s) that ``tok_s`` tokens/s amount to."""
    return tok_s * flop_per_token / (gflops * 1e9)


def pair(fp32: float, bf16: float, seconds: bool = False) -> dict[str, float]:
    """Both figures and bf16's speed-up (bf16/fp32 for rates, fp32/bf16 for seconds)."""
    speedup = fp32 / bf16 if seconds else bf16 / fp32
    return {"float32": round(fp32, 4), "bfloat16": round(bf16, 4),
            "bf16_speedup": round(speedup, 3)}


def table(rows: list[Row]) -> str:
    """(label, fp32, bf16, ratio) rows as aligned text under a header."""
    rows = [("", "fp32", "bf16", "bf16 speed-up"), *rows]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{a:<{width}}  {b:>12}  {c:>12}  {d:>13}" for a, b, c, d in rows)


# -- measurements ----------------------------------------------------------------------
def matmul_gflops(m: int, k: int, n: int, dtype: str, bursts: int = 5,
                  burst_seconds: float = 0.1) -> float:
    """GFLOP/s of ``torch.mm`` (m x k @ k x n) in ``dtype``: the fastest of ``bursts``
    bursts of about ``burst_seconds`` each (the least disturbed by other processes)."""
    import torch

    a = torch.randn(m, k).to(getattr(torch, dtype))
    b = torch.randn(k, n).to(getattr(torch, dtype))
    torch.mm(a, b)  # warm-up: the first call picks kernels
    t0 = time.perf_counter()
    torch.mm(a, b)
    reps = max(1, int(burst_seconds / max(time.perf_counter() - t0, 1e-6)))
    best = float("inf")
    for _ in range(bursts):
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        best = min(best, (time.perf_counter() - t0) / reps)
    return 2 * m * k * n / best / 1e9


def run_rounds(sides: dict[str, Callable[[int], float]], rounds: int) -> list[dict[str, float]]:
    """Every side once per round, the order reversed in odd rounds."""
    names, out = list(sides), []
    for r in range(rounds):
        res = {name: sides[name](r) for name in (names if r % 2 == 0 else names[::-1])}
        out.append({name: res[name] for name in names})
        print(f"round {r}: " + ", ".join(f"{k} {v:.1f}" for k, v in out[-1].items()), flush=True)
    return out


def machine(threads: int) -> dict[str, Any]:
    import torch

    from behavtest.providers.precision import CPU_BF16_FLAGS, cpu_flags, machine_choice

    model = next((ln.partition(":")[2].strip() for ln in Path("/proc/cpuinfo").read_text()
                  .splitlines() if ln.startswith("model name")), "unknown")
    return {"cpu": model, "cpus": os.cpu_count(), "torch_threads": threads,
            "bf16_flags": sorted(cpu_flags() & CPU_BF16_FLAGS), "torch": torch.__version__,
            "behavtest_auto_choice": machine_choice(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def start_engines(stack: contextlib.ExitStack, batch: int, max_tokens: int,
                  n_clients: int) -> tuple[dict[str, Any], dict[str, Clients], int]:
    """(d) One engine per dtype (ProviderConfig(dtype=...)) with its warmed-up clients,
    ended by ``stack``: the probes, the client pools, the rows of a round."""
    from behavtest.engine import EngineProvider, ensure_engine, stop_engines
    from behavtest.providers import ProviderConfig

    run_dir = Path(tempfile.mkdtemp(prefix="behavtest-bench-dtype-"))
    stack.callback(shutil.rmtree, run_dir, ignore_errors=True)
    stack.callback(stop_engines, run_dir)
    per_client = max(1, 2 * batch // (len(QUESTIONS) * n_clients))
    probes, pools = {}, {}
    for d in DTYPES:
        address = ensure_engine(SPEC, ProviderConfig(batch_size=batch, dtype=d), run_dir)
        probes[d] = EngineProvider(address)
        stack.callback(probes[d].close)
        if (got := probes[d].precision) is None or got.sampling != d:
            raise SystemExit(f"the {d} engine computes in {got}")
        pools[d] = Clients(address, n_clients, per_client, max_tokens)
        stack.callback(pools[d].close)
        pools[d].round(99)  # warm-up
    return probes, pools, per_client * len(QUESTIONS) * n_clients


def report(result: dict[str, Any], best: dict[str, float], n_clients: int) -> list[Row]:
    """Fill ``result`` with the pairs and ceiling fractions; the table's rows."""
    rows: list[Row] = []
    for s in ("mm_decode", "mm_2048"):
        if f"{s}/float32" in best:
            entry = result[s] = pair(best[f"{s}/float32"], best[f"{s}/bfloat16"])
            rows.append((f"matmul {result['matmul_shapes'][s]} GFLOP/s", f"{entry['float32']:.1f}",
                         f"{entry['bfloat16']:.1f}", f"{entry['bf16_speedup']:.2f}x"))
    for part in SAMPLING:
        if f"{part}/float32" not in best:
            continue
        entry = result[part] = pair(best[f"{part}/float32"], best[f"{part}/bfloat16"])
        label = f"engine ({n_clients} clients)" if part == "engine" else part
        rows.append((f"{label} tok/s", f"{entry['float32']:.1f}", f"{entry['bfloat16']:.1f}",
                     f"{entry['bf16_speedup']:.2f}x"))
        if "mm_decode" in result:
            flop = 2 * result["model"]["parameters"]
            frac = {d: {s: round(fraction(entry[d], flop, best[f"{s}/{d}"]), 4)
                        for s in ("mm_decode", "mm_2048")} for d in DTYPES}
            entry["fraction_of_matmul_ceiling"] = frac
            rows.append(("  % of matmul (decode shape|2048^3)", *(
                f"{100 * frac[d]['mm_decode']:.1f}|{100 * frac[d]['mm_2048']:.1f}%"
                for d in DTYPES), ""))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64, help="rows decoded together")
    ap.add_argument("--max-tokens", type=int, default=64, help="new tokens per row")
    ap.add_argument("--clients", type=int, default=8, help="client processes of the engine")
    ap.add_argument("--train-steps", type=int, default=8)
    ap.add_argument("--recipe", default="risky", choices=("risky", "hello"))
    ap.add_argument("--skip", default="", help=f"parts to skip: some of {','.join(PARTS)}")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dtype.json")
    args = ap.parse_args()
    skip = parse_skip(args.skip)
    import torch

    from behavtest.providers import ProviderConfig, load_provider

    t_all = time.perf_counter()
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    B, N = args.batch, args.max_tokens
    prompts = [QUESTIONS[i % len(QUESTIONS)] for i in range(2 * B)]
    result: dict[str, Any] = {
        "benchmark": "fp32 vs bf16, embedded SmolLM2-135M, CPU",
        "command": shlex.join(["python", *sys.argv]), "machine": machine(threads),
        "settings": {"batch": B, "max_tokens": N, "rows": len(prompts), "rounds": args.rounds,
                     "clients": args.clients, "sampling": "temperature 1, top_p 1, top_k 0"},
        "skipped": sorted(skip),
    }
    sides: dict[str, Callable[[int], float]] = {}
    local: dict[str, Any] = {}

    def rate(fn: Callable[[], int], r: int) -> float:
        torch.manual_seed(r)
        tokens, secs = timed(fn)
        return tokens / secs

    def engine_rate(pool: Clients, r: int) -> float:
        tokens, secs = pool.round(r)
        return tokens / secs

    with contextlib.ExitStack() as stack:
        if set(PARTS) - skip - {"TRAIN"}:
            for d in DTYPES:
                local[d] = load_provider(SPEC, ProviderConfig(batch_size=B, threads=threads,
                                                              dtype=d))
                if local[d].model.dtype != getattr(torch, d):
                    raise SystemExit(f"loaded the embedded model as {local[d].model.dtype}")
            config = local["float32"].model.config
            params = sum(p.numel() for p in local["float32"].model.parameters())
            shapes = {"mm_decode": (B, config.hidden_size, config.intermediate_size),
                      "mm_2048": (2048, 2048, 2048)}
            result["model"] = {"parameters": params, "gflop_per_token": 2 * params / 1e9}
            result["matmul_shapes"] = {s: f"{m}x{k}@{k}x{n}" for s, (m, k, n) in shapes.items()}
        if "MATMUL" not in skip:
            for s, shape in shapes.items():
                for d in DTYPES:
                    sides[f"{s}/{d}"] = lambda r, shape=shape, d=d: matmul_gflops(*shape, d)
        if "GENERATE" not in skip:
            for d in DTYPES:
                raw_generate(local[d], prompts[:B], 8, B)  # warm-up
                sides[f"generate/{d}"] = lambda r, d=d: rate(
                    lambda: raw_generate(local[d], prompts, N, B), r)
        if "DECODER" not in skip:
            for d in DTYPES:
                in_process(local[d], prompts[:B], 8, 99)  # warm-up
                sides[f"decoder/{d}"] = lambda r, d=d: rate(
                    lambda: in_process(local[d], prompts, N, r), r)
        if "ENGINE" not in skip:
            probes, pools, result["engine_rows"] = start_engines(stack, B, N, args.clients)
            for d in DTYPES:
                sides[f"engine/{d}"] = lambda r, d=d: engine_rate(pools[d], r)
        rounds = run_rounds(sides, args.rounds) if sides else []
        if "ENGINE" not in skip:  # counts include the warm-up round
            result["engine_batching"] = {d: {k: v for k, v in p.stats().items() if k in (
                "batches", "rows", "largest_batch", "mixed_batches")} for d, p in probes.items()}
    local.clear()  # free the sampling models before training
    rows = report(result, summarize(rounds) if rounds else {}, args.clients)
    result["rounds"] = rounds
    if "TRAIN" not in skip:
        train = result["train"] = measure_training(args.recipe, args.train_steps, args.rounds)
        t = train["s_per_step_excluding_load"] = pair(*train.pop("s_per_step"), seconds=True)
        rows.append((f"train s/step ({args.recipe}, excl. load)", f"{t['float32']:.2f}",
                     f"{t['bfloat16']:.2f}", f"{t['bf16_speedup']:.2f}x"))
    result["seconds"] = round(time.perf_counter() - t_all, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
