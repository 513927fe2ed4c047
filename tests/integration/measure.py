"""Decode an exported file with ffmpeg and measure it."""

from __future__ import annotations

import json
import subprocess
from array import array
from pathlib import Path
from typing import Any

from voiceguide.units import SAMPLE_RATE

ONSET_THRESHOLD = int(0.05 * 32768)  # about -26 dBFS; the chimes peak at -9 dBFS
TOLERANCE = round(0.010 * SAMPLE_RATE)  # ±10 ms


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


def check_session(path: Path, hold_seconds: float, planned: Any) -> list[float]:
    """Decode ``path``; check its length and holds against the plan; return the holds in s."""
    values = decode(path)
    assert len(values) == planned.length, "the decoded file has exactly the planned samples"
    measured = []
    for hold in planned.holds:
        start, end = onset(values, hold.start), onset(values, hold.end)
        assert abs(start - hold.start) <= TOLERANCE
        assert abs(end - hold.end) <= TOLERANCE
        assert abs((end - start) - round(hold_seconds * SAMPLE_RATE)) <= TOLERANCE
        measured.append((end - start) / SAMPLE_RATE)
    # Every planned speech event is audible where it was planned, and silent pauses are silent.
    for event in planned.events:
        chunk = values[event.start : event.end]
        peak = max((abs(v) for v in chunk), default=0)
        if event.kind == "speech":
            assert peak > 1000, f"speech {event.text!r} is audible"
        elif event.kind == "pause" and event.length > SAMPLE_RATE // 10:
            inner = values[event.start + 1200 : event.end - 1200]
            assert max((abs(v) for v in inner), default=0) < 200, "pauses are quiet"
    return measured
