"""build's format, bitrate, loudness and transcript options, and `voiceguide info`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.test_cli import assert_user_error, run

pytestmark = pytest.mark.usefixtures("fake_speech")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_build_reports_loudness_chapters_and_transcript(in_tmp: Path) -> None:
    result = run("build", "--hold", "20s", "-q", "--transcript", "s.vtt", "--loudness", "-18")
    assert result.exit_code == 0, result.output
    found = re.search(
        r"loudness: (-[\d.]+) LUFS as heard on headphones \(mono, measured as dual mono\), "
        r"target -18; true peak (-[\d.]+) dBTP",
        result.stdout,
    )
    assert found is not None, result.stdout
    assert abs(float(found.group(1)) + 18) <= 1.0
    assert float(found.group(2)) <= -1.0
    assert "chapters: Introduction, Left side: set-up, Left side: hold, " in result.stdout
    assert "transcript: s.vtt" in result.stdout
    assert (in_tmp / "s.vtt").read_text().startswith("WEBVTT")

    info = run("info", "hamstring-20s-per-side.mp3")
    assert info.exit_code == 0, info.output
    assert "mp3 in mp3, 44100 Hz, 1 channel(s), 128 kb/s" in info.stdout
    assert "  title: Strapped hamstring stretch: twenty seconds per side" in info.stdout
    assert (
        f"Loudness: {found.group(1)} LUFS integrated as heard on headphones (mono, measured as "
        f"dual mono), true peak {found.group(2)} dBTP" in info.stdout
    )
    assert "Chapters: 6" in info.stdout
    assert re.search(r"0:00\.0 - +0:\d\d\.\d  Introduction", info.stdout)


def test_the_format_option_names_the_default_output(in_tmp: Path) -> None:
    result = run("build", "--hold", "10s", "-q", "--format", "FLAC")
    assert result.exit_code == 0, result.output
    assert (in_tmp / "hamstring-10s-per-side.flac").exists()
    assert "chapters:" not in result.stdout


@pytest.mark.parametrize("args", [["-o", "s.opus"], ["-o", "s.OPUS", "--format", "ogg"]])
def test_an_ogg_opus_file_may_be_named_opus(in_tmp: Path, args: list[str]) -> None:
    result = run("build", "--hold", "10s", "-q", *args)
    assert result.exit_code == 0, result.output
    (written,) = in_tmp.iterdir()
    assert written.name == args[1]
    info = run("info", str(written))
    assert info.exit_code == 0, info.output
    assert "opus in ogg" in info.stdout, info.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-o", "a.mp3", "--format", "ogg"], "use a name ending in .ogg or .opus"),
        (["-o", "a.flac", "--bitrate", "128k"], "flac is lossless"),
        (["--bitrate", "32k"], "not a bitrate for mp3"),
        (["--transcript", "s.txt"], ".vtt (WebVTT), .srt (SubRip), .lrc or .json"),
        (["--transcript", "nowhere/s.vtt"], "does not exist"),
    ],
)
def test_bad_output_choices_write_nothing(in_tmp: Path, args: list[str], fragment: str) -> None:
    assert_user_error(run("build", "--hold", "10s", "-q", *args), 1, fragment)
    assert list(in_tmp.iterdir()) == []


@pytest.mark.parametrize(
    "args", [["--bitrate", "loud"], ["--loudness", "-3"], ["--format", "aiff"]]
)
def test_bad_option_values_are_usage_errors(in_tmp: Path, args: list[str]) -> None:
    assert_user_error(run("build", *args), 2, "Invalid value")


def test_info_on_a_file_that_is_not_audio(in_tmp: Path) -> None:
    (in_tmp / "notes.mp3").write_text("not audio")
    assert_user_error(run("info", "notes.mp3"), 1, "not an audio file ffprobe can read")
    assert_user_error(run("info", "missing.mp3"), 1, "missing.mp3 is not a file")
