"""The finished file measured the ITU-R BS.1770 / EBU R128 way.

libsndfile or ffmpeg decodes it; numpy measures the integrated loudness and
loudness range (:mod:`voiceguide.encode.bs1770`) and the true peak, by 4x
oversampling (:mod:`voiceguide.encode.truepeak`).

Mono is measured as dual mono (other layouts as they are): the loudness of a mono
session as heard on headphones, the same signal in both ears, which BS.1770 puts
3 LU above one channel measured alone.
"""

from __future__ import annotations

import queue
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from voiceguide.encode.decoded import Floats, open_sound
from voiceguide.encode.export import find_tool
from voiceguide.errors import ExportError, killed
from voiceguide.files import fds_for

if TYPE_CHECKING:  # numpy: imported when a file is measured
    from voiceguide.encode.bs1770 import Energies

PIPE_BYTES = 1 << 20  # the most an unprivileged process may ask for, by default


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP (or dBFS sample peak, before levelling)
    loudness_range: float  # LU


def measure_file(
    path: Path, gaps: Sequence[tuple[int, int]] = (), ours: bool = False, ahead: bool = False
) -> Loudness:
    """Integrated loudness, loudness range and true peak of an audio file.

    The file is decoded once, into 32-bit float samples, and numpy measures them
    block by block: the loudness with :mod:`voiceguide.encode.bs1770`, the true peak
    with :mod:`voiceguide.encode.truepeak`. Digital silence, which MP3 silence
    decodes to, costs the loudness meter nothing. (ffmpeg's own ``ebur128`` meter
    costs several times as much, and its true peak, which resamples to 192 kHz, far
    more.)

    ffmpeg decodes the file, on a pipe, as numpy measures. With ``ours`` (a file
    voiceguide has just written), libsndfile decodes it in this process instead, if
    it reads the format (every one voiceguide writes but M4A;
    :mod:`voiceguide.encode.decoded`), and if it gives as many frames as the file
    states; else ffmpeg decodes it once more, and that is measured. With ``ahead``,
    for a caller with a core to spare, libsndfile decodes on a thread of its own, and
    the loudness is measured on another, beside the true peak (numpy's FFT lets go of
    the GIL): the same figures, to the bit, sooner. (ffmpeg, where it decodes,
    does so on a core of its own anyway.)

    ``gaps``: where silence was cut out of the file (the short render of
    :mod:`voiceguide.encode.mp3.splice`), as (position, length) in frames: the
    loudness counts it as there.
    """
    from voiceguide.encode.truepeak import to_dbtp

    measured = _measure_in_process(path, gaps, ahead) if ours else None
    if measured is None:
        measured = _measure_with_ffmpeg(path, gaps)
    energies, peak = measured
    return Loudness(
        round(energies.integrated(), 1),
        round(to_dbtp(peak), 1),
        round(energies.loudness_range(), 1),
    )


def _measure_in_process(
    path: Path, gaps: Sequence[tuple[int, int]], ahead: bool
) -> tuple[Energies, float] | None:
    """The file measured as libsndfile decodes it; None where it cannot open it,
    meets damage, or gives another number of frames than the file states."""
    from voiceguide.encode.truepeak import BLOCK

    sound = open_sound(path)
    if sound is None:
        return None
    try:
        floats = Floats(sound, BLOCK if ahead else None)  # decoded a meter's block at a time
    except BaseException:  # no thread to be had
        sound.close()
        raise
    try:
        measured = _stream_measure(floats, sound.channels, sound.samplerate, gaps, ahead)
    except RuntimeError:  # damage past the file's start: ffmpeg has its say
        return None
    finally:
        floats.close()
    return measured if floats.frames == sound.frames else None


def _measure_with_ffmpeg(path: Path, gaps: Sequence[tuple[int, int]]) -> tuple[Energies, float]:
    """The file measured as ffmpeg decodes it, on a pipe."""
    command = [
        find_tool("ffmpeg"), "-hide_banner", "-nostats", "-nostdin", "-loglevel", "error",
        "-i", str(path), "-map", "0:a:0", "-map_metadata", "-1",
        "-c:a", "pcm_f32le", "-f", "wav", "pipe:1",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, pass_fds=fds_for(path))
        assert proc.stdout is not None
        _widen(proc.stdout)
        try:
            found = _wav_format(proc.stdout)
            measured = None if found is None else _stream_measure(proc.stdout, *found, gaps)
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
        raise ExportError(f"{signalled} while trying to measure the loudness of {path}")
    if code != 0 or measured is None:
        lines = text.strip().splitlines()
        raise ExportError(f"ffmpeg could not read {path}: {lines[-1] if lines else 'no audio'}")
    return measured


