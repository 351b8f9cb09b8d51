"""Peak memory of the behaviour suite: ``-n 0`` vs ``-n 8``, side by side.

Runs ``pytest behaviors/`` on the embedded model twice (no xdist, then
``-n 8``) with a small sample budget and the cache off, and samples the total
resident memory of the whole process tree (controller + workers) every 0.2 s.
Prints both peaks, their ratio and the model loads the summary reports;
writes bench/results/memory.json.

    python bench/memory.py [--samples 8]
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


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a worker may exit meanwhile
            total += p.memory_info().rss
    return total


def run(workers: int, samples: int) -> dict[str, object]:
    cmd = [sys.executable, "-m", "pytest", "behaviors/", "-q", "-p", "no:randomly",
           "--samples", str(samples), "--behav-cache", "off", "-n", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(ps))
        time.sleep(0.2)
    out = proc.stdout.read() if proc.stdout else ""
    loads = re.search(r"model loads (\d+)", out)
    return {
        "workers": workers, "exit": proc.returncode, "seconds": round(time.perf_counter() - t0, 1),
        "peak_rss_mb": round(peak / 2**20), "model_loads": int(loads.group(1)) if loads else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=8)
    args = ap.parse_args()
    serial = run(0, args.samples)
    print("-n 0:", serial)
    parallel = run(8, args.samples)
    print("-n 8:", parallel)
    ratio = parallel["peak_rss_mb"] / serial["peak_rss_mb"]  # type: ignore[operator]
    print(f"peak memory -n 8 / -n 0 = {ratio:.2f}")
    out = ROOT / "bench" / "results" / "memory.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"serial": serial, "parallel": parallel,
                               "ratio_n8_over_n0": round(ratio, 2)}, indent=2) + "\n")


if __name__ == "__main__":
    main()
