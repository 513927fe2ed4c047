"""Decode an exported file with ffmpeg and measure it."""

from __future__ import annotations

import json
import subprocess
from array import array
from pathlib import Path

from voiceguide.units import SAMPLE_RATE

ONSET_THRESHOLD = int(0.05 * 32768)  # about -26 dBFS; the chimes peak at -9 dBFS


def decode(path: Path) -> array[int]:
    """The file's audio as 16-bit mono samples at the session rate, via ffmpeg."""
    pcm = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(path),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    values = array("h")
    values.frombytes(pcm)
    return values


def onset(values: array[int], near: int, window: float = 0.25) -> int:
    """The first sample above the threshold within ``window`` seconds of ``near``."""
    lo, hi = near - int(window * SAMPLE_RATE), near + int(window * SAMPLE_RATE)
    quiet_before = max(abs(v) for v in values[lo - SAMPLE_RATE // 2 : lo])
    assert quiet_before < ONSET_THRESHOLD, "the chime must follow quiet"
    for i in range(lo, hi):
        if abs(values[i]) > ONSET_THRESHOLD:
            return i
    raise AssertionError(f"no onset within {window} s of sample {near}")


def probe(path: Path) -> dict[str, object]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, object] = json.loads(result.stdout)
    return data
