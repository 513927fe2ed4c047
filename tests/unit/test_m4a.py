"""Where an M4A is cut in two for two AAC encoders, and how their frames are counted
and joined (voiceguide/encode/m4a.py)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import FakeEngine
from voiceguide.build.session import SessionOptions, prepare
from voiceguide.encode.export import AAC_FRAME
from voiceguide.encode.m4a import (
    MARGIN,
    MIN_PIECE,
    NotJoinableError,
    frame_count,
    join,
    joined_whole,
    plan_cut,
)
from voiceguide.encode.pieces import forward_only
from voiceguide.plan.timeline import Event, Timeline


def m4a_session(hold: float) -> Timeline:
    return prepare(SessionOptions(hold=hold, format="m4a"), FakeEngine()).timeline


def sound_in(timeline: Timeline, start: int, end: int) -> bool:
    return any(e.kind != "pause" and e.start < end and start < e.end for e in timeline.events)


def sound(timeline: Timeline, start: int, end: int) -> int:
    return sum(
        min(e.end, end) - max(e.start, start)
        for e in timeline.events
        if e.kind != "pause" and e.start < end and start < e.end
    )


@pytest.mark.parametrize("hold", [12.0, 300.0, 1740.0])
def test_the_cut_is_a_frame_boundary_in_a_silence_that_shares_the_sound(hold: float) -> None:
    timeline = m4a_session(hold)
    cut = plan_cut(timeline)
    assert cut is not None
    assert cut % AAC_FRAME == 0  # the first piece's frames end there
    # Both encoders hear only silence around the join: the cut, the frame the second
    # piece's priming stands for, and a margin either side.
    assert not sound_in(timeline, cut - MARGIN, cut + AAC_FRAME + MARGIN)
    assert min(cut, timeline.length - cut - AAC_FRAME) >= MIN_PIECE
    # Of the silences that suit, the one that shares the sound most evenly.
    total = sound(timeline, 0, timeline.length)
    before = sound(timeline, 0, cut)
    for other in range(0, timeline.length - AAC_FRAME, AAC_FRAME * 40):
        if sound_in(timeline, other - MARGIN, other + AAC_FRAME + MARGIN):
            continue
        if min(other, timeline.length - other - AAC_FRAME) < MIN_PIECE:
            continue
        assert abs(2 * before - total) <= abs(2 * sound(timeline, 0, other) - total)


def test_no_cut_where_no_silence_suits() -> None:
    timeline = m4a_session(60.0)
    # A session that is not whole frames long is not an M4A's.
    assert plan_cut(replace(timeline, events=(*timeline.events[:-1], _longer(timeline)))) is None
    # Silences too short for the margin either side: none cut.
    short = _pauses_at_most(timeline, 2 * MARGIN + AAC_FRAME - 1)
    assert short.length % AAC_FRAME == 0
    assert plan_cut(short) is None
    # One long enough (and pieces long enough either side of it): cut there.
    roomy = _pauses_at_most(timeline, 2 * MARGIN + 3 * AAC_FRAME)
    cut = plan_cut(roomy)
    assert cut is not None
    assert not sound_in(roomy, cut - MARGIN, cut + AAC_FRAME + MARGIN)


def _longer(timeline: Timeline) -> Event:
    last = timeline.events[-1]
    return replace(last, length=last.length + 1)


def _pauses_at_most(timeline: Timeline, longest: int) -> Timeline:
    """``timeline`` with every pause cut to ``longest`` samples, in one piece, whole
    frames long in all."""
    events: list[Event] = []
    at = 0
    for event in timeline.events:
        if event.kind == "pause" and events and events[-1].kind == "pause":
            continue  # runs of pauses become one
        length = min(event.length, longest) if event.kind == "pause" else event.length
        events.append(replace(event, start=at, length=length))
        at += length
    pad = -at % AAC_FRAME
    last = events[-1]
    events[-1] = replace(last, length=last.length + pad)
    return replace(timeline, events=tuple(events), holds=())


def adts(*sizes: int) -> bytes:
    """ADTS frames of the given sizes: a header (mono AAC LC, 44.1 kHz) and zeros."""
    data = b""
    for size in sizes:
        header = bytes(
            [
                0xFF,
                0xF1,
                0x50,
                0x40 | (size >> 11),
                (size >> 3) & 0xFF,
                ((size & 7) << 5) | 0x1F,
                0xFC,
            ]
        )
        data += header + bytes(size - 7)
    return data


def test_frames_are_counted_by_their_headers() -> None:
    assert frame_count(b"") == 0
    assert frame_count(adts(7, 300, 2000, 9)) == 4
    with pytest.raises(NotJoinableError, match="cut short"):
        frame_count(adts(7, 300)[:-1])
    with pytest.raises(NotJoinableError, match="no ADTS frame at byte 7"):
        frame_count(adts(7) + b"ID3" + bytes(10))
    with pytest.raises(NotJoinableError, match="of 3 bytes"):
        frame_count(adts(7) + adts(7)[:5] + bytes([0x60, 0xFC]))  # a frame claiming 3 bytes


def test_pieces_are_joined_only_when_their_frames_are_as_counted(tmp_path: Path) -> None:
    cut, samples = 5 * AAC_FRAME, 12 * AAC_FRAME
    first, second, target = tmp_path / "a.aac", tmp_path / "b.aac", tmp_path / "joined.aac"
    # A: its priming and 5 frames; B: its priming (the frame after the cut) and 6.
    first.write_bytes(adts(*[20] * 6))
    second.write_bytes(adts(*[30] * 7))
    join(first, second, cut, samples, target)
    frames = first.read_bytes() + second.read_bytes()
    assert target.read_bytes() == frames + hashlib.sha256(frames).digest()
    assert frame_count(frames) == samples // AAC_FRAME + 1  # as one encoder's
    assert joined_whole(target.read_bytes(), samples)
    target.unlink()
    second.write_bytes(adts(*[30] * 8))  # a frame too many: another encoder's ways
    with pytest.raises(NotJoinableError, match="second piece"):
        join(first, second, cut, samples, target)
    first.write_bytes(adts(*[20] * 5))
    with pytest.raises(NotJoinableError, match="first piece"):
        join(first, second, cut, samples, target)
    assert not target.exists()


def test_progress_after_pieces_that_did_not_join_never_steps_back() -> None:
    seen: list[tuple[str, int, int]] = []
    forward = forward_only(lambda stage, done, total: seen.append((stage, done, total)))
    for done in (10, 60, 100, 0, 50, 100, 120):  # the pieces, then one encoder again
        forward("encoding", done, 120)
    assert seen == [("encoding", d, 120) for d in (10, 60, 100, 120)]


def test_kept_frames_are_whole_when_they_match_their_digest_and_are_as_many_as_counted() -> None:
    samples = 12 * AAC_FRAME

    def sealed(frames: bytes) -> bytes:
        return frames + hashlib.sha256(frames).digest()

    assert joined_whole(sealed(adts(*[20] * 13)), samples)  # priming, then 12
    assert not joined_whole(sealed(adts(*[20] * 12)), samples)  # a frame short
    assert not joined_whole(sealed(adts(*[20] * 13)[:-1]), samples)  # cut short
    changed = bytearray(sealed(adts(*[20] * 13)))
    changed[110] ^= 1  # a bit of a frame's data (frame 5 holds bytes 100 to 119; 7 of header)
    assert not joined_whole(bytes(changed), samples)
    assert not joined_whole(adts(*[20] * 13), samples)  # no digest
    assert not joined_whole(b"", samples)
