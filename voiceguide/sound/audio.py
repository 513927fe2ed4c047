"""Audio values: loading, converting and tidying clips with pydub.

Every clip leaving this module is mono, 16-bit, at :data:`~voiceguide.units.SAMPLE_RATE`,
so that its length in samples is simply :func:`samples`.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from array import array
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError

from voiceguide.errors import AudioError
from voiceguide.units import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH

if TYPE_CHECKING:  # numpy is imported where it is used: a build needs it, the CLI not
    import numpy as np
    import numpy.typing as npt

SILENCE_THRESHOLD = 0.004  # of full scale, about -48 dBFS
EDGE_PAD_MS = 30  # quiet kept around trimmed speech
FADE_MS = 8  # fade at the edges of speech, so clips never click
MAX_SOUND_BYTES = 200_000_000  # a user's sound file (a chime, a background)
DECODE_TIMEOUT = 60.0  # seconds ffmpeg may take to decode one
CHIME_PEAK_DBFS = -18.0  # the packaged chimes' peak; a user's chime is scaled to it
MAX_CHIME_SECONDS = 10.0
CHIME_QUIET = 0.001  # of full scale (-60 dBFS): quieter edges of a user's chime are cut
CHIME_FADE_IN_MS, CHIME_FADE_OUT_MS = 2, 20


def samples(audio: AudioSegment) -> int:
    """The length of a clip in samples."""
    return int(len(audio.raw_data) // (audio.sample_width * audio.channels))


def to_session_format(audio: AudioSegment) -> AudioSegment:
    """Mono, 16-bit, at the session sample rate: another rate is brought to it by the
    band-limited resampler (:mod:`voiceguide.sound.resample`), never by pydub's
    ``set_frame_rate``, which mirrors the source's spectrum above its Nyquist frequency."""
    if audio.channels != CHANNELS:
        audio = audio.set_channels(CHANNELS)
    if audio.sample_width != SAMPLE_WIDTH:
        audio = audio.set_sample_width(SAMPLE_WIDTH)
    if audio.frame_rate != SAMPLE_RATE:
        from voiceguide.sound.resample import resample_pcm16

        pcm = resample_pcm16(audio.raw_data, int(audio.frame_rate))
        audio = AudioSegment(pcm, sample_width=SAMPLE_WIDTH, frame_rate=SAMPLE_RATE,
                             channels=CHANNELS)  # fmt: skip
    return audio


def from_wav_bytes(data: bytes, name: str) -> AudioSegment:
    """Decode WAV bytes; ``name`` identifies the clip in errors."""
    if len(data) <= 44:
        raise AudioError(f"{name} is empty (only {len(data)} bytes)")
    try:
        with wave.open(io.BytesIO(data)) as w:
            if w.getnframes() == 0:
                raise AudioError(f"{name} holds no audio")
        return AudioSegment.from_wav(io.BytesIO(data))
    except (wave.Error, EOFError, CouldntDecodeError, ValueError) as e:
        raise AudioError(f"{name} is not a valid WAV file ({e})") from None


def to_wav_bytes(audio: AudioSegment) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(audio.channels)
        w.setsampwidth(audio.sample_width)
        w.setframerate(audio.frame_rate)
        w.writeframes(audio.raw_data)
    return buffer.getvalue()


def tidy_speech(audio: AudioSegment) -> AudioSegment:
    """Trim the quiet an engine leaves around speech, keep a little, and fade the edges."""
    audio = to_session_format(audio)
    values = audio.get_array_of_samples()
    limit = int(SILENCE_THRESHOLD * 32768)
    loud = loud_edges(values, limit)
    if loud is None:
        return audio[:0]
    first, last = loud
    pad = SAMPLE_RATE * EDGE_PAD_MS // 1000
    start, end = max(0, first - pad), min(len(values), last + 1 + pad)
    return fade_edges(audio._spawn(without_dc(values[start:end])), FADE_MS)


