"""Loudness: measure a session the ITU-R BS.1770 / EBU R128 way and level it as a whole.

The session is never normalised clip by clip. Its rendered PCM is streamed
through ffmpeg's ``ebur128`` meter; one gain brings it to the target, and where
that gain would push peaks above the ceiling, a look-ahead limiter
(delay-compensated, so every sample stays where it was planned) holds them
down. Since the limiter takes a little loudness off the peaks, the levelled PCM
is measured again (a few times at most) to find the gain that makes up for it.
The finished file is measured with true peak, and that is what is reported. (On
the default MP3 path the file encoded is the session with its long silences cut
out, which measures exactly as the finished file: see :mod:`voiceguide.splice`.)
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from voiceguide.errors import ExportError
from voiceguide.export import Encoding, Progress, encode, find_tool, pipe_to_ffmpeg
from voiceguide.files import fds_for

DEFAULT_TARGET = -16.0  # LUFS, integrated: the usual level for spoken podcasts
TRUE_PEAK_LIMIT = -1.0  # dBTP: the most the finished file may reach
LIMITER_CEILING = -2.0  # dBFS, sample peak: leaves room for intersample and codec overshoot
MAX_LIMITING = 12.0  # dB: more than this on the loudest peaks would be audible
TOLERANCE = 0.5  # LU: re-encode once when the finished file is further than this from target
PCM_TOLERANCE = 0.2  # LU: close enough, measured on the PCM before encoding
PCM_PASSES = 4  # measurements of the levelled PCM, at most
DC_BLOCK_HZ = 30
QUIET = -60.0  # LUFS: a session this quiet holds no speech worth levelling


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP (or dBFS sample peak, when measured as such)
    loudness_range: float  # LU


_SUMMARY = {
    "integrated": re.compile(r"^\s*I:\s+(-?[\d.]+|-?inf|nan)\s+LUFS", re.MULTILINE),
    "loudness_range": re.compile(r"^\s*LRA:\s+(-?[\d.]+|-?inf|nan)\s+LU", re.MULTILINE),
    "true_peak": re.compile(r"^\s*Peak:\s+(-?[\d.]+|-?inf|nan)\s+dBFS", re.MULTILINE),
}


def parse_summary(log: str) -> Loudness:
    """The summary that ffmpeg's ``ebur128`` filter logs at the end of a run."""
    summary = log[log.rfind("Summary:") :]
    values: dict[str, float] = {}
    for name, pattern in _SUMMARY.items():
        found = pattern.search(summary)
        if found is None:
            raise ExportError("ffmpeg did not report the loudness it measured")
        values[name] = float(found.group(1))
    return Loudness(**values)


def _meter(peak: str) -> str:
    return f"ebur128=peak={peak}:framelog=verbose"


def measure_pcm(
    pcm: Iterable[bytes],
    total_samples: int,
    audio_filter: str | None = None,
    progress: Progress = lambda *_: None,
) -> Loudness:
    """Integrated loudness and sample peak of streamed mono PCM (after ``audio_filter``)."""
    chain = ",".join(f for f in (audio_filter, _meter("sample")) if f)
    log = pipe_to_ffmpeg(
        ["-loglevel", "info", "-af", chain, "-f", "null", "-"],
        pcm, total_samples, "measure the loudness", "loudness", progress,
    )  # fmt: skip
    return parse_summary(log)


def measure_file(path: Path) -> Loudness:
    """Integrated loudness, loudness range and true peak of an audio file."""
    result = subprocess.run(
        [
            find_tool("ffmpeg"), "-hide_banner", "-nostats", "-nostdin", "-loglevel", "info",
            "-i", str(path), "-map", "0:a:0", "-af", _meter("true"), "-f", "null", "-",
        ],
        capture_output=True,
        text=True,
        check=False,
        pass_fds=fds_for(path),
    )  # fmt: skip
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise ExportError(f"ffmpeg could not read {path}: {lines[-1] if lines else 'no audio'}")
    return parse_summary(result.stderr)


def level_filter(gain: float, ceiling: float = LIMITER_CEILING) -> str:
    """A DC blocker, one gain for the whole session, then a look-ahead limiter at
    ``ceiling`` dBFS.

    The high-pass at 30 Hz (below any voice) removes the small DC offset some
    speech engines leave. ``level=false`` keeps the limiter from making up the gain
    it takes; ``latency`` compensates its look-ahead, so the output lines up with
    the input to the sample.
    """
    limit = 10 ** (ceiling / 20)
    return (
        f"highpass=f={DC_BLOCK_HZ}:poles=2,volume={gain:.3f}dB:precision=double,"
        f"alimiter=limit={limit:.6f}:level=false:latency=true"
    )


@dataclass(frozen=True)
class Shortcut:
    """A shorter render of the session whose encoded file ``expand`` turns into the
    whole session's (see :mod:`voiceguide.splice`).

    ``expand(short_file, path)`` writes the finished file into ``path`` and returns
    True, or returns False where it cannot; the whole session is then encoded.
    """

    render: Callable[[], Iterable[bytes]]
    samples: int
    expand: Callable[[Path, Path], bool]


