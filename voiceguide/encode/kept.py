"""What a build keeps for the next build of the same session: the gain that levels
it, and its encoded short file (an M4A's joined frames, too: voiceguide/encode/m4a.py).

Both are kept in the speech cache (:class:`~voiceguide.speech.cache.ClipCache`),
each under a key made of everything it follows from:

- the gain (:func:`voiceguide.encode.levelling.kept_level`, through :func:`kept_json`):
  the session's islands of sound, each sound named by the digest of its samples, at
  their places (:func:`placed`); the target; the levelling's settings (the limiter's
  ceiling and most, the search's tolerance and rounds); and the versions of the gain
  search (``LEVEL``), the render, the islands' figures and numpy;
- the short file (:func:`encode_kept`): the islands of the short render, at their
  places, the gain and ceiling they are levelled at, the version of the render
  (:data:`voiceguide.sound.islands.RENDER`) and of numpy; ffmpeg's settings, the
  file's tags and chapters, and the ffmpeg and LAME installed (their files' sizes
  and times).

So what is read is what the build would have found or written: the same gain, to
the bit, and the same bytes, which are checked (every frame there, and the LAME
tag's CRC of them) before they are used. A build that changes any of it, a hold
a tenth of a second longer for one, finds nothing and does the work. The finished
file is measured either way.
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from voiceguide.encode.export import Encoding, encode_command, ffmetadata, find_tool
from voiceguide.encode.m4a import Keep, joined_whole, pieces_encoding
from voiceguide.encode.mp3 import splice
from voiceguide.encode.plan_loudness import FigureStore
from voiceguide.plan.timeline import Timeline
from voiceguide.progress import Progress
from voiceguide.sound.islands import RENDER, Island, Sounds, islands
from voiceguide.speech.cache import cache_key

if TYPE_CHECKING:
    from voiceguide.encode.levelling import Voice

T = TypeVar("T")
ENCODED = 1  # bump when what is kept of an encode changes
# Where the encoder's libraries are looked for (Debian and Ubuntu keep them in the first).
LIBRARY_FOLDERS = ("/usr/lib/*-linux-gnu", "/usr/lib", "/usr/local/lib")
LIBRARIES = ("libmp3lame.so*", "libavcodec.so*", "libavformat.so*")


class Store(FigureStore, Protocol):
    """Where a build keeps what the next build of the same session can use (and the
    islands' loudness figures, :class:`~voiceguide.encode.plan_loudness.FigureStore`)."""

    def get_json(self, key: str) -> dict[str, Any] | None: ...  # (see kept_json)

    def put_json(self, key: str, value: dict[str, Any]) -> None: ...

    def get_encoded(self, key: str) -> bytes | None: ...

    def put_encoded(self, key: str, data: bytes) -> None: ...

    def forget_encoded(self, key: str) -> None: ...


def placed(sounds: Sounds, found: list[Island]) -> list[Any]:
    """Islands: where each lies, how long, and its sounds by digest."""
    return [[island.start, island.length, sounds.described(island)] for island in found]


def kept_json(
    store: Store,
    key: str,
    make: Callable[[], T],
    dump: Callable[[T], dict[str, Any]],
    load: Callable[[dict[str, Any]], T],
) -> T:
    """What ``make()`` made for ``key`` before (stored as ``dump`` gives it, read back
    with ``load``), or ``make()``, now stored. What ``load`` cannot read (a KeyError,
    TypeError or ValueError) is made again and stored over."""
    found = store.get_json(key)
    if found is not None:
        try:
            return load(found)
        except (KeyError, TypeError, ValueError):
            pass
    made = make()
    store.put_json(key, dump(made))
    return made


@cache
def encoder_files() -> tuple[tuple[str, int, int], ...]:
    """ffmpeg's program and the libraries that encode MP3: path, size and time of each."""
    found = {Path(find_tool("ffmpeg")).resolve()}
    for folder in LIBRARY_FOLDERS:
        for name in LIBRARIES:
            found.update(Path(p).resolve() for p in glob.glob(f"{folder}/{name}"))
    files = []
    for path in sorted(found):
        stat = path.stat()
        files.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(files)


def encoded_key(
    sounds: Sounds, timeline: Timeline, gain: float, ceiling: float, encoding: Encoding
) -> str:
    """What the encoded file of ``timeline``'s render at ``gain`` and ``ceiling`` follows from."""
    import numpy as np

    command = encode_command(encoding, Path("out"), Path("metadata"))[1:]
    return cache_key(
        [ENCODED, RENDER, np.__version__, encoder_files(), command, ffmetadata(encoding),
         gain, ceiling, timeline.length, placed(sounds, islands(timeline))]
    )  # fmt: skip


def encode_kept(
    store: Store,
    key: str,
    samples: int,
    path: Path,
    encode: Callable[[], None],
    progress: Progress,
    whole: Callable[[bytes, int], bool] | None = None,
) -> None:
    """Write into ``path`` the encoded file kept under ``key``, if it is whole (by
    ``whole(data, samples)``: an MP3's check by default); else ``encode()`` it there,
    and keep it. What ``encode()`` raises keeps nothing."""
    data = store.get_encoded(key)
    if data is not None:
        if (whole or splice.encodes)(data, samples):
            path.write_bytes(data)
            progress("encoding", samples, samples)
            return
        store.forget_encoded(key)
    encode()
    store.put_encoded(key, path.read_bytes())


def joined_kept(
    store: Store,
    voice: Voice,
    gain: float,
    ceiling: float,
    encoding: Encoding,
    cut: int,
    progress: Progress,
) -> Keep:
    """How an M4A's joined frames (voiceguide/encode/m4a.py) are kept: under a key
    made as the short file's is, for the pieces' encode, with the cut; checked by
    :func:`~voiceguide.encode.m4a.joined_whole`."""
    pieces = pieces_encoding(encoding)
    base = encoded_key(voice.sounds, voice.timeline, gain, ceiling, pieces)
    key = cache_key([base, "m4a pieces", cut])
    samples = voice.timeline.length

    def keep(joined: Path, make: Callable[[], None]) -> None:
        encode_kept(store, key, samples, joined, make, progress, joined_whole)

    return keep
