"""The model engine on the embedded model: memory, and sampling throughput.

(i) Peak memory. One process that loads the embedded model and samples
directly (what ``pytest -n 0`` does), against one engine plus 8 client
processes that each import behavtest and sample through it (what ``-n 8``
does with the engine). Each side runs alone, sampled every 0.2 s over its
whole process tree. Three measures, all reported:

* RSS sums resident pages per process, so a page mapped by several
  processes (the python binary, libc, every shared library and read-only
  file mapping) is counted once per process; summed over 9 processes it
  overstates what the machine spends.
* PSS (proportional set size, Linux) charges each shared page 1/k to each
  of the k processes mapping it, so on a quiet machine the PSS sum of a tree
  is what the tree occupies. But k counts *every* process on the machine: on
  a shared machine where other jobs map the same libtorch or model file, PSS
  hands part of those pages to them and understates both sides by an amount
  that depends on what else runs (seen here: 400 MB of 1100).
* footprint: what the tree alone occupies, independent of other processes:
  each process's private pages (USS) plus, per mapped file, its shared
  resident pages once (the largest over the tree's processes). For one
  process it equals RSS; for a tree it is RSS with pages shared inside the
  tree counted once. This is the headline ratio; RSS and PSS are reported too.
  (It matters here: the fp32 weights are used straight from an mmap of
  model.safetensors, ~513 MB of file-backed pages that processes mapping the
  same file share; RSS counts them once per process that maps them.)

``--worker-imports`` reruns the memory phase only, with the direct process
and every client also importing what a pytest worker that judges verdicts
holds (pytest, xdist, the plugin, scipy, statsmodels): the weight the engine
cannot remove.

(ii) Throughput. 8 clients each draw one chunk of 16 samples (8 questions x 2,
through ModelHandle, cache off, like a worker) through the engine at once, vs
plain batched ``model.generate`` at batch 16 on the same 128 prompts, in this
process, with the same settings (pure sampling: temperature 1, top_p 1,
top_k 0) and the same torch threads (``--threads``, default 1: on this
shared 2-core machine two OpenMP threads fighting other jobs ran 4-6x slower
than one). Both are warmed up first (the engine by the memory phase's 8
batches of 16) and run in alternating order per round, so machine noise hits
both. Tokens are counted up to end of turn on both sides.

Writes bench/results/engine.json and prints the ratios.

    python bench/engine.py [--clients 8] [--max-tokens 24] [--rounds 2] [--threads 1]
    python bench/engine.py --worker-imports
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from baseline import QUESTIONS, raw_generate  # bench/ sibling

ROOT = Path(__file__).resolve().parent.parent
SPEC = "embedded"
BATCH = 16
PER_QUESTION = BATCH // len(QUESTIONS)  # one chunk of 16 = 8 questions x 2 samples


def settings(max_tokens: int) -> Any:
    from behavtest.settings import GenerationSettings

    return GenerationSettings(temperature=1.0, top_p=1.0, top_k=0, max_tokens=max_tokens)


def draw_chunk(provider: Any, seed: int, max_tokens: int) -> int:
    """One worker-like draw of 16 samples through ModelHandle; returns tokens."""
    from behavtest.sampling.cache import SampleCache
    from behavtest.sampling.handle import ModelHandle
    from behavtest.settings import RunSettings

    run = RunSettings(seed=seed, generation=settings(max_tokens))
    h = ModelHandle(SPEC, lambda: provider, run, SampleCache(None, "off"))
    h.sample(prompts=QUESTIONS, n=PER_QUESTION)
    return h.stats.tokens


# -- child processes ----------------------------------------------------------------
STATS_ENV = "BENCH_ENGINE_STATS_IMPORTS"


def import_worker_modules() -> None:
    """With --worker-imports: what a pytest worker that judges verdicts also holds
    (pytest, xdist, the plugin, and the scipy/statsmodels modules behavtest.stats
    imports), so the memory phase shows a real worker's weight, not a bare client."""
    if not os.environ.get(STATS_ENV):
        return
    import importlib

    for name in ("pytest", "xdist", "behavtest.plugin", "numpy", "scipy.stats", "scipy.special",
                 "scipy.optimize", "statsmodels.stats.power", "statsmodels.stats.weightstats",
                 "statsmodels.stats.proportion", "statsmodels.stats.multitest",
                 "statsmodels.stats.inter_rater"):
        importlib.import_module(name)


