"""A session's loudness found from its plan, at any gain and limiter ceiling.

Each island of sound (:mod:`voiceguide.sound.islands`) is K-weighted
(:mod:`voiceguide.encode.bs1770`), levelled as it would be rendered, and its energy
added into the session's 100 ms steps at its place; silence, which the gate leaves
out, costs nothing.

The limiter changes an island only near its peaks: within :data:`REACH` of a
sample over the ceiling, and the K-weighting carries that on for :data:`TAPS`
samples. So at a gain where it works, only the steps it reaches are weighed
again (:func:`_reached`); every other step keeps its energy from the first pass,
scaled by the gain. The gain search does not weigh them again at all
(:meth:`VoiceLoudness.estimate`): it scales a reached step's energy by the share
of its plain energy the limiter leaves, which is within a hundredth of a LU on
speech and costs no K-weighting.

The first pass's figures for an island (its energy and sample peak per step) can
be kept in a store (the speech cache, :meth:`~voiceguide.speech.cache.ClipCache.put_figures`),
keyed by the digests of its sounds, where they lie in it, and where it lies in its
first 100 ms step: a build with the same islands at the same places within their
steps (the same session again, or with holds longer or shorter by whole tenths of
a second) reads them instead of weighing the islands again. What is read is what
was stored, to the bit, so the session is the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from voiceguide.encode.bs1770 import TAPS, Energies, bin_power, k_weighted
from voiceguide.encode.meter import Loudness
from voiceguide.encode.truepeak import to_dbtp
from voiceguide.plan.timeline import Timeline
from voiceguide.progress import Progress, no_progress
from voiceguide.sound.islands import CHUNK, Island, Sounds, islands
from voiceguide.sound.limiter import REACH, gain_envelope
from voiceguide.speech.cache import cache_key
from voiceguide.units import SAMPLE_RATE

# What _reached relies on: the limiter reaches into the steps either side at most,
# and with the K-weighting's ringing, two steps on.
assert REACH <= SAMPLE_RATE // 10
assert REACH + TAPS - 1 < 2 * (SAMPLE_RATE // 10)

Float64 = npt.NDArray[np.float64]
T = TypeVar("T")
FIGURES = 1  # bump when what is stored for an island changes (how it is weighed or stepped)


class FigureStore(Protocol):
    """Where an island's first-pass figures are kept between builds."""

    def get_figures(self, key: str) -> Any: ...  # a numpy array, or None

    def put_figures(self, key: str, figures: Any) -> None: ...


