"""The JSON Schemas of routine, programme and batch files agree with their loaders."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from voiceguide.build.batchfile import load_batch
from voiceguide.build.schemas import schema
from voiceguide.errors import VoiceguideError
from voiceguide.text.programme import builtin_programmes, parse_programme
from voiceguide.text.routine import builtin_names, parse_routine


def valid(kind: str, text: str) -> bool:
    validator = jsonschema.Draft202012Validator(schema(kind))
    return not list(validator.iter_errors(yaml.safe_load(text)))


@pytest.mark.parametrize("kind", ["routine", "programme", "batch"])
def test_each_schema_is_a_valid_json_schema(kind: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(kind))


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_routine_fits_its_schema(name: str) -> None:
    text = (resources.files("voiceguide.text.routines") / f"{name}.yaml").read_text("utf-8")
    assert valid("routine", text)


def test_every_builtin_programme_fits_its_schema() -> None:
    for name in builtin_programmes():
        text = (resources.files("voiceguide.text.programmes") / f"{name}.yaml").read_text("utf-8")
        assert valid("programme", text), name


ROUTINE = "name: r\ntitle: R\nsteps:\n  - Lie down.\n"
GOOD_ROUTINES = [
    ROUTINE,
    ROUTINE + "hold: {default: 90s, minimum: 1m}\n",
    ROUTINE + "reminders:\n  - Breathe.\n  - {text: Relax.}\n",
    ROUTINE + "extras: {countdown: true, pacer: 6, start_chime: off}\n",
    ROUTINE + "sides: []\n",
    ROUTINE + "pronounce: {piriformis: pirri formiss}\n",
]
BAD_ROUTINES = [
    "title: R\nsteps: [Lie down.]\n",  # no name
    ROUTINE.replace("name: r", "name: R r"),  # not a name
    ROUTINE + "hold: {default: 5m, mnimum: 1m}\n",  # unknown key
    ROUTINE + "steps_pause: 3\n",  # unknown key
    "name: r\ntitle: R\nsteps: Lie down.\n",  # not a list
    ROUTINE + "extras: {countdown: {start: 99}}\n",  # out of range
    ROUTINE + "sides: [a, b, c, d, e]\n",  # too many
]


@pytest.mark.parametrize("text", GOOD_ROUTINES)
def test_good_routines_pass_both(text: str) -> None:
    assert valid("routine", text)
    parse_routine(text, "r.yaml", Path("."))


@pytest.mark.parametrize("text", BAD_ROUTINES)
def test_bad_routines_fail_both(text: str) -> None:
    assert not valid("routine", text)
    with pytest.raises(VoiceguideError):
        parse_routine(text, "r.yaml", Path("."))


PROGRAMME = "name: p\ntitle: P\nexercises:\n  - hamstring\n"
GOOD_PROGRAMMES = [
    PROGRAMME,
    PROGRAMME + "  - {routine: hamstring, hold: 90s, sides: [left], rest: 5s}\n",
    PROGRAMME + "  - rounds: 2\n    rest: 10s\n    exercises: [hamstring]\n",
    PROGRAMME + "rest: 30s\nintro: Hello.\n",
]
BAD_PROGRAMMES = [
    "name: p\ntitle: P\nexercises: []\n",
    PROGRAMME + "  - {routine: hamstring, hodl: 90s}\n",
    PROGRAMME + "  - rounds: 0\n    exercises: [hamstring]\n",
    PROGRAMME + "  - rounds: 2\n",
    PROGRAMME + "rest: -5\n",
    PROGRAMME + "rest: 7200\n",
    "title: P\nexercises: [hamstring]\n",
]


@pytest.mark.parametrize("text", GOOD_PROGRAMMES)
def test_good_programmes_pass_both(text: str) -> None:
    assert valid("programme", text)
    parse_programme(text, "p.yaml", Path("."))


@pytest.mark.parametrize("text", BAD_PROGRAMMES)
def test_bad_programmes_fail_both(text: str) -> None:
    assert not valid("programme", text)
    with pytest.raises(VoiceguideError):
        parse_programme(text, "p.yaml", Path("."))


GOOD_BATCHES = [
    "sessions:\n  - {output: a.mp3, hold: 3m}\n",
    "defaults: {rate: 140}\nsessions:\n  - {output: b.mp3, countdown: false}\n",
]
BAD_BATCHES = [
    "sessions:\n  - {output: a.mp3, hodl: 3m}\n",
    "sessions:\n  - {output: a.mp3, rate: 1000}\n",
    "session:\n  - {output: a.mp3}\n",
]


@pytest.mark.parametrize("text", GOOD_BATCHES)
def test_good_batches_pass_both(text: str, tmp_path: Path) -> None:
    assert valid("batch", text)
    (tmp_path / "b.yaml").write_text(text)
    assert load_batch(tmp_path / "b.yaml")


@pytest.mark.parametrize("text", BAD_BATCHES)
def test_bad_batches_fail_both(text: str, tmp_path: Path) -> None:
    assert not valid("batch", text)
    (tmp_path / "b.yaml").write_text(text)
    with pytest.raises(VoiceguideError):
        load_batch(tmp_path / "b.yaml")
