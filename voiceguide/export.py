"""Encode PCM into the finished file with ffmpeg, written atomically."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from voiceguide.checkpoint import checkpoint
from voiceguide.errors import ExportError, MissingToolError
from voiceguide.files import atomic_path, fds_for
from voiceguide.units import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH, to_seconds

FFMPEG_HINT = "install it with: apt-get install ffmpeg (Debian/Ubuntu)"
Bitrate = Literal["64k", "96k", "128k", "160k", "192k", "256k", "320k"]
BITRATES: tuple[str, ...] = get_args(Bitrate)
DEFAULT_BITRATE = "128k"
HEADER_TOLERANCE = 3 * 1152 / SAMPLE_RATE  # seconds: three MP3 frames


@dataclass(frozen=True)
class Tags:
    title: str
    artist: str
    album: str


MP3_FRAME = 1152  # samples per MPEG-1 Layer III frame
_TRIM_BLIND_SPOT = range(1, 47)


def mp3_exact_length(samples: int) -> int:
    """The shortest length, not less than ``samples``, that decodes to the exact sample count.

    ffmpeg writes the encoder delay and padding into the LAME header so that a
    decoder can trim them, but ffmpeg's own MP3 demuxer (5.1 here) leaves the
    padding in when the length is 1 to 46 samples past a whole frame. Sessions
    end in silence, so a few more samples of it make every length exact.
    """
    residue = samples % MP3_FRAME
    return samples + (47 - residue if residue in _TRIM_BLIND_SPOT else 0)


def find_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingToolError(f"{name} is not installed; {FFMPEG_HINT}")
    return path


def check_output_path(target: Path) -> None:
    """Fail early, before any work, if ``target`` cannot be written."""
    if target.is_dir():
        raise ExportError(
            f"{target} is a folder; give a file name such as {target / 'session.mp3'}"
        )
    if target.suffix.lower() != ".mp3":
        raise ExportError(f"{target}: voiceguide writes MP3 files; use a name ending in .mp3")
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {target}: the folder {folder} does not exist")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror}") from None


def mp3_command(ffmpeg: str, tags: Tags, bitrate: str, source: str = "pipe:0") -> list[str]:
    """The ffmpeg command that encodes raw session PCM from ``source``; the output path follows."""
    return [
        ffmpeg, "-hide_banner", "-nostats", "-loglevel", "error",
        "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", str(CHANNELS), "-i", source,
        "-c:a", "libmp3lame", "-b:a", bitrate,
        "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-id3v2_version", "3", "-write_xing", "1",
        "-metadata", f"title={tags.title}",
        "-metadata", f"artist={tags.artist}",
        "-metadata", f"album={tags.album}",
        "-f", "mp3", "-y",
    ]  # fmt: skip


def encode_mp3(
    pcm: Iterable[bytes],
    total_samples: int,
    target: Path,
    tags: Tags,
    bitrate: str = DEFAULT_BITRATE,
    progress: Callable[[str, int, int], None] = lambda *_: None,
) -> None:
    """Encode mono PCM to a constant-bitrate MP3 at ``target``, atomically."""
    command = mp3_command(find_tool("ffmpeg"), tags, bitrate)
    check_output_path(target)
    with atomic_path(target) as temp, tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [*command, str(temp)], stdin=subprocess.PIPE, stderr=errors, pass_fds=fds_for(temp)
        )
        assert proc.stdin is not None
        written = 0
        try:
            for block in pcm:
                proc.stdin.write(block)
                written += len(block) // SAMPLE_WIDTH
                progress("encoding", written, total_samples)
                checkpoint("encode")
            proc.stdin.close()
            code = proc.wait()
        except BrokenPipeError:
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        errors.seek(0)
        lines = errors.read().decode("utf-8", "replace").strip().splitlines()
        # At -loglevel error ffmpeg prints only errors, and exits 0 after some of them
        # (a full disk while it writes the trailer), so any error is a failure.
        if code != 0 or lines:
            raise ExportError(f"ffmpeg could not encode {target}: {lines[-1] if lines else code}")
        if written != total_samples:
            raise ExportError(f"internal error: rendered {written} of {total_samples} samples")
        checkpoint("encoded")
        _verify_duration(temp, total_samples)


def probe_duration(path: Path) -> float:
    """The duration a player reads from the file's header, in seconds."""
    ffprobe = find_tool("ffprobe")
    result = subprocess.run(
        [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
        pass_fds=fds_for(path),
    )
    try:
        return float(json.loads(result.stdout)["format"]["duration"])
    except (ValueError, KeyError, TypeError):
        raise ExportError(f"ffprobe could not read {path}: {result.stderr.strip()}") from None


def _verify_duration(path: Path, total_samples: int) -> None:
    """Check the duration players will show. ffprobe counts whole MP3 frames, so
    its reading may be up to a few frames (26 ms each) longer than the audio;
    decoders trim that exactly, using the LAME header's delay and padding."""
    planned = to_seconds(total_samples)
    measured = probe_duration(path)
    if not 0 <= measured - planned <= HEADER_TOLERANCE:
        raise ExportError(
            f"the encoded file lasts {measured:.3f} s, but {planned:.3f} s was planned"
        )
