"""How the library reports progress: ``progress(stage, done, total)``.

A stage is a word such as ``speech``, ``loudness`` or ``encoding``; ``done``
counts up to ``total`` (clips, or samples), and may start again from zero when
a stage takes another pass. The command line shows it as progress bars.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """A progress callback that reports nothing."""
