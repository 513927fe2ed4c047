"""A corpus of bad input, through the command line.

Every case must end with exit code 1 (2 for bad usage), one line on stderr that
names the problem and where it is, no traceback, and no output file: a file
already at the output path is left byte for byte as it was, and nothing else
(no partial or temporary file) appears beside it.

The speech engine is the fake one (fast); ffmpeg is real.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

import voiceguide.encode.export
from voiceguide import files
from voiceguide.cli import cli
from voiceguide.text import sandbox

pytestmark = pytest.mark.usefixtures("fake_speech")

EXISTING = b"ID3 a session someone likes, which a failed build must not touch"

ENDLESS = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
GOOD = """\
name: mini
title: Mini stretch
sides: [left, right]
hold:
  default: 1m
  minimum: 30s
step_pause: 2s
steps:
  - Lie down on your {{ side }} side.
  - text: Reach for your foot.
    pause: 3s
reminders:
  - Breathe.
release: Let go.
outro: Well done.
"""


STEPS = (
    "steps:\n  - Lie down on your {{ side }} side.\n  - text: Reach for your foot.\n    pause: 3s"
)


def replace(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def extras(text: str) -> str:
    """GOOD with an extras: section (its first key is on line 17)."""
    return GOOD + "extras:\n" + text


def alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + "\n" + GOOD


@dataclass
class Case:
    id: str
    routine: str | bytes | None = None  # written to routine.yaml; None: the built-in one
    args: tuple[str, ...] = ()
    code: int = 1
    fragments: tuple[str, ...] = ()
    templates: dict[str, str] = field(default_factory=dict)  # written into wording/
    output: str = "out.mp3"
    files: dict[str, bytes] = field(default_factory=dict)  # more files, such as sounds
    links: dict[str, str] = field(default_factory=dict)  # symlinks: name -> target


R = "routine.yaml"

CASES = [
    # --- routine YAML: syntax ---------------------------------------------------------
    Case(
        "unclosed-bracket",
        replace("[left, right]", "[left, right"),
        fragments=(R, "line ", "invalid YAML"),
    ),
    Case(
        "unclosed-quote",
        replace("title: Mini stretch", 'title: "Mini stretch'),
        fragments=(R, "line ", "invalid YAML"),
    ),
    Case(
        "tab-indent",
        replace("  default: 1m", "\tdefault: 1m"),
        fragments=(R, "line 5", "invalid YAML"),
    ),
    Case(
        "bad-indent",
        replace("title: Mini stretch", "title: Mini\n   stretch: x"),
        fragments=(R, "line 3", "invalid YAML"),
    ),
    Case(
        "duplicate-key", GOOD + "title: Again\n", fragments=(R, "line 16", "'title' appears twice")
    ),
    Case("list-document", "- name: mini\n- title: x\n", fragments=(R, "must be a mapping")),
    Case("scalar-document", "just some words\n", fragments=(R, "must be a mapping")),
    Case("empty-file", "", fragments=(R, "must be a mapping")),
    Case("two-documents", GOOD + "---\nname: other\n", fragments=(R, "line 16", "invalid YAML")),
    Case(
        "python-tag",
        "!!python/object/apply:os.system ['touch PWNED']\n",
        fragments=(R, "line 1", "invalid YAML"),
    ),
    # --- routine YAML: wrong types ----------------------------------------------------
    Case(
        "title-list",
        replace("title: Mini stretch", "title: [a, b]"),
        fragments=(R, "line 2", "title"),
    ),
    Case(
        "steps-string",
        replace(
            STEPS,
            "steps: lie down",
        ),
        fragments=(R, "line 8", "steps"),
    ),
    Case("sides-number", replace("[left, right]", "2"), fragments=(R, "line 3", "sides")),
    Case(
        "hold-forever",
        replace("default: 1m", "default: forever"),
        fragments=(R, "line 5", "hold.default"),
    ),
    Case(
        "pause-word",
        replace("pause: 3s", "pause: fast"),
        fragments=(R, "line 11", "steps 2, pause", "use e.g. 5m"),
    ),
    Case(
        "reminders-mapping",
        replace("  - Breathe.", "  breathe: yes"),
        fragments=(R, "line 13", "reminders"),
    ),
    Case(
        "allow-markup-maybe",
        GOOD + "allow_markup: maybe\n",
        fragments=(R, "line 16", "allow_markup"),
    ),
    Case("name-spaces", replace("name: mini", "name: My Routine"), fragments=(R, "line 1", "name")),
    # --- routine YAML: unknown keys ---------------------------------------------------
    Case(
        "unknown-top-key",
        replace("title:", "titel:"),
        fragments=(R, "line 2", "unknown key 'titel'; did you mean 'title'?"),
    ),
    Case(
        "unknown-step-key",
        replace("text: Reach", "txt: Reach"),
        fragments=(R, "line 10", "unknown key 'txt'; did you mean 'text'?"),
    ),
    Case(
        "unknown-hold-key",
        replace("default: 1m", "defualt: 1m"),
        fragments=(R, "line 5", "unknown key 'defualt'; did you mean 'default'?"),
    ),
    Case(
        "unknown-far-key",
        GOOD + "colour: blue\n",
        fragments=(R, "line 16", "unknown key 'colour'", "valid keys"),
    ),
    Case(
        "unknown-key-close-to-exercises",  # a routine, by its steps: not read as a programme
        GOOD + "exercise: hamstring\n",
        fragments=(
            R,
            "line 16",
            "unknown key 'exercise'; did you mean 'exercises'?",
            "a file without it is read as a routine",
        ),
    ),
    # --- routine YAML: empty lists, sides ---------------------------------------------
    Case(
        "no-steps",
        replace(
            STEPS,
            "steps: []",
        ),
        fragments=(R, "line 8", "steps"),
    ),
    Case(
        "missing-steps",
        replace(
            STEPS + "\n",
            "",
        ),
        fragments=(R, "steps is required"),
    ),
    Case(
        "duplicate-sides",
        replace("[left, right]", "[left, left]"),
        fragments=(R, "line 3", "'left' is listed twice"),
    ),
    Case(
        "duplicate-sides-case",
        replace("[left, right]", "[Left, left]"),
        fragments=(R, "line 3", "listed twice"),
    ),
    Case(
        "blank-side",
        replace("[left, right]", "[left, ' ']"),
        fragments=(R, "line 3", "a side needs a name"),
    ),
    Case(
        "five-sides", replace("[left, right]", "[a, b, c, d, e]"), fragments=(R, "line 3", "sides")
    ),
    Case(
        "empty-step",
        replace("  - Lie down on your {{ side }} side.", "  - ''"),
        fragments=(R, "line 9", "steps 1: write some text"),
    ),
    # --- routine YAML: absurd values --------------------------------------------------
    Case(
        "hold-30-hours",
        replace("default: 1m", "default: 30h"),
        fragments=(R, "line 5", "thirty hours is too long"),
    ),
    Case(
        "minimum-30-hours",
        replace("minimum: 30s", "minimum: 30h"),
        fragments=(R, "line 6", "hold.minimum"),
    ),
    Case(
        "ten-thousand-steps",
        replace("steps:\n", "steps:\n" + "  - Breathe.\n" * 10_000),
        fragments=(R, "line 9", "steps", "at most 100 items"),
    ),
    Case(
        "negative-pause",
        replace("pause: 3s", "pause: -5s"),
        fragments=(R, "line 11", "steps 2, pause", "longer than zero"),
    ),
    Case(
        "negative-step-pause",
        replace("step_pause: 2s", "step_pause: -2"),
        fragments=(R, "line 7", "step_pause"),
    ),
    Case(
        "pause-20-hours",
        replace("step_pause: 2s", "step_pause: 20h"),
        fragments=(R, "line 7", "step_pause", "too long"),
    ),
    Case(
        "huge-title",
        replace("title: Mini stretch", "title: " + "x" * 5000),
        fragments=(R, "line 2", "title"),
    ),
    # --- routine files: bytes ---------------------------------------------------------
    Case(
        "latin-1",
        GOOD.replace("Well done.", "Très bien.").encode("latin-1"),
        fragments=(R, "line 15", "not UTF-8"),
    ),
    Case("utf-16", GOOD.encode("utf-16"), fragments=(R, "line 1", "not UTF-8")),
    Case(
        "nul-bytes", GOOD.encode() + b"\x00\x00", fragments=(R, "line 16", "invalid YAML", "#x0000")
    ),
    Case(
        "fifty-megabytes",
        GOOD.encode() + b"# " + b"x" * 50_000_000 + b"\n",
        fragments=(R, "at most 1 MB"),
    ),
    Case("alias-bomb", alias_bomb(), fragments=(R, "line 1", "anchors and aliases")),
    Case(
        "folder-as-routine",
        args=("wording/../wording",),
        templates={"intro.j2": "Hi."},
        fragments=("wording/../wording is a folder",),
    ),
    Case("missing-routine", args=("nowhere.yaml",), fragments=("nowhere.yaml does not exist",)),
    # --- templates and routine text ---------------------------------------------------
    Case(
        "template-syntax",
        templates={"halfway.j2": "Halfway.\n{% if %}\n"},
        fragments=("halfway.j2, line 2", "syntax"),
    ),
    Case(
        "template-unclosed",
        templates={"outro.j2": "{% for s in sides %}{{ s }}\n"},
        fragments=("outro.j2, line 1: this {% for %} is never closed; end it with {% endfor %}",),
    ),
    Case(
        "template-undefined",
        templates={"halfway.j2": "Halfway.\n{{ tme_left }}\n"},
        fragments=("halfway.j2, line 2", "'tme_left' is undefined"),
    ),
    Case(
        "template-endless",
        templates={"intro.j2": "Hi.\n" + ENDLESS + "\n"},
        fragments=("intro.j2, line 2", "loop without end"),
    ),
    Case(
        "template-enormous",
        templates={"intro.j2": "{{ 'x' * 10**12 }}\n"},
        fragments=("intro.j2, line 1", "too much work"),
    ),
    Case(
        "template-long-line",
        templates={"intro.j2": "{% for i in range(900) %}word {% endfor %}\n"},
        fragments=("intro.j2", "a spoken line may have at most"),
    ),
    Case(
        "template-injection",
        templates={
            "intro.j2": "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}\n"
        },
        fragments=("intro.j2", "not allowed in a template"),
    ),
    Case(
        "template-include-passwd",
        templates={"intro.j2": "{% include '/etc/passwd' %}\n"},
        fragments=("intro.j2", "/etc/passwd not found"),
    ),
    Case(
        "template-unknown-name",
        templates={"intor.j2": "Hi.\n"},
        fragments=("intor.j2 is not a voiceguide template",),
    ),
    Case(
        "template-huge-file",
        templates={"intro.j2": "Hi. " * 20_000},
        fragments=("intro.j2 is 80000 bytes",),
    ),
    Case(
        "text-syntax",
        replace("Let go.", "Let go {{ side"),
        fragments=(f"{R}, line 14: release", "syntax", "write a variable as {{ name }}"),
    ),
    Case(
        "text-undefined",
        replace("Breathe.", "Breathe {{ sied }}."),
        fragments=(f"{R}, line 13: reminders 1", "'sied' is undefined", "did you mean 'side'?"),
    ),
    Case(
        "text-endless",
        replace(
            "Well done.",
            "'{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}'",
        ),
        fragments=(f"{R}, line 15: outro", "loop without end"),
    ),
    Case(
        "text-enormous",
        replace("Well done.", "\"{{ 'x' * 10**12 }}\""),
        fragments=(f"{R}, line 15: outro", "too much work"),
    ),
    Case(
        "text-injection",
        replace("Breathe.", "\"{{ ''.__class__.__mro__[1].__subclasses__() }}\""),
        fragments=(f"{R}, line 13: reminders 1", "not allowed in a template"),
    ),
    # --- routine YAML: extras and their sound files --------------------------------------
    Case(
        "extras-unknown-key",
        extras("  countdonw: true\n"),
        fragments=(R, "line 17", "did you mean 'countdown'"),
    ),
    Case(
        "extras-unknown-nested-key",
        extras("  pacer:\n    breath: 6\n"),
        fragments=(R, "line 18", "did you mean 'breaths'"),
    ),
    Case("extras-not-a-mapping", extras("  - countdown\n"), fragments=(R, "line 17", "extras")),
    Case(
        "extras-countdown-20",
        extras("  countdown: {start: 20}\n"),
        fragments=(R, "line 17", "extras.countdown.start"),
    ),
    Case(
        "extras-countdown-word",
        extras("  countdown: please\n"),
        fragments=(R, "line 17", "give true, false"),
    ),
    Case(
        "extras-breaths-100",
        extras("  pacer: {breaths: 100}\n"),
        fragments=(R, "line 17", "extras.pacer.breaths"),
    ),
    Case(
        "extras-volume-too-loud",
        extras("  background:\n    sound: noise\n    volume: 20\n"),
        fragments=(R, "line 19", "20 dB is out of range"),
    ),
    Case(
        "extras-volume-text",
        extras("  countdown: {volume: loud}\n"),
        fragments=(R, "line 17", "extras.countdown.volume"),
    ),
    Case(
        "extras-duck-negative",
        extras("  background: {duck: -5}\n"),
        fragments=(R, "line 17", "extras.background.duck"),
    ),
    Case(
        "extras-chime-number",
        extras("  start_chime: 7\n"),
        fragments=(R, "line 17", "extras.start_chime"),
    ),
    Case(
        "extras-chime-absolute",
        extras("  start_chime: /etc/passwd\n"),
        fragments=(R, "line 17", "'/etc/passwd' is an absolute path"),
    ),
    Case(
        "extras-chime-home",
        extras("  end_chime: ~/bell.wav\n"),
        fragments=(R, "line 17", "'~/bell.wav' is an absolute path"),
    ),
    Case(
        "extras-chime-escapes",
        extras("  end_chime: ../../etc/passwd\n"),
        fragments=(R, "line 17", "'../../etc/passwd' leads out of the routine's folder"),
    ),
    Case(
        "extras-chime-escapes-via-subfolder",
        extras("  end_chime: sounds/../../bell.wav\n"),
        files={"sounds/gong.wav": b"x"},
        fragments=(R, "line 17", "'sounds/../../bell.wav' leads out"),
    ),
    Case(
        "extras-chime-symlink-outside",
        extras("  start_chime: bell.wav\n"),
        links={"bell.wav": "/etc/passwd"},
        fragments=(R, "line 17", "'bell.wav' points outside the routine's folder"),
    ),
    Case(
        "extras-background-escapes",
        extras("  background: ../rain.ogg\n"),
        fragments=(R, "line 17", "'../rain.ogg' leads out"),
    ),
    Case(
        "extras-chime-missing",
        extras("  start_chime: bell.wav\n"),
        fragments=(R, "line 17", "sound file 'bell.wav' does not exist"),
    ),
    Case(
        "extras-chime-corrupt",
        extras("  start_chime: bell.wav\n"),
        files={"bell.wav": b"RIFF\x00\x01\x00\x00WAVEjunk" + bytes(100)},
        fragments=("cannot decode the start chime", "bell.wav"),
    ),
    Case(
        "extras-chime-text-file",
        extras("  end_chime: bell.flac\n"),
        files={"bell.flac": b"not a sound, just words\n" * 50},
        fragments=("cannot decode the end chime", "bell.flac"),
    ),
    # --- issue 13: each error names the file and line, and says what to write ----------
    Case(
        "text-undefined-in-a-later-reminder",
        replace("  - Breathe.", "  - Breathe.\n  - Cross your {{ leg }} leg."),
        fragments=(f"{R}, line 14: reminders 2: 'leg' is undefined", "the variables here are"),
    ),
    Case(
        "text-syntax-in-a-step",
        replace("  - Lie down on your {{ side }} side.", "  - Lie down on your {{ side . }}"),
        fragments=(f"{R}, line 9: steps 1: template syntax error", "write a variable as"),
    ),
    Case(
        "text-syntax-in-a-literal-block",
        replace("release: Let go.", "release: |\n  Let go.\n  Slowly {{ side"),
        fragments=(f"{R}, line 16: release: template syntax error",),
    ),
    Case(
        "text-unknown-filter",
        replace("{{ side }} side.", "{{ side | uper }} side."),
        fragments=(f"{R}, line 9: steps 1", "there is no filter 'uper'; did you mean 'upper'?"),
    ),
    Case(
        "text-unknown-key-of-a-variable",
        replace("Well done.", "Well done, {{ routine.titel }}."),
        fragments=(f"{R}, line 15: outro", "there is no 'titel' in it; did you mean 'title'?"),
    ),
    Case(
        "template-unknown-filter",
        templates={"halfway.j2": "Halfway.\n{{ time_left | duration_word }}\n"},
        fragments=("halfway.j2, line 2", "did you mean 'duration_words'?"),
    ),
    Case(
        "template-undefined-did-you-mean",
        templates={"halfway.j2": "Halfway,\n{{ time_lef | duration_words }} left.\n"},
        fragments=("halfway.j2, line 2", "'time_lef' is undefined", "did you mean 'time_left'?"),
    ),
    Case(
        "hold-not-a-mapping",
        replace("hold:\n  default: 1m\n  minimum: 30s", "hold: [1m]"),
        fragments=(R, "line 4", "hold: write a duration, such as hold: 5m, or the keys default:"),
    ),
    Case(
        "name-with-capitals",
        replace("name: mini", "name: My Mini"),
        fragments=(R, "line 1", "such as 'my-mini'"),
    ),
    Case(
        "steps-a-text",
        replace(STEPS, "steps: Lie down."),
        fragments=(R, "line 8", "steps: write a list", "starting with '- '"),
    ),
    Case(
        "tab-in-indentation",
        replace("  default: 1m", "\tdefault: 1m"),
        fragments=(R, "line 5", "a tab in the indentation; indent with spaces"),
    ),
    Case(
        "step-with-a-colon-unquoted",
        replace("  - Lie down on your {{ side }} side.", "  - Tip: keep your head down."),
        fragments=(R, "line 9", "steps 1", 'put it in quotes: - "Tip: keep your head down."'),
    ),
    Case(
        "title-with-a-colon-unquoted",
        replace("title: Mini stretch", "title: Hips: the stretch"),
        fragments=(R, "line 2", "put the text in quotes"),
    ),
    Case(
        "allow-markup-words",
        GOOD + "allow_markup: maybe\n",
        fragments=(R, "line 16", "allow_markup: write true or false (not 'maybe')"),
    ),
    Case(
        "extras-volume-a-word",
        extras("  countdown: {volume: loud}\n"),
        fragments=(R, "line 17", "extras.countdown.volume: write a number (not 'loud')"),
    ),
    # --- command line -------------------------------------------------------------------
    Case("volume-no-equals", args=("--volume", "loud"), code=2, fragments=("--volume",)),
    Case("volume-unknown-extra", args=("--volume", "voice=-3"), code=2, fragments=("--volume",)),
    Case("volume-too-loud", args=("--volume", "countdown=12"), code=2, fragments=("--volume",)),
    Case(
        "volume-of-an-extra-that-is-off",
        args=("--volume", "pacer=-20"),
        fragments=("the pacer is off",),
    ),
    Case("countdown-from-zero", args=("--countdown-from", "0"), code=2, fragments=("--countdown",)),
    Case(
        "countdown-contradiction",
        args=("--no-countdown", "--countdown-from", "3"),
        code=2,
        fragments=("contradict",),
    ),
    Case(
        "start-chime-missing",
        args=("--start-chime", "gong.wav"),
        fragments=("--start-chime gong.wav: does not exist",),
    ),
    Case(
        "end-chime-corrupt",
        args=("--end-chime", "gong.ogg"),
        files={"gong.ogg": b"OggS" + bytes(200)},
        fragments=("cannot decode the end chime", "gong.ogg"),
    ),
    Case("hold-word", args=("--hold", "forever"), code=2, fragments=("--hold",)),
    Case("hold-negative", args=("--hold", "-5m"), code=2, fragments=("--hold",)),
    Case("hold-zero", args=("--hold", "0"), code=2, fragments=("--hold",)),
    Case("hold-bad-clock", args=("--hold", "1:75"), code=2, fragments=("--hold",)),
    # out of range, as --rate 5 is: bad usage too
    Case(
        "hold-30-hours-option",
        args=("--hold", "30h"),
        code=2,
        fragments=("Invalid value for '--hold': a hold may be at most two hours",),
    ),
    Case(
        "hold-too-short",
        args=("--hold", "5s"),
        code=2,
        fragments=("Invalid value for '--hold': a hold must be at least ten seconds",),
    ),
    Case("rate-too-low", args=("--rate", "5"), code=2, fragments=("--rate",)),
    Case("bitrate-unknown", args=("--bitrate", "1k"), code=2, fragments=("--bitrate",)),
    Case("unknown-option", args=("--colour", "blue"), code=2, fragments=("--colour",)),
    Case("rate-not-a-number", args=("--rate", "fast"), code=2, fragments=("--rate",)),
    # Conflicting: two sessions asked for, but one output file named.
    Case(
        "two-sessions-one-file",
        args=("--hold", "1m", "--hold", "2m"),
        fragments=("out.mp3 is not a folder", "2 sessions"),
    ),
    Case(
        "templates-is-a-file", args=("--templates", "out.mp3"), code=2, fragments=("--templates",)
    ),
    Case(
        "templates-missing", args=("--templates", "nowhere"), fragments=("nowhere does not exist",)
    ),
    # --- output path --------------------------------------------------------------------
    Case(
        "output-is-a-folder",
        output="wording",
        templates={"intro.j2": "Hi."},
        fragments=("wording is a folder",),
    ),
    Case("output-folder-missing", output="missing/out.mp3", fragments=("missing does not exist",)),
    Case("output-not-audio", output="out.aiff", fragments=("use a name ending in one",)),
    Case(
        "output-unwritable",
        output="/sys/out.mp3",
        fragments=("cannot write /sys/out.mp3: you may not write in /sys/; write somewhere else",),
    ),
]


@contextlib.contextmanager
def full_disk_atomic_path(target: Path) -> Iterator[Path]:
    """The real atomic_path, with its temporary file swapped for /dev/full.

    Every write to /dev/full fails with ENOSPC ("No space left on device"), as on a
    full disk. atomic_path gives either an anonymous file (``/proc/self/fd/N``, which
    ffmpeg inherits) or a named temporary file: the descriptor is pointed at
    /dev/full, or the name made a link to it. The real atomic_path still owns the
    temporary file and cleans it up.
    """
    with files.atomic_path(target) as temp:
        if str(temp.parent) == "/proc/self/fd":
            full = os.open("/dev/full", os.O_WRONLY)
            os.dup2(full, int(temp.name))
            os.close(full)
        else:
            temp.unlink()
            temp.symlink_to("/dev/full")
        yield temp


def run_case(case: Case, folder: Path) -> tuple[int, str, str]:
    args = ["build"]
    for name, content in case.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    for name, target in case.links.items():
        (folder / name).symlink_to(target)
    if isinstance(case.routine, str):
        (folder / R).write_text(case.routine, "utf-8")
        args.append(R)
    elif isinstance(case.routine, bytes):
        (folder / R).write_bytes(case.routine)
        args.append(R)
    if case.templates:
        (folder / "wording").mkdir()
        for name, text in case.templates.items():
            (folder / "wording" / name).write_text(text, "utf-8")
        if case.args[:1] != ("wording/../wording",) and case.output != "wording":
            args += ["--templates", "wording"]
    args += [*case.args, "-o", case.output, "-q"]
    result = CliRunner().invoke(cli, args, prog_name="voiceguide")
    return result.exit_code, result.stdout, result.stderr


def check_refused(
    code: int, stdout: str, stderr: str, expected_code: int, fragments: tuple[str, ...]
) -> str:
    assert code == expected_code, (code, stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith("Error: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert "Traceback" not in stdout + stderr
    assert len(line) < 400, "one readable line"
    # No internal class, regular expression or 0-based index shown (issue 13).
    for internal in ("Input should", "instance of", "should match pattern", "[0]", "/proc/self"):
        assert internal not in line, (internal, line)
    return line


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sandbox, "MAX_RENDER_SECONDS", 0.2)  # endless templates end sooner
    (tmp_path / "out.mp3").write_bytes(EXISTING)
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_writes_nothing(case: Case, in_tmp: Path) -> None:
    code, stdout, stderr = run_case(case, in_tmp)
    after = snapshot(in_tmp)
    check_refused(code, stdout, stderr, case.code, case.fragments)
    assert (in_tmp / "out.mp3").read_bytes() == EXISTING
    assert not (in_tmp / "PWNED").exists()
    # Nothing beside what the case set up: no new output, partial or temporary file.
    made = {name for name in after if name.endswith(".mp3") or ".voiceguide-" in name}
    assert made == {"out.mp3"}, made


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) + len(SPECIAL) >= 40


# --- cases that need more than a file ----------------------------------------------------


def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voiceguide.encode.export, "atomic_path", full_disk_atomic_path)


def _routine_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(R).write_text(GOOD)
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        if self.name == R:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", refuse)


#: (id, setup, arguments, exit code, fragments)
SPECIAL: list[
    tuple[str, Callable[[pytest.MonkeyPatch], None], tuple[str, ...], int, tuple[str, ...]]
] = [
    (
        "disk-full",
        _disk_full,
        ("--hold", "20s"),
        1,
        ("cannot write out.mp3: the disk holding the current folder is full", "kept as it was"),
    ),
    (
        "routine-unreadable",
        _routine_unreadable,
        (R,),
        1,
        ("cannot read routine file routine.yaml", "Permission denied"),
    ),
]


@pytest.mark.parametrize(
    ("setup", "args", "code", "fragments"),
    [s[1:] for s in SPECIAL],
    ids=[s[0] for s in SPECIAL],
)
def test_special_bad_input_is_refused_and_writes_nothing(
    in_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    setup: Callable[[pytest.MonkeyPatch], None],
    args: tuple[str, ...],
    code: int,
    fragments: tuple[str, ...],
) -> None:
    setup(monkeypatch)
    result = CliRunner().invoke(cli, ["build", *args, "-o", "out.mp3", "-q"])
    monkeypatch.undo()
    check_refused(result.exit_code, result.stdout, result.stderr, code, fragments)
    assert (in_tmp / "out.mp3").read_bytes() == EXISTING
    leftovers = [p.name for p in in_tmp.iterdir() if p.name not in ("out.mp3", R)]
    assert leftovers == [], leftovers
    assert not os.path.lexists(in_tmp / "PWNED")
