"""Is a sample the same whatever batch it lands in? fp32 against bf16, one run.

Every sample has its own seed, so in exact arithmetic sample i of a prompt is
the same draw in any batch. In floating point a batched matrix product rounds
differently from an unbatched one, and one different token changes the rest
of the reply. This measures how often that happens: the same requests
(``--prompts`` prompts x ``--samples`` seeds) drawn by behavtest's decoder

* alone: one request per call (a batch of one), and
* packed: all requests in batches of ``--batch`` rows, in a shuffled order
  with the other prompts' rows, as the engine packs them under ``-n 8``,

in each dtype, and counts the replies that come out identical, and the mean
share of tokens before the first difference. Writes
bench/results/batch_independence.json.

    python bench/batch_independence.py [--prompts 8] [--samples 8] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

from behavtest.providers.base import Completion, Request, to_messages
from behavtest.providers.kind import ProviderConfig
from behavtest.providers.registry import load_provider
from behavtest.settings import GenerationSettings

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = [
    "Write a short poem about the sea.",
    "Describe your favourite season in three sentences.",
    "Give me three tips for learning to cook.",
    "What would you pack for a week in the mountains?",
    "Tell a two-line story about a lost key.",
    "Explain what a rainbow is to a child.",
    "Write a limerick about a cat.",
    "Name four things that make a good neighbour.",
]


def _common_prefix(a: str, b: str) -> float:
    """Share of the longer reply before the first differing character."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n / max(1, len(a), len(b))


def measure(dtype: str, requests: list[Request], batch: int) -> dict[str, Any]:
    provider: Any = load_provider("embedded", ProviderConfig(dtype=dtype, batch_size=batch))
    t0 = time.perf_counter()
    alone = [provider.generate([r])[0] for r in requests]
    alone_s = time.perf_counter() - t0
    order = list(range(len(requests)))
    random.Random(1).shuffle(order)
    packed: dict[int, Completion] = {}
    for start in range(0, len(order), batch):
        part = order[start:start + batch]
        for i, c in zip(part, provider.generate([requests[i] for i in part]), strict=True):
            packed[i] = c
    same = sum(alone[i].text == packed[i].text for i in range(len(requests)))
    prefix = sum(_common_prefix(alone[i].text, packed[i].text)
                 for i in range(len(requests))) / len(requests)
    return {"identical": same, "n": len(requests),
            "share_identical": round(same / len(requests), 3),
            "mean_shared_prefix": round(prefix, 3), "alone_seconds": round(alone_s, 1),
            "precision": provider.precision.label()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" /
                    "batch_independence.json")
    args = ap.parse_args(argv)
    settings = GenerationSettings(max_tokens=args.max_tokens)
    requests = [Request(to_messages(PROMPTS[p % len(PROMPTS)]), settings, 1000 * p + i)
                for p in range(args.prompts) for i in range(args.samples)]
    results = {d: measure(d, requests, args.batch) for d in ("float32", "bfloat16")}
    for d, r in results.items():
        print(f"{d}: {r['identical']}/{r['n']} replies identical alone and packed "
              f"({r['share_identical']:.0%}); mean shared prefix {r['mean_shared_prefix']:.0%}")
    out = {"command": "python bench/batch_independence.py " + " ".join(sys.argv[1:]),
           "date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or
           platform.machine(), "max_tokens": args.max_tokens, "batch": args.batch,
           "results": results}
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
