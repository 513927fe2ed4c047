"""Where two encoders share the encode of the short render (voiceguide/encode/mp3/split.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import FakeEngine
from voiceguide.build.session import SessionOptions, prepare
from voiceguide.encode.export import MP3_FRAME
from voiceguide.encode.mp3.splice import (
    ENCODER_DELAY,
    FRESH,
    PERIOD_SAMPLES,
    SETTLED,
    NotSpliceable,
    plan_cuts,
)
from voiceguide.encode.mp3.splice import shortened as cut_short
from voiceguide.encode.mp3.split import CHECK, Split, join, plan_split
from voiceguide.plan.timeline import Event, Timeline
from voiceguide.sound.render import BLOCK, render, span
from voiceguide.units import SAMPLE_WIDTH, to_samples


def short_session(hold: float) -> Timeline:
    timeline = prepare(SessionOptions(hold=hold), FakeEngine()).timeline
    return cut_short(timeline, plan_cuts(timeline))


@pytest.mark.parametrize("hold", [60.0, 300.0, 1740.0])
def test_the_split_lies_in_a_silence_and_lines_up_with_the_stream(hold: float) -> None:
    short = short_session(hold)
    split = plan_split(short)
    assert split is not None
    # B starts a whole number of padding periods into A's stream: on a frame boundary.
    assert split.start % PERIOD_SAMPLES == 0
    assert split.start % MP3_FRAME == 0
    assert split.period * MP3_FRAME == split.start
    events = short.events
    (index,) = [i for i, e in enumerate(events) if e.start <= split.start < e.end]
    silence_start = silence_end = index
    while silence_start > 0 and events[silence_start - 1].kind == "pause":
        silence_start -= 1
    while events[silence_end].kind == "pause":
        silence_end += 1
    begin, stop = events[silence_start].start, events[silence_end].start
    assert events[index].kind == "pause"
    assert split.start - begin >= SETTLED  # A has settled into the silence
    assert stop - split.start >= FRESH  # so has B, before the next sound
    assert split.end == stop + CHECK  # A goes on into the sound, to compare
    # The frames from B's first to the join are both encoders', the sound's first among them.
    assert split.period < split.join
    assert (split.join + 1) * MP3_FRAME - ENCODER_DELAY > stop
    assert split.join * MP3_FRAME - ENCODER_DELAY < split.end
    # The two parts are about even: neither is much more than half the work.
    assert max(split.end, short.length - split.start) < 0.6 * short.length


def alternating(pause: int, count: int) -> tuple[Event, ...]:
    """A second of speech and ``pause`` samples of silence, ``count`` times."""
    events, position = [], 0
    for index in range(count):
        events.append(Event("speech", position, to_samples(1.0), "step", f"line {index}"))
        events.append(Event("pause", position + to_samples(1.0), pause, "gap"))
        position = events[-1].end
    return tuple(events)


def test_no_split_where_no_silence_suits() -> None:
    short = short_session(60.0)
    # Silences with room to settle both encoders, and ones without.
    roomy = alternating(SETTLED + FRESH + PERIOD_SAMPLES, 40)
    assert plan_split(replace(short, events=roomy)) is not None
    cramped = alternating(SETTLED + FRESH - 1, 40)
    assert plan_split(replace(short, events=cramped)) is None
    # A render too short to be worth a second encoder.
    assert plan_split(replace(short, events=roomy[:4])) is None


def test_a_span_of_the_render_is_those_samples() -> None:
    prepared = prepare(SessionOptions(hold=30.0), FakeEngine())
    whole = b"".join(render(prepared.timeline, prepared.speech, prepared.chimes))
    total = len(whole) // SAMPLE_WIDTH
    for start, end in [(0, total), (0, 1), (BLOCK - 1, BLOCK + 1), (12345, total), (777, 99999)]:
        pcm = render(prepared.timeline, prepared.speech, prepared.chimes)
        part = b"".join(span(pcm, start, end))
        assert part == whole[start * SAMPLE_WIDTH : end * SAMPLE_WIDTH]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an mp3 at all" * 100,
        (b"\xff\xfb\x90\xc4" + bytes(413)) * 3,  # no Xing/LAME header
    ],
)
def test_files_that_are_not_as_expected_are_not_joined(tmp_path: Path, data: bytes) -> None:
    first, second = tmp_path / "a.mp3", tmp_path / "b.mp3"
    first.write_bytes(data)
    second.write_bytes(data)
    with pytest.raises(NotSpliceable):
        join(first, second, Split(PERIOD_SAMPLES, 2 * PERIOD_SAMPLES), 10**6, tmp_path / "c.mp3")
    assert not (tmp_path / "c.mp3").exists()
