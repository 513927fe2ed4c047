"""Benchmark voiceguide builds against the ffmpeg floor and a naive pydub pipeline.

    python scripts/bench.py [--runs 3] [--cases default,10min,60min,batch20,stages,piper,m4a]

Every case runs ``--runs`` times, interleaved, in fresh processes, with a speech
cache of its own; the table gives medians. "Warm" is that cache as a build of the
same session left it: its speech clips, its islands' loudness figures, its gain
and its encoded short file (voiceguide/encode/kept.py), so that a warm build copies
the encoded frames; it still measures the finished file. "Changed" (with the
default case) is a session that cache has not seen: the default session with its
holds a second longer at each run (the lines that say the hold's length are spoken
anew; the rest of the speech, and the loudness figures of the islands that keep
their place within their 100 ms steps, are found), and neither its gain nor its
encoded file. For each case it measures:

- wall time of ``voiceguide build`` (or ``voiceguide batch``), from process start to exit;
  for the batch, also with ``--jobs 1`` (one session at a time, in one process) and as
  its 20 sessions built one after another, each by a ``voiceguide build`` of its own;
- peak memory: the summed resident set of the build's whole process tree (the
  Python process, ffmpeg, ffprobe and the speech workers), polled every 20 ms;
  and beside it the summed proportional set (PSS), which counts a page shared by
  several processes once in all (every ffmpeg maps the same 40 MB of libraries),
  read at each new peak of the RSS sum and every second (reading it costs CPU),
  and, in a run of its own after the timed runs (``--memory-runs``, whose time is
  not counted), at every poll: the sampled reading can miss a peak that lasts
  less than a second, such as a new ffmpeg starting beside another;
- the floor: ffmpeg alone encoding the same session's PCM, from a raw file, with
  the very command the build encodes with (``voiceguide.encode.export.encode_command``,
  tags and all), less the build's loudness filter; for the batch, the 20 encodes run
  as many at once as the batch runs sessions;
- a naive pipeline: the same speech step, then every clip and pause joined in
  memory with pydub's ``+`` and exported with ``AudioSegment.export``;
- (case ``piper``) a cold build with ``--engine piper`` against Piper's own command
  line (``python -m piper``) speaking the session's lines, one WAV file each, with
  the settings the build gives Piper (length scale, volume, sentence silence); cold
  twice: with nothing in the cache (the first Piper build on a machine, which also
  keeps the voice model as onnxruntime optimises it), and with only that optimised
  model in it (every later build whose lines are not cached); and warm, built again
  in the cache a Piper build of it left;
- and (case ``stages``) where the default session's time goes: Python's start-up
  and imports (a fresh process), then each stage of a warm build on one core,
  timed alone in this process with the library's own functions (preparing,
  finding the gain, encoding the short render, measuring it, expanding it,
  checking the finished file), beside the floor of the same run.

voiceguide's own modules are compiled to bytecode first (:func:`compile_bytecode`), as
``pip install`` compiles them, so that the builds import them as an installed voiceguide
does, even where ``PYTHONDONTWRITEBYTECODE`` is set (a build would otherwise compile
some 70 modules from source every time, about 0.1 s).

It is not run in CI: it takes several minutes and its figures depend on the machine.
"""

from __future__ import annotations

import argparse
import compileall
import ctypes
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydub import AudioSegment

import voiceguide
from voiceguide.build.session import SessionOptions, mp3_shortcut, prepare
from voiceguide.encode.export import (
    DEFAULT_BITRATE,
    FORMATS,
    Encoding,
    Tags,
    encode_command,
    ffmetadata,
    find_tool,
    verify_duration,
)
from voiceguide.encode.levelling import LIMITER_CEILING, find_level
from voiceguide.encode.meter import measure_file
from voiceguide.encode.mp3.split import encode_short
from voiceguide.encode.plan_loudness import VoiceLoudness
from voiceguide.progress import no_progress
from voiceguide.sound.islands import Sounds
from voiceguide.sound.render import render
from voiceguide.speech.cache import ClipCache
from voiceguide.text.durations import parse_duration
from voiceguide.units import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH

