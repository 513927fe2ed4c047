"""A missing espeak-ng or ffmpeg, for real: a build in a subprocess whose
environment lacks it, reported in one line with the command that installs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tools

pytestmark = pytest.mark.integration


def build(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (folder / "out.mp3").write_bytes(b"the previous session")
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", "build", "--hold", "10s", "-o", "out.mp3", "-q"],
        cwd=folder,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_espeak_that_cannot_be_loaded_says_how_to_install_it(tmp_path: Path) -> None:
    require_tools("ffmpeg", "espeak-ng")
    # An empty file shadows the real library: the dynamic loader finds it first (in
    # LD_LIBRARY_PATH) and fails to load it, as it fails when espeak-ng is not installed.
    hidden = tmp_path / "lib"
    hidden.mkdir()
    (hidden / "libespeak-ng.so.1").write_bytes(b"")
    result = build(tmp_path, LD_LIBRARY_PATH=str(hidden))
    assert result.returncode == 1
    assert result.stderr == (
        "Error: espeak-ng is not installed; "
        "install it with: apt-get install espeak-ng (Debian/Ubuntu)\n"
    )
    assert (tmp_path / "out.mp3").read_bytes() == b"the previous session"


def test_missing_ffmpeg_says_how_to_install_it(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = build(tmp_path, PATH=str(empty))
    assert result.returncode == 1
    assert result.stderr == (
        "Error: ffmpeg is not installed; install it with: apt-get install ffmpeg (Debian/Ubuntu)\n"
    )
    assert (tmp_path / "out.mp3").read_bytes() == b"the previous session"
