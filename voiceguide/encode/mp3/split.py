"""Encode the short render of a session (see :mod:`voiceguide.encode.mp3.splice`) with two LAME
encoders side by side, and join their frames into the file one encoder writes.

With the bit reservoir off, an MP3 frame depends on nothing but the encoder's state
and the audio around it. Deep in a silence that state is always the same, so a
second encoder that starts there, on silence, soon writes the very frames the
first one writes. The session is split in a silence (:func:`plan_split`):

- encoder A takes the audio from the start to a little past the next sound
  (:data:`CHECK`), encoder B from sample :attr:`Split.start` to the end;
- the render is levelled already (:mod:`voiceguide.encode.levelling`), sound by
  sound, so B's part is the very audio A's stream has from there;
- B starts :data:`~voiceguide.encode.mp3.splice.SETTLED` or more after the sound before it,
  so that A's encoder has settled into the silence (as at a cut), and on a frame
  boundary of A's stream, a whole number of 49-frame periods of the padding
  pattern into it, so that B's frames line up with A's, padding and all;
- B has :data:`FRESH` or more of silence before the next sound: a new encoder's
  hearing threshold (the ATH auto-adjustment) starts at 1/100 and falls by a factor
  of about 0.925 a frame to its floor, 1/1600, in 36 frames, 0.94 s; only then does
  a sound encode as in A's stream.

The frames A and B have both written, from B's first to A's last final one (the
next sound's first frames among them), must be byte for byte the same; then A's
frames up to there and B's from there on are the frames one encoder writes. That,
and everything else the join relies on, is checked on the encoded files
(:func:`join`); where a check fails, the short render is encoded whole by one
encoder instead.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from voiceguide.encode.export import MP3_FRAME, Encoding, encode
from voiceguide.encode.mp3 import splice
from voiceguide.encode.mp3.splice import (
    ENCODER_DELAY,
    FRESH,
    PERIOD_SAMPLES,
    SETTLED,
    NotSpliceable,
)
from voiceguide.encode.pieces import RenderSpan, encode_spans, forward_only
from voiceguide.plan.timeline import Timeline
from voiceguide.progress import Progress
from voiceguide.units import to_samples

# How far A goes on into the sound after the silence: its last 3 frames may not be
# final (LAME looks ahead); the others, into the sound, are compared.
CHECK = to_samples(0.5)
_UNSETTLED = 3  # frames at the end of A's file that may not be as in the whole encode
MIN_PART = to_samples(10.0)  # shorter than this, a second ffmpeg is not worth starting


@dataclass(frozen=True)
class Split:
    """Encoder A takes samples [0, ``end``), encoder B [``start``, the end)."""

    start: int  # a whole number of padding periods into A's stream
    end: int

    @property
    def period(self) -> int:
        """A's frame that B's first frame is."""
        return self.start // MP3_FRAME

    @property
    def join(self) -> int:
        """A's first frame that is not final: from here on the frames are B's."""
        return (self.end + ENCODER_DELAY) // MP3_FRAME - _UNSETTLED


def plan_split(timeline: Timeline) -> Split | None:
    """Where two encoders can share the encode of ``timeline``'s render, the halves as
    even as they can be; None where no silence suits (or the render is short)."""
    total = timeline.length
    best: Split | None = None
    for begin, stop in timeline.silences():
        end = stop + CHECK
        if end > total - MIN_PART or end < MIN_PART:
            continue  # the silence must be followed by a sound, and both parts worth it
        first = -(-(begin + SETTLED) // PERIOD_SAMPLES)
        for period in range(first, (stop - FRESH) // PERIOD_SAMPLES + 1):
            split = Split(period * PERIOD_SAMPLES, end)
            if best is None or max(end, total - split.start) < max(best.end, total - best.start):
                best = split
    return best


def join(first: Path, second: Path, split: Split, samples: int, target: Path) -> None:
    """Write to ``target`` A's frames (from ``first``) before ``split.join`` and B's
    (from ``second``) from there on, with a header that counts them; raise
    :class:`NotSpliceable` where anything is not as this needs it.

    The header is B's, filled in for the joined frames (:func:`.splice.write_frames`).
    """
    a, b = first.read_bytes(), second.read_bytes()
    (info_a, frames_a), (info_b, frames_b) = splice.parse(a), splice.parse(b)
    header_a = a[info_a.start : info_a.start + info_a.size]
    header_b = b[info_b.start : info_b.start + info_b.size]
    if a[: info_a.start] != b[: info_b.start] or splice.settings(header_a) != splice.settings(
        header_b
    ):
        raise NotSpliceable("the two encoders' tags or settings differ")
    offset, at = split.period, split.join
    if (
        split.start % PERIOD_SAMPLES
        or not offset < at < len(frames_a)
        or at - offset >= len(frames_b)
    ):
        raise NotSpliceable("the encoders' frames do not line up")
    total = offset + len(frames_b)
    _, padding = splice.delay_and_padding(b, info_b)
    if not splice.decodes_to(total, padding, samples):
        raise NotSpliceable("the second encoder's frames do not end the session")
    splice.one_bitrate([*frames_a, *frames_b])
    shared = zip(frames_a[offset:at], frames_b[: at - offset], strict=True)
    sounding = False
    for x, y in shared:
        if a[x.start : x.start + x.size] != b[y.start : y.start + y.size]:
            raise NotSpliceable(f"the encoders wrote frame {offset} onwards differently")
        sounding = sounding or not splice.silent(a, x)
    if not sounding:
        raise NotSpliceable("the frames both encoders wrote hold no sound to compare")
    head = memoryview(a)[frames_a[0].start : frames_a[at].start]
    tail = memoryview(b)[frames_b[at - offset].start :]
    sizes = [f.size for f in frames_a[:at]] + [f.size for f in frames_b[at - offset :]]
    splice.write_frames(target, b[: info_b.start], header_b, [(head, 1), (tail, 1)], sizes)


def encode_short(
    render: RenderSpan,
    samples: int,
    path: Path,
    encoding: Encoding,
    progress: Progress,
    split: Split | None = None,
) -> None:
    """Encode ``render(0, samples)`` into ``path``: with one encoder, or with
    ``split``, two side by side, joined; where the join fails, one encoder. (Its
    duration is not checked: the finished file's is, once it is expanded.)"""
    if split is None:
        encode(render(0, samples), samples, path, encoding, progress, verify=False)
        return
    monotonic = forward_only(progress)
    with tempfile.TemporaryDirectory(prefix="voiceguide-") as folder:
        first, second = Path(folder) / "a.mp3", Path(folder) / "b.mp3"
        try:
            spans = ((0, split.end), (split.start, samples))
            encode_spans(render, spans, (first, second), encoding, monotonic, samples)
            join(first, second, split, samples, path)
            return
        except NotSpliceable:
            pass
    encode(render(0, samples), samples, path, encoding, monotonic, verify=False)
