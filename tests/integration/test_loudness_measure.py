"""Loudness is measured on the session with its long pauses cut short: check that
this measures the same as the whole session (EBU R128 gates silence out)."""

from __future__ import annotations

import pytest

from tests.conftest import require_tools
from tests.fakes import FakeEngine
from voiceguide.loudness import level_filter, measure_pcm
from voiceguide.render import render
from voiceguide.session import MEASURE_PAUSE, SessionOptions, prepare
from voiceguide.timeline import condensed

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
