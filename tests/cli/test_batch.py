"""Batches on the command line: build with several holds, and voiceguide batch FILE."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.test_cli import assert_user_error, run
from tests.fakes import FakeEngine
from voiceguide import speech
from voiceguide.text.routine_extras import package_sounds

pytestmark = pytest.mark.usefixtures("fake_speech")


MINI = "name: mini\ntitle: Mini\nsteps:\n  - Lie down.\nreminders:\n  - Breathe.\n"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder, holding a short routine, mini.yaml, to keep the tests quick."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mini.yaml").write_text(MINI, "utf-8")
    return tmp_path


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "mini.yaml")


# --- build with several holds or routines ------------------------------------------------


def test_build_with_several_holds_writes_each_into_the_folder(in_tmp: Path) -> None:
    (in_tmp / "out").mkdir()
    result = run("build", "mini.yaml", "--hold", "20s", "--hold", "30s", "-o", "out", "-q")
    assert result.exit_code == 0, result.output
    assert names(in_tmp / "out") == ["mini-20s-per-side.mp3", "mini-30s-per-side.mp3"]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Wrote 2 sessions in ")
    assert lines[1].startswith("  out/mini-20s-per-side.mp3 (")
    assert lines[1].endswith("holds 20.000 s, 20.000 s")
    assert lines[2].endswith("holds 30.000 s, 30.000 s")
    # each session's note, once
    assert result.stderr.count("shorter than the one minute this routine recommends") == 2


def test_build_with_several_routines_and_no_output_writes_here(in_tmp: Path) -> None:
    (in_tmp / "other.yaml").write_text(MINI.replace("mini", "other"), "utf-8")
    result = run("build", "mini.yaml", "other.yaml", "--hold", "10s", "--jobs", "1", "-q")
    assert result.exit_code == 0, result.output
    assert names(in_tmp) == ["mini-10s-per-side.mp3", "other-10s-per-side.mp3", "other.yaml"]


@pytest.mark.parametrize(
    ("output", "said"),
    [
        ("session.mp3", "session.mp3 is not a folder: 2 sessions are written into a folder"),
        (
            "missing-folder",
            "missing-folder does not exist: 2 sessions are written into a folder, each under "
            "its own name (ROUTINE-HOLD-per-side.mp3); make it first (mkdir -p missing-folder)",
        ),
        ("my sessions", "my sessions does not exist: 2 sessions are written into a folder"),
        ("v1.2", "make it first (mkdir -p v1.2)"),
    ],
)
def test_several_sessions_need_a_folder(in_tmp: Path, output: str, said: str) -> None:
    result = run("build", "--hold", "20s", "--hold", "30s", "-o", output)
    assert_user_error(result, 1, said)
    assert names(in_tmp) == []


def test_jobs_must_be_positive(in_tmp: Path) -> None:
    assert_user_error(run("build", "--jobs", "0"), 2, "--jobs")


def test_one_hold_still_builds_one_file(in_tmp: Path) -> None:
    result = run("build", "mini.yaml", "--hold", "20s", "-o", "one.mp3", "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Wrote one.mp3 (")
    assert names(in_tmp) == ["one.mp3"]


# --- voiceguide batch FILE ---------------------------------------------------------------

CLIENTS = """\
defaults:
  rate: 140
  routine: ../mini.yaml
sessions:
  - {output: anna.mp3, hold: 20s}
  - {output: ben.mp3, hold: 25s, rate: 170}
  - hold: 15s
