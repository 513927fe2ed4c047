"""Chapters, transcripts, formats and chimes, on the fake engine: no ffmpeg."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from tests.fakes import FakeEngine
from voiceguide.build.session import SessionOptions, cue_sheet, default_output, prepare
from voiceguide.encode.export import (
    AAC_FRAME,
    FORMATS,
    OPUS_STEP,
    Encoding,
    Tags,
    choose_bitrate,
    choose_format,
    ffmetadata,
)
from voiceguide.errors import ExportError
from voiceguide.plan.chapters import chapters
from voiceguide.plan.timeline import Timeline
from voiceguide.plan.transcript import to_lrc, to_srt, to_vtt, write_transcript
from voiceguide.sound.audio import load_chime
from voiceguide.units import SAMPLE_RATE


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    return prepare(SessionOptions(hold=60.0), FakeEngine()).timeline


def test_chapters_tile_the_session_at_its_sections(timeline: Timeline) -> None:
    marks = chapters(timeline)
    assert [c.title for c in marks] == [
        "Introduction",
        "Left side: set-up",
        "Left side: hold",
        "Right side: set-up",
        "Right side: hold",
        "Outro",
    ]
    assert marks[0].start == 0
    assert marks[-1].end == timeline.length
    assert all(a.end == b.start for a, b in itertools.pairwise(marks))
    spoken = timeline.spoken()
    first = next(e for e in spoken if e.side == "left" and e.role == "side_start")
    assert marks[1].start == first.start
    chimes = {e.start: e for e in timeline.events if e.kind == "chime"}
    for side, hold_mark, after in zip(("left", "right"), marks[2::2], marks[3::2], strict=True):
        hold = next(h for h in timeline.holds if h.side == side)
        assert hold_mark.start == hold.start
        # A hold's chapter ends once its end chime has sounded; the release belongs to
        # what follows (the next side's set-up, or the outro).
        assert hold_mark.end == after.start == chimes[hold.end].end
        release = next(e for e in spoken if e.side == side and e.role == "release")
        assert after.start <= release.start < after.end


def _seconds(stamp: str) -> float:
    total = 0.0
    for part in stamp.split(":"):
        total = total * 60 + float(part)
    return total


def test_vtt_has_every_spoken_line_at_its_time(timeline: Timeline) -> None:
    text = to_vtt(timeline)
    assert text.startswith("WEBVTT\n\n")
    cues = re.findall(r"(\d+)\n([\d:.]+) --> ([\d:.]+)\n(.+)\n", text)
    spoken = timeline.spoken()
    assert len(cues) == len(spoken)
    for (number, start, end, line), event in zip(cues, spoken, strict=True):
        assert int(number) == spoken.index(event) + 1
        assert line == event.text
        assert abs(_seconds(start) - event.start / SAMPLE_RATE) < 0.001
        assert abs(_seconds(end) - event.end / SAMPLE_RATE) < 0.001


def test_lrc_has_every_spoken_line_at_its_start(timeline: Timeline) -> None:
    text = to_lrc(timeline)
    assert text.startswith(f"[ti:{timeline.title}]\n[ar:voiceguide]\n[length:")
    lines = re.findall(r"^\[(\d+:\d\d\.\d\d)\](.+)$", text, re.MULTILINE)
    spoken = timeline.spoken()
    assert [line for _, line in lines] == [e.text for e in spoken]
    for (stamp, _), event in zip(lines, spoken, strict=True):
        assert 0 <= event.start / SAMPLE_RATE - _seconds(stamp) < 0.01
    stamps = [_seconds(s) for s in re.findall(r"^\[(\d+:\d\d\.\d\d)\]", text, re.MULTILINE)]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("suffix", [".vtt", ".lrc", ".json"])
def test_transcripts_are_written_atomically(
    timeline: Timeline, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"session{suffix}"
    path.write_text("an old transcript")
    write_transcript(timeline, path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    text = path.read_text()
    if suffix == ".json":
        assert json.loads(text) == timeline.to_dict()
    else:
        assert timeline.spoken()[0].text in text


def test_a_transcript_needs_a_known_extension(timeline: Timeline, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"\.vtt \(WebVTT\), \.srt \(SubRip\), \.lrc or \.json"):
        write_transcript(timeline, tmp_path / "session.txt")
    assert list(tmp_path.iterdir()) == []


def test_srt_numbers_each_line_with_comma_millis(timeline: Timeline) -> None:
    text = to_srt(timeline)
    first = timeline.spoken()[0]
    assert text.startswith("1\n00:00:01,000 --> ")
    assert f"\n{' '.join(first.text.split())}\n" in text
    assert text.count(" --> ") == len(timeline.spoken())


def test_opus_names_an_ogg_opus_file() -> None:
    assert choose_format(Path("a.opus"), None).name == "ogg"
    assert choose_format(Path("a.opus"), "ogg").name == "ogg"


def test_the_format_comes_from_the_name_or_the_option() -> None:
    assert choose_format(None, None).name == "mp3"
    assert choose_format(Path("a.OGG"), None).name == "ogg"
    assert choose_format(Path("a.m4a"), "m4a").name == "m4a"
    assert choose_format(None, "flac").name == "flac"
    with pytest.raises(ExportError, match=r"--format wav writes \.wav files"):
        choose_format(Path("a.mp3"), "wav")
    with pytest.raises(ExportError, match="use a name ending in one"):
        choose_format(Path("a.aiff"), None)
    sheet = cue_sheet(SessionOptions(hold=300))[1]
    assert default_output(sheet, FORMATS["ogg"]) == Path("hamstring-5m-per-side.ogg")


def test_bitrates_suit_the_format() -> None:
    assert choose_bitrate(FORMATS["mp3"], None) == "128k"
    assert choose_bitrate(FORMATS["ogg"], None) == "96k"
    assert choose_bitrate(FORMATS["m4a"], "192000") == "192k"
    assert choose_bitrate(FORMATS["wav"], None) is None
    with pytest.raises(ExportError, match="flac is lossless"):
        choose_bitrate(FORMATS["flac"], "128k")
    with pytest.raises(ExportError, match="not a bitrate for mp3; choose one of: 64k"):
        choose_bitrate(FORMATS["mp3"], "100k")


def test_exact_lengths_are_whole_frames_or_steps() -> None:
    for n in (1, 441, 1023, 1024, 44100 * 60 + 7):
        m4a, ogg = FORMATS["m4a"].exact_length(n), FORMATS["ogg"].exact_length(n)
        assert m4a % AAC_FRAME == 0
        assert 0 <= m4a - n < AAC_FRAME
        assert ogg % OPUS_STEP == 0
        assert 0 <= ogg - n < OPUS_STEP
        assert FORMATS["flac"].exact_length(n) == FORMATS["wav"].exact_length(n) == n


def test_metadata_carries_tags_and_chapters_escaped(timeline: Timeline) -> None:
    tags = Tags("A=b; c#d", "voiceguide", "Album\\x")
    text = ffmetadata(Encoding(FORMATS["mp3"], "128k", tags, chapters(timeline)))
    assert text.startswith(";FFMETADATA1\ntitle=A\\=b\\; c\\#d\nartist=voiceguide\n")
    assert "album=Album\\\\x\n" in text
    assert text.count("[CHAPTER]") == 6
    assert f"TIMEBASE=1/{SAMPLE_RATE}\nSTART=0\n" in text
    flac = ffmetadata(Encoding(FORMATS["flac"], None, tags, chapters(timeline)))
    assert "[CHAPTER]" not in flac


@pytest.mark.parametrize("name", ["chime-start", "chime-end"])
def test_chimes_start_and_end_at_zero_without_offset(name: str) -> None:
    values = load_chime(name).get_array_of_samples()
    assert values[0] == 0
    assert values[-1] == 0
    assert abs(sum(values) / len(values)) < 1
    assert max(abs(v) for v in values) < 32767 * 10 ** (-17 / 20)
