"""A session's loudness found from its plan, at any gain and limiter ceiling.

Each island of sound (:mod:`voiceguide.sound.islands`) is K-weighted
(:mod:`voiceguide.encode.bs1770`), levelled as it would be rendered, and its energy
added into the session's 100 ms steps at its place; silence, which the gate leaves
out, costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

from voiceguide.encode.bs1770 import TAPS, Energies, k_weighted
from voiceguide.encode.meter import Loudness
from voiceguide.encode.truepeak import to_dbtp
from voiceguide.plan.timeline import Timeline
from voiceguide.progress import Progress, no_progress
from voiceguide.sound.islands import CHUNK, Sounds, islands, level

Float64 = npt.NDArray[np.float64]


class VoiceLoudness:
    """The loudness of a timeline's sounds at any gain, limited at a ceiling, from
    their islands. Nothing per sample is kept between passes: a pass over the islands
    K-weights them a chunk at a time, so its memory does not grow with the session.
    The first pass keeps each island's energy per 100 ms step; at a gain where the
    limiter leaves an island alone, that energy, scaled, is the island's."""

    def __init__(self, sounds: Sounds, timeline: Timeline, progress: Progress = no_progress):
        self.sounds = sounds
        self.length = timeline.length
        self.islands = islands(timeline)
        self.progress = progress
        self._steps: list[Energies] = []  # each island's, at gain 0, unlimited
        self._peaks: list[float] = []

    def raw(self) -> Loudness:
        """Before levelling: loudness, sample peak (dBFS) and range."""
        total = Energies(self.length)
        for island in self.islands:
            alone = Energies(island.length + TAPS, offset=island.start)
            peak = 0.0
            for first, last, begin, end in _chunks(island.length):
                samples = self.sounds.raw(island, begin, end)
                peak = max(peak, float(np.abs(samples).max(initial=0.0)))
                _weigh(samples, begin, first, last, alone, island.start)
            self._steps.append(alone)
            self._peaks.append(peak)
            total.add_energies(alone)
            self.progress("loudness", island.end, self.length)
        return Loudness(
            total.integrated(), to_dbtp(max(self._peaks, default=0.0)), total.loudness_range()
        )

    def each(self, gains: Sequence[float], ceiling: float) -> list[float]:
        """Integrated loudness at each of ``gains`` (dB), limited at ``ceiling`` dBFS,
        in one pass over the islands."""
        if not self._steps:
            self.raw()
        limit = 10 ** (ceiling / 20)
        totals = [Energies(self.length) for _ in gains]
        for island, alone, peak in zip(self.islands, self._steps, self._peaks, strict=True):
            limited = []
            for gain, total in zip(gains, totals, strict=True):
                scale = 10 ** (gain / 20)
                if peak * scale <= limit:  # the limiter leaves it alone
                    total.add_energies(alone, scale * scale)
                else:
                    limited.append((gain, total))
            if not limited:
                continue
            for first, last, begin, end in _chunks(island.length):
                wide, at = self.sounds.with_reach(island, begin, end)  # once for every gain
                for gain, total in limited:
                    samples = level(wide, gain, ceiling)[at : at + end - begin]
                    _weigh(samples, begin, first, last, total, island.start)
        return [total.integrated() for total in totals]


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
