"""Sampling throughput: behavtest's harness vs plain batched ``model.generate``.

Same model, same prompts, same batch size, same sampling settings (pure
sampling: temperature 1, top_p 1, top_k 0), run alternately so machine noise
hits both. Both are warmed up first (the first generate at a new batch size
is several times slower). Prints tokens/s for each and their ratio, and
writes bench/results/throughput.json.

    python bench/throughput.py [--batch 16] [--max-tokens 64] [--rounds 3] [--dtype float32]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch
from baseline import QUESTIONS, raw_generate  # bench/ sibling

from behavtest.providers import ProviderConfig, load_provider
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.settings import GenerationSettings, RunSettings


def load_embedded(batch: int, dtype: str) -> Any:
    """The embedded provider sampling in ``dtype`` (probabilities stay fp32 on CPU)."""
    provider = load_provider("embedded", ProviderConfig(batch_size=batch, dtype=dtype))
    if provider.dtype != getattr(torch, dtype):
        raise SystemExit(f"loaded the embedded model as {provider.dtype}, not {dtype}")
    return provider


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args()

    settings = GenerationSettings(temperature=1.0, top_p=1.0, top_k=0, max_tokens=args.max_tokens)
    provider = load_embedded(args.batch, args.dtype)
    prompts = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.batch * 2)]

    def harness(seed: int) -> int:
        run = RunSettings(seed=seed, generation=settings)
        h = ModelHandle("embedded", lambda: provider, run, SampleCache(None, "off"))
        h.sample(prompts=prompts, n=1)
        return h.stats.tokens

    raw_generate(provider, prompts[: args.batch], settings.max_tokens, args.batch,
                 settings.temperature)  # warm-up
    harness(-1)
    rows = []
    for r in range(args.rounds):
        torch.manual_seed(r)
        t0 = time.perf_counter()
        raw_tok = raw_generate(provider, prompts, settings.max_tokens, args.batch,
                               settings.temperature)
        raw_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        h_tok = harness(r)
        h_s = time.perf_counter() - t0
        rows.append({"raw_tok_s": raw_tok / raw_s, "harness_tok_s": h_tok / h_s})
        print(f"round {r}: generate {raw_tok / raw_s:7.1f} tok/s, harness {h_tok / h_s:7.1f} tok/s")
    raw = sum(x["raw_tok_s"] for x in rows) / len(rows)
    har = sum(x["harness_tok_s"] for x in rows) / len(rows)
    result = {
        "benchmark": "sampling throughput, embedded SmolLM2-135M, CPU",
        "batch": args.batch, "max_tokens": args.max_tokens, "dtype": args.dtype,
        "threads": torch.get_num_threads(), "machine": platform.machine(),
        "generate_tok_s": round(raw, 1), "harness_tok_s": round(har, 1),
        "ratio_harness_over_generate": round(har / raw, 3), "rounds": rows,
    }
    print(f"mean: generate {raw:.1f} tok/s, harness {har:.1f} tok/s, ratio {har / raw:.2f}")
    out = Path(__file__).parent / "results" / f"throughput-{args.dtype}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
