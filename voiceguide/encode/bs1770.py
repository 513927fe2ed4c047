"""Loudness the ITU-R BS.1770-4 / EBU R128 way, computed with numpy.

The signal is K-weighted (the Recommendation's two filters: a high shelf and the
RLB high-pass), and its energy summed into 100 ms steps (:class:`Energies`). From
those come the 400 ms gating blocks of the integrated loudness and the 3 s
windows of the loudness range (EBU Tech 3342).

The K-weighting filters are recursive, and their impulse response falls below
2e-11 of its start within :data:`TAPS` samples, so each is applied as that
impulse response, by FFT convolution, which numpy does in C. That makes two
things cheap:

- **Silence costs nothing.** A block of digital silence with no ringing left
  from the block before is skipped (MP3 silence decodes to exact zeros), and
  so are the denormal numbers a recursive filter decays into there.
- **Sounds can be K-weighted alone.** A sound followed by :data:`TAPS` samples
  of silence K-weights to the same samples whatever is around it, so a session's
  energies can be summed from its sounds' (:meth:`Energies.add_weighted`), with
  no pass over the whole session (:mod:`voiceguide.encode.plan_loudness`).

Mono is measured as dual mono, as heard on headphones (the same signal in both
ears, 3 LU above one channel alone); other layouts count each channel once. The
gating and the percentiles of the range go through a histogram of 0.01 LU bins,
as in ffmpeg's ``ebur128`` meter, so that a file reads the same in both.
"""

from __future__ import annotations

import copy
import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from voiceguide.units import SAMPLE_RATE

# Of the K-weighting's impulse response: the rest is below 2e-11 of its start at 44.1 kHz,
# 1e-10 at 48 kHz (the rates voiceguide writes; higher rates would need more).
TAPS = 4096
BLOCK_STEPS = 4  # a gating block: 400 ms
SHORT_TERM_STEPS = 30  # a short-term window: 3 s
ABSOLUTE_GATE = -70.0  # LUFS
RELATIVE_GATE = -10.0  # LU, for the integrated loudness
RANGE_GATE = -20.0  # LU, for the loudness range
SILENT = -70.0  # LUFS: what a session with no block above the gate reads, as ffmpeg says
# Loudness is gated and reported through a histogram of 0.01 LU bins, as ffmpeg's
# ``ebur128`` meter does, so that the two read the same (to the tenth ffmpeg prints).
GRAIN = 100
_FFT = 16384
_HOP = _FFT - TAPS + 1  # input samples per FFT block

Float64 = npt.NDArray[np.float64]


def _biquads(rate: int) -> tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]:
    """The two K-weighting filters at ``rate``, from their analogue prototypes (the
    coefficients BS.1770 tabulates for 48 kHz, as libebur128 derives them)."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = (
        ((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0),
        (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0),
    )
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    high_pass = ((1.0, -2.0, 1.0), (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0))
    return shelf, high_pass


@lru_cache(maxsize=2)
def impulse_response(rate: int = SAMPLE_RATE) -> Float64:
    """The K-weighting's first :data:`TAPS` samples of impulse response at ``rate``."""
    signal = [1.0] + [0.0] * (TAPS - 1)
    for b, a in _biquads(rate):
        x1 = x2 = y1 = y2 = 0.0
        out = []
        for x in signal:
            y = b[0] * x + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            x2, x1, y2, y1 = x1, x, y1, y
            out.append(y)
        signal = out
    return np.asarray(signal)


@lru_cache(maxsize=2)
def _spectrum(rate: int) -> npt.NDArray[np.complex128]:
    return np.fft.rfft(impulse_response(rate), _FFT)


def k_weighted(samples: npt.ArrayLike, rate: int = SAMPLE_RATE) -> Float64:
    """One channel K-weighted, with its ringing: ``len(samples) + TAPS - 1`` samples."""
    x = np.asarray(samples, dtype=np.float64)
    out = np.zeros(len(x) + TAPS - 1)
    for start in range(0, len(x), _HOP):
        block = x[start : start + _HOP]
        if not block.any():
            continue
        end = start + len(block) + TAPS - 1
        out[start:end] += _weighted_block(block, rate)[: end - start]
    return out


