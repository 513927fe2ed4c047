"""The session options are declared once (voiceguide/build/options.py): the command
line's options and a batch file's keys must both follow that declaration."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import pytest

from tests.cli.test_cli import run
from voiceguide.build.batchfile import Entry, load_batch
from voiceguide.build.options import FILE_KEYS, SESSION_OPTIONS, SessionOption, by_key
from voiceguide.cli import commands
from voiceguide.cli.options import to_session_options
from voiceguide.errors import BatchError

RANGED = [o for o in SESSION_OPTIONS if o.minimum is not None]


def options_in_help(command: str) -> dict[str, str]:
    """Each option ``command --help`` lists, by each of its flags: its help, on one line."""
    result = run(command, "--help")
    assert result.exit_code == 0, result.output
    lines = result.output.split("\nOptions:\n", 1)[1].splitlines()
    entries: list[tuple[list[str], list[str]]] = []
    for line in lines:
        if line.startswith("  -"):
            head, _, rest = line.strip().partition("  ")
            flags = [w.rstrip(",") for w in re.split(r"[ /]", head) if w.startswith("-")]
            entries.append((flags, [rest]))
        else:
            entries[-1][1].append(line)
    return {flag: " ".join(" ".join(words).split()) for flags, words in entries for flag in flags}


def flags_of(option: SessionOption) -> list[str]:
    return [f for flag in option.flags for f in flag.split("/") if f.startswith("-")]


@pytest.mark.parametrize("command", ["build", "script", "batch", "voices"])
def test_each_command_offers_the_options_declared_for_it(command: str) -> None:
    listed = options_in_help(command)
    usage = run(command, "--help").output.splitlines()[0]
    for option in SESSION_OPTIONS:
        offered = command in option.commands
        if option.kind == "routine":
            assert ("ROUTINE" in usage) == offered, usage
        said = " ".join(option.help.split())
        for flag in flags_of(option):  # batch's -o is its own: a folder for the sessions
            assert (said in listed.get(flag, "")) == offered, f"{command} --help and {flag}"


def test_build_help_gives_each_option_its_declared_help() -> None:
    listed = options_in_help("build")
    for option in SESSION_OPTIONS:
        for flag in flags_of(option):
            assert " ".join((option.help + option.several).split()) in listed[flag]


def test_a_batch_file_takes_every_declared_key_and_no_other(tmp_path: Path) -> None:
    assert tuple(Entry.model_fields) == FILE_KEYS
    values = {o.key: _valid(o) for o in SESSION_OPTIONS if o.in_files}
    path = tmp_path / "batch.yaml"
    path.write_text(f"sessions:\n  - {_yaml(values)}\n", "utf-8")
    ((job),) = load_batch(path)
    assert job.output == Path("out.mp3")
    options = job.options
    assert (options.rate, options.loudness, options.bitrate) == (80, -9.0, "64k")
    assert (options.sides, options.title) == (("left",), "en")
    assert options.lexicon == tmp_path / "voice.onnx"
    change = options.extras_change
    assert (change.countdown_from, change.breaths, change.volumes) == (
        1,
        20.0,
        (("countdown", -60),),
    )
    for option in SESSION_OPTIONS:
        if not option.in_files:
            path.write_text(f"sessions:\n  - {{{option.key}: x}}\n", "utf-8")
            with pytest.raises(BatchError, match=f"unknown key '{option.key}'"):
                load_batch(path)


def test_the_batch_help_names_every_key_a_session_may_set() -> None:
    text = " ".join(run("batch", "--help").output.split())
    for key in FILE_KEYS:
        assert re.search(rf"\b{key}\b", text), key


@pytest.mark.parametrize("option", RANGED, ids=[o.key for o in RANGED])
def test_the_help_and_the_checks_agree_on_each_range(option: SessionOption, tmp_path: Path) -> None:
    low, high = option.minimum, option.maximum
    assert low is not None
    assert high is not None
    block = options_in_help("build")[flags_of(option)[0]]
    # Each range the help gives, in words ("2 to 20") or as click shows it ("2.0<=x<=20.0").
    said = re.findall(r"(-?[\d.]+) to \+?(-?[\d.]+)", block)
    said += re.findall(r"\[?(?:.*; )?(-?[\d.]+)<=x<=(-?[\d.]+)", block)
    assert said, block
    assert {(float(a), float(b)) for a, b in said} == {(low, high)}, block
    step = 1 if option.kind == "int" else 0.5
    for value, good in ((low, True), (high, True), (low - step, False), (high + step, False)):
        assert _cli_takes(option, value) == good, (option.key, value)
        error = _file_error(option, value, tmp_path)
        assert (error is None) == good, (option.key, value)
        assert error is None or f"session 1: {option.key}" in error


def test_the_command_line_and_a_batch_file_make_the_same_options(tmp_path: Path) -> None:
    args = ["--hold", "90s", "--templates", "words", "--voice", "en", "--rate", "90",
            "--no-countdown", "--breaths", "3", "--background", "rain.ogg",
            "--start-chime", "off", "--volume", "pacer=-30"]  # fmt: skip
    keys = {"hold": "90s", "templates": "words", "voice": "en", "rate": 90, "countdown": False,
            "breaths": 3, "background": "rain.ogg", "start_chime": "off",
            "volume": {"pacer": -30}}  # fmt: skip
    path = tmp_path / "batch.yaml"
    path.write_text(f"sessions:\n  - {_yaml(keys)}\n", "utf-8")
    ((job),) = load_batch(path)
    from_file = job.options
    with commands.script.make_context("script", args) as ctx:
        given = to_session_options(**ctx.params)
    assert from_file.extras_change.said_as == "keys"
    assert given.extras_change.said_as == "options"
    # Paths in a batch file are relative to it; on the command line, to the current folder.
    assert from_file == replace(
        given,
        templates=tmp_path / "words",
        extras_change=replace(
            given.extras_change, background=tmp_path / "rain.ogg", said_as="keys"
        ),
    )


# --- helpers ------------------------------------------------------------------------------


def _valid(option: SessionOption) -> Any:
    """A value ``option`` takes in a file."""
    examples: dict[str, Any] = {
        "routine": "hamstring", "duration": "90s", "folder": "wording", "text": "en",
        "switch": True, "bitrate": "64k", "sides": ["left"],
    }  # fmt: skip
    if option.key == "output":
        return "out.mp3"
    if option.kind in ("choice", "sound"):
        return option.choices[0]
    if option.kind == "file":
        return "voice.onnx"
    if option.kind == "int":
        return option.minimum
    if option.kind == "number":
        return option.maximum
    if option.kind == "volumes":
        return {option.choices[0]: option.minimum}
    return examples[option.kind]


def _yaml(values: dict[str, Any]) -> str:
    def one(value: Any) -> str:
        if isinstance(value, dict):
            return _yaml(value)
        return str(value).lower() if isinstance(value, bool) else str(value)

    return "{" + ", ".join(f"{key}: {one(value)}" for key, value in values.items()) + "}"


def _cli_takes(option: SessionOption, value: float) -> bool:
    text = f"{value:g}"
    args = [option.flags[0], f"{option.choices[0]}={text}" if option.choices else text]
    try:
        with commands.build.make_context("build", args):
            return True
    except click.BadParameter:
        return False


def _file_error(option: SessionOption, value: float, folder: Path) -> str | None:
    given = {option.choices[0]: value} if option.choices else value
    path = folder / "batch.yaml"
    path.write_text(f"sessions:\n  - {_yaml({option.key: given})}\n", "utf-8")
    try:
        load_batch(path)
    except BatchError as e:
        return str(e)
    return None


def test_by_key_finds_each_option() -> None:
    assert by_key("rate").minimum == 80
    assert by_key("rate").maximum == 300
    with pytest.raises(KeyError):
        by_key("speed")