def child_direct(chunks: int, max_tokens: int, threads: int) -> None:
    """Like ``-n 0``: load the model in this process and sample."""
    import behavtest  # noqa: F401

    import_worker_modules()
    from behavtest.providers import ProviderConfig, load_provider

    provider = load_provider(SPEC, ProviderConfig(batch_size=BATCH, threads=threads))
    tokens = sum(draw_chunk(provider, seed, max_tokens) for seed in range(chunks))
    print(json.dumps({"tokens": tokens}), flush=True)


def child_client(address: str) -> None:
    """A worker: imports behavtest, connects, draws a chunk per 'go' line on stdin."""
    import behavtest  # noqa: F401

    import_worker_modules()
    from behavtest.engine import EngineProvider

    provider = EngineProvider(address)
    heavy = [m for m in ("torch", "transformers") if m in sys.modules]
    print(json.dumps({"ready": True, "heavy": heavy}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        seed, max_tokens = int(cmd[1]), int(cmd[2])
        t0 = time.perf_counter()
        tokens = draw_chunk(provider, seed, max_tokens)
        print(json.dumps({"tokens": tokens, "seconds": time.perf_counter() - t0}), flush=True)
    provider.close()


# -- memory ---------------------------------------------------------------------
class TreeMemory:
    """Peak of the summed RSS and PSS of every process this one started (recursively,
    so an engine's loading is seen from its first moment), sampled every 0.1 s.
    This process itself stands in for pytest's controller and is left out."""

    def __init__(self) -> None:
        self._me = psutil.Process()
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_footprint = 0
        self.per_process: dict[int, dict[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss = pss = private = 0
            shared: dict[str, int] = {}  # mapped file -> its shared resident bytes, max
            for proc in self._me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    maps = proc.memory_maps(grouped=True)
                    r = sum(m.rss for m in maps)
                    p = sum(m.pss for m in maps)
                    private += sum(m.private_clean + m.private_dirty for m in maps)
                    for m in maps:
                        sh = m.shared_clean + m.shared_dirty
                        shared[m.path] = max(shared.get(m.path, 0), sh)
                    rss += r
                    pss += p
                    peak = self.per_process.setdefault(proc.pid, {"rss": 0, "pss": 0})
                    peak["rss"] = max(peak["rss"], r)
                    peak["pss"] = max(peak["pss"], p)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_footprint = max(self.peak_footprint, private + sum(shared.values()))
            self._stop.wait(0.2)


def mb(n: int) -> int:
    return round(n / 2**20)


def measure_direct(chunks: int, max_tokens: int, threads: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "_direct", str(chunks), str(max_tokens), str(threads)]
    t0 = time.perf_counter()
    with TreeMemory() as mem:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        out, _ = proc.communicate()
    assert proc.returncode == 0, "direct sampling failed"
    return {
        "processes": 1, "samples": chunks * BATCH, "max_tokens": max_tokens,
        "seconds": round(time.perf_counter() - t0, 1),
        "peak_footprint_mb": mb(mem.peak_footprint), "peak_rss_mb": mb(mem.peak_rss),
        "peak_pss_mb": mb(mem.peak_pss), "tokens": json.loads(out.splitlines()[-1])["tokens"],
    }


class Clients:
    """N client processes connected to the engine, driven over their stdin."""

    def __init__(self, address: str, n: int) -> None:
        self.procs = [
            subprocess.Popen([sys.executable, __file__, "_client", address], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            for _ in range(n)
        ]
        self.hellos = [self._read(p) for p in self.procs]

    @staticmethod
    def _read(p: subprocess.Popen[str]) -> dict[str, Any]:
        assert p.stdout is not None
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(f"client {p.pid} exited (code {p.wait()})")
        return dict(json.loads(line))

    def round(self, seed: int, max_tokens: int) -> tuple[int, float]:
        """Every client draws one chunk at once; (total tokens, wall seconds)."""
        t0 = time.perf_counter()
        for k, p in enumerate(self.procs):
            assert p.stdin is not None
            p.stdin.write(f"go {seed * 1000 + k} {max_tokens}\n")
            p.stdin.flush()
        done = [self._read(p) for p in self.procs]
        return sum(int(d["tokens"]) for d in done), time.perf_counter() - t0

    def close(self) -> None:
        for p in self.procs:
            with contextlib.suppress(OSError):
                assert p.stdin is not None
                p.stdin.write("quit\n")
                p.stdin.close()
        for p in self.procs:
            p.wait(30)


def measure_engine(engine_pid: int, clients: Clients, max_tokens: int,
                   mem: TreeMemory, t_start: float) -> dict[str, Any]:
    tokens, _ = clients.round(10_000, max_tokens)
    return {
        "processes": 1 + len(clients.procs), "samples": len(clients.procs) * BATCH,
        "max_tokens": max_tokens, "seconds": round(time.perf_counter() - t_start, 1),
        "peak_footprint_mb": mb(mem.peak_footprint), "peak_rss_mb": mb(mem.peak_rss),
        "peak_pss_mb": mb(mem.peak_pss), "tokens": tokens,
        "engine_peak_rss_mb": mb(mem.per_process.get(engine_pid, {}).get("rss", 0)),
        "engine_peak_pss_mb": mb(mem.per_process.get(engine_pid, {}).get("pss", 0)),
        "client_peak_rss_mb": max(mb(v["rss"]) for k, v in mem.per_process.items()
                                  if k != engine_pid),
        "client_peak_pss_mb": max(mb(v["pss"]) for k, v in mem.per_process.items()
                                  if k != engine_pid),
    }


# -- throughput -------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=24, help="throughput rounds")
    ap.add_argument("--mem-max-tokens", type=int, default=8, help="memory phase")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch threads, both sides")
    ap.add_argument("--worker-imports", action="store_true",
                    help="memory only: the direct process and every client also import what "
                    "a pytest worker judging verdicts holds (pytest, scipy, statsmodels); "
                    "adds 'memory_with_worker_imports' to engine.json")
    args = ap.parse_args()
    if args.worker_imports:
        os.environ[STATS_ENV] = "1"
    from behavtest.engine import EngineProvider, ensure_engine, stop_engines
    from behavtest.providers import ProviderConfig

    t_all = time.perf_counter()
    # (i) memory: each side alone on the machine (PSS splits pages between all
    # processes mapping them, so the two sides must not overlap).
    direct = measure_direct(2, args.mem_max_tokens, args.threads)
    print("direct :", direct, flush=True)
    run_dir = Path(tempfile.mkdtemp(prefix="behavtest-bench-engine-"))
    t0 = time.perf_counter()
    with TreeMemory() as mem:
        opts = ProviderConfig(batch_size=BATCH, threads=args.threads)
        address = ensure_engine(SPEC, opts, run_dir)
        probe = EngineProvider(address)
        engine_pid = probe.pid
        clients = Clients(address, args.clients)
        engine_mem = measure_engine(engine_pid, clients, args.mem_max_tokens, mem, t0)
    engine_mem["clients_import_torch"] = any(h["heavy"] for h in clients.hellos)
    print("engine :", engine_mem, flush=True)
    memory = {
        "direct": direct, "engine_plus_clients": engine_mem,
        "ratio_footprint": round(engine_mem["peak_footprint_mb"] / direct["peak_footprint_mb"], 2),
        "ratio_pss": round(engine_mem["peak_pss_mb"] / direct["peak_pss_mb"], 2),
        "ratio_rss": round(engine_mem["peak_rss_mb"] / direct["peak_rss_mb"], 2),
        "note": "footprint = private pages + each mapped file's shared pages once per "
                "tree (what the tree alone occupies); RSS counts shared pages once per "
                "process (upper bound); PSS splits shared pages with every process on "
                "the machine, including other jobs (understates on a shared machine)",
    }
    print(f"peak memory engine+{args.clients} clients / direct: footprint "
          f"{memory['ratio_footprint']:.2f}, PSS {memory['ratio_pss']:.2f}, "
          f"RSS {memory['ratio_rss']:.2f}", flush=True)
    out = ROOT / "bench" / "results" / "engine.json"
    if args.worker_imports:
        probe.close()
        clients.close()
        stop_engines(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
        saved = json.loads(out.read_text()) if out.is_file() else {}
        saved["memory_with_worker_imports"] = memory
        out.write_text(json.dumps(saved, indent=2) + "\n")
        return

    # (ii) throughput
    import torch

    from behavtest.providers import load_provider

    provider = load_provider(SPEC, ProviderConfig(batch_size=BATCH, threads=args.threads))
    prompts = [q for q in QUESTIONS for _ in range(PER_QUESTION)] * args.clients
    raw_generate(provider, prompts[:BATCH], args.max_tokens, BATCH)  # warm-up
    before = probe.stats()
    rows = []
    for r in range(args.rounds):
        order = ("raw", "engine") if r % 2 == 0 else ("engine", "raw")
        res: dict[str, float] = {}
        for side in order:
            if side == "raw":
                torch.manual_seed(r)
                t = time.perf_counter()
                tok = raw_generate(provider, prompts, args.max_tokens, BATCH)
                res["generate_tok_s"] = tok / (time.perf_counter() - t)
            else:
                tok, secs = clients.round(r, args.max_tokens)
                res["engine_tok_s"] = tok / secs
        rows.append(res)
        print(f"round {r}: generate {res['generate_tok_s']:6.1f} tok/s, engine "
              f"{res['engine_tok_s']:6.1f} tok/s ({' first, '.join(order)} second)", flush=True)
    after = probe.stats()
    probe.close()
    clients.close()
    stop_engines(run_dir)
    shutil.rmtree(run_dir, ignore_errors=True)

    gen = sum(x["generate_tok_s"] for x in rows) / len(rows)
    eng = sum(x["engine_tok_s"] for x in rows) / len(rows)
    batching = {k: after[k] - before[k] for k in ("batches", "rows", "jobs", "mixed_batches")}
    batching["max_clients_in_batch"] = after["max_clients_in_batch"]
    result = {
        "benchmark": "model engine, embedded SmolLM2-135M fp32, CPU",
        "machine": platform.machine(), "cpus": os.cpu_count(),
        "torch_threads": args.threads, "clients": args.clients, "batch": BATCH,
        "memory": memory,
        "throughput": {
            "max_tokens": args.max_tokens, "settings": "temperature 1, top_p 1, top_k 0",
            "generate_tok_s": round(gen, 1), "engine_tok_s": round(eng, 1),
            "ratio_engine_over_generate": round(eng / gen, 3), "rounds": rows,
            "engine_batching": batching,
        },
        "seconds": round(time.perf_counter() - t_all, 1),
    }
    print(f"throughput engine / model.generate: {eng:.1f} / {gen:.1f} tok/s = {eng / gen:.2f}")
    out.parent.mkdir(exist_ok=True)
    previous = json.loads(out.read_text()) if out.is_file() else {}
    if "memory_with_worker_imports" in previous:
        result["memory_with_worker_imports"] = previous["memory_with_worker_imports"]
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_direct":
        child_direct(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_client":
        child_client(sys.argv[2])
    else:
        main()
