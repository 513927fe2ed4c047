"""Deterministic output, and eight builds at once sharing one speech cache.

Real espeak-ng (through pyttsx3) and ffmpeg; these fail, never skip, without them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.measure import check_session, probe
from voiceguide.build.session import SessionOptions, build_session, prepare
from voiceguide.files import is_temp_name

pytestmark = pytest.mark.integration

# Small, so that sixteen cold builds stay quick: seven lines per session.
ROUTINE = """\
name: quick
title: Quick stretch
sides: [left]
steps:
  - Reach for your {{ side }} foot.
reminders:
  - Breathe out slowly.
release: Let go.
outro: Well done.
"""

#: Eight builds: two pairs the same, all sharing most of their lines.
BUILDS = [
    ("10s", 150),
    ("10s", 150),
    ("12s", 150),
    ("14s", 150),
    ("15s", 150),
    ("15s", 150),
    ("11s", 180),
    ("13s", 180),
]


@pytest.fixture
def routine(tmp_path: Path) -> Path:
    path = tmp_path / "quick.yaml"
    path.write_text(ROUTINE)
    return path


def command(routine: Path, hold: str, rate: int, output: Path) -> list[str]:
    return [
        sys.executable, "-m", "voiceguide", "build", str(routine), "--hold", hold,
        "--rate", str(rate), "-o", str(output), "-q",
    ]  # fmt: skip


def environment(cache: Path) -> dict[str, str]:
    return {**os.environ, "VOICEGUIDE_CACHE_DIR": str(cache)}


def test_the_same_inputs_give_byte_identical_files(
    tmp_path: Path, routine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.encode import levelling
    from voiceguide.encode.mp3.split import encode_short

    encoded: list[int] = []  # the run of each encode of the short render

    def counted(*args: Any, **kwargs: Any) -> None:
        encoded.append(run)
        encode_short(*args, **kwargs)

    monkeypatch.setattr(levelling, "encode_short", counted)
    outputs = []
    runs = [(True, 1), (True, 1), (False, 1), (True, 2), (False, 2)]
    for run, (use_cache, jobs) in enumerate(runs):
        # A fresh cache, the warm one, then none: the speech path must not change a byte;
        # nor may two processes at once (the gain search measures the same gains, and
        # two encoders share the encode).
        monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "cache"))
        out = tmp_path / f"run{run}" / "quick.mp3"
        out.parent.mkdir()
        options = SessionOptions(routine=routine, hold=12.0, use_cache=use_cache)
        build_session(options, out, jobs=jobs)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2] == outputs[3] == outputs[4]
    # With the cache warm, the encoded short file is the one the first build kept.
    assert encoded == [0, 2, 4]
    # The tags are those asked for, and nothing that changes between builds (no dates,
    # no encoder version).
    tags = probe(tmp_path / "run0" / "quick.mp3")["format"]["tags"]  # type: ignore[index]
    assert tags == {
        "title": "Quick stretch: twelve seconds per side",
        "artist": "voiceguide",
        "album": "Quick stretch",
    }


def test_eight_builds_at_once_sharing_a_cache_match_the_same_builds_one_by_one(
    tmp_path: Path, routine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One after another, in this process, with a cache of their own (filled by the
    # first build, used by the rest).
    one_by_one = tmp_path / "one-by-one"
    one_by_one.mkdir()
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "cache-a"))
    for i, (hold, rate) in enumerate(BUILDS):
        seconds = float(hold.removesuffix("s"))
        options = SessionOptions(routine=routine, hold=seconds, rate=rate)
        build_session(options, one_by_one / f"{i}.mp3")

    # All at once, sharing one empty cache: they race to synthesise and store the same lines.
    at_once = tmp_path / "at-once"
    at_once.mkdir()
    shared = tmp_path / "cache-b"
    processes = [
        subprocess.Popen(
            command(routine, hold, rate, at_once / f"{i}.mp3"),
            env=environment(shared),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i, (hold, rate) in enumerate(BUILDS)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()

    for i in range(len(BUILDS)):
        together = (at_once / f"{i}.mp3").read_bytes()
        assert together == (one_by_one / f"{i}.mp3").read_bytes(), f"build {i} differs"
    # The pairs asked for the same session.
    assert (at_once / "0.mp3").read_bytes() == (at_once / "1.mp3").read_bytes()
    assert (at_once / "4.mp3").read_bytes() == (at_once / "5.mp3").read_bytes()
    # No temporary file left in the output folder or the cache.
    assert sorted(p.name for p in at_once.iterdir()) == [f"{i}.mp3" for i in range(8)]
    # (The cache keeps clips, the islands' loudness figures, the gains and the
    # encoded short files: one for each distinct session.)
    kept = [p for p in shared.rglob("*") if p.is_file()]
    assert {p.suffix for p in kept} == {".wav", ".npy", ".json", ".mp3"}
    assert len([p for p in kept if p.suffix == ".mp3"]) == len(set(BUILDS))
    assert not [p for p in kept if is_temp_name(p.name)]

    # And every output is a valid, exactly timed session: decode and measure a few of them.
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(shared))
    for i in (0, 3, 7):
        hold, rate = BUILDS[i]
        seconds = float(hold.removesuffix("s"))
        planned = prepare(SessionOptions(routine=routine, hold=seconds, rate=rate)).timeline
        check_session(at_once / f"{i}.mp3", seconds, planned)


def test_a_session_whose_clips_are_read_from_the_cache_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes import FakeEngine
    from voiceguide.speech import clips

    options = SessionOptions(hold=20.0)
    held = tmp_path / "held.mp3"
    build_session(options, held, engine=FakeEngine())
    monkeypatch.setattr(clips, "HELD_BYTES", 0)
    monkeypatch.setattr(clips, "RECENT_BYTES", 0)  # every clip read each time it is used
    read = tmp_path / "read.mp3"
    build_session(options, read, engine=FakeEngine())
    assert read.read_bytes() == held.read_bytes()
