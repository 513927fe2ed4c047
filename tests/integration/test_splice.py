"""The default MP3 path encodes a session with its long silences cut out and splices
them back in as repeated silent frames (voiceguide/splice.py). Proof that this is
safe: the result is, byte for byte, the file that encoding the whole session writes,
so ffmpeg decodes it to the same samples; and the short file, which the build
measures, measures as the finished one.

Real espeak-ng (through pyttsx3) and ffmpeg; these fail, never skip, without them.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import voiceguide.session as session_module
from tests.conftest import require_tools
from tests.fakes import FakeEngine
from tests.integration.measure import assert_agrees_with_ffmpeg, check_session, decode
from voiceguide import splice
from voiceguide.extras import Extras, Pacer
from voiceguide.loudness import measure_file
from voiceguide.session import SessionOptions, build_session
from voiceguide.units import SAMPLE_RATE

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _tools() -> None:
    require_tools("ffmpeg", "ffprobe", "espeak-ng")


def precise_loudness(path: Path) -> dict[str, float]:
    """Integrated loudness and true peak to 0.01 LU and dB (ffmpeg's loudnorm meter)."""
    log = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
         "loudnorm=print_format=json", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    found = json.loads(log[log.rindex("{") :])
    return {key: float(found[f"input_{key}"]) for key in ("i", "tp")}


def test_the_spliced_mp3_is_the_whole_session_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = SessionOptions(hold=60.0)
    short = tmp_path / "short.mp3"
    expand = splice.expand

    def keep_short(source: Path, *rest: object) -> bool:
        shutil.copyfile(source, short)
        return expand(source, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(splice, "expand", keep_short)
    spliced = tmp_path / "spliced.mp3"
    result = build_session(options, spliced)
    timeline = result.timeline
    cuts = splice.plan_cuts(timeline)
    assert len(cuts) >= 4
    assert sum(c.length for c in cuts) > 20 * SAMPLE_RATE

    # The same session encoded whole, the plain way, with the same settings.
    monkeypatch.setattr(session_module, "mp3_shortcut", lambda *_: None)
    plain = tmp_path / "plain.mp3"
    whole = build_session(options, plain)
    assert whole.written is not None
    assert result.written is not None
    assert whole.written.levelled.gain == result.written.levelled.gain

    # Decoded by ffmpeg, sample by sample: the same count, no difference at all.
    a, b = decode(spliced), decode(plain)
    assert len(a) == len(b) == timeline.length
    difference = np.array(a, dtype=np.int64) - np.array(b, dtype=np.int64)
    peak = int(np.abs(difference).max())
    rms = math.sqrt(float(np.mean(difference * difference)))
    print(f"spliced vs plain: {len(a)} samples each, max difference {peak}, RMS {rms}")
    assert peak == 0
    assert rms == 0.0
    # Indeed the files are the same, headers (seek table, music CRC, gapless trim) and all.
    assert spliced.read_bytes() == plain.read_bytes()
    check_session(spliced, 60.0, timeline)

    # The short file the build measured measures as the finished one: silence is gated out.
    assert short.stat().st_size < spliced.stat().st_size - 20 * 16_000
    assert measure_file(short) == measure_file(spliced) == result.written.levelled.final
    # As ffmpeg's own meter measures the finished file, true peak (at 192 kHz) and all.
    assert_agrees_with_ffmpeg(spliced, result.written.levelled.final)
    # And to the hundredth, by another meter (the ebur128 summary gives tenths).
    quick, full = precise_loudness(short), precise_loudness(spliced)
    print(f"short file: {quick}; finished file: {full}")
    assert quick["i"] == pytest.approx(full["i"], abs=0.05)
    assert quick["tp"] == pytest.approx(full["tp"], abs=0.05)


def test_a_file_that_cannot_be_spliced_is_encoded_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cuts right at the end of each sound: the frames there are not silent.
    monkeypatch.setattr(splice, "SETTLE", 0)
    refused: list[bool] = []
    expand = splice.expand

    def watch(*args: object) -> bool:
        done = expand(*args)  # type: ignore[arg-type]
        refused.append(not done)
        return done

    monkeypatch.setattr(splice, "expand", watch)
    out = tmp_path / "s.mp3"
    result = build_session(SessionOptions(hold=20.0), out, engine=FakeEngine())
    assert refused == [True]
    check_session(out, 20.0, result.timeline)
    assert result.written is not None
    assert result.written.levelled.final == measure_file(out)


def test_a_session_with_layers_under_its_holds_is_encoded_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []

    def record(*args: object) -> bool:
        calls.append(args)
        return False

    monkeypatch.setattr(splice, "expand", record)
    options = SessionOptions(hold=40.0, extras=Extras(pacer=Pacer()))
    out = tmp_path / "s.mp3"
    result = build_session(options, out, engine=FakeEngine())
    assert splice.plan_cuts(result.timeline), "without layers this session would be spliced"
    assert calls == []
    assert len(decode(out)) == result.timeline.length
