"""Render a timeline into PCM, streamed block by block.

The timeline's events tile the session exactly, so rendering is a walk along
them: each clip's samples, or silence for a pause. Nothing is joined in memory.
Layers under the voice (pacer, background bed), if any, are added to each block
as it passes (see :mod:`voiceguide.sound.mix`); without them the voice track is
streamed untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

from pydub import AudioSegment

from voiceguide.errors import PlanError
from voiceguide.plan.timeline import Timeline
from voiceguide.sound.audio import samples
from voiceguide.units import SAMPLE_RATE, SAMPLE_WIDTH

BLOCK = SAMPLE_RATE  # samples of silence per block: one second
_SILENCE = bytes(BLOCK * SAMPLE_WIDTH)


def silence(length: int) -> Iterator[bytes]:
    """``length`` samples of digital silence, in blocks."""
    whole, rest = divmod(length, BLOCK)
    for _ in range(whole):
        yield _SILENCE
    if rest:
        yield _SILENCE[: rest * SAMPLE_WIDTH]


class Layers(Protocol):
    """Sounds mixed under the voice track (:class:`voiceguide.sound.mix.Mixer`)."""

    def mix(self, block: bytes, start: int) -> bytes:
        """``block`` of the voice track, from sample ``start``, with the layers added."""
        ...

    def levelled(self, gain: float, ceiling: float) -> Layers:
        """The layers under the voice levelled at ``gain`` dB, peaks at ``ceiling`` dBFS."""
        ...


def render(
    timeline: Timeline,
    speech: Mapping[str, AudioSegment],
    chimes: Mapping[str, AudioSegment],
    layers: Layers | None = None,
) -> Iterator[bytes]:
    """The session as signed 16-bit mono PCM at the session rate, in order, with
    ``layers`` mixed under the voice."""
    pcm = voice_track(timeline, speech, chimes)
    return pcm if layers is None else with_layers(pcm, layers)


def with_layers(pcm: Iterable[bytes], layers: Layers) -> Iterator[bytes]:
    """The voice track ``pcm`` with ``layers`` mixed under it."""
    position = 0
    for block in pcm:
        yield layers.mix(block, position)
        position += len(block) // SAMPLE_WIDTH


def span(pcm: Iterable[bytes], start: int, end: int) -> Iterator[bytes]:
    """Samples ``start`` to ``end`` (not included) of the PCM stream ``pcm``."""
    position = 0
    for block in pcm:
        length = len(block) // SAMPLE_WIDTH
        if position + length > start:
            yield block[max(0, start - position) * SAMPLE_WIDTH : (end - position) * SAMPLE_WIDTH]
        position += length
        if position >= end:
            return


def voice_track(
    timeline: Timeline,
    speech: Mapping[str, AudioSegment],
    chimes: Mapping[str, AudioSegment],
) -> Iterator[bytes]:
    """The speech and chimes of the session, and silence between them, in order."""
    position = 0
    for event in timeline.events:
        if event.start != position:
            raise PlanError(f"internal error: timeline gap or overlap at sample {position}")
        if event.kind == "pause":
            yield from silence(event.length)
        else:
            audio = speech[event.text] if event.kind == "speech" else chimes[event.role]
            if samples(audio) != event.length:
                raise PlanError(
                    f"internal error: clip for {event.text or event.role!r} has "
                    f"{samples(audio)} samples, the timeline planned {event.length}"
                )
            yield (audio.apply_gain(event.gain) if event.gain else audio).raw_data
        position = event.end