T = TypeVar("T")
POLL_SECONDS = 0.02
PSS_EVERY = 50  # polls: PSS is read at each new peak of the RSS sum, and every second
BATCH_HOLDS = ("1m", "1m30s", "2m", "2m30s", "3m")  # a physiotherapist's clients, cycled
BATCH_SIZE = 20
CASES = {  # name: the --hold of a single session (None for the batch)
    "default": "5m",  # the default session: 13 min 20 s
    "10min": "3m20s",  # 10 min 0 s in all
    "60min": "29m",  # 61 min 21 s in all
    "batch20": None,
    "stages": "5m",  # the default session, stage by stage
    "piper": "5m",  # the default session, spoken by Piper
    "programme": None,  # the built-in lower-back programme, as written (34:53)
    "m4a": "5m",  # the default session as an M4A (voiceguide/encode/m4a.py)
}
PROGRAMME = "lower-back"
STAGES = ("import", "prepare", "gain", "encode short", "measure short", "expand", "check")


# --- measuring one process tree ----------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    seconds: float  # wall time
    peak_mb: float  # summed resident set (RSS)
    cpu: float  # user + system seconds of the whole process tree
    peak_pss_mb: float = 0.0  # summed proportional set (PSS): shared pages counted once


def _ppid(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2 :].split()[1])


def _field_kb(path: str, name: bytes) -> int:
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.startswith(name):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_kb(pid: int) -> int:
    return _field_kb(f"/proc/{pid}/status", b"VmRSS:")


def _pss_kb(pid: int) -> int:
    """The process's proportional share of its resident pages: a page that n processes
    map counts 1/n in each (so ffmpeg's shared libraries count once, not per ffmpeg)."""
    return _field_kb(f"/proc/{pid}/smaps_rollup", b"Pss:")


_LIBC = ctypes.CDLL(None)
_SYS_KCMP = (  # kcmp's number in a 64-bit process; where unknown, no process is merged
    {"x86_64": 312, "aarch64": 272, "riscv64": 272}.get(platform.machine())
    if ctypes.sizeof(ctypes.c_void_p) == 8
    else None
)
_KCMP_VM = 1


def _shares_memory(a: int, b: int) -> bool:
    """Whether processes ``a`` and ``b`` have one address space: a child that Python's
    subprocess made with vfork, in the moment before it runs ffmpeg, reads as a copy of
    its parent, and counting both counted the parent twice (once 70 MB "ffprobe" beside
    its 70 MB parent). Linux's kcmp says; where it cannot, they are taken as separate."""
    if _SYS_KCMP is None:
        return False
    return int(_LIBC.syscall(_SYS_KCMP, a, b, _KCMP_VM, 0, 0)) == 0


def _one_per_address_space(tree: set[int]) -> list[int]:
    kept: list[int] = []
    for pid in sorted(tree):
        if not any(_shares_memory(pid, other) for other in kept):
            kept.append(pid)
    return kept


class TreeWatcher(threading.Thread):
    """Polls the summed resident set (and proportional set) of a process and all its
    descendants, each address space once."""

    def __init__(self, root: int, every_poll: bool = False) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.every_poll = every_poll  # read PSS at every poll, not only at RSS peaks
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self.done = threading.Event()
        self._parents: dict[int, int | None] = {}

    def run(self) -> None:
        polls = 0
        while not self.done.is_set():
            tree = {self.root}
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
            for p in pids:
                pid = int(p)
                if pid not in self._parents:  # a process's parent never changes while we care
                    self._parents[pid] = _ppid(p)
            grew = True
            while grew:
                grew = False
                for pid, parent in self._parents.items():
                    if parent in tree and pid not in tree:
                        tree.add(pid)
                        grew = True
            tree = set(_one_per_address_space(tree))
            rss = sum(_rss_kb(pid) for pid in tree)
            polls += 1
            # PSS costs the kernel a walk of every mapping: reading it every poll took
            # CPU the batch then lacked (docs/performance.md).
            if self.every_poll or rss > self.peak_kb or polls % PSS_EVERY == 0:
                self.peak_pss_kb = max(self.peak_pss_kb, sum(_pss_kb(pid) for pid in tree))
            self.peak_kb = max(self.peak_kb, rss)
            self.done.wait(POLL_SECONDS)


