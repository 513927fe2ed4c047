"""Encode PCM into the finished file with ffmpeg: formats, tags and chapters."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, TypeVar, get_args

from voiceguide.checkpoint import checkpoint
from voiceguide.encode.faults import ffmpeg_failed, not_written
from voiceguide.errors import ExportError, MissingToolError, disk_problem, killed
from voiceguide.files import atomic_path, fds_for
from voiceguide.plan.chapters import Chapter
from voiceguide.progress import Progress, no_progress
from voiceguide.units import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH, to_seconds

FFMPEG_HINT = "install it with: apt-get install ffmpeg (Debian/Ubuntu)"
# The bitrates of MP3 and AAC (Opus offers FORMATS["ogg"].bitrates).
Bitrate = Literal["64k", "96k", "128k", "160k", "192k", "256k", "320k"]
BITRATES: tuple[str, ...] = get_args(Bitrate)
DEFAULT_BITRATE = "128k"
HEADER_TOLERANCE = 3 * 1152 / SAMPLE_RATE  # seconds: three MP3 frames
T = TypeVar("T")


@dataclass(frozen=True)
class Tags:
    title: str
    artist: str
    album: str


MP3_FRAME = 1152  # samples per MPEG-1 Layer III frame
MP3_DELAY = 1105  # samples libmp3lame puts before the audio (576, and 529 for the decoder)
THREAD_QUEUE = 512  # packets of PCM ffmpeg may read ahead of the encoder: 1 MB, 12 s of audio
AAC_FRAME = 1024  # samples per AAC frame
OPUS_STEP = SAMPLE_RATE // 100  # 10 ms: a whole number of samples at 44.1 and at 48 kHz
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


def _round_up(step: int) -> Callable[[int], int]:
    def exact(samples: int) -> int:
        return math.ceil(samples / step) * step

    return exact


def _same(samples: int) -> int:
    return samples


@dataclass(frozen=True)
class Format:
    """An output format: how ffmpeg writes it, and the lengths it decodes exactly."""

    name: str
    codec: str
    muxer: str
    bitrates: tuple[str, ...]  # the bitrates offered; empty for lossless formats
    default_bitrate: str | None
    chapters: bool
    exact_length: Callable[[int], int]
    options: tuple[str, ...] = ()
    description: str = ""

    @property
    def extension(self) -> str:
        return f".{self.name}"


_LOSSY = BITRATES
# The bit reservoir is off, so that every frame carries its own data and the silent
# frames can be repeated (voiceguide/encode/mp3/splice.py); at these bitrates, for mono speech,
# it costs nothing audible.
MP3_OPTIONS = ("-reservoir", "0", "-id3v2_version", "3", "-write_xing", "1")

# Lengths measured with ffmpeg 5.1 (see tests/integration/test_formats.py):
# - AAC: the decoder trims the encoder delay (the MP4 edit list) but not the
#   padding, so a length of whole 1024-sample frames decodes exactly.
# - Opus always runs at 48 kHz; a length of whole 10 ms steps resamples to a
#   whole number of samples each way and decodes exactly (the Ogg granule
#   position trims the padding).
FORMATS: dict[str, Format] = {
    "mp3": Format(
        "mp3", "libmp3lame", "mp3", _LOSSY, "128k", True, mp3_exact_length,
        MP3_OPTIONS, "MP3 (LAME, constant bitrate)",
    ),
    "m4a": Format(
        "m4a", "aac", "ipod", _LOSSY, "128k", True, _round_up(AAC_FRAME),
        ("-movflags", "+faststart"), "AAC in MP4",
    ),
    "ogg": Format(
        "ogg", "libopus", "ogg", ("32k", "48k", *_LOSSY[:-1]), "96k", False,
        _round_up(OPUS_STEP), (), "Opus in Ogg",
    ),
    "flac": Format("flac", "flac", "flac", (), None, False, _same, (), "FLAC, lossless"),
    "wav": Format("wav", "pcm_s16le", "wav", (), None, False, _same, (), "16-bit PCM WAV"),
}  # fmt: skip
DEFAULT_FORMAT = "mp3"
#: Other extensions people give a format's files: Ogg Opus is often named .opus.
ALIASES = {"opus": "ogg"}


def endings(fmt: Format) -> list[str]:
    """The endings of a format's file names: ``[".ogg", ".opus"]``."""
    return [fmt.extension, *(f".{alias}" for alias, name in ALIASES.items() if name == fmt.name)]


