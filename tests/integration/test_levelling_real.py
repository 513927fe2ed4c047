"""The loudness levelling finds from the plan is what ffmpeg's own meter reads on
the levelled PCM. Real ffmpeg; these fail, never skip, without it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.fakes import FakeEngine
from voiceguide.build.session import SessionOptions, prepare
from voiceguide.encode.levelling import LIMITER_CEILING
from voiceguide.encode.plan_loudness import VoiceLoudness
from voiceguide.sound.islands import Sounds
from voiceguide.units import SAMPLE_RATE

pytestmark = pytest.mark.integration


def ffmpeg_integrated(pcm: Path) -> float:
    log = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-f", "s16le", "-ar", str(SAMPLE_RATE),
         "-ac", "1", "-i", str(pcm), "-af", "ebur128=dualmono=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    found = re.search(r"^\s*I:\s+(-?[\d.]+) LUFS", log[log.rindex("Summary:") :], re.MULTILINE)
    assert found is not None
    return float(found.group(1))


def test_the_loudness_found_from_the_plan_is_what_ffmpeg_measures(tmp_path: Path) -> None:
    prepared = prepare(SessionOptions(hold=30.0), FakeEngine())
    timeline = prepared.timeline
    sounds = Sounds(prepared.speech, prepared.chimes)
    voice = VoiceLoudness(sounds, timeline)
    for gain, ceiling in ((0.0, None), (9.0, LIMITER_CEILING)):
        pcm = tmp_path / f"{gain}.pcm"
        pcm.write_bytes(b"".join(sounds.render(timeline, gain, ceiling or 0.0)))
        # ffmpeg prints tenths, and gates through a histogram of 0.01 LU bins: its
        # reading may be one printed step from the exact value's rounding.
        assert (
            voice.raw().integrated + gain if ceiling is None else voice.each([gain], ceiling)[0]
        ) == pytest.approx(ffmpeg_integrated(pcm), abs=0.1 + 1e-9)


def test_the_estimate_of_the_limited_loudness_holds_for_real_speech() -> None:
    """Speech is not scaled evenly by the limiter, as a tone is: each step keeps the
    share of its plain energy, and its K-weighted energy is estimated to keep the same.
    Measured on the default session's espeak-ng voice: within 0.006 LU from the gain
    the search starts at to 8 dB past it (docs/design.md)."""
    prepared = prepare(SessionOptions(hold=30.0))
    voice = VoiceLoudness(Sounds(prepared.speech, prepared.chimes), prepared.timeline)
    first = -16.0 - voice.raw().integrated
    gains = [first, first + 0.5, first + 1.6, first + 8.0]
    weighed = voice.each(gains, LIMITER_CEILING)
    estimated = voice.estimate(gains, LIMITER_CEILING)
    assert estimated == pytest.approx(weighed, abs=0.02)
    assert weighed[0] < -16.0 - 0.05  # the limiter works at all of them
