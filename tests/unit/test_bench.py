"""scripts/bench.py's memory measurement (the benchmark itself is not run in tests)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench.py"

# A child that holds 60 MB and starts a grandchild holding 40 MB, at the same time.
HOLDER = """
import subprocess, sys, time
data = b"x" * ({mb} * 2**20)
if {child}:
    subprocess.run([sys.executable, "-c", {grandchild!r}], check=True)
else:
    time.sleep(1.5)
"""


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("voiceguide_bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["voiceguide_bench"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_peak_memory_sums_the_whole_process_tree(tmp_path: Path) -> None:
    bench = load_bench()
    grandchild = HOLDER.format(mb=40, child=False, grandchild="")
    child = HOLDER.format(mb=60, child=True, grandchild=grandchild)
    sample = bench.measure([sys.executable, "-c", child], dict(os.environ), tmp_path)
    assert sample.seconds >= 1.5
    assert 100 <= sample.peak_mb < 200  # both processes' 100 MB, plus two interpreters
    # Their memory is their own: the proportional share counts it too, and counts the
    # interpreter's shared pages once, so it is a little less.
    assert 100 <= sample.peak_pss_mb <= sample.peak_mb


def test_the_stage_table_adds_the_medians_of_each_stage_against_the_floor() -> None:
    bench = load_bench()
    results = bench.Results()
    for floor, gain, encode in [(4.0, 1.0, 3.0), (2.0, 2.0, 1.0), (3.0, 1.5, 2.0)]:
        results.add("stages floor", bench.Sample(floor, 50.0, floor))
        results.add("stage gain", bench.Sample(gain, 0.0, gain))
        results.add("stage encode short", bench.Sample(encode, 0.0, encode))
    rows = bench.table(results, 3).splitlines()
    assert rows[2] == "| gain | 1.50 s | 0.50 | 1.50 s |"
    assert rows[3] == "| encode short | 2.00 s | 0.67 | 2.00 s |"
    assert rows[4] == "| all stages | 3.50 s | 1.17 | |"
    assert rows[5] == "| the floor | 3.00 s | 1.00 | 3.00 s |"