def _cpu_seconds() -> float:
    """User and system time of this process and of its children that have ended."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def measure(
    command: Sequence[str], env: dict[str, str], cwd: Path, every_poll: bool = False
) -> Sample:
    """Run ``command`` to completion; its wall time and the peak memory of its tree
    (``every_poll``: its PSS read at every poll, which costs the run CPU)."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    watcher = TreeWatcher(proc.pid, every_poll)
    watcher.start()
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    watcher.done.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command)} failed:\n{errors.decode()}")
    cpu = usage.ru_utime + usage.ru_stime  # wait4 counts the reaped descendants too
    # Not ru_maxrss: Linux records there the parent's high-water mark at the child's exec.
    return Sample(seconds, watcher.peak_kb / 1024, cpu, watcher.peak_pss_kb / 1024)


def measure_many(commands: Sequence[Sequence[str]], workers: int, cwd: Path) -> Sample:
    """Run independent commands, ``workers`` at a time; total wall time, summed peak."""
    began = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        samples = list(pool.map(lambda c: measure(c, dict(os.environ), cwd), commands))
    peak = sum(sorted((s.peak_mb for s in samples), reverse=True)[:workers])
    pss = sum(sorted((s.peak_pss_mb for s in samples), reverse=True)[:workers])
    return Sample(time.perf_counter() - began, peak, sum(s.cpu for s in samples), pss)


# --- the naive pipeline ------------------------------------------------------------------


def naive_build(hold: float, output: Path, use_cache: bool) -> None:
    """The same speech, joined in memory with pydub's ``+``, exported with pydub."""
    prepared = prepare(SessionOptions(hold=hold, use_cache=use_cache))
    session = AudioSegment.empty()
    for event in prepared.timeline.events:
        if event.kind == "pause":
            clip = AudioSegment(
                data=bytes(event.length * SAMPLE_WIDTH),
                sample_width=SAMPLE_WIDTH,
                frame_rate=SAMPLE_RATE,
                channels=CHANNELS,
            )
        elif event.kind == "speech":
            clip = prepared.speech[event.text]
        else:
            clip = prepared.chimes[event.role]
        session = session + clip
    session.export(str(output), format="mp3", bitrate=DEFAULT_BITRATE)


# --- the cases ---------------------------------------------------------------------------


@dataclass
class Results:
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    exact_pss: dict[str, list[float]] = field(default_factory=dict)  # MB, read every poll

    def add(self, key: str, sample: Sample) -> None:
        self.samples.setdefault(key, []).append(sample)
        load = os.getloadavg()[0]
        print(
            f"  {key:<24} {sample.seconds:7.2f} s {sample.peak_mb:7.1f} MB "
            f"(PSS {sample.peak_pss_mb:5.1f}) "
            f"{sample.cpu:7.2f} s CPU (load {load:.1f})",
            file=sys.stderr,
        )

    def add_exact_pss(self, key: str, sample: Sample) -> None:
        self.exact_pss.setdefault(key, []).append(sample.peak_pss_mb)
        print(f"  {key:<24} PSS read at every poll: {sample.peak_pss_mb:5.1f} MB", file=sys.stderr)

    def peak_exact_pss(self, key: str) -> float | None:
        return max(self.exact_pss[key]) if key in self.exact_pss else None

    def seconds(self, key: str) -> float:
        return statistics.median(s.seconds for s in self.samples[key])

    def cpu(self, key: str) -> float:
        return statistics.median(s.cpu for s in self.samples[key])

    def peak(self, key: str) -> float:
        return max(s.peak_mb for s in self.samples[key])

    def peak_pss(self, key: str) -> float:
        return max(s.peak_pss_mb for s in self.samples[key])

    def has(self, key: str) -> bool:
        return key in self.samples


