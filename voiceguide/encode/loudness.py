"""Loudness: measure a session the ITU-R BS.1770 / EBU R128 way and level it as a whole.

The session is never normalised clip by clip. Its rendered PCM is streamed
through ffmpeg's ``ebur128`` meter; one gain brings it to the target, and where
that gain would push peaks above the ceiling, a look-ahead limiter
(delay-compensated, so every sample stays where it was planned) holds them
down. Since the limiter takes a little loudness off the peaks, the levelled PCM
is measured again (a few times at most) to find the gain that makes up for it.
The finished file is measured with true peak, and that is what is reported. (On
the default MP3 path the file encoded is the session with its long silences cut
out, which measures exactly as the finished file: see :mod:`voiceguide.encode.mp3.splice`.)
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from voiceguide.encode.export import (
    Encoding,
    Progress,
    encode,
    find_tool,
    pipe_to_ffmpeg,
    verify_duration,
)
from voiceguide.encode.mp3.split import RenderSpan, Split, encode_short
from voiceguide.errors import ExportError
from voiceguide.files import fds_for
from voiceguide.units import CHANNELS, SAMPLE_RATE

DEFAULT_TARGET = -16.0  # LUFS, integrated: the usual level for spoken podcasts
MIN_TARGET, MAX_TARGET = -36.0, -9.0  # LUFS: the targets a session may ask for
TRUE_PEAK_LIMIT = -1.0  # dBTP: the most the finished file may reach
LIMITER_CEILING = -2.0  # dBFS, sample peak: leaves room for intersample and codec overshoot
MAX_LIMITING = 12.0  # dB: more than this on the loudest peaks would be audible
TOLERANCE = 0.5  # LU: re-encode once when the finished file is further than this from target
PCM_TOLERANCE = 0.2  # LU: close enough, measured on the PCM before encoding
PCM_PASSES = 4  # rounds of measuring the levelled PCM, at most
NOISE_FLOOR = 1e-7  # linear: the white noise added before a meter, about -140 dBFS
PIPE_BYTES = 1 << 20  # the most an unprivileged process may ask for, by default
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


def parse_summaries(log: str, count: int) -> list[Loudness]:
    """The summaries of ``count`` ``ebur128`` filters in one graph, in the order the
    graph names them (each logs its own at the end, in an order of ffmpeg's).

    With ``-filter_complex`` ffmpeg sets a graph up once before the real run, and
    that graph's meters log empty summaries first: each filter's last one counts."""
    heads = list(_SUMMARY_HEAD.finditer(log))
    ends = [h.start() for h in heads[1:]] + [len(log)]
    last = {
        int(head.group(1)): log[head.start() : end] for head, end in zip(heads, ends, strict=True)
    }
    if len(last) != count:
        raise ExportError("ffmpeg did not report the loudness it measured")
    return [parse_summary(last[n]) for n in sorted(last)]


_SUMMARY_HEAD = re.compile(r"^\[Parsed_ebur128_(\d+) @ [^]]*\] Summary:", re.MULTILINE)


def parse_summary(log: str, peak: bool = True) -> Loudness:
    """The summary that ffmpeg's ``ebur128`` filter logs at the end of a run
    (without a peak, with ``peak=none``: its ``true_peak`` is then NaN)."""
    summary = log[log.rfind("Summary:") :]
    values: dict[str, float] = {"true_peak": math.nan}
    for name, pattern in _SUMMARY.items():
        if name == "true_peak" and not peak:
            continue
        found = pattern.search(summary)
        if found is None:
            raise ExportError("ffmpeg did not report the loudness it measured")
        values[name] = float(found.group(1))
    return Loudness(**values)


def _meter(source: str, peak: str, channels: int = CHANNELS) -> str:
    """A filtergraph that meters the pad ``source`` with ffmpeg's ``ebur128``, after
    adding white noise at -140 dBFS (seeded: the same every time).

    The meter's K-weighting filters feed back, and in digital silence their state
    decays into denormal numbers, which many x86 CPUs handle a hundred times slower
    than others: on an Intel Xeon the default session's file took 9.4 s to meter
    instead of 1.4 s. The noise keeps them out of that range. It is 70 dB under the
    meter's absolute gate (-70 LUFS), so the figures are the same. It has as many
    ``channels`` as the audio metered: else ffmpeg would mix the audio down to them."""
    return (
        f"anoisesrc=r={SAMPLE_RATE}:a={NOISE_FLOOR:.10f}:c=white:seed=1,"
        f"aformat=channel_layouts={channels}c[{source}floor];"
        f"[{source}][{source}floor]amix=inputs=2:duration=first:normalize=0,"
        f"ebur128=peak={peak}:framelog=verbose"
    )


def measure_pcm(
    pcm: Iterable[bytes],
    total_samples: int,
    audio_filter: str | None = None,
    progress: Progress = lambda *_: None,
) -> Loudness:
    """Integrated loudness and sample peak of streamed mono PCM (after ``audio_filter``)."""
    return measure_each(pcm, total_samples, [audio_filter], progress)[0]


def measure_each(
    pcm: Iterable[bytes],
    total_samples: int,
    audio_filters: Sequence[str | None],
    progress: Progress = lambda *_: None,
) -> list[Loudness]:
    """:func:`measure_pcm` after each of ``audio_filters``, in one ffmpeg: the PCM is
    rendered and read once, and ``asplit`` gives each filter and meter a copy."""
    count = len(audio_filters)
    parts = [f"[0:a]asplit={count}" + "".join(f"[in{i}]" for i in range(count))]
    for i, audio_filter in enumerate(audio_filters):
        parts.append(f"[in{i}]{audio_filter or 'anull'}[pcm{i}]")
        parts.append(_meter(f"pcm{i}", "sample") + ("[out]" if i == count - 1 else ",anullsink"))
    log = pipe_to_ffmpeg(
        ["-loglevel", "info", "-filter_complex", ";".join(parts),
         "-map", "[out]", "-f", "null", "-"],
        pcm, total_samples, "measure the loudness", "loudness", progress,
    )  # fmt: skip
    return parse_summaries(log, count)


def measure_file(path: Path, channels: int = CHANNELS) -> Loudness:
    """Integrated loudness, loudness range and true peak of an audio file (of
    ``channels`` channels: with another count, it is measured again with that).

    One ffmpeg decodes the file once: one copy of the audio goes through the
    ``ebur128`` meter (integrated loudness and loudness range), the other comes
    out as 32-bit float PCM, whose true peak :mod:`voiceguide.encode.truepeak` measures
    block by block as ffmpeg goes (the two run side by side, on two cores).
    ffmpeg's own true-peak meter (``ebur128=peak=true``) resamples to 192 kHz
    and took most of the time.
    """
    from voiceguide.encode.truepeak import to_dbtp

    command = [
        find_tool("ffmpeg"), "-hide_banner", "-nostats", "-nostdin", "-loglevel", "info",
        "-i", str(path), "-map_metadata", "-1", "-filter_complex",
        f"[0:a:0]asplit=2[meter][pcm];{_meter('meter', 'none', channels)},anullsink",
        "-map", "[pcm]", "-c:a", "pcm_f32le", "-f", "wav", "pipe:1",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, pass_fds=fds_for(path))
        assert proc.stdout is not None
        _widen(proc.stdout)
        try:
            found = _wav_channels(proc.stdout)
            if found is not None and found != channels:  # the noise has the file's layout
                return measure_file(path, found)
            peak = None if found is None else _stream_true_peak(proc.stdout, found)
            while proc.stdout.read(1 << 16):  # not a float WAV: let ffmpeg finish
                pass
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    if code != 0 or peak is None:
        lines = text.strip().splitlines()
        raise ExportError(f"ffmpeg could not read {path}: {lines[-1] if lines else 'no audio'}")
    measured = parse_summary(text, peak=False)
    return Loudness(measured.integrated, to_dbtp(peak), measured.loudness_range)


def _widen(pipe: IO[bytes]) -> None:
    """Let ffmpeg write ahead while the true peak of a block is computed (Linux:
    a pipe holds 64 KiB unless asked for more, and the two would take turns)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # elsewhere: the two take turns, and it is slower


def _stream_true_peak(wav: IO[bytes], channels: int) -> float:
    """The true peak (linear) of the float samples that follow a WAV header."""
    import numpy as np

    from voiceguide.encode.truepeak import BLOCK, TruePeakMeter

    meter = TruePeakMeter(channels)
    frame = 4 * channels
    while block := wav.read(BLOCK * frame):
        usable = len(block) - len(block) % frame
        meter.add(np.frombuffer(block, dtype="<f4", count=usable // 4))
    return meter.finish()


def _wav_channels(wav: IO[bytes]) -> int | None:
    """Read a WAV header up to its audio data: the channel count, if the samples
    are 32-bit floats (as ffmpeg writes ``pcm_f32le``), else None."""
    head = wav.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
        return None
    channels = None
    while len(chunk := wav.read(8)) == 8:
        name, size = chunk[:4], int.from_bytes(chunk[4:], "little")
        if name == b"data":
            return channels
        body = wav.read(size + size % 2)
        if name == b"fmt " and len(body) >= 16:
            tag = int.from_bytes(body[0:2], "little")
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the sub-format
                tag = int.from_bytes(body[24:26], "little")
            bits = int.from_bytes(body[14:16], "little")
            if tag == 3 and bits == 32:  # WAVE_FORMAT_IEEE_FLOAT
                channels = int.from_bytes(body[2:4], "little")
    return None


def level_filter(gain: float, ceiling: float = LIMITER_CEILING) -> str:
    """One gain for the whole session, then a look-ahead limiter at ``ceiling`` dBFS.

    ``level=false`` keeps the limiter from making up the gain it takes; ``latency``
    compensates its look-ahead, so the output lines up with the input to the sample.
    (The DC offset some engines leave is taken off each clip: see
    :func:`voiceguide.sound.audio.without_dc`.)
    """
    limit = 10 ** (ceiling / 20)
    return (
        f"volume={gain:.3f}dB:precision=double,alimiter=limit={limit:.6f}:level=false:latency=true"
    )


@dataclass(frozen=True)
class Shortcut:
    """A shorter render of the session whose encoded file ``expand`` turns into the
    whole session's (see :mod:`voiceguide.encode.mp3.splice`).

    ``expand(short_file, path)`` writes the finished file into ``path`` and returns
    True, or returns False where it cannot; the whole session is then encoded. It
    runs no process.
    """

    render: RenderSpan  # samples [start, end) of the shorter render
    samples: int
    expand: Callable[[Path, Path], bool]
    split: Split | None = (
        None  # where two encoders share the encode (voiceguide/encode/mp3/split.py)
    )


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


def _quiet(stage: str, done: int, total: int) -> None:
    """Progress nobody is shown."""


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


def find_gain(
    limited: Callable[[Sequence[float]], list[float]],
    raw: Loudness,
    target: float,
    most: float,
    per_round: int = 1,
) -> tuple[float, float]:
    """The gain (dB) that brings the levelled PCM to ``target``, and the slope of its
    loudness against the gain there.

    ``limited(gains)`` measures the PCM levelled (and limited) at each gain. Where
    the limiter works, it takes some loudness off the peaks, the more the louder:
    the secant method finds the gain that makes up for it, from the unlimited
    measurement (gain 0, ``raw``). The limiter only takes loudness away, so the
    first gain tried is too low, or right. With ``per_round`` 2 each round also
    measures a gain further on, by half what the peaks would pass the ceiling by,
    so that one round usually brackets the target; the gain is then interpolated.
    No gain past ``most`` is measured (the caller caps the gain it returns).
    """
    gain = min(most, target - raw.integrated)
    points = [(0.0, raw.integrated)]
    slope = 1.0
    for _ in range(PCM_PASSES):
        if raw.true_peak + gain <= LIMITER_CEILING:
            break  # nothing to limit: the gain is exact
        gains = [gain]
        if per_round > 1:
            reach = (
                (raw.true_peak + gain - LIMITER_CEILING) / 2 if len(points) == 1
                else gain - points[-1][0]
            )  # fmt: skip
            further = min(most, gain + max(PCM_TOLERANCE, abs(reach)))
            gains += [further] if further > gain else []
        points += zip(gains, limited(gains), strict=True)
        (g0, f0), (g1, f1) = points[-2:]
        if g1 != g0:
            slope = min(1.0, max(0.2, (f1 - f0) / (g1 - g0)))
        best = min(points[1:], key=lambda p: abs(p[1] - target))
        if abs(best[1] - target) <= PCM_TOLERANCE:
            return best[0], slope
        below = [p for p in points if p[1] < target]
        above = [p for p in points if p[1] > target]
        if below and above:  # bracketed: interpolate between the nearest either side
            (gb, fb), (ga, fa) = max(below, key=lambda p: p[1]), min(above, key=lambda p: p[1])
            return gb + (target - fb) / (fa - fb) * (ga - gb), slope
        gain = g1 + (target - f1) / slope
        if abs(f1 - target) <= TOLERANCE or gain >= most:
            break  # a small last step, or the cap: the finished file is measured anyway
    return gain, slope


@dataclass(frozen=True)
class Level:
    """The gain that levels a session, found before it is encoded."""

    raw: Loudness  # the rendered PCM, before levelling (sample peak)
    gain: float  # dB
    slope: float  # of the levelled loudness against the gain, there (1: no limiting)
    notes: tuple[str, ...] = ()


def find_level(
    probe: Callable[[], Iterable[bytes]],
    probe_samples: int,
    target: float = DEFAULT_TARGET,
    progress: Progress = lambda *_: None,
    parallel: int = 1,
) -> Level:
    """Measure the rendered session (``probe()``, ``probe_samples`` long) and find the
    gain that, with the limiter, brings it to ``target`` LUFS (see :func:`find_gain`).

    ``parallel``: how many ffmpeg processes may run at once."""
    notes: list[str] = []
    raw = measure_pcm(probe(), probe_samples, progress=progress)
    if not math.isfinite(raw.integrated) or raw.integrated < QUIET:
        raise ExportError(f"the session measures {raw.integrated} LUFS: it is silent")
    gain = _capped(target - raw.integrated, raw.true_peak, notes, target)
    slope = 1.0
    if raw.true_peak + gain > LIMITER_CEILING and not notes:

        def limited(gains: Sequence[float]) -> list[float]:
            """The levelled PCM's loudness at each of ``gains``: in one ffmpeg, or with
            ``parallel`` > 1 in one each, side by side (this thread measures the first,
            and reports the progress)."""
            if parallel < 2:
                chains = [level_filter(g) for g in gains]
                return [
                    m.integrated for m in measure_each(probe(), probe_samples, chains, progress)
                ]

            def one(gain: float, shown: Progress) -> float:
                return measure_pcm(probe(), probe_samples, level_filter(gain), shown).integrated

            with ThreadPoolExecutor(max(1, len(gains) - 1)) as pool:
                others = [pool.submit(one, g, _quiet) for g in gains[1:]]
                return [one(gains[0], progress), *(f.result() for f in others)]

        most = LIMITER_CEILING + MAX_LIMITING - raw.true_peak
        # Two gains a round, with a core to spare or not: the search, and so the file,
        # is the same either way, and a bracketed target is interpolated. (Two chains
        # in one ffmpeg took about as long as two rounds of one: 0.99 s, 0.51 + 0.46 s.)
        gain, slope = find_gain(limited, raw, target, most, per_round=2)
        gain = _capped(gain, raw.true_peak, notes, target)
    return Level(raw, gain, slope, tuple(notes))


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
    parallel: int = 1,
) -> Levelled:
    """Measure the rendered session, encode it levelled to ``target`` LUFS into ``path``,
    measure the finished file; re-encode once if the codec moved it off target.

    ``measure`` may give a quicker render that measures the same (the session with
    its long pauses cut short, see :func:`voiceguide.plan.timeline.condensed`) and its
    length, for the passes that find the gain. ``shortcut`` may give a shorter render
    to encode and measure instead of the whole, and the way to expand its file.

    ``on_voice``: ``measure`` renders the voice alone, without the layers that
    ``render`` mixes under it; the gain brings the voice to ``target``, and the
    finished file's loudness is reported but not steered (the layers fill the quiet
    between the words, so the whole measures otherwise). Its true peak still is.

    ``parallel``: how many ffmpeg processes may run at once (see :func:`find_gain`).
    """
    probe, probe_samples = measure or (render, total_samples)
    level = find_level(probe, probe_samples, target, progress, parallel)
    raw, gain, slope, notes = level.raw, level.gain, level.slope, list(level.notes)
    ceiling = LIMITER_CEILING
    with tempfile.TemporaryDirectory(prefix="voiceguide-") as folder:
        short = Path(folder) / "short.mp3"

        def encode_levelled() -> tuple[Loudness, bool | None]:
            """Encode, and measure what was encoded; and, with a shortcut and a core
            to spare, expand the short file meanwhile (whether that could be done)."""
            chain = level_filter(gain, ceiling)
            if shortcut is None:
                encode(render(), total_samples, path, encoding, chain, progress)
                return measure_file(path), None

            def scaled(stage: str, done: int, _: int) -> None:  # in samples of the session
                progress(stage, done * total_samples // shortcut.samples, total_samples)

            encode_short(
                shortcut.render, shortcut.samples, short, encoding, chain, scaled, shortcut.split
            )
            # The short file measures exactly as the finished file: see splice.py.
            if parallel < 2:
                return measure_file(short), None
            # Expanded meanwhile, by Python alone. Not with one process: holding the
            # short file beside the ffmpeg that measures it raised the peak from 119 MB
            # to 126 MB (default session) and 135 MB (60 minutes), to save about 0.1 s.
            with ThreadPoolExecutor(1) as pool:
                measuring = pool.submit(measure_file, short)
                expanded = shortcut.expand(short, path)  # a re-encode expands again
                return measuring.result(), expanded

        final, expanded = encode_levelled()
        off_target = abs(final.integrated - target) > TOLERANCE and not notes and not on_voice
        if off_target or final.true_peak > TRUE_PEAK_LIMIT:
            # A lossy codec shifts the loudness a little and can overshoot the peaks.
            if off_target:
                gain = _capped(
                    gain + (target - final.integrated) / slope, raw.true_peak, notes, target
                )
            if final.true_peak > TRUE_PEAK_LIMIT:
                ceiling -= final.true_peak - TRUE_PEAK_LIMIT + 0.3
            final, expanded = encode_levelled()
        if expanded is None and shortcut is not None:
            expanded = shortcut.expand(short, path)
        if expanded is False:
            encode(render(), total_samples, path, encoding, level_filter(gain, ceiling), progress)
            final = measure_file(path)
        elif expanded:
            verify_duration(path, total_samples)
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