class VoiceLoudness:
    """The loudness of a timeline's sounds at any gain, limited at a ceiling, from
    their islands. Nothing per sample is kept between passes: a pass over the islands
    K-weights them a chunk at a time, so its memory does not grow with the session.
    The first pass keeps each island's energy and sample peak per 100 ms step; at any
    gain, a step the limiter does not reach keeps that energy, scaled."""

    def __init__(
        self,
        sounds: Sounds,
        timeline: Timeline,
        progress: Progress = no_progress,
        jobs: int = 1,
        store: FigureStore | None = None,
    ) -> None:
        self.sounds = sounds
        self.store = store
        self.length = timeline.length
        self.islands = islands(timeline)
        self.progress = progress
        self.jobs = jobs  # threads that weigh islands side by side
        self._steps: list[Energies] = []  # each island's, at gain 0, unlimited
        self._step_peaks: list[Float64] = []  # each island's sample peak in each step

    def raw(self) -> Loudness:
        """Before levelling: loudness, sample peak (dBFS) and range."""
        total = Energies(self.length)
        self._steps, self._step_peaks = [], []
        peak = 0.0
        for island, (alone, peaks) in zip(
            self.islands, self._each_island(self._raw_island), strict=True
        ):
            self._steps.append(alone)
            self._step_peaks.append(peaks)
            peak = max(peak, float(peaks.max(initial=0.0)))
            total.add_energies(alone)
            self.progress("loudness", island.end, self.length)
        return Loudness(total.integrated(), to_dbtp(peak), total.loudness_range())

    def each(self, gains: Sequence[float], ceiling: float) -> list[float]:
        """Integrated loudness at each of ``gains`` (dB), limited at ``ceiling`` dBFS,
        in one pass over the islands."""
        if not self._steps:
            self.raw()
        limit = 10 ** (ceiling / 20)

        def at_gains(index: int) -> list[Energies]:
            island, alone, peaks = self.islands[index], self._steps[index], self._step_peaks[index]
            found = []
            for gain in gains:
                over = peaks * 10 ** (gain / 20) > limit
                if over.any():
                    found.append(self._limited(island, alone, _reached(over), gain, ceiling))
                else:  # the limiter leaves it alone
                    found.append(alone.scaled(10 ** (gain / 10)))
            return found

        return self._integrated(self._each_island(at_gains), len(gains))

    def estimate(self, gains: Sequence[float], ceiling: float) -> list[float]:
        """Integrated loudness at each of ``gains`` (dB), limited at ``ceiling`` dBFS,
        estimated with no K-weighting: a step the limiter reaches keeps the share of
        its K-weighted energy that the limiter leaves of its plain energy (the sum of
        its squared samples). Exact where the limiter scales a step evenly; within
        0.01 LU of :meth:`each` on the built-in sessions, from the first gain the
        search tries to 8 dB past it (docs/design.md), at a quarter of the cost (the
        default session's two gains: 0.18 to 0.21 s against 0.84 to 0.90 s)."""
        if not self._steps:
            self.raw()
        limit = 10 ** (ceiling / 20)
        scales = [10 ** (gain / 20) for gain in gains]

        def at_gains(index: int) -> list[Energies]:
            alone = self._steps[index]
            shares = self._shares(index, scales, limit)
            found = []
            for scale, share in zip(scales, shares, strict=True):
                part = alone.scaled(scale * scale)
                if share is not None:
                    part.steps *= share
                found.append(part)
            return found

        # On this thread alone: the work is many small numpy steps, at which two threads
        # only take turns (the default session's two gains: 0.18 to 0.21 s on one
        # thread, 0.33 s on two).
        return self._integrated(map(at_gains, range(len(self.islands))), len(gains))

    def _integrated(self, islands: Iterable[list[Energies]], count: int) -> list[float]:
        """The integrated loudness of the session at each of ``count`` gains, from each
        island's energies at them (summed in island order)."""
        totals = [Energies(self.length) for _ in range(count)]
        for parts in islands:
            for total, part in zip(totals, parts, strict=True):
                total.add_energies(part)
        return [total.integrated() for total in totals]

    def _shares(self, index: int, scales: Sequence[float], limit: float) -> list[Float64 | None]:
        """For each of ``scales`` (linear gains), the share of each step's plain energy
        that the limiter leaves at ``limit``; None where it leaves the island alone."""
        island, alone, peaks = self.islands[index], self._steps[index], self._step_peaks[index]
        shares: list[Float64 | None] = [None] * len(scales)
        loudest = max(scales, default=0.0)
        over = peaks * loudest > limit  # the most the limiter reaches, at the largest gain
        if not over.any():
            return shares
        near = over.copy()  # it changes samples up to REACH (< a step) from one over
        near[1:] |= over[:-1]
        near[:-1] |= over[1:]
        step, origin = alone.step, island.start - alone.first * alone.step
        edges = np.flatnonzero(np.diff(np.r_[False, near, False]))
        for run_start, run_end in zip(edges[::2], edges[1::2], strict=True):
            begin = max(0, run_start * step - origin)
            end = min(island.length, run_end * step - origin)
            if begin >= end:
                continue
            samples = self.sounds.raw(island, begin, end)
            power = np.square(samples)
            plain = np.zeros(len(alone.steps))
            bin_power(plain, begin + origin, power, step)
            for i, scale in enumerate(scales):
                envelope = gain_envelope(samples * scale, limit)
                if envelope is None:
                    continue
                left = np.zeros(len(alone.steps))
                bin_power(left, begin + origin, power * np.square(envelope), step)
                share = shares[i]
                if share is None:
                    share = shares[i] = np.ones(len(alone.steps))
                kept = np.divide(left, plain, out=np.ones_like(plain), where=plain > 0)
                share[run_start:run_end] = kept[run_start:run_end]
        return shares

    def _each_island(self, work: Callable[[int], T]) -> Iterator[T]:
        """``work`` on each island's index, in order; with :attr:`jobs` threads, side by
        side (numpy lets go of the GIL for much of it). The sums stay in island order,
        so the result is the same to the bit either way."""
        indices = range(len(self.islands))
        if self.jobs < 2 or len(self.islands) < 2:
            yield from map(work, indices)
            return
        with ThreadPoolExecutor(self.jobs, thread_name_prefix="voiceguide-loudness") as pool:
            yield from pool.map(work, indices)

    def _raw_island(self, index: int) -> tuple[Energies, Float64]:
        """The island's energy and sample peak in each of its steps, before levelling:
        from the store where it holds them, else weighed (and stored)."""
        island, store = self.islands[index], self.store
        alone = Energies(island.length + TAPS, offset=island.start)
        if store is None:
            return alone, self._weigh_raw(island, alone)
        key = self._key(island, alone.step)
        stored = store.get_figures(key)
        if _fits(stored, len(alone.steps)):
            alone.steps = stored[0]
            return alone, stored[1]
        peaks = self._weigh_raw(island, alone)
        store.put_figures(key, np.stack((alone.steps, peaks)))
        return alone, peaks

    def _weigh_raw(self, island: Island, alone: Energies) -> Float64:
        """Weigh the island into ``alone``; its sample peak in each step."""
        peaks = np.zeros(len(alone.steps))
        for first, last, begin, end in _chunks(island.length):
            samples = self.sounds.raw(island, begin, end)
            at = island.start + begin - alone.first * alone.step
            _step_maxima(peaks, at, samples, alone.step)
            _weigh(samples, begin, first, last, alone, island.start)
        return peaks

    def _key(self, island: Island, step: int) -> str:
        """What an island's first-pass figures depend on: its sounds (by digest), where
        they are in it, and where it begins in its first step."""
        parts = self.sounds.described(island)
        return cache_key([FIGURES, TAPS, step, island.start % step, island.length, parts])

    def _limited(
        self, island: Island, alone: Energies, reached: npt.NDArray[np.bool_], gain: float,
        ceiling: float,
    ) -> Energies:  # fmt: skip
        """The island's energies at ``gain``, limited at ``ceiling``: the ``reached``
        steps weighed again, the rest scaled from ``alone``."""
        part = Energies(island.length + TAPS, offset=island.start)
        part.steps[:] = np.where(reached, 0.0, alone.steps * 10 ** (gain / 10))
        origin = island.start - alone.first * alone.step  # where the island is in its steps
        edges = np.flatnonzero(np.diff(np.r_[False, reached, False]))
        for run_start, run_end in zip(edges[::2], edges[1::2], strict=True):
            # The island's K-weighted output in these steps, and the input it needs.
            low = max(0, run_start * alone.step - origin)
            high = min(island.length + TAPS - 1, run_end * alone.step - origin)
            for first in range(low, high, CHUNK):
                last = min(first + CHUNK, high)
                begin, end = max(0, first - TAPS + 1), min(island.length, last)
                samples = self.sounds.levelled(island, gain, ceiling, begin, end)
                _weigh(samples, begin, first, last, part, island.start)
        return part


