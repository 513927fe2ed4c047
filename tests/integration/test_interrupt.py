"""Interrupting real builds (espeak-ng + ffmpeg, as subprocesses) at exact moments.

Each build runs with ``VOICEGUIDE_STOP_AT`` (voiceguide/checkpoint.py): it stops
itself at the chosen point (from its start, before the library is imported, to
the rename of the finished file), the test sends Ctrl-C (SIGINT to the whole process
group, as a terminal does), SIGTERM or SIGKILL, and lets it go on. Nothing here
waits for a time to pass: the build is stopped exactly where the test wants it.

After each interruption: the previous output is byte-identical, no temporary
file is left in the output folder or the cache (except the one a SIGKILL can
strand in the instant between naming and renaming a file, which the next run
removes), every cached clip is whole and is used, and no worker process is left.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from voiceguide.checkpoint import VARIABLE
from voiceguide.files import is_temp_name
from voiceguide.speech.cache import ClipCache, is_whole_wav

pytestmark = pytest.mark.integration

ROUTINE = """\
name: mini
title: Mini stretch
steps:
  - Lie on your back.
  - Lift your {{ side }} leg.
reminders:
  - Breathe slowly.
  - Keep your knee straight.
"""
HOLD = "10s"  # a session of about a minute and a half: quick to build
INTERRUPTED = "interrupted; nothing written\n"
SIGNALS = {"Ctrl-C": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}

# Where to interrupt, from the start of a build to its end. Speech points run on an
# empty cache (so speech is really synthesised); the others on one with every clip,
# but no encoded file kept (so the session is encoded, and the encoded short file
# is put in the cache, "publish.mp3", before the finished file is, "publish.mp3:2").
SPEECH_POINTS = ["speech:2", "publish.wav:3"]
POINTS = [
    "start", *SPEECH_POINTS, "encode:1", "encode:40", "encoded", "publish.mp3", "publish.mp3:2",
]  # fmt: skip


@dataclass(frozen=True)
class World:
    folder: Path  # holds mini.yaml
    warm_cache: Path  # every clip of the session (and no encoded file)
    previous: bytes  # an earlier build's output, which an interrupted build must keep


def voiceguide(
    folder: Path, cache: Path, log: Path, *options: str, stop_at: str | None = None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    env["VOICEGUIDE_CACHE_DIR"] = str(cache)
    if stop_at:
        env[VARIABLE] = stop_at
    command = [sys.executable, "-m", "voiceguide", "build", "mini.yaml", "--hold", HOLD, *options]
    with open(log.with_suffix(".out"), "wb") as out, open(log.with_suffix(".err"), "wb") as err:
        return subprocess.Popen(
            [*command, "-o", "out.mp3", "-q"],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group, as a job in a terminal
            # ...which a terminal starts with Ctrl-C at its default, whatever this process
            # inherited: a shell without job control (a CI job started with "&") ignores
            # SIGINT in what it starts, and the build would rightly ignore it too.
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )


def _ctrl_c_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def finish(proc: subprocess.Popen[bytes], log: Path) -> str:
    """Wait for a build to succeed; its stderr."""
    code = proc.wait(timeout=120)
    stderr = log.with_suffix(".err").read_text()
    assert code == 0, stderr
    return stderr


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    base = tmp_path_factory.mktemp("world")
    (base / "mini.yaml").write_text(ROUTINE)
    finish(voiceguide(base, base / "cache", base / "log"), base / "log")  # fills the cache
    # The previous output: the same session built earlier at another bitrate, so that
    # it differs from what the interrupted builds would write.
    finish(voiceguide(base, base / "cache", base / "log", "--bitrate", "64k"), base / "log")
    shutil.rmtree(base / "cache" / "encoded")  # the builds under test encode
    return World(base, base / "cache", (base / "out.mp3").read_bytes())


def group_members(pgid: int) -> list[str]:
    """The live (not zombie) processes of a process group, as 'pid name: command'.

    The name (``comm``) is there too: a command line reads empty while its process
    is being set up or torn down."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            )
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(f"{entry.name} {name}: {command.strip()}")
    return found


