"""Atomic file writes: the target changes only once its new content is complete.

On Linux the new content goes into an anonymous file (``O_TMPFILE``) in the
target's folder. It has no name until it is complete, so whatever stops the
process (Ctrl-C, SIGTERM, even SIGKILL), the kernel simply frees it. Once it is
complete it is linked under a temporary name and renamed onto the target (a
link cannot replace a file): only a SIGKILL in the microseconds between those
two calls can leave that name behind.

Where there is no ``O_TMPFILE`` (other systems, some file systems) the content
is written under a temporary name beside the target instead.

Either way a temporary file is locked (``flock``) for as long as its writer
lives, and every write into a folder first removes the temporary files there
whose lock nobody holds: those of processes that were killed outright.

A durable write (the default) also survives a power cut: the content is flushed
to the disk (``fsync``) before it gets its name, and the folder after the rename,
so that the target is the old file or the new one, never an empty one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

from voiceguide.checkpoint import checkpoint

TEMP_PREFIX = ".voiceguide-"
TEMP_MARK = ".part"
_TEMP_NAME = re.compile(r"\.voiceguide-[A-Za-z0-9_]+\.part(\.[A-Za-z0-9]+)?")
_FD_FOLDER = "/proc/self/fd"


@contextlib.contextmanager
def atomic_path(target: Path, durable: bool = True) -> Iterator[Path]:
    """Yield a path to write ``target``'s new content to; it replaces ``target``
    when the block ends without an exception, and vanishes otherwise.

    A child process may write or read the path too, if it inherits
    :func:`fds_for` (``subprocess.Popen(..., pass_fds=fds_for(path))``).
    ``durable``: flush the content and the rename to the disk (see above).
    """
    remove_stale_temps(target.parent)
    fd = _anonymous_file(target.parent)
    if fd is None:
        with _named_temp(target, durable) as temp:
            yield temp
        return
    try:
        yield Path(_FD_FOLDER, str(fd))
        os.fchmod(fd, 0o644 & ~_umask())
        if durable:
            os.fsync(fd)
        _publish(fd, target, durable)
    finally:
        os.close(fd)


def atomic_write_bytes(target: Path, data: bytes, durable: bool = True) -> None:
    with atomic_path(target, durable) as temp:
        temp.write_bytes(data)


def fds_for(path: Path) -> tuple[int, ...]:
    """The file descriptors a child process needs to open ``path`` from :func:`atomic_path`."""
    return (int(path.name),) if str(path.parent) == _FD_FOLDER else ()


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is that of one of our temporary files."""
    return _TEMP_NAME.fullmatch(name) is not None


def remove_stale_temps(folder: Path) -> int:
    """Remove the temporary files in ``folder`` left by processes that were killed."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if is_temp_name(entry.name) and _remove_if_abandoned(Path(entry.path)):
            removed += 1
    return removed


def _anonymous_file(folder: Path) -> int | None:
    """An unnamed, locked file in ``folder``, or None where the system cannot make one."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir(_FD_FOLDER):
        return None
    try:
        fd = os.open(folder, flag | os.O_RDWR | os.O_CLOEXEC, 0o600)
    except OSError:
        return None  # e.g. EOPNOTSUPP; the named fallback reports real errors
    _lock(fd)  # nobody else can hold it yet
    return fd


def _publish(fd: int, target: Path, durable: bool) -> None:
    """Give the anonymous file ``fd`` the name ``target``, replacing any file there."""
    folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    pending: str | None = None
    try:
        while True:
            pending = _temp_name(target).name
            try:
                # With a folder fd, os.link calls linkat(AT_SYMLINK_FOLLOW), which links the
                # file behind /proc/self/fd/N (plain link() would try to link that symlink).
                os.link(f"{_FD_FOLDER}/{fd}", pending, dst_dir_fd=folder, follow_symlinks=True)
                break
            except FileExistsError:
                pending = None
        checkpoint("publish" + target.suffix)
        os.replace(pending, target.name, src_dir_fd=folder, dst_dir_fd=folder)
        pending = None
        if durable:
            _flush_folder(folder)
    finally:
        if pending is not None:  # interrupted between link and rename
            with contextlib.suppress(OSError):
                os.unlink(pending, dir_fd=folder)
        os.close(folder)


@contextlib.contextmanager
def _named_temp(target: Path, durable: bool) -> Iterator[Path]:
    """The fallback: a locked temporary file beside ``target``, renamed onto it."""
    fd, temp = _locked_named_file(target)
    try:
        yield temp
        os.chmod(temp, 0o644 & ~_umask())
        if durable:
            os.fsync(fd)
        checkpoint("publish" + target.suffix)
        os.replace(temp, target)
        if durable:
            with contextlib.suppress(OSError):  # elsewhere a folder may not open
                folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    _flush_folder(folder)
                finally:
                    os.close(folder)
    finally:
        temp.unlink(missing_ok=True)
        os.close(fd)


def _flush_folder(folder: int) -> None:
    """Flush a rename in the open folder ``folder`` to the disk. Some file systems do
    not flush folders: the rename is done, so that is no failure."""
    with contextlib.suppress(OSError):
        os.fsync(folder)


def _locked_named_file(target: Path) -> tuple[int, Path]:
    while True:
        fd, name = tempfile.mkstemp(
            dir=target.parent, prefix=TEMP_PREFIX, suffix=TEMP_MARK + target.suffix
        )
        try:
            _lock(fd)
            if _names(fd, Path(name)):
                return fd, Path(name)
        except BlockingIOError:
            pass  # another process is removing it as abandoned; it will be gone
        except BaseException:
            os.unlink(name)
            os.close(fd)
            raise
        os.close(fd)


def _remove_if_abandoned(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if _lock(fd) and _names(fd, path):
            path.unlink()
            return True
    except OSError:
        pass  # still in use (or already gone)
    finally:
        os.close(fd)
    return False


def _names(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        there = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    here = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _temp_name(target: Path) -> Path:
    return target.with_name(f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_MARK}{target.suffix}")


def _lock(fd: int) -> bool:
    """Lock ``fd`` for as long as it is open: True, or False where the file system
    has no locks; BlockingIOError if another process holds the lock."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            raise BlockingIOError(e.errno, e.strerror) from None
        return False
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_user_text(path: Path, kind: str, max_bytes: int, error: type[Exception]) -> str:
    """Read a small UTF-8 file the user named (a ``kind`` file: routine, batch).

    Every failure raises ``error`` with a message that says how to fix it.
    """
    try:
        if path.is_dir():
            raise error(f"{path} is a folder; give the path to a {kind} .yaml file")
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(f"{kind} file {path} does not exist") from None
    except OSError as e:
        raise error(f"cannot read {kind} file {path}: {e.strerror}") from None
    if len(data) > max_bytes:
        size = (
            f"{max_bytes // 1_000_000} MB" if max_bytes % 1_000_000 == 0 else f"{max_bytes} bytes"
        )
        raise error(f"{path}: a {kind} file may be at most {size}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise error(f"{path}, line {line}: the file is not UTF-8 text; save it as UTF-8") from None
