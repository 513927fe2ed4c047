"""A session's sounds, grouped into islands in its silence, and levelled one by one.

An island is a run of sounds (speech and chimes) with less than :data:`MARGIN`
samples of silence between any two of them; islands have at least that much
silence between them. What is done to a sound within that reach (the K-weighting
of the loudness meter, which rings on for 93 ms, and the limiter, which looks
20 ms ahead and behind) never spills into another island, so each island can be
measured and levelled alone, and once: the same island at another place (in the
session with its long silences cut short) is the same samples.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydub import AudioSegment

from voiceguide.plan.timeline import Event, Timeline
from voiceguide.sound.limiter import REACH, gain_envelope
from voiceguide.sound.render import silence

MARGIN = 4096  # samples: at least the K-weighting's ringing (bs1770.TAPS) and the limiter's reach
assert MARGIN >= 2 * REACH
FULL_SCALE = 32768.0

Float64 = npt.NDArray[np.float64]
#: A sound in an island: its offset in the island, its kind, its text or role, its gain (dB).
Part = tuple[int, str, str, float]


@dataclass(frozen=True)
class Island:
    start: int  # in the timeline it was found in
    length: int
    parts: tuple[Part, ...]  # what it holds, relative to its start: the same anywhere

    @property
    def end(self) -> int:
        return self.start + self.length


def islands(timeline: Timeline) -> list[Island]:
    """The timeline's sounds, grouped into islands, in order."""
    found: list[Island] = []
    group: list[Event] = []

    def close() -> None:
        start = group[0].start
        end = max(e.end for e in group)
        parts = tuple(
            (e.start - start, e.kind, e.text if e.kind == "speech" else e.role, e.gain)
            for e in group
        )
        found.append(Island(start, end - start, parts))

    for event in timeline.events:
        if event.kind == "pause" or event.length == 0:
            continue
        if group and event.start >= max(e.end for e in group) + MARGIN:
            close()
            group = []
        group.append(event)
    if group:
        close()
    return found


class Sounds:
    """The samples of a session's islands, levelled at a gain and ceiling on request
    (each island computed once per gain and ceiling)."""

    def __init__(
        self, speech: Mapping[str, AudioSegment], chimes: Mapping[str, AudioSegment]
    ) -> None:
        self.speech = speech
        self.chimes = chimes
        self._raw: dict[tuple[int, tuple[Part, ...]], Float64] = {}
        self._levelled: dict[tuple[tuple[Part, ...], float, float], bytes] = {}

    def raw(self, island: Island) -> Float64:
        """The island's samples as floats, full scale 1.0, before levelling."""
        key = (island.length, island.parts)
        if key not in self._raw:
            out = np.zeros(island.length)
            for offset, kind, name, gain in island.parts:
                audio = self.speech[name] if kind == "speech" else self.chimes[name]
                pcm = (audio.apply_gain(gain) if gain else audio).raw_data
                clip = np.frombuffer(pcm, dtype="<i2") / FULL_SCALE
                out[offset : offset + len(clip)] += clip
            self._raw[key] = out
        return self._raw[key]

    def levelled(
        self, island: Island, gain: float, ceiling: float
    ) -> tuple[Float64, Float64 | None]:
        """The island at ``gain`` dB, as floats, and the limiter's envelope (None where
        no sample passes ``ceiling`` dBFS, so none is limited)."""
        scaled = self.raw(island) * 10 ** (gain / 20)
        envelope = gain_envelope(scaled, 10 ** (ceiling / 20))
        return (scaled if envelope is None else scaled * envelope), envelope

    def pcm(self, island: Island, gain: float, ceiling: float) -> bytes:
        """The island levelled, as 16-bit PCM."""
        key = (island.parts, gain, ceiling)
        if key not in self._levelled:
            samples, _ = self.levelled(island, gain, ceiling)
            scaled = np.rint(samples * FULL_SCALE)
            self._levelled[key] = (
                np.clip(scaled, -FULL_SCALE, FULL_SCALE - 1).astype("<i2").tobytes()
            )
        return self._levelled[key]

    def render(self, timeline: Timeline, gain: float, ceiling: float) -> Iterator[bytes]:
        """The timeline's voice track (speech and chimes), levelled, as 16-bit PCM."""
        position = 0
        for island in islands(timeline):
            yield from silence(island.start - position)
            yield self.pcm(island, gain, ceiling)
            position = island.end
        yield from silence(timeline.length - position)

    def peak(self, timeline: Timeline) -> float:
        """The largest sample (linear) of the timeline's sounds, before levelling."""
        return max((float(np.abs(self.raw(i)).max()) for i in islands(timeline)), default=0.0)
