"""The numpy levelling: the BS.1770 meter, the limiter, and loudness found from the
plan's islands of sound, on the fake engine (no ffmpeg; tests/integration checks
the meter against ffmpeg's own)."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pytest

from tests.fakes import FakeEngine
from voiceguide.build.session import Prepared, SessionOptions, prepare
from voiceguide.encode import bs1770
from voiceguide.encode.levelling import LIMITER_CEILING, find_level
from voiceguide.encode.mp3 import splice
from voiceguide.encode.plan_loudness import VoiceLoudness
from voiceguide.sound import limiter
from voiceguide.sound.islands import MARGIN, Sounds, islands
from voiceguide.units import SAMPLE_RATE


def sine(hz: float, amplitude: float, seconds: float) -> np.ndarray:
    n = np.arange(round(seconds * SAMPLE_RATE))
    return np.asarray(amplitude * np.sin(2 * np.pi * hz * n / SAMPLE_RATE))


def loudness(samples: np.ndarray, channels: int = 1) -> bs1770.Energies:
    meter = bs1770.StreamMeter(channels)
    for start in range(0, len(samples), 10_000 * channels):  # blocks of any size
        meter.add(samples[start : start + 10_000 * channels])
    return meter.finish()


def iir(samples: np.ndarray) -> np.ndarray:
    """The K-weighting as the Recommendation writes it: two biquads, sample by sample."""
    out = list(samples)
    for b, a in bs1770._biquads(SAMPLE_RATE):
        x1 = x2 = y1 = y2 = 0.0
        for i, x in enumerate(out):
            y = b[0] * x + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            x2, x1, y2, y1 = x1, x, y1, y
            out[i] = y
    return np.asarray(out)


def test_k_weighting_by_fft_is_the_recursive_filter() -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate((rng.normal(0, 0.1, 20_000), np.zeros(bs1770.TAPS)))
    assert np.abs(bs1770.k_weighted(x)[: len(x)] - iir(x)).max() < 1e-9


def test_a_1khz_sine_reads_as_the_recommendation_says() -> None:
    # BS.1770: a 0 dBFS 1 kHz sine in one channel reads -3.01 LUFS; as dual mono, 0.
    energies = loudness(sine(1000, 0.1, 10.0))
    assert energies.integrated() == pytest.approx(-20.0, abs=0.05)
    assert energies.loudness_range() == pytest.approx(0.0, abs=0.05)
    stereo = np.column_stack((sine(1000, 0.1, 10.0), np.zeros(10 * SAMPLE_RATE))).ravel()
    assert loudness(stereo, 2).integrated() == pytest.approx(-23.01, abs=0.05)


def test_gates_and_range() -> None:
    quiet, loud = sine(1000, 0.01, 10.0), sine(1000, 0.1, 10.0)
    both = loudness(np.concatenate((loud, quiet)))
    # The quiet half is 20 LU down: the relative gate (-10 LU) leaves it out.
    assert both.integrated() == pytest.approx(-20.0, abs=0.1)
    # The range gate is -20 LU, so both halves count: about 20 LU of range.
    assert both.loudness_range() == pytest.approx(20.0, abs=0.3)
    assert loudness(np.zeros(5 * SAMPLE_RATE)).integrated() == bs1770.SILENT


def test_a_sound_weighted_alone_adds_as_in_the_whole_signal() -> None:
    rng = np.random.default_rng(2)
    whole = np.zeros(8 * SAMPLE_RATE)
    parts = [(12_345, rng.normal(0, 0.2, SAMPLE_RATE)), (200_000, rng.normal(0, 0.05, 30_000))]
    energies = bs1770.Energies(len(whole))
    for start, sound in parts:
        whole[start : start + len(sound)] = sound
        energies.add_weighted(start, bs1770.k_weighted(sound))
    assert energies.integrated() == pytest.approx(loudness(whole).integrated(), abs=1e-9)


def test_the_limiter_holds_every_sample_under_the_ceiling_and_leaves_the_rest() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.1, 5 * SAMPLE_RATE)
    x[[20_000, 20_300, 150_000]] = [0.95, -0.9, 0.99]
    ceiling = 0.5
    envelope = limiter.gain_envelope(x, ceiling)
    assert envelope is not None
    assert np.abs(x * envelope).max() <= ceiling * (1 + 1e-12)
    assert envelope.max() <= 1.0
    # Away from the peaks (further than its reach), nothing changes.
    near = np.zeros(len(x), dtype=bool)
    for peak in np.flatnonzero(np.abs(x) > ceiling):
        near[max(0, peak - limiter.REACH) : peak + limiter.REACH + 1] = True
    assert np.all(envelope[~near] == 1.0)
    assert envelope[near].min() < 1.0
    # It moves smoothly: no step of more than a few percent from one sample to the next.
    assert np.abs(np.diff(envelope)).max() < 0.01
    assert limiter.gain_envelope(x * 0.1, ceiling) is None


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(SessionOptions(hold=60.0), FakeEngine())


def test_islands_keep_their_margin_and_the_short_session_has_the_same(prepared: Prepared) -> None:
    timeline = prepared.timeline
    found = islands(timeline)
    assert all(b.start - a.end >= MARGIN for a, b in itertools.pairwise(found))
    sounds = [e for e in timeline.events if e.kind != "pause" and e.length]
    assert sum(len(i.parts) for i in found) == len(sounds)
    short = splice.shortened(timeline, splice.plan_cuts(timeline))
    assert [i.parts for i in islands(short)] == [i.parts for i in found]


def test_the_loudness_from_the_plan_is_the_rendered_sessions(prepared: Prepared) -> None:
    timeline = prepared.timeline
    sounds = Sounds(prepared.speech, prepared.chimes)
    voice = VoiceLoudness(sounds, timeline)
    for gain, ceiling in ((0.0, None), (8.0, LIMITER_CEILING), (3.0, -12.0)):
        pcm = b"".join(sounds.render(timeline, gain, ceiling if ceiling is not None else 99.0))
        rendered = np.frombuffer(pcm, dtype="<i2") / 32768.0
        assert len(rendered) == timeline.length
        measured = loudness(rendered).integrated()
        assert (
            voice.raw().integrated + gain if ceiling is None else voice.each([gain], ceiling)[0]
        ) == pytest.approx(measured, abs=0.01)
        if ceiling is not None:
            assert np.abs(rendered).max() <= 10 ** (ceiling / 20) + 1 / 32768


def test_the_estimate_of_the_limited_loudness_is_the_weighed_loudness(prepared: Prepared) -> None:
    # The fake voice is a steady tone, which the limiter scales evenly: the estimate is
    # exact there. At 3 dB nothing is limited (the same to the bit), at 12 dB all the
    # speech, at 18 dB the chimes' starts too.
    voice = VoiceLoudness(Sounds(prepared.speech, prepared.chimes), prepared.timeline)
    gains = [3.0, 12.0, 18.0]
    weighed = voice.each(gains, LIMITER_CEILING)
    estimated = voice.estimate(gains, LIMITER_CEILING)
    assert estimated[0] == weighed[0]
    assert estimated == pytest.approx(weighed, abs=0.01)
    assert weighed[1] < voice.raw().integrated + 12.0 - 1.0  # the limiter did take loudness off


def test_the_gain_found_reaches_the_target_on_the_rendered_pcm(prepared: Prepared) -> None:
    timeline = prepared.timeline
    sounds = Sounds(prepared.speech, prepared.chimes)
    level = find_level(VoiceLoudness(sounds, timeline), -16.0)
    pcm = b"".join(sounds.render(timeline, level.gain, LIMITER_CEILING))
    measured = loudness(np.frombuffer(pcm, dtype="<i2") / 32768.0).integrated()
    assert measured == pytest.approx(-16.0, abs=0.25)


def test_a_span_of_the_levelled_render_is_that_span_of_the_whole(prepared: Prepared) -> None:
    timeline = prepared.timeline
    sounds = Sounds(prepared.speech, prepared.chimes)
    whole = b"".join(sounds.render(timeline, 6.0, LIMITER_CEILING))
    speech = next(e for e in timeline.events if e.kind == "speech")
    for start, end in ((0, 1000), (speech.start + 17, speech.end - 5), (1234, timeline.length)):
        part = b"".join(sounds.render(timeline, 6.0, LIMITER_CEILING, start, end))
        assert part == whole[start * 2 : end * 2]


def test_the_loudness_does_not_depend_on_the_chunks_it_is_weighed_in(
    prepared: Prepared, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.encode import plan_loudness

    sounds = Sounds(prepared.speech, prepared.chimes)
    whole = VoiceLoudness(sounds, prepared.timeline)
    expected = [whole.raw().integrated, *whole.each([6.0, 9.0], LIMITER_CEILING)]
    monkeypatch.setattr(plan_loudness, "CHUNK", 5000)  # far shorter than a clip
    chunked = VoiceLoudness(sounds, prepared.timeline)
    found = [chunked.raw().integrated, *chunked.each([6.0, 9.0], LIMITER_CEILING)]
    assert found == pytest.approx(expected, abs=1e-9)
    assert expected[1] < expected[2]  # and each gain is its own


def test_only_the_steps_the_limiter_reaches_are_weighed_again(
    prepared: Prepared, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.encode import plan_loudness

    sounds = Sounds(prepared.speech, prepared.chimes)
    # The fake voice peaks at -12.2 dBFS all along, the chimes at -18 and falling:
    # at 3 dB nothing is limited, at 12 dB all the speech, at 18 dB the chimes' starts.
    gains = [3.0, 12.0, 18.0]
    reached: list[float] = []
    real = plan_loudness._reached

    def spy(over: np.ndarray) -> np.ndarray:
        reached.append(float(real(over).mean()))
        return real(over)

    monkeypatch.setattr(plan_loudness, "_reached", spy)
    found = VoiceLoudness(sounds, prepared.timeline).each(gains, LIMITER_CEILING)
    assert 1.0 in reached
    assert 0.0 < min(reached) < 1.0  # the chimes: some of their steps are left as they were
    # Every step of every limited island weighed again: the same loudness.
    monkeypatch.setattr(plan_loudness, "_reached", lambda over: np.ones_like(over))
    everything = VoiceLoudness(sounds, prepared.timeline).each(gains, LIMITER_CEILING)
    assert found == pytest.approx(everything, abs=1e-9)


def test_the_limiter_reaches_a_step_either_side_and_its_ringing_one_more() -> None:
    from voiceguide.encode.plan_loudness import _reached

    over = np.zeros(10, dtype=bool)
    over[[0, 5]] = True
    assert np.flatnonzero(_reached(over)).tolist() == [0, 1, 2, 4, 5, 6, 7]


def test_islands_weighed_side_by_side_give_the_same_loudness_to_the_bit(
    prepared: Prepared,
) -> None:
    sounds = Sounds(prepared.speech, prepared.chimes)
    alone, side_by_side = (VoiceLoudness(sounds, prepared.timeline, jobs=jobs) for jobs in (1, 2))
    assert side_by_side.raw() == alone.raw()
    assert side_by_side.each([3.0, 12.0, 18.0], LIMITER_CEILING) == alone.each(
        [3.0, 12.0, 18.0], LIMITER_CEILING
    )
    assert find_level(side_by_side, -16.0) == find_level(alone, -16.0)


class DictStore:
    def __init__(self) -> None:
        self.figures: dict[str, np.ndarray] = {}

    def get_figures(self, key: str) -> np.ndarray | None:
        return self.figures.get(key)

    def put_figures(self, key: str, figures: np.ndarray) -> None:
        self.figures[key] = figures.copy()


def test_stored_figures_give_the_same_loudness_without_weighing_again(
    prepared: Prepared, monkeypatch: pytest.MonkeyPatch
) -> None:
    sounds = Sounds(prepared.speech, prepared.chimes)
    store = DictStore()
    first = VoiceLoudness(sounds, prepared.timeline, store=store)
    expected = [first.raw(), first.each([3.0, 12.0], LIMITER_CEILING)]
    # One entry for each distinct island (the fake voice's reminders repeat, at the
    # same place within their 100 ms steps).
    assert 0 < len(store.figures) <= len(first.islands)
    weighed: list[object] = []
    raw = Sounds.raw

    def spy(*args: Any) -> Any:
        weighed.append(args)
        return raw(*args)

    monkeypatch.setattr(Sounds, "raw", spy)
    again = VoiceLoudness(sounds, prepared.timeline, store=store)
    assert again.raw() == expected[0]
    assert not weighed  # every island's figures came from the store
    assert again.each([3.0, 12.0], LIMITER_CEILING) == expected[1]


def test_figures_that_do_not_fit_are_weighed_again_and_replaced(prepared: Prepared) -> None:
    sounds = Sounds(prepared.speech, prepared.chimes)
    store = DictStore()
    expected = VoiceLoudness(sounds, prepared.timeline, store=store).raw()
    keys = list(store.figures)
    store.figures[keys[0]] = store.figures[keys[0]][:, :-1]  # a step short
    store.figures[keys[1]] = np.full_like(store.figures[keys[1]], np.nan)
    assert VoiceLoudness(sounds, prepared.timeline, store=store).raw() == expected
    assert all(np.isfinite(f).all() for f in store.figures.values())


def test_an_island_moved_within_its_step_is_weighed_again(prepared: Prepared) -> None:
    sounds = Sounds(prepared.speech, prepared.chimes)
    store = DictStore()
    VoiceLoudness(sounds, prepared.timeline, store=store).raw()
    moved = dataclasses.replace(
        prepared.timeline,
        events=tuple(dataclasses.replace(e, start=e.start + 7) for e in prepared.timeline.events),
    )
    before = set(store.figures)
    VoiceLoudness(sounds, moved, store=store).raw()
    assert not before & (set(store.figures) - before)
    assert len(store.figures) == 2 * len(before)


def test_skipped_silence_measures_as_silence_there() -> None:
    rng = np.random.default_rng(4)
    first, second = rng.normal(0, 0.1, 3 * SAMPLE_RATE), rng.normal(0, 0.03, 5 * SAMPLE_RATE)
    gap = 123_457  # not a whole number of 100 ms steps
    whole = loudness(np.concatenate((first, np.zeros(gap), second)))
    meter = bs1770.StreamMeter(1)
    meter.add(first)
    meter.skip(gap)
    meter.add(second)
    skipped = meter.finish()
    assert skipped.length == whole.length
    assert skipped.integrated() == pytest.approx(whole.integrated(), abs=1e-9)
    assert skipped.loudness_range() == pytest.approx(whole.loudness_range(), abs=1e-9)
