"""Layer sounds and the mixing renderer, on the fake engine: exact to the sample."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from tests.fakes import FakeEngine, tone
from tests.helpers import gain_at
from voiceguide.build.session import Prepared, SessionOptions, prepare
from voiceguide.errors import AudioError
from voiceguide.plan.layers import tone_length
from voiceguide.sound.mix import Mixer, layer_sounds
from voiceguide.sound.render import render, voice_track
from voiceguide.sound.sounds import (
    Samples,
    active_level,
    file_bed,
    from_pcm,
    looped,
    noise_bed,
    pacer_tone,
)
from voiceguide.text.extras import Background, Countdown, Extras, Pacer
from voiceguide.units import SAMPLE_RATE

S = SAMPLE_RATE
EXTRAS = Extras(pacer=Pacer(), background=Background())


@pytest.fixture(scope="module")
def layered() -> Prepared:
    return prepare(SessionOptions(hold=20.0, extras=EXTRAS), FakeEngine())


def pcm(prepared: Prepared) -> npt.NDArray[np.int16]:
    _, layers = prepared.layers()
    data = b"".join(render(prepared.timeline, prepared.speech, prepared.chimes, layers))
    return np.frombuffer(data, dtype="<i2")


def test_without_layers_the_render_is_the_voice_track_byte_for_byte() -> None:
    for extras in (None, Extras(), Extras(countdown=Countdown())):  # None: the routine's
        prepared = prepare(SessionOptions(hold=20.0, extras=extras), FakeEngine())
        assert prepared.sounds is None
        plan, layers = prepared.layers()
        assert not plan
        assert layers is None
        args = (prepared.timeline, prepared.speech, prepared.chimes)
        assert b"".join(render(*args, layers)) == b"".join(voice_track(*args))


def test_layers_sound_only_in_their_spans_and_add_to_the_voice_exactly(
    layered: Prepared,
) -> None:
    mixed = pcm(layered).astype(np.int64)
    voice = np.frombuffer(
        b"".join(render(layered.timeline, layered.speech, layered.chimes)), dtype="<i2"
    ).astype(np.int64)
    assert len(mixed) == len(voice) == layered.timeline.length
    plan, _ = layered.layers()
    sounds = layered.sounds
    assert sounds is not None
    assert sounds.headroom == 1.0  # the fake voice peaks at 8000 of 32768
    expected = np.zeros(len(voice))
    for t in plan.tones:
        expected[t.start : t.end] += sounds.tones[t.kind]
    assert sounds.bed is not None
    for bed in plan.beds:
        for n in range(bed.start, bed.end):
            gain = gain_at(bed.fade, n) * gain_at(bed.duck, n)
            loop = float(sounds.bed[(n - bed.start) % len(sounds.bed)])
            expected[n] += loop * (gain * sounds.bed_gain)
    assert np.array_equal(mixed, voice + np.rint(expected * 32768).astype(np.int64))
    inside = np.zeros(len(voice), dtype=bool)
    for start, end in plan.spans:
        inside[start:end] = True
    assert np.array_equal(mixed[~inside], voice[~inside])  # outside the holds: the voice alone
    # 16.5 s between the start chime and half a second before the end: 4 tones a hold
    assert len(plan.tones) == 4 * len(layered.timeline.holds)


def test_pacer_and_bed_sit_at_their_volumes_under_the_voice(layered: Prepared) -> None:
    sounds = layered.sounds
    assert sounds is not None
    voice = active_level(from_pcm(c.raw_data) for c in layered.speech.values())
    assert sounds.voice_level == voice
    assert 20 * np.log10(active_level([sounds.tones["inhale"]]) / voice) == pytest.approx(-20)
    assert 20 * np.log10(active_level([sounds.tones["exhale"]]) / voice) == pytest.approx(-20)
    assert sounds.bed is not None
    bed = active_level([sounds.bed]) * sounds.bed_gain
    assert 20 * np.log10(bed / voice) == pytest.approx(-28)


def test_the_active_level_leaves_out_the_quiet_between_words() -> None:
    word = from_pcm(tone(0.5, S).raw_data)
    level = active_level([word])
    assert level == pytest.approx(8000 / 32768 / np.sqrt(2), rel=1e-3)  # a sine's RMS
    assert active_level([np.concatenate([word, np.zeros(S), word])]) == pytest.approx(level)


def test_a_loud_voice_gets_headroom_instead_of_clipping() -> None:
    prepared = prepare(SessionOptions(hold=20.0), FakeEngine())
    loud = {t: c.apply_gain(12) for t, c in prepared.speech.items()}  # peaks at 31872
    sounds = layer_sounds(EXTRAS, prepared.timeline, loud, prepared.chimes)
    assert sounds is not None
    assert sounds.headroom < 1.0
    prepared = Prepared(prepared.routine, prepared.timeline, loud, prepared.chimes, EXTRAS, sounds)
    _, layers = prepared.layers()
    assert isinstance(layers, Mixer)
    data = pcm(prepared)
    assert int(np.max(np.abs(data.astype(np.int64)))) < 32767


def test_pacer_tones_are_soft_rising_and_falling_and_never_click() -> None:
    length = tone_length(6.0)
    for kind in ("inhale", "exhale"):
        sound = pacer_tone(kind, length)
        assert len(sound) == length
        assert sound[0] == 0.0
        assert abs(sound[-1]) < 1e-12
        # no step between samples larger than the steepest a 600 Hz partial makes
        assert np.max(np.abs(np.diff(sound))) < np.max(np.abs(sound)) * 2 * np.pi * 600 / S
    inhale, exhale = pacer_tone("inhale", length), pacer_tone("exhale", length)
    quarter = length // 4

    def crossings(part: Samples) -> int:
        return int(np.sum(np.diff(np.signbit(part)) != 0))

    assert crossings(inhale[:quarter]) < crossings(inhale[-quarter:])  # rising
    assert crossings(exhale[:quarter]) > crossings(exhale[-quarter:])  # falling


def test_the_noise_bed_is_deterministic_and_loops_without_a_seam() -> None:
    bed = noise_bed()
    assert np.array_equal(noise_bed(), bed)
    steps = np.abs(np.diff(bed))
    seam = abs(bed[0] - bed[-1])
    assert seam <= np.percentile(steps, 99)  # the loop point is an ordinary step
    assert abs(float(np.mean(bed))) < 1e-6  # no DC


def test_a_looped_file_joins_its_tail_to_its_head_without_a_click() -> None:
    n = np.arange(3 * S)
    sound = np.sin(2 * np.pi * 441.3 * n / S)  # not a whole number of cycles
    assert abs(sound[-1] - sound[0]) > 0.1  # looped as it is, it would click
    steepest = np.max(np.abs(np.diff(sound)))
    loop = looped(sound, S // 2)
    assert len(loop) == 3 * S - S // 2
    assert abs(loop[-1] - loop[0]) <= steepest * 1.01


def write_wav(path: Path, values: npt.NDArray[np.float64], rate: int = 22050) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        stereo = np.repeat(values.astype("<i2"), 2)
        w.writeframes(stereo.tobytes())


def test_a_bed_file_is_decoded_to_the_session_format_and_looped(tmp_path: Path) -> None:
    path = tmp_path / "rain.wav"
    write_wav(path, 6000 * np.sin(2 * np.pi * 300 * np.arange(3 * 22050) / 22050))
    bed = file_bed(path)
    assert len(bed) == 3 * S - S // 2  # 44.1 kHz mono, less the crossfade
    assert active_level([bed]) == pytest.approx(1.0)


def test_a_bed_file_that_cannot_be_used_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"cannot read the background .*missing\.wav: No such"):
        file_bed(tmp_path / "missing.wav")
    short = tmp_path / "short.wav"
    write_wav(short, 6000 * np.ones(2205))
    with pytest.raises(AudioError, match=r"lasts 0\.10 s; a bed needs at least 2 s"):
        file_bed(short)
    silent = tmp_path / "silent.wav"
    write_wav(silent, np.zeros(3 * 22050))
    with pytest.raises(AudioError, match="is silent"):
        file_bed(silent)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"not audio at all" * 100)
    with pytest.raises(AudioError, match="cannot decode the background"):
        file_bed(junk)


def test_layered_builds_are_identical(layered: Prepared) -> None:
    again = prepare(SessionOptions(hold=20.0, extras=EXTRAS), FakeEngine())
    assert np.array_equal(pcm(again), pcm(layered))
