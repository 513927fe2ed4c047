"""Faults of the machine, through the command line (issue 13, item 6).

A full or read-only disk, a quota used up, a failing disk, a killed ffmpeg: each
ends with exit code 1 and one line on stderr that says what happened in the
user's words, with no traceback; a file already at the output is kept byte for
byte, and no temporary file is left. The errors are injected in Python (and a
fake ffmpeg on PATH that kills itself), since no disk here can be filled.

The speech engine is the fake one (fast); ffmpeg is real.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

import voiceguide.encode.export
from tests.cli.test_bad_input import EXISTING, full_disk_atomic_path
from voiceguide.cli import cli
from voiceguide.encode import levelling
from voiceguide.encode.mp3 import splice
from voiceguide.speech import cache

pytestmark = pytest.mark.usefixtures("fake_speech")

#: What the user reads for each answer of the system, writing in the current folder.
WORDS = {
    errno.ENOSPC: "the disk holding the current folder is full; free some space",
    errno.EDQUOT: "your disk quota on the disk holding the current folder is used up",
    errno.EROFS: "the disk holding the current folder is read-only; write somewhere else",
    errno.EACCES: "you may not write in the current folder; write somewhere else",
    errno.EIO: "the disk holding the current folder failed to write (input/output error); "
    "check the disk",
}
BATCH = "sessions:\n  - {output: a.mp3, hold: 3m}\n  - {output: b.mp3, hold: 2m}\n"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "-q"], prog_name="voiceguide")
    return result.exit_code, result.stdout, result.stderr


def one_line(code: int, stdout: str, stderr: str) -> str:
    assert code == 1, (code, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    assert "/proc/self" not in lines[0], lines[0]
    assert "Errno" not in lines[0], lines[0]
    return lines[0]


OLD = ("out.mp3", "out.flac", "out.m4a", "a.mp3", "b.mp3")


def untouched(folder: Path) -> None:
    """The old files are as they were, and nothing else was left beside them."""
    for name in OLD:
        assert (folder / name).read_bytes() == EXISTING, name
    batches = {"batch.yaml", "m4a.yaml"}
    left = sorted(p.name for p in folder.iterdir() if p.name not in {*OLD, *batches})
    assert left == [], left


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in OLD:
        (tmp_path / name).write_bytes(EXISTING)
    (tmp_path / "batch.yaml").write_text(BATCH)
    return tmp_path


def refusing_writer(code: int) -> Any:
    """A frame writer (splice.write_frames) that the system stops partway, as ``code``."""
    real = splice.write_frames

    def write(target: Path, *args: Any) -> None:
        real(target, *args)  # the frames are written; then the system says no
        raise OSError(code, os.strerror(code))

    return write


# --- the MP3 path: the splice's frame writer ------------------------------------------------


@pytest.mark.parametrize("code", list(WORDS), ids=[errno.errorcode[c] for c in WORDS])
def test_a_refused_mp3_write_says_why_in_build(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    monkeypatch.setattr(splice, "write_frames", refusing_writer(code))
    line = one_line(*run("build", "--hold", "3m", "-o", "out.mp3"))
    assert line == f"Error: cannot write out.mp3: {_words(code)} (out.mp3 is kept as it was)"
    untouched(in_tmp)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS], ids=["ENOSPC", "EROFS"])
def test_a_refused_mp3_write_says_why_in_batch(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    monkeypatch.setattr(splice, "write_frames", refusing_writer(code))
    line = one_line(*run("batch", "batch.yaml", "--jobs", "2"))
    assert "cannot write a.mp3: " in line or "cannot write b.mp3: " in line, line
    assert WORDS[code] in line
    untouched(in_tmp)


def _words(code: int) -> str:
    full = {
        errno.ENOSPC: "the disk holding the current folder is full; free some space and try again",
        errno.EDQUOT: "your disk quota on the disk holding the current folder is used up; "
        "free some space",
    }
    return full.get(code, WORDS[code])


# --- ffmpeg writing onto a full disk ---------------------------------------------------------


@pytest.mark.parametrize("output", ["out.mp3", "out.flac", "out.m4a"])
def test_ffmpeg_on_a_full_disk_says_the_disk_is_full(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, output: str
) -> None:
    monkeypatch.setattr(voiceguide.encode.export, "atomic_path", full_disk_atomic_path)
    line = one_line(*run("build", "--hold", "20s", "-o", output))
    assert line == (
        f"Error: cannot write {output}: the disk holding the current folder is full; "
        f"free some space and try again ({output} is kept as it was)"
    )
    untouched(in_tmp)


def test_a_full_temporary_folder_is_named_as_such(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The short file the MP3 path encodes first goes to the temporary folder."""

    @contextlib.contextmanager
    def full_folder(prefix: str = "") -> Iterator[str]:
        folder = tempfile.mkdtemp(prefix=prefix)
        for name in ("short.mp3", "a.mp3", "b.mp3"):
            os.symlink("/dev/full", os.path.join(folder, name))
        try:
            yield folder
        finally:
            shutil.rmtree(folder)

    monkeypatch.setattr(levelling, "tempfile", SimpleNamespace(TemporaryDirectory=full_folder))
    line = one_line(*run("build", "--hold", "3m", "-o", "out.mp3"))
    scratch = tempfile.gettempdir()
    assert line == (
        f"Error: cannot write a temporary file: the disk holding {scratch}/ is full; free "
        "some space and try again (or set TMPDIR to a folder on another disk)"
    )
    untouched(in_tmp)