def named_format(path: Path) -> str:
    """The name of the format that ``path``'s ending gives (``.opus`` gives ``ogg``),
    whether voiceguide writes it or not."""
    suffix = path.suffix.lower().lstrip(".")
    return ALIASES.get(suffix, suffix)


def choose_format(output: Path | None, name: str | None) -> Format:
    """The format named by ``name``, or by the output's extension; MP3 by default."""
    suffix = named_format(output) if output is not None else ""
    if name is not None:
        fmt = FORMATS.get(name.lower())
        if fmt is None:
            raise ExportError(f"unknown format {name!r}; choose one of: {', '.join(FORMATS)}")
        if output is not None and suffix != fmt.name:
            raise ExportError(
                f"{output}: --format {fmt.name} writes {fmt.extension} files; "
                f"use a name ending in {' or '.join(endings(fmt))}"
            )
        return fmt
    if output is None or output.is_dir():  # a folder: check_output_path says so
        return FORMATS[DEFAULT_FORMAT]
    if suffix not in FORMATS:
        names = ", ".join(f".{n}" for n in [*FORMATS, *ALIASES])
        raise ExportError(f"{output}: voiceguide writes {names} files; use a name ending in one")
    return FORMATS[suffix]


def choose_bitrate(fmt: Format, bitrate: str | None) -> str | None:
    """Check ``bitrate`` (such as ``128k``) suits ``fmt``; None gives its default."""
    if bitrate is None:
        return fmt.default_bitrate
    normal = bitrate.strip().lower()
    if re.fullmatch(r"\d+000", normal):
        normal = f"{int(normal) // 1000}k"
    if not fmt.bitrates:
        raise ExportError(f"{fmt.name} is lossless; a bitrate does not apply to it")
    if normal not in fmt.bitrates:
        raise ExportError(
            f"{bitrate!r} is not a bitrate for {fmt.name}; choose one of: {', '.join(fmt.bitrates)}"
        )
    return normal


@dataclass(frozen=True)
class Encoding:
    """What to write: the format, its bitrate, the tags and the chapters."""

    format: Format
    bitrate: str | None
    tags: Tags
    chapters: tuple[Chapter, ...] = ()
    name: str = ""  # the output, as errors name it


def find_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingToolError(f"{name} is not installed; {FFMPEG_HINT}")
    return path


def check_output_path(target: Path, fmt: Format | None = None) -> None:
    """Fail early, before any work, if ``target`` cannot be written."""
    fmt = fmt or FORMATS[DEFAULT_FORMAT]
    if target.is_dir():
        raise ExportError(
            f"{target} is a folder; give a file name such as {target / ('session' + fmt.extension)}"
        )
    if target.suffix.lower() not in endings(fmt):
        raise ExportError(
            f"{target}: voiceguide writes {fmt.name} files here; "
            f"use a name ending in {' or '.join(endings(fmt))}"
        )
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {target}: the folder {folder} does not exist")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise ExportError(
            f"cannot write {target}: {disk_problem(e.errno, folder, e.strerror)}"
        ) from None