def without_dc(values: array[int]) -> bytes:
    """16-bit samples less their mean: the DC offset some engines leave (espeak-ng's
    clips sit up to 96 steps, -50 dBFS, off zero), as PCM bytes.

    Removed here, once per clip, rather than by a high-pass filter on the session:
    such a filter (like ffmpeg's meters) runs into denormal numbers in every silence
    as its state decays, which on many x86 CPUs costs 100 times the usual work."""
    import numpy as np

    pcm = np.frombuffer(values, dtype=np.int16)
    if len(pcm) == 0:
        return b""
    offset = round(float(pcm.mean()))
    return np.clip(pcm.astype(np.int32) - offset, -32768, 32767).astype("<i2").tobytes()


_SCAN = 1024  # samples looked at in one go when finding the edges of speech


def loud_edges(values: Sequence[int], limit: int) -> tuple[int, int] | None:
    """The first and last index whose value is beyond ±``limit``; None if there is none.

    Engines leave up to a second of quiet around speech: whole blocks are passed
    over with the built-in min and max, and only the block where sound begins (or
    ends) is looked at sample by sample."""

    def loud(block: Sequence[int]) -> bool:
        return max(block) > limit or min(block) < -limit

    starts = range(0, len(values), _SCAN)
    head = next((s for s in starts if loud(values[s : s + _SCAN])), None)
    if head is None:
        return None
    tail = next(s for s in reversed(starts) if loud(values[s : s + _SCAN]))
    first = next(i for i in range(head, head + _SCAN) if abs(values[i]) > limit)
    end = min(tail + _SCAN, len(values))
    last = next(i for i in range(end - 1, tail - 1, -1) if abs(values[i]) > limit)
    return first, last


def fade_edges(audio: AudioSegment, ms: int, out_ms: int | None = None) -> AudioSegment:
    """Fade in over ``ms`` and out over ``out_ms`` (default: ``ms``), sample-exact
    (pydub's fades slice in milliseconds and can change a clip's length by a sample)."""
    values = audio.get_array_of_samples()
    ramp_in = min(len(values) // 2, SAMPLE_RATE * ms // 1000)
    ramp_out = min(len(values) // 2, SAMPLE_RATE * (ms if out_ms is None else out_ms) // 1000)
    for i in range(ramp_in):
        values[i] = round(values[i] * i / ramp_in)
    for i in range(ramp_out):
        values[-1 - i] = round(values[-1 - i] * i / ramp_out)
    return audio._spawn(values.tobytes())


def read_sound_file(path: Path, what: str, max_seconds: float | None = None) -> AudioSegment:
    """A user's sound file in any format ffmpeg decodes, in the session format.

    ``what`` names it in errors ("the start chime"); ``max_seconds`` caps how much
    is decoded (a longer file is an error)."""
    name = f"{what} {path}"
    try:
        size = path.stat().st_size
    except OSError as e:
        raise AudioError(f"cannot read {name}: {e.strerror}") from None
    if size > MAX_SOUND_BYTES:
        raise AudioError(f"{name} is {size / 1e6:.0f} MB; a sound file may be at most "
                         f"{MAX_SOUND_BYTES // 1_000_000} MB")  # fmt: skip
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise AudioError(f"cannot decode {name}: ffmpeg is not installed; "
                         "install it with: apt-get install ffmpeg (Debian/Ubuntu)")  # fmt: skip
    limit = [] if max_seconds is None else ["-t", f"{max_seconds + 0.5:.3f}"]
    command = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), *limit, "-map", "0:a:0",
               *FLOAT_WAV]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=DECODE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise AudioError(f"cannot decode {name}: ffmpeg took over {DECODE_TIMEOUT:g} s") from None
    problem = done.stderr.decode("utf-8", "replace").strip().splitlines()
    decoded = mono_float_wav(done.stdout) if done.returncode == 0 else None
    if decoded is None or len(decoded[0]) == 0:
        reason = problem[-1] if problem else "it holds no audio"
        raise AudioError(f"cannot decode {name}: {_short(reason, path)}")
    from voiceguide.sound.resample import resample, to_pcm16

    audio = AudioSegment(to_pcm16(resample(*decoded)), sample_width=SAMPLE_WIDTH,
                         frame_rate=SAMPLE_RATE, channels=CHANNELS)  # fmt: skip
    if max_seconds is not None and samples(audio) > max_seconds * SAMPLE_RATE:
        raise AudioError(f"{name} is longer than {max_seconds:g} seconds; use a shorter sound")
    return audio


