"""Encode a session's long silences once and repeat them.

A session is mostly digital silence, and encoding silence is wasted work. With
the bit reservoir off (``-reservoir 0``) every MP3 frame that LAME writes carries
its own data, and once a pause has lasted a fraction of a second its frames
settle into one of two byte-identical *silent frames*, padded or not, whose
granules carry no data at all (``part2_3_length`` 0): they decode to zeros
whatever surrounds them.

So the default MP3 path encodes the session with its long pauses cut short
(:func:`plan_cuts`, :func:`shortened`) and then puts the cut silence back as
silent frames (:func:`splice`). Each cut

- starts :data:`SETTLE` into a pause and ends :data:`LEAD` before its end, so
  that the encoder's frames have settled into silence before it and nothing it
  looks ahead at is heard;
- lies on a frame boundary of the encoded stream (libmp3lame starts the stream
  with :data:`ENCODER_DELAY` samples of its own);
- removes whole frames, :data:`MIN_CUT_FRAMES` at least (so that the meter's
  ringing has played out in what it puts back, see below). LAME pads its frames
  by a pattern that repeats every 49 frames (at 44.1 kHz and every bitrate); the
  silent frames put back follow it on from the cut, and the frames after the cut
  keep their own, so the file's size in bytes stays within a byte a cut of what
  the bitrate gives.

The short file is measured as the finished one by metering it with the cut
silence put back (:func:`gaps`; the meter skips silence for nothing). One pause,
the one nearest the middle of the session's sound, keeps room enough for a second
encoder to start in it (:data:`SPLIT_ROOM`, see :mod:`voiceguide.encode.mp3.split`),
whatever the number of encoders, so that the file is the same either way.

Everything this relies on is checked on the encoded file; where a check fails,
:func:`splice` raises :class:`NotSpliceable` and the caller encodes the whole
session instead. The spliced file gets the short file's tags and its Xing/LAME
header, filled in (frame and byte counts, seek table, music length and CRC) as
ffmpeg fills it in when it encodes (:mod:`voiceguide.encode.mp3.xing`). The result
decodes, sample for sample, to the short file's audio with the silence put back.
(It is not, to the byte, the file that encoding the whole session writes: after
a cut LAME's hearing threshold has had less silence to fall in, :data:`SETTLED`,
so the first second of the next sound may encode a little differently, as it
would after a shorter pause.)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from pathlib import Path

from voiceguide.encode.export import MP3_DELAY, MP3_FRAME
from voiceguide.encode.mp3 import xing
from voiceguide.plan.timeline import Event, Timeline
from voiceguide.units import SAMPLE_RATE, to_samples

PADDING_PERIOD = 49  # frames: 44100 / gcd(144 * bitrate % 44100, 44100) for every bitrate
PERIOD_SAMPLES = PADDING_PERIOD * MP3_FRAME  # 56448 samples, 1.28 s
# The fewest frames a cut takes out: the meter skips a cut after playing the
# K-weighting's ringing (bs1770.TAPS, 4096 samples) out into it.
MIN_CUT_FRAMES = 4
ENCODER_DELAY = MP3_DELAY
DECODER_DELAY = 529  # of ENCODER_DELAY: the decoder's; the LAME tag gives the rest (576)
# Silence kept after a sound, before a cut: LAME's frames have settled into silent
# frames within 26 ms of the last sound in the default session (the splice checks
# it, frame by frame); this is eight times that.
SETTLE = to_samples(0.2)
# The silence a second encoder may start in must be deeper: LAME's hearing threshold
# (the ATH auto-adjustment) keeps falling for longer, by a factor of about 0.925 a
# frame to its floor, at most 95 frames (2.5 s) after a loud frame. Only once it has
# got there does the next sound encode as from the start of that silence, so that
# the frames two encoders write there are the same (voiceguide/encode/mp3/split.py).
SETTLED = to_samples(2.6)
# Silence kept after a cut, before the next sound: LAME looks ahead, and decodes
# overlap, by a frame or two (in the default session no frame more than 49 ms
# before a sound carries data; the splice checks it).
LEAD = to_samples(0.2)
# Silence a second encoder needs before a sound (voiceguide/encode/mp3/split.py): a new
# encoder's hearing threshold falls to its floor in 36 frames, 0.94 s.
FRESH = to_samples(1.5)
# What the pause kept for a split keeps after its cut: SETTLED and FRESH, and a
# padding period to start the second encoder on.
SPLIT_ROOM = SETTLED + FRESH + PERIOD_SAMPLES

_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)  # kbit/s


class NotSpliceable(Exception):  # noqa: N818 - an outcome the caller handles, not an error
    """The encoded file is not as :func:`splice` needs it; encode the whole session."""


@dataclass(frozen=True)
class Cut:
    """``frames`` MP3 frames of silence taken out of a pause, from sample ``at`` on."""

    at: int  # sample of the whole session
    frames: int

    @property
    def length(self) -> int:
        return self.frames * MP3_FRAME


def plan_cuts(timeline: Timeline) -> tuple[Cut, ...]:
    """Where the pauses of ``timeline`` can lose whole silent frames.

    A pause is silent only in the voice track: a session with layers under the
    voice (which sound in its pauses) is not cut."""
    if timeline.sample_rate != SAMPLE_RATE:
        return ()
    roomy = _split_pause(timeline)
    cuts = []
    for event in timeline.events:
        if event.kind != "pause":
            continue
        at = event.start + SETTLE
        at += -(at + ENCODER_DELAY) % MP3_FRAME  # a frame boundary of the encoded stream
        lead = max(LEAD, SPLIT_ROOM) if event is roomy else LEAD
        frames = (event.end - lead - at) // MP3_FRAME
        if frames >= MIN_CUT_FRAMES:
            cuts.append(Cut(at, frames))
    return tuple(cuts)


def _split_pause(timeline: Timeline) -> Event | None:
    """The pause with room for a split nearest the middle of the session's sound."""
    sound = sum(e.length for e in timeline.events if e.kind != "pause")
    heard, best, distance = 0, None, math.inf
    for event in timeline.events:
        if event.kind != "pause":
            heard += event.length
        elif event.length >= SETTLE + SPLIT_ROOM + MP3_FRAME and abs(2 * heard - sound) < distance:
            best, distance = event, abs(2 * heard - sound)
    return best


