"""A chime file that is corrupt is reported by name, and nothing is written."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from voiceguide.cli import cli

pytestmark = pytest.mark.usefixtures("fake_speech")


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"", "is empty"), (b"RIFF\x10\x00\x00\x00WAVEjunk" + bytes(64), "is not a valid WAV file")],
    ids=["empty", "garbage"],
)
def test_a_corrupt_chime_is_reported_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, problem: str
) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    real = resources.files("voiceguide.audio_assets")
    for name in ("chime-start.wav", "chime-end.wav"):
        with resources.as_file(real / name) as path:
            shutil.copy(path, assets / name)
    (assets / "chime-end.wav").write_bytes(content)
    files = resources.files

    def patched(package: str) -> Any:
        return assets if package == "voiceguide.audio_assets" else files(package)

    monkeypatch.setattr(resources, "files", patched)  # as voiceguide.sound.audio sees it
    monkeypatch.chdir(tmp_path)
    Path("out.mp3").write_bytes(b"the previous session")

    result = CliRunner().invoke(cli, ["build", "--hold", "20s", "-o", "out.mp3", "-q"])
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: chime chime-end.wav {problem}")
    assert Path("out.mp3").read_bytes() == b"the previous session"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assets", "out.mp3"]
