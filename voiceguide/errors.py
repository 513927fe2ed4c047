"""Every error voiceguide raises on purpose derives from :class:`VoiceguideError`.

The message of each is written for the person running voiceguide: it says what
is wrong and, where it can, how to fix it. The CLI prints it as one line.
"""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path


class VoiceguideError(Exception):
    """Root of all voiceguide errors."""


class DurationError(VoiceguideError, ValueError):
    """A duration such as ``5m`` or ``2:30`` could not be understood."""


class RoutineError(VoiceguideError):
    """A routine is missing, unreadable or invalid."""


class TemplateError(VoiceguideError):
    """A cue template is missing, broken or uses an undefined variable."""


class PlanError(VoiceguideError):
    """The options asked for a session that cannot be planned."""


class SpeechError(VoiceguideError):
    """The speech engine failed, hung or produced an implausible clip."""


class MissingToolError(VoiceguideError):
    """A program voiceguide needs (ffmpeg, espeak-ng) is not installed."""


class AudioError(VoiceguideError):
    """An audio file (a chime, a cached clip) could not be read."""


class ExportError(VoiceguideError):
    """The session could not be encoded or written."""


class BatchError(VoiceguideError):
    """A batch of sessions is invalid (a bad batch file, two sessions with one output)."""


# --- what the machine answered, in the user's words ---------------------------------------

#: The errors a write may meet that say something about the disk, not the program.
DISK_ERRNOS = (
    errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG,
)  # fmt: skip


def folder_words(folder: Path) -> str:
    """``sessions/``, or ``the current folder``."""
    return "the current folder" if str(folder) in ("", ".") else f"{folder}/"


def disk_problem(code: int | None, folder: Path, strerror: str | None = None) -> str:
    """Why a write in ``folder`` failed (``code``, an errno), and what to do."""
    where = folder_words(folder)
    if code == errno.ENOSPC:
        return f"the disk holding {where} is full; free some space and try again"
    if code == errno.EDQUOT:
        return f"your disk quota on the disk holding {where} is used up; free some space"
    if code == errno.EROFS:
        return f"the disk holding {where} is read-only; write somewhere else"
    if code in (errno.EACCES, errno.EPERM):
        return f"you may not write in {where}; write somewhere else"
    if code == errno.EIO:
        return f"the disk holding {where} failed to write (input/output error); check the disk"
    if code == errno.EFBIG:
        return f"the file is too large for the disk holding {where}"
    reason = strerror or (os.strerror(code) if code else "the system refused")
    return f"{reason} (in {where})"


def disk_errno_in(log: str) -> int | None:
    """The disk error a program's log reports (ffmpeg prints the system's words)."""
    for code in DISK_ERRNOS:
        if os.strerror(code) in log:
            return code
    return None


def killed(tool: str, code: int) -> str | None:
    """``ffmpeg was killed by signal 9 (SIGKILL)``, if exit status ``code`` says so."""
    if code >= 0:
        return None
    try:
        name = f" ({signal.Signals(-code).name})"
    except ValueError:
        name = ""
    return f"{tool} was killed by signal {-code}{name}"
