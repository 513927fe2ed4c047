"""A build whose messages go to a pipe that nobody reads any more (``2>&1 | head -2``).

The progress bars are for a person watching: when they cannot be written the build
goes on and writes its session. Nothing may take the broken pipe of a message for
ffmpeg's, which once left a build waiting forever on an ffmpeg that was waiting for
its input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.fakes import MINI
from voiceguide.encode.export import FORMATS, Encoding, Tags, encode, probe_duration
from voiceguide.units import SAMPLE_RATE, SAMPLE_WIDTH

pytestmark = pytest.mark.integration


def test_a_progress_report_that_cannot_be_written_stops_the_encode_at_once(
    tmp_path: Path,
) -> None:
    block = bytes(SAMPLE_WIDTH * SAMPLE_RATE)  # a second of silence
    blocks = 20
    reports: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        reports.append(done)
        raise BrokenPipeError(32, "Broken pipe")  # as a bar written to `| head` that ended

    errors: list[BaseException] = []

    def run() -> None:
        try:
            encoding = Encoding(FORMATS["mp3"], "128k", Tags("t", "a", "b"))
            encode(iter([block] * blocks), blocks * SAMPLE_RATE, tmp_path / "x.mp3", encoding,
                   progress, verify=False)  # fmt: skip
        except BaseException as e:
            errors.append(e)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the encode waited on an ffmpeg that waited for its input"
    assert reports == [SAMPLE_RATE], "it stopped at the first report"
    assert [type(e) for e in errors] == [BrokenPipeError], "the report's error is the caller's"


def test_a_build_whose_messages_cannot_be_written_still_writes_its_session(
    tmp_path: Path,
) -> None:
    (tmp_path / "mini.yaml").write_text(MINI)
    env = {**os.environ, "VOICEGUIDE_CACHE_DIR": str(tmp_path / "cache")}
    read, write = os.pipe()
    os.close(read)  # nobody reads: every message fails, from the first (`| head -0`)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voiceguide", "build", "mini.yaml", "--hold", "10s",
             "-o", "out.mp3"],
            cwd=tmp_path, env=env, stdout=write, stderr=write,
        )  # fmt: skip
    finally:
        os.close(write)
    code = proc.wait(timeout=120)
    # click's way with a closed output: exit 1, and nothing more written
    assert code == 1
    script = subprocess.run(
        [sys.executable, "-m", "voiceguide", "script", "mini.yaml", "--hold", "10s", "--json"],
        cwd=tmp_path, env=env, capture_output=True, check=True, text=True,
    )  # fmt: skip
    planned = json.loads(script.stdout)["duration"]
    assert 0 <= probe_duration(tmp_path / "out.mp3") - planned < 0.1  # whole MP3 frames
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "mini.yaml", "out.mp3"]
