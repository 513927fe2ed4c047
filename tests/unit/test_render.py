"""Rendering on the fake engine: exact sample counts, clip by clip."""

from __future__ import annotations

from array import array
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import SECONDS_PER_WORD, FakeEngine, tone
from voiceguide.build.session import SessionOptions, prepare
from voiceguide.errors import PlanError, SpeechError
from voiceguide.progress import no_progress
from voiceguide.sound.audio import loud_edges, samples, tidy_speech
from voiceguide.sound.render import render, silence
from voiceguide.speech.cache import ClipCache
from voiceguide.speech.clips import check_clip, speak
from voiceguide.units import SAMPLE_RATE, SAMPLE_WIDTH, to_samples


def test_silence_is_exactly_as_long_as_asked() -> None:
    for length in (0, 1, SAMPLE_RATE - 1, SAMPLE_RATE, 3 * SAMPLE_RATE + 17):
        data = b"".join(silence(length))
        assert len(data) == length * SAMPLE_WIDTH
        assert data == bytes(len(data))


@pytest.mark.parametrize("engine_rate", [44100, 22050])
def test_rendered_pcm_matches_the_timeline_sample_for_sample(engine_rate: int) -> None:
    prepared = prepare(SessionOptions(hold=30.0), FakeEngine(rate=engine_rate))
    timeline = prepared.timeline
    pcm = b"".join(render(timeline, prepared.speech, prepared.chimes))
    assert len(pcm) == timeline.length * SAMPLE_WIDTH
    for event in timeline.events:
        piece = pcm[event.start * SAMPLE_WIDTH : event.end * SAMPLE_WIDTH]
        if event.kind == "pause":
            assert piece == bytes(len(piece))
        elif event.kind == "chime":
            assert piece == prepared.chimes[event.role].raw_data
        else:
            assert piece == prepared.speech[event.text].raw_data


def test_fake_speech_keeps_its_exact_length_through_tidying() -> None:
    prepared = prepare(SessionOptions(hold=30.0), FakeEngine())
    for text, clip in prepared.speech.items():
        # A steady tone has no quiet to trim, so the clip is exactly its words long.
        assert samples(clip) == to_samples(SECONDS_PER_WORD * len(text.split()))


def test_holds_in_the_rendered_pcm_start_and_end_on_chime_onsets() -> None:
    prepared = prepare(SessionOptions(hold=45.0), FakeEngine())
    timeline = prepared.timeline
    pcm = b"".join(render(timeline, prepared.speech, prepared.chimes))
    start_chime = prepared.chimes["chime_start"].raw_data
    end_chime = prepared.chimes["chime_end"].raw_data
    for hold in timeline.holds:
        assert hold.length == 45 * SAMPLE_RATE
        at = hold.start * SAMPLE_WIDTH
        assert pcm[at : at + len(start_chime)] == start_chime
        assert pcm[at - 2 * SAMPLE_WIDTH : at] == bytes(2 * SAMPLE_WIDTH)
        at = hold.end * SAMPLE_WIDTH
        assert pcm[at : at + len(end_chime)] == end_chime


def test_render_refuses_a_clip_of_the_wrong_length() -> None:
    prepared = prepare(SessionOptions(hold=30.0), FakeEngine())
    text = next(iter(prepared.speech))
    broken = {**prepared.speech, text: prepared.speech[text][:100]}
    with pytest.raises(PlanError, match="samples"):
        b"".join(render(prepared.timeline, broken, prepared.chimes))


