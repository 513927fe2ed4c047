"""The extras from the command line: countdown, chimes, volumes (fake speech; real ffmpeg)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import assert_user_error, run
from tests.fakes import MINI, FakeEngine
from tests.unit.test_extras_session import write_wav

pytestmark = pytest.mark.usefixtures("fake_speech")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def timeline(*args: str) -> dict[str, Any]:
    result = run("script", "--hold", "30s", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def countdown(data: dict[str, Any]) -> list[str]:
    return [e["text"] for e in data["events"] if e["role"] == "countdown"]


def test_the_built_in_routine_counts_down_unless_told_not_to(in_tmp: Path) -> None:
    assert countdown(timeline()) == ["Three.", "Two.", "One."] * 2
    assert countdown(timeline("--no-countdown")) == []
    assert countdown(timeline("--countdown-from", "5"))[:5] == ["Five.", "Four.", "Three.",
                                                                "Two.", "One."]  # fmt: skip


def test_a_routine_without_a_countdown_gets_one_from_the_command_line(in_tmp: Path) -> None:
    (in_tmp / "mini.yaml").write_text(MINI)
    assert countdown(timeline("mini.yaml")) == []
    assert countdown(timeline("mini.yaml", "--countdown")) == ["Three.", "Two.", "One."] * 2


def test_chimes_from_the_command_line(in_tmp: Path) -> None:
    write_wav(in_tmp / "bell.wav", 0.5)
    data = timeline("--start-chime", "bell.wav", "--end-chime", "off")
    assert data["chimes"] == {"start": "bell.wav", "end": "off"}
    assert [e["role"] for e in data["events"] if e["kind"] == "chime"] == ["chime_start"] * 2
    script = run("script", "--hold", "30s", "--start-chime", "off")
    assert script.exit_code == 0, script.output
    assert "left hold begins (0:30.0), no start chime" in script.stdout
    assert "starting now." in script.stdout


def test_a_chime_file_named_off_is_chosen_with_dot_slash(in_tmp: Path) -> None:
    """As the docs say: ``./off`` is a file named off, ``off`` no chime."""
    missing = run("script", "--end-chime", "./off")
    assert_user_error(missing, 1, "--end-chime ./off: does not exist")
    assert "for no chime" not in missing.stderr, "the user asked for a file, not the word"
    write_wav(in_tmp / "off", 0.5)
    data = timeline("--end-chime", "./off")
    assert data["chimes"] == {"start": "default", "end": "./off"}
    assert [e["role"] for e in data["events"] if e["kind"] == "chime"] == [
        "chime_start", "chime_end"] * 2  # fmt: skip
    script = run("script", "--hold", "30s", "--end-chime", "./off")
    assert "end chime (./off): left hold ends" in script.stdout
    assert "no end chime" not in script.stdout
    assert timeline("--end-chime", "off")["chimes"]["end"] == "off"


def test_build_with_a_users_chime_and_no_end_chime(in_tmp: Path) -> None:
    write_wav(in_tmp / "bell.wav", 0.5)
    result = run("build", "--hold", "20s", "--start-chime", "bell.wav", "--end-chime", "off",
                 "-o", "s.mp3", "--transcript", "s.vtt", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "left hold: 20.000 s" in result.stdout
    assert (in_tmp / "s.mp3").stat().st_size > 0
    assert "NOTE chimes: start bell.wav, end off" in (in_tmp / "s.vtt").read_text()


@pytest.mark.parametrize(
    ("args", "code", "fragments"),
    [
        (("--volume", "pacer=-20"), 1, ("--volume pacer=-20: the pacer is off", "--pacer")),
        (("--volume", "pacer"), 2, ("--volume", "give EXTRA=DB")),
        (("--volume", "voice=-3"), 2, ("--volume", "countdown, pacer, background")),
        (("--volume", "countdown=loud"), 2, ("--volume", "is not a number of dB")),
        (("--volume", "countdown=+10"), 2, ("--volume", "from -60 to +6 dB")),
        (("--countdown-from", "11"), 2, ("--countdown-from",)),
        (("--breaths", "1"), 2, ("--breaths",)),
        (("--no-countdown", "--countdown-from", "4"), 2, ("contradict",)),
        (("--no-pacer", "--breaths", "6"), 2, ("contradict",)),
        (("--start-chime", "nope.wav"), 1, ("--start-chime nope.wav: does not exist",)),
        (("--end-chime", "."), 1, ("--end-chime .: is a folder",)),
        (("--background", "rain.ogg"), 1, ("--background rain.ogg: does not exist",)),
    ],
)
def test_bad_extras_options(
    in_tmp: Path, args: tuple[str, ...], code: int, fragments: tuple[str, ...]
) -> None:
    assert_user_error(run("script", "--hold", "30s", *args), code, *fragments)


def test_a_volume_applies_to_the_countdown(in_tmp: Path) -> None:
    for value in ("countdown=-6", "countdown=-6dB", "COUNTDOWN = -6 dB"):
        events = timeline("--volume", value)["events"]
        gains = {(e["role"] == "countdown", e["gain"]) for e in events if e["kind"] == "speech"}
        assert gains == {(True, -6.0), (False, 0.0)}


def test_the_script_lists_the_layers_under_the_voice(in_tmp: Path) -> None:
    result = run("script", "--hold", "30s", "--pacer", "--breaths", "5", "--background", "noise")
    assert result.exit_code == 0, result.output
    assert "Under the voice during each hold:" in result.stdout
    assert "  - breath pacer: 5 breaths a minute" in result.stdout
    assert "  - background: soft noise, looped and faded, at -28 dB from the voice" in result.stdout
    plain = run("script", "--hold", "30s")
    assert "Under the voice" not in plain.stdout


def test_a_background_file_that_is_not_audio_fails_before_speech(
    in_tmp: Path, fake_speech: FakeEngine
) -> None:
    (in_tmp / "rain.ogg").write_bytes(b"no sound here" * 50)
    result = run("build", "--hold", "30s", "--background", "rain.ogg", "-o", "s.mp3")
    assert_user_error(result, 1, "cannot decode the background", "rain.ogg: End of file")
    assert fake_speech.spoken == []
    assert not (in_tmp / "s.mp3").exists()


def test_a_layered_build_reports_the_voice_level_and_the_whole(in_tmp: Path) -> None:
    result = run("build", "--hold", "20s", "--pacer", "--background", "noise", "-o", "s.mp3")
    assert result.exit_code == 0, result.output
    found = re.search(
        r"loudness: the voice levelled to -16 LUFS as heard on headphones \(mono, measured as "
        r"dual mono\); with its layers the whole session measures (-[\d.]+) LUFS, "
        r"true peak (-[\d.]+) dBTP",
        result.stdout,
    )
    assert found is not None, result.stdout
    assert float(found.group(2)) <= -1.0


def test_a_volume_applies_to_both_chimes(in_tmp: Path) -> None:
    events = timeline("--volume", "chime=-6")["events"]
    gains = {(e["kind"], e["gain"]) for e in events if e["kind"] != "pause"}
    assert gains == {("chime", -6.0), ("speech", 0.0)}
    routine = in_tmp / "quiet.yaml"
    routine.write_text(MINI + "extras:\n  chime_volume: -12\n", "utf-8")
    data = timeline(str(routine))
    assert {e["gain"] for e in data["events"] if e["kind"] == "chime"} == {-12.0}