@dataclass(frozen=True)
class Levelled:
    """How a session was levelled, and what its finished file measures."""

    target: float
    measured: Loudness  # the rendered PCM, before levelling (sample peak)
    gain: float  # dB
    final: Loudness  # the finished file (true peak)
    notes: tuple[str, ...] = field(default=())
    #: The gain was set on the voice alone (and its chimes): ``final`` is the whole
    #: session, layers and all, which the pacer or bed make measure differently.
    on_voice: bool = False


def _capped(gain: float, peak: float, notes: list[str], target: float) -> float:
    """``gain``, lowered if the loudest peaks would need more than MAX_LIMITING dB."""
    over = peak + gain - LIMITER_CEILING
    if over <= MAX_LIMITING:
        return gain
    notes.append(
        f"note: reaching {target:g} LUFS would take more than {MAX_LIMITING:g} dB of peak "
        "limiting, so the session is quieter than asked"
    )
    return gain - (over - MAX_LIMITING)


def level_and_encode(
    render: Callable[[], Iterable[bytes]],
    total_samples: int,
    path: Path,
    encoding: Encoding,
    target: float = DEFAULT_TARGET,
    progress: Progress = lambda *_: None,
    measure: tuple[Callable[[], Iterable[bytes]], int] | None = None,
    shortcut: Shortcut | None = None,
    on_voice: bool = False,
) -> Levelled:
    """Measure the rendered session, encode it levelled to ``target`` LUFS into ``path``,
    measure the finished file; re-encode once if the codec moved it off target.

    ``measure`` may give a quicker render that measures the same (the session with
    its long pauses cut short, see :func:`voiceguide.timeline.condensed`) and its
    length, for the passes that find the gain. ``shortcut`` may give a shorter render
    to encode and measure instead of the whole, and the way to expand its file.

    ``on_voice``: ``measure`` renders the voice alone, without the layers that
    ``render`` mixes under it; the gain brings the voice to ``target``, and the
    finished file's loudness is reported but not steered (the layers fill the quiet
    between the words, so the whole measures otherwise). Its true peak still is.
    """
    notes: list[str] = []
    probe, probe_samples = measure or (render, total_samples)
    raw = measure_pcm(probe(), probe_samples, progress=progress)
    if not math.isfinite(raw.integrated) or raw.integrated < QUIET:
        raise ExportError(f"the session measures {raw.integrated} LUFS: it is silent")
    gain = _capped(target - raw.integrated, raw.true_peak, notes, target)
    # Where the limiter works, it takes some loudness off the peaks, the more the
    # louder: find the gain that makes up for it by the secant method on the PCM
    # (cheap: no encoding), from the unlimited measurement (gain 0).
    last, slope = (0.0, raw.integrated), 1.0
    for _ in range(PCM_PASSES):
        if raw.true_peak + gain <= LIMITER_CEILING or notes:
            break
        found = measure_pcm(probe(), probe_samples, level_filter(gain), progress).integrated
        if abs(found - target) <= PCM_TOLERANCE:
            break
        if gain != last[0]:
            slope = min(1.0, max(0.2, (found - last[1]) / (gain - last[0])))
        last = (gain, found)
        gain = _capped(gain + (target - found) / slope, raw.true_peak, notes, target)
        if abs(found - target) <= TOLERANCE:
            break  # a small last step: the finished file is measured, and re-encoded if off
    ceiling = LIMITER_CEILING
    with tempfile.TemporaryDirectory(prefix="voiceguide-") as folder:
        short = Path(folder) / "short.mp3"

        def encode_levelled() -> Loudness:
            chain = level_filter(gain, ceiling)
            if shortcut is None:
                encode(render(), total_samples, path, encoding, chain, progress)
                return measure_file(path)

            def scaled(stage: str, done: int, _: int) -> None:  # in samples of the session
                progress(stage, done * total_samples // shortcut.samples, total_samples)

            encode(shortcut.render(), shortcut.samples, short, encoding, chain, scaled)
            return measure_file(short)  # it measures exactly as the finished file: see splice.py

        final = encode_levelled()
        off_target = abs(final.integrated - target) > TOLERANCE and not notes and not on_voice
        if off_target or final.true_peak > TRUE_PEAK_LIMIT:
            # A lossy codec shifts the loudness a little and can overshoot the peaks.
            if off_target:
                gain = _capped(
                    gain + (target - final.integrated) / slope, raw.true_peak, notes, target
                )
            if final.true_peak > TRUE_PEAK_LIMIT:
                ceiling -= final.true_peak - TRUE_PEAK_LIMIT + 0.3
            final = encode_levelled()
        if shortcut is not None and not shortcut.expand(short, path):
            encode(render(), total_samples, path, encoding, level_filter(gain, ceiling), progress)
            final = measure_file(path)
    if final.true_peak > TRUE_PEAK_LIMIT:
        notes.append(
            f"note: the true peak is {final.true_peak:.1f} dBTP, above {TRUE_PEAK_LIMIT:g} dBTP"
        )
    if abs(final.integrated - target) > 1.0 and not on_voice:
        notes.append(
            f"note: the session measures {final.integrated:.1f} LUFS, "
            f"more than 1 LU from the {target:g} LUFS target"
        )
    return Levelled(target, raw, gain, final, tuple(dict.fromkeys(notes)), on_voice)
