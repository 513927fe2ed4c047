"""Faults of the machine while a session is written, said in the user's words.

A full disk, a read-only one, a quota used up, a killed ffmpeg: each is told as
what happened and where (the disk holding the output's folder, or the temporary
folder), never as an internal path or a Python traceback.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from voiceguide.errors import ExportError, disk_errno_in, disk_problem, killed


def ffmpeg_failed(what: str, code: int, log: str, output: Path | None = None) -> Exception:
    """The error for an ffmpeg that failed to ``what``: killed by a signal; a disk error
    on ``output`` (an OSError, which the writer says in the user's words); or its own."""
    signalled = killed("ffmpeg", code)
    if signalled:
        return ExportError(f"{signalled} while trying to {what}")
    disk = disk_errno_in(log)
    if disk is not None:
        return OSError(disk, os.strerror(disk), str(output) if output else None)
    lines = log.strip().splitlines()
    return ExportError(f"ffmpeg could not {what}: {lines[-1] if lines else f'exit code {code}'}")


def not_written(e: OSError, target: Path, existed: bool) -> str:
    """Why ``target`` could not be written: the disk holding it, or the temporary folder."""
    scratch = Path(tempfile.gettempdir())
    name = Path(str(e.filename)) if e.filename else None
    ours = name is None or str(name).startswith("/proc/self/fd/") or target.parent in name.parents
    if not ours and name is not None and (name == scratch or scratch in name.parents):
        return (
            f"cannot write a temporary file: {disk_problem(e.errno, scratch, e.strerror)} "
            f"(or set TMPDIR to a folder on another disk)"
        )
    kept = f" ({target} is kept as it was)" if existed else ""
    return f"cannot write {target}: {disk_problem(e.errno, target.parent, e.strerror)}{kept}"
