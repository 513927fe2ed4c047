"""One malloc arena for the whole process, where the C library is glibc.

glibc gives each thread that allocates an arena of its own (up to eight per
core), and an arena keeps what is freed in it for the next allocation. A build
does its numpy work on a few threads (the gain search, the second encoder's
render), so each thread kept the megabytes it had used: 27 MB of peak PSS on the
``lower-back`` programme (160 MB with an arena per thread, 133 MB with one; the
default session 130 MB and 121 MB), and no faster. The threads take turns on
the GIL anyway, so one arena costs them nothing.

Set by the command line for its own process: the library leaves a host
program's allocator alone.
"""

from __future__ import annotations

import ctypes
import sys

M_ARENA_MAX = -8  # glibc's malloc.h


def one_arena() -> None:
    """Ask glibc for one malloc arena (elsewhere: nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not a C library with mallopt
        return
    mallopt(M_ARENA_MAX, 1)
