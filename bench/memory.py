"""Peak memory of the behaviour suite: ``-n 0`` vs ``-n 8``, side by side.

Runs ``pytest behaviors/`` on the embedded model twice (no xdist, then
``-n 8``) with a small sample budget and the cache off, and samples the
memory of the whole process tree (controller, workers, and the shared model
engine, which outlives the worker that started it) every 0.2 s. Two sums:
RSS, which counts pages shared between processes (libraries, the
memory-mapped weights) once per process and so overstates a group of
processes, and PSS, which splits each shared page between its users, so the
sum counts it once. PSS is the headline. Prints both peaks, their ratios and
the model loads the summary reports; writes bench/results/memory.json.

    python bench/memory.py [--samples 8] [--dtype auto|float32|bfloat16]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def _group(root: psutil.Process) -> list[psutil.Process]:
    procs = [root, *root.children(recursive=True)]
    seen = {p.pid for p in procs}
    for p in psutil.process_iter(["cmdline"]):  # engines re-parented away from a worker
        cmd = " ".join(p.info.get("cmdline") or [])
        if p.pid not in seen and "behavtest.engine" in cmd and f"--owner-pid {root.pid}" in cmd:
            procs.append(p)
    return procs


def tree_memory(root: psutil.Process) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) over the run's processes."""
    rss = pss = 0
    for p in _group(root):
        with contextlib.suppress(psutil.Error):  # a worker may exit meanwhile
            info = p.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
    return rss, pss


def run(workers: int, samples: int, dtype: str = "auto") -> dict[str, object]:
    cmd = [sys.executable, "-m", "pytest", "behaviors/", "-q", "-p", "no:randomly",
           "--samples", str(samples), "--behav-cache", "off", "-n", str(workers),
           "--behav-dtype", dtype]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    ps = psutil.Process(proc.pid)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss, pss = tree_memory(ps)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.2)
    out = proc.stdout.read() if proc.stdout else ""
    loads = re.search(r"model loads (\d+)", out)
    return {
        "workers": workers, "exit": proc.returncode, "seconds": round(time.perf_counter() - t0, 1),
        "peak_rss_mb": round(peak_rss / 2**20), "peak_pss_mb": round(peak_pss / 2**20),
        "model_loads": int(loads.group(1)) if loads else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--dtype", default="auto", help="--behav-dtype of both runs (default auto)")
    args = ap.parse_args()
    serial = run(0, args.samples, args.dtype)
    print("-n 0:", serial)
    parallel = run(8, args.samples, args.dtype)
    print("-n 8:", parallel)
    ratios = {
        key: round(parallel[key] / serial[key], 2)  # type: ignore[operator]
        for key in ("peak_pss_mb", "peak_rss_mb")
    }
    print(f"peak memory -n 8 / -n 0: PSS {ratios['peak_pss_mb']:.2f}, "
          f"RSS {ratios['peak_rss_mb']:.2f}")
    suffix = "" if args.dtype == "auto" else f"-{args.dtype}"
    out = ROOT / "bench" / "results" / f"memory{suffix}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"dtype": args.dtype, "serial": serial, "parallel": parallel,
                               "ratio_n8_over_n0": ratios}, indent=2) + "\n")


if __name__ == "__main__":
    main()
