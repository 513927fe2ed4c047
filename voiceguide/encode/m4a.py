"""Encode an M4A in two pieces, each with its own AAC encoder, side by side, and put
their frames end to end in MP4 without encoding them again.

ffmpeg's AAC encoder is slow, and uses one core: the default session (13:31, 202 s
of it sound) takes it about 11 s of CPU. So the session is cut in two in a silence
(:func:`plan_cut`), at ``cut``:

- piece A is the samples [0, ``cut``), piece B [``cut`` + one frame, the end); each
  goes to its own ffmpeg, which writes raw AAC frames (ADTS);
- an AAC encoder writes a frame of priming before the audio it is given, which an
  MP4's edit list skips: B's priming stands for the frame of silence B does not
  take. So A's frames and B's, end to end, are as many as one encoder writes for
  the whole session, the first of them priming; they are put into MP4 as they are
  (ffmpeg's ``-c copy``), with the edit list skipping that first frame
  (``-itsoffset`` of one frame back);
- ``cut`` is a whole number of frames from the start, so that A's frames end there,
  and at least :data:`MARGIN` from any sound either side: around the join both
  encoders hear nothing but silence, and the frames there decode to zeros.

The file decodes to the session's exact length, and up to the first sound after
the cut (to the frames that hold it: frames overlap, and the encoder looks one frame
ahead) to the samples one encoder's file decodes to. From there on it is B's
encode of the same audio: as faithful as one encoder's (docs/performance.md), but
not the same bytes. The cut follows from the plan alone, and the pieces are the
same whether encoded at once or one after the other, so the file is the same for
any ``--jobs``. Where the frames are not as counted here (another ffmpeg), the
session is encoded whole by one encoder.

With a cache, the joined frames are kept (voiceguide/encode/kept.py), with their
SHA-256 digest, so that a build of the same session puts them into MP4 again
instead of encoding; only if they match the digest and are as many as counted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from voiceguide.encode.export import (
    AAC_FRAME,
    FORMATS,
    Encoding,
    check_log,
    encode,
    ffmetadata,
    find_tool,
    output_arguments,
    verify_duration,
)
from voiceguide.encode.faults import ffmpeg_failed
from voiceguide.encode.pieces import RenderSpan, encode_spans, forward_only
from voiceguide.files import fds_for
from voiceguide.plan.timeline import Timeline
from voiceguide.progress import Progress
from voiceguide.units import to_samples, to_seconds

MARGIN = to_samples(1.0)  # of silence the cut keeps from any sound, either side
MIN_PIECE = to_samples(10.0)  # shorter than this, a second encoder is not worth starting
DIGEST = 32  # bytes of SHA-256 after the joined frames: a kept file's check
#: The pieces' format: the M4A's encoder, writing raw frames.
ADTS = dataclasses.replace(
    FORMATS["m4a"], name="aac", muxer="adts", chapters=False, options=(), description="ADTS"
)


class NotJoinableError(Exception):
    """The pieces' frames are not as :func:`join` counts them."""


