"""The loudness meter: a session measured the ITU-R BS.1770 / EBU R128 way.

PCM or a finished file is streamed through ffmpeg's ``ebur128`` meter, for the
integrated loudness and loudness range; the true peak of a finished file is found
by 4x oversampling (:mod:`voiceguide.encode.truepeak`).

Mono is measured as dual mono (``ebur128=dualmono=true``; other layouts as they
are): the loudness of a mono session as heard on headphones, the same signal in
both ears, which BS.1770 puts 3 LU above one channel measured alone.
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from voiceguide.encode.export import find_tool, pcm_command, pipe_to_ffmpeg
from voiceguide.errors import ExportError, killed
from voiceguide.files import fds_for
from voiceguide.progress import Progress, no_progress
from voiceguide.units import CHANNELS, SAMPLE_RATE

NOISE_FLOOR = 1e-7  # linear: the white noise added before a meter, about -140 dBFS
PIPE_BYTES = 1 << 20  # the most an unprivileged process may ask for, by default


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
    than others (several times slower to meter on an Intel Xeon: see
    docs/performance.md). The noise keeps them out of that range. It is 70 dB under the
    meter's absolute gate (-70 LUFS), so the figures are the same. It has as many
    ``channels`` as the audio metered: else ffmpeg would mix the audio down to them."""
    return (
        f"anoisesrc=r={SAMPLE_RATE}:a={NOISE_FLOOR:.10f}:c=white:seed=1,"
        f"aformat=channel_layouts={channels}c[{source}floor];"
        f"[{source}][{source}floor]amix=inputs=2:duration=first:normalize=0,"
        f"ebur128=peak={peak}:framelog=verbose:dualmono=true"
    )


def measure_pcm(
    pcm: Iterable[bytes],
    total_samples: int,
    audio_filter: str | None = None,
    progress: Progress = no_progress,
) -> Loudness:
    """Integrated loudness and sample peak of streamed mono PCM (after ``audio_filter``)."""
    return measure_each(pcm, total_samples, [audio_filter], progress)[0]


def measure_each(
    pcm: Iterable[bytes],
    total_samples: int,
    audio_filters: Sequence[str | None],
    progress: Progress = no_progress,
) -> list[Loudness]:
    """:func:`measure_pcm` after each of ``audio_filters``, in one ffmpeg: the PCM is
    rendered and read once, and ``asplit`` gives each filter and meter a copy."""
    count = len(audio_filters)
    parts = [f"[0:a]asplit={count}" + "".join(f"[in{i}]" for i in range(count))]
    for i, audio_filter in enumerate(audio_filters):
        parts.append(f"[in{i}]{audio_filter or 'anull'}[pcm{i}]")
        parts.append(_meter(f"pcm{i}", "sample") + ("[out]" if i == count - 1 else ",anullsink"))
    log = pipe_to_ffmpeg(
        pcm_command(["-loglevel", "info", "-filter_complex", ";".join(parts),
                     "-map", "[out]", "-f", "null", "-"]),
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
    and is far slower.
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
    signalled = killed("ffmpeg", code)
    if signalled:
        raise ExportError(f"{signalled} while measuring the loudness of {path}")
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
