"""Speech clips past a few megabytes are read from the cache when needed, not held."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fakes import FakeEngine, tone
from tests.helpers import first_arguments
from voiceguide.errors import SpeechError
from voiceguide.sound.audio import samples
from voiceguide.speech import clips as clips_module
from voiceguide.speech import longest_first
from voiceguide.speech.cache import ClipCache
from voiceguide.speech.clips import Clips, speak
from voiceguide.units import SAMPLE_RATE

TEXTS = ["Lie on your back.", "Loop the strap around your foot.", "Breathe out slowly."]


def no_progress(*_: object) -> None:
    pass


def counted_reads(cache: ClipCache, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the clips ``cache`` is asked for from now on, in order."""
    return first_arguments(monkeypatch, cache, "get")


def test_clips_past_the_budget_are_read_from_the_cache_when_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ClipCache(tmp_path)
    held = speak(TEXTS, FakeEngine(), cache, no_progress)  # the budget holds them all
    monkeypatch.setattr(clips_module, "HELD_BYTES", 0)
    reads = counted_reads(cache, monkeypatch)
    stored = speak(TEXTS, FakeEngine(), cache, no_progress)
    assert len(reads) == len(TEXTS)  # each read once to check it, then let go
    assert [stored.samples(t) for t in TEXTS] == [samples(held[t]) for t in TEXTS]
    assert len(reads) == len(TEXTS)  # lengths come without reading
    for text in TEXTS:
        assert stored[text].raw_data == held[text].raw_data
    assert len(reads) == 2 * len(TEXTS)
    assert stored[TEXTS[0]].raw_data == held[TEXTS[0]].raw_data  # the last few are kept
    assert len(reads) == 2 * len(TEXTS)
    assert sorted(stored) == sorted(TEXTS)
    assert TEXTS[1] in stored


def test_a_clip_the_cache_loses_during_the_build_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clips_module, "HELD_BYTES", 0)
    found = speak(TEXTS, FakeEngine(), ClipCache(tmp_path), no_progress)
    for entry in tmp_path.iterdir():
        shutil.rmtree(entry)
    with pytest.raises(SpeechError, match=r"lost the clip for 'Lie on your back.'.*build again"):
        found[TEXTS[0]]


def test_clips_the_cache_cannot_keep_are_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clips_module, "HELD_BYTES", 0)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    cache = ClipCache(blocked)
    engine = FakeEngine()
    found = speak(TEXTS, engine, cache, no_progress)
    assert cache.problem is not None
    assert [samples(found[t]) for t in TEXTS] == [found.samples(t) for t in TEXTS]
    assert engine.spoken == TEXTS
    uncached = speak(TEXTS, FakeEngine(), None, no_progress)
    assert [found[t].raw_data for t in TEXTS] == [uncached[t].raw_data for t in TEXTS]


def test_renamed_clips_are_the_clips_of_the_names() -> None:
    found = Clips({"a": tone(0.5, SAMPLE_RATE)}, {})
    renamed = found.renamed({"A": "a"})
    assert list(renamed) == ["A"]
    assert renamed["A"].raw_data == found["a"].raw_data
    with pytest.raises(KeyError):
        renamed["a"]


def test_views_of_the_clips_share_one_memory_of_recent_clips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch makes a renamed view of its clips for every session, and keeps them
    # all: each view keeping its own recent clips grew the batch by 4 MB a session.
    cache = ClipCache(tmp_path)
    monkeypatch.setattr(clips_module, "HELD_BYTES", 0)
    found = speak(TEXTS, FakeEngine(), cache, no_progress)
    monkeypatch.setattr(clips_module, "RECENT_BYTES", 1)  # room for the last clip only
    reads = counted_reads(cache, monkeypatch)
    first, second = found.renamed({"a": TEXTS[0]}), found.renamed({"b": TEXTS[1]})
    first["a"]
    first["a"]
    assert len(reads) == 1  # kept
    second["b"]
    first["a"]
    assert len(reads) == 3  # the second view's clip took the first's place


def test_texts_are_taken_longest_first_and_equals_in_their_order() -> None:
    texts = ["Relax.", "Breathe out slowly.", "Hold it.", "Rest a moment.", "Breathe in slowly."]
    assert longest_first(texts) == [
        "Breathe out slowly.",
        "Breathe in slowly.",
        "Rest a moment.",
        "Hold it.",
        "Relax.",
    ]
    assert texts[0] == "Relax.", "the texts given are left as they were"