def plan_cut(timeline: Timeline) -> int | None:
    """Where to cut ``timeline`` in two for two AAC encoders (see the module's notes),
    in the silence that leaves the pieces the most even share of the sound (silence
    costs an AAC encoder little); None where no silence suits."""
    total = timeline.length
    if total % AAC_FRAME:
        return None  # an M4A's timeline is whole frames long (Format.exact_length)
    sound = sum(e.length for e in timeline.events if e.kind != "pause")
    best: tuple[int, int] | None = None  # (how uneven, cut)
    for start, end in timeline.silences():
        heard = sum(e.length for e in timeline.events if e.kind != "pause" and e.end <= start)
        first = -(-(start + MARGIN) // AAC_FRAME) * AAC_FRAME
        last = (end - MARGIN - AAC_FRAME) // AAC_FRAME * AAC_FRAME
        cut = (first + last) // 2 // AAC_FRAME * AAC_FRAME
        if first > last or cut < MIN_PIECE or total - cut - AAC_FRAME < MIN_PIECE:
            continue
        uneven = abs(2 * heard - sound)
        if best is None or uneven < best[0]:
            best = (uneven, cut)
    return best[1] if best else None


#: Where the joined frames come from: ``keep(joined, make)`` writes into ``joined``
#: the frames a build kept, or runs ``make()`` to encode them there (and keeps them).
Keep = Callable[[Path, Callable[[], None]], None]


def pieces_encoding(encoding: Encoding) -> Encoding:
    """How each piece of an M4A written as ``encoding`` is encoded."""
    return Encoding(ADTS, encoding.bitrate, encoding.tags, (), encoding.name)


def encode_in_pieces(
    render: RenderSpan,
    samples: int,
    path: Path,
    encoding: Encoding,
    progress: Progress,
    cut: int,
    at_once: bool = True,
    keep: Keep | None = None,
) -> None:
    """Encode ``render(0, samples)`` into the M4A ``path`` in two pieces cut at ``cut``
    (from :func:`plan_cut`): side by side, or with ``at_once`` False one after the
    other, to the same bytes. ``keep``: the joined frames a build of the same
    session kept, if any (see :data:`Keep`)."""
    pieces = pieces_encoding(encoding)
    progress = forward_only(progress)
    with tempfile.TemporaryDirectory(prefix="voiceguide-") as folder:
        a, b, joined = (Path(folder) / name for name in ("a.aac", "b.aac", "joined.aac"))

        def make() -> None:
            spans = ((0, cut), (cut + AAC_FRAME, samples))
            encode_spans(render, spans, (a, b), pieces, progress, samples, at_once)
            join(a, b, cut, samples, joined)

        try:
            if keep is None:
                make()
            else:
                keep(joined, make)
        except NotJoinableError:
            encode(render(0, samples), samples, path, encoding, progress)
            return
        frames = Path(folder) / "frames.aac"
        frames.write_bytes(joined.read_bytes()[:-DIGEST])
        metadata = Path(folder) / "metadata.txt"
        metadata.write_text(ffmetadata(encoding), encoding="utf-8")
        _put_in_mp4(frames, metadata, path, encoding)
    verify_duration(path, samples)


def frame_count(data: bytes) -> int:
    """How many ADTS frames ``data`` holds; :class:`NotJoinableError` if it is not whole
    frames."""
    count = at = 0
    while at < len(data):
        header = data[at : at + 7]
        if len(header) < 7 or header[0] != 0xFF or header[1] & 0xF6 != 0xF0:
            raise NotJoinableError(f"no ADTS frame at byte {at}")
        size = (header[3] & 0x03) << 11 | header[4] << 3 | header[5] >> 5
        if size < 7:
            raise NotJoinableError(f"an ADTS frame of {size} bytes at byte {at}")
        at += size
        count += 1
    if at != len(data):
        raise NotJoinableError("the last ADTS frame is cut short")
    return count


def joined_whole(data: bytes, samples: int) -> bool:
    """Whether ``data``, as :func:`join` writes it, is whole: its frames match their
    digest, and are as many as the two pieces of a session of ``samples`` (whole
    frames) give. A kept file's check."""
    frames, digest = data[:-DIGEST], data[-DIGEST:]
    if len(data) < DIGEST or hashlib.sha256(frames).digest() != digest:
        return False
    try:
        return frame_count(frames) == samples // AAC_FRAME + 1
    except NotJoinableError:
        return False


def join(first: Path, second: Path, cut: int, samples: int, target: Path) -> None:
    """Write ``first``'s frames and then ``second``'s to ``target``, and their SHA-256
    digest after them, once each has as many as its piece needs: its priming, and
    one for each frame of its samples."""
    a, b = first.read_bytes(), second.read_bytes()
    if frame_count(a) != cut // AAC_FRAME + 1:
        raise NotJoinableError("the first piece's frames do not end at the cut")
    if frame_count(b) != (samples - cut) // AAC_FRAME:  # its priming, then the rest
        raise NotJoinableError("the second piece's frames do not end the session")
    target.write_bytes(a + b + hashlib.sha256(a + b).digest())


def mp4_command(joined: Path, metadata: Path, path: Path, encoding: Encoding) -> list[str]:
    """ffmpeg puts the ADTS frames of ``joined`` into MP4 as they are, the first frame
    (priming) skipped by the edit list, with the tags and chapters of ``metadata``."""
    return [
        find_tool("ffmpeg"), "-hide_banner", "-nostats", "-loglevel", "error",
        "-itsoffset", repr(-to_seconds(AAC_FRAME)), "-f", "aac", "-i", str(joined),
        *output_arguments(encoding, metadata, path, ["-c:a", "copy"]),
    ]  # fmt: skip


def _put_in_mp4(joined: Path, metadata: Path, path: Path, encoding: Encoding) -> None:
    what = f"write {encoding.name or 'the m4a file'}"
    result = subprocess.run(
        mp4_command(joined, metadata, path, encoding),
        capture_output=True,
        check=False,
        pass_fds=fds_for(path),
    )
    log = (result.stdout + result.stderr).decode("utf-8", "replace")
    if result.returncode != 0:
        raise ffmpeg_failed(what, result.returncode, log, path)
    check_log(log, what, path)