def _weighted_block(block: Float64, rate: int) -> Float64:
    """At most :data:`_HOP` samples (of one channel, or channels in columns) K-weighted
    by FFT, with their ringing: :data:`_FFT` samples."""
    spectrum = _spectrum(rate)
    if block.ndim > 1:
        spectrum = spectrum[:, None]
    result: Float64 = np.fft.irfft(np.fft.rfft(block, _FFT, axis=0) * spectrum, _FFT, axis=0)
    return result


class Energies:
    """The K-weighted energy of a signal in each 100 ms step from its start.

    Feed it the separate sounds of a session, K-weighted, at their places
    (:meth:`add_weighted`), or a whole signal through a :class:`StreamMeter`; then
    read the loudness.
    ``weight`` counts the channels: 2 measures mono as dual mono.
    """

    def __init__(
        self, length: int, weight: float = 2.0, rate: int = SAMPLE_RATE, offset: int = 0
    ) -> None:
        self.length = length  # samples
        self.weight = weight
        self.step = rate // 10  # samples in 100 ms (ffmpeg's meter takes whole samples too)
        # A part of a signal from sample ``offset`` on keeps the steps it falls in (its
        # first is step ``first`` of the signal): they add into the whole's.
        self.first = offset // self.step
        self.end = offset + length
        self.steps: Float64 = np.zeros(self.end // self.step - self.first + 1)

    def add_weighted(self, start: int, weighted: Float64) -> None:
        """Add the energy of K-weighted samples that begin at sample ``start``."""
        end = min(start + len(weighted), self.end)
        if end > start:
            shifted = start - self.first * self.step
            bin_power(self.steps, shifted, np.square(weighted[: end - start]), self.step)

    def scaled(self, factor: float) -> Energies:
        """These energies times ``factor`` (a gain, as a power ratio)."""
        result = copy.copy(self)
        result.steps = self.steps * factor
        return result

    def add_energies(self, part: Energies, factor: float = 1.0) -> None:
        """Add ``part``'s energies (a part of this signal), times ``factor``."""
        at = part.first - self.first
        count = min(len(part.steps), len(self.steps) - at)
        self.steps[at : at + count] += part.steps[:count] * factor

    def integrated(self) -> float:
        """Integrated loudness (LUFS), gated: :data:`SILENT` when nothing passes."""
        bins = _gated_bins(self._windows(BLOCK_STEPS), RELATIVE_GATE)
        if bins.size == 0:
            return SILENT
        return _lufs_of(float(np.mean(10 ** ((_level(bins) + 0.691) / 10))))

    def loudness_range(self) -> float:
        """Loudness range (LU), EBU Tech 3342: the spread, 10th to 95th percentile,
        of the gated short-term loudness, every 100 ms."""
        bins = np.sort(_gated_bins(self._windows(SHORT_TERM_STEPS), RANGE_GATE))
        if bins.size == 0:
            return 0.0
        # The nearest rank, as EBU Tech 3342's example code (and ffmpeg) count it.
        low = bins[max(int(0.10 * len(bins) + 0.5), 1) - 1]
        high = bins[max(int(0.95 * len(bins) + 0.5), 1) - 1]
        return float(_level(high) - _level(low))

    def _windows(self, steps: int) -> Float64:
        """The mean weighted power of every window of ``steps`` whole steps."""
        whole = self.length // self.step
        if whole < steps:
            return np.zeros(0)
        totals = np.convolve(self.steps[:whole], np.ones(steps), mode="valid")
        result: Float64 = totals * (self.weight / (steps * self.step))
        return result


def bin_power(steps: Float64, start: int, power: Float64, step: int) -> None:
    """Add per-sample ``power`` from sample ``start`` into ``steps`` of ``step`` samples."""
    if len(power) == 0:
        return
    first = start // step
    edges = np.arange((first + 1) * step, start + len(power), step) - start
    sums = np.add.reduceat(power, np.concatenate(([0], edges)))
    steps[first : first + len(sums)] += sums


def _gated_bins(power: Float64, relative: float) -> npt.NDArray[np.int64]:
    """The histogram bins (:data:`GRAIN` to the LU, from the absolute gate up) of the
    windows that pass both gates. As ffmpeg's meter does: the relative gate is
    ``relative`` below the mean power of the windows above the absolute gate, and a
    window whose bin is the gate's passes."""
    levels = _lufs(power)
    loud = levels >= ABSOLUTE_GATE
    if not loud.any():
        return np.zeros(0, dtype=np.int64)
    bins = np.floor((levels[loud] - ABSOLUTE_GATE) * GRAIN).astype(np.int64)
    gate = math.floor((_lufs_of(float(power[loud].mean())) + relative - ABSOLUTE_GATE) * GRAIN)
    passed: npt.NDArray[np.int64] = bins[bins >= max(gate, 0)]
    return passed


def _level(bins: npt.ArrayLike) -> Float64:
    """The loudness (LUFS) a histogram bin stands for: its lower edge."""
    result: Float64 = np.asarray(bins) / GRAIN + ABSOLUTE_GATE
    return result


def _lufs(power: Float64) -> Float64:
    with np.errstate(divide="ignore"):
        result: Float64 = -0.691 + 10 * np.log10(power)
    return result


def _lufs_of(power: float) -> float:
    return -0.691 + 10 * math.log10(power) if power > 0 else -math.inf


class StreamMeter:
    """:class:`Energies` of a signal given block by block (interleaved float
    channels): each block is K-weighted by FFT, and its ringing carried over."""

    def __init__(self, channels: int = 1, rate: int = SAMPLE_RATE) -> None:
        self.channels = channels
        self.rate = rate
        self._pending: Float64 = np.zeros((0, channels))
        self._ringing: Float64 = np.zeros((TAPS - 1, channels))
        self._steps: Float64 = np.zeros(1024)
        self._position = 0  # samples K-weighted and summed

    def add(self, samples: npt.ArrayLike) -> None:
        frames = np.asarray(samples, dtype=np.float64).reshape(-1, self.channels)
        self._pending = np.concatenate((self._pending, frames))
        while len(self._pending) >= _HOP:
            self._weigh(self._pending[:_HOP])
            self._pending = self._pending[_HOP:]

    def skip(self, length: int) -> None:
        """``length`` samples of digital silence, for nothing: the ringing of what came
        before plays out into it (``length`` must be at least :data:`TAPS`)."""
        self._flush()
        if self._ringing.any():
            self._weigh(np.zeros((TAPS - 1, self.channels)))
            length -= TAPS - 1
        self._ringing[:] = 0.0
        self._position += length

    def finish(self) -> Energies:
        """The energies of all that was added (the ringing past its end left out)."""
        self._flush()
        energies = Energies(self._position, 2.0 if self.channels == 1 else 1.0, self.rate)
        count = min(len(energies.steps), len(self._steps))
        energies.steps[:count] = self._steps[:count]
        return energies

    def _flush(self) -> None:
        """Weigh what is pending, short of a whole block as it may be."""
        if len(self._pending):
            self._weigh(self._pending)
            self._pending = np.zeros((0, self.channels))

    def _weigh(self, block: Float64) -> None:
        n = len(block)
        step = self.rate // 10
        needed = (self._position + n) // step + 2
        if needed > len(self._steps):
            self._steps = np.concatenate((self._steps, np.zeros(max(needed, len(self._steps)))))
        if block.any() or self._ringing.any():
            weighted = _weighted_block(block, self.rate)
            weighted[: TAPS - 1] += self._ringing
            self._ringing = weighted[n : n + TAPS - 1].copy()
            bin_power(self._steps, self._position, np.square(weighted[:n]).sum(axis=1), step)
        self._position += n