class Bench:
    def __init__(self, work: Path, workers: int) -> None:
        self.work = work
        self.workers = workers
        self.cache = work / "cache"
        self.env = {**os.environ, "VOICEGUIDE_CACHE_DIR": str(self.cache)}
        self.python = [sys.executable]
        self.results = Results()
        self.seconds_longer = 0  # the holds of the next "changed" build, past 5 minutes
        self.memory_round = False  # the builds (and Piper's command line), PSS every poll

    def voiceguide(self, *args: str) -> list[str]:
        return [*self.python, "-m", "voiceguide", *args]

    def naive(self, *args: str) -> list[str]:
        return [*self.python, str(Path(__file__).resolve()), "naive", *args]

    def run(self, key: str, command: Sequence[str]) -> None:
        if not self.memory_round:
            self.results.add(key, measure(command, dict(self.env), self.work))
        elif not key.startswith("stage") and "floor" not in key and "naive" not in key:
            sample = measure(command, dict(self.env), self.work, every_poll=True)
            self.results.add_exact_pss(key, sample)

    def run_many(self, key: str, commands: Sequence[Sequence[str]]) -> None:
        """Independent commands, as many at a time as there are cores (not in the
        memory round: they are floors)."""
        if not self.memory_round:
            self.results.add(key, measure_many(commands, self.workers, self.work))

    def pcm(self, hold: str | None) -> Path:
        """The session's PCM, rendered once into a raw file for the floor (``hold``
        None: the programme, as written)."""
        path = self.work / f"floor-{hold or PROGRAMME}.pcm"
        if not path.exists():
            os.environ["VOICEGUIDE_CACHE_DIR"] = str(self.cache)
            options = (
                SessionOptions(routine=PROGRAMME)
                if hold is None
                else SessionOptions(hold=parse_duration(hold))
            )
            prepared = prepare(options)
            with path.open("wb") as f:
                for block in render(prepared.timeline, prepared.speech, prepared.chimes):
                    f.write(block)
        return path

    def floor(self, hold: str | None, output: str, fmt: str = "mp3") -> list[str]:
        """The build's encode command for ``fmt``, one ffmpeg reading the session's PCM
        from a raw file."""
        encoding = Encoding(FORMATS[fmt], DEFAULT_BITRATE, Tags("floor", "voiceguide", "floor"))
        metadata = self.work / "floor-metadata.txt"
        metadata.write_text(ffmetadata(encoding), "utf-8")
        return encode_command(encoding, self.work / output, metadata, source=str(self.pcm(hold)))

    def piper_cli(self, hold: str) -> list[str]:
        """Piper's own command line speaking the session's distinct lines, a WAV each,
        with the settings voiceguide's Piper engine uses."""
        from voiceguide.build.session import cue_sheet
        from voiceguide.speech import piper_engine

        options = SessionOptions(hold=parse_duration(hold), engine="piper")
        _, sheet = cue_sheet(options)
        lines = self.work / "piper-lines.txt"
        lines.write_text("\n".join(dict.fromkeys(sheet.texts())) + "\n", "utf-8")
        engine = piper_engine.PiperEngine(rate=options.rate)
        out = Path(tempfile.mkdtemp(prefix="piper-", dir=self.work))
        return [
            *self.python, "-m", "piper", "-m", str(engine.model.model),
            "-i", str(lines), "-d", str(out),
            "--length-scale", f"{engine.length_scale:.4f}",
            "--volume", str(piper_engine.VOLUME),
            "--sentence-silence", str(piper_engine.SENTENCE_PAUSE),
        ]  # fmt: skip

    def piper_model(self) -> Path:
        """A folder holding the Piper voice model as a first Piper build keeps it."""
        folder = self.work / "piper-models"
        if not folder.is_dir():
            code = (
                "import sys; from pathlib import Path; "
                "from voiceguide.speech.piper_engine import PiperEngine; "
                "PiperEngine(keep=Path(sys.argv[1]))._voice"
            )
            subprocess.run([*self.python, "-c", code, str(folder)], env=self.env, check=True)
        return folder

    def batch_sessions(self) -> list[tuple[str, str]]:
        """The batch's sessions: (output, hold) of each."""
        return [
            (f"client-{n + 1:02d}.mp3", BATCH_HOLDS[n % len(BATCH_HOLDS)])
            for n in range(BATCH_SIZE)
        ]

    def batch_file(self) -> Path:
        path = self.work / "batch.yaml"
        lines = ["sessions:"]
        for output, hold in self.batch_sessions():
            lines.append(f"  - {{output: {output}, hold: {hold}}}")
        path.write_text("\n".join(lines) + "\n", "utf-8")
        return path

    def separately(self) -> list[str]:
        """The batch's sessions built one after another, each by a ``voiceguide build``
        of its own, as someone without a batch file would: one shell runs them in turn."""
        builds = [
            shlex.join(self.voiceguide("build", "-q", "--hold", hold, "-o", output))
            for output, hold in self.batch_sessions()
        ]
        return ["sh", "-c", " && ".join(builds)]

    def stages(self) -> None:
        """The stages of a warm build of the default session, one after another in
        this process, each timed alone (as ``write_session`` runs them with one process)."""
        if self.memory_round:
            return
        os.environ["VOICEGUIDE_CACHE_DIR"] = str(self.cache)

        def timed(stage: str, work: Callable[[], T]) -> T:
            began, cpu = time.perf_counter(), _cpu_seconds()
            result = work()
            self.results.add(
                f"stage {stage}", Sample(time.perf_counter() - began, 0.0, _cpu_seconds() - cpu)
            )
            return result

        prepared = timed("prepare", lambda: prepare(SessionOptions()))
        timeline = prepared.timeline
        sounds = Sounds(prepared.speech, prepared.chimes)
        store = ClipCache()  # the islands' figures, kept by the builds before
        level = timed("gain", lambda: find_level(VoiceLoudness(sounds, timeline, store=store)))
        tags = Tags(title="stages", artist="voiceguide", album="stages")
        encoding = Encoding(FORMATS["mp3"], DEFAULT_BITRATE, tags)
        shortcut = mp3_shortcut(prepared)
        assert shortcut is not None
        short, finished = self.work / "stages-short.mp3", self.work / "stages.mp3"

        def render_short(start: int, end: int) -> Iterator[bytes]:
            return sounds.render(shortcut.timeline, level.gain, LIMITER_CEILING, start, end)

        timed(
            "encode short",
            lambda: encode_short(
                render_short, shortcut.timeline.length, short, encoding, no_progress
            ),
        )
        timed("measure short", lambda: measure_file(short, shortcut.gaps, ours=True))
        timed("expand", lambda: shortcut.expand(short, finished))
        timed("check", lambda: verify_duration(finished, timeline.length))

    def rounds(self, case: str) -> list[Callable[[], None]]:
        """What one run of a case measures, each a separate step."""
        hold = CASES[case]
        if case == "piper":
            build = self.voiceguide("build", "-q", "--engine", "piper")
            return [
                self.cold(lambda: self.run("piper cold", build)),
                lambda: self.run("piper cli", self.piper_cli(hold or "5m")),
                self.cold(lambda: self.run("piper cold kept", build), self.piper_model()),
                self.in_cache(lambda: self.run("piper warm", build), self.piper_cache()),
            ]
        if case == "stages":
            python = [*self.python, "-c", "import voiceguide.cli"]
            return [
                lambda: self.run("stages floor", self.floor(hold or "5m", "floor.mp3")),
                lambda: self.run("stage import", python),
                self.stages,
            ]
        if case == "m4a":
            build = self.voiceguide("build", "-q", "--hold", hold or "5m", "-o", "s.m4a")
            return [
                lambda: self.run("m4a warm", build),
                lambda: self.changed("m4a changed", "-o", "s.m4a"),
                lambda: self.changed("m4a changed jobs1", "-o", "s.m4a", "--jobs", "1"),
                lambda: self.run("m4a floor", self.floor(hold or "5m", "floor.m4a", "m4a")),
            ]
        if case == "programme":
            return [
                lambda: self.run("programme warm", self.voiceguide("build", PROGRAMME, "-q")),
                lambda: self.run("programme floor", self.floor(None, "floor.mp3")),
            ]
        if hold is None:
            batch = str(self.batch_file())
            holds = [hold for _, hold in self.batch_sessions()]
            return [
                lambda: self.run("batch20", self.voiceguide("batch", batch, "-q")),
                lambda: self.run(
                    "batch20 one by one", self.voiceguide("batch", batch, "-q", "--jobs", "1")
                ),
                lambda: self.run("batch20 separately", self.separately()),
                lambda: self.run_many(
                    "batch20 floor",
                    [self.floor(h, f"floor-{n}.mp3") for n, h in enumerate(holds)],
                ),
                lambda: self.run("batch20 naive", self.naive("--out", "naive.mp3", *holds)),
            ]
        steps = [
            lambda: self.run(f"{case} warm", self.voiceguide("build", "-q", "--hold", hold)),
            lambda: self.run(f"{case} floor", self.floor(hold, "floor.mp3")),
            lambda: self.run(f"{case} naive", self.naive("--out", "naive.mp3", hold)),
        ]
        if case == "default":
            steps += [
                lambda: self.run(
                    "default warm jobs1", self.voiceguide("build", "-q", "--jobs", "1")
                ),
                self.changed,
                self.cold(lambda: self.run("default cold", self.voiceguide("build", "-q"))),
                self.cold(
                    lambda: self.run(
                        "default cold naive", self.naive("--out", "naive.mp3", "--no-cache", hold)
                    )
                ),
            ]
        return steps

    def changed(self, key: str = "default changed", *options: str) -> None:
        """The default session with holds a second longer than any build before."""
        self.seconds_longer += 1
        hold = f"5m{self.seconds_longer}s"
        self.run(key, self.voiceguide("build", "-q", "--hold", hold, *options))

    def cold(self, step: Callable[[], None], models: Path | None = None) -> Callable[[], None]:
        """``step`` with an empty speech cache of its own (but for the speech engines'
        kept models, linked from ``models``, if given)."""

        def run() -> None:
            cold = Path(tempfile.mkdtemp(prefix="cold-", dir=self.work))
            if models is not None:
                (cold / "models").mkdir()
                for model in models.iterdir():
                    os.link(model, cold / "models" / model.name)
            try:
                self.in_cache(step, cold)()
            finally:
                shutil.rmtree(cold, ignore_errors=True)

        return run

    def in_cache(self, step: Callable[[], None], folder: Path) -> Callable[[], None]:
        """``step`` with ``folder`` as its speech cache."""

        def run() -> None:
            self.env["VOICEGUIDE_CACHE_DIR"] = str(folder)
            try:
                step()
            finally:
                self.env["VOICEGUIDE_CACHE_DIR"] = str(self.cache)

        return run

    def piper_cache(self) -> Path:
        """A speech cache as a Piper build of the default session leaves it (its clips,
        its kept model, its gain and encoded frames), made once."""
        folder = self.work / "piper-cache"
        if not folder.is_dir():
            subprocess.run(
                self.voiceguide("build", "-q", "--engine", "piper", "-o", "warming.mp3"),
                env={**self.env, "VOICEGUIDE_CACHE_DIR": str(folder)},
                cwd=self.work, stdout=subprocess.DEVNULL, check=True,
            )  # fmt: skip
        return folder

    def warm(self, m4a: bool = False) -> None:
        """Fill the cache as a build of each session the cases make leaves it: the
        speech clips, the islands' loudness figures, the gain and the encoded short
        file (and with ``m4a``, the gain of the default session as an M4A, whose
        closing silence is of whole AAC frames)."""
        for hold in sorted({h for h in CASES.values() if h} | set(BATCH_HOLDS)):
            for _attempt in (1, 2):  # on a loaded machine the speech engine may time out
                result = subprocess.run(
                    self.voiceguide("build", "-q", "--hold", hold, "-o", "warming.mp3"),
                    env=self.env,
                    cwd=self.work,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                    check=False,
                )
                if result.returncode == 0:
                    break
                print(f"bench: warming --hold {hold}: {result.stderr.strip()}", file=sys.stderr)
            else:
                raise SystemExit("bench: could not warm the cache")
        subprocess.run(
            self.voiceguide("build", PROGRAMME, "-q", "-o", "warming.mp3"),
            env=self.env, cwd=self.work, stdout=subprocess.DEVNULL, check=True,
        )  # fmt: skip
        if m4a:
            subprocess.run(
                self.voiceguide("build", "-q", "-o", "warming.m4a"),
                env=self.env, cwd=self.work, stdout=subprocess.DEVNULL, check=True,
            )  # fmt: skip


