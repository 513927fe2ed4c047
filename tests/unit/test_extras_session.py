"""A user's chime files (decoded by ffmpeg), and how routine and command line combine."""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

import pytest

from tests.fakes import MINI, FakeEngine
from voiceguide.build.session import SessionOptions, prepare
from voiceguide.errors import AudioError, PlanError
from voiceguide.plan.planner import START_CHIME
from voiceguide.sound.audio import (
    CHIME_FADE_IN_MS,
    CHIME_FADE_OUT_MS,
    CHIME_PEAK_DBFS,
    load_chime_file,
    samples,
)
from voiceguide.sound.render import render
from voiceguide.text.extras import Background, Countdown, Extras, Pacer
from voiceguide.text.extras_change import ExtrasChange, combine
from voiceguide.units import SAMPLE_RATE, SAMPLE_WIDTH


def write_wav(path: Path, seconds: float, rate: int = 48000, channels: int = 2,
              lead: float = 0.3, amplitude: float = 0.9) -> Path:  # fmt: skip
    """``lead`` seconds of silence, then a 660 Hz tone of ``seconds``."""
    quiet = [0] * round(lead * rate)
    tone = [round(amplitude * 32767 * math.sin(2 * math.pi * 660 * n / rate))
            for n in range(round(seconds * rate))]  # fmt: skip
    mono = array("h", quiet + tone)
    frames = array("h", (v for v in mono for _ in range(channels)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return path


# --- a user's chime ----------------------------------------------------------------------


def test_a_chime_file_is_trimmed_levelled_and_faded(tmp_path: Path) -> None:
    chime = load_chime_file(write_wav(tmp_path / "bell.wav", 1.0), "the start chime")
    assert (chime.channels, chime.frame_rate, chime.sample_width) == (1, SAMPLE_RATE, 2)
    values = chime.get_array_of_samples()
    # The quiet lead-in is cut: the sound begins at once (the hold's boundary).
    assert abs(samples(chime) - SAMPLE_RATE) < SAMPLE_RATE * 0.002
    assert max(abs(v) for v in values[: SAMPLE_RATE // 100]) > 1000
    # Levelled to the packaged chimes' peak, and faded to zero at both ends: no click.
    peak = max(abs(v) for v in values)
    assert 20 * math.log10(peak / 32767) == pytest.approx(CHIME_PEAK_DBFS, abs=0.1)
    assert values[0] == 0
    assert values[-1] == 0
    fade_out = SAMPLE_RATE * CHIME_FADE_OUT_MS // 1000
    assert all(abs(values[-1 - i]) <= peak * i / fade_out + 1 for i in range(fade_out))
    fade_in = SAMPLE_RATE * CHIME_FADE_IN_MS // 1000
    assert all(abs(values[i]) <= peak * i / fade_in + 1 for i in range(fade_in))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "cannot decode the start chime"),
        (b"this is not a sound at all\n" * 20, "cannot decode the start chime"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "cannot decode the start chime"),
    ],
)
def test_a_corrupt_chime_is_named(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "broken.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError) as info:
        load_chime_file(path, "the start chime")
    assert str(info.value).startswith(f"{fragment} {path}")
    assert "\n" not in str(info.value)


def test_a_silent_or_overlong_chime_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"silent\.wav is silent"):
        load_chime_file(write_wav(tmp_path / "silent.wav", 1.0, amplitude=0.0), "the end chime")
    with pytest.raises(AudioError, match=r"long\.wav is longer than 10 seconds"):
        load_chime_file(write_wav(tmp_path / "long.wav", 11.0, rate=8000, channels=1), "x")


def test_a_session_sounds_the_users_chime_and_none_where_it_is_off(tmp_path: Path) -> None:
    bell = write_wav(tmp_path / "bell.wav", 0.8)
    (tmp_path / "mini.yaml").write_text(MINI)
    change = ExtrasChange(start_chime=bell, end_chime="off")
    options = SessionOptions(routine=tmp_path / "mini.yaml", hold=20.0, extras_change=change)
    prepared = prepare(options, FakeEngine())
    assert prepared.extras == Extras(start_chime=bell, end_chime="off")
    assert set(prepared.chimes) == {START_CHIME}
    assert prepared.chimes[START_CHIME].raw_data == load_chime_file(bell, "x").raw_data
    timeline = prepared.timeline
    assert [e.role for e in timeline.events if e.kind == "chime"] == [START_CHIME] * 2
    pcm = b"".join(render(timeline, prepared.speech, prepared.chimes))
    assert len(pcm) == timeline.length * SAMPLE_WIDTH
    for hold in timeline.holds:
        start = hold.start * SAMPLE_WIDTH
        chime = prepared.chimes[START_CHIME].raw_data
        assert pcm[start : start + len(chime)] == chime


def test_a_missing_chime_file_from_the_command_line(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"--end-chime .*nope\.wav: does not exist"):
        combine(Extras(), ExtrasChange(end_chime=tmp_path / "nope.wav"))
    with pytest.raises(AudioError, match=r"--background .*: is a folder"):
        combine(Extras(), ExtrasChange(background=tmp_path))


# --- routine and command line --------------------------------------------------------------

ROUTINE = Extras(
    countdown=Countdown(5, -2.0),
    pacer=Pacer(8.0, -25.0),
    background=Background(Path("/r/rain.ogg"), -30.0, 12.0),
    start_chime=Path("/r/bell.wav"),
)


def test_no_change_keeps_the_routines_extras() -> None:
    assert combine(ROUTINE, ExtrasChange()) == ROUTINE
    assert combine(Extras(), ExtrasChange()) == Extras()


def test_turning_extras_off() -> None:
    change = ExtrasChange(countdown=False, pacer=False, background="none", start_chime="default",
                          end_chime="off")  # fmt: skip
    assert combine(ROUTINE, change) == Extras(end_chime="off")


def test_turning_extras_on_keeps_the_routines_settings_or_uses_the_defaults() -> None:
    on = ExtrasChange(countdown=True, pacer=True, background="noise")
    assert combine(Extras(), on) == Extras(Countdown(), Pacer(), Background())
    assert combine(ROUTINE, on) == Extras(
        ROUTINE.countdown, ROUTINE.pacer, Background(None, -30.0, 12.0), ROUTINE.start_chime
    )


def test_settings_imply_the_extra_and_volumes_set_it(tmp_path: Path) -> None:
    rain = tmp_path / "rain.flac"
    rain.write_bytes(b"x")
    change = ExtrasChange(
        countdown_from=7,
        breaths=4.5,
        background=rain,
        volumes=(("countdown", -6.0), ("pacer", -30.0), ("background", -40.0)),
    )
    assert combine(Extras(), change) == Extras(
        Countdown(7, -6.0), Pacer(4.5, -30.0), Background(rain.absolute(), -40.0)
    )
    assert combine(ROUTINE, change).background == Background(rain.absolute(), -40.0, 12.0)


def test_a_volume_for_an_extra_that_is_off_is_refused() -> None:
    with pytest.raises(PlanError, match=r"--volume pacer=-20: the pacer is off.*--pacer"):
        combine(Extras(countdown=Countdown()), ExtrasChange(volumes=(("pacer", -20.0),)))


def test_contradictions_are_refused() -> None:
    with pytest.raises(ValueError, match="--no-countdown and --countdown-from"):
        ExtrasChange(countdown=False, countdown_from=3)
    with pytest.raises(ValueError, match="--no-pacer and --breaths"):
        ExtrasChange(pacer=False, breaths=6.0)


def test_session_options_extras_replace_the_routines() -> None:
    options = SessionOptions(hold=20.0, extras=Extras(end_chime="off"))
    prepared = prepare(options, FakeEngine())
    assert prepared.extras == Extras(end_chime="off")
    assert not [e for e in prepared.timeline.spoken() if e.role == "countdown"]
    prepared = prepare(SessionOptions(hold=20.0), FakeEngine())
    assert prepared.extras == Extras(countdown=Countdown())
    assert [e.text for e in prepared.timeline.spoken() if e.role == "countdown"] == [
        "Three.", "Two.", "One.",
    ] * 2  # fmt: skip


def test_the_chime_volume_is_set_in_the_routine_or_on_the_command_line() -> None:
    quieter = combine(Extras(), ExtrasChange(volumes=(("chime", -6.0),)))
    assert quieter.chime_volume == -6.0
    assert combine(Extras(chime_volume=-3.0), ExtrasChange()).chime_volume == -3.0
    with pytest.raises(PlanError, match=r"--volume chime=-6: the chime is off.*--start-chime"):
        combine(
            Extras(start_chime="off", end_chime="off"), ExtrasChange(volumes=(("chime", -6.0),))
        )
