"""A user's chime at another rate than the session's comes into it clean: nothing mirrored
above the source's Nyquist frequency, nothing folded down from above the session's.

(The engines' speech is checked the same way in the builds of test_real_build.py and
test_piper.py; the loudness as heard, in test_real_build.py.)
"""

from __future__ import annotations

import json
import math
import wave
from array import array
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from tests.fakes import MINI
from tests.integration.measure import decode, peak
from voiceguide.cli import cli
from voiceguide.units import SAMPLE_RATE

pytestmark = pytest.mark.integration


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="voiceguide")


def write_bell(path: Path, rate: int, partials: list[float], channels: int) -> Path:
    """A struck bell of 0.6 s: ``partials`` (Hz) at equal levels, a 2 ms attack, a decay."""
    values = array("h")
    for n in range(round(0.6 * rate)):
        t = n / rate
        envelope = min(1.0, t / 0.002) * math.exp(-t / 0.15)
        level = sum(math.sin(2 * math.pi * f * t) for f in partials) / len(partials)
        values.extend([round(0.8 * 32767 * envelope * level)] * channels)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(values.tobytes())
    return path


def energy_near(values: array[int], hz: list[float], width: float = 50.0) -> float:
    """The energy within ``width`` Hz of each of ``hz``, relative to all of it, in dB
    (Hann-windowed blocks of 16,384 samples, half overlapping, the last padded)."""
    block = 1 << 14
    pcm = np.asarray(values, dtype=np.float64)
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % block + block)])
    window, power = np.hanning(block), np.zeros(block // 2 + 1)
    for start in range(0, len(pcm) - block + 1, block // 2):
        power += np.abs(np.fft.rfft(pcm[start : start + block] * window)) ** 2
    bins = np.fft.rfftfreq(block, 1 / SAMPLE_RATE)
    near = np.any([np.abs(bins - f) <= width for f in hz], axis=0)
    return float(10 * np.log10(power[near].sum() / power.sum() + 1e-300))


@pytest.mark.parametrize(
    ("rate", "channels", "partials", "wrong"),
    [
        # What must not come in is the 23.5 kHz partial, above the session's Nyquist
        # frequency: a resampler without an anti-aliasing filter folds it to 20.6 kHz.
        (48000, 2, [880.0, 2640.0, 23_500.0], [44_100 - 23_500.0]),
        # At 16 kHz the bell's partials are mirrored about 8 kHz by an interpolator.
        (16000, 1, [880.0, 2640.0, 7000.0], [16_000 - 7000.0, 16_000 - 2640.0, 16_000 - 880.0]),
    ],
)
def test_a_user_chime_at_another_rate_is_clean_in_the_session(
    rate: int,
    channels: int,
    partials: list[float],
    wrong: list[float],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Measured where the mirrored or folded partials would be, 50 Hz either side: a
    chime at -18 dBFS decays into the 16-bit noise floor, which over the whole treble
    band lies only some 65 dB under it, and 82 dB in those bands (the same bell made
    at 44.1 kHz measures so too)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mini.yaml").write_text(MINI, "utf-8")
    write_bell(tmp_path / "bell.wav", rate, partials, channels)
    args = ["mini.yaml", "--hold", "10s", "--start-chime", "bell.wav", "--end-chime", "off"]
    # FLAC: lossless, so that no encoder's low-pass hides what came in.
    built = run("build", *args, "-o", "s.flac", "-q")
    assert built.exit_code == 0, built.output
    script = run("script", *args, "--json")
    assert script.exit_code == 0, script.output
    events = json.loads(script.stdout)["events"]

    values = decode(tmp_path / "s.flac")
    chimes = [e for e in events if e["kind"] == "chime"]
    assert len(chimes) == 2, "a start chime for each side"
    bell = array("h")
    for chime in chimes:
        bell.extend(values[chime["start_sample"] : chime["end_sample"]])
    assert peak(bell) > 1000, "the chime sounds"
    assert energy_near(bell, [f for f in partials if f < SAMPLE_RATE / 2]) > -10, "its partials"
    found = energy_near(bell, wrong)
    print(f"a chime at {rate} Hz: {found:.1f} dB where its images would be")
    assert found <= -70.0
