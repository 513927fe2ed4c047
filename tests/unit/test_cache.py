"""The speech cache never serves a clip that is cut short."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.fakes import tone
from voiceguide.sound import resample
from voiceguide.sound.audio import samples
from voiceguide.speech.cache import ClipCache, is_whole_wav
from voiceguide.units import SAMPLE_RATE


def test_a_clip_comes_back_whole(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    key = ClipCache.key("fake", "Breathe.")
    cache.put(key, tone(0.5, SAMPLE_RATE))
    clip = cache.get(key)
    assert clip is not None
    assert samples(clip) == SAMPLE_RATE // 2
    assert cache.info().clips == 1


def test_a_clip_cut_short_is_thrown_away(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    key = ClipCache.key("fake", "Breathe.")
    cache.put(key, tone(0.5, SAMPLE_RATE))
    (path,) = tmp_path.glob("*/*.wav")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])  # as a write cut off halfway would leave it
    assert not is_whole_wav(path.read_bytes())
    assert ClipCache(tmp_path).get(key) is None
    assert not path.exists()


def test_temporary_files_of_killed_builds_are_removed_and_not_counted(tmp_path: Path) -> None:
    stale = tmp_path / "ab" / ".voiceguide-0123456789abcdef.part.wav"
    stale.parent.mkdir()
    stale.write_bytes(b"half")
    assert ClipCache(tmp_path).info().clips == 0
    assert not stale.exists()


def test_clips_resampled_the_old_way_are_not_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clips cached before band-limited resampling (format 3, keyed without the
    resampler) were brought to 44.1 kHz by pydub's interpolator: never reused."""
    cache = ClipCache(tmp_path)
    blob = json.dumps([3, "fake", "Breathe."], ensure_ascii=False)
    cache.put(hashlib.sha256(blob.encode("utf-8")).hexdigest(), tone(0.5, SAMPLE_RATE))
    assert cache.get(ClipCache.key("fake", "Breathe.")) is None
    # And another resampler (or another version of it) keys its clips apart.
    key = ClipCache.key("fake", "Breathe.")
    monkeypatch.setattr(resample, "identity", lambda: "soxr 9.9 VHQ")
    assert ClipCache.key("fake", "Breathe.") != key
