"""scripts/bench.py's memory measurement (the benchmark itself is not run in tests)."""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from voiceguide.encode import export
from voiceguide.encode.export import DEFAULT_BITRATE, FORMATS, Encoding, Tags

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


# A child that holds 60 MB and forks: parent and child share the pages (the RSS sum
# counts them twice, PSS once) until the child writes to its copy, which makes them
# two (PSS doubles; the RSS sum, and so the sampled reading, does not move).
FORKER = """
import os, time
data = bytearray(60 * 2**20)
for i in range(0, len(data), 4096):
    data[i] = 1
pid = os.fork()
if pid == 0:
    time.sleep(0.3)
    for i in range(0, len(data), 4096):
        data[i] = 2
    time.sleep(1.0)
    os._exit(0)
os.waitpid(pid, 0)
"""


def test_pss_read_at_every_poll_sees_pages_that_stop_being_shared(tmp_path: Path) -> None:
    bench = load_bench()
    command = [sys.executable, "-c", FORKER]
    sample = bench.measure(command, dict(os.environ), tmp_path, every_poll=True)
    assert 120 <= sample.peak_pss_mb <= sample.peak_mb  # both copies, whole


def test_an_address_space_is_counted_once_and_another_process_is_its_own() -> None:
    """A child made by vfork, before it runs its program, has its parent's address
    space, as a thread has its process's: kcmp says so for the thread, and the watcher
    keeps one of the two; a child running its own program counts apart."""
    bench = load_bench()
    if bench._SYS_KCMP is None:
        pytest.skip("kcmp's number is not known on this machine")
    me = os.getpid()
    started, done = threading.Event(), threading.Event()
    thread_ids: list[int] = []

    def wait() -> None:
        thread_ids.append(threading.get_native_id())
        started.set()
        done.wait(10)

    thread = threading.Thread(target=wait)
    thread.start()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10)"])
    try:
        started.wait(10)
        (task,) = thread_ids
        assert bench._shares_memory(me, task)
        assert bench._one_per_address_space({me, task}) == [min(me, task)]
        assert not bench._shares_memory(me, child.pid)
        assert bench._one_per_address_space({me, child.pid}) == sorted({me, child.pid})
    finally:
        done.set()
        thread.join()
        child.kill()
        child.wait()


def test_the_memory_round_reads_pss_at_every_poll_of_the_builds_only(tmp_path: Path) -> None:
    """After the timed runs, the builds run again with PSS read at every poll; the
    floors are not run, and the table shows both readings."""
    module = load_bench()
    bench = module.Bench(tmp_path, 2)
    holder = [sys.executable, "-c", HOLDER.format(mb=60, child=False, grandchild="")]
    bench.run("default warm", holder)
    bench.run("default floor", [sys.executable, "-c", "pass"])
    bench.memory_round = True
    bench.run("default warm", holder)
    bench.run("default floor", [sys.executable, "-c", "raise SystemExit(1)"])  # not run
    bench.run_many("batch20 floor", [[sys.executable, "-c", "raise SystemExit(1)"]])
    bench.stages()  # not run either: it times stages in this process
    results = bench.results
    assert len(results.samples["default warm"]) == 1  # the memory round is not timed
    assert len(results.samples["default floor"]) == 1
    assert not results.has("batch20 floor")
    assert not results.has("stages floor")
    exact = results.peak_exact_pss("default warm")
    assert exact is not None
    assert 60 <= exact < 120
    assert results.peak_exact_pss("default floor") is None
    row = next(r for r in module.table(results, 1).splitlines() if "warm cache |" in r)
    cells = [cell.strip() for cell in row.split("|")]
    assert cells[6] == f"{exact:.0f} MB"  # (PSS, every poll), beside the sampled PSS
    assert cells[5] == f"{results.peak_pss('default warm'):.0f} MB"


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


def test_the_piper_note_gives_the_ratio_of_the_medians_and_of_each_run() -> None:
    bench = load_bench()
    results = bench.Results()
    for build, line in [(9.0, 7.5), (8.8, 9.0), (9.1, 8.2)]:
        results.add("piper cold", bench.Sample(build, 400.0, 16.0, 390.0))
        results.add("piper cli", bench.Sample(line, 330.0, 15.0, 325.0))
    text = bench.table(results, 3)
    assert "own command line on the same lines: 8.20 s, 7.50 to 9.00 s" in text
    assert "1.10x (per run 1.20, 0.98, 1.11)." in text


def test_the_batch_built_separately_is_the_batch_files_sessions(tmp_path: Path) -> None:
    """The batch is compared with the same sessions built by separate commands: the
    same holds, into the same files, one after another (stopping at a failure)."""
    bench = load_bench().Bench(tmp_path, 2)
    listed = yaml.safe_load(bench.batch_file().read_text("utf-8"))["sessions"]
    shell, flag, script = bench.separately()
    assert (shell, flag) == ("sh", "-c")
    builds = [shlex.split(command) for command in script.split(" && ")]
    assert len(builds) == len(listed) == 20
    for build, session in zip(builds, listed, strict=True):
        assert build[:4] == [sys.executable, "-m", "voiceguide", "build"]
        assert build[build.index("--hold") + 1] == session["hold"]
        assert build[build.index("-o") + 1] == session["output"]
    assert len({session["hold"] for session in listed}) == 5


