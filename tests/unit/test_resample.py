"""Band-limited resampling: exact lengths, the same bytes every run, no images, no clicks."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from voiceguide.errors import AudioError
from voiceguide.sound.resample import resample, resample_pcm16, resampled_length, to_pcm16
from voiceguide.units import SAMPLE_RATE

RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000)
STEP = 1 / 32768  # one step of 16-bit PCM


def tone(hz: float, rate: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * hz * np.arange(round(seconds * rate)) / rate)


def energy_db(signal: np.ndarray, rate: int, low: float, high: float = math.inf) -> float:
    """Energy between ``low`` and ``high`` Hz relative to the whole signal, in dB
    (a Hann-windowed periodogram, so that the edges leak nothing)."""
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal)))) ** 2
    hz = np.fft.rfftfreq(len(signal), 1 / rate)
    band = spectrum[(hz > low) & (hz < high)].sum()
    return 10 * math.log10(band / spectrum.sum() + 1e-300)


@pytest.mark.parametrize("rate", RATES)
def test_the_length_is_the_source_length_scaled_and_rounded_half_up(rate: int) -> None:
    for length in (0, 1, 2, 3, 7, 80, 441, 1001, rate - 1, rate, 3 * rate + 1, 10 * rate + 37):
        exact = Fraction(length * SAMPLE_RATE, rate)
        expected = math.floor(exact + Fraction(1, 2))
        assert resampled_length(length, rate) == expected
        assert len(resample(np.zeros(length), rate)) == expected
        noise = np.random.RandomState(length).uniform(-0.5, 0.5, length)
        assert len(resample(noise, rate)) == expected
        assert len(resample_pcm16(to_pcm16(noise), rate)) == 2 * expected


@pytest.mark.parametrize("rate", RATES)
def test_the_same_input_gives_the_same_bytes_every_time(rate: int) -> None:
    pcm = to_pcm16(np.random.RandomState(7).uniform(-0.7, 0.7, rate + 123))
    first = resample_pcm16(pcm, rate)
    assert all(resample_pcm16(pcm, rate) == first for _ in range(3))


def test_the_session_rate_passes_through_untouched() -> None:
    pcm = to_pcm16(np.random.RandomState(3).uniform(-0.9, 0.9, 4410))
    assert resample_pcm16(pcm, SAMPLE_RATE) == pcm
    signal = np.random.RandomState(3).uniform(-0.9, 0.9, 4410)
    assert np.array_equal(resample(signal, SAMPLE_RATE), signal)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 32000])
def test_a_tone_is_not_mirrored_above_the_source_nyquist(rate: int) -> None:
    # A tone at 0.4 of the source rate has its image at 0.6 of it, above the source's
    # Nyquist frequency: an interpolator without an anti-imaging filter puts it there
    # some 10-30 dB down; a band-limited resampler, beyond 100 dB.
    out = resample(tone(0.4 * rate, rate, 1.0), rate)
    assert energy_db(out, SAMPLE_RATE, rate / 2) < -100


@pytest.mark.parametrize(("rate", "hz"), [(48000, 23000.0), (96000, 23000.0), (96000, 30000.0)])
def test_a_tone_above_the_session_nyquist_is_not_folded_into_it(rate: int, hz: float) -> None:
    source = tone(hz, rate, 1.0) * np.hanning(rate)
    out = resample(source, rate)
    # What is left, relative to the tone's energy (per second, at the session rate).
    left = float(np.sum(out**2)) / (float(np.sum(source**2)) * SAMPLE_RATE / rate)
    assert 10 * math.log10(left + 1e-300) < -100


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 32000, 48000, 96000])
def test_a_tone_in_the_pass_band_keeps_its_level_and_its_place(rate: int) -> None:
    hz = 1000.0 + rate / 100  # not a divisor of any rate
    out = resample(tone(hz, rate, 1.0), rate)
    ideal = tone(hz, SAMPLE_RATE, len(out) / SAMPLE_RATE)
    middle = slice(SAMPLE_RATE // 10, -SAMPLE_RATE // 10)  # the edges of a cut-off tone ring
    assert len(ideal) == len(out)
    # No delay and no loss: the same sine, sample for sample, within a 16-bit step.
    assert np.max(np.abs(out[middle] - ideal[middle])) < STEP


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 32000, 48000, 96000])
def test_silent_edges_stay_silent_so_nothing_clicks(rate: int) -> None:
    burst = tone(0.3 * min(rate, SAMPLE_RATE), rate, 0.2) * np.hanning(round(0.2 * rate))
    quiet = np.zeros(rate // 100)  # 10 ms
    out = resample(np.concatenate([quiet, burst, quiet]), rate)
    edge = SAMPLE_RATE // 200  # 5 ms at each end, half of the quiet
    assert np.max(np.abs(out[:edge])) < STEP
    assert np.max(np.abs(out[-edge:])) < STEP
    pcm = np.frombuffer(to_pcm16(out), dtype="<i2")
    assert not pcm[:edge].any()
    assert not pcm[-edge:].any()


def test_pcm_is_clipped_not_wrapped_where_the_filter_overshoots() -> None:
    square = np.where(np.arange(2205) // 50 % 2 == 0, 32767, -32768).astype("<i2")
    floats = resample(square / 32768, 22050) * 32768
    assert floats.max() > 33000  # the filter rings past full scale at each edge...
    assert floats.min() < -33000
    out = np.frombuffer(resample_pcm16(square.tobytes(), 22050), dtype="<i2")
    # ...and those samples stay at the extremes rather than wrap round to the other sign.
    assert np.array_equal(out, np.clip(np.rint(floats), -32768, 32767))
    assert out[floats > 32767].min() == 32767
    assert out[floats < -32768].max() == -32768


@pytest.mark.parametrize("rate", [0, -8000, 22050.5, True])
def test_a_rate_that_is_not_a_positive_whole_number_is_refused(rate: object) -> None:
    with pytest.raises(AudioError, match="positive whole number"):
        resampled_length(10, rate)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pcm_worked_in_place_is_the_same_pcm(dtype: type) -> None:
    # Ties round to even, and past full scale clips, either way.
    ties = np.array([0.5, 1.5, -0.5, 2.5]) / 32768
    edges = np.array([1.2, -1.2, 0.5, -1.0])
    signal: np.ndarray = np.concatenate([ties, edges, np.linspace(-1, 1, 1001)]).astype(dtype)
    expected = to_pcm16(signal.copy())
    given = signal.copy()
    assert to_pcm16(given, overwrite=True) == expected
    assert np.frombuffer(expected, dtype="<i2")[:4].tolist() == [0, 2, 0, 2]
    assert np.frombuffer(expected, dtype="<i2")[4:8].tolist() == [32767, -32768, 16384, -32768]