def compile_bytecode(package: Path) -> bool:
    """Compile ``package``'s modules to bytecode beside them (``__pycache__``), as pip
    does when it installs a package; whether every module could be."""
    return bool(compileall.compile_dir(package, quiet=1))


# --- reporting ---------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ffmpeg = subprocess.run(
        [find_tool("ffmpeg"), "-version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    version = ffmpeg.split()[2] if len(ffmpeg.split()) > 2 else ffmpeg
    return (
        f"{os.cpu_count()} cores ({model}), Linux {platform.release()}, "
        f"Python {platform.python_version()}, ffmpeg {version}"
    )


def table(results: Results, runs: int) -> str:
    rows = [
        ("default session, cold cache", "default cold", "default floor", "default cold naive"),
        ("default session, warm cache", "default warm", "default floor", "default naive"),
        (
            "default session changed (holds 1 s longer), most speech cached",
            "default changed",
            "default floor",
            "default naive",
        ),
        (
            "default session, warm cache, --jobs 1",
            "default warm jobs1",
            "default floor",
            "default naive",
        ),
        ("10-minute session (--hold 3m20s)", "10min warm", "10min floor", "10min naive"),
        ("60-minute session (--hold 29m)", "60min warm", "60min floor", "60min naive"),
        (f"the {PROGRAMME} programme, warm cache", "programme warm", "programme floor", None),
        ("default session as m4a, warm cache (copies)", "m4a warm", "m4a floor", None),
        ("default session as m4a, holds 1 s longer", "m4a changed", "m4a floor", None),
        (
            "default session as m4a, holds 1 s longer, --jobs 1",
            "m4a changed jobs1",
            "m4a floor",
            None,
        ),
        (f"batch of {BATCH_SIZE}, in parallel", "batch20", "batch20 floor", "batch20 naive"),
        (
            f"batch of {BATCH_SIZE}, one by one (--jobs 1)",
            "batch20 one by one",
            None,
            "batch20 naive",
        ),
        (
            f"the same {BATCH_SIZE}, one after another, each its own voiceguide build",
            "batch20 separately",
            None,
            "batch20 naive",
        ),
    ]
    out = [
        "| case | wall time | x floor | peak memory (RSS) | (PSS) | (PSS, every poll) "
        "| CPU time | CPU x floor | naive pydub | x naive |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, key, floor, naive in rows:
        if not results.has(key):
            continue
        wall = results.seconds(key)
        floor_s = results.seconds(floor) if floor and results.has(floor) else None
        naive_s = results.seconds(naive) if naive and results.has(naive) else None
        cpu = results.cpu(key)
        floor_cpu = results.cpu(floor) if floor and results.has(floor) else None
        out.append(
            f"| {label} | {wall:.2f} s | "
            + (f"{wall / floor_s:.2f} ({floor_s:.2f} s) | " if floor_s else "- | ")
            + f"{results.peak(key):.0f} MB | {results.peak_pss(key):.0f} MB | "
            + _mb(results.peak_exact_pss(key))
            + f" | {cpu:.2f} s | "
            + (f"{cpu / floor_cpu:.2f} ({floor_cpu:.2f} s) | " if floor_cpu else "- | ")
            + (
                f"{naive_s:.2f} s ({results.peak(naive):.0f} MB) | {wall / naive_s:.2f} |"
                if naive and naive_s
                else "- | - |"
            )
        )
    notes = [
        f"Medians of {runs} runs; x floor gives the floor's own time in brackets. "
        "Memory is the highest reading of any run: RSS and PSS in the timed runs (PSS read "
        "at each new RSS peak and every second), and PSS read at every 20 ms poll in "
        "runs of their own."
    ]
    if results.has("batch20") and results.has("batch20 one by one"):
        speedup = results.seconds("batch20 one by one") / results.seconds("batch20")
        notes.append(f"Batch speed-up, parallel against one by one: {speedup:.2f}x.")
    if results.has("batch20") and results.has("batch20 separately"):
        speedup = results.seconds("batch20 separately") / results.seconds("batch20")
        notes.append(
            f"The batch against the same sessions built one after another by separate "
            f"commands: {speedup:.2f}x."
        )
    if results.has("60min warm") and results.has("10min warm"):
        ours = results.seconds("60min warm") / results.seconds("10min warm")
        floor_ratio = results.seconds("60min floor") / results.seconds("10min floor")
        naive_ratio = results.seconds("60min naive") / results.seconds("10min naive")
        notes.append(
            f"60-minute against 10-minute session: voiceguide {ours:.2f}x, "
            f"the floor {floor_ratio:.2f}x, naive pydub {naive_ratio:.2f}x."
        )
    for key, said in (
        ("piper cold", "Cold build with --engine piper (nothing cached)"),
        ("piper cold kept", "Cold build with --engine piper, its optimised model kept"),
    ):
        if results.has(key) and results.has("piper cli"):
            piper = results.seconds(key) / results.seconds("piper cli")
            cli = [s.seconds for s in results.samples["piper cli"]]
            # The runs take turns, so each build has the command line's run beside it;
            # that run's time moves more than the build's, so the ratio is given per run.
            each = ", ".join(
                f"{build.seconds / line:.2f}"
                for build, line in zip(results.samples[key], cli, strict=True)
            )
            notes.append(
                f"{said}: {results.seconds(key):.2f} s ({_pss(results, key)} PSS); Piper's "
                f"own command line on the same lines: {results.seconds('piper cli'):.2f} s, "
                f"{min(cli):.2f} to {max(cli):.2f} s ({_pss(results, 'piper cli')} PSS); "
                f"{piper:.2f}x (per run {each})."
            )
    if results.has("piper warm"):
        notes.append(
            f"Warm build with --engine piper (every clip cached): "
            f"{results.seconds('piper warm'):.2f} s ({_pss(results, 'piper warm')} PSS)."
        )
    if results.has("default warm") and results.has("default warm jobs1"):
        jobs = results.seconds("default warm jobs1") / results.seconds("default warm")
        notes.append(f"Default session, --jobs 1 against the default (one per core): {jobs:.2f}x.")
    main_table = ("\n".join(out) + "\n\n" if len(out) > 2 else "") + " ".join(notes[1:])
    if len(out) > 2:
        main_table = "\n".join(out) + "\n\n" + " ".join(notes)
    return (main_table + "\n\n" + stage_table(results)).strip()


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


def _pss(results: Results, key: str) -> str:
    """The PSS peak read at every poll if there is one, else the sampled one."""
    return _mb(results.peak_exact_pss(key) or results.peak_pss(key))


def stage_table(results: Results) -> str:
    """Where the default session's time goes, stage by stage, against the floor."""
    if not results.has("stages floor"):
        return ""
    floor = results.seconds("stages floor")
    out = [
        "| stage of a warm default build (one process) | wall time | x floor | CPU time |",
        "|---|---:|---:|---:|",
    ]
    total = 0.0
    for stage in STAGES:
        key = f"stage {stage}"
        if results.has(key):
            wall = results.seconds(key)
            total += wall
            out.append(
                f"| {stage} | {wall:.2f} s | {wall / floor:.2f} | {results.cpu(key):.2f} s |"
            )
    out.append(f"| all stages | {total:.2f} s | {total / floor:.2f} | |")
    out.append(f"| the floor | {floor:.2f} s | 1.00 | {results.cpu('stages floor'):.2f} s |")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per case (default 3)")
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated, of: {', '.join(CASES)}"
    )
    parser.add_argument(
        "--memory-runs",
        type=int,
        default=1,
        help="runs after the timed ones, not timed, that read PSS at every poll (default 1)",
    )
    args = parser.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    workers = os.cpu_count() or 1
    package = Path(voiceguide.__file__).parent
    compiled = compile_bytecode(package)
    imports = (
        "voiceguide's modules imported from bytecode"
        if compiled
        else f"voiceguide's modules compiled from source at each build ({package} did not compile)"
    )
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-") as folder:
        bench = Bench(Path(folder), workers)
        print(f"bench: {machine()}; warming the cache", file=sys.stderr)
        bench.warm(m4a="m4a" in cases)
        steps = [step for case in cases for step in bench.rounds(case)]
        for run in range(args.runs):
            print(f"bench: run {run + 1} of {args.runs}", file=sys.stderr)
            for step in steps:
                step()
        bench.memory_round = True
        for run in range(args.memory_runs):
            print(f"bench: memory run {run + 1} of {args.memory_runs}", file=sys.stderr)
            for step in steps:
                step()
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"Machine: {machine()}; {imports}. Load average at the end: {load} (shared machine).")
        print()
        print(table(bench.results, args.runs))


def naive_main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.py naive")
    parser.add_argument("holds", nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args(argv)
    for hold in args.holds:
        naive_build(parse_duration(hold), args.out, not args.no_cache)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(f"bench: stopped by signal {signum}")  # clean up the temporary folder


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    if sys.argv[1:2] == ["naive"]:
        naive_main(sys.argv[2:])
    else:
        main()