def _widen(pipe: IO[bytes]) -> None:
    """Let ffmpeg write ahead while the true peak of a block is computed (Linux:
    a pipe holds 64 KiB unless asked for more, and the two would take turns)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # elsewhere: the two take turns, and it is slower


class _Reader(Protocol):
    def read(self, size: int, /) -> bytes: ...


def _stream_measure(
    wav: _Reader,
    channels: int,
    rate: int,
    gaps: Sequence[tuple[int, int]] = (),
    beside: bool = False,
) -> tuple[Energies, float]:
    """The K-weighted energies and the true peak (linear) of the float samples
    ``wav`` gives (past the WAV header, from ffmpeg), with silence put back at
    ``gaps``; with ``beside``, the energies on a thread of their own."""
    import numpy as np

    from voiceguide.encode.bs1770 import StreamMeter
    from voiceguide.encode.truepeak import BLOCK, TruePeakMeter

    peak = TruePeakMeter(channels)
    meter = StreamMeter(channels, rate)
    frame = 4 * channels
    pending = list(gaps)
    position = 0  # frames of the file read
    done = False
    # A thread that cannot be started raises a RuntimeError, which the caller takes
    # as it takes libsndfile's: ffmpeg measures the file instead.
    loudness = _Beside() if beside else None
    run = loudness.run if loudness is not None else _now
    try:
        while True:
            wanted = BLOCK if not pending else min(BLOCK, pending[0][0] - position)
            block = wav.read(wanted * frame) if wanted > 0 else b""
            usable = len(block) - len(block) % frame
            if usable:
                samples = np.frombuffer(block, dtype="<f4", count=usable // 4)
                peak.add(samples)
                run(partial(meter.add, samples))
                position += usable // frame
            if pending and position >= pending[0][0]:
                run(partial(meter.skip, pending.pop(0)[1]))
            elif not usable:
                break
        done = True
    finally:
        if loudness is not None:
            loudness.close(done)
    return meter.finish(), peak.finish()


def _now(work: Callable[[], object]) -> None:
    work()


class _Beside:
    """Work done in order on a thread of its own, a few pieces queued at most."""

    QUEUED = 4

    def __init__(self) -> None:
        self._work: queue.Queue[Callable[[], object] | None] = queue.Queue(self.QUEUED)
        self._error: BaseException | None = None
        self._dropping = False
        self._thread = threading.Thread(target=self._serve, name="loudness", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (work := self._work.get()) is not None:
            if self._error is None and not self._dropping:
                try:
                    work()
                except BaseException as error:  # raised in the caller's thread
                    self._error = error

    def run(self, work: Callable[[], object]) -> None:
        """Queue ``work``; raise what earlier work raised, if anything."""
        if self._error is not None:
            raise self._error
        self._work.put(work)

    def close(self, finish: bool = True) -> None:
        """Stop the thread: with ``finish``, once the work queued is done (and raise
        what it raised, if anything); else once the piece under way is, the rest
        dropped. (An interrupt in here may leave the thread waiting, as a daemon,
        for work that never comes: the command line is then on its way out.)"""
        self._dropping = not finish
        self._work.put(None)
        self._thread.join()
        if finish and self._error is not None:
            raise self._error


def _wav_format(wav: IO[bytes]) -> tuple[int, int] | None:
    """Read a WAV header up to its audio data: the channel count and sample rate, if
    the samples are 32-bit floats (as ffmpeg writes ``pcm_f32le``), else None."""
    head = wav.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
        return None
    found = None
    while len(chunk := wav.read(8)) == 8:
        name, size = chunk[:4], int.from_bytes(chunk[4:], "little")
        if name == b"data":
            return found
        body = wav.read(size + size % 2)
        if name == b"fmt " and len(body) >= 16:
            tag = int.from_bytes(body[0:2], "little")
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the sub-format
                tag = int.from_bytes(body[24:26], "little")
            bits = int.from_bytes(body[14:16], "little")
            if tag == 3 and bits == 32:  # WAVE_FORMAT_IEEE_FLOAT
                found = (int.from_bytes(body[2:4], "little"), int.from_bytes(body[4:8], "little"))
    return None