def gaps(cuts: tuple[Cut, ...]) -> tuple[tuple[int, int], ...]:
    """Where the cuts lie in the shortened session, and how long each is."""
    found, removed = [], 0
    for cut in cuts:
        found.append((cut.at - removed, cut.length))
        removed += cut.length
    return tuple(found)


def shortened(timeline: Timeline, cuts: tuple[Cut, ...]) -> Timeline:
    """The events of ``timeline`` with the ``cuts`` taken out of its pauses.

    Only for rendering: the holds keep the positions of the whole session.
    """
    events: list[Event] = []
    position, pending = 0, list(cuts)
    for event in timeline.events:
        removed = 0
        while pending and event.start <= pending[0].at < event.end:
            cut = pending.pop(0)
            if event.kind != "pause" or cut.at + cut.length > event.end:
                raise ValueError(f"a cut at sample {cut.at} is not inside a pause")
            removed += cut.length
        events.append(replace(event, start=position, length=event.length - removed))
        position += event.length - removed
    if pending:
        raise ValueError(f"a cut at sample {pending[0].at} is past the end of the session")
    return replace(timeline, events=tuple(events))


@dataclass(frozen=True, slots=True)  # a long session's short file has some 40000
class Frame:
    start: int  # byte offset in the file
    size: int
    bitrate: int  # kbit/s
    padded: bool


def id3_size(data: bytes) -> int:
    """The length of the ID3v2 tag at the start of ``data`` (0 if there is none)."""
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:
        size = size << 7 | (byte & 0x7F)
    return 10 + size + (10 if data[5] & 0x10 else 0)


def frames(data: bytes, offset: int) -> list[Frame]:
    """Every frame from ``offset`` to the end: MPEG-1 Layer III, 44.1 kHz, mono, no CRC;
    anything else is not spliceable."""
    frames = []
    while offset + 4 <= len(data):
        header = int.from_bytes(data[offset : offset + 4], "big")
        bitrate = _BITRATES[header >> 12 & 0xF] if header & 0xF000 != 0xF000 else 0
        if header & 0xFFFF0CC0 != 0xFFFB00C0 or not bitrate:
            raise NotSpliceable(f"not a mono 44.1 kHz MP3 frame at byte {offset}")
        padded = bool(header & 0x200)
        size = 144 * bitrate * 1000 // SAMPLE_RATE + padded
        frames.append(Frame(offset, size, bitrate, padded))
        offset += size
    if offset != len(data) or len(frames) < 2:
        raise NotSpliceable("the file does not end with a whole frame")
    return frames


