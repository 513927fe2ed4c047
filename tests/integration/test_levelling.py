"""Levelling a session with layers under its holds: the voice is levelled, not the mix.

A pacer or a bed fills the quiet between the words; levelling the whole mix to the
target would push the voice up into the limiter the longer the holds. The gain is
found on the voice and chimes alone, so turning a layer on never changes the voice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from tests.fakes import FakeEngine
from tests.integration.measure import decode
from voiceguide.build.session import BuildResult, SessionOptions, build_session
from voiceguide.encode.levelling import TRUE_PEAK_LIMIT
from voiceguide.text.extras import Background, Extras, Pacer

pytestmark = pytest.mark.integration

LAYERS = Extras(pacer=Pacer(volume=-12), background=Background(volume=-14))


def build(tmp_path: Path, name: str, extras: Extras) -> BuildResult:
    options = SessionOptions(hold=60.0, extras=extras)
    return build_session(options, tmp_path / f"{name}.mp3", FakeEngine())


def test_layers_leave_the_voice_as_loud_as_without_them(tmp_path: Path) -> None:
    plain, layered = build(tmp_path, "plain", Extras()), build(tmp_path, "layered", LAYERS)
    assert not plain.written.levelled.on_voice
    assert layered.written.levelled.on_voice
    assert layered.written.levelled.gain == plain.written.levelled.gain
    assert layered.written.levelled.final.true_peak <= TRUE_PEAK_LIMIT
    assert layered.timeline.events == plain.timeline.events
    hold = layered.timeline.holds[0]
    a = np.array(decode(tmp_path / "plain.mp3"), dtype=np.float64)
    b = np.array(decode(tmp_path / "layered.mp3"), dtype=np.float64)
    # The set-up lines (before the first hold, where no layer sounds) decode alike.
    assert abs(db(rms(b[: hold.start]) / rms(a[: hold.start]))) < 0.05
    # ...while the quiet between the hold's cues carries the layers in one file only.
    quiet = [
        e for e in layered.timeline.events
        if e.kind == "pause" and hold.start < e.start and e.end < hold.end and e.length > 44100
    ]  # fmt: skip
    assert quiet
    voice = rms(a[: hold.start])
    for pause in quiet:
        middle = slice(pause.start + 4410, pause.end - 4410)
        assert rms(a[middle]) < 1  # digital silence, give or take the codec
        assert db(rms(b[middle]) / voice) > -30


def rms(values: npt.NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(values**2)))


def db(ratio: float) -> float:
    return float(20 * np.log10(ratio))
