"""Decode an exported file with ffmpeg and measure it."""

from __future__ import annotations

import json
import re
import subprocess
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from mutagen.id3 import ID3

from voiceguide.units import SAMPLE_RATE

ONSET_THRESHOLD = int(0.05 * 32768)  # about -26 dBFS; levelled chimes peak near -10 dBFS
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


def onset(values: Sequence[int], near: int, window: float = 0.25, quiet: float = 0.5) -> int:
    """The first sample above the threshold within ``window`` seconds of ``near``,
    which must follow ``quiet`` seconds of quiet."""
    lo, hi = near - int(window * SAMPLE_RATE), near + int(window * SAMPLE_RATE)
    quiet_before = peak(values[lo - int(quiet * SAMPLE_RATE) : lo])
    assert quiet_before < ONSET_THRESHOLD, "the chime must follow quiet"
    above = np.flatnonzero(magnitudes(values[lo:hi]) > ONSET_THRESHOLD)
    if len(above):
        return lo + int(above[0])
    raise AssertionError(f"no onset within {window} s of sample {near}")


def magnitudes(values: Sequence[int]) -> npt.NDArray[np.int32]:
    """The absolute values of 16-bit samples, widened first so that -32768 stays 32768."""
    return np.abs(np.asarray(values, dtype=np.int32))


def peak(values: Sequence[int]) -> int:
    """The largest absolute value of 16-bit samples; 0 for none."""
    return int(magnitudes(values).max(initial=0))


def hold_onsets(values: array[int], planned: Any, hold: Any) -> tuple[int, int]:
    """The measured onsets of ``hold``'s start and end chimes. Before the end chime, a
    countdown leaves under a second of quiet: the quiet checked is what the plan has."""
    found = []
    for near in (hold.start, hold.end):
        before = [e.end for e in planned.events if e.kind != "pause" and e.end <= near]
        gap = (near - max(before, default=0)) / SAMPLE_RATE  # planned quiet before it
        window = 0.25 if gap >= 0.75 else gap / 4
        found.append(onset(values, near, window, min(0.5, gap - window - 0.01)))
    return found[0], found[1]


def probe(path: Path) -> dict[str, object]:
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_format",
            "-show_streams",
            "-show_chapters",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, object] = json.loads(result.stdout)
    return data


def check_session(
    path: Path, hold_seconds: float, planned: Any, values: array[int] | None = None
) -> list[float]:
    """Decode ``path`` (unless ``values`` has it decoded already); check its length and
    holds against the plan; return the holds in s."""
    values = decode(path) if values is None else values
    assert len(values) == planned.length, "the decoded file has exactly the planned samples"
    measured = []
    for hold in planned.holds:
        start, end = hold_onsets(values, planned, hold)
        assert abs(start - hold.start) <= TOLERANCE
        assert abs(end - hold.end) <= TOLERANCE
        assert abs((end - start) - round(hold_seconds * SAMPLE_RATE)) <= TOLERANCE
        measured.append((end - start) / SAMPLE_RATE)
    # Every planned speech event is audible where it was planned, and silent pauses are silent.
    for event in planned.events:
        if event.kind == "speech":
            assert peak(values[event.start : event.end]) > 1000, f"speech {event.text!r} is audible"
        elif event.kind == "pause" and event.length > SAMPLE_RATE // 10:
            inner = values[event.start + 1200 : event.end - 1200]
            assert peak(inner) < 200, "pauses are quiet"
    return measured


def momentary(log: str) -> list[tuple[float, float]]:
    """EBU R128 momentary loudness (400 ms windows) every 100 ms, from the log of
    :func:`ffmpeg_meter`: (end time in s, LUFS)."""
    frames = re.findall(r"t:\s*([\d.]+)\s+TARGET:.*?M:\s*(-?[\d.]+|nan)", log)
    return [(float(t), float(m)) for t, m in frames if m != "nan"]


def id3_chapters(path: Path) -> list[tuple[str, int, int]]:
    """The ID3 chapters of an MP3, read with mutagen in the order of its table of
    contents (the one CTOC frame): (title, start ms, end ms)."""
    id3 = ID3(path)  # type: ignore[no-untyped-call]
    (toc,) = id3.getall("CTOC")  # type: ignore[no-untyped-call]
    chapters = {c.element_id: c for c in id3.getall("CHAP")}  # type: ignore[no-untyped-call]
    assert sorted(toc.child_element_ids) == sorted(chapters), "the CTOC lists every CHAP"
    return [
        (str(chapters[i].sub_frames["TIT2"]), chapters[i].start_time, chapters[i].end_time)
        for i in toc.child_element_ids
    ]