def pcm_command(
    arguments: list[str], source: str = "pipe:0", more_inputs: bool = False
) -> list[str]:
    """``ffmpeg -i SOURCE ARGUMENTS``, where ``source`` holds the session's raw PCM: its
    standard input (the pipe), or a raw file.

    ``more_inputs``: ``ARGUMENTS`` name more inputs than the PCM."""
    # With more than one input ffmpeg reads each in a thread, through a queue of 8
    # packets (1024 samples each) by default; whenever the encoder finds it empty it
    # sleeps 10 ms. A long queue keeps it fed (docs/performance.md has the figures).
    # With one input there is no queue.
    queue = ["-thread_queue_size", str(THREAD_QUEUE)] if more_inputs else []
    return [
        find_tool("ffmpeg"), "-hide_banner", "-nostats",
        "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", str(CHANNELS), *queue, "-i", source,
        *arguments,
    ]  # fmt: skip


def encode_command(
    encoding: Encoding,
    path: Path,
    metadata: Path,
    source: str = "pipe:0",
) -> list[str]:
    """The command :func:`encode` runs: ffmpeg encodes the session's raw PCM from
    ``source`` into ``path``, with the tags and chapters of the ``metadata`` file
    (written from :func:`ffmetadata`)."""
    bitrate = ["-b:a", encoding.bitrate] if encoding.bitrate else []
    codec = ["-c:a", encoding.format.codec, *bitrate]
    arguments = ["-loglevel", "error", *output_arguments(encoding, metadata, path, codec)]
    return pcm_command(arguments, source, more_inputs=True)  # the metadata is a second input


def output_arguments(
    encoding: Encoding, metadata: Path, path: Path, codec: Sequence[str]
) -> list[str]:
    """What follows the audio input in ffmpeg's command: the tags and chapters of the
    ``metadata`` file (a second input), ``codec`` (such as ``-c:a aac -b:a 128k``, or
    ``-c:a copy``), bit-exact output, and the format's options and muxer, into
    ``path``. :func:`encode_command` and the M4A's MP4 (voiceguide/encode/m4a.py) share it."""
    fmt = encoding.format
    chapters = "1" if fmt.chapters else "-1"
    return [
        "-f", "ffmetadata", "-i", str(metadata),
        "-map", "0:a", "-map_metadata", "1", "-map_chapters", chapters,
        *codec, "-fflags", "+bitexact", "-flags:a", "+bitexact",
        *fmt.options, "-f", fmt.muxer, "-y", str(path),
    ]  # fmt: skip


def write_atomically(target: Path, fmt: Format, write: Callable[[Path], T]) -> T:
    """Run ``write`` on a temporary path beside ``target``, then rename it into place."""
    check_output_path(target, fmt)
    existed = target.exists()
    temp: Path | None = None
    try:
        with atomic_path(target) as temp:
            return write(temp)
    except OSError as e:  # the disk, not the program: say so, where
        raise ExportError(not_written(e, target, existed)) from None
    except ExportError as e:  # name the output, not its temporary path
        if temp is None or str(temp) not in str(e):
            raise
        raise ExportError(str(e).replace(str(temp), str(target))) from None


def _escape(value: str) -> str:
    """A value for ffmpeg's metadata file: '=', ';', '#', '\\' and newlines escaped."""
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


def ffmetadata(encoding: Encoding) -> str:
    """Tags and chapters in ffmpeg's metadata format (ID3 CHAP/CTOC in an MP3)."""
    tags = encoding.tags
    lines = [
        ";FFMETADATA1",
        f"title={_escape(tags.title)}",
        f"artist={_escape(tags.artist)}",
        f"album={_escape(tags.album)}",
    ]
    if encoding.format.chapters:
        for chapter in encoding.chapters:
            lines += [
                "[CHAPTER]",
                f"TIMEBASE=1/{SAMPLE_RATE}",
                f"START={chapter.start}",
                f"END={chapter.end}",
                f"title={_escape(chapter.title)}",
            ]
    return "\n".join(lines) + "\n"


