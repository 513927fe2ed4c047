"""The routine file's extras: section, and the rule that its sound files stay in its folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voiceguide.errors import RoutineError
from voiceguide.text.extras import Background, Countdown, Extras, Pacer
from voiceguide.text.routine import load_routine, parse_routine
from voiceguide.text.routine_extras import package_sounds

BASE = "name: test\ntitle: Test stretch\nsteps:\n  - Lie down.\n"


def routine_file(folder: Path, extras: str, name: str = "routine.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(BASE + "extras:\n" + extras, "utf-8")
    return path


def extras_of(folder: Path, extras: str) -> Extras:
    return load_routine(routine_file(folder, extras)).extras.to_extras()


def refused(folder: Path, extras: str) -> str:
    path = routine_file(folder, extras)
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}, line "), message
    return message


# --- values ------------------------------------------------------------------------------


def test_no_extras_section_means_no_extras_and_the_default_chimes(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(BASE)
    assert load_routine(tmp_path / "r.yaml").extras.to_extras() == Extras()


def test_every_key(tmp_path: Path) -> None:
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "bell.ogg").write_bytes(b"x")
    (tmp_path / "rain.flac").write_bytes(b"x")
    extras = extras_of(
        tmp_path,
        "  countdown: {start: 5, volume: -3}\n"
        "  pacer: {breaths: 4.5, volume: -24}\n"
        "  background: {sound: rain.flac, volume: -30, duck: 12}\n"
        "  start_chime: sounds/bell.ogg\n"
        "  end_chime: off\n",
    )
    assert extras == Extras(
        countdown=Countdown(5, -3.0),
        pacer=Pacer(4.5, -24.0),
        background=Background(tmp_path.resolve() / "rain.flac", -30.0, 12.0),
        start_chime=tmp_path.resolve() / "sounds" / "bell.ogg",
        end_chime="off",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  countdown: true\n", Extras(countdown=Countdown())),
        ("  countdown: 7\n", Extras(countdown=Countdown(start=7))),
        ("  countdown: false\n", Extras()),
        ("  countdown: off\n", Extras()),
        ("  pacer: on\n", Extras(pacer=Pacer())),
        ("  pacer: 8\n", Extras(pacer=Pacer(breaths_per_minute=8.0))),
        ("  background: noise\n", Extras(background=Background())),
        ("  background: true\n", Extras(background=Background())),
        ("  start_chime: off\n  end_chime: 'off'\n", Extras(start_chime="off", end_chime="off")),
        ("  end_chime: default\n", Extras()),
    ],
)
def test_short_forms(tmp_path: Path, text: str, expected: Extras) -> None:
    assert extras_of(tmp_path, text) == expected


def test_the_built_in_routine_counts_down(tmp_path: Path) -> None:
    assert load_routine("hamstring").extras.to_extras() == Extras(countdown=Countdown(3, 0.0))


@pytest.mark.parametrize(
    ("text", "line", "fragments"),
    [
        ("  countdonw: true\n", 6, ("unknown key 'countdonw'", "did you mean 'countdown'")),
        ("  pacer: {breths: 6}\n", 6, ("unknown key 'breths'", "did you mean 'breaths'")),
        ("  countdown: {start: 11}\n", 6, ("extras.countdown.start", "10")),
        ("  countdown: {start: 0}\n", 6, ("extras.countdown.start", "1")),
        (
            "  countdown: {start: 2.5}\n",
            6,
            ("extras.countdown.start", "write a whole number (not 2.5)"),
        ),
        ("  countdown: soon\n", 6, ("extras.countdown", "give true, false")),
        ("  pacer: {breaths: 30}\n", 6, ("extras.pacer.breaths", "20")),
        ("  pacer: {breaths: 1}\n", 6, ("extras.pacer.breaths", "2")),
        ("  pacer:\n    volume: 10\n", 7, ("extras.pacer.volume", "10 dB", "-60 to +6 dB")),
        ("  countdown: {volume: -61}\n", 6, ("extras.countdown.volume", "-61 dB")),
        ("  countdown: {volume: loud}\n", 6, ("extras.countdown.volume", "number")),
        ("  background: {duck: 50}\n", 6, ("extras.background.duck", "40")),
        ("  start_chime: 3\n", 6, ("extras.start_chime", "write a text here (not 3)")),
        ("  start_chime: ''\n", 6, ("extras.start_chime", "'default' or 'off'")),
        ("  end_chime: [a]\n", 6, ("extras.end_chime",)),
        ("  - countdown\n", 6, ("extras",)),
    ],
)
def test_bad_values_name_the_key_and_line(
    tmp_path: Path, text: str, line: int, fragments: tuple[str, ...]
) -> None:
    message = refused(tmp_path, text)
    assert f", line {line}: " in message
    for fragment in fragments:
        assert fragment in message


# --- the file path rule ------------------------------------------------------------------


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A routine's folder, with a sound file in it and one outside it."""
    folder = tmp_path / "shared"
    (folder / "sounds").mkdir(parents=True)
    (folder / "bell.wav").write_bytes(b"x")
    (folder / "sounds" / "gong.wav").write_bytes(b"x")
    (tmp_path / "secret.wav").write_bytes(b"x")
    return folder


