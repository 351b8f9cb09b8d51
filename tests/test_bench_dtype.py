"""bench/dtype.py's pure helpers: skipping parts, keeping the rounds, the ceiling share."""

from __future__ import annotations

import pytest
from bench_modules import load

bench = load("dtype")


def test_skip_takes_known_parts_in_any_case() -> None:
    assert bench.parse_skip("engine, TRAIN,") == {"ENGINE", "TRAIN"}
    assert bench.parse_skip("") == set()
    with pytest.raises(SystemExit, match="not GPU"):
        bench.parse_skip("ENGINE,gpu")


def test_rounds_keep_the_best_matmul_and_the_mean_of_the_rest() -> None:
    rounds = [{"mm_2048/float32": 50.0, "generate/float32": 10.0},
              {"mm_2048/float32": 60.0, "generate/float32": 20.0}]
    assert bench.summarize(rounds) == {"mm_2048/float32": 60.0, "generate/float32": 15.0}


def test_ceiling_share_and_speedups() -> None:
    # 100 tok/s at 0.27 GFLOP a token is 27 GFLOP/s: 27% of a 100 GFLOP/s ceiling
    assert bench.fraction(100.0, 0.27e9, 100.0) == pytest.approx(0.27)
    assert bench.pair(10.0, 20.0)["bf16_speedup"] == 2.0
    assert bench.pair(4.0, 2.0, seconds=True)["bf16_speedup"] == 2.0
    lines = bench.table([("generate tok/s", "1.0", "2.0", "2.00x")]).splitlines()
    assert "bf16 speed-up" in lines[0] and lines[1].endswith("2.00x")
