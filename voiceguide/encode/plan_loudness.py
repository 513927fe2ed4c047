"""A session's loudness found from its plan, at any gain and limiter ceiling.

Each island of sound (:mod:`voiceguide.sound.islands`) is K-weighted once
(:mod:`voiceguide.encode.bs1770`), and its energy added into the session's 100 ms
steps at its place; silence, which the gate leaves out, costs nothing. At a gain
where the limiter works, only what it takes away, where it works, is K-weighted
again: the filter is linear.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from voiceguide.encode.bs1770 import TAPS, Energies, k_weighted
from voiceguide.encode.meter import Loudness
from voiceguide.encode.truepeak import to_dbtp
from voiceguide.plan.timeline import Timeline
from voiceguide.progress import Progress, no_progress
from voiceguide.sound.islands import Sounds, islands


class VoiceLoudness:
    """The loudness of a timeline's sounds at any gain, limited at a ceiling, from
    their islands: each K-weighted once; those the limiter touches, again."""

    def __init__(self, sounds: Sounds, timeline: Timeline, progress: Progress = no_progress):
        self.sounds = sounds
        self.length = timeline.length
        self.islands = islands(timeline)
        # float32: the K-weighted islands are held through the search (the default
        # session's, 4 bytes a sample, about 35 MB); their rounding is far below 0.001 LU.
        self._weighted = []
        for island in self.islands:
            self._weighted.append(k_weighted(sounds.raw(island)).astype(np.float32))
            progress("loudness", island.end, self.length)

    def raw(self) -> Loudness:
        """Before levelling: loudness, sample peak (dBFS) and range."""
        energies = self._energies(0.0, None)
        peak = max((float(np.abs(self.sounds.raw(i)).max()) for i in self.islands), default=0.0)
        return Loudness(energies.integrated(), to_dbtp(peak), energies.loudness_range())

    def at(self, gain: float, ceiling: float | None) -> float:
        """Integrated loudness at ``gain`` dB, limited at ``ceiling`` dBFS (None: not)."""
        return self._energies(gain, ceiling).integrated()

    def _energies(self, gain: float, ceiling: float | None) -> Energies:
        energies = Energies(self.length)
        scale = 10 ** (gain / 20)
        for island, stored in zip(self.islands, self._weighted, strict=True):
            weighted = stored.astype(np.float64) * scale
            envelope = None
            if ceiling is not None:
                samples, envelope = self.sounds.levelled(island, gain, ceiling)
            if envelope is None:
                energies.add_weighted(island.start, weighted)
            else:
                energies.add_weighted(island.start, _limited(weighted, samples, envelope))
        return energies


def _limited(
    weighted: npt.NDArray[np.float64],
    limited: npt.NDArray[np.float64],
    envelope: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The K-weighting of ``limited`` (samples times ``envelope``), given that of the
    samples (``weighted``): the filter is linear, so only what the limiter took away,
    where it worked, is K-weighted and subtracted."""
    working = envelope < 1.0
    changes = np.flatnonzero(np.diff(working.astype(np.int8))) + 1
    bounds = np.concatenate(([0], changes, [len(working)]))
    runs = [(a, b) for a, b in itertools.pairwise(bounds) if working[a]]
    merged: list[list[int]] = []
    for a, b in runs:  # runs closer than the filter's ringing are weighted together
        if merged and a - merged[-1][1] < TAPS:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    taken = limited / envelope - limited  # the samples before the limiter, less after
    for a, b in merged:
        weighted[a : b + TAPS - 1] -= k_weighted(taken[a:b])
    return weighted
