"""The countdown and a user's chime, built with the real engine and ffmpeg, decoded and measured."""

from __future__ import annotations

from array import array
from pathlib import Path

import pytest

from tests.fakes import MINI
from tests.integration.measure import ONSET_THRESHOLD, TOLERANCE, decode, onset
from tests.unit.test_extras_session import write_wav
from voiceguide.build.session import SessionOptions, build_session
from voiceguide.text.extras_change import ExtrasChange
from voiceguide.units import SAMPLE_RATE

pytestmark = pytest.mark.integration

# A spoken number begins with the 30 ms of quiet kept around every clip, then its first
# sound; a soft consonant ("th" of "three") may take a little longer to cross the threshold.
SPEECH_ONSET = round(0.15 * SAMPLE_RATE)


def first_sound(values: array[int], start: int, end: int) -> int:
    """The first sample above the onset threshold in [start, end), which must follow quiet."""
    before = values[start - round(0.02 * SAMPLE_RATE) : start]
    assert max(abs(v) for v in before) < ONSET_THRESHOLD, "a number begins after quiet"
    return next(i for i in range(start, end) if abs(values[i]) > ONSET_THRESHOLD)


def test_countdown_onsets_and_a_users_chime(tmp_path: Path) -> None:
    bell = write_wav(tmp_path / "bell.wav", 0.6, lead=0.3)  # 0.3 s of quiet before it sounds
    (tmp_path / "mini.yaml").write_text(MINI, "utf-8")
    change = ExtrasChange(countdown=True, start_chime=bell, end_chime="off")
    options = SessionOptions(routine=tmp_path / "mini.yaml", hold=15.0, extras_change=change)
    result = build_session(options, tmp_path / "s.mp3")
    timeline = result.timeline
    values = decode(tmp_path / "s.mp3")
    assert len(values) == timeline.length, "the file decodes to exactly the planned samples"
    assert len(timeline.holds) == 2

    for hold in timeline.holds:
        assert hold.length == 15 * SAMPLE_RATE
        # The user's chime, its quiet lead-in cut, sounds on the hold's first sample.
        start = onset(values, hold.start)
        assert 0 <= start - hold.start <= TOLERANCE, start - hold.start

        numbers = [e for e in timeline.spoken() if e.role == "countdown" and hold.start < e.start]
        numbers = [e for e in numbers if e.start < hold.end]
        assert [e.text for e in numbers] == ["Three.", "Two.", "One."]
        assert [hold.end - e.start for e in numbers] == [3 * SAMPLE_RATE, 2 * SAMPLE_RATE,
                                                         SAMPLE_RATE]  # fmt: skip
        heard = [first_sound(values, e.start, e.end) for e in numbers]
        for event, at in zip(numbers, heard, strict=True):
            assert 0 <= at - event.start <= SPEECH_ONSET, (event.text, at - event.start)
        # With no end chime, the release line marks the end: it begins as the hold ends.
        release = next(e for e in timeline.spoken() if e.role == "release" and e.start >= hold.end)
        assert release.start == hold.end
        assert 0 <= first_sound(values, release.start, release.end) - hold.end <= SPEECH_ONSET
