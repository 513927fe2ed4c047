"""The command group: turns library errors into one line and an exit code.

Exit codes: 0 success, 1 a problem the user can fix (one line on stderr),
2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from voiceguide import interrupts
from voiceguide.cli.arenas import one_arena
from voiceguide.errors import VoiceguideError, disk_problem


class BuildInterruptedError(Exception):
    """Ctrl-C or SIGTERM, carried past click's own handling."""


class VoiceguideGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise BuildInterruptedError from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as e:
            if e.ctx is not None and type(e).__name__ == "NoArgsIsHelpError":
                click.echo(e.ctx.get_help())
                _exit(0)
            hint = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
            _fail(f"{e.format_message()}{hint}", 2)
        except VoiceguideError as e:
            _fail(str(e), 1)
        except click.ClickException as e:
            _fail(e.format_message(), e.exit_code)
        except OSError as e:  # the machine's answer, where no layer below said it better
            where = Path(str(e.filename)).parent if e.filename else Path()
            name = f"{e.filename}: " if e.filename else ""
            _fail(name + disk_problem(e.errno, where, e.strerror), 1)
        except (BuildInterruptedError, click.Abort, KeyboardInterrupt):
            click.echo(interrupts.MESSAGE, err=True)
            _exit(interrupts.EXIT_CODE)
        _exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    _exit(code)


def _exit(code: int) -> NoReturn:
    sys.exit(code)


@click.group(cls=VoiceguideGroup)
@click.version_option(package_name="voiceguide")
def cli() -> None:
    """Turn a stretching routine into a voice-guided, exactly timed MP3 session."""


def main() -> None:
    interrupts.install()
    one_arena()
    cli(prog_name="voiceguide")
