"""A cache of tidied speech clips, keyed by everything that changes their sound.

Clips are stored as WAV files in the user's cache folder (or ``$VOICEGUIDE_CACHE_DIR``).
Each file is written atomically (:mod:`voiceguide.files`), so neither a concurrent
build nor one that was killed halfway leaves half a clip; and a clip is checked
before it is used: one that is cut short or fails to decode is thrown away.

Beside the clips it keeps figures worked out from them (:meth:`ClipCache.put_figures`):
the loudness of each island of sound, per 100 ms step, so that a build of the same
sounds does not weigh them again (voiceguide/encode/plan_loudness.py). And what a
build found and made from them, for a build of the same session (voiceguide/encode/kept.py):
the gain that levels it (:meth:`ClipCache.put_json`), and its encoded short file
(:meth:`ClipCache.put_encoded`), of which it keeps the most recent
:data:`ENCODED_BUDGET` bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydub import AudioSegment

from voiceguide.errors import AudioError, disk_problem
from voiceguide.files import atomic_write_bytes, is_temp_name, remove_stale_temps
from voiceguide.sound.audio import from_wav_bytes, samples, to_wav_bytes
from voiceguide.units import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH

FORMAT = 4  # bump when the way clips are tidied changes (2: integer-exact fade ramps, 3: no DC,
# 4: band-limited resampling to the session rate, see voiceguide.sound.resample)


ENCODED_BUDGET = 128 << 20  # bytes of encoded files kept: some 30 default sessions


def cache_key(parts: list[Any]) -> str:
    """The key of what follows from ``parts`` (anything JSON writes): a clip's, an
    island's figures', or what a build keeps (voiceguide/encode/kept.py)."""
    blob = json.dumps(parts, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def default_folder() -> Path:
    override = os.environ.get("VOICEGUIDE_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("voiceguide")) / "speech"


def models_folder() -> Path:
    """Where speech engines keep what they prepare for themselves (Piper: its voice
    models as optimised for this machine): in the cache, so that ``cache info``
    counts it and ``cache clear`` removes it."""
    return default_folder() / "models"


@dataclass(frozen=True)
class CacheInfo:
    folder: Path
    clips: int
    bytes: int  # of all the cache keeps
    encoded: int = 0  # sessions whose encoded frames are kept (put_encoded)
    models: int = 0  # voice models kept as optimised for this machine (models_folder)


class ClipCache:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_folder()
        self._tidied = False
        #: A note, once a clip could not be stored (a full or read-only disk), else None.
        self.problem: str | None = None

    @staticmethod
    def key(identity: str, text: str) -> str:
        from voiceguide.sound.resample import identity as resampler  # numpy: only when needed

        return cache_key([FORMAT, resampler(), identity, text])

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.wav"

    def get(self, key: str) -> AudioSegment | None:
        self._tidy()
        path = self._path(key)
        try:
            data = path.read_bytes()
            if not is_whole_wav(data):
                raise AudioError(f"{path} is cut short")
            audio = from_wav_bytes(data, str(path))
        except (OSError, AudioError):
            _forget(path)
            return None
        if (audio.frame_rate, audio.channels, audio.sample_width) != (
            SAMPLE_RATE,
            CHANNELS,
            SAMPLE_WIDTH,
        ) or samples(audio) == 0:
            _forget(path)
            return None
        return audio

    def put(self, key: str, audio: AudioSegment) -> None:
        """Store a clip; a cache that cannot be written is skipped, never fatal (and
        :attr:`problem` says so)."""
        # Not flushed to the disk: a clip a power cut cut short is not a whole WAV,
        # and get() removes it and the clip is made again.
        self._write(self._path(key), to_wav_bytes(audio))

    def get_figures(self, key: str) -> Any:
        """The array stored with :meth:`put_figures` under ``key``, or None. (An island
        of sound's loudness per 100 ms step, kept beside its clips: see
        voiceguide/encode/plan_loudness.py.)"""
        import numpy as np

        return self._read(self._figures_path(key), lambda f: np.load(f, allow_pickle=False))

    def put_figures(self, key: str, figures: Any) -> None:
        """Store a numpy array under ``key``; as :meth:`put`, never fatal."""
        import numpy as np

        buffer = io.BytesIO()
        np.save(buffer, figures, allow_pickle=False)
        self._write(self._figures_path(key), buffer.getvalue())

    def _figures_path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npy"

    def get_json(self, key: str) -> dict[str, Any] | None:
        """The JSON object stored with :meth:`put_json` under ``key``, or None."""
        found = self._read(self._json_path(key), json.load)
        return found if isinstance(found, dict) else None

    def put_json(self, key: str, value: dict[str, Any]) -> None:
        """Store a JSON object under ``key``; as :meth:`put`, never fatal."""
        data = json.dumps(value, sort_keys=True).encode("utf-8")
        self._write(self._json_path(key), data)

    def _json_path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def _read(self, path: Path, parse: Callable[[IO[bytes]], Any]) -> Any:
        """What ``parse`` makes of the file at ``path``, or None: where there is none,
        or it is cut short or not what ``parse`` reads (then it is removed)."""
        self._tidy()
        try:
            with path.open("rb") as f:
                return parse(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):  # cut short, or not what was stored
            _forget(path)
            return None

    def get_encoded(self, key: str) -> bytes | None:
        """The bytes stored with :meth:`put_encoded` under ``key``, or None (the caller
        checks them: see voiceguide/encode/kept.py)."""
        path = self._encoded_path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        with contextlib.suppress(OSError):  # (a cache that cannot be written is still read)
            os.utime(path)  # the most recently used are kept longest
        return data

    def put_encoded(self, key: str, data: bytes) -> None:
        """Store an encoded file under ``key``, then remove the least recently used
        ones past :data:`ENCODED_BUDGET`; as :meth:`put`, never fatal."""
        self._write(self._encoded_path(key), data)
        with contextlib.suppress(OSError):
            kept = []
            for entry in os.scandir(self.folder / "encoded"):
                if not is_temp_name(entry.name):
                    stat = entry.stat()
                    kept.append((stat.st_mtime_ns, stat.st_size, Path(entry.path)))
            total = sum(size for _, size, _ in kept)
            for _, size, path in sorted(kept):
                if total <= ENCODED_BUDGET:
                    break
                _forget(path)
                total -= size

    def forget_encoded(self, key: str) -> None:
        """Remove what :meth:`put_encoded` stored under ``key`` (found not whole)."""
        _forget(self._encoded_path(key))

    def _encoded_path(self, key: str) -> Path:
        return self.folder / "encoded" / f"{key}.mp3"

    def _write(self, path: Path, data: bytes) -> None:
        self._tidy()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, data, durable=False)
        except OSError as e:
            if self.problem is None:
                self.problem = (
                    f"note: the speech cache {self.folder} cannot be written: "
                    f"{disk_problem(e.errno, self.folder, e.strerror)}; the session is built "
                    "all the same, but its speech will be made again next time"
                )

    def _tidy(self) -> None:
        """Once per cache: remove temporary files left by builds that were killed."""
        if self._tidied:
            return
        self._tidied = True
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.folder):
                if entry.is_dir(follow_symlinks=False):
                    remove_stale_temps(Path(entry.path))

    def info(self) -> CacheInfo:
        self._tidy()
        files = [p for p in self._files() if not is_temp_name(p.name)]
        clips = sum(p.suffix == ".wav" for p in files)
        encoded = sum(p.parent.name == "encoded" for p in files)
        models = sum(p.parent.name == "models" and p.suffix == ".onnx" for p in files)
        total = sum(p.stat().st_size for p in files)
        return CacheInfo(self.folder, clips, total, encoded, models)

    def clear(self) -> Cleared:
        """Remove every file the cache wrote, then its folders where that leaves them
        empty. Anything else stays: ``$VOICEGUIDE_CACHE_DIR`` may name a folder that
        holds other files too."""
        count = self.info().clips
        left = 0
        for path, owned in self._entries():
            if owned:
                path.unlink(missing_ok=True)
            else:
                left += 1
        for folder in [*self._own_folders(), self.folder]:
            with contextlib.suppress(OSError):  # not empty, or not there
                folder.rmdir()
        return Cleared(count, left)

    def _files(self) -> list[Path]:
        """The files the cache wrote, temporary ones included."""
        return [path for path, owned in self._entries() if owned]

    def _own_folders(self) -> list[Path]:
        """The cache's own folders: one per first two hex digits of a key, ``encoded``
        and ``models``."""
        with contextlib.suppress(OSError):
            return [
                Path(entry.path)
                for entry in os.scandir(self.folder)
                if entry.is_dir(follow_symlinks=False) and _FOLDER.fullmatch(entry.name)
            ]
        return []

    def _entries(self) -> list[tuple[Path, bool]]:
        """Every entry in the cache folder and in its own folders (not those folders
        themselves), each with whether the cache wrote it."""
        found: list[tuple[Path, bool]] = []
        own = self._own_folders()
        with contextlib.suppress(OSError):
            found += [
                (Path(e.path), False) for e in os.scandir(self.folder) if Path(e.path) not in own
            ]
        for folder in own:
            try:
                for entry in os.scandir(folder):
                    owned = entry.is_file(follow_symlinks=False) and _owned(folder.name, entry.name)
                    found.append((Path(entry.path), owned))
            except OSError:  # unreadable: whatever it holds stays, and is counted as left
                found.append((folder, False))
        return found


#: The cache's own folders (see :meth:`ClipCache._own_folders`).
_FOLDER = re.compile(r"[0-9a-f]{2}|encoded|models")
#: What the cache writes in each: clips, islands' figures and gains in a key's folder,
#: encoded frames, and Piper's optimised models with the notes of their hashes.
_FILES = {
    "encoded": re.compile(r"[0-9a-f]{64}\.mp3"),
    "models": re.compile(r".+-([0-9a-f]{32}\.onnx|[0-9a-f]{16}\.sha256)"),
}
_KEYED = re.compile(r"[0-9a-f]{64}\.(wav|npy|json)")  # a key's: 64 hex digits


def _owned(folder: str, name: str) -> bool:
    """Whether the cache wrote the file ``name`` in its folder ``folder``."""
    if is_temp_name(name):
        return True
    if folder in _FILES:
        return _FILES[folder].fullmatch(name) is not None
    return name.startswith(folder) and _KEYED.fullmatch(name) is not None


@dataclass(frozen=True)
class Cleared:
    clips: int  # clips removed (with all kept beside them)
    left: int  # files and folders left in the cache folder: not the cache's own


def _forget(path: Path) -> None:
    """Remove a bad clip, where the cache can be written."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def is_whole_wav(data: bytes) -> bool:
    """Whether ``data`` is a WAV file with all the audio its header announces."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            frames = w.getnframes()
            expected = frames * w.getnchannels() * w.getsampwidth()
            whole: bool = expected > 0 and len(w.readframes(frames)) == expected
            return whole
    except (wave.Error, EOFError):
        return False
