"""Atomic file writes: a temporary file beside the target, renamed into place.

A failed or interrupted write leaves no partial file and never clobbers a good one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_PREFIX = ".voiceguide-"


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success."""
    fd, name = tempfile.mkstemp(
        dir=target.parent, prefix=TEMP_PREFIX, suffix=".part" + target.suffix
    )
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        os.chmod(temp, 0o644 & ~_umask())
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as temp:
        temp.write_bytes(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
