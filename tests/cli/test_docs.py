"""docs/commands.md is the commands' own --help, current and complete.

Regenerate it with ``cog -r docs/commands.md`` after changing a command.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from cogapp import Cog

from voiceguide.cli import cli

COMMANDS_MD = Path(__file__).resolve().parents[2] / "docs" / "commands.md"
HEADING = re.compile(r"^### `(voiceguide(?: [a-z-]+)*)`$", re.MULTILINE)


def command_paths(command: click.Command, path: str = "voiceguide") -> list[str]:
    """Every command and subcommand, as typed: ``voiceguide cache info``."""
    paths = [path]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                paths += command_paths(sub, f"{path} {name}")
    return paths


def cog_check(path: Path) -> int:
    return int(Cog().main(["cog", "--check", str(path)]))


def documented() -> set[str]:
    return set(HEADING.findall(COMMANDS_MD.read_text(encoding="utf-8")))


def test_the_command_reference_matches_help() -> None:
    assert cog_check(COMMANDS_MD) == 0, "docs/commands.md is stale: run cog -r docs/commands.md"


def test_the_check_sees_a_stale_reference(tmp_path: Path) -> None:
    text = COMMANDS_MD.read_text(encoding="utf-8")
    stale = text.replace("Show this message and exit.", "Show this message and leave.")
    assert stale != text
    copy = tmp_path / "commands.md"
    copy.write_text(stale, encoding="utf-8")
    assert cog_check(copy) == 5  # cog's status for "--check failed"


@pytest.mark.parametrize("path", command_paths(cli))
def test_every_command_is_documented(path: str) -> None:
    assert path in documented(), f"{path} has no section in docs/commands.md"


def test_no_section_for_a_command_that_does_not_exist() -> None:
    assert documented() - set(command_paths(cli)) == set()


def test_the_guide_names_every_key_a_batch_session_may_set() -> None:
    from voiceguide.build.options import FILE_KEYS

    guide = (COMMANDS_MD.parent / "using.md").read_text(encoding="utf-8")
    start = guide.index("Each session may set ")
    paragraph = guide[start : guide.index("\n\n", start)]
    named = set(re.findall(r"`([a-z_]+)`", paragraph))
    assert set(FILE_KEYS) - named == set(), "docs/using.md's batch keys miss some"
