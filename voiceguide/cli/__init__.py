"""The command line: a thin layer that parses input, calls the library, reports.

The options live in :mod:`.options`, the commands in :mod:`.commands`, and the
group that turns errors into messages and exit codes in :mod:`.app`.
"""

from voiceguide.cli import commands as commands
from voiceguide.cli import studio_command as studio_command
from voiceguide.cli.app import cli, main

__all__ = ["cli", "main"]
