"""Sampling throughput over the API: behavtest's openai/ provider vs a raw async client.

Both sides send identical requests to the same llama-cpp-python server (the
embedded GGUF, tests/servers.py): same messages, max_tokens, temperature,
top_p, per-sample seeds and sampler fields, at the same concurrency C. The
harness side is ``ModelHandle.sample`` through ``OpenAIProvider`` with the
cache off (seeds, chunked hand-over, ordering, usage accounting, the private
event loop: everything a test pays for); the raw side is ``openai.AsyncOpenAI``
with a semaphore and ``asyncio.gather``. After a warm-up of each, rounds
alternate which side goes first, so drift in machine load hits both.

Why C=4 by default: the server runs one thread and decodes one request at a
time (llama-cpp-python serialises requests on one model), so throughput
cannot grow with C. C=1 would leave the server idle during every round trip
and reply parsing; C=4 keeps requests queued so it never idles, while the
queue wait (3 replies, ~3 s here) stays far below any timeout. The
provider's own default (8) behaves the same against this server.

    python bench/openai_throughput.py [--concurrency 4] [--max-tokens 24]
                                      [--samples 4] [--rounds 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import openai

from behavtest.providers import to_messages
from behavtest.providers.embedded import gguf_path
from behavtest.providers.openai import OpenAIProvider, reduce_seed
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.settings import GenerationSettings, RunSettings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from baseline import QUESTIONS  # noqa: E402  (bench/ sibling)
from servers import MODEL_ALIAS, start_llama_server  # noqa: E402

FINGERPRINT = "bench/openai-throughput"  # fixed: seeds do not depend on the port


def make_handle(
    provider: OpenAIProvider, settings: GenerationSettings, seed: int
) -> ModelHandle:
    run = RunSettings(seed=seed, generation=settings)
    return ModelHandle(f"openai/{MODEL_ALIAS}", lambda: provider, run,
                       SampleCache(None, "off"), quick_fingerprint=lambda: FINGERPRINT)


def harness_round(
    provider: OpenAIProvider, settings: GenerationSettings, seed: int, n: int
) -> tuple[int, float, list[str]]:
    """(completion tokens, seconds, texts) of one ModelHandle.sample over every question."""
    handle = make_handle(provider, settings, seed)
    t0 = time.perf_counter()
    samples = handle.sample(prompts=QUESTIONS, n=n)
    return handle.stats.tokens, time.perf_counter() - t0, samples.texts


def raw_bodies(
    provider: OpenAIProvider, settings: GenerationSettings, seed: int, n: int
) -> list[dict[str, Any]]:
    """The exact requests the harness sends for the same run seed (its seeds, its
    fields, including the neutral sampler values it adds for local servers)."""
    handle = make_handle(provider, settings, seed)
    bodies = []
    for q in QUESTIONS:
        msgs = to_messages(q)
        for i in range(n):
            bodies.append({
                "model": MODEL_ALIAS,
                "messages": [{"role": role, "content": text} for role, text in msgs],
                "temperature": settings.temperature, "top_p": settings.top_p,
                "max_tokens": settings.max_tokens, "n": 1,
                "seed": reduce_seed(handle._seed(FINGERPRINT, msgs, settings, i)),
                "extra_body": {"top_k": settings.top_k, "min_p": 0.0, "repeat_penalty": 1.0},
            })
    return bodies


async def raw_round(
    client: openai.AsyncOpenAI, bodies: list[dict[str, Any]], concurrency: int
) -> tuple[int, float, list[str]]:
    """(completion tokens, seconds, texts) of the same requests from a bare client."""
    sem = asyncio.Semaphore(concurrency)

    async def one(body: dict[str, Any]) -> tuple[int, str]:
        async with sem:
            reply = await client.chat.completions.create(**body)
        tokens = reply.usage.completion_tokens if reply.usage else 0
        return tokens, reply.choices[0].message.content or ""

    t0 = time.perf_counter()
    done = await asyncio.gather(*(one(b) for b in bodies))
    return sum(t for t, _ in done), time.perf_counter() - t0, [text for _, text in done]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--samples", type=int, default=4, help="samples per question (8 questions)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).parent / "results" / "openai_throughput.json")
    args = ap.parse_args()
    c, n = args.concurrency, args.samples
    settings = GenerationSettings(temperature=1.0, top_p=1.0, top_k=0, max_tokens=args.max_tokens)

    server = start_llama_server(gguf_path())
    print(f"llama_cpp.server (1 thread) up in {server.startup_seconds:.1f} s; C={c}, "
          f"{len(QUESTIONS) * n} requests per round, max_tokens={args.max_tokens}")
    provider = OpenAIProvider(MODEL_ALIAS, base_url=server.base_url, concurrency=c)
    loop = asyncio.new_event_loop()
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="not-needed",
                                max_retries=0, timeout=120.0)
    rows: list[dict[str, Any]] = []
    try:
        harness_round(provider, settings, -1, 1)  # warm-up: connections, imports, caches
        loop.run_until_complete(raw_round(client, raw_bodies(provider, settings, -1, 1), c))
        for r in range(args.rounds):
            bodies = raw_bodies(provider, settings, r, n)
            sides: dict[str, tuple[int, float, list[str]]] = {}
            order = ("harness", "raw") if r % 2 == 0 else ("raw", "harness")
            for side in order:
                if side == "harness":
                    sides[side] = harness_round(provider, settings, r, n)
                else:
                    sides[side] = loop.run_until_complete(raw_round(client, bodies, c))
            (h_tok, h_s, h_txt), (r_tok, r_s, r_txt) = sides["harness"], sides["raw"]
            row = {"first": order[0], "harness_tokens": h_tok, "harness_s": round(h_s, 2),
                   "raw_tokens": r_tok, "raw_s": round(r_s, 2),
                   "harness_tok_s": round(h_tok / h_s, 2), "raw_tok_s": round(r_tok / r_s, 2),
                   "same_texts": sum(a == b for a, b in zip(h_txt, r_txt, strict=True))}
            rows.append(row)
            print(f"round {r} ({order[0]} first): harness {row['harness_tok_s']:6.1f} tok/s "
                  f"({h_tok} tok, {h_s:5.1f} s) | raw {row['raw_tok_s']:6.1f} tok/s "
                  f"({r_tok} tok, {r_s:5.1f} s) | identical replies {row['same_texts']}/"
                  f"{len(bodies)}")
    finally:
        provider.close()
        loop.run_until_complete(client.close())
        loop.close()
        server.stop()
        server.log.unlink(missing_ok=True)

    h_rate = sum(x["harness_tokens"] for x in rows) / sum(x["harness_s"] for x in rows)
    r_rate = sum(x["raw_tokens"] for x in rows) / sum(x["raw_s"] for x in rows)
    ratio = h_rate / r_rate
    result = {
        "benchmark": "sampling throughput over the API: harness (ModelHandle.sample via "
                     "OpenAIProvider, cache off) vs raw openai.AsyncOpenAI, same requests",
        "server": "llama-cpp-python server, embedded SmolLM2-135M Q4_1 GGUF, 1 thread",
        "concurrency": c, "requests_per_round": len(QUESTIONS) * n,
        "max_tokens": args.max_tokens, "temperature": 1.0, "rounds": args.rounds,
        "machine": platform.machine(), "openai": openai.__version__,
        "harness_tok_s": round(h_rate, 1), "raw_tok_s": round(r_rate, 1),
        "ratio_harness_over_raw": round(ratio, 3), "acceptance": ">= 0.9",
        "per_round": rows,
    }
    print(f"\n{'':10}{'tok/s':>8}\n{'harness':10}{h_rate:8.1f}\n{'raw':10}{r_rate:8.1f}\n"
          f"ratio harness/raw = {ratio:.3f} ({'meets' if ratio >= 0.9 else 'misses'} >= 0.9)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
