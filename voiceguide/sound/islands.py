"""A session's sounds, grouped into islands in its silence, and levelled one by one.

An island is a run of sounds (speech and chimes) with less than :data:`MARGIN`
samples of silence between any two of them; islands have at least that much
silence between them. What is done to a sound within that reach (the K-weighting
of the loudness meter, which rings on for 93 ms, and the limiter, which looks
20 ms ahead and behind) never spills into another island, so each island can be
measured and levelled alone: the same island at another place (in the session with
its long silences cut short) is the same samples.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydub import AudioSegment

from voiceguide.errors import PlanError
from voiceguide.plan.timeline import Event, Timeline
from voiceguide.sound.limiter import REACH, gain_envelope
from voiceguide.sound.render import silence
from voiceguide.sound.resample import to_pcm16
from voiceguide.sound.sounds import from_pcm
from voiceguide.speech.clips import clip_digest, digest
from voiceguide.units import SAMPLE_WIDTH

CHUNK = 1 << 17  # samples (3 s) of an island levelled at a time
MARGIN = 4096  # samples: at least the K-weighting's ringing (bs1770.TAPS) and the limiter's reach
assert MARGIN >= 2 * REACH
#: Bump when what :meth:`Sounds.render` makes of the same sounds changes (how a sound is
#: levelled, limited or turned into PCM): files encoded from its PCM are kept by it
#: (voiceguide/encode/kept.py), and tests/unit/test_kept.py pins a render's digest.
RENDER = 1

Float64 = npt.NDArray[np.float64]
#: A sound in an island: its offset in the island, its kind, its text or role, its gain
#: (dB) and its length.
Part = tuple[int, str, str, float, int]


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
            (e.start - start, e.kind, e.text if e.kind == "speech" else e.role, e.gain, e.length)
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


def level(samples: Float64, gain: float, ceiling: float) -> Float64:
    """``samples`` at ``gain`` dB, their peaks limited to ``ceiling`` dBFS."""
    scaled = samples * 10 ** (gain / 20)
    envelope = gain_envelope(scaled, 10 ** (ceiling / 20))
    if envelope is not None:
        scaled *= envelope
    return scaled


class Sounds:
    """The samples of a session's islands, levelled at a gain and ceiling on request.

    Nothing is kept: a stretch of an island is made from its clips when it is asked
    for, a :data:`CHUNK` at most at a time, so a session's sounds are held once, as
    their clips, and the work in hand stays small whatever their length."""

    def __init__(
        self, speech: Mapping[str, AudioSegment], chimes: Mapping[str, AudioSegment]
    ) -> None:
        self.speech = speech
        self.chimes = chimes
        self._chime_digests: dict[str, str] = {}

    def digest(self, kind: str, name: str) -> str:
        """A digest of the samples of a sound: the clip for a text, or a chime."""
        if kind == "speech":
            return clip_digest(self.speech, name)
        if name not in self._chime_digests:
            self._chime_digests[name] = digest(self.chimes[name])
        return self._chime_digests[name]

    def described(self, island: Island) -> list[tuple[int, str, str, float, int]]:
        """The island's parts, each sound named by its digest: what its samples are
        made from, wherever it lies."""
        return [
            (offset, kind, self.digest(kind, name), gain, length)
            for offset, kind, name, gain, length in island.parts
        ]

    def raw(self, island: Island, begin: int = 0, end: int | None = None) -> Float64:
        """Samples ``begin`` to ``end`` of the island as floats (full scale 1.0), before
        levelling."""
        end = island.length if end is None else end
        out = np.zeros(end - begin)
        for offset, kind, name, gain, length in island.parts:
            if offset >= end or offset + length <= begin:
                continue
            audio = self.speech[name] if kind == "speech" else self.chimes[name]
            if len(audio.raw_data) != length * SAMPLE_WIDTH:
                raise PlanError(
                    f"internal error: clip for {name!r} has {len(audio.raw_data) // SAMPLE_WIDTH}"
                    f" samples, the timeline planned {length}"
                )
            a, b = max(begin, offset), min(end, offset + length)
            pcm = audio._spawn(
                audio.raw_data[(a - offset) * SAMPLE_WIDTH : (b - offset) * SAMPLE_WIDTH]
            )
            out[a - begin : b - begin] += from_pcm((pcm.apply_gain(gain) if gain else pcm).raw_data)
        return out

    def with_reach(self, island: Island, begin: int, end: int) -> tuple[Float64, int]:
        """Samples ``begin`` to ``end`` of the island, raw, with the :data:`REACH` either
        side that the limiter's gain there depends on (as far as the island goes); and
        where ``begin`` is in them."""
        wide_begin, wide_end = max(0, begin - REACH), min(island.length, end + REACH)
        return self.raw(island, wide_begin, wide_end), begin - wide_begin

    def levelled(
        self, island: Island, gain: float, ceiling: float, begin: int = 0, end: int | None = None
    ) -> Float64:
        """Samples ``begin`` to ``end`` of the island at ``gain`` dB, its peaks limited
        to ``ceiling`` dBFS, as floats."""
        end = island.length if end is None else end
        wide, at = self.with_reach(island, begin, end)
        return level(wide, gain, ceiling)[at : at + end - begin]

    def pcm(self, island: Island, gain: float, ceiling: float) -> Iterator[bytes]:
        """The island levelled, as 16-bit PCM, a :data:`CHUNK` at a time."""
        for begin in range(0, island.length, CHUNK):
            levelled = self.levelled(island, gain, ceiling, begin, begin + CHUNK)
            yield to_pcm16(levelled, overwrite=True)  # made for this, and of no more use

    def render(
        self,
        timeline: Timeline,
        gain: float,
        ceiling: float,
        start: int = 0,
        end: int | None = None,
    ) -> Iterator[bytes]:
        """Samples ``start`` to ``end`` (default: all) of the timeline's voice track
        (speech and chimes), levelled, as 16-bit PCM. Only the islands in that span
        are made."""
        end = timeline.length if end is None else end
        position = start
        for island in islands(timeline):
            if island.end <= start:
                continue
            if island.start >= end:
                break
            at = island.start
            for data in self.pcm(island, gain, ceiling):
                first, last = max(start, at), min(end, at + len(data) // SAMPLE_WIDTH)
                if last > first:
                    yield from silence(first - position)
                    yield data[(first - at) * SAMPLE_WIDTH : (last - at) * SAMPLE_WIDTH]
                    position = last
                at += len(data) // SAMPLE_WIDTH
        yield from silence(end - position)
