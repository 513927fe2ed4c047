"""Loudness is measured on the session with its long pauses cut short: check that
this measures the same as the whole session (EBU R128 gates silence out)."""

from __future__ import annotations

import pytest

from tests.conftest import require_tools
from tests.fakes import FakeEngine
from voiceguide.extras import Background, Extras, Pacer
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


def test_condensed_session_with_layers_measures_like_the_whole() -> None:
    """Pauses under a bed or pacer are not silent: condensing keeps them."""
    require_tools("ffmpeg")
    extras = Extras(pacer=Pacer(volume=-10), background=Background(volume=-12))
    prepared = prepare(SessionOptions(hold=40.0, extras=extras), FakeEngine())
    full = prepared.timeline
    plan, layers = prepared.layers()
    short = condensed(full, MEASURE_PAUSE, plan.sounding())
    _, short_layers = prepared.layers(short)
    assert short.length < full.length
    whole = measure_pcm(render(full, prepared.speech, prepared.chimes, layers), full.length)
    quick = measure_pcm(render(short, prepared.speech, prepared.chimes, short_layers), short.length)
    assert quick.integrated == pytest.approx(whole.integrated, abs=0.1 + 1e-9)
    assert quick.true_peak == pytest.approx(whole.true_peak, abs=0.05)
    # Cutting the holds' pauses as if they were silent would measure something else.
    naive = condensed(full, MEASURE_PAUSE)
    _, naive_layers = prepared.layers(naive)
    wrong = measure_pcm(render(naive, prepared.speech, prepared.chimes, naive_layers), naive.length)
    assert abs(wrong.integrated - whole.integrated) > 0.5  # 1.7 LU, when written
