"""Atomic writes, with the anonymous file (O_TMPFILE) and with the named fallback."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from voiceguide import files
from voiceguide.files import (
    atomic_path,
    atomic_write_bytes,
    fds_for,
    is_temp_name,
    remove_stale_temps,
)


@pytest.fixture(params=["anonymous", "named"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with O_TMPFILE, and again as where the system has none."""
    if request.param == "named":
        no_anonymous: Callable[[Path], int | None] = lambda folder: None  # noqa: E731
        monkeypatch.setattr(files, "_anonymous_file", no_anonymous)
    return str(request.param)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_write_replaces_the_target_and_leaves_nothing_else(tmp_path: Path, mode: str) -> None:
    target = tmp_path / "out.mp3"
    target.write_bytes(b"old")
    with atomic_path(target) as temp:
        temp.write_bytes(b"new")
        assert target.read_bytes() == b"old"
        # The anonymous file has no name at all while it is written.
        assert len(names(tmp_path)) == (1 if mode == "anonymous" else 2)
    assert target.read_bytes() == b"new"
    assert names(tmp_path) == ["out.mp3"]
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o644 & ~mask


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, mode: str) -> None:
    target = tmp_path / "out.mp3"
    target.write_bytes(b"old")

    def interrupted_write() -> None:
        with atomic_path(target) as temp:
            temp.write_bytes(b"half")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_write()
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["out.mp3"]


def test_a_child_process_writes_the_path(tmp_path: Path, mode: str) -> None:
    target = tmp_path / "out.txt"
    with atomic_path(target) as temp:
        subprocess.run(
            ["sh", "-c", 'printf child > "$1"', "sh", str(temp)], check=True, pass_fds=fds_for(temp)
        )
    assert target.read_text() == "child"


def test_abandoned_temporary_files_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    abandoned = tmp_path / ".voiceguide-abc123.part.mp3"
    live = tmp_path / ".voiceguide-def456.part.wav"
    mine = tmp_path / ".voiceguide-notes.txt"
    for path in (abandoned, live, mine):
        path.write_bytes(b"x")
    with open(live, "rb") as holder:  # a writer that is still running holds the lock
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert remove_stale_temps(tmp_path) == 1
        assert names(tmp_path) == sorted([live.name, mine.name])
    assert remove_stale_temps(tmp_path) == 1
    assert names(tmp_path) == [mine.name]
    assert not is_temp_name(mine.name)


def test_the_next_write_removes_what_a_killed_writer_left(tmp_path: Path, mode: str) -> None:
    (tmp_path / ".voiceguide-k1ll3d.part.wav").write_bytes(b"half a clip")
    atomic_write_bytes(tmp_path / "clip.wav", b"whole")
    assert names(tmp_path) == ["clip.wav"]


def test_a_durable_write_is_flushed_before_its_rename_and_the_folder_after(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.mp3"
    target.write_bytes(b"old")
    flushed: list[tuple[bool, int, bytes]] = []  # (a folder?, inode, the target's content then)
    real = os.fsync

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        flushed.append((stat.S_ISDIR(info.st_mode), info.st_ino, target.read_bytes()))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    atomic_write_bytes(target, b"new")
    assert flushed == [
        (False, target.stat().st_ino, b"old"),  # the new content, before it has the name
        (True, tmp_path.stat().st_ino, b"new"),  # the folder, once the rename is done
    ]
    flushed.clear()
    atomic_write_bytes(target, b"newer", durable=False)  # as the speech cache writes
    assert flushed == []
    assert target.read_bytes() == b"newer"