@pytest.mark.parametrize(("fmt", "codec"), [("mp3", "libmp3lame"), ("m4a", "aac")])
def test_the_floor_runs_the_command_the_build_encodes_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, codec: str
) -> None:
    bench = load_bench()
    runs: list[tuple[list[str], str]] = []

    def run(command: list[str], *args: object, **kwargs: object) -> str:
        runs.append((command, _metadata(command).read_text("utf-8")))
        return ""

    monkeypatch.setattr(export, "pipe_to_ffmpeg", run)
    floor = bench.Bench(tmp_path, 1)
    monkeypatch.setattr(floor, "pcm", lambda hold: tmp_path / "floor-5m.pcm")
    command = floor.floor("5m", f"floor.{fmt}", fmt)
    encoding = Encoding(FORMATS[fmt], DEFAULT_BITRATE, Tags("floor", "voiceguide", "floor"))
    export.encode([], 0, tmp_path / f"floor.{fmt}", encoding, verify=False)
    ((built, metadata),) = runs
    assert _metadata(command).read_text("utf-8") == metadata
    assert _source(command) == str(tmp_path / "floor-5m.pcm")
    assert _source(built) == "pipe:0"
    # Word for word the same, but for where the PCM and the metadata come from.
    assert _general(command) == _general(built)
    assert built[built.index("-c:a") + 1] == codec


def _source(command: list[str]) -> str:
    return command[command.index("-i") + 1]


def _metadata(command: list[str]) -> Path:
    return Path(command[command.index("ffmetadata") + 2])


def _general(command: list[str]) -> list[str]:
    named = {_source(command): "SOURCE", str(_metadata(command)): "METADATA"}
    return [named.get(word, word) for word in command]


def test_the_bench_compiles_a_package_to_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As pip does at install: the builds then import it from bytecode, even where
    # PYTHONDONTWRITEBYTECODE would keep Python from writing it.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    package = tmp_path / "package"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "module.py").write_text("VALUE = 1\n")
    assert load_bench().compile_bytecode(package)
    tag = sys.implementation.cache_tag
    assert (package / "__pycache__" / f"__init__.{tag}.pyc").is_file()
    assert (package / "inner" / "__pycache__" / f"module.{tag}.pyc").is_file()


def test_the_bench_says_when_a_package_cannot_be_compiled(tmp_path: Path) -> None:
    package = tmp_path / "package"
    package.mkdir()
    (package / "broken.py").write_text("def (:\n")
    assert not load_bench().compile_bytecode(package)


def test_a_cold_step_has_an_empty_cache_but_for_the_kept_models(tmp_path: Path) -> None:
    bench = load_bench().Bench(tmp_path, 2)
    models = tmp_path / "piper-models"
    models.mkdir()
    (models / "voice-0123.onnx").write_bytes(b"optimised")
    seen: list[tuple[Path, list[str]]] = []
    contents: list[bytes] = []

    def step() -> None:
        cold = Path(bench.env["VOICEGUIDE_CACHE_DIR"])
        seen.append((cold, sorted(str(p.relative_to(cold)) for p in cold.rglob("*"))))
        contents.extend(p.read_bytes() for p in cold.rglob("*.onnx"))

    bench.cold(step)()
    bench.cold(step, models)()
    (empty, nothing), (kept, listed) = seen
    assert nothing == []
    assert listed == ["models", "models/voice-0123.onnx"]
    assert contents == [b"optimised"]
    assert not empty.exists()
    assert not kept.exists(), "each cold cache is removed after its step"
    assert bench.env["VOICEGUIDE_CACHE_DIR"] == str(bench.cache)
    assert (models / "voice-0123.onnx").exists(), "the kept models stay for the next run"


def test_the_piper_cache_is_filled_once_and_a_warm_step_runs_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = load_bench().Bench(tmp_path, 2)
    builds = tmp_path / "builds"
    # A stand-in for the Piper build: it leaves a clip in the cache it is given.
    fill = (
        "import os, pathlib; cache = pathlib.Path(os.environ['VOICEGUIDE_CACHE_DIR']); "
        "cache.mkdir(); (cache / 'clip.wav').write_bytes(b'spoken'); "
        f"open({str(builds)!r}, 'a').write('built\\n')"
    )
    asked: list[tuple[str, ...]] = []

    def voiceguide(*args: str) -> list[str]:
        asked.append(args)
        return [sys.executable, "-c", fill]

    monkeypatch.setattr(bench, "voiceguide", voiceguide)
    folder = bench.piper_cache()
    assert bench.piper_cache() == folder
    assert builds.read_text() == "built\n", "made once"
    assert asked == [("build", "-q", "--engine", "piper", "-o", "warming.mp3")]
    seen: list[list[str]] = []

    def step() -> None:
        cache = Path(bench.env["VOICEGUIDE_CACHE_DIR"])
        seen.append(sorted(p.name for p in cache.iterdir()))

    bench.in_cache(step, folder)()
    assert seen == [["clip.wav"]]
    assert bench.env["VOICEGUIDE_CACHE_DIR"] == str(bench.cache)
    assert (folder / "clip.wav").read_bytes() == b"spoken", "the warm cache stays"
