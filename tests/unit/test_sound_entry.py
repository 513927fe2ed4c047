"""Every way sound enters the session is band-limited: speech clips at an engine's rate,
a user's chime and a background file, at any rate, stereo or mono (decoded by ffmpeg)."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import pytest
from pydub import AudioSegment

from tests.conftest import require_tools
from voiceguide.sound.audio import read_sound_file, samples, tidy_speech, to_session_format
from voiceguide.sound.resample import resampled_length
from voiceguide.sound.sounds import file_bed
from voiceguide.units import SAMPLE_RATE

RATES = (8000, 16000, 22050, 24000, 32000, 48000, 96000)


def partials(rate: int, seconds: float, hz: list[float]) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return sum(np.sin(2 * np.pi * f * t) for f in hz) / len(hz) * np.hanning(len(t))


def write(path: Path, rate: int, left: np.ndarray, right: np.ndarray | None = None) -> Path:
    channels = np.stack([left, right], 1) if right is not None else left[:, None]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.rint(channels * 0.8 * 32767).astype("<i2").tobytes())
    return path


def above_db(values: np.ndarray, hz: float) -> float:
    """Energy above ``hz`` relative to the whole, in dB (Hann-windowed periodogram)."""
    spectrum = np.abs(np.fft.rfft(values * np.hanning(len(values)))) ** 2
    bins = np.fft.rfftfreq(len(values), 1 / SAMPLE_RATE)
    return 10 * math.log10(spectrum[bins > hz].sum() / spectrum.sum() + 1e-300)


def top(rate: int) -> list[float]:
    """Partials up to 0.9 of a source's Nyquist frequency (and of the session's)."""
    nyquist = min(rate, SAMPLE_RATE) / 2
    return [440.0, 0.45 * nyquist, 0.9 * nyquist]


def guard(rate: int) -> float:
    """Above this there must be nothing: the source's Nyquist frequency, 5% up."""
    return 1.05 * rate / 2


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 32000])
def test_an_engines_clip_is_not_mirrored_above_its_nyquist(rate: int) -> None:
    pcm = np.rint(partials(rate, 1.0, top(rate)) * 0.5 * 32767).astype("<i2").tobytes()
    clip = to_session_format(AudioSegment(pcm, sample_width=2, frame_rate=rate, channels=1))
    assert (clip.frame_rate, samples(clip)) == (SAMPLE_RATE, resampled_length(rate, rate))
    values = np.frombuffer(clip.raw_data, dtype="<i2") / 32768
    assert above_db(values, guard(rate)) < -70
    tidy = tidy_speech(AudioSegment(pcm, sample_width=2, frame_rate=rate, channels=1))
    assert above_db(np.frombuffer(tidy.raw_data, dtype="<i2") / 32768, guard(rate)) < -70


@pytest.mark.parametrize("rate", RATES)
def test_a_sound_file_at_any_rate_comes_in_clean_and_exactly_as_long(
    rate: int, tmp_path: Path
) -> None:
    require_tools("ffmpeg")
    left = partials(rate, 0.5, top(rate))
    # Stereo, with something in one channel only, above the session's Nyquist where the
    # source has room for it: to be taken away, not folded down to 44.1 kHz - f.
    right = partials(rate, 0.5, [660.0, 0.48 * rate] if rate > SAMPLE_RATE else [660.0])
    path = write(tmp_path / f"bell-{rate}.wav", rate, left, right)
    audio = read_sound_file(path, "the start chime")
    assert (audio.frame_rate, audio.channels) == (SAMPLE_RATE, 1)
    assert samples(audio) == resampled_length(len(left), rate)
    values = np.frombuffer(audio.raw_data, dtype="<i2") / 32768
    if rate < SAMPLE_RATE:
        assert above_db(values, guard(rate)) < -70, "no image above the source's Nyquist"
    else:
        assert above_db(values, 0.95 * SAMPLE_RATE / 2) < -70, "nothing folded down"
    # Mono is the mean of the two channels: the 440 Hz partial is there at half its level.
    assert np.max(np.abs(values)) > 0.2


@pytest.mark.parametrize("rate", [16000, 96000])
def test_a_background_file_comes_in_clean(rate: int, tmp_path: Path) -> None:
    require_tools("ffmpeg")
    hz = [200.0, 0.45 * min(rate, SAMPLE_RATE)] + ([0.48 * rate] if rate > SAMPLE_RATE else [])
    steady = partials(rate, 3.0, hz) / np.hanning(3 * rate).clip(0.2)  # no fade to speak of
    path = write(tmp_path / f"bed-{rate}.wav", rate, steady / np.max(np.abs(steady)))
    loop = np.asarray(file_bed(path), dtype=np.float64)
    limit = guard(rate) if rate < SAMPLE_RATE else 0.95 * SAMPLE_RATE / 2
    assert above_db(loop, limit) < -70