def wait_until_stopped(proc: subprocess.Popen[bytes], log: Path) -> None:
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    if not os.WIFSTOPPED(status):
        proc.returncode = os.waitstatus_to_exitcode(status)
        pytest.fail(f"the build ended before its stop point: {log.with_suffix('.err').read_text()}")


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if is_temp_name(p.name)]


def cached_clips(cache: Path) -> dict[Path, tuple[int, int]]:
    """Every clip in the cache, with its inode and size."""
    return {p: (p.stat().st_ino, p.stat().st_size) for p in cache.glob("*/*.wav")}


def check_cache(cache: Path) -> dict[Path, tuple[int, int]]:
    """Every clip is whole and accepted by the cache's own check; returns them."""
    clips = {p: v for p, v in cached_clips(cache).items() if not is_temp_name(p.name)}
    reader = ClipCache(cache)
    for path in clips:
        assert is_whole_wav(path.read_bytes()), f"{path.name} is cut short"
        assert reader.get(path.stem) is not None, f"{path.name} would not be used"
    return clips


@pytest.fixture
def out_folder(tmp_path: Path, world: World) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    shutil.copy(world.folder / "mini.yaml", folder)
    (folder / "out.mp3").write_bytes(world.previous)
    return folder


@pytest.mark.parametrize("how", list(SIGNALS))
@pytest.mark.parametrize("point", POINTS)
def test_an_interrupted_build_loses_nothing_and_leaves_nothing(
    world: World, out_folder: Path, tmp_path: Path, point: str, how: str
) -> None:
    signum = SIGNALS[how]
    cache = tmp_path / "cache"
    if point not in SPEECH_POINTS:
        shutil.copytree(world.warm_cache, cache)
    log = tmp_path / "log"
    proc = voiceguide(out_folder, cache, log, stop_at=point)
    wait_until_stopped(proc, log)

    # The moment is what it claims to be; the file being written has no name until it
    # is complete.
    if point in SPEECH_POINTS:  # synthesis is under way: two clips are stored, more to come
        assert len([p for p in cached_clips(cache) if not is_temp_name(p.name)]) == 2
    if point.startswith("encode:"):  # ffmpeg waits for the rest of the audio
        assert "ffmpeg" in " ".join(group_members(proc.pid))
    named = len(temp_files(out_folder)) + len(temp_files(cache))
    assert named == (1 if point.startswith("publish") else 0)

    if signum == signal.SIGINT:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    else:
        os.kill(proc.pid, signum)
    os.killpg(proc.pid, signal.SIGCONT)
    code = proc.wait(timeout=60)
    stderr = log.with_suffix(".err").read_text()

    if signum == signal.SIGKILL:
        assert code == -signal.SIGKILL
        # Helpers die with the build: workers by PR_SET_PDEATHSIG, ffmpeg at the end of its input.
        deadline = time.monotonic() + 15
        while group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    else:
        assert code == 130, stderr
        assert stderr == INTERRUPTED
        assert log.with_suffix(".out").read_text() == ""
    assert group_members(proc.pid) == [], "no worker or ffmpeg outlives the build"

    assert (out_folder / "out.mp3").read_bytes() == world.previous
    stranded = temp_files(out_folder) + temp_files(cache)
    if signum == signal.SIGKILL and point.startswith("publish"):
        # Killed between naming and renaming: that one name stays, until the next run.
        assert len(stranded) == 1
    else:
        assert stranded == []
    assert sorted(p.name for p in out_folder.iterdir() if p not in stranded) == [
        "mini.yaml",
        "out.mp3",
    ]
    clips = check_cache(cache)
    if point in SPEECH_POINTS:
        assert clips, "clips synthesised before the interruption were kept"

    if signum == signal.SIGKILL and point.startswith("publish"):
        # The next run removes what was stranded, and uses every clip kept (a clip
        # it refused would have been deleted and written again, as a new file).
        finish(voiceguide(out_folder, cache, log), log)
        assert temp_files(out_folder) == temp_files(cache) == []
        after = cached_clips(cache)
        assert all(after.get(path) == identity for path, identity in clips.items())
        assert (out_folder / "out.mp3").read_bytes() != world.previous
