"""A look-ahead peak limiter, computed on a whole sound at once with numpy.

The gain a sample needs (never above 1) is held over :data:`HOLD` samples either
side, then smoothed by two centred moving averages of :data:`SMOOTH` samples: a
triangle that reaches no further than the hold, so every sample is held at or
below the ceiling, and the gain falls and rises over about 20 ms, with nothing
added or moved in time. Speech gets its peaks trimmed by a few dB at most (the
levelling caps it at 12), which this does without audible pumping.

A sound is limited alone, with no state from the sounds before it: sounds in a
session are apart by more silence than the limiter reaches, so the session
limited sound by sound is the session limited whole (and each sound can be
levelled once, whatever is around it).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voiceguide.units import SAMPLE_RATE

HOLD = SAMPLE_RATE // 50  # 20 ms either side of a peak
SMOOTH = 2 * (HOLD // 4) + 1  # each of the two moving averages: half the hold, odd
REACH = HOLD + 2 * (SMOOTH // 2)  # samples either side of a peak the gain may change

Float64 = npt.NDArray[np.float64]


def gain_envelope(samples: Float64, ceiling: float) -> Float64 | None:
    """The limiter's gain for each sample (at most 1), or None where no sample passes
    ``ceiling`` (linear, full scale 1.0).

    The gain is 1 further than :data:`REACH` from every sample over the ceiling, so it
    is computed only around those, a stretch at a time (which gives the same values
    as computing it everywhere: the gain needed there is 1 as well)."""
    (over,) = np.nonzero(np.abs(samples) > ceiling)
    if over.size == 0:
        return None
    envelope = np.ones(len(samples))
    reach = REACH + 1
    breaks = np.flatnonzero(np.diff(over) > 2 * reach) + 1
    for first, last in zip(over[np.r_[0, breaks]], over[np.r_[breaks - 1, -1]], strict=True):
        start, end = max(0, first - reach), min(len(samples), last + reach + 1)
        magnitude = np.abs(samples[start:end])
        with np.errstate(divide="ignore"):
            needed = np.minimum(1.0, ceiling / magnitude)
        held = _sliding_min(needed, 2 * HOLD + 1)
        envelope[start:end] = np.minimum(_moving_average(_moving_average(held)), needed)
    return envelope


def _sliding_min(values: Float64, width: int) -> Float64:
    """The minimum over a centred window of odd ``width`` (1 past the ends), in O(n):
    van Herk and Gil-Werman's prefix and suffix minima over blocks of ``width``."""
    half = width // 2
    padded = np.concatenate(
        (np.ones(half), values, np.ones(half + (-len(values) - 2 * half) % width))
    )
    blocks = padded.reshape(-1, width)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    n = len(values)
    result: Float64 = np.minimum(suffix[:n], prefix[width - 1 : width - 1 + n])
    return result


def _moving_average(values: Float64) -> Float64:
    """The centred mean over :data:`SMOOTH` samples (1 past the ends)."""
    half = SMOOTH // 2
    padded = np.concatenate((np.ones(half + 1), values, np.ones(half)))
    sums = np.cumsum(padded)
    result: Float64 = (sums[SMOOTH:] - sums[:-SMOOTH]) / SMOOTH
    return result
