"""Audio values: loading, converting and tidying clips with pydub.

Every clip leaving this module is mono, 16-bit, at :data:`~voiceguide.units.SAMPLE_RATE`,
so that its length in samples is simply :func:`samples`.
"""

from __future__ import annotations

import io
import wave
from importlib import resources
from pathlib import Path

from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError

from voiceguide.errors import AudioError
from voiceguide.units import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH

SILENCE_THRESHOLD = 0.004  # of full scale, about -48 dBFS
EDGE_PAD_MS = 30  # quiet kept around trimmed speech
FADE_MS = 8  # fade at the edges of speech, so clips never click


def samples(audio: AudioSegment) -> int:
    """The length of a clip in samples."""
    return int(len(audio.raw_data) // (audio.sample_width * audio.channels))


def to_session_format(audio: AudioSegment) -> AudioSegment:
    """Mono, 16-bit, at the session sample rate."""
    if audio.channels != CHANNELS:
        audio = audio.set_channels(CHANNELS)
    if audio.sample_width != SAMPLE_WIDTH:
        audio = audio.set_sample_width(SAMPLE_WIDTH)
    if audio.frame_rate != SAMPLE_RATE:
        audio = audio.set_frame_rate(SAMPLE_RATE)
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


def read_wav(path: Path) -> AudioSegment:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AudioError(f"cannot read {path}: {e.strerror}") from None
    return from_wav_bytes(data, str(path))


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
    first = next((i for i, v in enumerate(values) if abs(v) > limit), None)
    if first is None:
        return audio[:0]
    last = next(i for i in range(len(values) - 1, -1, -1) if abs(values[i]) > limit)
    pad = SAMPLE_RATE * EDGE_PAD_MS // 1000
    start, end = max(0, first - pad), min(len(values), last + 1 + pad)
    return fade_edges(audio._spawn(values[start:end].tobytes()), FADE_MS)


def fade_edges(audio: AudioSegment, ms: int) -> AudioSegment:
    """Fade both ends in and out over ``ms``, sample-exact (pydub's fades slice
    in milliseconds and can change a clip's length by a sample)."""
    values = audio.get_array_of_samples()
    ramp = min(len(values) // 2, SAMPLE_RATE * ms // 1000)
    for i in range(ramp):
        gain = i / ramp
        values[i] = round(values[i] * gain)
        values[-1 - i] = round(values[-1 - i] * gain)
    return audio._spawn(values.tobytes())


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
