"""The numpy true peak (ITU-R BS.1770-4 Annex 2) against brute-force oversampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from voiceguide.encode import truepeak
from voiceguide.encode.truepeak import PHASES, TruePeakMeter, to_dbtp, true_peak

FILTER = np.array(PHASES).T.ravel()  # the 48 taps: tap 4k + p is PHASES[p][k]


def brute_force(x: np.ndarray) -> float:
    """Zero-stuff by four, convolve with the whole 48-tap filter, take the largest
    magnitude (or the largest sample's)."""
    stuffed = np.zeros(4 * len(x))
    stuffed[::4] = x
    return float(max(np.abs(x).max(), np.abs(np.convolve(stuffed, FILTER)).max()))


def signals() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    found = []
    for n in (1, 5, 11, 12, 63, 64, 65, 200, 1000, 4099):
        noise = rng.standard_normal(n) * 0.3
        sparse = np.where(rng.random(n) < 0.8, 0.0, noise)  # mostly exact zeros, like MP3 silence
        found += [noise, sparse]
    # The peak between the samples of a quiet chunk, a louder lone sample elsewhere:
    # a chunk may not be skipped for its samples being quieter than the peak so far.
    tricky = np.zeros(3000)
    tricky[100] = 0.9  # an impulse interpolates to 0.97 * 0.9 at most
    tricky[2000:2040] = 0.8 * np.array([1.0, 1.0, -1.0, -1.0] * 10)  # fs/4 at 45°: about 1.13
    found.append(tricky)
    return found


@pytest.mark.parametrize("x", signals(), ids=lambda x: f"n{len(x)}")
def test_the_true_peak_is_brute_force_oversampling(
    x: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = true_peak(x)
    assert found == pytest.approx(brute_force(x), rel=1e-12)
    # Skipping the windows that cannot hold the peak changes nothing, to the bit:
    # with an infinite bound (0 * inf is not a number), every window is interpolated.
    monkeypatch.setattr(truepeak, "GAIN", math.inf)
    with np.errstate(invalid="ignore"):
        assert true_peak(x) == found


def test_the_blocks_do_not_matter() -> None:
    rng = np.random.default_rng(7)
    x = np.where(rng.random(20_000) < 0.5, 0.0, rng.standard_normal(20_000) * 0.2)
    whole = true_peak(x)
    meter, start = TruePeakMeter(), 0
    while start < len(x):
        size = int(rng.integers(1, 700))
        meter.add(x[start : start + size].astype(np.float32).astype(np.float64))
        start += size
    assert meter.finish() == true_peak(x.astype(np.float32))
    assert true_peak(x.astype(np.float32)) == pytest.approx(whole, rel=1e-6)


def test_an_intersample_peak() -> None:
    n = np.arange(4000)
    x = 0.5 * np.sin(2 * np.pi * n / 4 + np.pi / 4)  # samples at ±0.354, a peak of 0.5
    assert np.abs(x).max() == pytest.approx(0.5 / math.sqrt(2))
    assert to_dbtp(true_peak(x)) == pytest.approx(to_dbtp(0.5), abs=0.1)


def test_channels_are_interpolated_apart() -> None:
    rng = np.random.default_rng(3)
    left, right = rng.standard_normal(500) * 0.1, rng.standard_normal(500) * 0.3
    both = np.column_stack((left, right)).ravel()
    assert true_peak(both, channels=2) == max(true_peak(left), true_peak(right))
    assert true_peak(both, channels=2) != true_peak(both)


def test_silence() -> None:
    assert true_peak(np.zeros(10_000, dtype=np.float32)) == 0.0
    assert to_dbtp(0.0) == -math.inf
    assert to_dbtp(1.0) == 0.0
