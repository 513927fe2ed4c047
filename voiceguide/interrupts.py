"""Ctrl-C and SIGTERM for the voiceguide command.

The first of them raises KeyboardInterrupt wherever the build is, so its
``finally`` blocks clean up; more of them are ignored while they do. The
command installs this before its heavy imports, so that an interruption at any
moment ends with one line and exit code 130. This module imports nothing heavy.
"""

from __future__ import annotations

import signal
from types import FrameType

MESSAGE = "interrupted; nothing written"
EXIT_CODE = 130
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    ignore()
    raise KeyboardInterrupt


def install() -> None:
    for signum in _SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # as for a background job
            signal.signal(signum, _interrupt)


def ignore() -> None:
    """From now on, Ctrl-C and SIGTERM change nothing (if :func:`install` was called)."""
    for signum in _SIGNALS:
        if signal.getsignal(signum) is _interrupt:
            signal.signal(signum, signal.SIG_IGN)