"""


def test_a_batch_of_one_says_one_session(in_tmp: Path) -> None:
    (in_tmp / "one.yaml").write_text("sessions:\n  - {routine: mini.yaml, hold: 10s}\n")
    result = run("batch", "one.yaml", "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Wrote 1 session in "), result.stdout
    assert names(in_tmp) == ["mini-10s-per-side.mp3", "one.yaml"]


def test_batch_builds_every_session_beside_the_file(in_tmp: Path) -> None:
    (in_tmp / "physio").mkdir()
    (in_tmp / "physio" / "clients.yaml").write_text(CLIENTS, "utf-8")
    result = run("batch", "physio/clients.yaml")
    assert result.exit_code == 0, result.output
    assert names(in_tmp / "physio") == [
        "anna.mp3",
        "ben.mp3",
        "clients.yaml",
        "mini-15s-per-side.mp3",
    ]
    assert result.stdout.startswith("Wrote 3 sessions in ")
    assert "physio/ben.mp3 (" in result.stdout
    assert "holds 25.000 s, 25.000 s" in result.stdout
    # one progress bar per stage for the whole batch
    assert result.stderr.count("Speaking") >= 1
    assert result.stderr.count("Encoding") >= 1
    assert "Error" not in result.stderr


def test_batch_into_a_folder(in_tmp: Path) -> None:
    (in_tmp / "clients.yaml").write_text(
        "sessions:\n  - {output: anna.mp3, hold: 20s, routine: mini.yaml}\n"
    )
    (in_tmp / "out").mkdir()
    result = run("batch", "clients.yaml", "-o", "out", "-q", "--no-cache")
    assert result.exit_code == 0, result.output
    assert names(in_tmp / "out") == ["anna.mp3"]


def test_a_bad_batch_file_names_file_and_line(in_tmp: Path) -> None:
    (in_tmp / "clients.yaml").write_text("sessions:\n  - hold: 20s\n    rate: fast\n")
    assert_user_error(run("batch", "clients.yaml"), 1, "clients.yaml, line 3: session 1: rate")


def test_a_bad_session_in_a_batch_file_writes_nothing(in_tmp: Path) -> None:
    (in_tmp / "clients.yaml").write_text(
        "sessions:\n  - {output: a.mp3, hold: 20s}\n  - {output: b.mp3, routine: nope}\n"
    )
    assert_user_error(
        run("batch", "clients.yaml"),
        1,
        "clients.yaml, line 3: session 2: there is no built-in routine or programme called 'nope'",
    )
    assert names(in_tmp) == ["clients.yaml"]


def test_a_batch_file_sets_each_sessions_extras(in_tmp: Path, fake_speech: FakeEngine) -> None:
    (in_tmp / "clients.yaml").write_text(
        "defaults: {routine: mini.yaml, hold: 20s}\n"
        "sessions:\n  - {output: anna.mp3, countdown_from: 3}\n  - {output: ben.mp3}\n"
    )
    result = run("batch", "clients.yaml", "-q", "--no-cache")
    assert result.exit_code == 0, result.output
    assert names(in_tmp) == ["anna.mp3", "ben.mp3", "clients.yaml"]
    assert {"Three.", "Two.", "One."} <= set(fake_speech.spoken)  # anna's countdown


def test_a_batch_session_is_the_build_with_the_same_options(in_tmp: Path) -> None:
    shutil.copy(package_sounds() / "chime-start.wav", in_tmp / "gong.wav")
    options = ["--pacer", "--volume", "pacer=-30", "--countdown-from", "4", "--end-chime",
               "gong.wav", "--background", "noise", "--loudness", "-20"]  # fmt: skip
    built = run("build", "mini.yaml", "--hold", "20s", "-o", "built.mp3", "-q", *options)
    assert built.exit_code == 0, built.output
    (in_tmp / "clients.yaml").write_text(
        "sessions:\n  - {routine: mini.yaml, hold: 20s, output: batched.mp3, pacer: true,\n"
        "     volume: {pacer: -30}, countdown_from: 4, end_chime: gong.wav,\n"
        "     background: noise, loudness: -20}\n"
    )
    batched = run("batch", "clients.yaml", "-q")
    assert batched.exit_code == 0, batched.output
    assert (in_tmp / "batched.mp3").read_bytes() == (in_tmp / "built.mp3").read_bytes()


def test_a_missing_sound_file_in_a_batch_is_an_error_before_any_work(
    in_tmp: Path, fake_speech: FakeEngine
) -> None:
    (in_tmp / "clients.yaml").write_text(
        "sessions:\n  - {routine: mini.yaml, end_chime: gong.wav}\n"
    )
    assert_user_error(
        run("batch", "clients.yaml"),
        1,
        "clients.yaml, line 2: session 1: end_chime: gong.wav: does not exist",
    )
    assert fake_speech.spoken == []
    assert names(in_tmp) == ["clients.yaml"]


def test_a_missing_batch_file(in_tmp: Path) -> None:
    assert_user_error(run("batch", "clients.yaml"), 1, "batch file clients.yaml does not exist")


def test_interrupting_a_batch_writes_nothing(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Interrupting(FakeEngine):
        def synthesize(self, texts):  # type: ignore[no-untyped-def]
            yield from super().synthesize(texts[:2])
            raise KeyboardInterrupt

    monkeypatch.setitem(speech.ENGINES, "pyttsx3", lambda voice, rate, model, keep: Interrupting())
    (in_tmp / "clients.yaml").write_text(CLIENTS.replace("../", ""), "utf-8")
    result = run("batch", "clients.yaml", "-q")
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted; nothing written"
    assert names(in_tmp) == ["clients.yaml"]
