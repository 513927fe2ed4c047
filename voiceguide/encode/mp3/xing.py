"""The Xing/LAME header frame of an MP3, filled in as ffmpeg's MP3 muxer fills it in.

ffmpeg starts an MP3 with a header frame (``Info`` at a constant bitrate) and,
once the last frame is written, fills in its frame and byte counts, a seek table,
the LAME tag's music length and music CRC, and the tag's own CRC. The spliced
session (:mod:`voiceguide.encode.mp3.splice`) is written here instead of copied by ffmpeg, so
this does the same to the byte: ``tests/integration/test_splice.py`` checks the
spliced file against the whole session encoded by ffmpeg.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SIDE_INFO = 17  # bytes of side information, MPEG-1 mono
TAG = 4 + SIDE_INFO  # where the Xing/Info tag starts in its frame
TAG_SIZE = 156  # the Xing tag with the LAME tag after it, as ffmpeg writes them
TAG_CRC_BYTES = 190  # the LAME tag's CRC covers the frame's first 190 bytes
BAGS = 400  # byte counts ffmpeg keeps for the seek table, at most (XING_NUM_BAGS)
TOC_SIZE = 100  # seek table entries: one per 1 % of the frames
BLOCK = 1024  # bytes whose CRC numpy computes as one
SLICE = 256  # blocks numpy takes at a time
_POLY = 0xA001  # CRC-16/ARC (ffmpeg's AV_CRC_16_ANSI_LE), reflected


def _byte_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _byte_table()


def crc16(data: bytes | memoryview, crc: int = 0) -> int:
    """CRC-16/ARC of a short run of bytes, after ``crc``."""
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def _after_zero_byte(crc: int) -> int:
    return (crc >> 8) ^ _TABLE[crc & 0xFF]


def _apply(images: Sequence[int], crc: int) -> int:
    """A linear map of 16-bit CRCs (given by the images of its 16 bits) applied to ``crc``."""
    out = 0
    for bit, image in enumerate(images):
        if crc >> bit & 1:
            out ^= image
    return out


@cache
def _shift(count: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """What ``count`` zero bytes do to a CRC, as tables for its low and high byte.

    A CRC with no initial value is linear in its input, so running ``count`` zero
    bytes through it is a linear map of the CRC: its power is taken by squaring."""
    result = tuple(1 << bit for bit in range(16))
    power = tuple(_after_zero_byte(1 << bit) for bit in range(16))
    while count:
        if count & 1:
            result = tuple(_apply(power, image) for image in result)
        power = tuple(_apply(power, image) for image in power)
        count >>= 1
    low = tuple(_apply(result, byte) for byte in range(256))
    high = tuple(_apply(result, byte << 8) for byte in range(256))
    return low, high


def _shifted(crc: int, count: int) -> int:
    low, high = _shift(count)
    return low[crc & 0xFF] ^ high[crc >> 8]


@cache
def _by_position() -> np.ndarray:
    """``table[k][b]``: the CRC of byte ``b`` followed by ``k`` zero bytes (k < BLOCK)."""
    import numpy as np  # here: numpy's memory is needed only at a build's end

    table = np.empty((BLOCK, 256), dtype=np.uint16)
    table[0] = _TABLE
    lookup = np.array(_TABLE, dtype=np.uint16)
    for k in range(1, BLOCK):
        previous = table[k - 1]
        table[k] = (previous >> 8) ^ lookup[previous & 0xFF]
    return table


class MusicCrc:
    """The CRC-16/ARC of a long run of bytes given piece by piece (the LAME tag's
    music CRC): whole blocks are computed with numpy, each block's CRC being the
    XOR of its bytes' CRCs shifted by their distance to its end."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes | memoryview) -> None:
        blocks = len(data) // BLOCK
        if blocks:
            import numpy as np

            table = _by_position()
            distance = np.arange(BLOCK - 1, -1, -1)
            low, high = _shift(BLOCK)
            whole = np.frombuffer(data, dtype=np.uint8, count=blocks * BLOCK)
            crc = self.value
            for first in range(0, blocks, SLICE):  # a slice at a time: little memory
                rows = whole[first * BLOCK : (first + SLICE) * BLOCK].reshape(-1, BLOCK)
                for block_crc in np.bitwise_xor.reduce(table[distance, rows], axis=1).tolist():
                    crc = low[crc & 0xFF] ^ high[crc >> 8] ^ block_crc
            self.value = crc
        self.value = crc16(data[blocks * BLOCK :], self.value)

    def repeat(self, data: bytes | memoryview, times: int) -> None:
        """:meth:`update` with ``data`` ``times`` over."""
        if times == 1:  # no shift to work out for a length met once
            self.update(data)
            return
        once = MusicCrc()
        once.update(data)
        for _ in range(times):
            self.value = _shifted(self.value, len(data)) ^ once.value


def seek_table(header_size: int, sizes: Sequence[int]) -> bytes:
    """The seek table ffmpeg writes for audio frames of ``sizes`` bytes after a header
    frame of ``header_size``: entry i is where the frame i % of the way in starts, in
    256ths of the file, from byte counts sampled the way ffmpeg samples them."""
    bag = [0] * BAGS
    size, want, seen, pos = header_size, 1, 0, 0
    for frame in sizes:
        seen += 1
        size += frame
        if seen == want:
            bag[pos] = size
            pos += 1
            if pos == BAGS:  # keep every second count, and count half as often
                bag[: BAGS // 2] = bag[1::2]
                want *= 2
                pos = BAGS // 2
            seen = 0
    entries = [0] + [min(256 * bag[i * pos // TOC_SIZE] // size, 255) for i in range(1, TOC_SIZE)]
    return bytes(entries)


def filled(header: bytes, sizes: Sequence[int], music_crc: int) -> bytes:
    """The header frame ``header`` filled in for audio frames of ``sizes`` bytes whose
    CRC-16/ARC is ``music_crc``: the counts, the seek table, the music length and CRC
    (the header counts in the length, not the CRC), and the tag CRC."""
    size = len(header) + sum(sizes)
    out = bytearray(header)
    out[TAG + 8 : TAG + 12] = len(sizes).to_bytes(4, "big")
    out[TAG + 12 : TAG + 16] = size.to_bytes(4, "big")
    out[TAG + 16 : TAG + 16 + TOC_SIZE] = seek_table(len(header), sizes)
    out[TAG + 148 : TAG + 152] = size.to_bytes(4, "big")
    out[TAG + 152 : TAG + 154] = music_crc.to_bytes(2, "big")
    out[TAG + 154 : TAG + 156] = bytes(2)  # as ffmpeg computes it: over a zero tag CRC
    out[TAG + 154 : TAG + 156] = crc16(bytes(out[:TAG_CRC_BYTES])).to_bytes(2, "big")
    return bytes(out)