def pipe_to_ffmpeg(
    command: list[str],
    pcm: Iterable[bytes],
    total_samples: int,
    what: str,
    stage: str,
    progress: Progress,
    pass_fds: tuple[int, ...] = (),
    output: Path | None = None,
) -> str:
    """Stream mono PCM into ``command`` (from :func:`pcm_command`, reading the pipe);
    return what it logged.

    ``pass_fds`` lets ffmpeg open a temporary output (see :func:`files.fds_for`).
    ``output``: the file ffmpeg writes, if any (a disk error there is raised as an
    OSError on it)."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=log, stderr=log, pass_fds=pass_fds
        )
        assert proc.stdin is not None
        written = 0
        try:
            for block in pcm:
                if not _feed(proc.stdin, block):
                    break  # ffmpeg stopped reading: its exit code and log say why
                written += len(block) // SAMPLE_WIDTH
                progress(stage, written, total_samples)
                checkpoint("encode")
            _feed(proc.stdin, None)
            code = proc.wait()
        finally:  # an error here (a progress report that cannot be written): ffmpeg goes
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    if code != 0:
        raise ffmpeg_failed(what, code, text, output)
    if written != total_samples:
        raise ExportError(f"internal error: rendered {written} of {total_samples} samples")
    return text


def _feed(stdin: IO[bytes], block: bytes | None) -> bool:
    """Write ``block`` to ffmpeg (``None``: close its input); False if ffmpeg has
    stopped reading. Only a broken pipe to ffmpeg means that: one raised elsewhere (such
    as a progress report to a closed terminal pipe) must not be taken for it, or the
    caller would wait for an ffmpeg still waiting for its input."""
    try:
        if block is None:
            stdin.close()
        else:
            stdin.write(block)
    except BrokenPipeError:
        return False
    return True


def encode(
    pcm: Iterable[bytes],
    total_samples: int,
    path: Path,
    encoding: Encoding,
    progress: Progress = no_progress,
    verify: bool = True,
) -> None:
    """Encode mono PCM, levelled already, into ``path`` (written in place: see
    :func:`write_atomically`).

    ``verify``: check the duration players will read (:func:`verify_duration`); an
    intermediate file, such as the short file that is spliced, need not be."""
    with tempfile.TemporaryDirectory(prefix="voiceguide-") as folder:
        metadata = Path(folder) / "metadata.txt"
        metadata.write_text(ffmetadata(encoding), encoding="utf-8")
        command = encode_command(encoding, path, metadata)
        what = f"encode {encoding.name or f'the {encoding.format.name} file'}"
        log = pipe_to_ffmpeg(
            command, pcm, total_samples, what, "encoding", progress, fds_for(path), path
        )
    check_log(log, what, path)
    checkpoint("encoded")
    if verify:
        verify_duration(path, total_samples)


def check_log(log: str, what: str, output: Path) -> None:
    """At -loglevel error ffmpeg prints only errors, and exits 0 after some of them
    (a full disk while it writes the trailer), so any error is a failure."""
    if log.strip():
        raise ffmpeg_failed(what, 0, log, output)


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
    signalled = killed("ffprobe", result.returncode)
    if signalled:
        raise ExportError(f"{signalled} while reading {path}")
    try:
        return float(json.loads(result.stdout)["format"]["duration"])
    except (ValueError, KeyError, TypeError):
        raise ExportError(f"ffprobe could not read {path}: {result.stderr.strip()}") from None


def verify_duration(path: Path, total_samples: int) -> None:
    """Check the duration players will show. ffprobe counts whole MP3 frames (and
    the Opus pre-skip), so its reading may be up to a few frames longer than the
    audio; decoders trim that exactly."""
    planned = to_seconds(total_samples)
    measured = probe_duration(path)
    if not -0.001 <= measured - planned <= HEADER_TOLERANCE:
        raise ExportError(
            f"the encoded file lasts {measured:.3f} s, but {planned:.3f} s was planned"
        )
