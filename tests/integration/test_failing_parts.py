"""Failing parts, for real: a missing espeak-ng or ffmpeg (a build in a subprocess
whose environment lacks it) is reported in one line with the command that
installs it; a speech engine that hangs or crashes in the middle of a build is
stopped and reported, and leaves no process behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import voiceguide.speech.pyttsx3_engine as engine_module
from voiceguide.cli import cli

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


INFO = '{"info": {"pyttsx3": "fake", "library": "fake", "voice": "fake", "voices": []}}'


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ("time.sleep(60)", "the speech engine stopped answering (no reply in 1 s) while speaking "),
        ("sys.stderr.write('Segmentation fault\\n'); sys.exit(139)", "crashed: Segmentation fault"),
        # The speaker the worker forked dies by a signal; the worker lives on.
        ("print('{\"exit\": -11}', flush=True)", "crashed: exit code -11"),
    ],
    ids=["hangs", "crashes", "speaker-dies"],
)
def test_an_engine_that_fails_while_speaking_is_stopped_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behaviour: str, message: str
) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(  # the worker's protocol (see _pyttsx3_worker.py), failing when it speaks
        "import json, sys, time\n"
        "print('{\"ready\": true}', flush=True)\n"
        "for line in sys.stdin:\n"
        "    if json.loads(line)['info']:\n"
        f"        print({INFO!r}, '{{\"ok\": true}}', '{{\"exit\": 0}}', sep='\\n', flush=True)\n"
        "        continue\n"
        "    print('{\"started\": true}', flush=True)\n"
        f"    {behaviour}\n"
    )
    monkeypatch.setattr(engine_module, "WORKER", worker)
    monkeypatch.setattr(engine_module, "CLIP_TIMEOUT", 1.0)
    monkeypatch.chdir(tmp_path)
    Path("out.mp3").write_bytes(b"the previous session")

    result = CliRunner().invoke(cli, ["build", "--hold", "10s", "-o", "out.mp3", "-q"])
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ")
    assert message in line, line
    assert Path("out.mp3").read_bytes() == b"the previous session"
    left = [p for p in Path("/proc").glob("[0-9]*") if str(worker) in _cmdline(p)]
    assert left == [], "no worker is left running"


def _cmdline(process: Path) -> str:
    try:
        return (process / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""
