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


def test_figures_come_back_to_the_bit_and_a_file_cut_short_is_thrown_away(
    tmp_path: Path,
) -> None:
    import numpy as np

    cache = ClipCache(tmp_path)
    figures = np.array([[0.1, 1e-300, 3.0], [0.5, 0.25, 0.0]])
    cache.put_figures("ab" + "0" * 62, figures)
    found = cache.get_figures("ab" + "0" * 62)
    assert found.dtype == np.float64
    assert found.tobytes() == figures.tobytes()
    assert cache.get_figures("cd" + "0" * 62) is None
    path = tmp_path / "ab" / ("ab" + "0" * 62 + ".npy")
    path.write_bytes(path.read_bytes()[:-5])
    assert cache.get_figures("ab" + "0" * 62) is None
    assert not path.exists()


def test_the_cache_counts_clips_and_the_bytes_of_all_it_keeps(tmp_path: Path) -> None:
    import numpy as np

    cache = ClipCache(tmp_path)
    cache.put(ClipCache.key("fake", "Breathe."), tone(0.5, SAMPLE_RATE))
    clip_bytes = cache.info().bytes
    cache.put_figures("ab" + "0" * 62, np.zeros((2, 100)))
    info = cache.info()
    assert info.clips == 1
    assert info.bytes > clip_bytes + 1600


def test_a_json_object_comes_back_and_a_damaged_one_is_thrown_away(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    key = "ef" + "1" * 62
    level = {"gain": 1.5485012283912263, "raw": [-17.5, -3.25, 4.0], "notes": ["a note"]}
    cache.put_json(key, level)
    assert cache.get_json(key) == level
    assert cache.get_json("ef" + "2" * 62) is None
    path = tmp_path / "ef" / f"{key}.json"
    path.write_bytes(path.read_bytes()[:-3])
    assert cache.get_json(key) is None
    assert not path.exists()


def test_encoded_files_past_the_budget_go_least_recently_used_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from voiceguide.speech import cache as cache_module

    monkeypatch.setattr(cache_module, "ENCODED_BUDGET", 3000)
    cache = ClipCache(tmp_path)
    a, b, c, d = (letter * 64 for letter in "abcd")  # keys, as cache_key makes them
    for number, key in enumerate((a, b, c)):
        cache.put_encoded(key, bytes([number]) * 1000)
        path = tmp_path / "encoded" / f"{key}.mp3"
        os.utime(path, ns=(number * 10**9, number * 10**9))  # a second apart, a first
    assert cache.get_encoded(a) == bytes(1000)  # now the most recently used
    cache.put_encoded(d, b"\xff" * 1000)
    assert cache.get_encoded(b) is None  # the least recently used: gone
    assert cache.get_encoded(c) == b"\x02" * 1000
    assert cache.get_encoded(a) == bytes(1000)
    assert cache.get_encoded(d) == b"\xff" * 1000
    cache.forget_encoded(d)
    assert cache.get_encoded(d) is None
    assert cache.info().bytes == 2000  # counted as the cache's
    cache.clear()
    assert cache.get_encoded(a) is None


def test_an_encoded_file_is_read_from_a_cache_that_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    cache = ClipCache(tmp_path)
    cache.put_encoded("a", b"frames")

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "utime", refused)
    assert cache.get_encoded("a") == b"frames"


def test_clearing_removes_what_the_cache_wrote_and_nothing_else(tmp_path: Path) -> None:
    """$VOICEGUIDE_CACHE_DIR may name a folder that holds the user's own files too."""
    folder = tmp_path / "cache"
    cache = ClipCache(folder)
    key = ClipCache.key("fake", "Breathe.")
    cache.put(key, tone(0.5, SAMPLE_RATE))
    cache.put_json(key, {"gain": 1.0})
    cache.put_encoded("ab" * 32, b"frames")
    (folder / "models").mkdir()
    (folder / "models" / ("voice-" + "0" * 32 + ".onnx")).write_bytes(b"model")
    (folder / "models" / ("voice-" + "0" * 16 + ".sha256")).write_text("1 2 3 4 5 " + "0" * 16)
    (folder / "notes.txt").write_text("mine")
    (folder / "photos").mkdir()
    (folder / "photos" / "ab.wav").write_bytes(b"mine too")
    (folder / "encoded" / "readme.txt").write_text("and this")
    (folder / key[:2] / "mine.wav").write_bytes(b"not a key's")
    (folder / key[:2] / f"{key[:2]}cafe.wav").write_bytes(b"hex, but not a key")
    (folder / "encoded" / "song.mp3").write_bytes(b"an mp3 of the user's")
    assert cache.info().clips == 1

    cleared = cache.clear()
    assert (cleared.clips, cleared.left) == (1, 6)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == sorted(
        [
            "encoded",
            "encoded/readme.txt",
            "encoded/song.mp3",
            key[:2],
            f"{key[:2]}/mine.wav",
            f"{key[:2]}/{key[:2]}cafe.wav",
            "notes.txt",
            "photos",
            "photos/ab.wav",
        ]
    )
    assert cache.info().clips == cache.info().bytes == 0
    # A cache folder of the cache's own files alone goes with them.
    only = ClipCache(tmp_path / "only")
    only.put(key, tone(0.5, SAMPLE_RATE))
    only.put_encoded("cd" * 32, b"frames")
    assert only.clear().left == 0
    assert not (tmp_path / "only").exists()