# --- a killed ffmpeg -------------------------------------------------------------------------


@pytest.fixture
def ffmpeg_killed_when_measuring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ffmpeg on PATH that kills itself (SIGKILL) when asked to decode a file for the
    loudness meter (to float PCM on its output)."""
    real = shutil.which("ffmpeg")
    assert real is not None
    tools = tmp_path.parent / f"{tmp_path.name}-tools"
    tools.mkdir()
    fake = tools / "ffmpeg"
    fake.write_text(
        f'#!/bin/sh\ncase "$*" in *pcm_f32le*pipe:1*) kill -9 $$;; esac\nexec {real} "$@"\n'
    )
    fake.chmod(0o755)
    os.symlink(shutil.which("ffprobe") or "/usr/bin/ffprobe", tools / "ffprobe")
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.usefixtures("ffmpeg_killed_when_measuring")
@pytest.mark.parametrize("command", ["build", "batch"])
def test_a_killed_ffmpeg_is_named_with_its_signal(in_tmp: Path, command: str) -> None:
    # M4A: ffmpeg decodes it to be measured (libsndfile decodes the other formats).
    (in_tmp / "m4a.yaml").write_text(BATCH.replace(".mp3", ".m4a"))
    args = ("build", "--hold", "20s", "-o", "new.m4a") if command == "build" else (
        "batch", "m4a.yaml",
    )  # fmt: skip
    line = one_line(*run(*args))
    assert "ffmpeg was killed by signal 9 (SIGKILL) while trying to measure the loudness" in line
    untouched(in_tmp)


# --- a speech cache that cannot be written ------------------------------------------------


@pytest.mark.parametrize("command", ["build", "batch"])
def test_a_cache_that_cannot_be_written_is_one_note(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(cache, "atomic_write_bytes", refuse)
    folder = cache.default_folder()
    args = ("build", "--hold", "20s", "-o", "out.mp3") if command == "build" else (
        "batch", "batch.yaml",
    )  # fmt: skip
    code, stdout, stderr = run(*args)
    assert code == 0, (stdout, stderr)
    notes = [line for line in stderr.splitlines() if "speech cache" in line]
    assert notes == [
        f"note: the speech cache {folder} cannot be written: the disk holding {folder}/ is "
        "read-only; write somewhere else; the session is built all the same, but its speech "
        "will be made again next time"
    ], stderr
    assert (in_tmp / "out.mp3").read_bytes() != EXISTING or command == "batch"
