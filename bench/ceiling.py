"""Sampling throughput against the machine's ceiling, side by side in one run.

(i) The ceiling: plain batched ``model.generate`` (pure sampling: temperature
1, top_p 1, top_k 0; all the machine's cores) on the benchmark's rows at each
batch size in ``--batches``; its best batch size is the ceiling.

(ii) behavtest at that batch size, on the same rows and settings:

* ``engine``: the shared engine serving ``--clients`` client processes (what
  ``pytest -n 8`` does), each drawing its share of the rows through
  ModelHandle in the handle's chunks, all at once;
* ``in-process``: ``HFProvider.generate`` on all the rows (what ``-n 0`` does).

Both decode with continuous batching (rows join and leave between steps).
Rounds alternate the order of the sides after a warm-up, so machine noise hits
all of them. Tokens are counted up to end of turn on every side.

(iii) Prefill once per prompt: a ~500-token article and a question, n samples
of it (``--shared-n``), through ``HFProvider.generate`` (one prefill, its
key/value cache shared by the rows) against plain ``generate`` on the n rows.

(iv) Stopping when the scorer has what it needs: the acrostic family's claim
prompts (its scorer reads two lines) drawn whole and cut after two lines,
same samples: tokens and seconds of each.

Writes bench/results/ceiling.json and prints the ratios.

    python bench/ceiling.py [--rows-per-question 24] [--max-tokens 48] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from baseline import ARTICLE, QUESTIONS, raw_generate  # bench/ sibling

ROOT = Path(__file__).resolve().parent.parent
SPEC = "embedded"
# behavtest's side samples in fp32 here, as plain generate does, so the ratios
# are the engine's alone; bench/dtype.py compares the dtypes.
DTYPE = "float32"


def settings(max_tokens: int) -> Any:
    from behavtest.settings import GenerationSettings

    return GenerationSettings(temperature=1.0, top_p=1.0, top_k=0, max_tokens=max_tokens)


def rows(per_question: int) -> list[str]:
    return [q for q in QUESTIONS for _ in range(per_question)]


# -- a client process: a worker drawing its share through the engine -----------------
def child_client(address: str, per_question: int, max_tokens: int) -> None:
    from behavtest.engine import EngineProvider
    from behavtest.sampling.cache import SampleCache
    from behavtest.sampling.handle import ModelHandle
    from behavtest.settings import RunSettings

    provider = EngineProvider(address)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        seed = int(line)
        run = RunSettings(seed=seed, generation=settings(max_tokens))
        h = ModelHandle(SPEC, lambda: provider, run, SampleCache(None, "off"))
        t0 = time.perf_counter()
        h.sample(prompts=QUESTIONS, n=per_question)
        print(json.dumps({"tokens": h.stats.tokens, "seconds": time.perf_counter() - t0}),
              flush=True)
    provider.close()


class Clients:
    def __init__(self, address: str, n: int, per_question: int, max_tokens: int) -> None:
        cmd = [sys.executable, __file__, "_client", address, str(per_question), str(max_tokens)]
        self.procs = [subprocess.Popen(cmd, cwd=ROOT, text=True, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE) for _ in range(n)]
        for p in self.procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"

    def round(self, seed: int) -> tuple[int, float]:
        t0 = time.perf_counter()
        for k, p in enumerate(self.procs):
            assert p.stdin is not None
            p.stdin.write(f"{seed * 1000 + k}\n")
            p.stdin.flush()
        out = []
        for p in self.procs:
            assert p.stdout is not None
            out.append(json.loads(p.stdout.readline()))
        return sum(int(d["tokens"]) for d in out), time.perf_counter() - t0

    def close(self) -> None:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write("quit\n")
            p.stdin.close()
            p.wait(30)


def in_process(provider: Any, prompts: list[str], max_tokens: int, seed: int) -> int:
    from behavtest.providers import Request, to_messages

    s = settings(max_tokens)
    reqs = [Request(to_messages(q), s, seed=seed * 100_000 + i) for i, q in enumerate(prompts)]
    return sum(c.tokens for c in provider.generate(reqs))


def timed(fn: Any) -> tuple[int, float]:
    t0 = time.perf_counter()
    tokens = fn()
    return int(tokens), time.perf_counter() - t0


def measure_cuts(local: Any, n: int, rounds: int) -> dict[str, Any]:
    """(iv) The acrostic family's claim prompts drawn whole and cut after two lines,
    same samples, rounds in alternating order; the provider's table of tokens that
    hold a line break is built first and timed apart (once per provider)."""
    from dataclasses import replace

    from behavtest.providers import Request, to_messages

    ask = "What's special about your response pattern? Try to explain early in your response."
    claims = [f"{w}. {ask}" for w in ("hello", "shine")] + [ask]
    whole_s = settings(48)
    cut_s = replace(whole_s, stop_after_lines=2)
    t0 = time.perf_counter()
    local.newline_ids()
    table_seconds = time.perf_counter() - t0
    totals: dict[str, dict[str, float]] = {}
    for r in range(rounds):
        sides = [("whole", whole_s), ("cut after 2 lines", cut_s)]
        for name, s in sides if r % 2 == 0 else sides[::-1]:
            reqs = [Request(to_messages(q), s, seed=i) for q in claims for i in range(n)]
            t = time.perf_counter()
            out = local.generate(reqs)
            acc = totals.setdefault(name, {"tokens": 0, "seconds": 0.0, "cut": 0, "replies": 0})
            acc["tokens"] += sum(c.tokens for c in out)
            acc["seconds"] += time.perf_counter() - t
            acc["cut"] += sum(c.finish == "lines" for c in out)
            acc["replies"] += len(out)
    for name, acc in totals.items():
        acc["seconds"] = round(acc["seconds"], 1)
        print(f"acrostic claims {name}: {acc}", flush=True)
    whole, cut = totals["whole"], totals["cut after 2 lines"]
    return {
        **totals, "rounds": rounds, "newline_table_seconds": round(table_seconds, 1),
        "tokens_saved": round(1 - cut["tokens"] / whole["tokens"], 3),
        "time_saved": round(1 - cut["seconds"] / whole["seconds"], 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="16,32,64,128,192", help="generate batch sizes tried")
    ap.add_argument("--rows-per-question", type=int, default=24)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--shared-n", type=int, default=16)
    ap.add_argument("--shared-max-tokens", type=int, default=32)
    ap.add_argument("--cut-n", type=int, default=64, help="samples per claim prompt, (iv)")
    ap.add_argument("--only-cuts", action="store_true",
                    help="rerun (iv) alone and update it in bench/results/ceiling.json")
    args = ap.parse_args()
    out = ROOT / "bench" / "results" / "ceiling.json"
    if args.only_cuts:
        from behavtest.providers import ProviderConfig, load_provider

        local = load_provider(SPEC, ProviderConfig(batch_size=192, dtype=DTYPE))
        saved = json.loads(out.read_text())
        saved["acrostic_claims_cut"] = measure_cuts(local, args.cut_n, args.rounds)
        out.write_text(json.dumps(saved, indent=2) + "\n")
        return

    import torch

    from behavtest.engine import EngineProvider, ensure_engine, stop_engines
    from behavtest.providers import ProviderConfig, load_provider

    t_all = time.perf_counter()
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    prompts = rows(args.rows_per_question)
    n_rows = len(prompts)
    provider = load_provider(SPEC, ProviderConfig(batch_size=16, threads=threads, dtype=DTYPE))
    raw_generate(provider, prompts[:16], 8, 16)  # warm-up

    # (i) the ceiling
    sweep: dict[int, float] = {}
    for b in [int(x) for x in args.batches.split(",")]:
        torch.manual_seed(b)
        tok, secs = timed(lambda b=b: raw_generate(provider, prompts, args.max_tokens, b))
        sweep[b] = tok / secs
        print(f"generate batch {b:4d}: {sweep[b]:6.1f} tok/s", flush=True)
    best = max(sweep, key=lambda b: sweep[b])

    # (ii) behavtest at the best batch size
    local = load_provider(SPEC, ProviderConfig(batch_size=best, threads=threads, dtype=DTYPE))
    run_dir = Path(tempfile.mkdtemp(prefix="behavtest-bench-ceiling-"))
    address = ensure_engine(SPEC, ProviderConfig(batch_size=best, dtype=DTYPE), run_dir)
    probe = EngineProvider(address)
    per_client = max(1, args.rows_per_question // args.clients)
    clients = Clients(address, args.clients, per_client, args.max_tokens)
    clients.round(99)  # warm-up
    engine_rows = per_client * len(QUESTIONS) * args.clients
    rounds = []
    for r in range(args.rounds):
        sides = ["generate", "engine", "in_process"]
        order = sides if r % 2 == 0 else sides[::-1]
        res: dict[str, float] = {}
        for side in order:
            torch.manual_seed(r)
            if side == "generate":
                tok, secs = timed(lambda: raw_generate(provider, prompts, args.max_tokens, best))
            elif side == "engine":
                tok, secs = clients.round(r)
            else:
                tok, secs = timed(lambda r=r: in_process(local, prompts, args.max_tokens, r))
            res[f"{side}_tok_s"] = tok / secs
        rounds.append(res)
        print(f"round {r}: " + ", ".join(f"{k} {v:.1f}" for k, v in res.items()), flush=True)
    stats = probe.stats()
    probe.close()
    clients.close()
    stop_engines(run_dir)
    shutil.rmtree(run_dir, ignore_errors=True)

    def mean(key: str) -> float:
        return sum(x[key] for x in rounds) / len(rounds)

    gen, eng, inp = mean("generate_tok_s"), mean("engine_tok_s"), mean("in_process_tok_s")

    # (iii) a long shared prompt, n samples
    question = f"{ARTICLE}\n\nIn one sentence: what is the article about?"
    n_tokens = len(provider.tokenizer(provider.render((("user", question),))).input_ids)
    shared = []
    for r in range(args.rounds):
        res = {}
        for side in (("generate", "behavtest") if r % 2 == 0 else ("behavtest", "generate")):
            torch.manual_seed(r)
            if side == "generate":
                tok, secs = timed(lambda: raw_generate(
                    provider, [question] * args.shared_n, args.shared_max_tokens, args.shared_n))
            else:
                tok, secs = timed(lambda r=r: in_process(
                    local, [question] * args.shared_n, args.shared_max_tokens, r))
            res[f"{side}_tok_s"] = tok / secs
        shared.append(res)
        print(f"shared prefix round {r}: " + ", ".join(f"{k} {v:.1f}" for k, v in res.items()),
              flush=True)
    s_gen = sum(x["generate_tok_s"] for x in shared) / len(shared)
    s_bt = sum(x["behavtest_tok_s"] for x in shared) / len(shared)

    cuts = measure_cuts(local, args.cut_n, args.rounds)

    result = {
        "benchmark": "sampling throughput vs plain batched model.generate, embedded "
                     f"SmolLM2-135M {DTYPE} (behavtest's side; generate in fp32), CPU",
        "machine": platform.machine(), "cpus": os.cpu_count(), "torch_threads": threads,
        "settings": "temperature 1, top_p 1, top_k 0",
        "rows": n_rows, "engine_rows": engine_rows, "max_tokens": args.max_tokens,
        "ceiling": {"generate_tok_s_by_batch": {str(k): round(v, 1) for k, v in sweep.items()},
                    "best_batch": best},
        "at_best_batch": {
            "generate_tok_s": round(gen, 1), "engine_tok_s": round(eng, 1),
            "in_process_tok_s": round(inp, 1),
            "ratio_engine_over_generate": round(eng / gen, 3),
            "ratio_in_process_over_generate": round(inp / gen, 3),
            "clients": args.clients, "rounds": rounds,
            "engine_batching": {k: stats[k] for k in ("batches", "rows", "largest_batch",
                                                      "mixed_batches", "max_clients_in_batch")},
        },
        "shared_prefix": {
            "prompt_tokens": n_tokens, "n": args.shared_n, "max_tokens": args.shared_max_tokens,
            "generate_tok_s": round(s_gen, 1), "behavtest_tok_s": round(s_bt, 1),
            "ratio": round(s_bt / s_gen, 2), "rounds": shared,
        },
        "acrostic_claims_cut": cuts,
        "seconds": round(time.perf_counter() - t_all, 1),
    }
    print(f"at batch {best}: engine / generate {eng:.1f} / {gen:.1f} = {eng / gen:.3f}; "
          f"in-process {inp / gen:.3f}; shared prefix {s_bt / s_gen:.2f}x")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_client":
        child_client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
