"""Where the MP3 path cuts silence out before encoding (voiceguide/encode/mp3/splice.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeEngine
from voiceguide.build.session import SessionOptions, prepare
from voiceguide.encode.export import MP3_FRAME
from voiceguide.encode.mp3.splice import (
    ENCODER_DELAY,
    LEAD,
    MIN_CUT_FRAMES,
    PADDING_PERIOD,
    SETTLE,
    SPLIT_ROOM,
    Cut,
    NotSpliceable,
    plan_cuts,
    shortened,
    splice,
)
from voiceguide.sound.render import render
from voiceguide.units import SAMPLE_WIDTH


def test_cuts_lie_deep_inside_pauses_on_frame_boundaries() -> None:
    timeline = prepare(SessionOptions(hold=300.0), FakeEngine()).timeline
    cuts = plan_cuts(timeline)
    pauses = [e for e in timeline.events if e.kind == "pause"]
    for cut in cuts:
        (pause,) = [p for p in pauses if p.start <= cut.at < p.end]
        assert cut.at - pause.start >= SETTLE
        assert pause.end - (cut.at + cut.length) >= LEAD
        assert (cut.at + ENCODER_DELAY) % MP3_FRAME == 0  # a frame boundary of the stream
        assert cut.frames >= MIN_CUT_FRAMES
    # Every pause with room for a cut loses all the frames it can (what it keeps
    # past SETTLE and LEAD is less than a frame for the frame boundary, and less
    # than a frame left over), but one, which keeps room for a second encoder.
    kept = []
    for pause in pauses:
        cut_here = sum(c.length for c in cuts if pause.start <= c.at < pause.end)
        left = pause.length - SETTLE - LEAD - cut_here
        if cut_here == 0:
            assert left < (MIN_CUT_FRAMES + 1) * MP3_FRAME
        elif left >= 2 * MP3_FRAME:
            kept.append(pause)
            assert left < SPLIT_ROOM - LEAD + 2 * MP3_FRAME
    (roomy,) = kept
    after = max((c.at + c.length for c in cuts if roomy.start <= c.at < roomy.end), default=0)
    assert roomy.end - after >= SPLIT_ROOM
    assert sum(c.length for c in cuts) > timeline.length / 3  # five-minute holds: mostly quiet


def test_the_shortened_session_keeps_every_sound() -> None:
    prepared = prepare(SessionOptions(hold=300.0), FakeEngine())
    timeline = prepared.timeline
    cuts = plan_cuts(timeline)
    short = shortened(timeline, cuts)
    assert short.length == timeline.length - sum(c.length for c in cuts)
    position = 0
    for full, event in zip(timeline.events, short.events, strict=True):
        assert event.start == position
        assert (event.kind, event.role, event.text) == (full.kind, full.role, full.text)
        if full.kind != "pause":
            assert event.length == full.length
        position = event.end
    full_pcm = b"".join(render(timeline, prepared.speech, prepared.chimes))
    short_pcm = b"".join(render(short, prepared.speech, prepared.chimes))
    # Taking the cut samples out of the whole session gives the shortened one.
    kept, last = [], 0
    for cut in cuts:
        kept.append(full_pcm[last * SAMPLE_WIDTH : cut.at * SAMPLE_WIDTH])
        assert full_pcm[cut.at * SAMPLE_WIDTH : (cut.at + cut.length) * SAMPLE_WIDTH] == bytes(
            cut.length * SAMPLE_WIDTH
        )
        last = cut.at + cut.length
    kept.append(full_pcm[last * SAMPLE_WIDTH :])
    assert b"".join(kept) == short_pcm


def test_a_cut_outside_a_pause_is_refused() -> None:
    timeline = prepare(SessionOptions(hold=30.0), FakeEngine()).timeline
    speech = next(e for e in timeline.events if e.kind == "speech")
    with pytest.raises(ValueError, match="not inside a pause"):
        shortened(timeline, (Cut(speech.start, PADDING_PERIOD),))
    with pytest.raises(ValueError, match="past the end"):
        shortened(timeline, (Cut(timeline.length + 1, PADDING_PERIOD),))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an mp3 at all" * 100,
        b"ID3\x03\x00\x00\x00\x00\x00\x05hello" + b"\xff\xfb\x90\xc4" + bytes(413),  # one frame
        b"\xff\xfb\x90\xc4" + bytes(413) + b"\xff\xfb\x90\xc4" + bytes(200),  # a torn frame
        (b"\xff\xfb\x90\xc4" + bytes(413)) * 3,  # no Xing/LAME header
    ],
)
def test_a_file_that_is_not_as_expected_is_not_spliced(tmp_path: Path, data: bytes) -> None:
    source = tmp_path / "short.mp3"
    source.write_bytes(data)
    with pytest.raises(NotSpliceable):
        splice(source, (), tmp_path / "out.mp3")
    assert not (tmp_path / "out.mp3").exists()


def test_the_smallest_cut_holds_the_meters_ringing() -> None:
    from voiceguide.encode.bs1770 import TAPS

    # The meter plays the K-weighting's ringing out into a cut it puts back.
    assert MIN_CUT_FRAMES * MP3_FRAME >= TAPS - 1