def _fits(stored: Any, steps: int) -> bool:
    """Whether ``stored`` is an island's figures for ``steps`` steps."""
    return (
        isinstance(stored, np.ndarray)
        and stored.dtype == np.float64
        and stored.shape == (2, steps)
        and bool(np.isfinite(stored).all())
    )


def _reached(over: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The steps whose K-weighted energy the limiter may change, given the steps
    with a sample ``over`` the ceiling: it changes samples up to :data:`REACH` from
    one (the step before to the step after), and the K-weighting carries each
    change on for :data:`TAPS` - 1 samples (into the step after that)."""
    reached = over.copy()
    reached[:-1] |= over[1:]
    for shift in (1, 2):
        reached[shift:] |= over[:-shift]
    return reached


def _step_maxima(peaks: Float64, start: int, samples: Float64, step: int) -> None:
    """Raise ``peaks`` (per 100 ms step) to the largest magnitude of ``samples``, which
    begin ``start`` samples into the first step."""
    if len(samples) == 0:
        return
    first = start // step
    edges = np.arange((first + 1) * step, start + len(samples), step) - start
    maxima = np.maximum.reduceat(np.abs(samples), np.concatenate(([0], edges)))
    np.maximum(peaks[first : first + len(maxima)], maxima, out=peaks[first : first + len(maxima)])


def _chunks(length: int) -> Iterator[tuple[int, int, int, int]]:
    """For each :data:`CHUNK` of K-weighted output ``[first, last)`` of an island of
    ``length`` samples (with its ringing), the input it needs, ``[begin, end)``."""
    for first in range(0, length + TAPS - 1, CHUNK):
        last = min(first + CHUNK, length + TAPS - 1)
        yield first, last, max(0, first - TAPS + 1), min(length, last)


def _weigh(
    samples: Float64, begin: int, first: int, last: int, energies: Energies, start: int
) -> None:
    """Add the energy of K-weighted samples ``first`` to ``last`` of an island at
    sample ``start``, from its ``samples`` from ``begin`` on (the input they need)."""
    inputs = np.zeros(last - first + TAPS - 1)
    at = begin - (first - TAPS + 1)  # where the island's samples begin in the inputs
    inputs[at : at + len(samples)] = samples
    energies.add_weighted(start + first, k_weighted(inputs)[TAPS - 1 : TAPS - 1 + last - first])