@pytest.mark.parametrize("key", ["start_chime", "end_chime", "background"])
@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("/etc/passwd", "is an absolute path"),
        ("~/secret.wav", "is an absolute path"),
        ("../secret.wav", "leads out of the routine's folder"),
        ("sounds/../../secret.wav", "leads out of the routine's folder"),
        ("missing.wav", "does not exist"),
        ("sounds", "is a folder, not a sound file"),
    ],
)
def test_sound_files_stay_in_the_routine_folder(
    shared: Path, key: str, name: str, fragment: str
) -> None:
    message = refused(shared, f"  {key}: '{name}'\n")
    assert ", line 6: " in message
    assert f"'{name}'" in message, "the error names the path"
    assert fragment in message


def test_a_symlink_pointing_outside_is_refused(shared: Path) -> None:
    os.symlink(shared.parent / "secret.wav", shared / "link.wav")
    os.symlink(shared.parent, shared / "up")
    assert "'link.wav' points outside the routine's folder" in refused(
        shared, "  start_chime: link.wav\n"
    )
    assert "'up/secret.wav' points outside" in refused(shared, "  end_chime: up/secret.wav\n")


def test_paths_inside_the_folder_resolve_there(shared: Path) -> None:
    os.symlink(shared / "sounds" / "gong.wav", shared / "alias.wav")
    extras = extras_of(
        shared,
        "  start_chime: sounds/../bell.wav\n"
        "  end_chime: alias.wav\n"
        "  background: {sound: sounds/gong.wav}\n",
    )
    inside = shared.resolve()
    assert extras.start_chime == inside / "bell.wav"
    assert extras.end_chime == inside / "sounds" / "gong.wav"
    assert extras.background == Background(inside / "sounds" / "gong.wav")


def test_paths_resolve_against_the_routine_file_not_the_current_folder(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "here.wav").write_bytes(b"x")
    monkeypatch.chdir(elsewhere)
    assert "does not exist" in refused(shared, "  start_chime: here.wav\n")


def test_built_in_routines_resolve_in_the_package_sounds() -> None:
    text = BASE + "extras:\n  end_chime: chime-start.wav\n  start_chime: ../routines/x.wav\n"
    with pytest.raises(RoutineError, match=r"line 7: .*'\.\./routines/x\.wav' leads out"):
        parse_routine(text, "test (built-in)", package_sounds())
    text = BASE + "extras:\n  end_chime: chime-start.wav\n"
    routine = parse_routine(text, "test (built-in)", package_sounds())
    assert routine.extras.to_extras().end_chime == package_sounds().resolve() / "chime-start.wav"


def test_a_routine_without_a_folder_cannot_name_files() -> None:
    with pytest.raises(RoutineError, match="cannot name sound files"):
        parse_routine(BASE + "extras:\n  start_chime: bell.wav\n", "text")
    assert parse_routine(BASE + "extras:\n  start_chime: 'off'\n", "text").extras.start_chime == (
        "off"
    )