def ffmpeg_loudness(path: Path, dual_mono: bool = True, true_peak: bool = True) -> dict[str, float]:
    """ffmpeg's own EBU R128 summary of a file, true peak and all (``ebur128=peak=true``,
    which resamples to 192 kHz): an independent reference for voiceguide's meter.
    Keys ``integrated`` (LUFS), ``true_peak`` (dBTP) and ``loudness_range`` (LU).

    ``dual_mono``: a mono file measured as heard on headphones (``dualmono=true``, as
    voiceguide measures it), else as a single channel. ``true_peak=False`` leaves out the
    true peak, and with it the resampling that takes most of the meter's time."""
    return summary(ffmpeg_meter(path, dual_mono, true_peak), true_peak)


def ffmpeg_meter(
    path: Path, dual_mono: bool = True, true_peak: bool = True, frames: bool = False
) -> str:
    """The log of ffmpeg's EBU R128 meter on a file (see :func:`ffmpeg_loudness`), with
    a line every 100 ms if ``frames`` (read by :func:`momentary`)."""
    resampled = "peak=true:" if true_peak else ""
    level = "info" if frames else "verbose"
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0",
         "-af", f"ebur128={resampled}framelog={level}:dualmono={str(dual_mono).lower()}",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip


def summary(log: str, true_peak: bool = True) -> dict[str, float]:
    """The summary at the end of :func:`ffmpeg_meter`'s log (see :func:`ffmpeg_loudness`)."""
    tail = log[log.rindex("Summary:") :]
    found = {}
    keys = [("integrated", "I"), ("loudness_range", "LRA")]
    if true_peak:
        keys.append(("true_peak", "Peak"))
    for key, label in keys:
        match = re.search(rf"^\s*{label}:\s+(-?[\d.]+|-inf)\s", tail, re.MULTILINE)
        assert match is not None, f"ffmpeg reported no {label}"
        found[key] = float(match.group(1))
    return found


# How far voiceguide's true peak may be from ffmpeg's (dB): ffmpeg prints tenths
# (0.05), and the two interpolate differently: the BS.1770-4 filter's phases
# ripple by up to 0.1 dB below 16 kHz at 44.1 kHz, where ffmpeg resamples to
# 192 kHz with libswresample's longer filter.
TRUE_PEAK_AGREEMENT = 0.15


def assert_agrees_with_ffmpeg(path: Path, measured: Any) -> dict[str, float]:
    """``measured`` (a voiceguide Loudness of ``path``) is what ffmpeg's own meter says;
    return what it says."""
    reference = ffmpeg_loudness(path)
    print(f"{path.name}: ffmpeg {reference}; voiceguide {measured}")
    assert measured.integrated == reference["integrated"]
    assert measured.loudness_range == reference["loudness_range"]
    assert abs(measured.true_peak - reference["true_peak"]) <= TRUE_PEAK_AGREEMENT
    return reference


def energy_above(values: Sequence[int], hz: float, block: int = 1 << 14) -> float:
    """The energy above ``hz`` relative to all of it, in dB, in 16-bit samples at the
    session rate: Hann-windowed blocks, half overlapping, their power spectra summed
    (the last block padded with silence)."""
    pcm = np.asarray(values, dtype=np.float64)
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % block + block)])
    window = np.hanning(block)
    power = np.zeros(block // 2 + 1)
    for start in range(0, len(pcm) - block + 1, block // 2):
        power += np.abs(np.fft.rfft(pcm[start : start + block] * window)) ** 2
    bins = np.fft.rfftfreq(block, 1 / SAMPLE_RATE)
    return float(10 * np.log10(power[bins > hz].sum() / power.sum() + 1e-300))


def spoken(values: array[int], events: Sequence[Any]) -> array[int]:
    """The samples of the speech events, one after the other (each clip's edges are
    faded, so the joins add nothing); ``events`` as ``script --json`` lists them."""
    out = array("h")
    for event in events:
        if event["kind"] == "speech":
            out.extend(values[event["start_sample"] : event["end_sample"]])
    return out
