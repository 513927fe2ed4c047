"""What a build keeps for the next build of the same session (voiceguide/encode/kept.py):
the gain, found again only when what it follows from changes, and the encoded short
file, used only when it is whole. On the fake engine; tests/integration/test_determinism.py
builds with ffmpeg, cold, warm and without a cache, and compares the bytes."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.fakes import FakeEngine, tone
from voiceguide.build.session import Prepared, SessionOptions, prepare
from voiceguide.encode import kept
from voiceguide.encode.export import FORMATS, Encoding, Tags
from voiceguide.encode.levelling import LIMITER_CEILING, Level, find_level, kept_level
from voiceguide.encode.meter import Loudness
from voiceguide.encode.mp3 import splice
from voiceguide.encode.plan_loudness import VoiceLoudness
from voiceguide.plan.timeline import Event, Timeline
from voiceguide.progress import no_progress
from voiceguide.sound import islands as islands_module
from voiceguide.sound.islands import Sounds
from voiceguide.units import SAMPLE_RATE, SAMPLE_WIDTH


class DictStore:
    """A store in memory, as the speech cache keeps things on disk."""

    def __init__(self) -> None:
        self.figures: dict[str, Any] = {}
        self.levels: dict[str, dict[str, Any]] = {}
        self.encoded: dict[str, bytes] = {}

    def get_figures(self, key: str) -> Any:
        return self.figures.get(key)

    def put_figures(self, key: str, figures: Any) -> None:
        self.figures[key] = figures.copy()

    def get_json(self, key: str) -> dict[str, Any] | None:
        return self.levels.get(key)

    def put_json(self, key: str, value: dict[str, Any]) -> None:
        self.levels[key] = value

    def get_encoded(self, key: str) -> bytes | None:
        return self.encoded.get(key)

    def put_encoded(self, key: str, data: bytes) -> None:
        self.encoded[key] = data

    def forget_encoded(self, key: str) -> None:
        del self.encoded[key]


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(SessionOptions(hold=60.0), FakeEngine())


def loudness_of(prepared: Prepared, timeline: Timeline | None = None) -> VoiceLoudness:
    sounds = Sounds(prepared.speech, prepared.chimes)
    return VoiceLoudness(sounds, timeline or prepared.timeline)


def counted(calls: list[float]) -> Any:
    def find(loudness: VoiceLoudness, target: float) -> Level:
        calls.append(target)
        return find_level(loudness, target)

    return find


def moved(timeline: Timeline, samples: int) -> Timeline:
    """``timeline`` with everything after its first event ``samples`` later."""
    first, *rest = timeline.events
    return dataclasses.replace(
        timeline,
        events=(
            dataclasses.replace(first, length=first.length + samples),
            *(dataclasses.replace(e, start=e.start + samples) for e in rest),
        ),
    )


def test_a_gain_found_once_is_read_back_to_the_bit_without_searching(prepared: Prepared) -> None:
    store, calls = DictStore(), list[float]()
    first = kept_level(loudness_of(prepared), -16.0, store, counted(calls))
    assert calls == [-16.0]
    assert len(store.levels) == 1
    again = kept_level(loudness_of(prepared), -16.0, store, counted(calls))
    assert calls == [-16.0]  # not searched again
    assert again == first
    assert again.raw.integrated.hex() == first.raw.integrated.hex()


def test_the_gain_is_found_again_when_the_target_or_the_islands_change(
    prepared: Prepared,
) -> None:
    store, calls = DictStore(), list[float]()
    kept_level(loudness_of(prepared), -16.0, store, counted(calls))
    kept_level(loudness_of(prepared), -18.0, store, counted(calls))
    # Every island a sample later: its loudness may not change, but what it follows from has.
    later = moved(prepared.timeline, 1)
    found = kept_level(loudness_of(prepared, later), -16.0, store, counted(calls))
    assert calls == [-16.0, -18.0, -16.0]
    assert len(store.levels) == 3
    assert found == find_level(loudness_of(prepared, later), -16.0)


def test_a_gain_not_as_stored_is_found_again_and_stored_over(prepared: Prepared) -> None:
    store, calls = DictStore(), list[float]()
    expected = kept_level(loudness_of(prepared), -16.0, store, counted(calls))
    (key,) = store.levels
    good = store.levels[key]
    for bad in ({"gain": "loud", "raw": [1.0], "notes": []}, {**good, "notes": "a note"}):
        store.levels[key] = bad
        assert kept_level(loudness_of(prepared), -16.0, store, counted(calls)) == expected
        assert store.levels[key] == good
    assert len(calls) == 3


def test_a_level_with_notes_comes_back_with_them() -> None:
    store = DictStore()
    level = Level(Loudness(-30.5, -0.1, 6.0), 9.25, 0.75, ("note: quieter than asked",))
    sounds = Sounds({}, {})
    empty = VoiceLoudness(sounds, Timeline("r", "R", 1.0, (), ()))
    assert kept_level(empty, -16.0, store, lambda *_: level) == level
    assert kept_level(empty, -16.0, store, lambda *_: pytest.fail("searched")) == level


def encoding(title: str = "Session") -> Encoding:
    return Encoding(FORMATS["mp3"], "128k", Tags(title, "voiceguide", "Album"))


def test_the_encoded_key_follows_the_gain_the_places_the_tags_and_the_sounds(
    prepared: Prepared,
) -> None:
    sounds = Sounds(prepared.speech, prepared.chimes)
    timeline = prepared.timeline

    def key(**changes: Any) -> str:
        arguments: dict[str, Any] = {
            "timeline": timeline, "gain": 6.0, "ceiling": LIMITER_CEILING,
            "encoding": encoding(), "sounds": sounds,
        }  # fmt: skip
        arguments.update(changes)
        return kept.encoded_key(**arguments)

    quieter = {**prepared.speech}
    text = next(e.text for e in timeline.events if e.kind == "speech")
    quieter[text] = quieter[text] - 1.0
    keys = [
        key(),
        key(gain=6.000001),
        key(ceiling=LIMITER_CEILING - 0.5),
        key(timeline=moved(timeline, 1)),
        key(encoding=encoding("Another title")),
        key(encoding=dataclasses.replace(encoding(), bitrate="192k")),
        key(sounds=Sounds(quieter, prepared.chimes)),
    ]
    assert len(set(keys)) == len(keys)
    assert key() == keys[0]  # and the same things give the same key


class Encoder:
    def __init__(self, path: Path, data: bytes) -> None:
        self.path, self.data, self.calls = path, data, 0

    def __call__(self) -> None:
        self.calls += 1
        self.path.write_bytes(self.data)


def test_an_encoded_file_is_kept_and_used_only_while_it_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[bytes] = []

    def encodes(data: bytes, samples: int) -> bool:
        checked.append(data)
        return data.startswith(b"whole") and samples == 1000

    monkeypatch.setattr(splice, "encodes", encodes)
    store, path, done = DictStore(), tmp_path / "short.mp3", []

    def progress(stage: str, count: int, total: int) -> None:
        done.append((stage, count, total))

    encoder = Encoder(path, b"whole file")
    kept.encode_kept(store, "k", 1000, path, encoder, progress)
    assert encoder.calls == 1
    assert store.encoded == {"k": b"whole file"}
    path.unlink()
    kept.encode_kept(store, "k", 1000, path, encoder, progress)
    assert encoder.calls == 1  # copied, not encoded
    assert path.read_bytes() == b"whole file"
    assert done == [("encoding", 1000, 1000)]
    # Damaged in the store: thrown away, encoded again, and kept again.
    store.encoded["k"] = b"broken"
    kept.encode_kept(store, "k", 1000, path, encoder, progress)
    assert encoder.calls == 2
    assert store.encoded == {"k": b"whole file"}
    assert checked == [b"whole file", b"broken"]


def test_a_kept_file_is_checked_as_its_format_asks(tmp_path: Path) -> None:
    store, path = DictStore(), tmp_path / "joined.aac"
    store.encoded["k"] = b"frames"
    encoder = Encoder(path, b"frames, again")
    kept.encode_kept(store, "k", 1000, path, encoder, no_progress, lambda data, n: n == 1000)
    assert encoder.calls == 0  # its own check passed it (an MP3's would not)
    assert path.read_bytes() == b"frames"
    kept.encode_kept(store, "k", 1000, path, encoder, no_progress, lambda data, n: False)
    assert encoder.calls == 1
    assert store.encoded == {"k": b"frames, again"}


def test_the_render_is_what_its_version_says(tmp_path: Path) -> None:
    """If this fails, the render makes other samples of the same sounds: bump
    ``RENDER`` in voiceguide/sound/islands.py (files kept from the old render must
    not be used), then put the new digest here."""
    speech = {"Breathe.": tone(1.5, SAMPLE_RATE) + 12.0, "Hold.": tone(0.75, SAMPLE_RATE, 97)}
    chimes = {"start": tone(0.5, SAMPLE_RATE, 53)}
    n = SAMPLE_RATE
    events = (
        Event("chime", 0, n // 2, "start"),
        Event("speech", n // 4, 3 * n // 2, "cue", "Breathe."),
        Event("pause", 7 * n // 4, n, "pause"),
        Event("speech", 11 * n // 4, 3 * n // 4, "cue", "Hold.", gain=-3.0),
    )
    timeline = Timeline("r", "R", 1.0, events, ())
    digest = hashlib.sha256()
    for gain in (0.0, 9.0):
        for block in Sounds(speech, chimes).render(timeline, gain, LIMITER_CEILING):
            digest.update(block)
    pcm = b"".join(Sounds(speech, chimes).render(timeline, 9.0, LIMITER_CEILING))
    peak = np.abs(np.frombuffer(pcm, "<i2")).max() / 32768
    assert abs(peak - 10 ** (LIMITER_CEILING / 20)) <= 1 / 32768  # 9 dB over: limited
    assert len(pcm) == timeline.length * SAMPLE_WIDTH
    assert islands_module.RENDER == 1
    assert digest.hexdigest() == "d2399c7dd1ed1e32d8a595e9d3728f595ae5ee46b64e11a52ba19119233bbfcd"
