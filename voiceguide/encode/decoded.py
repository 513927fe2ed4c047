"""A file decoded in this process by libsndfile (the ``soundfile`` wheel), read as
ffmpeg's pipe would give it: 32-bit float samples, as bytes, frame after frame.

libsndfile reads MP3 (with mpg123), Ogg Vorbis and Opus, FLAC and WAV: every
format voiceguide writes but M4A. On the files voiceguide writes, its samples are
ffmpeg's to within a few millionths, with the same count (gapless MP3 and the Opus
pre-skip trimmed alike), and no ffmpeg of 30 to 50 MB is started
(docs/performance.md). It is not ffmpeg's equal on other files: it trusts an MP3's
stated length (an estimate, without a Xing header), stops at damage, and decodes
Opus at the rate it was made from. So :mod:`voiceguide.encode.meter` gives it only
the files voiceguide has just written, and checks the count.

Given a ``block``, a thread of its own decodes a few blocks ahead of the reader:
libsndfile lets go of the GIL as it decodes, so decoding and measuring run side by
side on two cores, as ffmpeg and numpy do on a pipe. Without, the reader decodes
as it reads: less CPU in all, for a process whose other cores are busy.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # libsndfile: loaded when a file is measured
    from soundfile import SoundFile

AHEAD = 4  # blocks decoded ahead of the reader, at most


def open_sound(path: Path) -> SoundFile | None:
    """``path`` opened for libsndfile to decode, or None where it cannot: no
    libsndfile on this machine, or a format it does not read (M4A), or not audio.

    Headerless data is left to ffmpeg too: libsndfile takes any bytes named
    ``.au`` for raw 8 kHz mu-law, and asks for the rate of a ``.raw`` file."""
    try:
        import soundfile
    except (ImportError, OSError):  # the wheel, or the library it loads, is missing
        return None
    try:
        sound = soundfile.SoundFile(os.fsencode(path))  # any name the system allows
    except (RuntimeError, OSError, TypeError):  # libsndfile's errors are RuntimeErrors
        return None
    if sound.format == "RAW":
        sound.close()
        return None
    return sound


class Floats:
    """The float bytes of an open sound, ``read`` as from a pipe; closing it closes
    the sound. A decoding error (a RuntimeError) is raised by ``read``; ``frames``
    counts the frames read so far. ``block``: frames decoded at a time on a thread of
    its own, ahead of the reader (None: decoded as read)."""

    def __init__(self, sound: SoundFile, block: int | None = None) -> None:
        self._sound = sound
        self._frame = 4 * sound.channels
        self.frames = 0
        self._left = b""
        self._ended = False
        self._thread: threading.Thread | None = None
        if block is not None:
            self._blocks: queue.Queue[bytes | BaseException] = queue.Queue(AHEAD)
            self._stopping = threading.Event()
            self._thread = threading.Thread(
                target=self._decode, args=(block,), name="decode", daemon=True
            )
            self._thread.start()

    def _take(self, frames: int) -> bytes:
        # Into a buffer of its own: buffer_read asserts that it got all the frames it
        # asked for, which a file shorter than its header says fails.
        block = bytearray(frames * self._frame)
        got = self._sound.buffer_read_into(block, "float32")
        return bytes(block) if got == frames else bytes(block[: got * self._frame])

    def _decode(self, frames: int) -> None:
        try:
            while not self._stopping.is_set():
                block = self._take(frames)
                self._blocks.put(block)
                if not block:
                    return
        except BaseException as error:  # raised by read, in the reader's thread
            self._blocks.put(error)

    def read(self, size: int) -> bytes:
        """``size`` bytes, a whole number of frames; fewer only at the end."""
        if self._thread is None:
            data = self._take(size // self._frame)
        else:
            data = self._left
            while len(data) < size and not self._ended:
                block = self._blocks.get()
                if isinstance(block, BaseException):
                    self._ended, self._left = True, b""
                    raise block
                self._ended = not block
                data += block
            data, self._left = data[:size], data[size:]
        self.frames += len(data) // self._frame
        return data

    def close(self) -> None:
        """Stop the decoding thread, if any, before the sound is closed under it."""
        if self._thread is not None:
            self._stopping.set()
            while self._thread.is_alive():  # it may wait to put a block: take them
                with contextlib.suppress(queue.Empty):
                    self._blocks.get(timeout=0.01)
            self._thread.join()
        self._sound.close()
