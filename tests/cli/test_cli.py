"""The command line through click's CliRunner: exit codes, messages, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.fakes import MINI, FakeEngine
from voiceguide import speech
from voiceguide.cli import cli
from voiceguide.errors import MissingToolError
from voiceguide.text.routine import builtin_names, builtin_text, load_routine
from voiceguide.text.wording import TEMPLATES

pytestmark = pytest.mark.usefixtures("fake_speech")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="voiceguide")


def assert_user_error(result: Result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_routine(folder: Path, text: str, name: str = "my-routine.yaml") -> Path:
    path = folder / name
    path.write_text(text, "utf-8")
    return path


# --- build ------------------------------------------------------------------------------


def test_build_writes_the_default_name_and_reports_the_holds(in_tmp: Path) -> None:
    result = run("build", "--hold", "20s", "--quiet")
    assert result.exit_code == 0, result.output
    out = in_tmp / "hamstring-20s-per-side.mp3"
    assert out.stat().st_size > 10_000
    assert result.stdout.startswith("Wrote hamstring-20s-per-side.mp3 (")
    assert "  left hold: 20.000 s, from " in result.stdout
    assert "  right hold: 20.000 s, from " in result.stdout
    assert "shorter than the one minute this routine recommends" in result.stderr


def test_build_with_output_and_a_routine_file(in_tmp: Path) -> None:
    routine = write_routine(in_tmp, MINI)
    result = run("build", str(routine), "--hold", "1m30s", "-o", "short.mp3", "-q")
    assert result.exit_code == 0, result.output
    assert (in_tmp / "short.mp3").exists()
    assert "left hold: 90.000 s" in result.stdout


def test_build_jobs_lets_one_session_run_two_processes(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.encode import levelling

    seen: list[int] = []
    level_and_encode = levelling.level_and_encode

    def record(*args: object, jobs: int = 1, **kwargs: object) -> levelling.Levelled:
        seen.append(jobs)
        return level_and_encode(*args, jobs=jobs, **kwargs)  # type: ignore[arg-type,misc]

    monkeypatch.setattr("voiceguide.build.session.level_and_encode", record)
    # By default a single session runs as many processes as there are cores (issue 17).
    monkeypatch.setattr("voiceguide.cli.commands.available_cores", lambda: 3)
    assert run("build", "--hold", "20s", "-q", "-o", "three.mp3").exit_code == 0
    assert run("build", "--hold", "20s", "-q", "-o", "one.mp3", "--jobs", "1").exit_code == 0
    assert run("build", "--hold", "20s", "-q", "-o", "two.mp3", "--jobs", "2").exit_code == 0
    assert seen == [3, 1, 2]
    assert (in_tmp / "three.mp3").read_bytes() == (in_tmp / "one.mp3").read_bytes()
    assert (in_tmp / "two.mp3").stat().st_size > 10_000
    assert_user_error(run("build", "--jobs", "0"), 2, "--jobs")


def test_build_shows_progress_on_stderr(in_tmp: Path) -> None:
    result = run("build", "--hold", "10s")
    assert result.exit_code == 0, result.output
    assert "Speaking" in result.stderr
    assert "Encoding" in result.stderr


# --- script -----------------------------------------------------------------------------


def test_sides_chooses_the_sides_done(in_tmp: Path) -> None:
    result = run("script", "--hold", "1m", "--sides", "right")
    assert result.exit_code == 0, result.output
    assert "right hold begins" in result.stdout
    assert "left hold" not in result.stdout
    assert "Switch sides." not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--sides", "middle"), "--sides middle: Strapped hamstring stretch has the sides "
         "left, right; name one or more of them, such as --sides left"),
        (("--sides", "left", "pelvic-tilt"), "--sides left: Pelvic tilt has no sides (it is "
         "done as one, with one hold); leave --sides out"),
    ],
)  # fmt: skip
def test_sides_a_routine_does_not_have_are_refused(
    in_tmp: Path, args: tuple[str, ...], message: str
) -> None:
    result = run("script", *args)
    assert_user_error(result, 1, message)


def test_script_prints_the_timed_script_and_writes_nothing(in_tmp: Path) -> None:
    result = run("script", "--hold", "5m")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Strapped hamstring stretch: 5:00.0 per side")
    assert "♪ start chime: left hold begins (5:00.0)" in result.stdout
    assert "♪ end chime: right hold ends" in result.stdout
    assert "Switch sides.\n" in result.stdout
    assert "Now set up your right side." in result.stdout
    assert list(in_tmp.iterdir()) == []


def test_script_json_is_the_timeline(in_tmp: Path) -> None:
    result = run("script", "--hold", "5m", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [h["side"] for h in data["holds"]] == ["left", "right"]
    assert all(h["duration"] == 300.0 for h in data["holds"])
    kinds = {e["kind"] for e in data["events"]}
    assert kinds == {"speech", "chime", "pause"}
    for event in data["events"]:
        assert {"start", "end", "kind", "text"} <= set(event)


def test_script_shows_dropped_cues(in_tmp: Path) -> None:
    result = run("script", "--hold", "15s")
    assert result.exit_code == 0, result.output
    assert "Left out (no room in the hold):" in result.stdout


# --- listings ---------------------------------------------------------------------------


def test_routines_lists_every_built_in_routine_by_name_with_its_title() -> None:
    result = run("routines")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    routines, programmes = lines[: len(builtin_names())], lines[len(builtin_names()) :]
    assert [line.split()[0] for line in routines] == builtin_names()
    assert "hamstring" in builtin_names()
    for name, line in zip(builtin_names(), routines, strict=True):
        assert load_routine(name).title in line, line
    assert [line.split()[0] for line in programmes] == ["lower-back"]
    assert "a programme of 7 exercises" in programmes[0]


def test_routines_show_prints_yaml_that_builds(in_tmp: Path) -> None:
    result = run("routines", "show", "hamstring")
    assert result.exit_code == 0
    assert result.stdout == builtin_text("hamstring")
    write_routine(in_tmp, result.stdout, "copy.yaml")
    assert run("script", "copy.yaml", "--hold", "1m").exit_code == 0


def test_voices_lists_the_engine_voices() -> None:
    result = run("voices")
    assert result.exit_code == 0
    assert "fake/one" in result.stdout
    assert "Fake One" in result.stdout


def test_templates_lists_every_template() -> None:
    result = run("templates")
    assert result.exit_code == 0
    for name in ("intro.j2", "reminder.j2", "switch_sides.j2", "outro.j2"):
        assert name in result.stdout


# --- custom wording ---------------------------------------------------------------------


def test_exported_and_edited_templates_change_the_wording(in_tmp: Path) -> None:
    result = run("templates", "export", "wording")
    assert result.exit_code == 0, result.output
    assert len(list((in_tmp / "wording").glob("*.j2"))) == len(TEMPLATES) == 18
    for path in (in_tmp / "wording").glob("*.j2"):
        if path.name != "switch_sides.j2":
            path.unlink()  # keep only the one we change
    (in_tmp / "wording" / "switch_sides.j2").write_text(
        "Time to change legs: the {{ next_side }} one.\n"
    )
    result = run("script", "--hold", "1m", "--templates", "wording")
    assert result.exit_code == 0, result.output
    assert "Time to change legs: the right one." in result.stdout
    assert "Switch sides." not in result.stdout
    assert "Lie on your back." in result.stdout  # the rest keeps the built-in wording


def test_templates_export_will_not_overwrite_without_force(in_tmp: Path) -> None:
    assert run("templates", "export", "wording").exit_code == 0
    (in_tmp / "wording" / "intro.j2").write_text("My own intro.\n")
    assert_user_error(run("templates", "export", "wording"), 1, "already exists", "--force")
    assert (in_tmp / "wording" / "intro.j2").read_text() == "My own intro.\n"
    assert run("templates", "export", "wording", "--force").exit_code == 0
    assert (in_tmp / "wording" / "intro.j2").read_text() != "My own intro.\n"


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("name: x\ntitle: [unclosed\n", ("my-routine.yaml", "line", "invalid YAML")),
        (MINI + "titel: Oops\n", ("unknown key 'titel'", "did you mean 'title'?")),
        (MINI.replace("name: mini", "name: mini\nstep_pause: soon"), ("line 2", "step_pause")),
        ("name: x\ntitle: y\nsteps: []\n", ("steps",)),
    ],
)
def test_bad_routine_files_fail_with_one_line(
    in_tmp: Path, text: str, fragments: tuple[str, ...]
) -> None:
    write_routine(in_tmp, text)
    assert_user_error(run("build", "my-routine.yaml", "-q"), 1, *fragments)
    assert not list(in_tmp.glob("*.mp3"))


def test_a_missing_routine_file(in_tmp: Path) -> None:
    assert_user_error(run("build", "nope.yaml"), 1, "routine file nope.yaml does not exist")


def test_an_unknown_built_in_routine(in_tmp: Path) -> None:
    assert_user_error(
        run("build", "hamstrung"),
        1,
        "no built-in routine or programme called 'hamstrung'; did you mean 'hamstring'?",
        "programmes: lower-back (or give the path to a .yaml file)",
    )


@pytest.mark.parametrize("value", ["5 parsecs", "-1m", "0", "abc", "1:75"])
def test_bad_durations_are_bad_usage(in_tmp: Path, value: str) -> None:
    result = run("build", "--hold", value)
    assert_user_error(result, 2, "--hold")
    assert not list(in_tmp.iterdir())


def test_bad_usage_exits_2() -> None:
    assert_user_error(run("build", "--rate", "5"), 2, "--rate")
    assert_user_error(run("bogus"), 2, "No such command")


def test_a_broken_template_names_its_file_and_line(in_tmp: Path) -> None:
    (in_tmp / "wording").mkdir()
    (in_tmp / "wording" / "halfway.j2").write_text("Halfway.\n{{ tme_left | duration_words }}\n")
    result = run("build", "--templates", "wording", "--hold", "1m")
    assert_user_error(result, 1, "halfway.j2, line 2", "tme_left")
    (in_tmp / "wording" / "halfway.j2").write_text("{% if %}\n")
    assert_user_error(run("script", "--templates", "wording"), 1, "halfway.j2, line 1", "syntax")
    assert not list(in_tmp.glob("*.mp3"))


def test_a_missing_template_folder(in_tmp: Path) -> None:
    assert_user_error(run("build", "--templates", "nowhere"), 1, "nowhere does not exist")


def test_missing_ffmpeg_says_how_to_install_it(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(in_tmp))
    assert_user_error(
        run("build", "--hold", "1m"), 1, "ffmpeg is not installed", "apt-get install ffmpeg"
    )


def test_missing_espeak_says_how_to_install_it(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_espeak(
        voice: str | None, rate: int, model: Path | None, keep: Path | None
    ) -> FakeEngine:
        raise MissingToolError(
            "espeak-ng is not installed; install it with: apt-get install espeak-ng"
        )

    monkeypatch.setitem(speech.ENGINES, "pyttsx3", no_espeak)
    assert_user_error(run("build"), 1, "espeak-ng is not installed", "apt-get install espeak-ng")


@pytest.mark.parametrize(
    ("output", "fragment"),
    [
        ("missing-folder/out.mp3", "does not exist"),
        (".", "is a folder"),
        ("out.aiff", "use a name ending in one"),
    ],
)
def test_unwritable_outputs(in_tmp: Path, output: str, fragment: str) -> None:
    assert_user_error(run("build", "-o", output, "--hold", "1m"), 1, fragment)


def test_a_folder_that_cannot_be_written(in_tmp: Path) -> None:
    # /sys refuses new files even to root, so this holds however the tests run.
    assert_user_error(
        run("build", "-o", "/sys/out.mp3"),
        1,
        "cannot write /sys/out.mp3: you may not write in /sys/; write somewhere else",
    )


def test_a_failed_build_leaves_an_existing_output_untouched(in_tmp: Path) -> None:
    (in_tmp / "out.mp3").write_bytes(b"a session I like")
    (in_tmp / "wording").mkdir()
    (in_tmp / "wording" / "outro.j2").write_text("{{ nonsense }}")
    assert_user_error(run("build", "-o", "out.mp3", "--templates", "wording"), 1, "outro.j2")
    assert (in_tmp / "out.mp3").read_bytes() == b"a session I like"
    assert sorted(p.name for p in in_tmp.iterdir()) == ["out.mp3", "wording"]


def test_interrupting_a_build_writes_nothing(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (in_tmp / "out.mp3").write_bytes(b"a session I like")

    class Interrupting(FakeEngine):
        def synthesize(self, texts):  # type: ignore[no-untyped-def]
            yield from super().synthesize(texts[:2])
            raise KeyboardInterrupt

    monkeypatch.setitem(speech.ENGINES, "pyttsx3", lambda voice, rate, model, keep: Interrupting())
    result = run("build", "-o", "out.mp3", "--quiet")
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted; nothing written"
    assert (in_tmp / "out.mp3").read_bytes() == b"a session I like"
    assert sorted(p.name for p in in_tmp.iterdir()) == ["out.mp3"]


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "build" in result.stdout
    assert "script" in result.stdout


def test_studio_without_its_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import voiceguide.studio

    monkeypatch.setattr(voiceguide.studio, "available", lambda: False)
    result = run("studio", "--no-browser")
    assert_user_error(result, 1, "pip install 'voiceguide[studio]'")


def test_cache_info_counts_what_is_kept_and_cache_clear_empties_it() -> None:
    import os

    from tests.fakes import tone
    from voiceguide.speech.cache import ClipCache
    from voiceguide.units import SAMPLE_RATE

    folder = Path(os.environ["VOICEGUIDE_CACHE_DIR"])  # the test's own (tests/conftest.py)

    result = run("cache", "info")
    assert result.exit_code == 0, result.output
    assert result.output == f"{folder}: 0 clips; 0.0 MB in all\n"
    cache = ClipCache()
    cache.put(ClipCache.key("fake", "Breathe."), tone(0.5, SAMPLE_RATE))
    cache.put_encoded("ab" * 32, bytes(250_000))
    result = run("cache", "info")
    assert result.exit_code == 0, result.output
    assert result.output == (f"{folder}: 1 clip, the encoded frames of 1 session; 0.3 MB in all\n")
    (folder / "models").mkdir()
    (folder / "models" / ("voice-" + "0" * 32 + ".onnx")).write_bytes(bytes(1_000_000))
    (folder / "models" / ("voice-" + "0" * 16 + ".sha256")).write_text("1 2 3 4 5 " + "0" * 16)
    result = run("cache", "info")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{folder}: 1 clip, the encoded frames of 1 session, 1 voice model optimised for "
        "this CPU; 1.3 MB in all\n"
    )
    result = run("cache", "clear")
    assert result.exit_code == 0, result.output
    assert result.output == "Removed 1 clip, and all kept beside them\n"
    assert not folder.exists()


def test_cache_clear_leaves_and_names_what_the_cache_did_not_write() -> None:
    import os

    from tests.fakes import tone
    from voiceguide.speech.cache import ClipCache
    from voiceguide.units import SAMPLE_RATE

    folder = Path(os.environ["VOICEGUIDE_CACHE_DIR"])  # the test's own (tests/conftest.py)
    ClipCache().put(ClipCache.key("fake", "Breathe."), tone(0.5, SAMPLE_RATE))
    (folder / "notes.txt").write_text("mine")
    result = run("cache", "clear")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Removed 1 clip, and all kept beside them; left 1 other file or folder in {folder}, "
        "which the cache did not write\n"
    )
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == "mine"