#: ffmpeg's output options for a decoded sound: at the source's own rate and with its
#: own channels, as 32-bit floats in a WAV stream (which says the rate and channels), for
#: :func:`mono_float_wav`. (Not ``-ac 1``: ffmpeg's float downmix sums the channels at
#: -3 dB each, and a full-scale stereo file would then go past full scale.)
FLOAT_WAV = ("-c:a", "pcm_f32le", "-bitexact", "-f", "wav", "pipe:1")


def mono_float_wav(data: bytes) -> tuple[npt.NDArray[np.float32], int] | None:
    """The samples, mono (the mean of the channels, as pydub's ``set_channels(1)``), and
    the sample rate of a 32-bit float WAV as ffmpeg writes it to a pipe
    (:data:`FLOAT_WAV`: its sizes unknown, the audio runs to the end); None if
    ``data`` is not one. The band-limited resampler then brings it to the session rate."""
    import numpy as np

    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    rate, channels, at = 0, 0, 12
    while at + 8 <= len(data):
        name, size = data[at : at + 4], int.from_bytes(data[at + 4 : at + 8], "little")
        body = at + 8
        if name == b"data":
            if not rate or not channels:
                return None
            audio = data[body:]
            frames = len(audio) // (4 * channels)
            pcm = np.frombuffer(audio, dtype="<f4", count=frames * channels)
            mono = pcm.reshape(frames, channels).mean(axis=1, dtype=np.float64)
            return mono.astype(np.float32), rate
        if name == b"fmt " and size >= 16:
            tag = int.from_bytes(data[body : body + 2], "little")
            if tag == 0xFFFE and size >= 26:  # WAVE_FORMAT_EXTENSIBLE: the sub-format
                tag = int.from_bytes(data[body + 24 : body + 26], "little")
            if tag != 3 or int.from_bytes(data[body + 14 : body + 16], "little") != 32:
                return None  # not WAVE_FORMAT_IEEE_FLOAT, 32-bit
            channels = int.from_bytes(data[body + 2 : body + 4], "little")
            rate = int.from_bytes(data[body + 4 : body + 8], "little")
        at = body + size + size % 2
    return None


def _short(reason: str, path: Path) -> str:
    """An ffmpeg complaint without the path it repeats."""
    return reason.replace(f"{path}: ", "").strip() or "it is not an audio file ffmpeg can read"


def load_chime_file(path: Path, what: str) -> AudioSegment:
    """A user's chime: quiet edges cut (so its sound begins on the hold's boundary),
    scaled to peak like the packaged chimes, faded in and out so it never clicks."""
    audio = read_sound_file(path, what, MAX_CHIME_SECONDS)
    values = audio.get_array_of_samples()
    limit = int(CHIME_QUIET * 32768)
    first = next((i for i, v in enumerate(values) if abs(v) > limit), None)
    if first is None:
        raise AudioError(f"{what} {path} is silent")
    last = next(i for i in range(len(values) - 1, -1, -1) if abs(values[i]) > limit)
    values = array("h", without_dc(values[first : last + 1]))
    peak = max(abs(v) for v in values)
    scale = 32767 * 10 ** (CHIME_PEAK_DBFS / 20) / peak
    values = array("h", (round(v * scale) for v in values))
    trimmed = fade_edges(audio._spawn(values.tobytes()), CHIME_FADE_IN_MS, CHIME_FADE_OUT_MS)
    if samples(trimmed) < SAMPLE_RATE * 0.05:
        raise AudioError(f"{what} {path} is too short to hear (under 50 ms of sound)")
    return trimmed


def load_chime(name: str) -> AudioSegment:
    """A chime from the installed package assets (``chime-start``, ``chime-end``)."""
    resource = resources.files("voiceguide.audio_assets") / f"{name}.wav"
    try:
        data = resource.read_bytes()
    except OSError:
        raise AudioError(
            f"the chime sound {name}.wav is missing from the installation; reinstall voiceguide"
        ) from None
    return to_session_format(from_wav_bytes(data, f"chime {name}.wav"))
