"""Every output format decodes to the planned length, with exact holds and level loudness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.measure import (
    TOLERANCE,
    assert_agrees_with_ffmpeg,
    decode,
    hold_onsets,
    probe,
)
from tests.integration.test_real_build import check_clean_sound
from voiceguide.build.session import SessionOptions, build_session
from voiceguide.encode.meter import measure_file
from voiceguide.units import SAMPLE_RATE

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def _shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared-cache")


@pytest.fixture(autouse=True)
def _private_cache(_shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """These tests share one speech cache (never the user's): the same lines, spoken once."""
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(_shared_cache))
    return _shared_cache


@pytest.mark.parametrize(
    ("name", "codec", "chapters"),
    [
        ("mp3", "mp3", 6),
        ("m4a", "aac", 6),
        ("ogg", "opus", 0),
        ("flac", "flac", 0),
        ("wav", "pcm_s16le", 0),
    ],
)
def test_each_format_decodes_to_the_plan(
    tmp_path: Path, name: str, codec: str, chapters: int
) -> None:
    out = tmp_path / f"session.{name}"
    result = build_session(SessionOptions(hold=12.0), out)
    timeline = result.timeline
    # Decoded (at the session rate), the file has exactly the planned samples, and
    # every hold, measured at the chime onsets, lasts what was asked.
    values = decode(out)
    assert len(values) == timeline.length
    assert len(timeline.holds) == 2
    for hold in timeline.holds:
        start, end = hold_onsets(values, timeline, hold)
        assert abs(start - hold.start) <= TOLERANCE
        assert abs(end - hold.end) <= TOLERANCE
        assert abs((end - start) - 12 * SAMPLE_RATE) <= TOLERANCE
    check_clean_sound(values, timeline)
    info = probe(out)
    stream: dict[str, Any] = info["streams"][0]  # type: ignore[index]
    assert stream["codec_name"] == codec
    assert len(info.get("chapters", [])) == chapters  # type: ignore[arg-type]
    loudness = measure_file(out)
    assert abs(loudness.integrated - -16.0) <= 1.0
    assert loudness.true_peak <= -1.0
    # And by ffmpeg's own meter (true peak resampled to 192 kHz), in every format.
    reference = assert_agrees_with_ffmpeg(out, loudness)
    assert reference["true_peak"] <= -1.0
    fmt: dict[str, Any] = info["format"]  # type: ignore[assignment]
    tags = {k.lower(): v for k, v in {**stream.get("tags", {}), **fmt.get("tags", {})}.items()}
    assert tags["title"] == "Strapped hamstring stretch: twelve seconds per side"
    assert tags["artist"] == "voiceguide"
    assert float(fmt["duration"]) - timeline.length / SAMPLE_RATE < 0.08


def test_bitrate_and_target_loudness_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "quiet.ogg"
    build_session(SessionOptions(hold=10.0, bitrate="64k", loudness=-20.0), out)
    assert abs(measure_file(out).integrated - -20.0) <= 1.0
    fmt: dict[str, Any] = probe(out)["format"]  # type: ignore[assignment]
    assert 40_000 < int(fmt["bit_rate"]) < 90_000