def test_speech_comes_from_the_cache_the_second_time(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    texts = ["Lie on your back.", "Spread your toes."]
    first = FakeEngine()
    clips = speak(texts, first, cache, no_progress)
    assert first.spoken == texts
    second = FakeEngine()
    again = speak(texts, second, cache, no_progress)
    assert second.spoken == []
    assert {t: c.raw_data for t, c in again.items()} == {t: c.raw_data for t, c in clips.items()}
    assert cache.info().clips == 2


def test_a_damaged_cache_file_is_never_served(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    engine = FakeEngine()
    speak(["Spread your toes."], engine, cache, no_progress)
    (cached,) = tmp_path.glob("*/*.wav")
    cached.write_bytes(cached.read_bytes()[:30])  # truncated mid-header
    engine.spoken.clear()
    clips = speak(["Spread your toes."], engine, cache, no_progress)
    assert engine.spoken == ["Spread your toes."]
    assert samples(clips["Spread your toes."]) == to_samples(3 * SECONDS_PER_WORD)


def test_a_different_voice_or_rate_is_a_different_cache_entry(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    speak(["Spread your toes."], FakeEngine(words_per_minute=240), cache, no_progress)
    slower = FakeEngine(words_per_minute=120)
    speak(["Spread your toes."], slower, cache, no_progress)
    assert slower.spoken == ["Spread your toes."]


def test_implausible_clips_are_refused() -> None:
    words = "one two three four five six seven eight nine ten"  # 10 words: 2.5 s at 240 wpm
    check_clip(words, tone(2.5, SAMPLE_RATE), 240)
    with pytest.raises(SpeechError, match="cut off"):
        check_clip(words, tone(0.3, SAMPLE_RATE), 240)
    with pytest.raises(SpeechError, match="cut off"):
        check_clip(words, tone(30.0, SAMPLE_RATE), 240)
    with pytest.raises(SpeechError, match="silence"):
        check_clip(words, tone(0.0, SAMPLE_RATE), 240)


def test_tidying_trims_quiet_edges_and_keeps_a_little() -> None:
    quiet = tone(0.5, SAMPLE_RATE) - 200  # far below the threshold
    clip = quiet + tone(1.0, SAMPLE_RATE) + quiet
    tidy = tidy_speech(clip)
    assert to_samples(1.0) < samples(tidy) <= to_samples(1.0 + 2 * 0.030) + 2
    first, last = tidy.get_array_of_samples()[0], tidy.get_array_of_samples()[-1]
    assert abs(first) < 50
    assert abs(last) < 50


def test_tidying_takes_off_the_dc_offset_an_engine_leaves() -> None:
    speech = tone(1.0, SAMPLE_RATE)
    offset = speech._spawn(array("h", (v + 90 for v in speech.get_array_of_samples())).tobytes())
    before = offset.get_array_of_samples()
    assert sum(before) / len(before) > 80  # as espeak-ng leaves it, up to about 96 steps
    values = tidy_speech(offset).get_array_of_samples()
    assert abs(sum(values) / len(values)) < 10  # under -70 dBFS, as the real builds are checked
    assert values[0] == 0  # and the fades still start and end at zero
    assert values[-1] == 0


def test_an_event_gain_scales_only_its_own_clip() -> None:
    prepared = prepare(SessionOptions(hold=30.0), FakeEngine())
    timeline = prepared.timeline
    first = next(e for e in timeline.events if e.kind == "speech")
    quieter = replace(
        timeline,
        events=tuple(replace(e, gain=-6.0) if e == first else e for e in timeline.events),
    )
    plain = b"".join(render(timeline, prepared.speech, prepared.chimes))
    pcm = b"".join(render(quieter, prepared.speech, prepared.chimes))
    assert len(pcm) == len(plain)
    span = slice(first.start * SAMPLE_WIDTH, first.end * SAMPLE_WIDTH)
    assert pcm[: span.start] == plain[: span.start]
    assert pcm[span.stop :] == plain[span.stop :]
    loud = max(abs(v) for v in memoryview(plain[span]).cast("h"))
    soft = max(abs(v) for v in memoryview(pcm[span]).cast("h"))
    assert soft == pytest.approx(loud * 10 ** (-6 / 20), abs=2)


def test_the_edges_of_speech_are_found_exactly() -> None:
    # Block by block must give what a sample-by-sample scan gives, wherever the
    # sound starts and ends (block edges, the very ends, one loud sample, none).
    def scan(values: list[int], limit: int) -> tuple[int, int] | None:
        loud = [i for i, v in enumerate(values) if abs(v) > limit]
        return (loud[0], loud[-1]) if loud else None

    size = 5000
    cases = [(0, size - 1), (1023, 1024), (1024, 1024), (2047, 4100), (3000, 3000), (4999, 4999)]
    for first, last in cases:
        for value in (132, -132, 32767, -32768):
            values = [131, -131] * (size // 2)  # at the limit: quiet
            values[first] = value
            values[last] = -value
            assert loud_edges(values, 131) == scan(values, 131) == (first, last)
    assert loud_edges([131, -131] * 3000, 131) is None
    assert loud_edges([], 131) is None
