"""The search for the gain that levels a limited session (levelling.find_gain), on a
model of the limiter's loudness curve: no ffmpeg."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from voiceguide.encode.levelling import (
    LIMITER_CEILING,
    PCM_PASSES,
    PCM_TOLERANCE,
    TOLERANCE,
    find_gain,
)
from voiceguide.encode.meter import Loudness

RAW = Loudness(integrated=-20.3, true_peak=-0.1, loudness_range=5.0)  # as espeak measures
TARGET = -16.0


class Limited:
    """Loudness against gain as the look-ahead limiter makes it: one LU a dB until
    the peaks reach the ceiling, then less and less, down to ``kept`` LU a dB, the
    faster the smaller ``soft``; read to a tenth of a LU, as ffmpeg's summary gives
    it. (The default is near what espeak measured: -17.3 LUFS at +4.3 dB, -15.9 at
    +7.4, from -20.3 LUFS with peaks at -0.1 dBFS.)"""

    def __init__(self, raw: Loudness = RAW, soft: float = 8.0, kept: float = 0.3) -> None:
        self.raw, self.soft, self.kept = raw, soft, kept
        self.calls: list[list[float]] = []

    def exact(self, gain: float) -> float:
        over = max(0.0, self.raw.true_peak + gain - LIMITER_CEILING)
        lost = (1 - self.kept) * (over - self.soft * (1 - math.exp(-over / self.soft)))
        return self.raw.integrated + gain - lost

    def __call__(self, gains: Sequence[float]) -> list[float]:
        self.calls.append(list(gains))
        return [round(self.exact(g), 1) for g in gains]


def test_side_by_side_one_round_brackets_the_target() -> None:
    curve = Limited()
    assert curve.exact(4.3) == pytest.approx(-17.3, abs=0.4)  # the model is near espeak's
    assert curve.exact(7.4) == pytest.approx(-15.9, abs=0.4)
    gain, slope = find_gain(curve, RAW, TARGET, most=40.0, per_round=2)
    assert len(curve.calls) == 1, "one round of two measurements"
    assert len(curve.calls[0]) == 2
    assert curve.calls[0][0] == pytest.approx(TARGET - RAW.integrated)  # too low, or right
    assert abs(curve.exact(gain) - TARGET) <= PCM_TOLERANCE
    assert 0.2 <= slope < 1.0


@pytest.mark.parametrize("soft", [2.0, 8.0, 30.0])
@pytest.mark.parametrize("per_round", [1, 2])
def test_the_search_gets_within_tolerance(soft: float, per_round: int) -> None:
    curve = Limited(soft=soft)
    gain, _ = find_gain(curve, RAW, TARGET, most=40.0, per_round=per_round)
    assert all(len(call) == per_round for call in curve.calls)
    assert 1 <= len(curve.calls) <= PCM_PASSES
    # Side by side, the target is bracketed and interpolated; one at a time, the last
    # secant step (within TOLERANCE) is not measured: the finished file is.
    assert abs(curve.exact(gain) - TARGET) <= (PCM_TOLERANCE if per_round > 1 else TOLERANCE)


def test_a_step_past_the_target_is_interpolated_back() -> None:
    # The second gain of the round overshoots (a milder limiter), neither is close
    # enough: the answer lies between.
    curve = Limited(soft=12.0, kept=0.5)
    gain, _ = find_gain(curve, RAW, TARGET, most=40.0, per_round=2)
    low, high = curve.calls[0]
    assert curve.exact(low) < TARGET < curve.exact(high)
    assert abs(curve.exact(low) - TARGET) > PCM_TOLERANCE < abs(curve.exact(high) - TARGET)
    assert low < gain < high
    assert abs(curve.exact(gain) - TARGET) <= PCM_TOLERANCE


def test_nothing_is_measured_when_the_peaks_stay_under_the_ceiling() -> None:
    quiet_peaks = Loudness(integrated=-20.3, true_peak=-12.0, loudness_range=5.0)
    curve = Limited(raw=quiet_peaks)
    gain, slope = find_gain(curve, quiet_peaks, TARGET, most=40.0, per_round=2)
    assert curve.calls == []
    assert gain == pytest.approx(TARGET - quiet_peaks.integrated)
    assert slope == 1.0


def test_no_gain_past_the_most_is_measured() -> None:
    curve = Limited(soft=2.0)
    most = 6.0  # the limiting cap: reaching the target would take more
    gain, _ = find_gain(curve, RAW, TARGET, most=most, per_round=2)
    assert curve.calls, "the gain was searched"
    assert max(g for call in curve.calls for g in call) <= most
    assert gain >= most  # the caller caps it, and says the session is quieter than asked


def test_a_bracketed_target_is_interpolated_even_when_one_gain_is_close_enough() -> None:
    # The first gain of the round lands within PCM_TOLERANCE, short of the target,
    # and the second overshoots: the interpolated gain is nearer than either, so the
    # codec's own shift (about 0.4 LU for MP3) comes on top of less.
    curve = Limited(soft=8.0, kept=0.95)  # a gentle limiter: the first gain loses 0.1 LU
    gain, _ = find_gain(curve, RAW, TARGET, most=40.0, per_round=2)
    (low, high), *_ = curve.calls
    assert curve.exact(low) < TARGET < curve.exact(high)
    assert abs(curve.exact(low) - TARGET) <= PCM_TOLERANCE
    assert low < gain < high
    assert abs(curve.exact(gain) - TARGET) < abs(curve.exact(low) - TARGET)
