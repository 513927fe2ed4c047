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
