"""Loudness is measured on the session with its long pauses cut short: check that
this measures the same as the whole session (EBU R128 gates silence out)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tools
from tests.fakes import FakeEngine
from voiceguide.build.session import MEASURE_PAUSE, SessionOptions, prepare
from voiceguide.encode.levelling import level_filter
from voiceguide.encode.meter import measure_each, measure_pcm, parse_summary
from voiceguide.plan.timeline import condensed
from voiceguide.sound.render import render
from voiceguide.units import SAMPLE_RATE

pytestmark = pytest.mark.integration


def test_condensed_session_measures_like_the_whole() -> None:
    require_tools("ffmpeg")
    prepared = prepare(SessionOptions(hold=90.0), FakeEngine())
    full, short = prepared.timeline, condensed(prepared.timeline, MEASURE_PAUSE)
    for chain in (None, level_filter(6.0)):
        whole = measure_pcm(render(full, prepared.speech, prepared.chimes), full.length, chain)
        quick = measure_pcm(render(short, prepared.speech, prepared.chimes), short.length, chain)
        # The meter reports 0.1 LU steps: one step apart is 0.1, which floats make
        # 0.1000000000000014 (e.g. -16.7 against -16.8), so allow for that rounding.
        assert quick.integrated == pytest.approx(whole.integrated, abs=0.1 + 1e-9)
        assert quick.true_peak == pytest.approx(whole.true_peak, abs=0.05)


def test_the_noise_under_the_meter_changes_no_figure(tmp_path: Path) -> None:
    """measure_pcm adds white noise at -140 dBFS before ffmpeg's meter, so that the
    meter's filters stay out of denormal numbers in silence (slow on many CPUs):
    the meter reads exactly what it reads without it."""
    require_tools("ffmpeg")
    prepared = prepare(SessionOptions(hold=30.0), FakeEngine())
    timeline = prepared.timeline
    pcm = tmp_path / "session.pcm"
    pcm.write_bytes(b"".join(render(timeline, prepared.speech, prepared.chimes)))
    for chain in (None, level_filter(6.0)):
        meter = ",".join(f for f in (chain, "ebur128=peak=sample:dualmono=true") if f)
        guarded = measure_pcm(
            render(timeline, prepared.speech, prepared.chimes), timeline.length, chain
        )
        plain = subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostats", "-f", "s16le", "-ar", str(SAMPLE_RATE),
             "-ac", "1", "-i", str(pcm), "-af", meter,
             "-f", "null", "-"],
            capture_output=True, text=True, check=True,
        ).stderr  # fmt: skip
        assert guarded == parse_summary(plain)


def test_one_ffmpeg_measures_several_levellings_as_one_each() -> None:
    require_tools("ffmpeg")
    prepared = prepare(SessionOptions(hold=30.0), FakeEngine())
    short = condensed(prepared.timeline, MEASURE_PAUSE)
    chains = [level_filter(3.0), None, level_filter(9.0)]
    together = measure_each(render(short, prepared.speech, prepared.chimes), short.length, chains)
    alone = [
        measure_pcm(render(short, prepared.speech, prepared.chimes), short.length, chain)
        for chain in chains
    ]
    assert together == alone
    assert together[0].integrated < together[2].integrated  # and each is its own