def silent(data: bytes, frame: Frame) -> bool:
    """Whether ``frame`` decodes to zeros on its own: no data in either granule, and
    none borrowed from earlier frames (main_data_begin 0)."""
    side = int.from_bytes(data[frame.start + 4 : frame.start + 4 + xing.SIDE_INFO], "big")
    bits = xing.SIDE_INFO * 8
    main_data_begin = side >> (bits - 9)
    granule_0 = (side >> (bits - 18 - 12)) & 0xFFF  # after main_data_begin, private, scfsi
    granule_1 = (side >> (bits - 18 - 59 - 12)) & 0xFFF  # a mono granule's side info: 59 bits
    return main_data_begin == 0 and granule_0 == 0 and granule_1 == 0


def parse(data: bytes) -> tuple[Frame, list[Frame]]:
    """The Xing/LAME header frame of the MP3 ``data`` and its audio frames; checks
    the encoder delay is :data:`ENCODER_DELAY`."""
    parsed = frames(data, id3_size(data))
    info, audio = parsed[0], parsed[1:]
    tag = info.start + xing.TAG
    if data[tag : tag + 4] not in (b"Info", b"Xing") or info.size < xing.TAG + xing.TAG_SIZE:
        raise NotSpliceable("no Xing/LAME header")
    delay, _ = delay_and_padding(data, info)
    if delay + DECODER_DELAY != ENCODER_DELAY:
        raise NotSpliceable(
            f"an encoder delay of {delay + DECODER_DELAY} samples, not {ENCODER_DELAY}"
        )
    return info, audio


def one_bitrate(frames: Sequence[Frame]) -> None:
    """Raise :class:`NotSpliceable` unless all ``frames`` have one bitrate."""
    if len({f.bitrate for f in frames}) != 1:
        raise NotSpliceable("the frames do not all have one bitrate")


def delay_and_padding(data: bytes, info: Frame) -> tuple[int, int]:
    """The encoder delay and the padding at the end, as the LAME tag gives them."""
    tag = info.start + xing.TAG
    both = int.from_bytes(data[tag + 141 : tag + 144], "big")
    return both >> 12, both & 0xFFF


def decodes_to(frames: int, padding: int, samples: int) -> bool:
    """Whether ``frames`` audio frames, with the LAME tag's ``padding``, decode to
    ``samples`` samples (the encoder's delay trimmed from the start, the padding from
    the end)."""
    return frames * MP3_FRAME == samples + ENCODER_DELAY - DECODER_DELAY + padding


def encodes(data: bytes, samples: int) -> bool:
    """Whether ``data`` is a whole MP3 of ``samples`` samples as ffmpeg writes one: every
    frame there, and their bytes those its LAME tag's music CRC was made from."""
    try:
        info, audio = parse(data)
    except NotSpliceable:
        return False
    _, padding = delay_and_padding(data, info)
    if not decodes_to(len(audio), padding, samples):
        return False
    music = xing.MusicCrc()
    music.update(memoryview(data)[audio[0].start :])
    tag = info.start + xing.TAG
    return music.value == int.from_bytes(data[tag + 152 : tag + 154], "big")


def settings(header: bytes) -> bytes:
    """The Xing/LAME header frame ``header`` without what depends on the audio (frame
    and byte counts, seek table, padding, music length, CRCs): the encoder's settings."""
    out = bytearray(header)
    for start, end in ((8, 116), (141, 144), (148, 156)):
        out[xing.TAG + start : xing.TAG + end] = bytes(end - start)
    return bytes(out)


