"""A test hook: stop a build at an exact moment, so a test can interrupt it there.

With ``VOICEGUIDE_STOP_AT=POINT`` (or ``POINT:N``) in its environment, a build
stops itself (SIGSTOP) the first (or N-th) time it passes ``POINT``; the test
then sends the signal it wants and SIGCONT. The points are:

``start``
    the command has started, before it imports the library;
``speech``
    a newly synthesised clip is ready (and stored in the cache, if one is used);
``encode``
    one more block of audio has been handed to ffmpeg;
``encoded``
    ffmpeg has finished, before the file is checked and put in place;
``publish.mp3``, ``publish.wav``
    a finished output file, a cache clip or an encoded file the cache keeps has
    its temporary name and is about to be renamed into place.

Unset, as always outside tests, it costs one environment look-up.
"""

from __future__ import annotations

import os
import signal
import time

VARIABLE = "VOICEGUIDE_STOP_AT"
RESUME_PAUSE = 0.5  # seconds
_passed: dict[str, int] = {}


def checkpoint(point: str) -> None:
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != point:
        return
    _passed[point] = _passed.get(point, 0) + 1
    if _passed[point] == int(count or 1):
        os.kill(os.getpid(), signal.SIGSTOP)
        # Resumed, usually with a signal the test sent meanwhile. Any thread may take
        # it, and Python raises it in the main thread at its next check: without a
        # pause the main thread could take one more step first (an interrupted build
        # then renamed its file into place, once in a loaded test run). The sleep
        # ends at once when the signal's handler raises.
        time.sleep(RESUME_PAUSE)