def splice(source: Path, cuts: tuple[Cut, ...], target: Path) -> int:
    """Write to ``target`` the MP3 ``source`` (the session encoded with ``cuts`` taken
    out) with the silent frames put back; return how many frames it now has.

    ``target`` has ``source``'s tags, and its header filled in for the frames it
    now has, as ffmpeg fills it in (:func:`voiceguide.encode.mp3.xing.filled`).
    """
    data = source.read_bytes()
    info, audio = parse(data)
    one_bitrate(audio)
    pattern = [f.padded for f in audio[:PADDING_PERIOD]]
    if len(pattern) < PADDING_PERIOD or any(
        f.padded != pattern[i % PADDING_PERIOD] for i, f in enumerate(audio)
    ):
        raise NotSpliceable("the frames are not padded in a 49-frame pattern")

    # The silent frames, padded and not, that the encoder settles into: the commonest.
    counts = Counter((f.padded, data[f.start : f.start + f.size]) for f in audio if silent(data, f))
    repeated: dict[bool, bytes] = {}
    for (padded, frame), _ in counts.most_common():
        repeated.setdefault(padded, frame)
    at_cut: list[int] = []
    removed = 0
    for cut in cuts:
        index, rest = divmod(cut.at - removed + ENCODER_DELAY, MP3_FRAME)
        if rest or cut.frames < MIN_CUT_FRAMES or not 2 <= index <= len(audio) - 2:
            raise NotSpliceable(f"a cut at sample {cut.at} is not where it can be")
        if at_cut and index <= at_cut[-1]:
            raise NotSpliceable("the cuts are not in order")
        if not all(silent(data, f) for f in audio[index - 2 : index + 2]):
            raise NotSpliceable(f"the frames around sample {cut.at} are not silent")
        at_cut.append(index)
        removed += cut.length
    if at_cut and not set(pattern) <= set(repeated):
        raise NotSpliceable("no silent frame to repeat")

    # The silent frames of two padding periods, from the first frame of one: a run of
    # up to a period of them, from any frame of the pattern on, is a slice of it (one
    # buffer for every cut, not a copy for each).
    cycle = (
        [repeated[pattern[i % PADDING_PERIOD]] for i in range(2 * PADDING_PERIOD)] if at_cut else []
    )
    run = memoryview(b"".join(cycle))
    offsets = list(accumulate((len(frame) for frame in cycle), initial=0))

    # The audio in pieces, each written ``times`` over: the short file's frames up to
    # a cut, then silent frames padded by the pattern from there on (whole periods of
    # it, then the rest), and so on.
    whole = memoryview(data)
    pieces: list[tuple[bytes | memoryview, int]] = []
    sizes: list[int] = []
    done = 0
    for cut, index in zip(cuts, at_cut, strict=True):
        pieces.append((whole[audio[done].start : audio[index].start], 1))
        sizes += [f.size for f in audio[done:index]]
        periods, rest = divmod(cut.frames, PADDING_PERIOD)
        phase = index % PADDING_PERIOD
        for count, times in ((PADDING_PERIOD, periods), (rest, 1)):
            if count and times:
                pieces.append((run[offsets[phase] : offsets[phase + count]], times))
                sizes += [len(frame) for frame in cycle[phase : phase + count]] * times
        done = index
    pieces.append((whole[audio[done].start :], 1))
    sizes += [f.size for f in audio[done:]]

    header = data[info.start : info.start + info.size]
    write_frames(target, whole[: info.start], header, pieces, sizes)
    return len(sizes)


def write_frames(
    target: Path,
    tags: bytes | memoryview,
    header: bytes,
    pieces: Sequence[tuple[bytes | memoryview, int]],
    sizes: Sequence[int],
) -> None:
    """Write to ``target`` an MP3 of ``tags``, the header frame ``header`` filled in
    (:func:`voiceguide.encode.mp3.xing.filled`) for audio frames of ``sizes`` bytes, and the
    audio: ``pieces``, each written ``times`` over."""
    music = xing.MusicCrc()
    for piece, times in pieces:
        music.repeat(piece, times)
    try:
        with target.open("wb") as out:
            out.write(tags)
            out.write(xing.filled(header, sizes, music.value))
            for piece, times in pieces:
                for _ in range(times):
                    out.write(piece)
    except OSError as e:  # a write names no file: name it, so the error can say which disk
        if e.filename is not None:
            raise
        raise OSError(e.errno, e.strerror, str(target)) from None


def expand(source: Path, cuts: tuple[Cut, ...], path: Path) -> bool:
    """Write into ``path`` (in place) the finished session from ``source``, the session
    encoded with ``cuts`` taken out; False if it cannot be done. Python alone does it
    (the caller checks the duration of the result with ffprobe)."""
    try:
        splice(source, cuts, path)
    except NotSpliceable:
        return False
    return True
